// SPDX-License-Identifier: BSL-1.0
// eyeballs::libuv — a RaceMachine driven by a uv_loop_t.
//
// Theory of operation
// ===================
//
// One Race object per connect() call, owned by shared_ptrs: the Handle's, one
// the race holds on itself (keep_) from the moment it puts its first handle on
// the loop until the close callback of its last one has run, and one every
// entry point (libuv callbacks, cancel(), abandon()) takes for its own
// duration, so user code run from inside may drop the handle safely.
//
// The run loop of race_machine.hpp, in libuv terms:
//
//   libuv callback ──► submit(input) ──► pump():
//        ┌─► drain poll_action(): perform each action, answer OpenSocket and
//        │   Bind at once; a Connect uv_tcp_connect refuses at once becomes a
//        │   *pending input*
//        └── feed the next pending input (connect result, DNS answer, timer)
//       then re-arm the one uv_timer_t at next_timeout(), or deliver.
//
// Inputs never reach the machine while it is being drained: anything that
// happens during pump() is queued and fed right after, at its own time.
//
// Timers (docs/behaviour.md §7): uv_timer_start counts whole milliseconds of the loop's
// clock uv_now(), which is libuv's monotonic clock (possibly the coarse one)
// floored to the millisecond and cached at the start of each loop turn. The
// adapter refreshes that clock (uv_update_time) and arms the timer for the
// time left rounded up to the millisecond, so the poll sleeps at least until
// the deadline; only durations are compared, so steady_clock's epoch does not
// matter. Should the timer still fire before the deadline by steady_clock
// (the loop clock ticked over in between), it is re-armed: a timeout is never
// fed early, at worst a millisecond or two late. libuv runs due timers *before* it
// polls for I/O, so the timer callback only marks the timeout due and starts
// a uv_check_t (which runs after the poll) and a uv_idle_t (which makes that
// poll not block): the I/O results of the same wake-up are fed first, then
// handle_timeout, as docs/behaviour.md §7 orders.
//
// Attempts: a std::malloc'ed uv_tcp_t each (uv_tcp_init_ex, or uv_tcp_init +
// uv_tcp_open on a socket_factory socket), bound with bind(2) on its fd,
// connected with uv_tcp_connect (libuv reads SO_ERROR). Close = uv_close,
// which closes the fd at once; a pending connect is then called back with
// UV_ECANCELED (ignored) before the close callback frees the uv_tcp_t. The
// winner's uv_tcp_t is handed over as it is; the fd form hands over a
// duplicate and closes the uv_tcp_t.
//
// DNS: one uv_getaddrinfo() per family, on libuv's thread pool. Its callback
// always runs exactly once (with UV_EAI_CANCELED after a successful
// uv_cancel), so each query is a heap token that its callback frees; the race
// only unhooks itself from the token when it stops caring. With dns_server,
// and for HTTPS (type 65) queries, the adapter asks itself: a connected UDP
// socket per query watched by a uv_poll_t, a uv_timer_t for the resends and
// the deadline (AAAA/A: 0, 1 s, 3 s, failed at dns_timeout), messages written
// and read by eyeballs/dns_message.hpp (EDNS0, 1232 octets) and classified by
// dns_outcome(); an answer with TC is asked again over TCP (a second
// uv_poll_t). The libevent adapter's own client follows the same steps on
// libevent's events; what they share is the loop-free part (dns_message).
// A shared client would need an I/O interface over both loops: not done.
//
// PREF64 discovery (discover_pref64, RFC 7050) is a Race whose machine never
// starts: one AAAA query for ipv4only.arpa through the same two paths, its
// answer read into a Pref64Discovery (pref64_answer) where a race would feed
// the machine; handles, cancel and abandon as for a race.
//
// Ending: at the Report action every socket of the race is closed, DNS is
// cancelled and the timer closed; the result is handed to the callback at the
// end of that pump — or, when the race ended inside connect(), from the idle
// handle on the loop's next turn — and the idle handle is closed after it.

#include "eyeballs/dns_servers.hpp"
#include "eyeballs/libuv.hpp"
#include "eyeballs/zone.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <array>
#include <memory>
#include <optional>
#include <vector>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "eyeballs/detail/fifo.hpp"
#include "eyeballs/detail/socket_ops.hpp"
#include "eyeballs/dns_message.hpp"
#include "eyeballs/posix.hpp"
#ifdef EYEBALLS_LIBUV_TLS
#include "eyeballs/detail/tls_client.hpp"
#endif

namespace eyeballs::libuv {

namespace {

void free_on_close(uv_handle_t* handle) { std::free(handle); }

}  // namespace

void close_tcp(uv_tcp_t* tcp) noexcept {
    if (tcp == nullptr) return;
    uv_close(reinterpret_cast<uv_handle_t*>(tcp), &free_on_close);
}

namespace detail {

using Clock = std::chrono::steady_clock;

namespace {

/// The port a DNS server listens on when none is given.
constexpr std::uint16_t dns_port = 53;
/// An HTTPS query waits this long for its answer, is sent again once, then
/// fails with ETIMEDOUT (as the libevent adapter's HTTPS queries). AAAA and A
/// queries follow the schedule every adapter shares: sent at 0, again at 1 s
/// and 3 s (the interval doubles), failed at Options::dns_timeout (5 s).
constexpr std::chrono::milliseconds https_query_timeout{2000};
constexpr int https_query_tries = 2;
constexpr std::chrono::milliseconds first_resend{1000};

// With HTTPS records on, the origin's port is the one connect() was given:
// records without port= and target names use it (Config::port).
Config race_config(Config config, std::uint16_t port, bool tls) {
    if (config.https && port != 0) config.port = port;
    if (tls) config.success = Success::handshake;  // v3 §6.1
    return config;
}

/// A literal address, with or without brackets ("[::1]"), or nullopt.
std::optional<Endpoint> parse_literal(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    // A zone may be an interface name (fe80::1%eth0): looked up here.
    return Endpoint::parse_address(host, port, nullptr, interface_index);
}

/// The nameservers to ask, port 53, in order: /etc/resolv.conf's IPv6 ones,
/// then its IPv4 ones (v3 §4.5), each family in the file's order
/// (resolv.conf(5)). Zoned IPv6 addresses and lines that do not parse are
/// skipped.
std::vector<Endpoint> resolv_conf_nameservers() {
    // v3 §4.5: IPv6 nameservers first (eyeballs/dns_servers.hpp).
    return preferred_dns_servers("/etc/resolv.conf");
}

std::string uv_text(int status) { return uv_strerror(status); }

}  // namespace

class Race;

/// One uv_getaddrinfo() query; freed by its callback.
struct GaiQuery {
    uv_getaddrinfo_t req{};
    Race* race = nullptr;  // null once the race no longer wants the answer
    Family family = Family::v6;
    std::string name;  // the Resolve's name: "" = the origin
};

/// One query (A, AAAA or HTTPS) to a server: UDP, then TCP after an answer
/// with TC (RFC 7766 §5). Owned by its race until its handles' close
/// callbacks have run.
struct UdpQuery {
    Race* race = nullptr;
    bool https = false;
    Family family = Family::v6;
    std::uint16_t qtype = 0;
    std::string name;   // the Resolve's name: "" = the origin
    std::string qname;  // what is asked
    Endpoint server;
    // Every server to ask, in order; `server` is servers[server_index]. A
    // server that gives no answer in its share of the timeout (or an ICMP
    // error) leaves the query to the next one; an answer ends it.
    std::vector<Endpoint> servers;
    std::size_t server_index = 0;
    std::chrono::milliseconds total{5000};  // the whole query's timeout, over every server
    std::vector<std::uint8_t> message;
    std::uint16_t id = 0;
    uv_os_sock_t fd = -1;
    uv_poll_t poll{};   // the UDP socket
    uv_timer_t timer{};  // resends, then the deadline
    bool handles = false;    // poll and timer initialised
    bool poll_open = false;  // poll not yet given to uv_close
    bool closed = false;
    Clock::time_point deadline{};
    std::chrono::milliseconds interval{first_resend};  // to the next resend, doubling
    std::chrono::milliseconds timeout{5000};
    bool final_leg = false;  // the timer is armed for the deadline, not a resend
    // TCP, after an answer with TC.
    bool tcp = false;
    bool connected = false;
    uv_poll_t tcp_poll{};
    bool tcp_handle = false;          // tcp_poll initialised
    std::vector<std::uint8_t> out;    // 2-octet length + query, not yet sent
    std::vector<std::uint8_t> in;     // what arrived
};

/// One attempt's uv_tcp_t.
struct Attempt {
    Race* race = nullptr;
    AttemptId id;
    uv_tcp_t* tcp = nullptr;  // null before OpenSocket, after closing, or handed over
    uv_connect_t req{};
    const Service* service = nullptr;  // from the Connect action (HTTPS records)
    Endpoint remote;
#ifdef EYEBALLS_LIBUV_TLS
    eyeballs::detail::TlsSession tls;  // active while the handshake runs (and the winner's)
#endif
    uv_poll_t* poll = nullptr;  // watches the fd during the handshake
};

/// Something that happened, waiting to be fed to the machine.
struct Input {
    enum class Kind : std::uint8_t {
        resolved,
        resolve_failed,
        https,
        connected,
        connect_failed,
        tls_ready,
        timeout
    };
    Kind kind = Kind::timeout;
    TimePoint at{};
    Family family = Family::v6;
    bool https = false;               // resolve_failed: of an HTTPS query
    std::string name;                 // the Resolve's name
    std::vector<SvcbRecord> records;  // https
    AttemptId id;
    int code = 0;
    std::string detail;
    DnsError dns = DnsError::none;  // resolve_failed: the DNS class (Error::dns)
    std::vector<Endpoint> addresses;
    // Options::dns_cache. `wire`: from the adapter's own DNS client, so
    // `qname`, `ttl` and `dns` are exact (uv_getaddrinfo gives no TTL): only
    // such answers change the cache.
    std::string qname;         // the name asked (query_name()), with a cache only
    std::uint32_t ttl = 0;     // resolved, https: the answer's TTL in seconds
    bool wire = false;
    bool stale = false;        // resolved, from the cache, stale: handle_stale
};

/// The inputs waiting for the machine, oldest first (eyeballs/detail/fifo.hpp).
using InputQueue = eyeballs::detail::Fifo<Input>;

/// The attempts by number: the first two inside the race (a race of one or
/// two attempts allocates nothing for them), later ones one allocation each.
/// An attempt's address never changes (its uv_connect_t points back to it).
class AttemptSlots {
public:
    /// Attempt `n` (1, 2, ...), or nullptr when it was never made.
    Attempt* find(std::uint32_t n) noexcept {
        if (n == 0) return nullptr;
        if (n <= first_.size()) return first_[n - 1] ? &*first_[n - 1] : nullptr;
        const std::size_t i = n - 1 - first_.size();
        return i < rest_.size() ? rest_[i].get() : nullptr;
    }
    /// Attempt `n`, made (default-constructed) when new; `made` says so.
    Attempt& make(std::uint32_t n, bool& made) {
        made = false;
        if (n <= first_.size()) {
            auto& slot = first_[n - 1];
            if (!slot) {
                slot.emplace();
                made = true;
            }
            return *slot;
        }
        const std::size_t i = n - 1 - first_.size();
        if (rest_.size() <= i) rest_.resize(i + 1);
        if (!rest_[i]) {
            rest_[i] = std::make_unique<Attempt>();
            made = true;
        }
        return *rest_[i];
    }
    template <typename F>
    void for_each(F&& f) {
        for (auto& a : first_) {
            if (a) f(*a);
        }
        for (auto& a : rest_) {
            if (a) f(*a);
        }
    }

private:
    std::array<std::optional<Attempt>, 2> first_;
    std::vector<std::unique_ptr<Attempt>> rest_;
};

class Race : public std::enable_shared_from_this<Race> {
public:
    Race(uv_loop_t* loop, const Options& options, std::uint16_t port, Callback callback,
         FdCallback fd_callback, TlsCallback tls_callback)
        : loop_(loop),
          machine_(race_config(options.config, port, static_cast<bool>(tls_callback))),
          factory_(options.socket_factory),
          observer_(options.on_action),
          callback_(std::move(callback)),
          fd_callback_(std::move(fd_callback)),
          tls_callback_(std::move(tls_callback)),
          tls_options_(options.tls),
          on_tls_(options.on_tls) {}

    Race(const Race&) = delete;
    Race& operator=(const Race&) = delete;
    // Every handle is closed by now (keep_ held the race until then); a race
    // that failed to start never opened one.
    ~Race() = default;

    Status start(std::string_view host, std::uint16_t port, const std::vector<Endpoint>* endpoints,
                 const Options& options);
    Status start_pref64(const Options& options, Pref64Callback callback);
    bool running() const noexcept { return !delivered_; }
    void cancel();
    void abandon();

    static void on_timer(uv_timer_t* timer);
    static void on_idle(uv_idle_t* idle);
    static void on_check(uv_check_t* check);
    static void on_connect(uv_connect_t* req, int status);
    static void on_gai(uv_getaddrinfo_t* req, int status, addrinfo* res);
    static void on_udp_readable(uv_poll_t* poll, int status, int events);
    static void on_udp_timer(uv_timer_t* timer);
    static void on_tcp_dns(uv_poll_t* poll, int status, int events);
    static void on_race_handle_closed(uv_handle_t* handle);
    static void on_tcp_closed(uv_handle_t* handle);
    static void on_tls_poll(uv_poll_t* poll, int status, int events);
    static void on_poll_closed(uv_handle_t* handle);

private:
    void submit(Input input);
    void pump();
    void feed(Input& input);
    void perform(const Action& action);
    void observe(const Action& action);
    void rearm();
    void arm(TimePoint deadline);
    void finish();
    void deliver();
    void pref64_answer(const Input& in);
    void gai_answer(Family family, std::string name, int status, const addrinfo* res);
    void start_gai(const Resolve& r);
    void start_udp(const Resolve& r);
    bool answer_from_cache(const Resolve& r);
    void remember(const Input& in);
    std::optional<Input> launch_udp(std::unique_ptr<UdpQuery> q);
    void next_server(UdpQuery* q, DnsError dns, int code, std::string detail);
    void udp_done(UdpQuery* q, Input in);
    void query_failed(UdpQuery* q, DnsError dns, int code, std::string detail);
    void query_answer(UdpQuery* q, const std::uint8_t* data, std::size_t size);
    void start_tcp(UdpQuery* q);
    void tcp_event(UdpQuery* q, int status, int events);
    void arm_query(UdpQuery& q, Clock::duration wait);
    void close_udp(UdpQuery& q) noexcept;
    void close_attempt(Attempt& a) noexcept;
    void close_poll(Attempt& a) noexcept;
    void start_tls(AttemptId id);
#ifdef EYEBALLS_LIBUV_TLS
    void tls_result(Attempt& a, eyeballs::detail::TlsSession::Step st);
#endif
    Attempt& attempt(AttemptId id);
    void release_all() noexcept;
    void close_race_handle(uv_handle_t* h) noexcept;
    void handle_closed() noexcept;
    TimePoint clock_now() {
        now_ = std::max(now_, Clock::now());
        return now_;
    }

    uv_loop_t* loop_;
    RaceMachine machine_;
    SocketFactory factory_;
    ActionObserver observer_;
    Callback callback_;
    FdCallback fd_callback_;
    TlsCallback tls_callback_;
    [[maybe_unused]] TlsOptions tls_options_;  // unused without EYEBALLS_LIBUV_TLS
    [[maybe_unused]] TlsObserver on_tls_;
    [[maybe_unused]] std::string tls_host_;  // the origin's host (SNI), before overrides
#ifdef EYEBALLS_LIBUV_TLS
    std::shared_ptr<const eyeballs::detail::TlsContext> tls_ctx_;  // shared_context: per trust config
#endif
    ::ssl_st* winner_ssl_ = nullptr;

    std::string host_;
    std::uint16_t port_ = 0;
    std::optional<Endpoint> dns_server_;  // Options::dns_server, port set
    std::chrono::milliseconds dns_timeout_{5000};
    DnsCache* cache_ = nullptr;           // Options::dns_cache
    std::vector<GaiQuery*> gai_;          // outstanding uv_getaddrinfo() queries
    std::vector<std::unique_ptr<UdpQuery>> udp_;

    uv_timer_t timer_{};
    uv_idle_t idle_{};
    uv_check_t check_{};
    std::optional<TimePoint> armed_;  // the deadline the timer is armed for
    bool timeout_due_ = false;        // the timer fired: feed handle_timeout at the check
    bool wake_ = false;               // deliver from the idle handle
    bool timer_closed_ = false;
    bool idle_closed_ = false;
    unsigned open_handles_ = 0;  // handles of the race not yet called back by uv_close
    std::shared_ptr<Race> keep_;

    AttemptSlots attempts_;
    InputQueue pending_;
    TimePoint now_{};

    RaceReport report_;
    uv_tcp_t* winner_ = nullptr;

    // PREF64 discovery (discover_pref64): the same object with no machine
    // at work, one AAAA query for ipv4only.arpa through the same DNS paths,
    // its answer turned into a Pref64Discovery instead of a machine input.
    bool pref64_ = false;
    Pref64Callback pref64_callback_;
    Pref64Discovery pref64_result_;

    bool busy_ = false;      // inside pump()
    bool starting_ = false;  // inside connect()
    bool cancel_requested_ = false;
    bool abandoned_ = false;  // the handle is gone: no callback, no observer
    bool result_ready_ = false;
    bool delivered_ = false;
};

// ---- starting ---------------------------------------------------------------

Status Race::start(std::string_view host, std::uint16_t port,
                   const std::vector<Endpoint>* endpoints, const Options& options) {
    if (tls_callback_) {
#ifdef EYEBALLS_LIBUV_TLS
        std::string error;
        tls_ctx_ = eyeballs::detail::shared_context(tls_options_, error);
        if (!tls_ctx_) return Status::failure(error);
        // checked_name() takes the brackets off an IPv6 literal ("[::1]").
        if (endpoints == nullptr) tls_host_ = std::string(host);
#else
        return Status::failure(
            "connect_tls needs eyeballs::tls_client (OpenSSL 3), which this build of the libuv "
            "adapter lacks");
#endif
    } else if (options.config.success != Success::connect) {
        return Status::failure(
            "success=handshake needs a TLS handshake: use connect_tls() (connect() and "
            "connect_fd() race to the TCP connect)");
    }
    // Resolve overrides (curl's --connect-to, then --resolve) from the shared
    // helper, before any DNS.
    OverrideTarget target;
    const std::string_view origin_host = host;  // Options::alt_svc_cache's origin
    const std::uint16_t origin_port = port;
    if (endpoints == nullptr) {
        target = apply_overrides(options.overrides, host, port);
        host = target.host;
        port = target.port;
        if (!target.addresses.empty()) endpoints = &target.addresses;
    }
    const TimePoint now = clock_now();
    Status status;
    if (endpoints != nullptr) {
        status = machine_.start(now, *endpoints);
    } else if (auto literal = parse_literal(host, port)) {
        status = machine_.start(now, &*literal, 1);
    } else {
        if (host.empty()) return Status::failure("the host name is empty");
        if (auto bad = validate(options.config)) return Status::failure(*bad);
        host_ = std::string(host);
        port_ = port;
        dns_timeout_ = std::max(options.dns_timeout, std::chrono::milliseconds(1));
        cache_ = options.dns_cache;
        if (options.dns_server) {
            Endpoint server = *options.dns_server;
            if (server.port() == 0) server = server.with_port(dns_port);
            dns_server_ = server;
        }
        if (options.alt_svc_cache != nullptr) {
            // Options::alt_svc_cache: the origin's fresh Alt-Svc alternatives
            // join the race (RFC 7838; the rule is alternatives_for_race's).
            std::vector<AltSvc> alts = alternatives_for_race(
                *options.alt_svc_cache, origin_host, origin_port, options.config, now, &target);
            if (!alts.empty()) {
                Config config = machine_.config();
                config.alt_svc = std::move(alts);
                machine_ = RaceMachine(std::move(config));
            }
        }
        status = machine_.start_resolving(now);
    }
    if (!status.ok()) return status;

    // From here on the race has handles on the loop and keeps itself alive
    // until their close callbacks have run.
    uv_timer_init(loop_, &timer_);
    uv_idle_init(loop_, &idle_);
    uv_check_init(loop_, &check_);
    timer_.data = this;
    idle_.data = this;
    check_.data = this;
    open_handles_ = 3;
    keep_ = shared_from_this();

    starting_ = true;
    pump();
    starting_ = false;
    if (result_ready_ && !delivered_) {
        // Ended inside connect() (every attempt failed at once): the callback
        // never runs before connect() has returned the handle.
        wake_ = true;
        uv_idle_start(&idle_, &Race::on_idle);
    }
    return status;
}

// RFC 7050 §2: the AAAA question for ipv4only.arpa, asked as a race's AAAA
// question would be (perform(Resolve)), on the race's own handles and with
// its lifetime rules; the machine is never started.
Status Race::start_pref64(const Options& options, Pref64Callback callback) {
    pref64_ = true;
    pref64_callback_ = std::move(callback);
    host_ = std::string(ipv4only_arpa);
    dns_timeout_ = std::max(options.dns_timeout, std::chrono::milliseconds(1));
    if (options.dns_server) {
        Endpoint server = *options.dns_server;
        if (server.port() == 0) server = server.with_port(dns_port);
        dns_server_ = server;
    }
    uv_timer_init(loop_, &timer_);
    uv_idle_init(loop_, &idle_);
    uv_check_init(loop_, &check_);
    timer_.data = this;
    idle_.data = this;
    check_.data = this;
    open_handles_ = 3;
    keep_ = shared_from_this();
    const Resolve aaaa(Family::v6, false, "");
    if (dns_server_) {
        start_udp(aaaa);
    } else {
        start_gai(aaaa);
    }
    if (!pending_.empty()) {
        // Failed before asking (no server, no socket): the callback still
        // waits for the loop.
        Input failed = pending_.take_front();
        pending_.clear();
        pref64_ = false;  // answered below, from the idle handle
        pref64_answer(failed);
    }
    return Status{};
}

void Race::pref64_answer(const Input& in) {
    if (result_ready_) return;
    if (in.kind == Input::Kind::resolved) {
        pref64_result_ = pref64_discovery_from_answer(in.addresses);
    } else {
        pref64_result_ = pref64_discovery_from_dns_error(in.dns, in.code, in.detail);
    }
    release_all();
    result_ready_ = true;
    if (!pref64_) {  // inside discover_pref64(): from the loop's next turn
        pref64_ = true;
        wake_ = true;
        uv_idle_start(&idle_, &Race::on_idle);
        return;
    }
    auto guard = shared_from_this();
    deliver();
}

// ---- the run loop -----------------------------------------------------------

void Race::submit(Input input) {
    if (pref64_) return pref64_answer(input);
    pending_.push_back(std::move(input));
    if (busy_) return;  // pump() is running further up the stack: it feeds this next
    auto guard = shared_from_this();
    pump();
}

void Race::pump() {
    busy_ = true;
    for (;;) {
        while (auto action = machine_.poll_action()) {
            perform(*action);
            if (cancel_requested_) {
                cancel_requested_ = false;
                machine_.cancel(now_);
            }
        }
        if (cancel_requested_) {  // asked while the last action was performed
            cancel_requested_ = false;
            machine_.cancel(now_);
            continue;
        }
        if (pending_.empty() || machine_.finished()) break;
        Input input = pending_.take_front();
        feed(input);
    }
    pending_.clear();
    busy_ = false;
    if (!machine_.finished()) {
        rearm();
    } else if (result_ready_ && !starting_) {
        deliver();
    }
}

void Race::feed(Input& in) {
    now_ = std::max(now_, in.at);
    if (in.stale) {  // raced while the query is out; its answer replaces it (v3 §4.4)
        if (in.kind == Input::Kind::https) {
            machine_.handle_stale_https(now_, Resolve(Family::v6, true, in.name), in.records);
        } else {
            machine_.handle_stale(now_, Resolve(in.family, false, in.name), in.addresses);
        }
        return;
    }
    remember(in);
    switch (in.kind) {
        case Input::Kind::resolved:
            machine_.handle_resolved(now_, Resolve(in.family, false, in.name), in.addresses);
            break;
        case Input::Kind::resolve_failed:
            machine_.handle_resolve_failed(now_, Resolve(in.family, in.https, in.name), in.dns,
                                           in.code, in.detail);
            break;
        case Input::Kind::https:
            machine_.handle_https(now_, Resolve(Family::v6, true, in.name), in.records);
            break;
        case Input::Kind::connected:
            machine_.handle_connected(now_, in.id);
            // With Config::ech the handshake waits for CryptoReady (v3 §6.3).
            if (tls_callback_ && machine_.config().ech == EchMode::off) start_tls(in.id);
            break;
        case Input::Kind::tls_ready: {
#ifdef EYEBALLS_LIBUV_TLS
            Attempt& a = attempt(in.id);
            if (a.tcp != nullptr && a.tls.active() && !machine_.finished()) {
                tls_result(a, a.tls.step());
            }
#endif
            break;
        }
        case Input::Kind::connect_failed:
            machine_.handle_connect_failed(now_, in.id, in.code);
            break;
        case Input::Kind::timeout:
            machine_.handle_timeout(now_);
            break;
    }
}

void Race::rearm() {
    if (timer_closed_ || timeout_due_) return;  // the check phase feeds the due timeout, then re-arms
    const auto next = machine_.next_timeout();
    if (!next) {
        if (armed_) uv_timer_stop(&timer_);
        armed_.reset();
        return;
    }
    if (armed_ && *armed_ == *next) return;
    arm(*next);
}

void Race::arm(TimePoint deadline) {
    // Refresh the loop's cached clock, then count whole milliseconds from it,
    // rounded up: the poll that follows sleeps that long from about now, so
    // the timer fires at most about a millisecond after the deadline. (It
    // can still come a little early when the loop clock ticks over in
    // between; on_timer re-arms then.)
    uv_update_time(loop_);
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    uv_timer_start(&timer_, &Race::on_timer,
                   static_cast<std::uint64_t>(std::max<std::int64_t>(left.count(), 0)), 0);
    armed_ = deadline;
}

Attempt& Race::attempt(AttemptId id) {
    bool made = false;
    Attempt& a = attempts_.make(id.number(), made);
    if (made) {
        a.race = this;
        a.id = id;
        a.req.data = &a;
    }
    return a;
}

void Race::observe(const Action& action) {
    if (observer_ && !abandoned_) observer_(now_, action, machine_);
}

// ---- actions ----------------------------------------------------------------

void Race::perform(const Action& action) {
    if (const auto* r = std::get_if<Resolve>(&action)) {
        if (answer_from_cache(*r)) {
            observe(action);
            return;
        }
        if (r->https || dns_server_) {
            start_udp(*r);
        } else {
            start_gai(*r);
        }
        observe(action);
    } else if (const auto* o = std::get_if<OpenSocket>(&action)) {
        if (o->protocol != Protocol::tcp) {
            // TCP only: a QUIC attempt (Config::quic) is the caller's to make.
            observe(action);
            machine_.handle_opened(now_, o->attempt, EPROTONOSUPPORT);
            return;
        }
        Attempt& a = attempt(o->attempt);
        int err = 0;
        auto* tcp = static_cast<uv_tcp_t*>(std::malloc(sizeof(uv_tcp_t)));
        if (tcp == nullptr) {
            err = ENOMEM;
        } else if (factory_) {
            errno = 0;
            const uv_os_sock_t fd = factory_(o->remote);
            if (fd < 0) {
                err = errno != 0 ? errno : EINVAL;
                std::free(tcp);
            } else if ((err = eyeballs::detail::make_nonblocking_cloexec(fd)) != 0) {
                eyeballs::detail::close_socket(fd);
                std::free(tcp);
            } else {
                uv_tcp_init(loop_, tcp);
                const int rc = uv_tcp_open(tcp, fd);
                if (rc == 0) {
                    a.tcp = tcp;
                } else {
                    // Not adopted: the fd is still ours; the empty handle is
                    // closed (and freed) like any other.
                    err = -rc;
                    eyeballs::detail::close_socket(fd);
                    close_tcp(tcp);
                }
            }
        } else {
            // On failure libuv has already taken the handle off the loop.
            const int rc =
                uv_tcp_init_ex(loop_, tcp, static_cast<unsigned>(to_af(o->remote.family())));
            if (rc == 0) {
                a.tcp = tcp;
            } else {
                err = -rc;
                std::free(tcp);
            }
        }
        if (a.tcp != nullptr) {
            a.tcp->data = &a;
            ++open_handles_;
        }
        observe(action);
        machine_.handle_opened(now_, o->attempt, err);
    } else if (const auto* b = std::get_if<Bind>(&action)) {
        Attempt& a = attempt(b->attempt);
        uv_os_fd_t fd = -1;
        int err = EBADF;
        if (a.tcp != nullptr && uv_fileno(reinterpret_cast<uv_handle_t*>(a.tcp), &fd) == 0) {
            err = eyeballs::detail::bind_socket(fd, b->local);
        }
        observe(action);
        machine_.handle_bound(now_, b->attempt, err);
    } else if (const auto* c = std::get_if<Connect>(&action)) {
        Attempt& a = attempt(c->attempt);
        int err = EBADF;
        if (a.tcp != nullptr) {
            sockaddr_storage ss;
            to_sockaddr(c->remote, ss);
            a.service = c->service;
            a.remote = c->remote;
            const int rc = uv_tcp_connect(&a.req, a.tcp, reinterpret_cast<const sockaddr*>(&ss),
                                          &Race::on_connect);
            err = rc == 0 ? -1 : -rc;  // -1: the answer comes from on_connect
        }
        if (err >= 0) {
            Input in;
            in.kind = Input::Kind::connect_failed;
            in.at = now_;
            in.id = c->attempt;
            in.code = err;
            pending_.push_back(std::move(in));
        }
        observe(action);
    } else if (const auto* ready = std::get_if<CryptoReady>(&action)) {
        observe(action);
        if (tls_callback_) start_tls(ready->attempt);
    } else if (const auto* cl = std::get_if<Close>(&action)) {
        close_attempt(attempt(cl->attempt));
        observe(action);
    } else if (std::holds_alternative<Report>(action)) {
        observe(action);
        finish();
    }
}

// The handshake's poll handle goes first (uv_close stops it at once, before
// the fd is closed); its close callback frees it.
void Race::close_poll(Attempt& a) noexcept {
    if (a.poll == nullptr) return;
    uv_close(reinterpret_cast<uv_handle_t*>(a.poll), &Race::on_poll_closed);
    a.poll = nullptr;
}

void Race::close_attempt(Attempt& a) noexcept {
    close_poll(a);
#ifdef EYEBALLS_LIBUV_TLS
    a.tls = eyeballs::detail::TlsSession();  // SSL_free (the fd stays open)
#endif
    if (a.tcp == nullptr) return;
    uv_close(reinterpret_cast<uv_handle_t*>(a.tcp), &Race::on_tcp_closed);  // closes the fd now
    a.tcp = nullptr;
}

void Race::finish() {
    report_ = machine_.report();
    if (report_.outcome == Outcome::connected && report_.winner) {
        Attempt& a = attempt(report_.winner);
        winner_ = a.tcp;
        a.tcp = nullptr;
        close_poll(a);
#ifdef EYEBALLS_LIBUV_TLS
        if (a.tls.active()) {
            report_.tls_version = a.tls.version();
            report_.alpn_selected = a.tls.alpn_selected();
            winner_ssl_ = a.tls.release();
        }
#endif
        if (winner_ != nullptr) {
            winner_->data = nullptr;
            --open_handles_;  // no longer the race's: handed over (idle_ is still open)
        }
    }
    release_all();
    result_ready_ = true;
}

void Race::deliver() {
    if (delivered_) return;
    delivered_ = true;
    wake_ = false;
    uv_tcp_t* tcp = winner_;
    winner_ = nullptr;
    ::ssl_st* ssl = winner_ssl_;
    winner_ssl_ = nullptr;
    if (!idle_closed_) {
        idle_closed_ = true;
        close_race_handle(reinterpret_cast<uv_handle_t*>(&idle_));  // the race's last handle
    }
    if (abandoned_) {
        free_tls(ssl);
        close_tcp(tcp);
        return;
    }
    if (pref64_) {
        auto callback = std::move(pref64_callback_);
        callback(pref64_result_);
        return;
    }
    if (tls_callback_) {
        auto callback = std::move(tls_callback_);
        callback(tcp, ssl, report_);
    } else if (fd_callback_) {
        uv_os_sock_t fd = -1;
        if (tcp != nullptr) {
            uv_os_fd_t own = -1;
            int err = uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &own);
            if (err == 0) {
                fd = ::fcntl(own, F_DUPFD_CLOEXEC, 0);
                if (fd < 0) err = errno;
            } else {
                err = -err;
            }
            close_tcp(tcp);
            if (fd < 0) {
                report_.outcome = Outcome::failed;
                report_.code = err;
                report_.message = std::string("cannot duplicate the winner's fd: ") + std::strerror(err);
            }
        }
        auto callback = std::move(fd_callback_);
        callback(fd, report_);
    } else {
        auto callback = std::move(callback_);
        callback(tcp, report_);
    }
}

// Closes every handle of the race but the idle one (closed by deliver()),
// cancels its DNS queries and closes any attempt still open (the machine has
// closed them all by the Report; this also covers an abandoned race). The
// winner is no longer an attempt's: it waits in winner_.
void Race::release_all() noexcept {
    if (!timer_closed_) {
        timer_closed_ = true;
        close_race_handle(reinterpret_cast<uv_handle_t*>(&timer_));
        close_race_handle(reinterpret_cast<uv_handle_t*>(&check_));
    }
    armed_.reset();
    timeout_due_ = false;
    std::vector<GaiQuery*> queries = std::move(gai_);
    gai_.clear();
    for (GaiQuery* q : queries) {
        q->race = nullptr;  // its callback frees it, now (UV_EAI_CANCELED) or when the pool is done
        uv_cancel(reinterpret_cast<uv_req_t*>(&q->req));
    }
    for (auto& q : udp_) close_udp(*q);
    attempts_.for_each([this](Attempt& a) { close_attempt(a); });
}

void Race::close_race_handle(uv_handle_t* h) noexcept {
    uv_close(h, &Race::on_race_handle_closed);
}

void Race::handle_closed() noexcept {
    if (--open_handles_ == 0 && idle_closed_ && timer_closed_) {
        auto last = std::move(keep_);  // may destroy the race when this returns
    }
}

void Race::on_race_handle_closed(uv_handle_t* handle) {
    static_cast<Race*>(handle->data)->handle_closed();
}

void Race::on_tcp_closed(uv_handle_t* handle) {
    auto* a = static_cast<Attempt*>(handle->data);
    std::free(handle);
    a->race->handle_closed();
}

void Race::on_poll_closed(uv_handle_t* handle) {
    auto* a = static_cast<Attempt*>(handle->data);
    std::free(handle);
    a->race->handle_closed();
}

// ---- TLS --------------------------------------------------------------------

void Race::start_tls(AttemptId id) {
#ifdef EYEBALLS_LIBUV_TLS
    Attempt& a = attempt(id);
    uv_os_fd_t fd = -1;
    if (a.tcp == nullptr || machine_.finished() || !tls_ctx_ ||
        uv_fileno(reinterpret_cast<uv_handle_t*>(a.tcp), &fd) != 0) {
        return;
    }
    // The service's own ALPN set first (RFC 9460 §7.1.2).
    const std::vector<std::string> alpn =
        eyeballs::detail::offered_alpn(a.service, tls_options_.alpn);
    const std::string name = eyeballs::detail::checked_name(tls_options_.server_name, tls_host_, a.remote);
    if (on_tls_ && !abandoned_) {
        TlsEvent e;
        e.kind = TlsEvent::Kind::started;
        e.attempt = id;
        e.remote = a.remote;
        e.alpn_offered = alpn;
        e.server_name = name;
        on_tls_(now_, e);
    }
    auto st = a.tls.start(*tls_ctx_, fd, name, alpn);
    if (st != eyeballs::detail::TlsSession::Step::failed) st = a.tls.step();
    tls_result(a, st);
#else
    (void)id;
#endif
}

#ifdef EYEBALLS_LIBUV_TLS
// Feeds a handshake step's outcome to the machine, or waits on the fd (a
// uv_poll_t, so that the loop never blocks on the handshake).
void Race::tls_result(Attempt& a, eyeballs::detail::TlsSession::Step st) {
    using Step = eyeballs::detail::TlsSession::Step;
    TlsEvent e;
    e.attempt = a.id;
    e.remote = a.remote;
    if (st == Step::want_read || st == Step::want_write) {
        int rc = 0;
        if (a.poll == nullptr) {
            uv_os_fd_t fd = -1;
            uv_fileno(reinterpret_cast<uv_handle_t*>(a.tcp), &fd);
            auto* poll = static_cast<uv_poll_t*>(std::malloc(sizeof(uv_poll_t)));
            if (poll == nullptr) {
                rc = UV_ENOMEM;
            } else if ((rc = uv_poll_init_socket(loop_, poll, fd)) != 0) {
                std::free(poll);
            } else {
                poll->data = &a;
                a.poll = poll;
                ++open_handles_;
            }
        }
        if (rc == 0) {
            rc = uv_poll_start(a.poll, st == Step::want_read ? UV_READABLE : UV_WRITABLE,
                               &Race::on_tls_poll);
        }
        if (rc == 0) return;  // on_tls_poll finds the attempt in poll->data
        e.kind = TlsEvent::Kind::failed;
        e.code = -rc;
        e.error = std::string("cannot watch the socket: ") + uv_strerror(rc);
    } else if (st == Step::done) {
        close_poll(a);
        e.kind = TlsEvent::Kind::secured;
        e.version = a.tls.version();
        e.alpn_selected = a.tls.alpn_selected();
        if (on_tls_ && !abandoned_) on_tls_(now_, e);
        machine_.handle_secured(now_, a.id);
        return;
    } else {
        e.kind = TlsEvent::Kind::failed;
        e.code = a.tls.code() != 0 ? a.tls.code() : EPROTO;
        e.error = a.tls.reason();
    }
    close_poll(a);
    if (on_tls_ && !abandoned_) on_tls_(now_, e);
    machine_.handle_secure_failed(now_, a.id, e.code, e.error);
}
#endif

void Race::on_tls_poll(uv_poll_t* poll, int /*status*/, int /*events*/) {
    // Whatever the status, the next SSL_connect step says what happened.
    auto* a = static_cast<Attempt*>(poll->data);
    uv_poll_stop(poll);
    Input in;
    in.kind = Input::Kind::tls_ready;
    in.at = Clock::now();
    in.id = a->id;
    a->race->submit(std::move(in));
}

// ---- commands from the handle -----------------------------------------------

void Race::cancel() {
    if (delivered_ || abandoned_) return;
    if (pref64_) {
        auto guard = shared_from_this();
        if (!result_ready_) {
            pref64_result_ = pref64_discovery_failed("cancelled");
            release_all();
            result_ready_ = true;
        }
        return deliver();
    }
    if (busy_) {  // from the observer: after the current action
        cancel_requested_ = true;
        return;
    }
    auto guard = shared_from_this();
    if (!machine_.finished()) {
        machine_.cancel(clock_now());
        pump();
    } else {
        deliver();  // ended inside connect(); its callback was waiting for the loop
    }
}

void Race::abandon() {
    if (delivered_) return;
    abandoned_ = true;
    if (pref64_) {
        auto guard = shared_from_this();
        if (!result_ready_) release_all();
        result_ready_ = true;
        return deliver();  // closes the last handle; no callback
    }
    if (busy_) {
        cancel_requested_ = true;
        return;
    }
    auto guard = shared_from_this();
    if (!machine_.finished()) {
        machine_.cancel(clock_now());
        pump();
    } else {
        deliver();
    }
}

// ---- libuv callbacks ----------------------------------------------------------

void Race::on_timer(uv_timer_t* timer) {
    auto* race = static_cast<Race*>(timer->data);
    if (!race->armed_) return;
    const TimePoint deadline = *race->armed_;
    race->armed_.reset();
    if (Clock::now() < deadline) {  // never feed an early timeout (docs/behaviour.md §7)
        race->arm(deadline);
        return;
    }
    race->timeout_due_ = true;
    uv_idle_start(&race->idle_, &Race::on_idle);  // this turn's poll must not block
    uv_check_start(&race->check_, &Race::on_check);
}

void Race::on_idle(uv_idle_t* idle) {
    auto* race = static_cast<Race*>(idle->data);
    if (race->wake_) {
        auto guard = race->shared_from_this();
        race->deliver();
    }
}

void Race::on_check(uv_check_t* check) {
    auto* race = static_cast<Race*>(check->data);
    uv_check_stop(&race->check_);
    if (!race->wake_) uv_idle_stop(&race->idle_);
    if (!race->timeout_due_) return;
    race->timeout_due_ = false;
    Input in;
    in.kind = Input::Kind::timeout;
    in.at = Clock::now();
    race->submit(std::move(in));
}

void Race::on_connect(uv_connect_t* req, int status) {
    auto* a = static_cast<Attempt*>(req->data);
    // UV_ECANCELED: the attempt was closed while connecting; nothing to tell.
    if (status == UV_ECANCELED || a->tcp == nullptr) return;
    Input in;
    in.kind = status == 0 ? Input::Kind::connected : Input::Kind::connect_failed;
    in.at = Clock::now();
    in.id = a->id;
    in.code = -status;
    a->race->submit(std::move(in));
}

// ---- DNS: Options::dns_cache ------------------------------------------------------

// What the adapter's own client brought back is kept for later races.
// Positive answers are stored with their TTL (an empty HTTPS answer forgets);
// NODATA and NXDOMAIN for addresses forget the entry; failures (SERVFAIL,
// timeouts, ...) keep it, so a stale answer can still be raced next time
// (RFC 8767). Answers from the cache itself are not `wire`.
void Race::remember(const Input& in) {
    if (cache_ == nullptr || !in.wire || in.qname.empty()) return;
    if (in.kind == Input::Kind::https) {
        cache_->store_https(in.qname, in.records, in.ttl, now_);
    } else if (in.kind == Input::Kind::resolved) {
        cache_->store(in.qname, in.family, in.addresses, in.ttl, now_);
    } else if (in.kind == Input::Kind::resolve_failed && !in.https) {
        cache_->record_failure(in.qname, in.family == Family::v6 ? DnsCache::Type::aaaa : DnsCache::Type::a,
                               in.dns);
    }
}

// Answers the question from the cache when it can. Returns true when no
// query is needed (a fresh answer is queued); a stale answer is queued for
// handle_stale (addresses) or handle_stale_https (records) — HTTPS mode
// only: an RFC 8305 race takes one answer per question — and false
// returned, so the query still goes out.
bool Race::answer_from_cache(const Resolve& r) {
    if (cache_ == nullptr) return false;
    DnsCache::Answer hit =
        cache_->lookup_for_race(query_name(r, host_), r, machine_.config().https, now_);
    if (hit.state == DnsCache::State::missing) return false;
    const bool fresh = hit.state == DnsCache::State::fresh;
    const bool stale = !fresh;
    Input in;
    in.at = now_;
    in.family = r.family;
    in.name = std::string(r.name);
    in.stale = stale;
    if (r.https) {
        in.kind = Input::Kind::https;
        in.records = std::move(hit.records);
    } else {
        in.kind = Input::Kind::resolved;
        for (const Endpoint& e : hit.addresses) in.addresses.push_back(e.with_port(port_));
    }
    pending_.push_back(std::move(in));
    return fresh;
}

// ---- DNS: uv_getaddrinfo ---------------------------------------------------------

void Race::start_gai(const Resolve& r) {
    auto q = std::make_unique<GaiQuery>();
    q->race = this;
    q->family = r.family;
    q->name = std::string(r.name);
    q->req.data = q.get();
    const std::string qname = q->name.empty() ? host_ : q->name;
    addrinfo hints{};
    hints.ai_family = to_af(r.family);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = 0;  // no AI_ADDRCONFIG: ask for both families whatever the host has
    const int rc = uv_getaddrinfo(loop_, &q->req, &Race::on_gai, qname.c_str(), nullptr, &hints);
    if (rc != 0) {
        Input in;
        in.kind = Input::Kind::resolve_failed;
        in.at = now_;
        in.family = r.family;
        in.name = q->name;
        in.detail = "uv_getaddrinfo: " + uv_text(rc);
        pending_.push_back(std::move(in));
        return;
    }
    gai_.push_back(q.release());
}

void Race::on_gai(uv_getaddrinfo_t* req, int status, addrinfo* res) {
    auto* q = static_cast<GaiQuery*>(req->data);
    Race* race = q->race;
    const Family family = q->family;
    std::string name = std::move(q->name);
    if (race != nullptr) {
        auto it = std::find(race->gai_.begin(), race->gai_.end(), q);
        if (it != race->gai_.end()) race->gai_.erase(it);
    }
    delete q;
    if (race != nullptr && status != UV_EAI_CANCELED) {
        race->gai_answer(family, std::move(name), status, res);  // may end the race
    }
    if (res != nullptr) uv_freeaddrinfo(res);
}

void Race::gai_answer(Family family, std::string name, int status, const addrinfo* res) {
    Input in;
    in.at = Clock::now();
    in.family = family;
    in.name = std::move(name);
    if (status == 0) {
        in.kind = Input::Kind::resolved;
        for (const addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
            auto ep = from_sockaddr(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen));
            if (ep && ep->family() == family) in.addresses.push_back(ep->with_port(port_));
        }
    } else {
        in.kind = Input::Kind::resolve_failed;
        // The DNS classes (Error::dns) as far as getaddrinfo tells them
        // apart, as the libevent adapter reads evdns: EAI_NONAME is
        // NXDOMAIN; EAI_NODATA and EAI_ADDRFAMILY (no address of this
        // family) are NODATA. EAI_AGAIN is a SERVFAIL or a timeout —
        // getaddrinfo does not say which — so, like libevent's EAI_AGAIN, it
        // keeps the resolver's text unclassified; so does the rest (with its
        // errno value when it is a system error).
        if (status == UV_EAI_NONAME) {
            in.dns = DnsError::nxdomain;
        } else if (status == UV_EAI_NODATA || status == UV_EAI_ADDRFAMILY) {
            in.dns = DnsError::nodata;
        } else {
            in.detail = uv_text(status);
            const std::string code_name = uv_err_name(status);
            if (code_name.rfind("EAI_", 0) != 0) in.code = -status;
        }
    }
    auto guard = shared_from_this();
    submit(std::move(in));
}

// ---- DNS: the adapter's own UDP queries (dns_server, HTTPS) ----------------------

void Race::start_udp(const Resolve& r) {
    auto q = std::make_unique<UdpQuery>();
    q->race = this;
    q->https = r.https;
    q->family = r.family;
    q->name = std::string(r.name);
    q->qname = query_name(r, host_);  // RFC 9460 §9.1: _PORT._https.HOST off port 443
    q->qtype = r.https ? dns_type::https : (r.family == Family::v6 ? dns_type::aaaa : dns_type::a);
    if (q->https) {
        q->timeout = https_query_timeout * https_query_tries;
        q->interval = https_query_timeout;
    } else {
        q->timeout = dns_timeout_;
        q->interval = first_resend;
    }
    const std::string what = dns_type_name(q->qtype) + " query";
    Input failed;
    failed.kind = Input::Kind::resolve_failed;
    failed.https = r.https;
    failed.family = r.family;
    failed.name = q->name;
    failed.at = now_;

    // An explicit dns_server is the only one asked; else resolv.conf's, in
    // order, each given an equal share of the query's timeout.
    if (dns_server_) {
        q->servers = {*dns_server_};
    } else {
        q->servers = resolv_conf_nameservers();
    }
    if (q->servers.empty()) {
        failed.detail = what + ": no DNS server (no dns_server, and /etc/resolv.conf names none)";
        pending_.push_back(std::move(failed));
        return;
    }
    q->total = q->timeout;
    const auto share =
        q->timeout / static_cast<std::chrono::milliseconds::rep>(q->servers.size());
    q->timeout = std::max(share, std::chrono::milliseconds(1));
    q->interval = std::min(q->interval, q->timeout);
    if (uv_random(nullptr, nullptr, &q->id, sizeof q->id, 0, nullptr) != 0) {
        q->id = static_cast<std::uint16_t>(uv_hrtime());
    }
    std::string error;
    // EDNS0 offering 1232 octets, as every adapter's own queries (issue 14).
    auto message = build_dns_query(q->id, q->qname, q->qtype, &error);
    if (!message) {
        failed.code = EINVAL;
        failed.detail = "bad host name '" + q->qname + "': " + error;
        pending_.push_back(std::move(failed));
        return;
    }
    q->message = std::move(*message);
    if (auto not_sent = launch_udp(std::move(q))) pending_.push_back(std::move(*not_sent));
}

// Sends q's message to servers[server_index], or to the first server after
// it that takes it; the query then waits on the loop. When no server is left,
// what failed (for the race) is returned.
std::optional<Input> Race::launch_udp(std::unique_ptr<UdpQuery> q) {
    int err = 0;
    q->fd = eyeballs::detail::send_to_first_server(q->servers, &q->server_index, q->message, &err);
    q->server = q->servers[q->server_index];
    q->deadline = Clock::now() + q->timeout;
    if (err == 0) {
        const int rc = uv_poll_init_socket(loop_, &q->poll, q->fd);
        if (rc == 0) {
            uv_timer_init(loop_, &q->timer);
            q->poll.data = q.get();
            q->timer.data = q.get();
            q->handles = true;
            q->poll_open = true;
            open_handles_ += 2;
            uv_poll_start(&q->poll, UV_READABLE, &Race::on_udp_readable);
            q->final_leg = q->interval >= q->timeout;
            arm_query(*q, std::min<Clock::duration>(q->interval, q->timeout));
        } else {
            err = -rc;
        }
    }
    if (err != 0) {
        if (q->fd >= 0) eyeballs::detail::close_socket(q->fd);
        q->fd = -1;
        Input failed;
        failed.kind = Input::Kind::resolve_failed;
        failed.https = q->https;
        failed.family = q->family;
        failed.name = q->name;
        failed.at = Clock::now();
        failed.code = err;
        failed.detail = "DNS server " + q->server.to_string() + ": " + std::strerror(err);
        return failed;
    }
    udp_.push_back(std::move(q));
    return std::nullopt;
}

// q's server gave no answer (its share of the timeout ran out, or an ICMP
// error came back): the next server is asked, with a fresh socket and a
// fresh share; after the last one the query fails with what the last said.
void Race::next_server(UdpQuery* q, DnsError dns, int code, std::string detail) {
    if (q->server_index + 1 >= q->servers.size()) {
        if (q->servers.size() > 1 && dns != DnsError::timeout) {
            detail += " (the last of " + std::to_string(q->servers.size()) + " DNS servers)";
        }
        return query_failed(q, dns, code, std::move(detail));
    }
    auto next = std::make_unique<UdpQuery>();
    next->race = this;
    next->https = q->https;
    next->family = q->family;
    next->qtype = q->qtype;
    next->name = q->name;
    next->qname = q->qname;
    next->servers = q->servers;
    next->server_index = q->server_index + 1;
    next->message = q->message;
    next->id = q->id;
    next->timeout = q->timeout;
    next->total = q->total;
    next->interval = std::min<std::chrono::milliseconds>(
        q->https ? https_query_timeout : first_resend, q->timeout);
    close_udp(*q);  // its memory stays with the race until the close callbacks
    if (auto not_sent = launch_udp(std::move(next))) submit(std::move(*not_sent));
}

// The query's one-shot timer, rounded up to the loop's millisecond so that it
// never fires before the resend or the deadline is due.
void Race::arm_query(UdpQuery& q, Clock::duration wait) {
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(
        std::max(wait, Clock::duration::zero()));
    uv_timer_start(&q.timer, &Race::on_udp_timer, static_cast<std::uint64_t>(ms.count()), 0);
}

void Race::close_udp(UdpQuery& q) noexcept {
    if (q.closed) return;
    q.closed = true;
    if (q.handles) {
        // After uv_poll_stop (inside uv_close) the fd may be closed at once.
        q.timer.data = this;  // the close callbacks count them off the race
        uv_close(reinterpret_cast<uv_handle_t*>(&q.timer), &Race::on_race_handle_closed);
        if (q.poll_open) {
            q.poll.data = this;
            q.poll_open = false;
            uv_close(reinterpret_cast<uv_handle_t*>(&q.poll), &Race::on_race_handle_closed);
        }
        if (q.tcp_handle) {
            q.tcp_poll.data = this;
            q.tcp_handle = false;
            uv_close(reinterpret_cast<uv_handle_t*>(&q.tcp_poll), &Race::on_race_handle_closed);
        }
    }
    if (q.fd >= 0) eyeballs::detail::close_socket(q.fd);
    q.fd = -1;
}

void Race::udp_done(UdpQuery* q, Input in) {
    close_udp(*q);  // its memory stays with the race until the close callbacks
    submit(std::move(in));
}

void Race::query_failed(UdpQuery* q, DnsError dns, int code, std::string detail) {
    Input in;
    in.at = Clock::now();
    in.kind = Input::Kind::resolve_failed;
    in.family = q->family;
    in.https = q->https;
    in.name = q->name;
    if (cache_ != nullptr) in.qname = q->qname;  // a copy only when it is used
    in.wire = true;
    in.dns = dns;
    in.code = code;
    in.detail = std::move(detail);
    udp_done(q, std::move(in));
}

// An answer matched to the query (over UDP: parse_dns_response said it is
// ours; over TCP: the next message), read by dns_outcome(), the one rule
// every adapter reads answers by (the libevent adapter's own client does the
// same with libevent's events).
void Race::query_answer(UdpQuery* q, const std::uint8_t* data, std::size_t size) {
    DnsResponse r = parse_dns_response(data, size, q->id, q->qname, q->qtype);
    if (r.status == DnsResponse::Status::mismatch && q->tcp) {
        return query_failed(q, DnsError::malformed, 0,
                            "the answer over TCP does not match the query");
    }
    if (r.ok() && r.truncated && !q->tcp) return start_tcp(q);
    DnsOutcome outcome = dns_outcome(r, q->qtype);
    Input in;
    in.at = Clock::now();
    in.family = q->family;
    in.name = q->name;
    if (cache_ != nullptr) in.qname = q->qname;  // a copy only when it is used
    in.ttl = r.ttl;
    in.wire = true;
    if (q->https && (outcome.dns == DnsError::none || outcome.dns == DnsError::nodata)) {
        in.kind = Input::Kind::https;
        name_dot_targets(r);  // "." after a CNAME is its target
        in.records = std::move(r.svcb);
        return udp_done(q, std::move(in));
    }
    if (!q->https && outcome.dns == DnsError::none) {
        in.kind = Input::Kind::resolved;
        for (const Endpoint& e : r.addresses) {
            if (e.family() == q->family) in.addresses.push_back(e.with_port(port_));
        }
        return udp_done(q, std::move(in));
    }
    if (outcome.dns == DnsError::nodata) outcome.detail.clear();
    query_failed(q, outcome.dns, 0, std::move(outcome.detail));
}

void Race::start_tcp(UdpQuery* q) {
    // The UDP socket goes: its poll handle first (uv_close stops it at once),
    // then the fd, so the TCP socket may take the same number safely.
    q->poll.data = this;
    q->poll_open = false;
    uv_close(reinterpret_cast<uv_handle_t*>(&q->poll), &Race::on_race_handle_closed);
    eyeballs::detail::close_socket(q->fd);
    q->fd = -1;
    q->tcp = true;
    q->out.clear();
    q->out.push_back(static_cast<std::uint8_t>(q->message.size() >> 8));
    q->out.push_back(static_cast<std::uint8_t>(q->message.size() & 0xff));
    q->out.insert(q->out.end(), q->message.begin(), q->message.end());
    int err = 0;
    q->fd = ::socket(to_af(q->server.family()), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (q->fd < 0) {
        err = errno;
    } else {
        err = eyeballs::detail::start_connect(q->fd, q->server);
        if (err == EINPROGRESS) err = 0;
    }
    if (err == 0) {
        const int rc = uv_poll_init_socket(loop_, &q->tcp_poll, q->fd);
        if (rc != 0) {
            err = -rc;
        } else {
            q->tcp_poll.data = q;
            q->tcp_handle = true;
            ++open_handles_;
            uv_poll_start(&q->tcp_poll, UV_WRITABLE, &Race::on_tcp_dns);
            arm_query(*q, q->deadline - Clock::now());  // no more resends
        }
    }
    if (err != 0) {
        return query_failed(q, DnsError::truncated, 0,
                            std::string("TC set; the retry over TCP failed to connect: ") +
                                std::strerror(err));
    }
}

void Race::tcp_event(UdpQuery* q, int status, int events) {
    if (!q->connected) {
        const int err = status < 0 ? -status : eyeballs::detail::take_socket_error(q->fd);
        if (err != 0) {
            return query_failed(q, DnsError::truncated, 0,
                                std::string("TC set; the retry over TCP failed to connect: ") +
                                    std::strerror(err));
        }
        q->connected = true;
    }
    if (!q->out.empty()) {
        if ((events & UV_WRITABLE) == 0) return;
        const ssize_t n = ::send(q->fd, q->out.data(), q->out.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return query_failed(q, DnsError::truncated, 0,
                                std::string("TC set; the retry over TCP failed to send: ") +
                                    std::strerror(errno));
        }
        if (n > 0) q->out.erase(q->out.begin(), q->out.begin() + n);
        if (q->out.empty()) uv_poll_start(&q->tcp_poll, UV_READABLE, &Race::on_tcp_dns);
        return;
    }
    if (status < 0) {
        return query_failed(q, DnsError::truncated, 0,
                            "TC set; the retry over TCP failed to read: " + uv_text(status));
    }
    std::uint8_t buf[4096];
    for (;;) {
        const ssize_t n = ::recv(q->fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;
            return query_failed(q, DnsError::truncated, 0,
                                std::string("TC set; the retry over TCP failed to read: ") +
                                    std::strerror(errno));
        }
        if (n == 0) {
            return query_failed(q, DnsError::truncated, 0,
                                "TC set; the retry over TCP failed to read: the server closed "
                                "the connection");
        }
        q->in.insert(q->in.end(), buf, buf + n);
        if (q->in.size() >= 2) {
            const std::size_t length = (std::size_t{q->in[0]} << 8) | q->in[1];
            if (q->in.size() >= 2 + length) return query_answer(q, q->in.data() + 2, length);
        }
    }
}

void Race::on_tcp_dns(uv_poll_t* poll, int status, int events) {
    auto* q = static_cast<UdpQuery*>(poll->data);
    auto guard = q->race->shared_from_this();
    q->race->tcp_event(q, status, events);
}

void Race::on_udp_readable(uv_poll_t* poll, int status, int events) {
    auto* q = static_cast<UdpQuery*>(poll->data);
    Race* race = q->race;
    auto guard = race->shared_from_this();
    if (status < 0) {
        return race->next_server(q, DnsError::none, -status,
                                 "DNS server " + q->server.to_string() + ": " + uv_text(status));
    }
    if ((events & UV_READABLE) == 0) return;
    std::vector<std::uint8_t> buf(65536);
    for (;;) {
        const ssize_t n = ::recv(q->fd, buf.data(), buf.size(), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // only strays so far
            if (errno == EINTR) continue;
            // ICMP errors of the connected socket (ECONNREFUSED, ...).
            const int err = errno;
            return race->next_server(q, DnsError::none, err,
                                     "DNS server " + q->server.to_string() + ": " +
                                         std::strerror(err));
        }
        DnsResponse r = parse_dns_response(buf.data(), static_cast<std::size_t>(n), q->id,
                                           q->qname, q->qtype);
        if (r.status == DnsResponse::Status::mismatch) continue;  // not ours: keep waiting
        return race->query_answer(q, buf.data(), static_cast<std::size_t>(n));
    }
}

void Race::on_udp_timer(uv_timer_t* timer) {
    auto* q = static_cast<UdpQuery*>(timer->data);
    Race* race = q->race;
    auto guard = race->shared_from_this();
    const auto now = Clock::now();
    if (q->tcp) {
        if (now < q->deadline) return race->arm_query(*q, q->deadline - now);
        return race->query_failed(q, DnsError::truncated, 0,
                                  "TC set; the retry over TCP failed to answer in time");
    }
    if (q->final_leg && now < q->deadline) {  // the loop clock ran a little ahead
        return race->arm_query(*q, q->deadline - now);
    }
    if (!q->final_leg && ::send(q->fd, q->message.data(), q->message.size(), 0) >= 0) {
        q->interval *= 2;
        q->final_leg = q->interval >= q->deadline - now;
        return race->arm_query(*q, std::min<Clock::duration>(q->interval, q->deadline - now));
    }
    std::string detail = "no answer within " + std::to_string(q->total.count()) + " ms";
    if (q->servers.size() > 1) {
        detail += " from " + std::to_string(q->servers.size()) + " DNS servers";
    }
    race->next_server(q, DnsError::timeout, ETIMEDOUT, std::move(detail));
}

// ---- the Handle -------------------------------------------------------------

struct HandleAccess {
    static Handle pref64(uv_loop_t* loop, const Options& options, Pref64Callback callback) {
        if (loop == nullptr) return Handle(Status::failure("the uv_loop_t is null"));
        if (!callback) return Handle(Status::failure("the callback is empty"));
        auto race = std::make_shared<Race>(loop, Options{}, 0, Callback{}, FdCallback{},
                                           TlsCallback{});
        Status status = race->start_pref64(options, std::move(callback));
        if (!status.ok()) return Handle(std::move(status));
        return Handle(std::move(race));
    }

    static Handle start(uv_loop_t* loop, std::string_view host, std::uint16_t port,
                        const std::vector<Endpoint>* endpoints, const Options& options,
                        Callback callback, FdCallback fd_callback, TlsCallback tls_callback = {}) {
        if (loop == nullptr) return Handle(Status::failure("the uv_loop_t is null"));
        if (!callback && !fd_callback && !tls_callback) return Handle(Status::failure("the callback is empty"));
        auto race = std::make_shared<Race>(loop, options, port, std::move(callback),
                                           std::move(fd_callback), std::move(tls_callback));
        Status status = race->start(host, port, endpoints, options);
        if (!status.ok()) return Handle(std::move(status));  // nothing was put on the loop
        return Handle(std::move(race));
    }
};

}  // namespace detail

Handle::Handle() noexcept = default;
Handle::Handle(std::shared_ptr<detail::Race> race) noexcept : race_(std::move(race)) {}
Handle::Handle(Handle&& other) noexcept
    : race_(std::move(other.race_)), status_(std::move(other.status_)) {}

Handle& Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        if (auto old = std::move(race_)) old->abandon();
        race_ = std::move(other.race_);
        status_ = std::move(other.status_);
    }
    return *this;
}

Handle::~Handle() {
    if (auto race = std::move(race_)) race->abandon();
}

bool Handle::running() const noexcept { return race_ && race_->running(); }

void Handle::cancel() {
    if (auto race = race_) race->cancel();  // a copy: the callback may reset this handle
}

void Handle::detach() noexcept {
    // A running race keeps itself alive while it has handles on the loop.
    race_.reset();
}

Handle connect(uv_loop_t* loop, std::string_view host, std::uint16_t port,
               const Options& options, Callback callback) {
    return detail::HandleAccess::start(loop, host, port, nullptr, options, std::move(callback),
                                       {});
}

Handle connect(uv_loop_t* loop, const std::vector<Endpoint>& endpoints, const Options& options,
               Callback callback) {
    return detail::HandleAccess::start(loop, {}, 0, &endpoints, options, std::move(callback), {});
}

Handle discover_pref64(uv_loop_t* loop, const Options& options, Pref64Callback callback) {
    return detail::HandleAccess::pref64(loop, options, std::move(callback));
}

Handle connect_fd(uv_loop_t* loop, std::string_view host, std::uint16_t port,
                  const Options& options, FdCallback callback) {
    return detail::HandleAccess::start(loop, host, port, nullptr, options, {},
                                       std::move(callback));
}

Handle connect_fd(uv_loop_t* loop, const std::vector<Endpoint>& endpoints,
                  const Options& options, FdCallback callback) {
    return detail::HandleAccess::start(loop, {}, 0, &endpoints, options, {}, std::move(callback));
}

Handle connect_tls(uv_loop_t* loop, std::string_view host, std::uint16_t port,
                   const Options& options, TlsCallback callback) {
    if (!callback) return detail::HandleAccess::start(loop, host, port, nullptr, options, {}, {});
    return detail::HandleAccess::start(loop, host, port, nullptr, options, {}, {},
                                       std::move(callback));
}

Handle connect_tls(uv_loop_t* loop, const std::vector<Endpoint>& endpoints,
                   const Options& options, TlsCallback callback) {
    if (!callback) return detail::HandleAccess::start(loop, {}, 0, &endpoints, options, {}, {});
    return detail::HandleAccess::start(loop, {}, 0, &endpoints, options, {}, {},
                                       std::move(callback));
}

void free_tls(::ssl_st* ssl) noexcept {
#ifdef EYEBALLS_LIBUV_TLS
    eyeballs::detail::TlsSession::free(ssl);
#else
    (void)ssl;
#endif
}

bool tls_available() noexcept {
#ifdef EYEBALLS_LIBUV_TLS
    return true;
#else
    return false;
#endif
}

}  // namespace eyeballs::libuv
