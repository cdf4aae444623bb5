// SPDX-License-Identifier: BSL-1.0
// eyeballs::libuv — Happy Eyeballs (RFC 8305) on a libuv loop.
//
// libuv has no connect-by-name: uv_getaddrinfo() gives a list and
// uv_tcp_connect() tries one address. This adapter races them all, as RFC
// 8305 says, on the caller's uv_loop_t and hands back the first connection:
//
//     eyeballs::libuv::Options options;               // RFC 8305 defaults
//     auto race = eyeballs::libuv::connect(
//         loop, "example.com", 443, options,
//         [](uv_tcp_t* tcp, const eyeballs::RaceReport& report) {
//             if (tcp == nullptr) { /* report.message says why */ return; }
//             /* tcp is connected, on `loop`, and yours: use it, then
//                eyeballs::libuv::close_tcp(tcp) */
//         });
//     if (!race.status()) { /* misuse: race.status().message() */ }
//     uv_run(loop, UV_RUN_DEFAULT);
//
// How it runs. Every race is a RaceMachine (eyeballs/race_machine.hpp) driven
// from the loop's own callbacks: each attempt is a uv_tcp_t on the loop
// (uv_tcp_init_ex, or uv_tcp_open on a socket_factory socket) connected with
// uv_tcp_connect; one uv_timer_t is re-armed at the machine's next_timeout();
// names are resolved with one uv_getaddrinfo() per family (AF_INET6 for AAAA,
// AF_INET for A, no AI_ADDRCONFIG) on libuv's thread pool, or — with
// `dns_server` — by the adapter's own UDP queries to that server. Nothing
// blocks the loop; everything happens inside uv_run() on the thread that runs
// the loop. A handle and its race must only be used from that thread.
//
// Time (docs/behaviour.md §7). libuv's timers count whole milliseconds of the loop's
// cached clock (uv_now()). The adapter arms its timer for the deadline
// rounded *up* to the millisecond the loop clock must reach, so it never
// fires early (and if a clock ever disagreed, the adapter re-arms instead of
// feeding an early timeout); it may fire up to about a millisecond late,
// which the machine tolerates. libuv runs due timers before polling for I/O;
// the adapter defers a due timeout to the same loop turn's check phase (a
// uv_idle_t keeps that poll from blocking), so I/O results that arrive with
// it are fed first, as docs/behaviour.md §7 orders.
//
// HTTPS records (Happy Eyeballs v3, `config.https`): getaddrinfo cannot ask
// for type 65, so the adapter sends the HTTPS query itself over UDP, to
// `dns_server` (alone) or the `nameserver`s of /etc/resolv.conf, IPv6 ones
// first (written and read by eyeballs/dns_message.hpp; resent once after
// 2 s, failed after 4 s; TC is retried over TCP). With n resolv.conf
// nameservers each gets 4 s / n: one that gives no answer in its share, or
// answers with an ICMP error, leaves the query to the next one; any DNS
// answer (NXDOMAIN, SERVFAIL too) ends it;
// target and alias names are resolved like the host; Config::port is set to
// connect()'s port. TCP only: QUIC attempts (`config.quic`) fail at once with
// EPROTONOSUPPORT.
//
// TLS (Happy Eyeballs v3 §6.1, connect_tls): each attempt whose TCP connect
// completes starts a non-blocking OpenSSL 3 client handshake on its socket
// (eyeballs/detail/tls_client.hpp), driven by a uv_poll_t on the attempt's fd
// on the same loop — the loop never blocks — and the race is won by the first
// completed handshake (the machine runs with Success::handshake). SNI is the
// origin's host name (Options::tls.server_name overrides it), ALPN the
// service's set (default h2, http/1.1), the certificate checked against the
// system store, tls.ca_file/ca_dir, or not at all with tls.insecure. A
// handshake failure is an attempt error at stage `tls` with OpenSSL's reason
// ("certificate verify failed: self-signed certificate"); the race goes on.
// `config.success = Success::handshake` is refused by connect() and
// connect_fd() (nobody would make the handshake): use connect_tls().
//
// The callback runs exactly once per accepted race, unless the handle is
// destroyed first — never from inside connect(), never after the handle's
// race is gone:
// - when the race ends by itself, from the loop;
// - when you call Handle::cancel(), before cancel() returns (outcome
//   `cancelled`, no connection — or the real outcome if the race had already
//   ended inside connect() and its callback was still waiting for the loop);
// - cancel() called from inside an Options::on_action observer takes effect
//   once the observed action is done.
// Destroying (or move-assigning over) a Handle whose race is still running
// cancels the race *without* calling the callback. Handle::detach() lets the
// race run on by itself; its callback still runs.
//
// Closing the loop. libuv frees a handle only in a later loop turn
// (uv_close's callback), and uv_loop_close() fails with UV_EBUSY while any
// handle or request is open. Once a race has ended (callback run, cancelled
// or handle destroyed) its sockets are already closed, and what is left —
// uv_close callbacks, an HTTPS/UDP query's handles, a uv_getaddrinfo() still
// running on the thread pool (it cannot be interrupted; it ends when the
// system resolver answers or times out) — goes away in the loop's next
// turns without keeping anything of yours. So before uv_loop_close():
// cancel (or destroy) every running race, close your own handles (the
// winner's uv_tcp_t included), and run the loop — uv_run(loop,
// UV_RUN_DEFAULT) then returns 0 and uv_loop_close() succeeds. Never destroy
// or cancel a Handle after its loop has been closed.
#pragma once

#include <uv.h>

#include <chrono>
#include <cstdint>
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

struct ssl_st;  // OpenSSL's SSL

namespace eyeballs::libuv {

/// Creates the socket for one attempt (aiohappyeyeballs `socket_factory`):
/// return a SOCK_STREAM socket of `remote`'s family, configured as you like
/// (options, marks, ...). The adapter makes it non-blocking and close-on-exec,
/// binds it (local candidates), hands it to a uv_tcp_t (uv_tcp_open) and
/// connects it; the uv_tcp_t closes it if the attempt fails or loses. On
/// failure return -1 and set errno: the attempt fails at stage `open` with that
/// errno (EINVAL when errno is 0). Must not throw.
using SocketFactory = std::function<uv_os_sock_t(const Endpoint& remote)>;

/// Everything a race can be told besides the target.
struct Options {
    /// Attempt delay, resolution delay, family count, interleaving, timeouts,
    /// minimum start gap and local bind candidates (Config::local): all of
    /// eyeballs::Config. Defaults are RFC 8305's.
    Config config;
    /// A nameserver (port 53 when the port is 0) to ask instead of the
    /// system's (host-name races only): the adapter then sends its own AAAA,
    /// A (and HTTPS) queries to it — no /etc/hosts, no search list — built
    /// and read by eyeballs/dns_message.hpp (EDNS0 offering 1232 octets; an
    /// answer with TC is asked again over TCP, RFC 7766 §5). Unset:
    /// uv_getaddrinfo() (the system resolver, /etc/hosts included) per
    /// family; its EAI_NONAME reads as NXDOMAIN, EAI_NODATA and
    /// EAI_ADDRFAMILY as NODATA, anything else (EAI_AGAIN: a SERVFAIL or a
    /// timeout, getaddrinfo does not say which) with libuv's text.
    std::optional<Endpoint> dns_server;
    /// With `dns_server`: the schedule every adapter shares — AAAA and A sent
    /// at 0, again at 1 s and 3 s, and a family still unanswered after this
    /// long fails ("resolve A: timed out (no answer within 5000 ms)",
    /// ETIMEDOUT). NXDOMAIN, NODATA, SERVFAIL/REFUSED, a malformed or a
    /// truncated answer read as in the other adapters (Error::dns). HTTPS
    /// queries are resent once after 2 s and fail after 4 s.
    std::chrono::milliseconds dns_timeout{5000};
    /// Answers kept from race to race (eyeballs/dns_cache.hpp), owned by the
    /// caller; null (default): none. Before each query the adapter looks its
    /// question (the name on the wire) up: a fresh answer is fed to the race
    /// and no query is sent; with `config.https`, a stale answer is raced at
    /// once (RaceMachine::handle_stale, or for HTTPS records
    /// handle_stale_https; v3 §4.4) while the query goes out, and the new
    /// answer replaces it (§7); a failed query leaves the stale addresses (or
    /// services) in the race. What the adapter's own DNS client
    /// brings back (HTTPS always; AAAA and A with `dns_server`) is stored
    /// with its TTL, and NODATA or NXDOMAIN for an address question forgets
    /// its entry; other failures leave it (RFC 8767). uv_getaddrinfo()
    /// answers (AAAA and A without `dns_server`) come without a TTL, so
    /// those questions are looked up but never stored. Not locked: the cache
    /// is used from the loop's callbacks, so share one only among races on
    /// loops run by the same thread.
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
    /// Creates each attempt's socket; empty = libuv makes it (uv_tcp_init_ex
    /// with the remote's family: SOCK_NONBLOCK | SOCK_CLOEXEC).
    SocketFactory socket_factory;
    /// Called with each action as the adapter performs it (the trace of docs/behaviour.md
    /// §5 is printed from it; a Report's details are machine.report()).
    /// It may call Handle::cancel(); see above for when that takes effect.
    ActionObserver on_action;
    /// Resolve overrides for a race by host name, as curl's CURLOPT_RESOLVE
    /// and CURLOPT_CONNECT_TO (eyeballs/overrides.hpp): applied before DNS,
    /// redirects first, then a pin's addresses race with no DNS.
    std::vector<ResolveOverride> overrides;
    /// TLS settings for connect_tls() (eyeballs/tls.hpp; `enabled` is
    /// ignored: connect_tls() makes handshakes, connect() and connect_fd() do not).
    TlsOptions tls;
    /// Called, like on_action, at each handshake's start and end (connect_tls()).
    TlsObserver on_tls;
};

/// Receives the connected uv_tcp_t (null when the race failed or was
/// cancelled) and the full report. The handle was initialised on the race's
/// loop, its `data` is null, it is connected to report.remote (non-blocking,
/// close-on-exec) and not reading. It belongs to the callee, who must close it
/// with uv_close() and then free it with std::free() (it was std::malloc'ed):
/// close_tcp() does both.
using Callback = std::function<void(uv_tcp_t* tcp, const RaceReport& report)>;

/// Receives the connected socket as a plain fd (-1 when the race failed or
/// was cancelled) and the full report. The fd is a close-on-exec duplicate
/// (F_DUPFD_CLOEXEC) of the winner's, whose uv_tcp_t the adapter closes; it
/// is non-blocking, owned by the callee, and not known to the loop.
using FdCallback = std::function<void(uv_os_sock_t fd, const RaceReport& report)>;

/// Receives, after connect_tls(), the winner's uv_tcp_t (as Callback says)
/// and its TLS connection, handshake done, on that socket — both null when
/// the race failed or was cancelled. Both belong to the callee: talk through
/// `ssl` (SSL_read/SSL_write on the non-blocking fd; the uv_tcp_t is not
/// reading — watch its fd with a uv_poll_t of your own, or uv_fileno), then
/// free_tls(ssl) (SSL_free, which does not close the fd) and close_tcp(tcp).
/// The negotiated version and ALPN id are in report.tls_version and
/// report.alpn_selected.
using TlsCallback =
    std::function<void(uv_tcp_t* tcp, ::ssl_st* ssl, const RaceReport& report)>;

/// SSL_free(ssl) (null: nothing), for a caller that does not link OpenSSL.
void free_tls(::ssl_st* ssl) noexcept;

/// True when the adapter was built with eyeballs::tls_client (OpenSSL 3);
/// otherwise connect_tls() refuses every race.
bool tls_available() noexcept;

/// uv_close(tcp) with a close callback that std::free()s it: the way to end
/// the uv_tcp_t a Callback receives. Null does nothing.
void close_tcp(uv_tcp_t* tcp) noexcept;

namespace detail {
class Race;
struct HandleAccess;
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

    /// Why connect() refused to start the race (null loop, empty callback,
    /// bad configuration, empty address list, ...). When it is not ok there is
    /// no race, nothing was put on the loop and the callback will never run.
    const Status& status() const noexcept { return status_; }
    /// True while the callback is still to come.
    bool running() const noexcept;
    /// Ends the race now: closes every socket, cancels DNS, calls the callback
    /// with outcome `cancelled` before returning. Idempotent; does nothing
    /// once the callback has run (or been called for), or on an empty handle.
    /// The race's libuv handles finish closing in the loop's next turn.
    void cancel();
    /// Lets the race run on without this handle (which becomes empty). The
    /// callback still runs once. The race must end before the loop is closed.
    void detach() noexcept;

private:
    friend struct detail::HandleAccess;
    explicit Handle(Status status) : status_(std::move(status)) {}
    explicit Handle(std::shared_ptr<detail::Race> race) noexcept;

    std::shared_ptr<detail::Race> race_;
    Status status_;
};

/// Races the addresses of `host`: a literal IPv4/IPv6 address (brackets
/// allowed) is raced alone with no DNS; a name is resolved per family (AAAA
/// and A at once, docs/behaviour.md §2). UV_EAI_NODATA, UV_EAI_NONAME (NXDOMAIN) and
/// UV_EAI_ADDRFAMILY count as "no data"; other resolver failures are recorded
/// with uv_strerror()'s text.
Handle connect(uv_loop_t* loop, std::string_view host, std::uint16_t port,
               const Options& options, Callback callback);

/// Races `endpoints` (with their own ports) in the given order, interleaved
/// by family (docs/behaviour.md §1); no DNS.
Handle connect(uv_loop_t* loop, const std::vector<Endpoint>& endpoints, const Options& options,
               Callback callback);

/// As connect(), but hands the winner over as a plain fd (see FdCallback).
Handle connect_fd(uv_loop_t* loop, std::string_view host, std::uint16_t port,
                  const Options& options, FdCallback callback);
Handle connect_fd(uv_loop_t* loop, const std::vector<Endpoint>& endpoints,
                  const Options& options, FdCallback callback);

/// Races to a completed TLS handshake (see the top of this file); the
/// callback gets the winner's uv_tcp_t and SSL*. A CA file that cannot be
/// loaded is a misuse error in status().
Handle connect_tls(uv_loop_t* loop, std::string_view host, std::uint16_t port,
                   const Options& options, TlsCallback callback);
Handle connect_tls(uv_loop_t* loop, const std::vector<Endpoint>& endpoints,
                   const Options& options, TlsCallback callback);

/// Receives what discover_pref64 found (eyeballs/pref64_discovery.hpp).
using Pref64Callback = std::function<void(const Pref64Discovery& result)>;

/// Discovers the network's NAT64 prefix (RFC 7050 §2-§3) on the loop: one
/// AAAA query for ipv4only.arpa where a race's AAAA query goes — the
/// adapter's own UDP query to `dns_server` (resent and failed on the races'
/// schedule, `dns_timeout`), else uv_getaddrinfo — then the prefix read
/// around the well-known addresses 192.0.0.170/171 the answer embeds. The
/// other options are ignored: `config.history` in particular is not touched
/// (no race ticket, History::next_race, is taken). The callback runs from
/// the loop, never inside
/// discover_pref64(); the Handle works as a race's (cancel() calls back with
/// "resolving ipv4only.arpa: cancelled" before it returns; destroying it
/// drops the query without a callback). Use the prefix as Config::pref64
/// with Config::ipv4_unavailable on an IPv6-only network.
Handle discover_pref64(uv_loop_t* loop, const Options& options, Pref64Callback callback);

}  // namespace eyeballs::libuv
