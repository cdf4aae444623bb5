// SPDX-License-Identifier: BSL-1.0
// eyeballs::libevent — a RaceMachine driven by an event_base.
//
// Theory of operation
// ===================
//
// One Race object per connect() call, owned by a shared_ptr: the Handle holds
// one reference, a detached race holds one on itself, and every entry point
// (libevent callbacks, cancel(), abandon()) takes one for its own duration, so
// user code run from inside (observer, callback) may drop the handle safely.
//
// The run loop of race_machine.hpp, in libevent terms:
//
//   libevent callback ──► submit(input) ──► pump():
//        ┌─► drain poll_action(): perform each action, answer OpenSocket and
//        │   Bind at once; a Connect that completes (or fails) at once, and a
//        │   DNS answer evdns gives inline, become *pending inputs*
//        └── feed the next pending input (connect result, DNS answer, timer)
//       then re-arm the one evtimer at next_timeout(), or deliver the result.
//
// Inputs never reach the machine while it is being drained: anything that
// happens during pump() (evdns answering inline, connect() returning at once,
// the observer calling cancel()) is queued and fed right after, at its own
// time. Timers: libevent runs the I/O callbacks of one loop turn before its
// timer callbacks (both are activated in that order, at one priority), which
// is docs/behaviour.md §7's order; the evtimer is only re-added when the deadline changes,
// so a due timer stays behind the turn's I/O.
//
// DNS: one evdns_getaddrinfo() per family. Its callback always runs exactly
// once — with the answer, inline for hosts-file and literal answers, or with
// EVUTIL_EAI_CANCEL on a later loop turn after evdns_getaddrinfo_cancel(). So
// each query carries a small heap token that the callback frees; the race
// only unhooks itself from the token when it stops caring. An evdns_base the
// adapter made (OwnedDns) is freed when the race is done with it *and* every
// token has come back, because libevent reads the evdns_base when it delivers
// a cancellation.
//
// HTTPS records (Happy Eyeballs v3, Config::https): evdns cannot ask for type
// 65, so the adapter sends that query itself on the base: one connected UDP
// socket per query to Options::dns_server (alone) or, without it, the
// evdns_base's nameservers (evdns_base_get_nameserver_addr), IPv6 ones first
// and each in turn when the one before gives no answer, a query built by
// eyeballs/dns_message.hpp with a random id, an EV_READ|EV_PERSIST event
// with a timeout that resends once, and parse_dns_response on what arrives
// (datagrams that are not the answer are ignored). NOERROR gives the records
// (none = NODATA); anything else fails the query, and the race goes on with
// A/AAAA. Target names from the records are resolved through evdns like the
// origin.
//
// TLS (Options::tls): a completed connect is fed as handle_connected, then the
// attempt's handshake (eyeballs/detail/tls_client.hpp) starts on the same fd
// with an event for what OpenSSL wants (EV_READ or EV_WRITE, re-made at each
// step); its end comes back as an input (secured, secure_failed) like a
// connect result. The winner's SSL object becomes a bufferevent_openssl.
//
// Ending: at the Report action every libevent object of the race is freed and
// DNS is cancelled at once; the result (winner fd or bufferevent, report) is
// handed to the callback at the end of that pump — or, when the race ended
// inside connect(), from a one-shot event on the next loop turn.

#include "eyeballs/dns_servers.hpp"
#include "eyeballs/libevent.hpp"
#include "evdns_util.hpp"
#include "eyeballs/zone.hpp"

#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>
#include <string>
#include <utility>

#include "eyeballs/detail/fifo.hpp"
#include "eyeballs/detail/socket_ops.hpp"
#ifdef EYEBALLS_LIBEVENT_TLS
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>

#include "eyeballs/detail/tls_client.hpp"
#endif
#include "eyeballs/dns_message.hpp"
#include "eyeballs/posix.hpp"
#ifdef EYEBALLS_HAVE_QUIC
#include "eyeballs/quic_client.hpp"
#endif

namespace eyeballs::libevent {
namespace detail {

using Clock = std::chrono::steady_clock;

namespace {

/// The port a DNS server listens on when none is given.
constexpr std::uint16_t dns_port = 53;
/// An HTTPS query waits this long for its answer, is sent again once, then
/// fails with ETIMEDOUT (the race has gone on without it after the
/// Resolution Delay anyway).
constexpr std::chrono::milliseconds https_query_timeout{2000};
constexpr int https_query_tries = 2;

timeval to_timeval(std::chrono::steady_clock::duration d) {
    auto us = std::chrono::ceil<std::chrono::microseconds>(d).count();
    if (us < 0) us = 0;
    timeval tv;
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(us / 1000000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>(us % 1000000);
    return tv;
}

// With HTTPS records on, the origin's port is the one connect() was given:
// records without port= and target names use it (Config::port).
Config race_config(Config config, std::uint16_t port, bool quic) {
    if (quic) {
        // Without HTTPS records the adapter answers the HTTPS query itself
        // (Race::synthetic_): the v3 plan then puts QUIC first.
        config.quic = true;
        config.https = true;
    }
    if (config.https && port != 0) config.port = port;
    return config;
}

// The nameservers of an evdns_base, in its order.
std::vector<Endpoint> nameservers_of(evdns_base* dns) {
    std::vector<Endpoint> servers;
    const int n = evdns_base_count_nameservers(dns);
    for (int i = 0; i < n; ++i) {
        sockaddr_storage ss{};
        const int len =
            evdns_base_get_nameserver_addr(dns, i, reinterpret_cast<sockaddr*>(&ss), sizeof ss);
        if (len <= 0) continue;
        if (auto ep = from_sockaddr(reinterpret_cast<const sockaddr*>(&ss),
                                    static_cast<socklen_t>(len))) {
            servers.push_back(*ep);
        }
    }
    return servers;
}

/// A literal address, with or without brackets ("[::1]"), or nullopt.
std::optional<Endpoint> parse_literal(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    // A zone may be an interface name (fe80::1%eth0): looked up here.
    return Endpoint::parse_address(host, port, nullptr, interface_index);
}

}  // namespace

// v3 §4.5 for an evdns_base the adapter made from resolv.conf: its IPv6
// nameservers before its IPv4 ones, each family in the file's order
// (order_dns_servers), so the race's first query (AAAA) goes over IPv6 and
// evdns still falls back to every server. evdns then takes its servers in
// turn (round robin), so the next query (A) goes to the next server. Left
// as it was when the order is already right or a server cannot be read.
void ipv6_nameservers_first(evdns_base* dns) {
    const std::vector<Endpoint> servers = nameservers_of(dns);
    if (static_cast<int>(servers.size()) != evdns_base_count_nameservers(dns)) return;
    const std::vector<Endpoint> ordered = order_dns_servers(servers);
    if (ordered == servers) return;
    evdns_base_clear_nameservers_and_suspend(dns);
    for (const Endpoint& e : ordered) {
        sockaddr_storage ss;
        const socklen_t len = to_sockaddr(e, ss);
        (void)evdns_base_nameserver_sockaddr_add(dns, reinterpret_cast<const sockaddr*>(&ss), len,
                                                 0);
    }
    evdns_base_resume(dns);
}

class Race;
struct OwnedDns;

/// The argument of one evdns_getaddrinfo() query; freed by its callback.
struct DnsQuery {
    Race* race = nullptr;  // null once the race no longer wants the answer
    OwnedDns* owned = nullptr;
    Family family = Family::v6;
    std::string name;  // the Resolve's name: "" = the origin
    evdns_getaddrinfo_request* request = nullptr;
};

/// An evdns_base the adapter made for one race. It is freed when the race is
/// done with it and every query's callback has come back — or, when the
/// event_base is freed first (those callbacks are then never delivered), by
/// event_base_free itself: a race that lets go of it with queries still out
/// leaves a finalizer on the base (event_free_finalize), which libevent runs
/// on the loop's next turn or, at the latest, inside event_base_free. A
/// far-off timer (`sentinel`) tells the two apart: event_base_free deletes
/// every timer before it runs the finalizers, a loop turn does not.
struct OwnedDns {
    evdns_base* base = nullptr;
    unsigned outstanding = 0;  // queries whose callback has not run yet
    bool released = false;     // the race no longer uses it
    std::vector<DnsQuery*> tokens;  // the queries still out
    event* sentinel = nullptr;      // with a finalizer pending
    bool finalizer_pending = false;

    void maybe_free() {
        if (!released || outstanding != 0) return;
        if (base != nullptr) evdns_base_free(base, 0);
        base = nullptr;
        if (!finalizer_pending) delete this;  // else the finalizer does
    }

    void forget(DnsQuery* q) {
        auto it = std::find(tokens.begin(), tokens.end(), q);
        if (it != tokens.end()) tokens.erase(it);
    }

    // Released with queries out: leave the finalizer (see above).
    void guard(event_base* loop) {
        if (outstanding == 0 || finalizer_pending) return;
        event* ev = event_new(loop, -1, 0, &OwnedDns::noop, this);
        sentinel = evtimer_new(loop, &OwnedDns::noop, nullptr);
        const timeval far{86400, 0};
        if (ev == nullptr || sentinel == nullptr || evtimer_add(sentinel, &far) != 0 ||
            event_free_finalize(0, ev, &OwnedDns::on_finalize) != 0) {
            if (ev != nullptr) event_free(ev);
            if (sentinel != nullptr) event_free(sentinel);
            sentinel = nullptr;
            return;  // as before: freed when the callbacks come back
        }
        finalizer_pending = true;
    }

    static void noop(evutil_socket_t, short, void*) {}

    static void on_finalize(event*, void* arg) {
        auto* self = static_cast<OwnedDns*>(arg);
        self->finalizer_pending = false;
        const bool base_freed = event_pending(self->sentinel, EV_TIMEOUT, nullptr) == 0;
        event_free(self->sentinel);
        self->sentinel = nullptr;
        if (base_freed && self->outstanding != 0) {
            // Inside event_base_free: the cancellations will never be
            // delivered, so nothing will read the evdns_base any more.
            for (DnsQuery* q : self->tokens) delete q;
            self->tokens.clear();
            self->outstanding = 0;
        }
        self->maybe_free();
    }
};

/// One query of the adapter's own DNS client (HTTPS records always; AAAA and
/// A with Options::dns_server), owned by its race: UDP, then TCP after TC.
struct UdpQuery {
    Race* race = nullptr;
    Family family = Family::v6;
    bool https = false;
    std::uint16_t qtype = 0;
    std::string name;   // the Resolve's name: "" = the origin
    std::string qname;  // what is asked
    Endpoint server;
    // Every server to ask, in order; `server` is servers[server_index]. One
    // that gives no answer in its share of the timeout (or an ICMP error)
    // leaves the query to the next one; an answer ends it.
    std::vector<Endpoint> servers;
    std::size_t server_index = 0;
    std::chrono::milliseconds total{5000};  // the whole query's timeout, over every server
    std::vector<std::uint8_t> message;
    std::uint16_t id = 0;
    evutil_socket_t fd = -1;
    event* ev = nullptr;
    std::chrono::steady_clock::time_point deadline{};
    std::chrono::milliseconds interval{1000};  // to the next resend, doubling
    std::chrono::milliseconds timeout{5000};
    bool final_leg = false;  // the timer is armed for the deadline, not a resend
    // TCP, after an answer with TC (RFC 7766 §5).
    bool tcp = false;
    bool connected = false;
    std::vector<std::uint8_t> out;  // 2-octet length + query, not yet sent
    std::vector<std::uint8_t> in;   // what arrived

    void close() {
        if (ev != nullptr) event_free(ev);
        ev = nullptr;
        if (fd >= 0) eyeballs::detail::close_socket(fd);
        fd = -1;
    }
    ~UdpQuery() { close(); }
};

/// Room for one `struct event` inside the object that owns it (event_assign),
/// so that the race's timer and an attempt's connect or TLS event cost no
/// allocation (issue 19 item 3). When the libevent loaded at run time has a
/// larger `struct event` than the headers this was built with
/// (event_get_struct_event_size()), event_new as before.
class EventSlot {
public:
    EventSlot() = default;
    EventSlot(const EventSlot&) = delete;
    EventSlot& operator=(const EventSlot&) = delete;

    /// A new event in the slot (which must be free), or from event_new;
    /// nullptr when libevent refuses it.
    event* make(event_base* base, evutil_socket_t fd, short what, event_callback_fn cb, void* arg) {
        if (event_get_struct_event_size() > sizeof storage_) return event_new(base, fd, what, cb, arg);
        event* ev = inside();
        return event_assign(ev, base, fd, what, cb, arg) == 0 ? ev : nullptr;
    }
    /// Deletes and frees `ev` (made by make(), or by event_new elsewhere).
    void free(event* ev) noexcept {
        if (ev == nullptr) return;
        if (ev != inside()) return event_free(ev);
        event_del(ev);
        event_debug_unassign(ev);
    }

private:
    event* inside() noexcept { return reinterpret_cast<event*>(storage_); }
    alignas(struct event) unsigned char storage_[sizeof(struct event)];
};

/// One attempt's socket and its EV_WRITE event (while connecting), or the
/// event of its TLS handshake.
struct Attempt {
    Race* race = nullptr;
    AttemptId id;
    evutil_socket_t fd = -1;
    event* ev = nullptr;  // EV_WRITE while connecting; a QUIC attempt's EV_READ
    EventSlot ev_slot;     // where `ev` lives, but a QUIC attempt's
#ifdef EYEBALLS_HAVE_QUIC
    std::unique_ptr<quic::Handshake> quic;
    event* qtimer = nullptr;  // at the handshake's expiry
#endif
    Endpoint remote;
    const Service* service = nullptr;  // from the Connect action (HTTPS records)
#ifdef EYEBALLS_LIBEVENT_TLS
    eyeballs::detail::TlsSession tls;  // active while the handshake runs
#endif

    void free_event() noexcept {
        ev_slot.free(ev);
        ev = nullptr;
#ifdef EYEBALLS_HAVE_QUIC
        if (qtimer != nullptr) event_free(qtimer);
        qtimer = nullptr;
#endif
    }
    void close() noexcept {
        free_event();
#ifdef EYEBALLS_HAVE_QUIC
        quic.reset();  // its CONNECTION_CLOSE goes out before the fd closes
#endif
#ifdef EYEBALLS_LIBEVENT_TLS
        tls = eyeballs::detail::TlsSession();  // SSL_free before the fd goes
#endif
        if (fd >= 0) eyeballs::detail::close_socket(fd);
        fd = -1;
    }
};

/// Something that happened, waiting to be fed to the machine.
struct Input {
    enum class Kind : std::uint8_t {
        resolved,
        resolve_failed,
        https,
        connected,
        connect_failed,
        timeout,
        quic,  // a QUIC handshake ended (Attempt::quic says how)
        secured,
        secure_failed
    };
    Kind kind = Kind::timeout;
    TimePoint at{};
    Family family = Family::v6;
    bool https = false;                // resolve_failed: of an HTTPS query
    std::string name;                  // resolved, resolve_failed, https: the Resolve's name
    std::vector<SvcbRecord> records;   // https
    AttemptId id;
    int code = 0;
    std::string detail;
    std::vector<Endpoint> addresses;
    DnsError dns = DnsError::none;     // resolve_failed: the DNS class
    // Options::dns_cache. `wire`: from the adapter's own DNS client, so
    // `qname`, `ttl` and `dns` are exact (evdns_getaddrinfo gives no TTL and
    // folds timeouts into EAI_FAIL): only such answers change the cache.
    std::string qname;                 // the name asked (query_name())
    std::uint32_t ttl = 0;             // resolved, https: the answer's TTL in seconds
    bool wire = false;
    bool cached = false;               // answered from the cache: not stored again
    bool stale = false;                // resolved, from the cache, stale: handle_stale
};

/// The inputs waiting for the machine, oldest first (eyeballs/detail/fifo.hpp).
using InputQueue = eyeballs::detail::Fifo<Input>;

class Race : public std::enable_shared_from_this<Race> {
public:
    Race(event_base* base, const Options& options, std::uint16_t port, Callback callback,
         BuffereventCallback bev_callback, int bev_options)
        : base_(base),
          machine_(race_config(options.config, port, options.quic.enabled)),
          synthetic_(options.quic.enabled && !options.config.https),
          factory_(options.socket_factory),
          observer_(options.on_action),
          callback_(std::move(callback)),
          bev_callback_(std::move(bev_callback)),
          bev_options_(bev_options) {}

    Race(const Race&) = delete;
    Race& operator=(const Race&) = delete;
    ~Race() {
        release_all();
        if (wake_ != nullptr) event_free(wake_);
#ifdef EYEBALLS_LIBEVENT_TLS
        eyeballs::detail::TlsSession::free(winner_ssl_);
#endif
        if (winner_fd_ >= 0) eyeballs::detail::close_socket(winner_fd_);
    }

    Status start(std::string_view host, std::uint16_t port, const std::vector<Endpoint>* endpoints,
                 const Options& options);
    bool running() const noexcept { return !delivered_; }
    void cancel();
    void abandon();
    void detach() {
        if (!delivered_) self_ = shared_from_this();
    }

    // libevent callbacks (C linkage-compatible signatures).
    static void on_timer(evutil_socket_t, short, void* arg);
    static void on_writable(evutil_socket_t, short, void* arg);
    static void on_wake(evutil_socket_t, short, void* arg);
    static void on_dns(int result, evutil_addrinfo* res, void* arg);
    static void on_udp(evutil_socket_t, short what, void* arg);
    static void on_quic(evutil_socket_t, short what, void* arg);
    static void on_tls_io(evutil_socket_t, short, void* arg);

private:
    void quic_connect(Attempt& a, const Connect& c);
    void quic_progress(Attempt& a, TimePoint now);
    void quic_result(AttemptId id);
    Input synthetic_answer(const Resolve& r) const;
    void submit(Input input);
    void pump();
    void feed(Input& input);
    void perform(const Action& action);
    void observe(const Action& action);
    void rearm();
    void finish();
    void deliver();
    void dns_answer(Family family, std::string name, int result, const evutil_addrinfo* res);
    bool answer_from_cache(const Resolve& r);
    void remember(const Input& in);
    bool raced_stale(Family family, std::string_view name) const noexcept;
    void forget_query(const DnsQuery* q) noexcept;
    void start_query(const Resolve& r);
    int send_query(UdpQuery& q);
    void next_server(UdpQuery* q, DnsError dns, int code, std::string detail);
    void query_done(UdpQuery* q, Input in);
    void query_answer(UdpQuery* q, const std::uint8_t* data, std::size_t size);
    void query_failed(UdpQuery* q, DnsError dns, int code, std::string detail);
    void start_tcp(UdpQuery* q);
    void tcp_event(UdpQuery* q, short what);
    Attempt& attempt(AttemptId id);
    void start_tls(AttemptId id);
    void tls_step(Attempt& a, bool first);
    void tls_event(const TlsEvent& e) {
        if (tls_observer_ && !abandoned_) tls_observer_(now_, e);
    }
    void release_all() noexcept;
    TimePoint clock_now() {
        now_ = std::max(now_, Clock::now());
        return now_;
    }

    event_base* base_;
    RaceMachine machine_;
    bool synthetic_ = false;      // quic without config.https (synthetic_answer)
    std::vector<Endpoint> list_;  // with synthetic_ and endpoints: the list
    std::string name_;            // the origin's name for QUIC's certificate check
#ifdef EYEBALLS_HAVE_QUIC
    QuicOptions quic_options_;
    std::shared_ptr<quic::Context> quic_;
    std::shared_ptr<quic::Connection> winner_quic_;
#endif
    SocketFactory factory_;
    ActionObserver observer_;
    Callback callback_;
    BuffereventCallback bev_callback_;
    int bev_options_;

    std::string host_;
    std::uint16_t port_ = 0;
    evdns_base* dns_ = nullptr;
    OwnedDns* owned_dns_ = nullptr;
    std::optional<Endpoint> dns_server_;  // Options::dns_server, port set
    std::vector<DnsQuery*> queries_;      // outstanding evdns queries
    std::chrono::milliseconds dns_timeout_{5000};  // Options::dns_timeout
    DnsCache* cache_ = nullptr;                    // Options::dns_cache
    // The questions answered stale from cache_ (family, Resolve name), whose
    // evdns answer is still to come.
    std::vector<std::pair<Family, std::string>> stale_questions_;
    std::vector<std::unique_ptr<UdpQuery>> https_;  // the adapter's own queries

    event* timer_ = nullptr;
    EventSlot timer_slot_;  // where timer_ lives
    std::optional<TimePoint> armed_;
    event* wake_ = nullptr;
    // By attempt number: the first two inside the race (a race of one or two
    // attempts allocates nothing for them; their events point at them, so
    // they never move), the others one allocation each.
    std::array<std::optional<Attempt>, 2> first_attempts_;  // [number - 1]
    std::vector<std::unique_ptr<Attempt>> more_attempts_;   // [number - 3]
    InputQueue pending_;
    TimePoint now_{};

    std::unique_ptr<RaceReport> report_;  // made at the end: not part of a running race's size
    evutil_socket_t winner_fd_ = -1;
    bool tls_ = false;  // Options::tls.enabled
    TlsOptions tls_options_;
    TlsObserver tls_observer_;
    std::string origin_;  // the host connect() was given: the name TLS checks
#ifdef EYEBALLS_LIBEVENT_TLS
    std::shared_ptr<const eyeballs::detail::TlsContext> tls_ctx_;  // shared_context: per trust config
    ::ssl_st* winner_ssl_ = nullptr;
#endif
    std::shared_ptr<Race> self_;  // set while detached

    bool busy_ = false;       // inside pump()
    bool starting_ = false;   // inside connect()
    bool cancel_requested_ = false;
    bool abandoned_ = false;  // the handle is gone: no callback, no observer
    bool result_ready_ = false;
    bool delivered_ = false;
};

// ---- starting ---------------------------------------------------------------

Status Race::start(std::string_view host, std::uint16_t port,
                   const std::vector<Endpoint>* endpoints, const Options& options) {
    timer_ = timer_slot_.make(base_, -1, 0, &Race::on_timer, this);
    if (timer_ == nullptr) return Status::failure("libevent: event_new failed for the race timer");

    if (options.config.success != Success::connect && !options.tls.enabled) {
        return Status::failure(
            "success=handshake needs a TLS handshake: set Options::tls.enabled (the libevent "
            "adapter then makes it with OpenSSL)");
    }
    if (options.tls.enabled) {
#ifdef EYEBALLS_LIBEVENT_TLS
        if (!bev_callback_) {
            return Status::failure(
                "tls.enabled needs connect_bufferevent: the winner is a bufferevent_openssl");
        }
        std::string error;
        tls_ctx_ = eyeballs::detail::shared_context(options.tls, error);
        if (!tls_ctx_) return Status::failure(error);
        tls_ = true;
        tls_options_ = options.tls;
        tls_observer_ = options.on_tls;
        origin_ = std::string(host);
        Config config = machine_.config();
        config.success = Success::handshake;  // v3 §6.1
        machine_ = RaceMachine(config);
#else
        return Status::failure(
            "tls.enabled: this libevent adapter was built without OpenSSL 3 and libevent_openssl");
#endif
    }
    if (options.quic.enabled) {
#ifdef EYEBALLS_HAVE_QUIC
        quic_options_ = options.quic;
        tls_observer_ = options.on_tls;  // QUIC handshakes are reported there too
        quic::Settings settings;
        settings.ca_file = options.quic.ca_file;
        settings.ca_dir = options.quic.ca_dir;
        settings.insecure = options.quic.insecure;
        std::string error;
        quic_ = quic::Context::create(settings, error);
        if (!quic_) return Status::failure(error);
#else
        return Status::failure(
            "quic.enabled needs the QUIC component, which this build lacks (ngtcp2 + GnuTLS, "
            "CMake option EYEBALLS_QUIC)");
#endif
    }
    if (options.dns != nullptr && options.dns_server) {
        return Status::failure(
            "Options::dns and Options::dns_server cannot be combined: a DNS server override "
            "applies only to an evdns_base the adapter makes");
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
    if (endpoints == nullptr && !host.empty()) {
        name_ = std::string(host);
        if (name_.size() > 2 && name_.front() == '[' && name_.back() == ']') {
            name_ = name_.substr(1, name_.size() - 2);
        }
    }
    std::optional<Endpoint> literal;
    if (endpoints == nullptr) literal = parse_literal(host, port);
    if (synthetic_ && (endpoints != nullptr || literal)) {
        // The list answers the AAAA and A queries: one port for all.
        list_ = endpoints != nullptr ? *endpoints : std::vector<Endpoint>{*literal};
        if (list_.empty()) return Status::failure("no addresses to race: the address list is empty");
        for (const Endpoint& e : list_) {
            if (e.port() != list_.front().port()) {
                return Status::failure("quic.enabled without config.https races one port: " +
                                       list_.front().to_string() + " and " + e.to_string() +
                                       " differ");
            }
        }
        status = machine_.start_resolving(now);
    } else if (endpoints != nullptr) {
        status = machine_.start(now, *endpoints);
    } else if (literal) {
        status = machine_.start(now, &*literal, 1);
    } else {
        if (host.empty()) return Status::failure("the host name is empty");
        if (auto bad = validate(options.config)) return Status::failure(*bad);
        host_ = std::string(host);
        port_ = port;
        dns_timeout_ = std::max(options.dns_timeout, std::chrono::milliseconds(1));
        cache_ = options.dns_cache;
        if (options.dns != nullptr) {
            dns_ = options.dns;
        } else {
            evdns_base* made = nullptr;
            // Resource errors name their errno (issue 14: EMFILE at a low
            // `ulimit -n` must be recognisable), when libevent left one.
            auto with_errno = [](std::string what) {
                const int err = errno;
                if (const char* name = err != 0 ? errno_name(err) : nullptr) {
                    what += std::string(": ") + name + " (" + std::strerror(err) + ")";
                }
                return what;
            };
            errno = 0;
            if (options.dns_server) {
                made = evdns_base_new(base_, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
                if (made != nullptr) {
                    Endpoint server = *options.dns_server;
                    if (server.port() == 0) server = server.with_port(dns_port);
                    dns_server_ = server;
                    sockaddr_storage ss;
                    socklen_t len = to_sockaddr(server, ss);
                    if (evdns_base_nameserver_sockaddr_add(
                            made, reinterpret_cast<const sockaddr*>(&ss), len, 0) != 0) {
                        Status failure = Status::failure(
                            with_errno("libevent: cannot use DNS server " + server.to_string()));
                        evdns_base_free(made, 0);
                        return failure;
                    }
                }
            } else {
                made = evdns_base_new(base_, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                                 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
                if (made != nullptr) {
                    // About the 5 s the other adapters give a family (evdns
                    // resends at fixed intervals, it does not back off).
                    evdns_base_set_option(made, "timeout:", "1.67");
                    evdns_base_set_option(made, "attempts:", "3");
                    ipv6_nameservers_first(made);
                }
            }
            if (made == nullptr) return Status::failure(with_errno("libevent: evdns_base_new failed"));
            owned_dns_ = new OwnedDns;
            owned_dns_->base = made;
            dns_ = made;
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

    starting_ = true;
    pump();
    starting_ = false;
    if (result_ready_ && !delivered_) {
        // Ended inside connect() (every attempt failed at once): the callback
        // never runs before connect() has returned the handle.
        wake_ = event_new(base_, -1, 0, &Race::on_wake, this);
        if (wake_ != nullptr) event_active(wake_, EV_TIMEOUT, 0);
    }
    return status;
}

// ---- the run loop -----------------------------------------------------------

void Race::submit(Input input) {
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
            if (in.dns != DnsError::none) {
                machine_.handle_resolve_failed(now_, Resolve(in.family, in.https, in.name), in.dns,
                                               in.code, in.detail);
            } else {
                machine_.handle_resolve_failed(now_, Resolve(in.family, in.https, in.name),
                                               in.code, in.detail);
            }
            break;
        case Input::Kind::https:
            machine_.handle_https(now_, Resolve(Family::v6, true, in.name), in.records);
            break;
        case Input::Kind::connected:
            machine_.handle_connected(now_, in.id);
            if (tls_) start_tls(in.id);
            break;
        case Input::Kind::secured:
            machine_.handle_secured(now_, in.id);
            break;
        case Input::Kind::secure_failed:
            machine_.handle_secure_failed(now_, in.id, in.code, in.detail);
            break;
        case Input::Kind::connect_failed:
            machine_.handle_connect_failed(now_, in.id, in.code);
            break;
        case Input::Kind::timeout:
            machine_.handle_timeout(now_);
            break;
        case Input::Kind::quic:
            quic_result(in.id);
            break;
    }
}

// Options::dns_cache: what the adapter's own client brought back is kept for
// later races. Positive answers are stored with their TTL (an empty HTTPS
// answer forgets); NODATA and NXDOMAIN for addresses forget the entry;
// failures (SERVFAIL, timeouts, ...) keep it, so a stale answer can still be
// raced next time (RFC 8767).
void Race::remember(const Input& in) {
    if (cache_ == nullptr || !in.wire || in.cached || in.qname.empty()) return;
    if (in.kind == Input::Kind::https) {
        cache_->store_https(in.qname, in.records, in.ttl, now_);
    } else if (in.kind == Input::Kind::resolved) {
        cache_->store(in.qname, in.family, in.addresses, in.ttl, now_);
    } else if (in.kind == Input::Kind::resolve_failed && !in.https) {
        cache_->record_failure(in.qname, in.family == Family::v6 ? DnsCache::Type::aaaa : DnsCache::Type::a,
                               in.dns);
    }
}

// Options::dns_cache: answers the question from the cache when it can.
// Returns true when no query is needed (a fresh answer is queued); a stale
// answer is queued for handle_stale (addresses) or handle_stale_https
// (records) — HTTPS mode only: an RFC 8305 race takes one answer per
// question — and false returned, so the query still goes out.
bool Race::answer_from_cache(const Resolve& r) {
    if (cache_ == nullptr) return false;
    std::string qname = query_name(r, host_);
    DnsCache::Answer hit = cache_->lookup_for_race(qname, r, machine_.config().https, now_);
    if (hit.state == DnsCache::State::missing) return false;
    const bool fresh = hit.state == DnsCache::State::fresh;
    const bool stale = !fresh;
    if (stale && !r.https) stale_questions_.emplace_back(r.family, std::string(r.name));
    Input in;
    in.at = now_;
    in.family = r.family;
    in.name = std::string(r.name);
    in.qname = std::move(qname);
    in.cached = true;
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

bool Race::raced_stale(Family family, std::string_view name) const noexcept {
    for (const auto& [f, n] : stale_questions_) {
        if (f == family && n == name) return true;
    }
    return false;
}

// curl's --http3 without HTTPS records: the origin's HTTPS query is answered
// with one record offering h3 and the TCP ids, so the v3 plan races every
// address over QUIC first; with endpoints, the list answers AAAA and A.
Input Race::synthetic_answer(const Resolve& r) const {
    Input in;
    in.at = now_;
    in.family = r.family;
    if (r.https) {
        in.kind = Input::Kind::https;
        SvcbRecord rec;
        rec.priority = 1;
        rec.target = ".";
        rec.alpn = {"h3", "h2", "http/1.1"};
        in.records.push_back(std::move(rec));
        return in;
    }
    for (const Endpoint& e : list_) {
        if (e.family() == r.family) in.addresses.push_back(e);
    }
    in.kind = in.addresses.empty() ? Input::Kind::resolve_failed : Input::Kind::resolved;
    return in;
}

void Race::quic_result(AttemptId id) {
#ifdef EYEBALLS_HAVE_QUIC
    Attempt& a = attempt(id);
    if (!a.quic) return;
    const quic::Handshake& h = *a.quic;
    using Step = quic::Handshake::Step;
    if (h.step() == Step::failed && h.transport()) {
        machine_.handle_connect_failed(now_, id, h.code());  // port unreachable, timeout
        return;
    }
    if (h.step() != Step::done && h.step() != Step::failed) return;
    // The handshake's end for on_tls, as the poll adapter reports it.
    TlsEvent e;
    e.attempt = id;
    e.remote = a.remote;
    e.protocol = Protocol::quic;
    if (h.step() == Step::done) {
        e.kind = TlsEvent::Kind::secured;
        e.version = h.version();
        e.alpn_selected = h.alpn_selected();
        tls_event(e);
        machine_.handle_connected(now_, id);  // a QUIC attempt wins at its connect
    } else {
        e.kind = TlsEvent::Kind::failed;
        e.code = h.code();
        e.error = h.reason();
        tls_event(e);
        machine_.handle_secure_failed(now_, id, e.code, e.error);
    }
#else
    (void)id;
#endif
}

#ifdef EYEBALLS_HAVE_QUIC
void Race::quic_connect(Attempt& a, const Connect& c) {
    std::vector<std::string> alpn;
    if (!synthetic_ && c.service != nullptr && !c.service->alpn.empty()) {
        alpn = c.service->alpn;  // the record's h3 ids
    } else if (!quic_options_.alpn.empty()) {
        alpn = quic_options_.alpn;
    } else {
        alpn = quic::default_alpn();
    }
    std::string name = quic_options_.server_name;
    if (name.empty()) name = name_.empty() ? c.remote.address_string() : name_;
    TlsEvent e;  // the handshake's start for on_tls, as the poll adapter reports it
    e.kind = TlsEvent::Kind::started;
    e.attempt = a.id;
    e.remote = c.remote;
    e.protocol = Protocol::quic;
    e.alpn_offered = alpn;
    e.server_name = name;
    tls_event(e);
    a.quic = std::make_unique<quic::Handshake>();
    a.quic->start(quic_, a.fd, c.remote, name, std::move(alpn), now_);
    if (a.quic->step() == quic::Handshake::Step::running) {
        a.ev = event_new(base_, a.fd, EV_READ | EV_PERSIST, &Race::on_quic, &a);
        a.qtimer = evtimer_new(base_, &Race::on_quic, &a);
        if (a.ev == nullptr || a.qtimer == nullptr || event_add(a.ev, nullptr) != 0) {
            Input in;
            in.kind = Input::Kind::connect_failed;
            in.at = now_;
            in.id = a.id;
            in.code = ENOMEM;
            pending_.push_back(std::move(in));
            return;
        }
    }
    quic_progress(a, now_);
}

// After a handshake step: its end is fed to the machine; otherwise the
// evtimer follows the handshake's next expiry.
void Race::quic_progress(Attempt& a, TimePoint now) {
    if (a.quic->step() != quic::Handshake::Step::running) {
        Input in;
        in.kind = Input::Kind::quic;
        in.at = now;
        in.id = a.id;
        if (busy_) {
            pending_.push_back(std::move(in));
        } else {
            submit(std::move(in));
        }
        return;
    }
    if (a.qtimer == nullptr) return;
    if (auto at = a.quic->expiry()) {
        auto delta = std::chrono::ceil<std::chrono::microseconds>(*at - Clock::now());
        if (delta.count() < 0) delta = std::chrono::microseconds(0);
        timeval tv;
        tv.tv_sec = static_cast<decltype(tv.tv_sec)>(delta.count() / 1000000);
        tv.tv_usec = static_cast<decltype(tv.tv_usec)>(delta.count() % 1000000);
        evtimer_add(a.qtimer, &tv);
    } else {
        evtimer_del(a.qtimer);
    }
}
#endif

void Race::on_quic(evutil_socket_t, short what, void* arg) {
#ifdef EYEBALLS_HAVE_QUIC
    auto* a = static_cast<Attempt*>(arg);
    Race* race = a->race;
    auto guard = race->shared_from_this();
    const TimePoint now = Clock::now();
    if ((what & EV_READ) != 0) {
        a->quic->on_readable(now);
    } else {
        a->quic->on_timeout(now);
    }
    race->quic_progress(*a, now);
#else
    (void)what;
    (void)arg;
#endif
}

void Race::rearm() {
    const auto next = machine_.next_timeout();
    if (!next) {
        if (armed_) evtimer_del(timer_);
        armed_.reset();
        return;
    }
    if (armed_ && *armed_ == *next) return;  // keeps a due timer behind this turn's I/O
    auto delta = std::chrono::ceil<std::chrono::microseconds>(*next - Clock::now());
    if (delta.count() < 0) delta = std::chrono::microseconds(0);
    timeval tv;
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(delta.count() / 1000000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>(delta.count() % 1000000);
    evtimer_add(timer_, &tv);
    armed_ = *next;
}

Attempt& Race::attempt(AttemptId id) {
    const std::size_t i = id.number() - 1;
    Attempt* a = nullptr;
    if (i < first_attempts_.size()) {
        auto& slot = first_attempts_[i];
        if (slot) return *slot;
        a = &slot.emplace();
    } else {
        const std::size_t j = i - first_attempts_.size();
        if (more_attempts_.size() <= j) more_attempts_.resize(j + 1);
        if (more_attempts_[j]) return *more_attempts_[j];
        more_attempts_[j] = std::make_unique<Attempt>();
        a = more_attempts_[j].get();
    }
    a->race = this;
    a->id = id;
    return *a;
}

void Race::observe(const Action& action) {
    if (observer_ && !abandoned_) observer_(now_, action, machine_);
}

// ---- actions ----------------------------------------------------------------

void Race::perform(const Action& action) {
    if (const auto* r = std::get_if<Resolve>(&action)) {
        if (synthetic_ && (r->https || !list_.empty()) && r->name.empty()) {
            pending_.push_back(synthetic_answer(*r));
            observe(action);
            return;
        }
        if (answer_from_cache(*r)) {
            observe(action);
            return;
        }
        if (r->https || dns_server_) {
            start_query(*r);
            observe(action);
            return;
        }
        auto* q = new DnsQuery{this, owned_dns_, r->family, std::string(r->name), nullptr};
        if (owned_dns_ != nullptr) {
            ++owned_dns_->outstanding;
            owned_dns_->tokens.push_back(q);
        }
        queries_.push_back(q);
        const std::string qname = q->name.empty() ? host_ : q->name;
        evutil_addrinfo hints{};
        hints.ai_family = to_af(r->family);
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_protocol = IPPROTO_TCP;
        // May call on_dns inline (hosts file) and return null (q is gone
        // then); the answer is then pending and fed after this drain.
        evdns_getaddrinfo_request* req =
            evdns_getaddrinfo(dns_, qname.c_str(), nullptr, &hints, &Race::on_dns, q);
        if (req != nullptr) q->request = req;
        observe(action);
    } else if (const auto* o = std::get_if<OpenSocket>(&action)) {
        if (o->protocol != Protocol::tcp) {
            int err = EPROTONOSUPPORT;  // no QUIC component, or quic.enabled off
#ifdef EYEBALLS_HAVE_QUIC
            if (quic_) attempt(o->attempt).fd = quic::open_udp_socket(o->remote.family(), err);
#endif
            observe(action);
            machine_.handle_opened(now_, o->attempt, err);
            return;
        }
        Attempt& a = attempt(o->attempt);
        int err = 0;
        if (factory_) {
            errno = 0;
            evutil_socket_t fd = factory_(o->remote);
            if (fd < 0) {
                err = errno != 0 ? errno : EINVAL;
            } else if ((err = eyeballs::detail::make_nonblocking_cloexec(fd)) != 0) {
                eyeballs::detail::close_socket(fd);
            } else {
                a.fd = fd;
            }
        } else {
            a.fd = eyeballs::detail::open_stream_socket(o->remote.family(), &err);
        }
        observe(action);
        machine_.handle_opened(now_, o->attempt, err);
    } else if (const auto* b = std::get_if<Bind>(&action)) {
        Attempt& a = attempt(b->attempt);
        const int err = a.fd >= 0 ? eyeballs::detail::bind_socket(a.fd, b->local) : EBADF;
        observe(action);
        machine_.handle_bound(now_, b->attempt, err);
    } else if (const auto* c = std::get_if<Connect>(&action)) {
        Attempt& a = attempt(c->attempt);
#ifdef EYEBALLS_HAVE_QUIC
        if (c->protocol == Protocol::quic && a.fd >= 0) {
            if (const int e = quic::connect_udp(a.fd, c->remote); e != 0) {
                Input in;
                in.kind = Input::Kind::connect_failed;
                in.at = now_;
                in.id = c->attempt;
                in.code = e;
                pending_.push_back(std::move(in));
            } else {
                quic_connect(a, *c);
            }
            observe(action);
            return;
        }
#endif
        a.remote = c->remote;
        a.service = c->service;
        int err = a.fd >= 0 ? eyeballs::detail::start_connect(a.fd, c->remote) : EBADF;
        if (err == EINPROGRESS) {
            a.ev = a.ev_slot.make(base_, a.fd, EV_WRITE, &Race::on_writable, &a);
            if (a.ev != nullptr && event_add(a.ev, nullptr) == 0) {
                err = -1;  // the answer comes from on_writable
            } else {
                err = ENOMEM;
            }
        }
        if (err >= 0) {
            Input in;
            in.kind = err == 0 ? Input::Kind::connected : Input::Kind::connect_failed;
            in.at = now_;
            in.id = c->attempt;
            in.code = err;
            pending_.push_back(std::move(in));
        }
        observe(action);
    } else if (const auto* cl = std::get_if<Close>(&action)) {
        attempt(cl->attempt).close();
        observe(action);
    } else if (std::holds_alternative<Report>(action)) {
        observe(action);
        finish();
    }
}

void Race::finish() {
    report_ = std::make_unique<RaceReport>(machine_.report());
    RaceReport& report = *report_;
    if (report.outcome == Outcome::connected && report.winner) {
        Attempt& a = attempt(report.winner);
        a.free_event();
#ifdef EYEBALLS_HAVE_QUIC
        if (a.quic && a.quic->step() == quic::Handshake::Step::done) {
            report.tls_version = a.quic->version();
            report.alpn_selected = a.quic->alpn_selected();
            winner_quic_ = std::shared_ptr<quic::Connection>(a.quic->release());
        }
#endif
#ifdef EYEBALLS_LIBEVENT_TLS
        if (a.tls.active()) {
            report.tls_version = a.tls.version();
            report.alpn_selected = a.tls.alpn_selected();
            winner_ssl_ = a.tls.release();
        }
#endif
        winner_fd_ = a.fd;
        a.fd = -1;
    }
    release_all();
    result_ready_ = true;
}

void Race::deliver() {
    if (delivered_) return;
    delivered_ = true;
    if (wake_ != nullptr) {
        event_free(wake_);
        wake_ = nullptr;
    }
    if (!report_) report_ = std::make_unique<RaceReport>(machine_.report());  // not via finish()
    RaceReport& report = *report_;
    self_.reset();  // a detached race: the caller's guard keeps it alive until we return
    evutil_socket_t fd = winner_fd_;
    winner_fd_ = -1;
#ifdef EYEBALLS_HAVE_QUIC
    // The QUIC winner's connection, before the callback (it owns no fd).
    std::shared_ptr<quic::Connection> won = std::move(winner_quic_);
    if (won && !abandoned_ && fd >= 0 && quic_options_.on_connection) {
        quic_options_.on_connection(std::move(won));
    }
#endif
#ifdef EYEBALLS_LIBEVENT_TLS
    ::ssl_st* ssl = std::exchange(winner_ssl_, nullptr);
#endif
    if (abandoned_) {
#ifdef EYEBALLS_LIBEVENT_TLS
        eyeballs::detail::TlsSession::free(ssl);
#endif
        if (fd >= 0) eyeballs::detail::close_socket(fd);
        return;
    }
    if (bev_callback_) {
        bufferevent* bev = nullptr;
#ifdef EYEBALLS_LIBEVENT_TLS
        if (fd >= 0 && ssl != nullptr) {
            // The handshake is done: the bufferevent starts open, owns the
            // SSL object and (CLOSE_ON_FREE) the socket.
            bev = bufferevent_openssl_socket_new(base_, fd, ssl, BUFFEREVENT_SSL_OPEN,
                                                 BEV_OPT_CLOSE_ON_FREE | bev_options_);
            if (bev == nullptr) {
                eyeballs::detail::TlsSession::free(ssl);
                eyeballs::detail::close_socket(fd);
                report.outcome = Outcome::failed;
                report.code = ENOMEM;
                report.message = "bufferevent_openssl_socket_new failed";
            }
            fd = -1;
        }
#endif
        if (fd >= 0) {
            bev = bufferevent_socket_new(base_, fd, BEV_OPT_CLOSE_ON_FREE | bev_options_);
            if (bev == nullptr) {
                eyeballs::detail::close_socket(fd);
                report.outcome = Outcome::failed;
                report.code = ENOMEM;
                report.message = "bufferevent_socket_new failed";
            }
        }
        auto callback = std::move(bev_callback_);
        callback(bev, report);
    } else {
        auto callback = std::move(callback_);
        callback(fd, report);
    }
}

// Frees every libevent object of the race but the wake-up event, cancels its
// DNS queries and closes any attempt socket still open (the machine has closed
// them all by the Report; this also covers a race destroyed before it ended).
// The winner's socket is no longer an attempt's: it waits in winner_fd_.
void Race::release_all() noexcept {
    timer_slot_.free(timer_);
    timer_ = nullptr;
    armed_.reset();
    std::vector<DnsQuery*> queries = std::move(queries_);
    queries_.clear();
    for (DnsQuery* q : queries) {
        q->race = nullptr;
        // Its callback comes later with EVUTIL_EAI_CANCEL and frees q.
        if (q->request != nullptr) evdns_getaddrinfo_cancel(q->request);
    }
    https_.clear();
    if (owned_dns_ != nullptr) {
        owned_dns_->released = true;
        owned_dns_->guard(base_);
        owned_dns_->maybe_free();
        owned_dns_ = nullptr;
    }
    dns_ = nullptr;
    for (auto& a : first_attempts_) {
        if (a) a->close();
    }
    for (auto& a : more_attempts_) {
        if (a) a->close();
    }
}

// ---- commands from the handle -----------------------------------------------

void Race::cancel() {
    if (delivered_ || abandoned_) return;
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

// ---- libevent callbacks -----------------------------------------------------

void Race::on_timer(evutil_socket_t, short, void* arg) {
    auto* race = static_cast<Race*>(arg);
    race->armed_.reset();
    Input in;
    in.kind = Input::Kind::timeout;
    in.at = Clock::now();
    race->submit(std::move(in));
}

void Race::on_writable(evutil_socket_t, short, void* arg) {
    auto* a = static_cast<Attempt*>(arg);
    const int err = eyeballs::detail::take_socket_error(a->fd);
    Input in;
    in.kind = err == 0 ? Input::Kind::connected : Input::Kind::connect_failed;
    in.at = Clock::now();
    in.id = a->id;
    in.code = err;
    a->race->submit(std::move(in));
}

// ---- TLS ----------------------------------------------------------------------

void Race::start_tls(AttemptId id) {
#ifdef EYEBALLS_LIBEVENT_TLS
    Attempt& a = attempt(id);
    if (a.fd < 0 || machine_.finished()) return;
    a.free_event();  // the connect's EV_WRITE event
    TlsEvent e;
    e.kind = TlsEvent::Kind::started;
    e.attempt = id;
    e.remote = a.remote;
    // The service's own ALPN set first (RFC 9460 §7.1.2), and the origin's name.
    e.alpn_offered = eyeballs::detail::offered_alpn(a.service, tls_options_.alpn);
    e.server_name = eyeballs::detail::checked_name(tls_options_.server_name, origin_, a.remote);
    tls_event(e);
    if (a.tls.start(*tls_ctx_, a.fd, e.server_name, e.alpn_offered) ==
        eyeballs::detail::TlsSession::Step::failed) {
        tls_step(a, true);  // reports the failure
        return;
    }
    tls_step(a, true);
#else
    (void)id;
#endif
}

// One step of the handshake: wait for what OpenSSL wants, or hand the end to
// the machine (at once inside feed() when `first`, else as an input).
void Race::tls_step(Attempt& a, bool first) {
#ifdef EYEBALLS_LIBEVENT_TLS
    using Step = eyeballs::detail::TlsSession::Step;
    const Step st = a.tls.active() ? a.tls.step() : Step::failed;
    a.free_event();
    if (st == Step::want_read || st == Step::want_write) {
        a.ev = a.ev_slot.make(base_, a.fd, st == Step::want_read ? EV_READ : EV_WRITE,
                              &Race::on_tls_io, &a);
        if (a.ev != nullptr && event_add(a.ev, nullptr) == 0) return;
        a.tls = eyeballs::detail::TlsSession();
    }
    Input in;
    in.at = first ? now_ : Clock::now();
    in.id = a.id;
    TlsEvent e;
    e.attempt = a.id;
    e.remote = a.remote;
    if (st == Step::done) {
        in.kind = Input::Kind::secured;
        e.kind = TlsEvent::Kind::secured;
        e.version = a.tls.version();
        e.alpn_selected = a.tls.alpn_selected();
    } else {
        in.kind = Input::Kind::secure_failed;
        e.kind = TlsEvent::Kind::failed;
        e.code = a.tls.code() != 0 ? a.tls.code() : (st == Step::failed ? EPROTO : ENOMEM);
        e.error = !a.tls.reason().empty() ? a.tls.reason() : "cannot wait for the handshake";
        in.code = e.code;
        in.detail = e.error;
    }
    if (!first) now_ = std::max(now_, in.at);
    tls_event(e);
    if (first) {
        feed(in);  // inside feed() of the connect result: the machine is not draining
    } else {
        submit(std::move(in));
    }
#else
    (void)a;
    (void)first;
#endif
}

void Race::on_tls_io(evutil_socket_t, short, void* arg) {
    auto* a = static_cast<Attempt*>(arg);
    auto guard = a->race->shared_from_this();
    a->race->tls_step(*a, false);
}

void Race::on_wake(evutil_socket_t, short, void* arg) {
    auto* race = static_cast<Race*>(arg);
    auto guard = race->shared_from_this();
    race->deliver();
}

void Race::on_dns(int result, evutil_addrinfo* res, void* arg) {
    auto* q = static_cast<DnsQuery*>(arg);
    Race* race = q->race;
    OwnedDns* owned = q->owned;
    const Family family = q->family;
    std::string name = std::move(q->name);
    if (race != nullptr) race->forget_query(q);
    if (owned != nullptr) owned->forget(q);
    delete q;
    if (race != nullptr) race->dns_answer(family, std::move(name), result, res);  // may free the race
    if (res != nullptr) evutil_freeaddrinfo(res);
    if (owned != nullptr) {
        --owned->outstanding;
        owned->maybe_free();
    }
}

void Race::forget_query(const DnsQuery* q) noexcept {
    auto it = std::find(queries_.begin(), queries_.end(), q);
    if (it != queries_.end()) queries_.erase(it);
}

void Race::dns_answer(Family family, std::string name, int result, const evutil_addrinfo* res) {
    if (result == EVUTIL_EAI_CANCEL) return;  // not ours: we unhook before cancelling
    Input in;
    in.at = Clock::now();
    in.family = family;
    in.name = std::move(name);
    if (result == 0) {
        in.kind = Input::Kind::resolved;
        for (const evutil_addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
            auto ep = from_sockaddr(ai->ai_addr, static_cast<socklen_t>(ai->ai_addrlen));
            if (ep && ep->family() == family) in.addresses.push_back(ep->with_port(port_));
        }
    } else {
        in.kind = Input::Kind::resolve_failed;
        // The DNS classes (Error::dns) as far as evdns tells them apart:
        // EAI_NONAME is NXDOMAIN, EAI_NODATA NODATA — and EAI_FAIL too,
        // which libevent 2.1 gives for an empty NOERROR answer. EAI_AGAIN
        // (a SERVFAIL or a timeout: evdns does not say which) and the rest
        // keep libevent's text.
        // A question raced with a stale cached answer is the exception:
        // there EAI_FAIL, as likely a timeout as an empty answer, is a
        // failure, which keeps the stale addresses (v3 §4.4, RFC 8767)
        // where "no data" would drop them.
        if (result == EVUTIL_EAI_NONAME) {
            in.dns = DnsError::nxdomain;
        } else if (result == EVUTIL_EAI_NODATA ||
                   (result == EVUTIL_EAI_FAIL && !raced_stale(family, in.name))) {
            in.dns = DnsError::nodata;
        } else {
            in.detail = evutil_gai_strerror(result);
            if (result == EVUTIL_EAI_SYSTEM) in.code = errno;
        }
    }
    submit(std::move(in));
}

// ---- the adapter's own DNS client (UDP, TCP after TC; dns_message) ----------

void Race::start_query(const Resolve& r) {
    auto q = std::make_unique<UdpQuery>();
    q->race = this;
    q->family = r.family;
    q->https = r.https;
    q->qtype = r.https ? dns_type::https : (r.family == Family::v6 ? dns_type::aaaa : dns_type::a);
    q->name = std::string(r.name);
    q->qname = query_name(r, host_);  // RFC 9460 §9.1: _PORT._https.HOST off port 443
    if (q->https) {
        q->timeout = https_query_timeout * https_query_tries;
        q->interval = https_query_timeout;
    } else {
        q->timeout = dns_timeout_;
        q->interval = std::chrono::milliseconds(1000);
    }
    Input failed;
    failed.kind = Input::Kind::resolve_failed;
    failed.https = q->https;
    failed.family = q->family;
    failed.name = q->name;
    failed.at = now_;

    // An explicit dns_server is asked alone; else the evdns_base's
    // nameservers, IPv6 ones first (v3 §4.5; eyeballs/dns_servers.hpp keeps
    // each family's order), in turn, each for an equal share of the timeout.
    if (dns_server_) {
        q->servers = {*dns_server_};
    } else if (dns_ != nullptr) {
        q->servers = order_dns_servers(nameservers_of(dns_));
    }
    if (q->servers.empty()) {
        failed.detail = "HTTPS query: evdns has no nameserver to ask";
        pending_.push_back(std::move(failed));
        return;
    }
    q->total = q->timeout;
    q->timeout = std::max(
        q->timeout / static_cast<std::chrono::milliseconds::rep>(q->servers.size()),
        std::chrono::milliseconds(1));
    q->interval = std::min(q->interval, q->timeout);
    evutil_secure_rng_get_bytes(&q->id, sizeof q->id);
    std::string error;
    auto message = build_dns_query(q->id, q->qname, q->qtype, &error);
    if (!message) {
        failed.code = EINVAL;
        failed.detail = "bad host name '" + q->qname + "': " + error;
        pending_.push_back(std::move(failed));
        return;
    }
    q->message = std::move(*message);
    if (const int err = send_query(*q); err != 0) {
        failed.code = err;
        failed.detail = "DNS server " + q->server.to_string() + ": " + std::strerror(err);
        pending_.push_back(std::move(failed));
        return;
    }
    https_.push_back(std::move(q));
}

// Sends q's message to servers[server_index], or to the first server after
// it that takes it, and waits its share; 0, or the last server's errno.
int Race::send_query(UdpQuery& q) {
    int err = 0;
    for (; q.server_index < q.servers.size(); ++q.server_index) {
        q.close();
        q.server = q.servers[q.server_index];
        err = 0;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
        q.fd = ::socket(to_af(q.server.family()), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
#else  // macOS: no socket type flags; set them after
        q.fd = ::socket(to_af(q.server.family()), SOCK_DGRAM, 0);
        if (q.fd >= 0 && eyeballs::detail::make_nonblocking_cloexec(q.fd) != 0) {
            ::close(q.fd);
            q.fd = -1;
        }
#endif
        sockaddr_storage ss{};
        const socklen_t len = to_sockaddr(q.server, ss);
        if (q.fd < 0 || ::connect(q.fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0 ||
            ::send(q.fd, q.message.data(), q.message.size(), 0) < 0) {
            err = errno;
        }
        q.deadline = Clock::now() + q.timeout;
        q.final_leg = q.interval >= q.timeout;
        if (err == 0) {
            q.ev = event_new(base_, q.fd, EV_READ | EV_PERSIST, &Race::on_udp, &q);
            const timeval tv = to_timeval(std::min<Clock::duration>(q.interval, q.timeout));
            if (q.ev == nullptr || event_add(q.ev, &tv) != 0) err = ENOMEM;
        }
        if (err == 0) return 0;
        if (q.server_index + 1 >= q.servers.size()) break;  // keep the last server named
    }
    q.close();
    return err;
}

// q's server gave no answer (its share ran out, or an ICMP error came back):
// the next server is asked with a fresh socket and a fresh share; after the
// last one the query fails with what the last said.
void Race::next_server(UdpQuery* q, DnsError dns, int code, std::string detail) {
    if (q->server_index + 1 < q->servers.size()) {
        ++q->server_index;
        q->interval = std::min<std::chrono::milliseconds>(
            q->https ? https_query_timeout : std::chrono::milliseconds(1000), q->timeout);
        const int err = send_query(*q);
        if (err == 0) return;
        dns = DnsError::none;
        code = err;
        detail = "DNS server " + q->server.to_string() + ": " + std::strerror(err);
    }
    if (q->servers.size() > 1 && dns != DnsError::timeout) {
        detail += " (the last of " + std::to_string(q->servers.size()) + " DNS servers)";
    }
    query_failed(q, dns, code, std::move(detail));
}

void Race::query_done(UdpQuery* q, Input in) {
    for (auto it = https_.begin(); it != https_.end(); ++it) {
        if (it->get() == q) {
            https_.erase(it);  // frees the event and the socket
            break;
        }
    }
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
    query_done(q, std::move(in));
}

// An answer matched to the query (over UDP: parse_dns_response said it is
// ours; over TCP: the next message). dns_outcome() is the one rule the three
// adapters read answers by.
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
        return query_done(q, std::move(in));
    }
    if (!q->https && outcome.dns == DnsError::none) {
        in.kind = Input::Kind::resolved;
        for (const Endpoint& e : r.addresses) in.addresses.push_back(e.with_port(port_));
        return query_done(q, std::move(in));
    }
    if (outcome.dns == DnsError::nodata) outcome.detail.clear();
    query_failed(q, outcome.dns, 0, std::move(outcome.detail));
}

void Race::start_tcp(UdpQuery* q) {
    q->close();
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
        q->ev = event_new(base_, q->fd, EV_WRITE | EV_PERSIST, &Race::on_udp, q);
        const timeval tv = to_timeval(q->deadline - Clock::now());
        if (q->ev == nullptr || event_add(q->ev, &tv) != 0) err = ENOMEM;
    }
    if (err != 0) {
        return query_failed(q, DnsError::truncated, 0,
                             std::string("TC set; the retry over TCP failed to connect: ") +
                                 std::strerror(err));
    }
}

void Race::tcp_event(UdpQuery* q, short what) {
    if ((what & EV_TIMEOUT) != 0) {
        return query_failed(q, DnsError::truncated, 0,
                            "TC set; the retry over TCP failed to answer in time");
    }
    if (!q->connected) {
        const int err = eyeballs::detail::take_socket_error(q->fd);
        if (err != 0) {
            return query_failed(q, DnsError::truncated, 0,
                                std::string("TC set; the retry over TCP failed to connect: ") +
                                    std::strerror(err));
        }
        q->connected = true;
    }
    if (!q->out.empty()) {
        const ssize_t n = ::send(q->fd, q->out.data(), q->out.size(), MSG_NOSIGNAL);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            return query_failed(q, DnsError::truncated, 0,
                                std::string("TC set; the retry over TCP failed to send: ") +
                                    std::strerror(errno));
        }
        if (n > 0) q->out.erase(q->out.begin(), q->out.begin() + n);
        if (!q->out.empty()) return;  // EV_WRITE again
        event_free(q->ev);
        q->ev = event_new(base_, q->fd, EV_READ | EV_PERSIST, &Race::on_udp, q);
        const timeval tv = to_timeval(q->deadline - Clock::now());
        if (q->ev == nullptr || event_add(q->ev, &tv) != 0) {
            return query_failed(q, DnsError::truncated, 0,
                                "TC set; the retry over TCP failed: event_add");
        }
        return;
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

void Race::on_udp(evutil_socket_t fd, short what, void* arg) {
    auto* q = static_cast<UdpQuery*>(arg);
    Race* race = q->race;
    auto guard = race->shared_from_this();
    if (q->tcp) return race->tcp_event(q, what);
    if ((what & EV_READ) != 0) {
        std::vector<std::uint8_t> buf(65536);
        for (;;) {
            const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) break;
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
        return;  // only strays so far
    }
    if ((what & EV_TIMEOUT) != 0) {
        const auto now = Clock::now();
        if (q->final_leg && now < q->deadline) {
            // libevent's cached clock ran a little behind: wait the rest, no resend.
            const timeval tv = to_timeval(q->deadline - now);
            event_add(q->ev, &tv);
            return;
        }
        if (q->final_leg || now >= q->deadline ||
            ::send(fd, q->message.data(), q->message.size(), 0) < 0) {
            std::string detail = "no answer within " + std::to_string(q->total.count()) + " ms";
            if (q->servers.size() > 1) {
                detail += " from " + std::to_string(q->servers.size()) + " DNS servers";
            }
            return race->next_server(q, DnsError::timeout, ETIMEDOUT, std::move(detail));
        }
        q->interval *= 2;
        q->final_leg = q->interval >= q->deadline - now;
        const timeval tv =
            to_timeval(std::min<Clock::duration>(q->interval, q->deadline - now));
        event_add(q->ev, &tv);  // EV_PERSIST: re-added with the next interval
    }
}

// ---- the Handle -------------------------------------------------------------

struct HandleAccess {
    static Handle start(event_base* base, std::string_view host, std::uint16_t port,
                        const std::vector<Endpoint>* endpoints, const Options& options,
                        Callback callback, BuffereventCallback bev_callback, int bev_options) {
        if (base == nullptr) return Handle(Status::failure("the event_base is null"));
        if (!callback && !bev_callback) return Handle(Status::failure("the callback is empty"));
        if (endpoints != nullptr && !endpoints->empty() && options.quic.enabled &&
            !options.config.https) {
            port = endpoints->front().port();  // the synthetic plan's port (Race::start checks)
        }
        auto race = std::make_shared<Race>(base, options, port, std::move(callback),
                                           std::move(bev_callback), bev_options);
        Status status = race->start(host, port, endpoints, options);
        if (!status.ok()) return Handle(std::move(status));  // ~Race frees what start made
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
    if (race_) race_->detach();
    race_.reset();
}

bool quic_available() noexcept {
#ifdef EYEBALLS_HAVE_QUIC
    return true;
#else
    return false;
#endif
}

Handle connect(event_base* base, std::string_view host, std::uint16_t port,
               const Options& options, Callback callback) {
    return detail::HandleAccess::start(base, host, port, nullptr, options, std::move(callback),
                                       {}, 0);
}

Handle connect(event_base* base, const std::vector<Endpoint>& endpoints, const Options& options,
               Callback callback) {
    return detail::HandleAccess::start(base, {}, 0, &endpoints, options, std::move(callback), {},
                                       0);
}

Handle connect_bufferevent(event_base* base, std::string_view host, std::uint16_t port,
                           const Options& options, BuffereventCallback callback,
                           int bev_options) {
    return detail::HandleAccess::start(base, host, port, nullptr, options, {},
                                       std::move(callback), bev_options);
}

Handle connect_bufferevent(event_base* base, const std::vector<Endpoint>& endpoints,
                           const Options& options, BuffereventCallback callback,
                           int bev_options) {
    return detail::HandleAccess::start(base, {}, 0, &endpoints, options, {}, std::move(callback),
                                       bev_options);
}

}  // namespace eyeballs::libevent
