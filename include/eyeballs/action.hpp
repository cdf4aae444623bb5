// SPDX-License-Identifier: BSL-1.0
// eyeballs — the actions a RaceMachine asks its adapter to perform.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

class RaceMachine;

/// Names one connection attempt. Issued by the machine; attempts are numbered
/// from 1 in start order (docs/behaviour.md §5), and two ids are equal when their numbers
/// are. A result for an unknown or finished id is ignored.
class AttemptId {
public:
    /// No attempt (number 0): false, and ignored by every input.
    constexpr AttemptId() noexcept = default;
    /// For tests and adapters that keep attempts by number. A number the
    /// machine never issued names no attempt: inputs with it are ignored.
    constexpr explicit AttemptId(std::uint32_t number) noexcept : number_(number) {}
    /// 1, 2, ... in start order; 0 for no attempt.
    constexpr std::uint32_t number() const noexcept { return number_; }
    /// True when it names an attempt (number != 0).
    constexpr explicit operator bool() const noexcept { return number_ != 0; }
    friend constexpr bool operator==(AttemptId a, AttemptId b) noexcept {
        return a.number_ == b.number_;
    }
    friend constexpr bool operator!=(AttemptId a, AttemptId b) noexcept { return !(a == b); }
    friend constexpr bool operator<(AttemptId a, AttemptId b) noexcept {
        return a.number_ < b.number_;
    }

private:
    friend class RaceMachine;
    constexpr AttemptId(std::uint32_t number, std::uint32_t slot) noexcept
        : number_(number), slot_(slot) {}
    std::uint32_t number_ = 0;
    std::uint32_t slot_ = UINT32_MAX;  // a lookup hint, not part of identity
};

/// Ask DNS for the family's addresses (AAAA for v6, A for v4) — or, with
/// `https` set, for the name's HTTPS records (RFC 9460, type 65; only when
/// `config.https` is on). `name` is empty for the origin (the host the race
/// is for, which the adapter knows); otherwise it is a fully qualified target
/// or alias name taken from an HTTPS record ("svc.example.net."), owned by
/// the machine and valid while it lives. Answer with handle_resolved /
/// handle_resolve_failed (addresses) or handle_https / handle_resolve_failed
/// (HTTPS), passing this Resolve back. The machine asks for a name's HTTPS
/// records first, then AAAA, then A (draft-ietf-happy-happyeyeballs-v3 §4.1);
/// send the queries in the order of the actions, back to back.
///
/// The DNS name to ask is query_name(resolve, host): for the origin's HTTPS
/// query on a port other than 443 it is `_PORT._https.HOST` (RFC 9460 §9.1,
/// Port Prefix Naming; `port_prefix` says so).
struct Resolve {
    Resolve() = default;
    constexpr Resolve(Family f, bool is_https = false, std::string_view n = {},
                      std::uint16_t prefix = 0) noexcept
        : family(f), https(is_https), port_prefix(prefix), name(n) {}
    Family family = Family::v6;  ///< AAAA (v6) or A (v4); v6 for an HTTPS query
    bool https = false;          ///< an HTTPS (type 65) query
    /// An HTTPS query for `_PORT._https.NAME` (RFC 9460 §9.1): the origin's,
    /// when config.port is not 443. 0: no prefix (port 443, alias and target
    /// names, address queries).
    std::uint16_t port_prefix = 0;
    std::string_view name;       ///< "" = the origin
    friend bool operator==(const Resolve& a, const Resolve& b) {
        return a.family == b.family && a.https == b.https && a.port_prefix == b.port_prefix &&
               a.name == b.name;
    }
};

/// The DNS name a Resolve asks about: its `name`, or `host` for the origin,
/// with `_PORT._https.` in front when `port_prefix` is set (RFC 9460 §9.1:
/// "https://www.example.com:8443" → "_8443._https.www.example.com").
std::string query_name(const Resolve& resolve, std::string_view host);
/// The prefix labels alone ("_8443._https"), or "" when there are none.
std::string port_prefix_labels(const Resolve& resolve);

/// The transport of an attempt (Happy Eyeballs v3): TCP, or QUIC for an
/// endpoint whose HTTPS record offers an HTTP/3 ALPN ("h3", "h3-29", ...).
enum class Protocol : std::uint8_t { tcp, quic };
/// "tcp" or "quic" ("unknown" outside the enum).
const char* protocol_name(Protocol p) noexcept;

/// Where an attempt's service came from (Service::source, AttemptRecord,
/// RaceReport). The trace marks only alt_svc: an HTTPS record is what a v3
/// service usually is, and a plain endpoint has no service.
enum class ServiceSource : std::uint8_t {
    none,          ///< no service: the origin's plain A/AAAA answers, or a given list
    https_record,  ///< an HTTPS record (RFC 9460), or the end of its alias chain (§3)
    alt_svc,       ///< an Alt-Svc alternative (RFC 7838; Config::alt_svc)
};
/// "none", "https-record" or "alt-svc" ("unknown" outside the enum).
const char* service_source_name(ServiceSource s) noexcept;

/// What an HTTPS ServiceMode record (RFC 9460) says about one group of
/// endpoints: the attempts built from it carry a pointer to it. Owned by the
/// machine, valid while it lives. One record gives up to two services: its
/// QUIC ALPN ids (h3...) and its TCP ones (h2, http/1.1...). An Alt-Svc
/// alternative is a service too, of one ALPN id (`source` says which).
struct Service {
    Protocol protocol = Protocol::tcp;
    std::uint16_t priority = 0;     ///< SvcPriority (1 and up)
    std::string target;             ///< where the addresses come from ("." = owner resolved)
    std::uint16_t port = 0;         ///< the record's port, or config.port
    std::vector<std::string> alpn;  ///< this protocol's ALPN ids, the record's order
    std::optional<std::vector<std::uint8_t>> ech;  ///< the ech SvcParam: an ECHConfigList
    /// An HTTPS record's, or an Alt-Svc alternative's (`priority` is then
    /// its place in the header, `target` its host or "." for the origin's).
    ServiceSource source = ServiceSource::https_record;
};

/// Create a socket for `remote`'s family. Answer at once with handle_opened
/// (an error code when socket creation failed). The attempt has started.
/// `protocol` says which socket (SOCK_STREAM for TCP, SOCK_DGRAM for QUIC);
/// `service` is null unless an HTTPS record produced this endpoint. The
/// bundled adapters answer a QUIC attempt with EPROTONOSUPPORT.
struct OpenSocket {
    OpenSocket() = default;
    OpenSocket(AttemptId a, Endpoint r, Protocol p = Protocol::tcp,
               const Service* s = nullptr) noexcept
        : attempt(a), remote(r), protocol(p), service(s) {}
    AttemptId attempt;
    Endpoint remote;
    Protocol protocol = Protocol::tcp;
    const Service* service = nullptr;
    friend bool operator==(const OpenSocket& a, const OpenSocket& b) {
        return a.attempt == b.attempt && a.remote == b.remote && a.protocol == b.protocol;
    }
};

/// Bind the attempt's socket to `local`. Answer at once with handle_bound.
struct Bind {
    AttemptId attempt;
    Endpoint local;
    friend bool operator==(const Bind& a, const Bind& b) {
        return a.attempt == b.attempt && a.local == b.local;
    }
};

/// Start a non-blocking connect of the attempt's socket to `remote`; `local`
/// is the address it is bound to, if any. Answer with handle_connected or
/// handle_connect_failed, now or later. For HTTPS-driven endpoints `service`
/// gives the ALPN ids and ECH config the TLS (or QUIC) handshake should use.
struct Connect {
    Connect() = default;
    Connect(AttemptId a, Endpoint r, std::optional<Endpoint> l = std::nullopt,
            Protocol p = Protocol::tcp, const Service* s = nullptr) noexcept
        : attempt(a), remote(r), local(l), protocol(p), service(s) {}
    AttemptId attempt;
    Endpoint remote;
    std::optional<Endpoint> local;
    Protocol protocol = Protocol::tcp;
    const Service* service = nullptr;
    friend bool operator==(const Connect& a, const Connect& b) {
        return a.attempt == b.attempt && a.remote == b.remote && a.local == b.local &&
               a.protocol == b.protocol;
    }
};

/// Close the attempt's socket. Comes exactly once for every opened socket that
/// failed, lost or was cancelled; never for the winner.
struct Close {
    AttemptId attempt;
    friend bool operator==(const Close& a, const Close& b) { return a.attempt == b.attempt; }
};

/// With `config.ech` set (v3 §6.3): the TCP attempt, connected, may start
/// its TLS handshake now — with `service->ech` as its ECH configuration when
/// there is one (none: no ECH for this endpoint). Comes once per attempt that
/// reaches its handshake: at its connect when the HTTPS answer is already in
/// (or need not be waited for), else when that answer or its failure comes.
/// Start no TLS before it; answer with handle_secured / handle_secure_failed
/// or handle_ech_retry. Never comes without `config.ech`.
struct CryptoReady {
    AttemptId attempt;
    const Service* service = nullptr;
    /// The ECH configuration list to offer, or null: none.
    const std::vector<std::uint8_t>* ech() const noexcept {
        return service != nullptr && service->ech ? &*service->ech : nullptr;
    }
    friend bool operator==(const CryptoReady& a, const CryptoReady& b) {
        return a.attempt == b.attempt;
    }
};

enum class Outcome : std::uint8_t { connected, failed, cancelled };
/// "connected", "failed", "cancelled" (a static string; "unknown" for a
/// value outside the enum).
const char* outcome_name(Outcome o) noexcept;

/// The race is over; this is the last action. The winner's socket now belongs
/// to the caller. RaceMachine::report() has the details (errors, timings).
struct Report {
    Report() = default;
    Report(Outcome o, AttemptId w = AttemptId(), std::optional<Endpoint> r = std::nullopt,
           Protocol p = Protocol::tcp, const Service* s = nullptr) noexcept
        : outcome(o), winner(w), remote(r), protocol(p), service(s) {}
    Outcome outcome = Outcome::failed;
    AttemptId winner;                  ///< connected only
    std::optional<Endpoint> remote;    ///< connected only
    Protocol protocol = Protocol::tcp; ///< connected only: the winner's
    const Service* service = nullptr;  ///< connected only: the winner's, if any
    friend bool operator==(const Report& a, const Report& b) {
        return a.outcome == b.outcome && a.winner == b.winner && a.remote == b.remote &&
               a.protocol == b.protocol;
    }
};

using Action = std::variant<Resolve, OpenSocket, Bind, Connect, Close, Report, CryptoReady>;

/// One line, e.g. "connect #2 192.0.2.1:443 from 192.0.2.9:0": "resolve
/// AAAA", "resolve HTTPS", "resolve A svc.example.net.", "connect #1
/// [2001:db8::1]:443 quic alpn=h3" (protocol and ALPN only for HTTPS-driven
/// endpoints; "tcp alpn=h2 alt-svc" for an Alt-Svc alternative's), "open #1 [2001:db8::1]:443", "bind #1 192.0.2.9:0", "close #1", "crypto-ready #1 ech",
/// "report connected #2 192.0.2.1:443", "report failed".
std::string to_string(const Action& action);
/// Writes to_string(action).
std::ostream& operator<<(std::ostream& os, const Action& action);
/// Writes "#N".
std::ostream& operator<<(std::ostream& os, AttemptId id);

}  // namespace eyeballs
