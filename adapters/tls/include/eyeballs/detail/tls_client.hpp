// SPDX-License-Identifier: BSL-1.0
// eyeballs — a client TLS handshake on a connected, non-blocking TCP socket,
// with OpenSSL 3 (Happy Eyeballs v3 §6.1: with TLS, an attempt wins at its
// handshake). Loop-agnostic (target eyeballs::tls_client): adapters that own
// raw fds (poll, libevent) run TlsSession on them; one with its own TLS stream
// (Asio's ssl::stream) uses the free functions below on its SSL object, so
// every adapter sends the same SNI and ALPN, checks the same name and reports
// the same reasons.
//
//   auto ctx = TlsContext::create(settings, error);        // once per race
//   TlsSession s;
//   s.start(*ctx, fd, server_name, alpn);                   // after connect
//   switch (s.step()) { want_read / want_write: poll the fd, then step() again;
//                       done: s.release() → SSL*;  failed: s.code(), s.reason() }
//
// Never throws (allocation aside), never closes the fd: the caller does.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/tls.hpp"

struct ssl_st;
struct ssl_ctx_st;

namespace eyeballs::detail {

/// What every handshake of a race shares.
struct TlsSettings {
    /// Verify the peer's chain and its name (or IP address); off = insecure.
    bool verify = true;
    /// Trust anchors besides (when both are empty: instead of nothing, the
    /// system store: SSL_CTX_set_default_verify_paths).
    std::string ca_file;
    std::string ca_dir;
};

class TlsContext {
public:
    /// nullptr and `error` set ("cannot load CA file x: ...") on failure.
    static std::unique_ptr<TlsContext> create(const TlsSettings& settings, std::string& error);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    ssl_ctx_st* get() const noexcept { return ctx_; }
    /// Hands the SSL_CTX over (to Asio's ssl::context, which frees it); this
    /// object no longer frees it.
    ssl_ctx_st* release() noexcept {
        ssl_ctx_st* c = ctx_;
        ctx_ = nullptr;
        return c;
    }
    bool verify() const noexcept { return verify_; }

private:
    TlsContext() = default;
    ssl_ctx_st* ctx_ = nullptr;
    bool verify_ = true;
};

/// The ALPN ids a handshake offers when none is given (RFC 9460 §7.1.2 gives
/// the service's own set when an HTTPS record has one).
std::vector<std::string> default_alpn();

/// The race's context from an adapter's TlsOptions (verify unless insecure,
/// CA file/dir or the system store); nullptr and `error` set on failure.
std::unique_ptr<TlsContext> make_context(const TlsOptions& options, std::string& error);

/// The process-wide context for `options` (issue 18): races with the same
/// trust configuration — verify or insecure, CA file, CA dir — share one
/// SSL_CTX instead of loading the system store (3–5 ms of CPU) per race. SNI
/// and ALPN are set per SSL object, so they are no part of the key; a CA file
/// or directory is keyed by its modification time and size too, so an edited
/// one is loaded afresh. Thread-safe (a mutex; the first race with a new key
/// loads under it, so concurrent first races load once). The cache keeps the
/// 8 most recently used contexts; a context lives on while a race holds it.
/// Never modify the returned context: other races use it. nullptr and
/// `error` set on failure (a failure is not cached).
std::shared_ptr<const TlsContext> shared_context(const TlsOptions& options, std::string& error);

/// What an attempt offers: its service's ALPN set (an HTTPS record's, RFC
/// 9460 §7.1.2), else `configured`, else default_alpn().
std::vector<std::string> offered_alpn(const Service* service,
                                      const std::vector<std::string>& configured);

/// The name an attempt's handshake checks (and sends as SNI unless it is an
/// IP): `configured`, else the origin `host` (brackets stripped), else the
/// attempt's remote address.
std::string checked_name(const std::string& configured, const std::string& host,
                         const Endpoint& remote);

/// Prepares a fresh client SSL object as TlsSession::start does (SNI, name
/// check when `verify`, ALPN); "" on success, else why not.
std::string configure_client(ssl_st* ssl, bool verify, const std::string& name,
                             const std::vector<std::string>& alpn);

/// The reason for a handshake that failed with OpenSSL error `err` (as
/// ERR_get_error gave it) on `ssl` (may be null): "certificate verify
/// failed: self-signed certificate", "no application protocol", ...
std::string failure_reason(const ssl_st* ssl, unsigned long err);

/// After a handshake: the negotiated ALPN id ("" = none) and version ("TLSv1.3").
std::string selected_alpn(const ssl_st* ssl);
std::string protocol_version(const ssl_st* ssl);

/// One attempt's handshake.
class TlsSession {
public:
    enum class Step { done, want_read, want_write, failed };

    TlsSession() = default;
    ~TlsSession();  // frees the SSL object unless released
    TlsSession(TlsSession&& other) noexcept;
    TlsSession& operator=(TlsSession&& other) noexcept;
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    /// Prepares the client handshake on `fd` (connected, non-blocking).
    /// `name`: a DNS name is sent as SNI and checked against the certificate
    /// (SSL_set1_host); an IP address literal is not sent (RFC 6066 §3: SNI
    /// carries host names only) and is checked as an iPAddress entry. Empty:
    /// no SNI and no name check (the chain is still verified). Returns
    /// Step::want_write on success (call step() next) or Step::failed.
    Step start(const TlsContext& ctx, int fd, const std::string& name,
               const std::vector<std::string>& alpn);
    /// Drives SSL_connect one step.
    Step step();

    bool active() const noexcept { return ssl_ != nullptr; }
    /// After failed: an errno value (EPROTO for a TLS-level failure, the
    /// socket's errno otherwise) and OpenSSL's reason, e.g. "certificate
    /// verify failed: self-signed certificate".
    int code() const noexcept { return code_; }
    const std::string& reason() const noexcept { return reason_; }
    /// After done: the negotiated ALPN id ("" when the server chose none)
    /// and protocol version ("TLSv1.3").
    std::string alpn_selected() const;
    std::string version() const;
    /// Hands the SSL object over; the session no longer frees it.
    ssl_st* release() noexcept;
    /// SSL_free, for a released object.
    static void free(ssl_st* ssl) noexcept;

private:
    Step fail(int code, std::string reason);
    ssl_st* ssl_ = nullptr;
    int code_ = 0;
    std::string reason_;
};

}  // namespace eyeballs::detail
