// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect: the one interface each adapter implements for the tool.
// main.cpp (owned with the poll adapter) parses docs/behaviour.md §6's command line, builds a
// ConnectJob and calls run_poll / run_asio / run_libevent / run_libuv (each in its own
// run_<adapter>.cpp, built only when that adapter is).
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/tls.hpp"
#include "talk.hpp"

namespace eyeballs::tool {

/// --tls, --cacert, --insecure, --alpn (issue 18: poll, libevent, asio).
struct TlsJob {
    bool enabled = false;
    std::string cacert;              ///< empty: the system store
    bool insecure = false;
    std::vector<std::string> alpn;   ///< empty: the adapter's default (h2, http/1.1)
    bool http3 = false;              ///< --http3: QUIC (h3) first, then TCP+TLS
};

/// One handshake step for the trace: kind is "tls-start", "tls-done" or "tls-failed".
struct TlsStep {
    std::string kind;
    std::string protocol = "tcp";    ///< "tcp" (TLS over TCP) or "quic"
    std::uint32_t attempt = 0;
    std::string remote;
    std::vector<std::string> alpn;   ///< tls-start: offered; tls-done: the selected one (or none)
    std::string version;             ///< tls-done
    std::string error;               ///< tls-failed: OpenSSL's reason
};

struct ConnectJob {
    std::string host;                    ///< for DNS mode
    std::uint16_t port = 0;
    bool addresses_mode = false;         ///< true: race `addresses`, no DNS
    std::vector<Endpoint> addresses;     ///< ports already set
    Config config;                       ///< includes local bind candidates
    std::optional<Endpoint> dns_server;  ///< --dns-server (port 53 unless given)
    ActionObserver on_action;            ///< prints the trace / timeline
    int cancel_fd = -1;                  ///< readable → cancel (SIGINT self-pipe)
    TlsJob tls;
    std::function<void(TimePoint, const TlsStep&)> on_tls;  ///< prints handshake steps
};

struct ConnectResult {
    RaceReport report;
    int fd = -1;  ///< the connected socket when report.outcome == connected
    /// With --tls: called once to free the winner's TLS object (before fd is
    /// closed); empty otherwise.
    std::function<void()> release_tls;
    /// With --http3 and a QUIC winner: keeps its connection until released.
    std::shared_ptr<void> quic;
    /// With --tls: --send's bytes go through the winner's TLS session (valid
    /// until release_tls); null: plain bytes on fd.
    std::shared_ptr<Channel> channel;
    /// With --tls where the session lives in the adapter's own loop (asio's
    /// ssl::stream): --send's talk, run in that loop through the session, with
    /// talk()'s arguments and results. Empty: talk() on fd (through channel).
    /// Whatever it holds is freed with the result.
    std::function<TalkResult(const std::string& data, std::optional<Duration> read_timeout,
                             int cancel_fd, std::ostream* out)>
        talk;
};

/// A handshake step of an adapter's trace (eyeballs/tls.hpp) as the tool prints it.
inline TlsStep to_tls_step(const TlsEvent& e) {
    TlsStep s;
    s.protocol = protocol_name(e.protocol);
    s.attempt = e.attempt.number();
    s.remote = e.remote.to_string();
    switch (e.kind) {
        case TlsEvent::Kind::started:
            s.kind = "tls-start";
            s.alpn = e.alpn_offered;
            break;
        case TlsEvent::Kind::secured:
            s.kind = "tls-done";
            if (!e.alpn_selected.empty()) s.alpn.push_back(e.alpn_selected);
            s.version = e.version;
            break;
        case TlsEvent::Kind::failed:
            s.kind = "tls-failed";
            s.error = e.error;
            break;
    }
    return s;
}

/// --tls as an adapter's TlsOptions: the origin (HOST) is the name checked and
/// sent as SNI, also with --resolve.
inline TlsOptions tls_options_of(const ConnectJob& job) {
    TlsOptions o;
    o.enabled = job.tls.enabled;
    o.ca_file = job.tls.cacert;
    o.insecure = job.tls.insecure;
    o.alpn = job.tls.alpn;
    o.server_name = job.host;
    return o;
}

/// "EMFILE (Too many open files)": an errno value as the tool's messages name it.
inline std::string errno_text(int code) {
    const char* name = errno_name(code);
    return std::string(name != nullptr ? name : "errno " + std::to_string(code)) + " (" +
           std::strerror(code) + ")";
}

/// A run that ended before any race: outcome failed with this message (main
/// prints it as the one line "eyeballs-connect: MESSAGE", exit 1). Issue 14:
/// resource exhaustion (EMFILE at a low `ulimit -n`) ends that way in every
/// adapter, e.g. "cannot create the event loop: EMFILE (Too many open files)".
inline ConnectResult failed_run(std::string message, int code = 0) {
    ConnectResult r;
    r.report.outcome = Outcome::failed;
    r.report.code = code;
    r.report.message = std::move(message);
    return r;
}

ConnectResult run_poll(const ConnectJob& job);
ConnectResult run_asio(const ConnectJob& job);
ConnectResult run_libevent(const ConnectJob& job);
ConnectResult run_libuv(const ConnectJob& job);
ConnectResult run_uring(const ConnectJob& job);

}  // namespace eyeballs::tool
