// SPDX-License-Identifier: BSL-1.0
// eyeballs::libevent — Happy Eyeballs (RFC 8305) on a libevent event_base.
//
// libevent's own bufferevent_socket_connect_hostname() tries only the first
// address it resolves. This adapter races them all, as RFC 8305 says, and
// hands back the first socket that connects:
//
//     eyeballs::libevent::Options options;            // RFC 8305 defaults
//     auto handle = eyeballs::libevent::connect(
//         base, "example.com", 443, options,
//         [](evutil_socket_t fd, const eyeballs::RaceReport& report) {
//             if (fd < 0) { /* report.message says why */ return; }
//             /* fd is connected, non-blocking, close-on-exec; it is yours */
//         });
//     if (!handle.status()) { /* misuse: handle.status().message() */ }
//     event_base_dispatch(base);
//
// How it runs. Every race is a RaceMachine (eyeballs/race_machine.hpp) driven
// from the base's own callbacks: one evtimer re-armed at the machine's
// next_timeout() (microsecond timeval), one EV_WRITE event per connecting
// socket (the result is read from SO_ERROR), and one evdns_getaddrinfo()
// query per address family (AF_INET6 for AAAA, AF_INET for A) on an
// evdns_base you supply or the adapter makes. Nothing blocks and no thread is
// started; everything happens inside event_base_dispatch()/event_base_loop()
// on the thread that runs the base. A handle and its race must only be used
// from that thread.
//
// HTTPS records (Happy Eyeballs v3, `config.https`): evdns cannot ask for type
// 65, so the adapter sends the HTTPS query itself on the base, over UDP to
// `dns_server` (alone) or the evdns_base's nameservers, IPv6 ones first
// (v3 §4.5; answers read by eyeballs/dns_message.hpp; resent once after
// 2 s, failed after 4 s; with n nameservers each gets 4 s / n, and one that
// gives no answer in it, or an ICMP error, leaves the query to the next;
// any DNS answer ends it); target
// and alias names go through evdns like the host; Config::port is set to
// connect()'s port. Without `quic.enabled`, QUIC attempts (`config.quic`)
// fail at once with EPROTONOSUPPORT; `config.success = Success::handshake`
// needs `tls.enabled` (below).
//
// QUIC (`quic.enabled`, a build with the QUIC component: quic_available()):
// as in the poll adapter (eyeballs/poll.hpp, the same eyeballs::quic_client
// library): a QUIC attempt is a connect()ed UDP socket with an EV_READ event
// and an evtimer at the handshake's expiry; its Initial is sent at its start;
// it wins at a completed handshake with one of the offered ALPN ids; a port
// unreachable fails it at once (stage connect), a handshake failure is stage
// tls, silence is left to the attempt delay. With `config.https` the records'
// h3 services are QUIC; without it every address is raced over QUIC first
// (the HTTPS query answered by the adapter as `1 . alpn=h3,h2,http/1.1`; with
// endpoints, AAAA and A are answered from the list, which must share one
// port). The winner's connection goes to `quic.on_connection`.
//
// TLS (Happy Eyeballs v3 §6.1, `tls.enabled`, with connect_bufferevent):
// each attempt whose TCP connect completes starts a non-blocking OpenSSL 3
// client handshake on its socket (eyeballs::tls_client, the one the poll
// adapter runs: SNI = the origin's host, ALPN = the service's set or
// `tls.alpn` or h2,http/1.1, verification against the system store or
// `tls.ca_file`/`ca_dir` with the name checked, unless `tls.insecure`), driven
// by an EV_READ/EV_WRITE event of the base; the race is won by the first
// completed handshake (Success::handshake). A failed handshake is an attempt
// error at stage `tls` with OpenSSL's reason, and the race goes on. The winner
// is handed over as a bufferevent_openssl in state BUFFEREVENT_SSL_OPEN (made
// with BEV_OPT_CLOSE_ON_FREE: bufferevent_free frees the SSL object and closes
// the socket); report.tls_version and report.alpn_selected say what was
// negotiated; `on_tls` sees each handshake's start and end. TLS with the fd
// form of connect() is a misuse error (the SSL object would have nowhere to
// go), as is `config.success = Success::handshake` without `tls.enabled`.
//
// Time. The machine is fed std::chrono::steady_clock::now() at each callback.
// libevent's timers are only as fine as its clock: by default an event_base
// on Linux uses CLOCK_MONOTONIC_COARSE and epoll's whole milliseconds, so a
// deadline can be missed by a few milliseconds. For sub-millisecond timing
// (docs/behaviour.md §7) create the base with EVENT_BASE_FLAG_PRECISE_TIMER (libevent then
// uses CLOCK_MONOTONIC and a timerfd); eyeballs-connect does.
//
// The callback runs exactly once per accepted race, unless the handle is
// destroyed first — never from inside connect(), never after the handle's
// race is gone:
// - when the race ends by itself, from the event loop;
// - when you call Handle::cancel(), before cancel() returns (outcome
//   `cancelled`, fd -1 — or the real outcome if the race had already ended
//   inside connect() and its callback was still waiting for the loop);
// - cancel() called from inside an Options::on_action observer takes effect
//   once the observed action is done, and the callback runs before control
//   goes back to the event loop (for an action performed inside connect():
//   from the loop's next turn, as above).
// Destroying (or move-assigning over) a Handle whose race is still running
// cancels the race *without* calling the callback: every socket is closed,
// DNS queries are cancelled. Handle::detach() instead lets the race run on
// by itself; its callback still runs, and the race frees itself after it.
// Before event_base_free(): end or drop every race on the base; the base may
// then be freed at once, with no further loop turn. libevent delivers the
// cancellation of a pending evdns query only from the loop; an evdns_base the
// adapter made is freed once those are in, or — when event_base_free comes
// first — by event_base_free itself (a finalizer the race leaves on the
// base; event_base_free_nofinalize skips finalizers, so use event_base_free),
// so neither it nor its UDP socket outlives the base. (libevent's own
// record of such a cancelled query is freed only by a loop turn; a turn,
// event_base_loop(base, EVLOOP_NONBLOCK), frees that too.) One case still
// needs that turn: a race dropped from inside a callback of the loop, the
// loop then broken off (the finalizer ran in that same pass, before the
// cancellations, which come on the next turn).
// The callback (and the observer) may destroy or cancel any handle, free
// other events and bufferevents of the base, or break the loop; they must not
// free the event_base itself while a race on it is still running, and must
// not throw.
#pragma once

#include <event2/util.h>

#include <cstdint>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/dns_cache.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/overrides.hpp"
#include "eyeballs/pref64_discovery.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/tls.hpp"

struct event_base;
struct evdns_base;
struct bufferevent;

namespace eyeballs::quic {
class Connection;  // eyeballs/quic_client.hpp
}

namespace eyeballs::libevent {

/// Creates the socket for one attempt (aiohappyeyeballs `socket_factory`):
/// return a SOCK_STREAM socket of `remote`'s family, configured as you like
/// (options, marks, ...). The adapter makes it non-blocking and close-on-exec,
/// then binds (local candidates) and connects it, and closes it if the attempt
/// fails or loses. On failure return -1 and set errno: the attempt fails at
/// stage `open` with that errno (EINVAL when errno is 0). Must not throw.
using SocketFactory = std::function<evutil_socket_t(const Endpoint& remote)>;

/// Everything a race can be told besides the target.
/// QUIC attempts (see the top of this header).
struct QuicOptions {
    bool enabled = false;
    /// ALPN ids offered when no HTTPS record gives h3 ids; empty: "h3".
    std::vector<std::string> alpn;
    /// The name sent as SNI and checked; empty: the host given to connect()
    /// (an address: each attempt's remote, checked as an IP address).
    std::string server_name;
    /// Trust anchors instead of the system store; or no verification.
    std::string ca_file;
    std::string ca_dir;
    bool insecure = false;
    /// Called once, just before the race's callback, when a QUIC attempt won:
    /// its connection (ngtcp2 + GnuTLS, eyeballs/quic_client.hpp), on the fd
    /// the callback gets. Unset: the connection is freed after the callback.
    std::function<void(std::shared_ptr<quic::Connection> connection)> on_connection;
};

/// True when the adapter was built with the QUIC component (ngtcp2 + GnuTLS).
bool quic_available() noexcept;

struct Options {
    /// Attempt delay, resolution delay, family count, interleaving, timeouts,
    /// minimum start gap and local bind candidates (Config::local): all of
    /// eyeballs::Config. Defaults are RFC 8305's.
    Config config;
    /// The evdns_base to resolve on (host-name races only). It stays yours:
    /// the adapter never changes or frees it, and only cancels its own
    /// queries. Null: the adapter makes one for the race — from the system's
    /// /etc/resolv.conf (its IPv6 nameservers put first, v3 §4.5) and
    /// /etc/hosts, or with `dns_server` as its only nameserver — and frees
    /// it once libevent has delivered the cancellations of its outstanding
    /// queries (on the loop's next turn after the race ends). Races that share one evdns_base share its cache
    /// and sockets: prefer that when you start many races.
    evdns_base* dns = nullptr;
    /// A nameserver (port 53 unless given) to use instead of the system's.
    /// Only with an adapter-made evdns_base: combined with `dns` it is a
    /// misuse error (whatever the host).
    std::optional<Endpoint> dns_server;
    /// With `dns_server`: the adapter asks it for AAAA and A itself (not
    /// through evdns), with queries built and answers read by
    /// eyeballs/dns_message.hpp (EDNS0 offering 1232 octets; an answer with
    /// TC is retried over TCP, RFC 7766), on the schedule all three adapters
    /// share: sent at 0, resent at 1 s and 3 s, and after `dns_timeout` an
    /// unanswered family fails ("resolve A: timed out (no answer within
    /// 5000 ms)", ETIMEDOUT). NXDOMAIN, NODATA, SERVFAIL/REFUSED and a
    /// malformed answer (an A record whose RDATA is not 4 octets included)
    /// read as in the poll and Asio adapters (Error::dns). Without
    /// `dns_server`, evdns resolves, on an evdns_base the adapter makes with
    /// "timeout: 1.67" and "attempts: 3" (evdns does not back off: about the
    /// same 5 s) — a caller's `dns` keeps its own settings.
    std::chrono::milliseconds dns_timeout{5000};
    /// Answers kept from race to race (eyeballs/dns_cache.hpp), owned by the
    /// caller; null (default): none. As in the poll adapter: before each
    /// query the adapter looks its question (the name on the wire) up; a
    /// fresh answer is fed to the race at once and no query is sent; with
    /// `config.https`, a stale answer is raced at once
    /// (RaceMachine::handle_stale, or for HTTPS records handle_stale_https;
    /// v3 §4.4) while the query goes out, and the new answer replaces it
    /// (§7); a failed query leaves the stale addresses (or services) in the
    /// race. What the adapter's own DNS client brings back (HTTPS
    /// always; AAAA and A with `dns_server`) is stored with its TTL, and a
    /// NODATA or NXDOMAIN answer forgets the question's entry. Answers of
    /// evdns_getaddrinfo() (AAAA and A without `dns_server`) come without a
    /// TTL, so those questions are looked up but never stored; and as evdns
    /// gives a timeout, a SERVFAIL and an empty answer the same code
    /// (EVUTIL_EAI_FAIL), that code keeps a stale answer raced for the
    /// question rather than reading as "no data". Not locked:
    /// the cache is used from the base's callbacks, so share one only among
    /// races on bases run by the same thread.
    DnsCache* dns_cache = nullptr;
    /// Alternative services kept from race to race
    /// (eyeballs/alt_svc_cache.hpp), owned by the caller; null (default): none.
    /// A race to a host name with `config.https` and no `config.alt_svc` of its
    /// own races the alternatives of the origin https://HOST:PORT still fresh
    /// when it starts (eyeballs::alternatives_for_race, the rule every adapter
    /// shares: not for an IP literal, nor when an `overrides` entry matched; a
    /// `config.alt_svc` the caller gave wins whole). Only read, when the race
    /// starts; storing the origin's Alt-Svc fields into it is the caller's. Not
    /// locked: share one as `dns_cache`.
    const AltSvcCache* alt_svc_cache = nullptr;
    /// Creates each attempt's socket; empty = socket(2) with the remote's
    /// family, SOCK_NONBLOCK | SOCK_CLOEXEC.
    SocketFactory socket_factory;
    /// Called as `on_action(now, action, machine)` with each action, on the
    /// base's thread, right after the adapter has performed it and before the
    /// machine hears its outcome (the trace of docs/behaviour.md §5 is printed from it; a
    /// Report's details are machine.report()). It may read the machine and
    /// call Handle::cancel(); see above for when that takes effect.
    ActionObserver on_action;
    /// Resolve overrides for a race by host name, as curl's CURLOPT_RESOLVE
    /// and CURLOPT_CONNECT_TO (eyeballs/overrides.hpp): applied before DNS,
    /// redirects first, then a pin's addresses race with no DNS.
    std::vector<ResolveOverride> overrides;
    /// QUIC attempts (off by default).
    QuicOptions quic;
    /// TLS over TCP (see the top of this header; connect_bufferevent only).
    TlsOptions tls;
    /// Called, like on_action, at each handshake's start and end.
    TlsObserver on_tls;
};

/// Receives the connected socket (-1 when the race failed or was cancelled)
/// and the full report. The socket belongs to the callee: non-blocking,
/// close-on-exec, connected to report.remote.
using Callback = std::function<void(evutil_socket_t fd, const RaceReport& report)>;

/// Receives a bufferevent around the connected socket, made with
/// BEV_OPT_CLOSE_ON_FREE (plus the caller's options), or null when the race
/// failed or was cancelled. The bufferevent belongs to the callee; free it
/// with bufferevent_free(). If the bufferevent cannot be made, the socket is
/// closed and the report is turned into a failure (ENOMEM). With
/// `tls.enabled` it is a bufferevent_openssl (bufferevent_openssl_get_ssl
/// gives the SSL object; link libevent_openssl to call it).
using BuffereventCallback = std::function<void(bufferevent* bev, const RaceReport& report)>;

namespace detail {
class Race;
struct HandleAccess;
class Pref64Query;
}  // namespace detail

/// Owns one race. Movable, not copyable. See the file comment for when the
/// callback runs and what destroying a running handle does.
class Handle {
public:
    /// An empty handle: no race, status ok, not running.
    Handle() noexcept;
    Handle(Handle&& other) noexcept;
    /// Abandons this handle's running race (no callback), then takes `other`'s.
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    /// Abandons a running race: it is cancelled, the callback is not called.
    ~Handle();

    /// Why connect() refused to start the race (empty base or callback, bad
    /// configuration, empty address list, ...). When it is not ok there is no
    /// race and the callback will never be called.
    const Status& status() const noexcept { return status_; }
    /// True while the callback is still to come.
    bool running() const noexcept;
    /// Ends the race now: closes every socket, cancels DNS, calls the callback
    /// with outcome `cancelled` before returning. Idempotent; does nothing
    /// once the callback has run (or been called for), or on an empty handle.
    void cancel();
    /// Lets the race run on without this handle (which becomes empty). The
    /// callback still runs once, and the race frees itself after it. The race
    /// must end before the event_base is freed.
    void detach() noexcept;

private:
    friend struct detail::HandleAccess;
    explicit Handle(Status status) : status_(std::move(status)) {}
    explicit Handle(std::shared_ptr<detail::Race> race) noexcept;

    std::shared_ptr<detail::Race> race_;
    Status status_;
};

/// Races the addresses of `host`: a literal IPv4/IPv6 address is raced alone
/// with no DNS; a name is resolved with one evdns_getaddrinfo() per family
/// (AAAA and A at once, docs/behaviour.md §2). EVUTIL_EAI_NODATA and EVUTIL_EAI_NONAME
/// (NXDOMAIN) count as "no data"; other resolver failures are recorded with
/// evutil_gai_strerror()'s text. Note that libevent 2.1 reports an empty
/// answer (NOERROR without records) as EVUTIL_EAI_FAIL, like a timeout or
/// SERVFAIL, so it is recorded as "non-recoverable failure in name
/// resolution"; the race treats every negative answer alike (docs/behaviour.md §2).
Handle connect(event_base* base, std::string_view host, std::uint16_t port,
               const Options& options, Callback callback);

/// Races `endpoints` (with their own ports) in the given order, interleaved
/// by family (docs/behaviour.md §1); no DNS.
Handle connect(event_base* base, const std::vector<Endpoint>& endpoints, const Options& options,
               Callback callback);

/// As connect(), but hands the winner over as a bufferevent made with
/// BEV_OPT_CLOSE_ON_FREE | `bev_options` (e.g. BEV_OPT_DEFER_CALLBACKS).
Handle connect_bufferevent(event_base* base, std::string_view host, std::uint16_t port,
                           const Options& options, BuffereventCallback callback,
                           int bev_options = 0);
Handle connect_bufferevent(event_base* base, const std::vector<Endpoint>& endpoints,
                           const Options& options, BuffereventCallback callback,
                           int bev_options = 0);

/// Receives what discover_pref64 found (eyeballs/pref64_discovery.hpp).
using Pref64Callback = std::function<void(const Pref64Discovery& result)>;

/// Owns one PREF64 discovery; as Handle for a race: movable, not copyable,
/// the callback runs exactly once unless the handle is destroyed first.
class Pref64Handle {
public:
    Pref64Handle() noexcept;
    Pref64Handle(Pref64Handle&& other) noexcept;
    /// Abandons this handle's running query (no callback), then takes `other`'s.
    Pref64Handle& operator=(Pref64Handle&& other) noexcept;
    Pref64Handle(const Pref64Handle&) = delete;
    Pref64Handle& operator=(const Pref64Handle&) = delete;
    /// Abandons a running query: it is cancelled, the callback is not called.
    ~Pref64Handle();

    /// Why discover_pref64() did not start (null base, empty callback, `dns`
    /// with `dns_server`, ...); then the callback will never be called.
    const Status& status() const noexcept { return status_; }
    /// True while the callback is still to come.
    bool running() const noexcept;
    /// Ends the query now: the callback runs before cancel() returns, with no
    /// prefix and the error "resolving ipv4only.arpa: cancelled". Idempotent;
    /// does nothing once the callback has run.
    void cancel();
    /// Lets the query run on without this handle; its callback still runs.
    void detach() noexcept;

private:
    friend class detail::Pref64Query;
    explicit Pref64Handle(Status status) : status_(std::move(status)) {}
    explicit Pref64Handle(std::shared_ptr<detail::Pref64Query> query) noexcept;

    std::shared_ptr<detail::Pref64Query> query_;
    Status status_;
};

/// Discovers the network's NAT64 prefix (RFC 7050 §2-§3) on the base: one
/// AAAA query for ipv4only.arpa through evdns, then the prefix read around
/// the well-known addresses 192.0.0.170/171 the answer embeds. The DNS
/// options are the races': `options.dns` (a caller's evdns_base, its own
/// settings), else an evdns_base the adapter makes — from resolv.conf, or
/// with `dns_server` as its only nameserver — resending within
/// `dns_timeout`; whatever the evdns_base, the query fails ("timed out") after
/// `dns_timeout`. The other options are ignored. The callback runs from the
/// loop, never inside discover_pref64(); use its prefix as Config::pref64
/// with Config::ipv4_unavailable on an IPv6-only network. As for a race, let
/// the loop turn once after a cancel before event_base_free() (libevent
/// delivers the cancellation of an evdns query only from the loop).
Pref64Handle discover_pref64(event_base* base, const Options& options, Pref64Callback callback);

}  // namespace eyeballs::libevent
