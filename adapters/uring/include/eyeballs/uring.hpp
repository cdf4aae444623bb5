// SPDX-License-Identifier: BSL-1.0
// eyeballs::uring — Happy Eyeballs (RFC 8305) on Linux io_uring (liburing).
//
// Every system call of a race is a submission on one ring: the attempt's
// socket (IORING_OP_SOCKET where the kernel has it, probed once per ring;
// socket(2) otherwise), its connect (IORING_OP_CONNECT), the close of every
// loser (IORING_OP_CLOSE) and the races' timers (one IORING_OP_TIMEOUT per
// Loop with an absolute CLOCK_MONOTONIC deadline, armed for the earliest
// deadline of all its races; nanosecond resolution, never early).
// Completions are reaped in batches (io_uring_peek_batch_cqe), so a burst of
// races sharing one Loop shares its io_uring_enter() calls:
//
//     eyeballs::uring::Loop loop;                      // one ring
//     if (!loop.status()) { /* no io_uring here: loop.status().message() */ }
//     eyeballs::uring::Options options;                // RFC 8305 defaults
//     auto race = eyeballs::uring::connect(
//         loop, endpoints, options,
//         [](int fd, const eyeballs::RaceReport& report) {
//             if (fd < 0) { /* report.message says why */ return; }
//             /* fd is connected, non-blocking, close-on-exec and yours */
//         });
//     if (!race.status()) { /* misuse: race.status().message() */ }
//     loop.run();                                      // until every race is done
//
// or, for one race, the blocking form (a private Loop per call):
//
//     eyeballs::uring::Result r = eyeballs::uring::connect("192.0.2.1", 443);
//
// Availability. Where io_uring cannot be used (a kernel before 5.6, or one
// built without it: ENOSYS; a sandbox or sysctl kernel.io_uring_disabled that
// refuses it: EPERM), Loop::status() says so ("io_uring is not available
// here: io_uring_queue_init: ...") and every connect() on it is refused with
// that message; nothing falls back silently to another loop.
//
// Time (docs/behaviour.md §7). Every race's next deadline goes into the Loop's min-heap;
// one IORING_OP_TIMEOUT with IORING_TIMEOUT_ABS on CLOCK_MONOTONIC (the clock
// of std::chrono::steady_clock: an hrtimer, no millisecond rounding) is
// armed for the earliest, and moved earlier with IORING_TIMEOUT_UPDATE. After
// each batch of completions every deadline that has passed is served, so the
// attempt delays of a burst wake the loop together. A deadline is never fed
// early. Completions of one batch are fed I/O first, then timeouts, as docs/behaviour.md
// §7 orders. An attempt starts at its OpenSocket; its Connect follows when
// the ring hands back the socket (IORING_OP_SOCKET), a completion later.
//
// DNS. A literal address (brackets allowed) is raced alone. A name is
// resolved by the adapter's own UDP queries (AAAA and A at once, and HTTPS
// with config.https; messages by eyeballs/dns_message.hpp) to
// Options::dns_server (that one alone), or to the `nameserver`s of
// /etc/resolv.conf, IPv6 ones first (v3 §4.5, eyeballs/dns_servers.hpp):
// the answer is received with IORING_OP_RECV on the same ring, so the
// Resolution Delay (RFC 8305 §3) runs for real. No /etc/hosts, no search
// list; a query is resent every 2 s and fails with ETIMEDOUT after
// Options::dns_timeout (default 4 s: sent at 0 and 2 s, failed at 4 s).
// With n resolv.conf nameservers, each gets dns_timeout / n (sends of at
// most 2 s):
// one that gives no answer in its share, or answers with an ICMP error,
// leaves the query to the next one; any DNS answer (NXDOMAIN, SERVFAIL too)
// ends it.
// TCP only: QUIC attempts fail at once with EPROTONOSUPPORT.
//
// TLS (Happy Eyeballs v3 §6.1, connect_tls): each attempt whose TCP connect
// completes starts a non-blocking OpenSSL 3 client handshake on its socket
// (eyeballs/detail/tls_client.hpp, the one every adapter shares). When
// OpenSSL wants to read or write, the adapter submits IORING_OP_POLL_ADD for
// the attempt's fd (POLLIN or POLLOUT) on the same ring and takes the next
// handshake step when it completes: the ring never blocks, and the handshakes
// of a burst of races share its io_uring_enter() calls. The race is won by
// the first completed handshake (the machine runs with Success::handshake).
// SNI is the origin's host name (Options::tls.server_name overrides it; an IP
// literal is not sent as SNI and is checked as the certificate's IP address),
// ALPN the service's set (default h2, http/1.1), the certificate checked
// against the system store, tls.ca_file/ca_dir, or not at all with
// tls.insecure; races with the same trust settings share one SSL_CTX per
// process. A handshake failure is an attempt error at stage `tls` with
// OpenSSL's reason ("certificate verify failed: self-signed certificate");
// the race goes on. Closing an attempt mid-handshake removes its poll
// (IORING_OP_POLL_REMOVE), frees its SSL object and closes its fd.
// `config.success = Success::handshake` is refused by connect() (nobody
// would make the handshake): use connect_tls().
//
// Threads. A Loop and its races belong to the thread that created the Loop
// (the ring is set up IORING_SETUP_SINGLE_ISSUER | DEFER_TASKRUN where the
// kernel has them): connect(), run(), Handle::cancel() and the callbacks all
// happen on it. Use one Loop per thread.
//
// The callback runs exactly once per accepted race, unless the handle is
// abandoned first: from Loop::run() when the race ends there; before
// Handle::cancel() returns (outcome `cancelled`); never from inside connect()
// (a race that ends at once is delivered on the next run()). Destroying a
// Handle whose race still runs cancels it without calling the callback;
// Handle::detach() lets it run on. After a race has ended its sockets are
// closed by submissions the next run() completes; run() returns only once
// every race on the loop has ended and each of its submissions has
// completed, so no memory a submission points at is freed before then.
// Destroying a Loop cancels (without callbacks) the races still on it and
// waits for their submissions; Handles may outlive their Loop (they become
// inert).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/dns_cache.hpp"
#include "eyeballs/pref64_discovery.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/tls.hpp"

struct ssl_st;  // OpenSSL's SSL

namespace eyeballs::uring {

/// Creates the socket for one attempt (aiohappyeyeballs `socket_factory`):
/// return a SOCK_STREAM socket of `remote`'s family, or -1 with errno set
/// (the attempt fails at stage `open` with that errno; EINVAL when errno is
/// 0). The adapter owns the fd from then on: it makes it close-on-exec,
/// binds it (local candidates), connects it through the ring and closes it
/// unless it wins. Called instead of IORING_OP_SOCKET. Must not throw.
using SocketFactory = std::function<int(const Endpoint& remote)>;

/// Everything a race can be told besides the target.
struct Options {
    /// Every RaceMachine setting, local bind candidates included (docs/behaviour.md §1).
    Config config;
    /// The nameserver to ask (port 53 when 0) for a host name, alone (no
    /// fallback); unset: the `nameserver`s of /etc/resolv.conf, IPv6 ones
    /// first, each asked in turn when the one before gives no answer.
    std::optional<Endpoint> dns_server;
    /// How long a DNS question (AAAA, A, HTTPS; ipv4only.arpa for
    /// discover_pref64) waits for an answer before it fails with ETIMEDOUT
    /// (DnsError::timeout, "no A answer from 127.0.0.1:53 within 4000 ms"):
    /// the meaning of the other adapters' `dns_timeout`. The query is resent
    /// every 2 s while it waits; with n resolv.conf nameservers each gets an
    /// equal share (dns_timeout / n) and one silent for its share leaves the
    /// question to the next. Default 4 s (sent at 0 and 2 s). Must be
    /// positive: connect(), connect_tls() and discover_pref64() refuse zero
    /// or less ("dns_timeout must be positive (got 0 ms)").
    std::chrono::milliseconds dns_timeout{4000};
    /// Answers kept from race to race (eyeballs/dns_cache.hpp), owned by the
    /// caller; null (default): none. As in the poll adapter: before each
    /// query the adapter looks its question (the name on the wire) up; a
    /// fresh answer is fed to the race at once and no query is sent; with
    /// `config.https`, a stale answer is raced at once
    /// (RaceMachine::handle_stale, or for HTTPS records handle_stale_https;
    /// v3 §4.4) while the query goes out, and the new answer replaces it
    /// (§7); a failed query leaves the stale addresses (or services) in the
    /// race. Every positive answer is stored with its TTL; a NODATA or
    /// NXDOMAIN answer forgets the question's entry. Not locked: the cache is
    /// used from the loop's thread, so share one only among races run by the
    /// same thread.
    DnsCache* dns_cache = nullptr;
    /// Alternative services kept from race to race
    /// (eyeballs/alt_svc_cache.hpp), owned by the caller; null (default): none.
    /// A race to a host name with `config.https` and no `config.alt_svc` of its
    /// own races the alternatives of the origin https://HOST:PORT still fresh
    /// when it starts (eyeballs::alternatives_for_race, the rule every adapter
    /// shares: not for an IP literal; a `config.alt_svc` the caller gave wins
    /// whole). Only read, when the race starts; storing the origin's Alt-Svc
    /// fields into it is the caller's. Not locked: share one as `dns_cache`.
    const AltSvcCache* alt_svc_cache = nullptr;
    /// Empty: the adapter creates each socket (IORING_OP_SOCKET or socket(2)).
    SocketFactory socket_factory;
    /// Called with each action as the adapter performs it (the Report last;
    /// its details are machine.report()). It may call Handle::cancel(), which
    /// takes effect once the observed action is done.
    ActionObserver on_action;
    /// Blocking connect() only: when this fd becomes readable (or hangs up)
    /// the race is cancelled. Watched with IORING_OP_POLL_ADD, never read or
    /// closed. -1 = none.
    int cancel_fd = -1;
    /// TLS settings for connect_tls() (eyeballs/tls.hpp; `enabled` is
    /// ignored: connect_tls() makes handshakes, connect() does not).
    TlsOptions tls;
    /// Called, like on_action, at each handshake's start and end (connect_tls()).
    TlsObserver on_tls;
};

/// Receives the connected socket (-1 when the race failed or was cancelled)
/// and the full report. The fd is non-blocking, close-on-exec and the
/// callee's; the ring holds no request on it.
using Callback = std::function<void(int fd, const RaceReport& report)>;

/// Receives, after connect_tls(), the winner's socket and its TLS connection,
/// handshake done, on that socket — -1 and null when the race failed or was
/// cancelled. Both belong to the callee: talk through `ssl` (SSL_read and
/// SSL_write on the non-blocking fd; the ring holds no request on it), then
/// free_tls(ssl) (SSL_free, which does not close the fd) and close(fd). The
/// negotiated version and ALPN id are in report.tls_version and
/// report.alpn_selected.
using TlsCallback = std::function<void(int fd, ::ssl_st* ssl, const RaceReport& report)>;

/// SSL_free(ssl) (null: nothing), for a caller that does not link OpenSSL.
void free_tls(::ssl_st* ssl) noexcept;

/// True when the adapter was built with eyeballs::tls_client (OpenSSL 3);
/// otherwise connect_tls() refuses every race.
bool tls_available() noexcept;

namespace detail {
class Race;
class LoopImpl;
struct Access;
}  // namespace detail

/// One io_uring ring and the races running on it.
class Loop {
public:
    /// Sets up a ring of `entries` submission slots (rounded up to a power of
    /// two; the completion queue is 4× that). More races than slots are fine:
    /// the adapter submits whenever the queue is full.
    explicit Loop(unsigned entries = 256);
    ~Loop();
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;

    /// Not ok when io_uring is not available (see the file comment).
    const Status& status() const noexcept;
    /// Runs until every race on the loop has ended, its callback has run and
    /// each of its submissions has completed. Returns at once when there is
    /// none. Fails only when io_uring_enter() does (the message says so).
    Status run();
    /// Races (running, or ended with submissions still in flight) on the loop.
    std::size_t races() const noexcept;
    /// True when sockets are created with IORING_OP_SOCKET (kernel 5.19+),
    /// false when with socket(2).
    bool socket_op() const noexcept;
    /// io_uring_enter() calls made so far (to see batching at work).
    std::uint64_t enters() const noexcept;

private:
    friend struct detail::Access;
    std::unique_ptr<detail::LoopImpl> impl_;
};

/// Owns one race. Movable, not copyable.
class Handle {
public:
    Handle() noexcept;
    Handle(Handle&& other) noexcept;
    /// Abandons this handle's running race (no callback), then takes `other`'s.
    Handle& operator=(Handle&& other) noexcept;
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    /// Abandons a running race: it is cancelled, the callback is not called.
    ~Handle();

    /// Why connect() refused to start the race (io_uring unavailable, empty
    /// callback, bad configuration, empty address list ...). When not ok
    /// there is no race and the callback never runs.
    const Status& status() const noexcept { return status_; }
    /// True while the callback is still to come.
    bool running() const noexcept;
    /// Ends the race now: closes (by submission) every socket, cancels every
    /// pending request and calls the callback with outcome `cancelled` before
    /// returning. Idempotent; nothing once the callback has run.
    void cancel();
    /// Lets the race run on without this handle; its callback still runs.
    void detach() noexcept;

private:
    friend struct detail::Access;
    explicit Handle(Status status) : status_(std::move(status)) {}
    explicit Handle(std::shared_ptr<detail::Race> race) noexcept;
    std::shared_ptr<detail::Race> race_;
    Status status_;
};

/// Races the addresses of `host` for `port`: a literal address (brackets
/// allowed) alone; a name through the adapter's UDP queries (see above).
Handle connect(Loop& loop, std::string_view host, std::uint16_t port, const Options& options,
               Callback callback);
/// Races `endpoints` (ports already set) in this order, interleaved by
/// family (docs/behaviour.md §1); no DNS.
Handle connect(Loop& loop, const std::vector<Endpoint>& endpoints, const Options& options,
               Callback callback);

/// Races to a completed TLS handshake (see the top of this file); the
/// callback gets the winner's fd and SSL*. A CA file that cannot be loaded is
/// a misuse error in status().
Handle connect_tls(Loop& loop, std::string_view host, std::uint16_t port, const Options& options,
                   TlsCallback callback);
Handle connect_tls(Loop& loop, const std::vector<Endpoint>& endpoints, const Options& options,
                   TlsCallback callback);

/// What the blocking connect() and connect_tls() return.
struct Result {
    /// The connected socket (non-blocking, close-on-exec), the caller's; -1
    /// unless report.outcome is connected.
    int fd = -1;
    /// connect_tls(): the winner's TLS connection on `fd`, handshake done; the
    /// caller's, to free with free_tls() before closing fd. Null otherwise.
    ::ssl_st* ssl = nullptr;
    RaceReport report;
    /// Misuse or io_uring unavailable: no race was run, fd is -1, and
    /// report.message repeats this message.
    Status status;
    bool connected() const noexcept { return fd >= 0; }
};

/// One race on a private Loop, run to the end on the calling thread.
Result connect(std::string_view host, std::uint16_t port, const Options& options = {});
Result connect(const std::vector<Endpoint>& endpoints, const Options& options = {});
/// One TLS race on a private Loop, run to the end on the calling thread.
Result connect_tls(std::string_view host, std::uint16_t port, const Options& options = {});
Result connect_tls(const std::vector<Endpoint>& endpoints, const Options& options = {});

/// Receives what discover_pref64 found (eyeballs/pref64_discovery.hpp).
using Pref64Callback = std::function<void(const Pref64Discovery& result)>;

/// Discovers the network's NAT64 prefix (RFC 7050 §2-§3) on the ring: one
/// AAAA query for ipv4only.arpa by the adapter's own client, as a race's
/// AAAA query goes (to `dns_server` alone, else resolv.conf's nameservers;
/// bounded by `dns_timeout`), then the prefix read around the well-known
/// addresses 192.0.0.170/171 the answer embeds. The other options are
/// ignored: `config.history` in particular is not touched (no race ticket,
/// History::next_race, is taken). The callback runs from loop.run(), never inside
/// discover_pref64(); the Handle works as a race's (cancel() calls back with
/// "resolving ipv4only.arpa: cancelled" before it returns; destroying it
/// drops the query without a callback). Use the prefix as Config::pref64
/// with Config::ipv4_unavailable on an IPv6-only network.
Handle discover_pref64(Loop& loop, const Options& options, Pref64Callback callback);

}  // namespace eyeballs::uring
