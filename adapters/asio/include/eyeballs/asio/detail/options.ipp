// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — what async_connect can be told (eyeballs/asio/options.hpp,
// eyeballs/boost_asio/options.hpp).
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

/// Creates the socket of one connection attempt (aiohappyeyeballs'
/// `socket_factory`). It gets a closed socket on the operation's executor and
/// the remote endpoint, and must open it for `remote.protocol()` — socket
/// options, marks, an fd from elsewhere through `assign` — or return the error
/// that prevents it. A non-zero error fails the attempt at stage `open` (the
/// errno value when the error has one, EIO otherwise); the adapter closes the
/// socket if the factory left it open. The adapter binds it (local
/// candidates) and connects it; it must not be connected or used by the
/// factory. Runs on the operation's internal strand; must not throw.
using socket_factory = std::function<error_code(net::ip::tcp::socket& socket,
                                                     const net::ip::tcp::endpoint& remote)>;

/// Options of one race. The defaults are RFC 8305's.
struct connect_options {
    /// Every timer and rule of the race: attempt delay, resolution delay,
    /// family count, interleaving, attempt and overall timeouts, the 10 ms
    /// floor, local bind candidates, sorting, history (see
    /// eyeballs/config.hpp). An invalid configuration completes the operation
    /// with asio::error::invalid_argument and the reason in the report's
    /// `message`. The machine uses `history` on the race's strand: races that
    /// share one History on an io_context run by several threads should share
    /// a strand as their executor.
    Config config;

    /// Opens each attempt's socket. Empty: a plain TCP socket of the remote's
    /// family, close-on-exec (and, on POSIX, created non-blocking, which
    /// saves Asio's FIONBIO ioctl and epoll_ctl DEL per socket).
    socket_factory open_socket;

    /// Called as `on_action(now, action, machine)` (eyeballs::ActionObserver:
    /// `void(TimePoint, const Action&, const RaceMachine&)`) with each action
    /// at the moment the adapter performs it (before performing it, with the
    /// time used for that step), on the operation's internal strand, so never
    /// concurrently with itself. The Report action's details come from
    /// `machine.report()`. Must not throw, and must not call into the machine;
    /// it may emit the operation's cancellation signal (the race is then
    /// cancelled after the current step, never from inside the observer).
    ActionObserver on_action;

    /// Resolve overrides for a race by host name, as curl's CURLOPT_RESOLVE
    /// and CURLOPT_CONNECT_TO (eyeballs/overrides.hpp): applied before DNS,
    /// redirects first, then a pin's addresses race with no DNS.
    std::vector<ResolveOverride> overrides;

    /// When set, receives the full report (every attempt with its timings,
    /// every error, the winner) before the completion handler is invoked.
    std::shared_ptr<RaceReport> report;

    /// Host-name form only. Empty: the system resolver (ip::tcp::resolver,
    /// getaddrinfo on Asio's resolver thread), one query per family. Set:
    /// query this DNS server directly over UDP, one AAAA and one A query
    /// (port 53 is not implied: give it).
    ///
    /// With `config.https` (Happy Eyeballs v3) the HTTPS query always goes
    /// over UDP: to this server (alone), or when unset to the `nameserver`s of
    /// /etc/resolv.conf (port 53), IPv6 ones first: each gets an equal share
    /// of `dns_timeout`, and one that gives no answer in it (or answers with
    /// an ICMP error) leaves the query to the next; any DNS answer ends it.
    /// With no server it fails at once and the race goes on with A/AAAA. Target names from the records are resolved like
    /// the host. The adapter connects TCP only: QUIC attempts (`config.quic`)
    /// fail with EPROTONOSUPPORT, and `config.success = Success::handshake`
    /// is refused (invalid_argument) by async_connect: async_connect_tls
    /// (<eyeballs/asio_ssl.hpp>) makes the handshake.
    std::optional<net::ip::udp::endpoint> dns_server;

    /// With `dns_server`: how long to wait for each family's answer before it
    /// fails with ETIMEDOUT (DnsError::timeout, "resolve A: timed out (no
    /// answer within 5000 ms)"). The query is resent 1 s after it was sent,
    /// then at doubling intervals: at 1 s and 3 s with the default 5 s — the
    /// schedule all three adapters share (poll: c-ares with a 1 s first
    /// timeout, 3 tries and a 5 s total; libevent: its own client, the same
    /// times). Why: c-ares' and glibc's shape (resend, back off) in the time
    /// glibc gives one server (5 s), so a lost datagram costs 1 s, not 5. A
    /// truncated answer is retried over TCP within what is left.
    std::chrono::milliseconds dns_timeout{5000};

    /// Answers kept from race to race (eyeballs/dns_cache.hpp), owned by the
    /// caller; null (default): none. Before each query the race looks its
    /// question (the name on the wire) up: a fresh answer is given to the
    /// race and no query is sent; with `config.https`, a stale answer is
    /// raced at once (RaceMachine::handle_stale, or for HTTPS records
    /// handle_stale_https; v3 §4.4) while the query goes out, and the new
    /// answer replaces it (§7); a failed query leaves the stale addresses (or
    /// services) in the race. What the adapter's own DNS
    /// client brings back (HTTPS always; AAAA and A with `dns_server`) is
    /// stored with its TTL, and NODATA or NXDOMAIN for an address question
    /// forgets its entry; other failures leave it (RFC 8767). The system
    /// resolver (ip::tcp::resolver, getaddrinfo: AAAA and A without
    /// `dns_server`) gives no TTL, so those questions are looked up but never
    /// stored. Not locked: the cache is used on the race's strand, so races
    /// on an io_context run by several threads that share one cache must
    /// serialize it themselves (one strand as their executor, as for a
    /// shared History).
    DnsCache* dns_cache = nullptr;

    /// Alternative services kept from race to race (eyeballs/alt_svc_cache.hpp;
    /// eyeballs/beast.hpp's store_alt_svc fills it from responses), owned by
    /// the caller; null (default): none. Host-name form only: a race with
    /// `config.https` and no `config.alt_svc` of its own races the
    /// alternatives of the origin https://HOST:PORT still fresh when it
    /// starts (eyeballs::alternatives_for_race: not for an IP literal, nor
    /// when an `overrides` entry matched; a `config.alt_svc` the caller gave
    /// wins whole). Only read, on the calling thread, by async_connect and
    /// async_connect_tls before they return; storing into it is the caller's.
    /// Not locked: a cache shared with other threads needs the caller's lock
    /// around the call.
    const AltSvcCache* alt_svc_cache = nullptr;

    /// With the system resolver: getaddrinfo flags for both queries
    /// (`numeric_service` is always added). The default, `address_configured`
    /// (AI_ADDRCONFIG), asks for AAAA only when the host has an IPv6 address
    /// other than loopback, and for A likewise.
    net::ip::resolver_base::flags resolve_flags = net::ip::resolver_base::address_configured;

    /// async_connect_tls only (<eyeballs/asio_ssl.hpp>): the name checked and
    /// sent as SNI (empty: the origin's host), the ALPN ids to offer, and —
    /// when async_connect_tls makes the ssl::context — the trust anchors and
    /// `insecure` (eyeballs/tls.hpp). `enabled` is not read: the call says it.
    TlsOptions tls;
    /// async_connect_tls only: called, like on_action and on the same strand,
    /// at each handshake's start and end (ALPN offered, name; version and ALPN
    /// negotiated, or OpenSSL's reason).
    TlsObserver on_tls;
};

namespace detail {

/// connect_options::alt_svc_cache, for a race to `host`:`port` that resolves
/// `target` (what the overrides made of it): when the cache has alternatives
/// for the race, the race's machine is made again with them
/// (race::remake_machine). Without a cache, nothing is done (no allocation).
template <typename Race>
void use_alt_svc_cache(Race& r, const connect_options& options, std::string_view host,
                       std::uint16_t port, const OverrideTarget& target) {
    if (options.alt_svc_cache == nullptr) return;
    std::vector<AltSvc> alts = alternatives_for_race(
        *options.alt_svc_cache, host, port, options.config, std::chrono::steady_clock::now(),
        &target);
    if (alts.empty()) return;
    r.remake_machine([&alts](Config& c) { c.alt_svc = std::move(alts); });
}

}  // namespace detail
