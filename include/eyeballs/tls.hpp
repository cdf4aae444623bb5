// SPDX-License-Identifier: BSL-1.0
// eyeballs — what a TLS race is told, and what its trace sees (Happy Eyeballs
// v3 §6.1: with TLS, an attempt wins at its completed handshake). Shared by
// every adapter that makes the handshake (poll, libevent, Asio and Boost.Asio
// through <eyeballs/asio_ssl.hpp> / <eyeballs/boost_asio_ssl.hpp>). Plain
// data: this header needs no OpenSSL; the adapters link it (through
// eyeballs::tls_client) only when they make handshakes.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/race_machine.hpp"

namespace eyeballs {

/// TLS over TCP. Verification is on by default.
struct TlsOptions {
    /// Race to the TLS handshake instead of the TCP connect (adapters whose
    /// TLS is a separate call, like Asio's async_connect_tls, ignore it).
    bool enabled = false;
    /// The name sent as SNI and checked against the certificate. Empty: the
    /// origin's host name given to connect() — never an HTTPS record's
    /// target name. An IP address (a literal host, or, for connect() with
    /// addresses and no name here, each attempt's remote) is not sent as SNI
    /// (RFC 6066 §3) and is checked against the certificate's IP addresses.
    std::string server_name;
    /// The ALPN ids to offer. An attempt whose HTTPS record gives its
    /// service's ids offers those (RFC 9460 §7.1.2); otherwise these; empty:
    /// "h2", "http/1.1". A server that answers with a no_application_protocol
    /// alert fails the attempt (RFC 7301 §3.2); one that ignores ALPN wins
    /// with no selected id (RFC 9460 §7.1.2: negotiation proceeds "without
    /// regard to the SVCB ALPN set"), the report's alpn_selected empty.
    std::vector<std::string> alpn;
    /// Trust anchors instead of the system store (SSL_CTX_set_default_verify_paths):
    /// a PEM file and/or a hashed directory.
    std::string ca_file;
    std::string ca_dir;
    /// Skip certificate and name verification (like curl --insecure).
    bool insecure = false;
};

/// One step of an attempt's handshake, for traces (the adapters' on_tls).
struct TlsEvent {
    enum class Kind { started, secured, failed };
    Kind kind = Kind::started;
    AttemptId attempt;
    Endpoint remote;
    /// The attempt's transport: a QUIC handshake or TLS over TCP.
    Protocol protocol = Protocol::tcp;
    /// started: the ALPN ids offered and the name checked ("" = none).
    std::vector<std::string> alpn_offered;
    std::string server_name;
    /// secured: the negotiated version ("TLSv1.3") and ALPN id ("" = none).
    std::string version;
    std::string alpn_selected;
    /// failed: OpenSSL's reason and the errno value recorded.
    std::string error;
    int code = 0;
};
using TlsObserver = std::function<void(TimePoint now, const TlsEvent& event)>;

}  // namespace eyeballs
