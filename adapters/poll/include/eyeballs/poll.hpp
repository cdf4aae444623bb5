// SPDX-License-Identifier: BSL-1.0
// eyeballs::poll — Happy Eyeballs (RFC 8305) as one blocking call, for plain
// C and C++ programs that today write the getaddrinfo-then-connect loop by hand.
//
//   eyeballs::poll::Options options;
//   options.config.attempt_timeout = std::chrono::seconds(5);
//   eyeballs::poll::Result r = eyeballs::poll::connect("example.com", 443, options);
//   if (r.fd < 0) { std::fprintf(stderr, "%s\n", r.report.message.c_str()); return 1; }
//   // r.fd is a connected, non-blocking, close-on-exec TCP socket; it is yours.
//
// The call drives a RaceMachine (eyeballs/race_machine.hpp) with non-blocking
// sockets, connect + ppoll + SO_ERROR, and one timer taken from
// next_timeout() with nanosecond resolution (docs/behaviour.md §7). When one wake-up brings
// both I/O results and a due timer, the I/O results are fed first.
//
// DNS goes through c-ares: AAAA and A are asked separately
// (ares_getaddrinfo once per family), c-ares' sockets sit in the same poll
// set, and each answer is fed to the machine when it arrives, so the
// Resolution Delay (RFC 8305 §3) happens for real. No data (ARES_ENODATA,
// ARES_ENOTFOUND) is a negative answer; any other failure is a resolve error
// that carries c-ares' text. The system resolver configuration
// (/etc/resolv.conf, /etc/hosts) is used unless `dns.server` is set.
//
// HTTPS records (Happy Eyeballs v3, `config.https`): the HTTPS query is a raw
// type-65 query through the same channel (ares_send; the answer read by
// eyeballs/dns_message.hpp); target and alias names are looked up like the
// host; Config::port is set to connect()'s port. Without `quic.enabled`
// QUIC attempts (`config.quic`) fail at once with EPROTONOSUPPORT.
//
// QUIC (Happy Eyeballs v3 §5.1, `quic.enabled`; needs the optional QUIC
// component, quic_available()): a QUIC attempt is one non-blocking UDP
// socket connect()ed to its remote and an ngtcp2 + GnuTLS client handshake
// (eyeballs/quic_client.hpp) whose Initial goes out at the attempt's start;
// it wins when the handshake completes with one of the offered ALPN ids. An
// ICMP port unreachable fails it at once (stage connect, ECONNREFUSED);
// silence leaves it to the attempt delay; a handshake failure is stage tls
// with the reason. With `config.https` the HTTPS records decide which
// endpoints are QUIC (h3 ids, `config.quic` is set for you); without it,
// every address is raced over QUIC first and then TCP, as curl's --http3:
// the adapter runs the machine's v3 plan with the origin's HTTPS query
// answered by itself as `1 . alpn=h3,<TCP ids>` (no HTTPS query is sent; in
// addresses mode the AAAA and A queries are answered from the list, which
// must then share one port, and the list is ordered as DNS answers are).
//
// TLS (Happy Eyeballs v3 §6.1, `tls.enabled`): each attempt whose TCP connect
// completes starts a non-blocking OpenSSL 3 client handshake on its socket in
// the same ppoll loop, and the race is won by the first completed handshake
// (the machine runs with Success::handshake). A handshake failure is an
// attempt error at stage `tls` whose detail is OpenSSL's reason ("certificate
// verify failed: self-signed certificate"); the race goes on. The winner's
// `SSL*` is handed back in Result::ssl; every other SSL object is freed and
// its socket closed. `config.success = Success::handshake` without
// `tls.enabled` is a misuse error (nobody would make the handshake).
//
// Timers: while a race runs, the calling thread's timer slack
// (PR_SET_TIMERSLACK, 50 µs by default) is set to 1 ns so that wake-ups are not
// deferred; the previous value is restored before the call returns.
//
// Threads: each call is independent and keeps its state on the stack; calls
// may run concurrently from several threads. The observer and the socket
// factory run on the calling thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/dns_cache.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/overrides.hpp"
#include "eyeballs/pref64_discovery.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/tls.hpp"

struct ssl_st;  // OpenSSL's SSL
namespace eyeballs::quic {
class Connection;  // eyeballs/quic_client.hpp
}

namespace eyeballs::poll {

/// Creates the socket for one attempt (aiohappyeyeballs `socket_factory`):
/// called with the attempt's remote, it returns a new TCP socket of
/// `remote.family()` — with whatever options, marks or binding the caller
/// wants — or -1 with errno set (the attempt then fails at stage `open` with
/// that errno; errno 0 is recorded as EINVAL).
///
/// The adapter owns the returned fd from then on: it sets O_NONBLOCK and
/// FD_CLOEXEC if the factory did not, binds it to the `local` candidates of
/// Config (if any), connects it, and closes it unless it wins. A factory must
/// not call back into the adapter.
using SocketFactory = std::function<int(const Endpoint& remote)>;

/// How DNS queries are made (DNS mode only).
struct DnsOptions {
    /// The server to ask, e.g. 127.0.0.1:5353 (port 53 when 0). Unset: the
    /// system configuration and /etc/hosts (ares_getaddrinfo). Set: only
    /// that server is asked, and its whole answer is read by
    /// eyeballs/dns_message.hpp, as the Asio and libevent adapters do with
    /// their `dns_server` (so a malformed answer fails the same way there).
    std::optional<Endpoint> server;
    /// c-ares' first per-query timeout (it doubles on each retry) and its
    /// number of tries per server. The defaults send at 0, 1 s and 3 s and,
    /// with `total_timeout`, give up at 5 s: the schedule all three adapters
    /// share (Asio's and libevent's `dns_timeout`), so a silent server reads
    /// the same everywhere ("resolve A: timed out (no answer within 5000 ms)").
    Duration query_timeout = std::chrono::milliseconds(1000);
    int tries = 3;
    /// After this long from the start of the race, a family that has not
    /// answered fails with ETIMEDOUT, so a silent server cannot hold a race
    /// forever. Must be > 0.
    Duration total_timeout = std::chrono::seconds(5);
    /// Answers kept from race to race (eyeballs/dns_cache.hpp), owned by the
    /// caller; null (default): none. Before each query the adapter looks
    /// its question (the name on the wire) up: a fresh answer is fed to the
    /// race at once and no query is sent; with `config.https`, a stale
    /// answer is raced at once (RaceMachine::handle_stale, or for HTTPS
    /// records handle_stale_https; v3 §4.4) while the query goes out, and the
    /// new answer replaces it (§7). Every
    /// positive answer that comes back is stored with its TTL; a NODATA
    /// answer forgets the question's entry. Not locked: a cache shared by
    /// races on several threads needs the caller's lock around each race.
    DnsCache* cache = nullptr;
};

/// TLS over TCP (see the top of this header and eyeballs/tls.hpp, shared by
/// every adapter): `enabled` turns it on. Verification is on by default.
using TlsOptions = eyeballs::TlsOptions;
/// QUIC attempts (see the top of this header). Certificates are verified as
/// `tls` says (server_name, ca_file, ca_dir, insecure), also when
/// `tls.enabled` is off.
struct QuicOptions {
    /// Make QUIC attempts. Without the QUIC component (quic_available()
    /// false) this is a misuse error.
    bool enabled = false;
    /// The ALPN ids a QUIC attempt offers when its HTTPS record gives none of
    /// its own (and always without `config.https`); empty: "h3".
    std::vector<std::string> alpn;
};

/// True when the adapter was built with the QUIC component (ngtcp2 + GnuTLS).
bool quic_available() noexcept;

/// One step of an attempt's handshake, for traces (Options::on_tls).
using TlsEvent = eyeballs::TlsEvent;
using TlsObserver = eyeballs::TlsObserver;

struct Options {
    /// Every race setting, local bind candidates included (docs/behaviour.md §1).
    Config config;
    /// Unset: the adapter creates each socket itself.
    SocketFactory socket_factory;
    /// When this fd becomes readable (or hangs up), the race is cancelled:
    /// everything in flight is closed and the report says `cancelled`. The fd
    /// is only polled, never read or closed. -1 = none.
    int cancel_fd = -1;
    DnsOptions dns;
    /// Called as `on_action(now, action, machine)` with every action, on the
    /// calling thread, just before the adapter performs it, with the time the
    /// adapter uses for that step (the Report action last; its details are
    /// `machine.report()`). It may read the machine and log or record what it
    /// likes; it must not throw. To cancel from it, make `cancel_fd` readable:
    /// the race is cancelled at the adapter's next wait.
    ActionObserver on_action;
    /// TLS over TCP (off by default).
    TlsOptions tls;
    /// Called, like on_action, at each handshake's start and end (TLS and QUIC).
    TlsObserver on_tls;
    /// QUIC attempts (off by default).
    QuicOptions quic;
    /// Resolve overrides for connect(host, port), as curl's CURLOPT_RESOLVE
    /// and CURLOPT_CONNECT_TO (eyeballs/overrides.hpp): applied before DNS,
    /// redirects first, then a pin's addresses are raced with no DNS.
    std::vector<ResolveOverride> overrides;
    /// Alternative services kept from race to race (eyeballs/alt_svc_cache.hpp),
    /// owned by the caller; null (default): none. Here, not in DnsOptions
    /// beside `dns.cache`: Alt-Svc comes from HTTP, not DNS. A race to a host
    /// name with `config.https` and no `config.alt_svc` of its own races the
    /// alternatives of the origin https://HOST:PORT still fresh when it
    /// starts (eyeballs::alternatives_for_race, the rule every adapter
    /// shares: not for an IP literal, nor when an `overrides` entry matched;
    /// a `config.alt_svc` the caller gave wins whole). Only read, when the
    /// race starts; storing the origin's Alt-Svc fields into it is the
    /// caller's. Not locked: a cache shared by races on several threads needs
    /// the caller's lock around each race (as `dns.cache`).
    const AltSvcCache* alt_svc_cache = nullptr;
};

struct Result {
    /// The connected socket (non-blocking, close-on-exec), owned by the caller
    /// from now on; -1 unless report.outcome is connected.
    int fd = -1;
    /// With tls.enabled: the winner's TLS connection, handshake done, on
    /// `fd`; owned by the caller, who calls SSL_free(ssl) and then closes
    /// `fd` (SSL_free does not close it). Link OpenSSL (libssl) to use it.
    /// nullptr otherwise. The negotiated version and ALPN id are in
    /// report.tls_version and report.alpn_selected.
    ::ssl_st* ssl = nullptr;
    /// When a QUIC attempt won (report.protocol quic): its connection,
    /// handshake done, on the UDP socket `fd`. The caller holds the only
    /// reference; dropping it frees the ngtcp2 connection and the GnuTLS
    /// session (not the fd: close `fd` after). See eyeballs/quic_client.hpp
    /// (link eyeballs::quic_client) for going on with nghttp3.
    std::shared_ptr<quic::Connection> quic;
    /// The machine's report: winner, or the summary error and every
    /// attempt's error; timings of every attempt.
    RaceReport report;
    /// Misuse (an invalid Config, an empty address list or host, bad DNS
    /// options, a CA file that cannot be loaded): no race was run, fd is -1, and report.message repeats this
    /// message with report.code EINVAL.
    Status status;

    bool connected() const noexcept { return fd >= 0; }
};

/// SSL_free(ssl) (null: nothing), for a caller that does not link OpenSSL
/// itself and only wants to end a won TLS connection; close the fd after.
void free_tls(::ssl_st* ssl) noexcept;

/// Races `host`'s addresses for `port`. A literal IPv4 or IPv6 address (no
/// brackets) is raced alone, without DNS; a name is resolved (DNS mode).
Result connect(std::string_view host, std::uint16_t port, const Options& options = {});

/// Races these remotes (ports already set) in addresses mode, in this order,
/// interleaved by family as Config says.
Result connect(const std::vector<Endpoint>& addresses, const Options& options = {});

/// What discover_pref64 found (eyeballs/pref64_discovery.hpp): the prefixes,
/// or why there are none (no AAAA for ipv4only.arpa: no NAT64 on this network;
/// a DNS failure, with c-ares' text). The same type as the other adapters'.
using Pref64Discovery = eyeballs::Pref64Discovery;

/// Discovers the network's NAT64 prefix (RFC 7050): asks DNS (as `dns` says,
/// bounded by its timeouts) for the AAAA records of ipv4only.arpa and reads
/// the prefix around the well-known IPv4 addresses 192.0.0.170/171 they embed.
/// Blocks. Use the result as Config::pref64 with Config::ipv4_unavailable on
/// an IPv6-only network.
Pref64Discovery discover_pref64(const DnsOptions& dns = {});

}  // namespace eyeballs::poll
