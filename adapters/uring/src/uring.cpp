// SPDX-License-Identifier: BSL-1.0
// eyeballs::uring — RaceMachines driven by one io_uring ring.
//
// Theory of operation
// ===================
//
// A LoopImpl owns the ring. Each connect() makes a Race (a RaceMachine and
// what its actions opened); the Loop keeps every Race alive (keep_) from its
// start until it has ended *and* each submission it made has completed
// (in_flight_ == 0), so no SQE ever points at freed memory. Ops that
// outlive every race (the loop timer) live in the LoopImpl, which waits for
// its races' requests before io_uring_queue_exit().
//
// Every SQE's user_data is either the address of an Op (8-byte aligned)
// embedded in an Attempt, a UdpQuery or the LoopImpl — a request whose
// completion matters (socket, connect, recv, DNS resend timer, the loop's
// timer) — or the Race's address with the low bit set: a request whose
// completion only needs counting (close, async cancel). The blocking
// connect()'s cancel-fd poll has bit 1 set and is recognised by turn().
//
// The run loop (LoopImpl::turn):
//   arm the loop timer ─► io_uring_submit_and_wait(1) ─► peek a batch of CQEs
//   (copy, advance) ─► dispatch I/O completions, then timer completions
//   (docs/behaviour.md §7) ─► serve every race deadline that has passed ─► each Race feeds
//   its inputs to its machine and performs the actions (new SQEs) ─► again,
//   until no race is left.
//
// Attempts: IORING_OP_SOCKET (or the factory / socket(2)), bind(2) when the
// machine says Bind (no IORING_OP_BIND before 6.11), IORING_OP_CONNECT with
// the sockaddr kept in the Attempt. A Close submits IORING_OP_ASYNC_CANCEL
// for a connect still in flight and IORING_OP_CLOSE for the fd (the
// cancelled connect holds its own file reference until its CQE). A socket
// that completes after its attempt was closed is closed at once.
//
// Timers: each race puts its next deadline into the loop's min-heap (an
// entry names the race by slot and carries a sequence number, so entries of
// a race that moved its deadline, or is gone, are stale and skipped). One
// IORING_OP_TIMEOUT (absolute) is armed for the earliest entry; an earlier
// one moves it with IORING_TIMEOUT_UPDATE. After every batch the due entries
// are served, earliest first.
//
// DNS: a UDP socket per query (socket, connect and send are plain calls: a
// datagram never blocks), its answer awaited by IORING_OP_RECV, its resend by
// a relative IORING_OP_TIMEOUT.
//
// PREF64 discovery (discover_pref64, RFC 7050) is a Race whose machine never
// starts: one AAAA query for ipv4only.arpa through the same client, its answer
// read into a Pref64Discovery (pref64_answer) where a race would feed the
// machine; the loop keeps it, cancels it and drops it as a race.
//
// TLS (connect_tls, v3 §6.1): after an attempt's connect completes, a
// TlsSession (eyeballs/detail/tls_client.hpp) runs SSL_connect on its fd;
// SSL_ERROR_WANT_READ/WRITE become an IORING_OP_POLL_ADD (POLLIN/POLLOUT,
// one-shot) whose completion is a tls_ready input that takes the next step.
// The steps themselves are OpenSSL's own read(2)/write(2) on the non-blocking
// fd: they never block. A Close cancels a poll in flight (ASYNC_CANCEL, which
// the poll's CQE then reports as -ECANCELED, ignored), frees the SSL object
// and closes the fd as above.

#include "eyeballs/dns_servers.hpp"
#include "eyeballs/uring.hpp"

#include <fcntl.h>
#include <liburing.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "eyeballs/detail/socket_ops.hpp"
#include "eyeballs/dns_message.hpp"
#include "eyeballs/posix.hpp"
#ifdef EYEBALLS_URING_TLS
#include "eyeballs/detail/tls_client.hpp"
#endif

namespace eyeballs::uring {
namespace detail {

using Clock = std::chrono::steady_clock;

namespace {

constexpr std::uint16_t dns_port = 53;
// The longest wait after one send (a query is resent every 2 s while its
// server's share of Options::dns_timeout lasts).
constexpr std::chrono::milliseconds udp_resend_interval{2000};

Config race_config(Config config, std::uint16_t port, bool tls) {
    if (config.https && port != 0) config.port = port;
    if (tls) config.success = Success::handshake;  // v3 §6.1
    return config;
}

/// Options::dns_timeout is a positive number of milliseconds: otherwise what
/// is wrong, naming the option.
std::optional<std::string> check_dns_timeout(const Options& options) {
    if (options.dns_timeout > std::chrono::milliseconds::zero()) return std::nullopt;
    return "dns_timeout must be positive (got " + std::to_string(options.dns_timeout.count()) +
           " ms)";
}

std::optional<Endpoint> parse_literal(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    return Endpoint::parse_address(host, port);
}

/// The nameservers to ask, port 53, in order: /etc/resolv.conf's IPv6 ones,
/// then its IPv4 ones (v3 §4.5), each family in the file's order
/// (resolv.conf(5)). Zoned IPv6 addresses and lines that do not parse are
/// skipped.
std::vector<Endpoint> resolv_conf_nameservers() {
    // v3 §4.5: IPv6 nameservers first (eyeballs/dns_servers.hpp).
    return preferred_dns_servers("/etc/resolv.conf");
}

/// steady_clock is CLOCK_MONOTONIC on Linux (libstdc++ and libc++).
__kernel_timespec to_timespec(TimePoint t) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    __kernel_timespec ts{};
    ts.tv_sec = ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    return ts;
}

}  // namespace

class Race;

/// A request whose completion is dispatched.
struct Op {
    enum class Kind : std::uint8_t { socket, connect, loop_timer, recv, dns_timer, watch, tls_poll };
    Kind kind = Kind::socket;
    Race* race = nullptr;
    void* owner = nullptr;  // the Attempt or UdpQuery
};

struct Attempt {
    AttemptId id;
    int fd = -1;
    bool opening = false;     // IORING_OP_SOCKET in flight
    bool connecting = false;  // IORING_OP_CONNECT in flight
    bool closed = false;      // the machine closed it (or the race ended)
    bool polling = false;     // IORING_OP_POLL_ADD in flight (the handshake waits on the fd)
    // The connect's address, read by the kernel when the SQE is submitted.
    // sockaddr_in6 holds either family (sockaddr_storage would be 128 bytes).
    sockaddr_in6 remote{};
    socklen_t remote_len = 0;
    Op socket_op;
    Op connect_op;
    Op poll_op;
    const Service* service = nullptr;  // from the Connect action (HTTPS records: ALPN)
    Endpoint endpoint;                 // the Connect's remote, for the TLS name and trace
#ifdef EYEBALLS_URING_TLS
    eyeballs::detail::TlsSession tls;  // active while the handshake runs (and the winner's)
#endif
};

struct UdpQuery {
    bool https = false;
    Family family = Family::v6;
    std::string name;   // the Resolve's name: "" = the origin
    std::string qname;  // what is asked
    std::uint16_t type = 0;
    Endpoint server;
    // Every server to ask, in order; `server` is servers[server_index]. A
    // server that gives no answer in its share of Options::dns_timeout (or
    // an ICMP error) leaves the query to the next one; an answer ends it.
    std::vector<Endpoint> servers;
    std::size_t server_index = 0;
    std::chrono::milliseconds try_wait{udp_resend_interval};  // per send but the last
    std::chrono::milliseconds last_wait{udp_resend_interval};  // after the last send
    std::chrono::milliseconds total{0};  // Options::dns_timeout, for the messages
    std::int64_t tries_per_server = 1;  // a long dns_timeout makes many
    std::vector<std::uint8_t> message;
    std::vector<std::uint8_t> buf;
    std::uint16_t id = 0;
    std::int64_t tries_left = 0;
    int fd = -1;
    bool receiving = false;
    bool timing = false;
    bool done = false;
    __kernel_timespec wait{};
    Op recv_op;
    Op timer_op;
};

struct Input {
    enum class Kind : std::uint8_t { resolved, resolve_failed, https, opened, connected, connect_failed, tls_ready, timeout };
    Kind kind = Kind::timeout;
    TimePoint at{};
    Family family = Family::v6;
    bool https = false;
    std::string name;
    std::vector<SvcbRecord> records;
    AttemptId id;
    int code = 0;
    std::string detail;
    DnsError dns = DnsError::none;  // resolve_failed: timeout when no answer came in time
    std::vector<Endpoint> addresses;
    // Options::dns_cache.
    std::string qname;       // resolved, resolve_failed, https: the name asked (query_name())
    std::uint32_t ttl = 0;   // resolved, https: the answer's TTL in seconds
    bool no_data = false;    // resolve_failed: NXDOMAIN or NODATA (forgets the entry)
    bool cached = false;     // answered from the cache: not stored again
    bool stale = false;      // resolved, from the cache, stale: handle_stale
};

class LoopImpl {
public:
    explicit LoopImpl(unsigned entries);
    ~LoopImpl();

    Status status;
    io_uring ring{};
    bool ring_ok = false;
    bool has_socket_op = false;
    std::uint64_t enters = 0;
    // Every live race has a slot (its index is Race::slot_); timer entries
    // name races by slot, so a race gone meanwhile is simply not found.
    std::vector<Race*> slots;
    std::vector<std::uint32_t> free_slots;
    std::size_t live = 0;
    std::vector<std::shared_ptr<Race>> wake;  // races to deliver on the next turn
    bool destroying = false;

    // The races' timers: a min-heap of deadlines served by one
    // IORING_OP_TIMEOUT (absolute, CLOCK_MONOTONIC) armed for the earliest.
    // An entry is current while its race's timer_seq_ equals its seq.
    struct TimerEntry {
        TimePoint at;
        std::uint32_t slot;
        std::uint64_t seq;
    };
    std::vector<TimerEntry> timers;
    std::uint64_t timer_seq = 0;
    Op timer_op{Op::Kind::loop_timer, nullptr, nullptr};
    bool timer_armed = false;
    TimePoint timer_at{};
    __kernel_timespec timer_ts{};

    // The blocking connect()'s cancel fd (IORING_OP_POLL_ADD), when watched.
    std::uint64_t watch_data = 0;
    bool watch_fired = false;

    std::uint32_t add_race(Race* race);
    void remove_race(std::uint32_t slot) noexcept;
    void schedule(TimePoint at, std::uint32_t slot, std::uint64_t seq);
    void fire_due();
    void arm_timer();

    /// A free SQE, submitting what is queued when the queue is full.
    io_uring_sqe* sqe() {
        for (;;) {
            if (io_uring_sqe* s = io_uring_get_sqe(&ring)) return s;
            ++enters;
            const int rc = io_uring_submit(&ring);
            if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) return nullptr;
        }
    }
    Status run();
    /// One wait and one batch; false when io_uring_enter failed (err set).
    bool turn(int& err);
    bool dispatch(std::uint64_t user_data, int res, bool timer_pass);  // true: done with it
};

class Race : public std::enable_shared_from_this<Race> {
public:
    Race(LoopImpl* loop, const Options& options, std::uint16_t port, Callback callback,
         TlsCallback tls_callback)
        : loop_(loop),
          machine_(race_config(options.config, port, static_cast<bool>(tls_callback))),
          factory_(options.socket_factory),
          observer_(options.on_action),
          callback_(std::move(callback)),
          tls_callback_(std::move(tls_callback)),
          tls_options_(options.tls),
          on_tls_(options.on_tls) {}
    Race(const Race&) = delete;
    Race& operator=(const Race&) = delete;

    Status start(std::string_view host, std::uint16_t port, const std::vector<Endpoint>* endpoints,
                 const Options& options);
    Status start_pref64(const Options& options, Pref64Callback callback);
    bool running() const noexcept { return !delivered_; }
    void cancel();
    void abandon();
    void complete(Op& op, int res);
    void counted() { --in_flight_; }
    void maybe_release();
    void deliver();
    void detach_loop() noexcept { loop_ = nullptr; }
    void timer_fired(std::uint64_t seq);
    bool alive() const noexcept { return loop_ != nullptr; }

private:
    friend class LoopImpl;
    io_uring_sqe* prep(Op* op) {
        io_uring_sqe* s = loop_->sqe();
        if (s == nullptr) return nullptr;
        ++in_flight_;
        io_uring_sqe_set_data64(s, op != nullptr ? reinterpret_cast<std::uint64_t>(op)
                                                 : reinterpret_cast<std::uint64_t>(this) | 1u);
        return s;
    }
    void submit(Input input);
    void pref64_answer(const Input& in);
    void pump();
    void feed(Input& in);
    void perform(const Action& action);
    void observe(const Action& action);
    void open_socket(const OpenSocket& o);
    void close_attempt(Attempt& a) noexcept;
    void close_fd(int fd) noexcept;
    void start_tls(AttemptId id);
#ifdef EYEBALLS_URING_TLS
    void tls_result(Attempt& a, eyeballs::detail::TlsSession::Step st);
#endif
    void rearm();
    void finish();
    void release_all() noexcept;
    void start_udp(const Resolve& r);
    bool answer_from_cache(const Resolve& r);
    void remember(const Input& in);
    std::optional<Input> launch_udp(std::unique_ptr<UdpQuery> q);
    void next_server(UdpQuery& q, Input failed);
    void udp_receive(UdpQuery& q);
    void udp_arm(UdpQuery& q);
    void udp_answer(UdpQuery& q, int res);
    void udp_timeout(UdpQuery& q);
    void udp_close(UdpQuery& q) noexcept;
    Input udp_input(const UdpQuery& q) const;
    Attempt& attempt(AttemptId id);
    TimePoint clock_now() {
        now_ = std::max(now_, Clock::now());
        return now_;
    }

    LoopImpl* loop_;
    RaceMachine machine_;
    SocketFactory factory_;
    ActionObserver observer_;
    Callback callback_;
    TlsCallback tls_callback_;
    [[maybe_unused]] TlsOptions tls_options_;  // unused without EYEBALLS_URING_TLS
    [[maybe_unused]] TlsObserver on_tls_;
    [[maybe_unused]] std::string tls_host_;  // the origin's host (SNI, name check)
#ifdef EYEBALLS_URING_TLS
    std::shared_ptr<const eyeballs::detail::TlsContext> tls_ctx_;  // shared_context: per trust config
#endif
    ::ssl_st* winner_ssl_ = nullptr;

    std::string host_;
    std::uint16_t port_ = 0;
    std::optional<Endpoint> dns_server_;
    std::chrono::milliseconds dns_timeout_{4000};  // Options::dns_timeout, checked
    DnsCache* cache_ = nullptr;  // Options::dns_cache
    std::vector<std::unique_ptr<UdpQuery>> udp_;
    // The first attempts live in the race itself (a dual-stack race makes
    // two): no allocation per attempt for them (issue 19 item 1). Attempt
    // numbers above inline_attempts are kept in attempts_.
    static constexpr std::size_t inline_attempts = 2;
    std::array<Attempt, inline_attempts> inline_{};
    std::array<bool, inline_attempts> inline_used_{};
    std::vector<std::unique_ptr<Attempt>> attempts_;
    std::vector<Input> pending_;  // fed in order from pending_head_
    std::size_t pending_head_ = 0;
    TimePoint now_{};

    std::uint32_t slot_ = 0;
    std::uint64_t timer_seq_ = 0;  // the current entry in the loop's timer heap; 0 = none
    TimePoint timer_at_{};

    std::shared_ptr<Race> keep_;  // the loop's reference while live
    unsigned in_flight_ = 0;

    RaceReport report_;
    int winner_fd_ = -1;

    // PREF64 discovery (discover_pref64): the same object with no machine
    // at work, one AAAA query for ipv4only.arpa through the same client,
    // its answer turned into a Pref64Discovery instead of a machine input.
    bool pref64_ = false;
    Pref64Callback pref64_callback_;
    Pref64Discovery pref64_result_;
    bool busy_ = false;
    bool starting_ = false;
    bool cancel_requested_ = false;
    bool abandoned_ = false;
    bool result_ready_ = false;
    bool delivered_ = false;
};

// ---- the loop ---------------------------------------------------------------

LoopImpl::LoopImpl(unsigned entries) {
    if (entries == 0) entries = 1;
    if (entries > 32768) entries = 32768;
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
              IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    p.cq_entries = entries * 4;
    int rc = io_uring_queue_init_params(entries, &ring, &p);
    if (rc == -EINVAL) {  // a kernel before 6.1: without the newer flags
        p = io_uring_params{};
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = entries * 4;
        rc = io_uring_queue_init_params(entries, &ring, &p);
    }
    if (rc < 0) {
        status = Status::failure(std::string("io_uring is not available here: io_uring_queue_init: ") +
                                 std::strerror(-rc) +
                                 (rc == -ENOSYS ? " (kernel without io_uring)"
                                  : rc == -EPERM ? " (refused: sandbox or kernel.io_uring_disabled)"
                                                 : ""));
        return;
    }
    ring_ok = true;
    if (io_uring_probe* probe = io_uring_get_probe_ring(&ring)) {
        has_socket_op = io_uring_opcode_supported(probe, IORING_OP_SOCKET) != 0;
        const bool basics = io_uring_opcode_supported(probe, IORING_OP_CONNECT) &&
                            io_uring_opcode_supported(probe, IORING_OP_CLOSE) &&
                            io_uring_opcode_supported(probe, IORING_OP_ASYNC_CANCEL) &&
                            io_uring_opcode_supported(probe, IORING_OP_TIMEOUT) &&
                            io_uring_opcode_supported(probe, IORING_OP_RECV);
        io_uring_free_probe(probe);
        if (!basics) {
            status = Status::failure(
                "io_uring is not available here: the kernel lacks IORING_OP_CONNECT, CLOSE, "
                "ASYNC_CANCEL, TIMEOUT or RECV (Linux 5.6 or later is needed)");
        }
    } else {
        status = Status::failure("io_uring is not available here: io_uring_get_probe failed (Linux 5.6 or later is needed)");
    }
}

LoopImpl::~LoopImpl() {
    if (!ring_ok) return;
    destroying = true;
    wake.clear();
    std::vector<std::shared_ptr<Race>> races;
    for (Race* r : slots) {
        if (r != nullptr) races.push_back(r->shared_from_this());
    }
    for (auto& r : races) r->abandon();
    // Wait for every submission of theirs (cancels and closes are queued).
    int err = 0;
    for (int i = 0; i < 10000 && live > 0; ++i) {
        if (!turn(err)) break;
    }
    for (auto& r : races) r->detach_loop();
    io_uring_queue_exit(&ring);
}

bool LoopImpl::turn(int& err) {
    arm_timer();  // deadlines scheduled outside a turn (connect(), cancel())
    ++enters;
    int rc = io_uring_submit_and_wait(&ring, 1);
    if (rc < 0 && rc != -EINTR && rc != -ETIME && rc != -EBUSY) {
        err = -rc;
        return false;
    }
    struct Done {
        std::uint64_t data;
        int res;
    };
    io_uring_cqe* cqes[256];
    Done batch[256];
    for (;;) {
        const unsigned n = io_uring_peek_batch_cqe(&ring, cqes, 256);
        if (n == 0) break;
        for (unsigned i = 0; i < n; ++i) batch[i] = {cqes[i]->user_data, cqes[i]->res};
        io_uring_cq_advance(&ring, n);
        // I/O first, then timers (docs/behaviour.md §7).
        for (unsigned i = 0; i < n; ++i) {
            if (watch_data != 0 && batch[i].data == watch_data) {
                watch_data = 0;  // POLL_ADD is one-shot: this is its only CQE
                watch_fired = batch[i].res >= 0;
                batch[i].data = 0;
                continue;
            }
            if (dispatch(batch[i].data, batch[i].res, false)) batch[i].data = 0;
        }
        for (unsigned i = 0; i < n; ++i) {
            if (batch[i].data != 0) dispatch(batch[i].data, batch[i].res, true);
        }
        if (n < 256) break;
    }
    fire_due();
    arm_timer();
    return true;
}

std::uint32_t LoopImpl::add_race(Race* race) {
    ++live;
    if (!free_slots.empty()) {
        const std::uint32_t slot = free_slots.back();
        free_slots.pop_back();
        slots[slot] = race;
        return slot;
    }
    slots.push_back(race);
    return static_cast<std::uint32_t>(slots.size() - 1);
}

void LoopImpl::remove_race(std::uint32_t slot) noexcept {
    slots[slot] = nullptr;
    free_slots.push_back(slot);
    --live;
}

namespace {
bool later_first(const LoopImpl::TimerEntry& a, const LoopImpl::TimerEntry& b) { return a.at > b.at; }
}  // namespace

void LoopImpl::schedule(TimePoint at, std::uint32_t slot, std::uint64_t seq) {
    timers.push_back(TimerEntry{at, slot, seq});
    std::push_heap(timers.begin(), timers.end(), &later_first);
}

// Every deadline that has passed, earliest first; stale entries are dropped.
void LoopImpl::fire_due() {
    if (timers.empty()) return;
    const TimePoint now = Clock::now();
    while (!timers.empty() && timers.front().at <= now) {
        const TimerEntry e = timers.front();
        std::pop_heap(timers.begin(), timers.end(), &later_first);
        timers.pop_back();
        Race* race = slots[e.slot];
        if (race == nullptr) continue;
        auto guard = race->shared_from_this();
        race->timer_fired(e.seq);
        race->maybe_release();
    }
}

// Arms (or moves earlier) the one ring timeout for the earliest current deadline.
void LoopImpl::arm_timer() {
    while (!timers.empty()) {  // drop stale entries on top
        const TimerEntry& e = timers.front();
        Race* race = slots[e.slot];
        if (race != nullptr && race->timer_seq_ == e.seq) break;
        std::pop_heap(timers.begin(), timers.end(), &later_first);
        timers.pop_back();
    }
    if (timers.empty() || destroying) return;
    const TimePoint at = timers.front().at;
    if (timer_armed && timer_at <= at) return;  // fires first; re-armed then
    io_uring_sqe* s = sqe();
    if (s == nullptr) return;
    timer_ts = to_timespec(at);
    if (timer_armed) {
        io_uring_prep_timeout_update(s, &timer_ts, reinterpret_cast<std::uint64_t>(&timer_op),
                                     IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data64(s, 0);  // its own completion: ignored
    } else {
        io_uring_prep_timeout(s, &timer_ts, 0, IORING_TIMEOUT_ABS);
        io_uring_sqe_set_data64(s, reinterpret_cast<std::uint64_t>(&timer_op));
        timer_armed = true;
    }
    timer_at = at;
}

// One completion, in the I/O pass or the timer pass; true when it is done with
// (the timer pass must not look at it again: its race may be gone by then).
bool LoopImpl::dispatch(std::uint64_t data, int res, bool timer_pass) {
    if ((data & 1u) != 0) {  // counted only
        if (timer_pass) return true;
        Race* race = reinterpret_cast<Race*>(data & ~std::uint64_t{1});
        auto guard = race->shared_from_this();
        race->counted();
        race->maybe_release();
        return true;
    }
    Op* op = reinterpret_cast<Op*>(data);
    if (op == nullptr) return true;
    if (op->kind == Op::Kind::loop_timer) {  // fire_due() after the batch does the work
        if (!timer_pass) timer_armed = false;
        return true;
    }
    const bool is_timer = op->kind == Op::Kind::dns_timer;
    if (is_timer != timer_pass) return false;  // the other pass's
    auto guard = op->race->shared_from_this();
    op->race->complete(*op, res);
    op->race->maybe_release();
    return true;
}

Status LoopImpl::run() {
    if (!status.ok()) return status;
    int err = 0;
    while (live > 0 || !wake.empty()) {
        if (!wake.empty()) {
            auto due = std::move(wake);
            wake.clear();
            for (auto& r : due) {
                r->deliver();
                r->maybe_release();
            }
            continue;
        }
        if (!turn(err)) {
            return Status::failure(std::string("io_uring_enter: ") + std::strerror(err));
        }
    }
    // Nothing left to wait for: push out what is queued (nothing should be).
    if (io_uring_sq_ready(&ring) > 0) {
        ++enters;
        io_uring_submit(&ring);
    }
    return Status();
}

// ---- starting ---------------------------------------------------------------

Status Race::start(std::string_view host, std::uint16_t port, const std::vector<Endpoint>* endpoints,
                   const Options& options) {
    if (tls_callback_) {
#ifdef EYEBALLS_URING_TLS
        std::string error;
        tls_ctx_ = eyeballs::detail::shared_context(tls_options_, error);
        if (!tls_ctx_) return Status::failure(error);
        // checked_name() takes the brackets off an IPv6 literal ("[::1]").
        if (endpoints == nullptr) tls_host_ = std::string(host);
#else
        return Status::failure(
            "connect_tls needs eyeballs::tls_client (OpenSSL 3), which this build of the uring "
            "adapter lacks");
#endif
    } else if (options.config.success != Success::connect) {
        return Status::failure(
            "success=handshake needs a TLS handshake: use connect_tls() (connect() races to "
            "the TCP connect)");
    }
    if (auto bad = check_dns_timeout(options)) return Status::failure(*bad);
    dns_timeout_ = options.dns_timeout;
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
        if (options.dns_server) {
            Endpoint server = *options.dns_server;
            if (server.port() == 0) server = server.with_port(dns_port);
            dns_server_ = server;
        }
        cache_ = options.dns_cache;
        if (options.alt_svc_cache != nullptr) {
            // Options::alt_svc_cache: the origin's fresh Alt-Svc alternatives
            // join the race (RFC 7838; the rule is alternatives_for_race's;
            // this adapter has no overrides: host:port is the origin).
            std::vector<AltSvc> alts = alternatives_for_race(
                *options.alt_svc_cache, host, port, options.config, now, nullptr);
            if (!alts.empty()) {
                Config config = machine_.config();
                config.alt_svc = std::move(alts);
                machine_ = RaceMachine(std::move(config));
            }
        }
        status = machine_.start_resolving(now);
    }
    if (!status.ok()) return status;
    // A race queues an input per completion: room for a few up front, one
    // allocation instead of the vector's growth by doubling.
    pending_.reserve(4);
    keep_ = shared_from_this();
    slot_ = loop_->add_race(this);
    starting_ = true;
    pump();
    starting_ = false;
    if (result_ready_ && !delivered_) loop_->wake.push_back(shared_from_this());
    return status;
}

// RFC 7050 §2: the AAAA question for ipv4only.arpa, asked as a race's AAAA
// question would be (perform(Resolve)), with the race's lifetime rules; the
// machine is never started.
Status Race::start_pref64(const Options& options, Pref64Callback callback) {
    if (auto bad = check_dns_timeout(options)) return Status::failure(*bad);
    dns_timeout_ = options.dns_timeout;
    pref64_ = true;
    pref64_callback_ = std::move(callback);
    host_ = std::string(ipv4only_arpa);
    if (options.dns_server) {
        Endpoint server = *options.dns_server;
        if (server.port() == 0) server = server.with_port(dns_port);
        dns_server_ = server;
    }
    keep_ = shared_from_this();
    slot_ = loop_->add_race(this);
    starting_ = true;
    start_udp(Resolve(Family::v6, false, ""));
    if (!pending_.empty()) {  // failed before asking (no server, no socket)
        Input failed = std::move(pending_.front());
        pending_.clear();
        pref64_answer(failed);
    }
    starting_ = false;
    return Status();
}

void Race::pref64_answer(const Input& in) {
    if (result_ready_) return;
    if (in.kind == Input::Kind::resolved) {
        pref64_result_ = pref64_discovery_from_answer(in.addresses);
    } else if (in.code == 0 && in.detail.empty()) {
        pref64_result_ = pref64_discovery_no_aaaa();  // NODATA or NXDOMAIN (udp_answer)
    } else {
        pref64_result_ = pref64_discovery_from_dns_error(in.dns, in.code, in.detail);
    }
    release_all();
    result_ready_ = true;
    if (starting_) {
        loop_->wake.push_back(shared_from_this());  // never inside discover_pref64()
        return;
    }
    deliver();  // the dispatcher calls maybe_release() after
}

// ---- the run loop of the machine --------------------------------------------

void Race::submit(Input input) {
    if (pref64_) return pref64_answer(input);
    pending_.push_back(std::move(input));  // (vector: no allocation for a race that never queues)
    if (busy_) return;
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
        if (cancel_requested_) {
            cancel_requested_ = false;
            machine_.cancel(now_);
            continue;
        }
        if (pending_head_ == pending_.size() || machine_.finished()) break;
        Input input = std::move(pending_[pending_head_++]);
        feed(input);
    }
    pending_.clear();
    pending_head_ = 0;
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
        case Input::Kind::opened:
            machine_.handle_opened(now_, in.id, in.code);
            break;
        case Input::Kind::connected:
            machine_.handle_connected(now_, in.id);
            // With Config::ech the handshake waits for CryptoReady (v3 §6.3).
            if (tls_callback_ && machine_.config().ech == EchMode::off) start_tls(in.id);
            break;
        case Input::Kind::connect_failed:
            machine_.handle_connect_failed(now_, in.id, in.code);
            break;
        case Input::Kind::tls_ready: {
#ifdef EYEBALLS_URING_TLS
            Attempt& a = attempt(in.id);
            if (!a.closed && a.fd >= 0 && a.tls.active() && !machine_.finished()) {
                tls_result(a, a.tls.step());
            }
#endif
            break;
        }
        case Input::Kind::timeout:
            machine_.handle_timeout(now_);
            break;
    }
}

void Race::rearm() {
    const auto next = machine_.next_timeout();
    if (!next) {
        timer_seq_ = 0;  // an entry left in the heap is stale now
        return;
    }
    if (timer_seq_ != 0 && timer_at_ == *next) return;
    timer_at_ = *next;
    timer_seq_ = ++loop_->timer_seq;
    loop_->schedule(*next, slot_, timer_seq_);
}

void Race::timer_fired(std::uint64_t seq) {
    if (seq != timer_seq_ || machine_.finished()) return;
    timer_seq_ = 0;
    const auto next = machine_.next_timeout();
    if (!next) return;
    if (Clock::now() < *next) {  // never feed an early timeout (docs/behaviour.md §7)
        rearm();
        return;
    }
    Input in;
    in.kind = Input::Kind::timeout;
    in.at = Clock::now();
    submit(std::move(in));
}

Attempt& Race::attempt(AttemptId id) {
    std::size_t i = id.number() - 1;
    if (i < inline_attempts) {
        Attempt& a = inline_[i];
        if (!inline_used_[i]) {
            inline_used_[i] = true;
            a.id = id;
            a.socket_op = Op{Op::Kind::socket, this, &a};
            a.connect_op = Op{Op::Kind::connect, this, &a};
            a.poll_op = Op{Op::Kind::tls_poll, this, &a};
        }
        return a;
    }
    i -= inline_attempts;
    if (attempts_.size() <= i) attempts_.resize(i + 1);
    if (!attempts_[i]) {
        auto a = std::make_unique<Attempt>();
        a->id = id;
        a->socket_op = Op{Op::Kind::socket, this, a.get()};
        a->connect_op = Op{Op::Kind::connect, this, a.get()};
        a->poll_op = Op{Op::Kind::tls_poll, this, a.get()};
        attempts_[i] = std::move(a);
    }
    return *attempts_[i];
}

void Race::observe(const Action& action) {
    if (observer_ && !abandoned_) observer_(now_, action, machine_);
}

// ---- completions ---------------------------------------------------------------

void Race::complete(Op& op, int res) {
    --in_flight_;
    Input in;
    switch (op.kind) {
        case Op::Kind::socket: {
            auto& a = *static_cast<Attempt*>(op.owner);
            a.opening = false;
            if (a.closed || machine_.finished()) {
                if (res >= 0) close_fd(res);  // closed while being opened
                return;
            }
            in.kind = Input::Kind::opened;
            in.at = Clock::now();
            in.id = a.id;
            if (res >= 0) {
                a.fd = res;
            } else {
                in.code = -res;
            }
            submit(std::move(in));
            return;
        }
        case Op::Kind::connect: {
            auto& a = *static_cast<Attempt*>(op.owner);
            a.connecting = false;
            if (a.closed || machine_.finished()) return;  // -ECANCELED after a Close
            in.at = Clock::now();
            in.id = a.id;
            in.kind = res == 0 ? Input::Kind::connected : Input::Kind::connect_failed;
            in.code = -res;
            submit(std::move(in));
            return;
        }
        case Op::Kind::loop_timer:
            return;
        case Op::Kind::recv:
            udp_answer(*static_cast<UdpQuery*>(op.owner), res);
            return;
        case Op::Kind::dns_timer:
            static_cast<UdpQuery*>(op.owner)->timing = false;
            if (res == -ETIME) udp_timeout(*static_cast<UdpQuery*>(op.owner));
            return;
        case Op::Kind::watch:
            return;
        case Op::Kind::tls_poll: {
            auto& a = *static_cast<Attempt*>(op.owner);
            a.polling = false;
            if (a.closed || machine_.finished()) return;  // -ECANCELED after a Close
            // Whatever the poll says (POLLERR, POLLHUP included), the next
            // SSL_connect step finds out what happened.
            in.kind = Input::Kind::tls_ready;
            in.at = Clock::now();
            in.id = a.id;
            submit(std::move(in));
            return;
        }
    }
}

void Race::maybe_release() {
    if (in_flight_ == 0 && delivered_ && keep_) {
        if (loop_ != nullptr) loop_->remove_race(slot_);
        auto last = std::move(keep_);  // may destroy the race when the caller's guard goes
    }
}

// ---- actions -------------------------------------------------------------------

void Race::perform(const Action& action) {
    if (const auto* r = std::get_if<Resolve>(&action)) {
        if (!answer_from_cache(*r)) start_udp(*r);
        observe(action);
    } else if (const auto* o = std::get_if<OpenSocket>(&action)) {
        observe(action);
        open_socket(*o);
    } else if (const auto* b = std::get_if<Bind>(&action)) {
        Attempt& a = attempt(b->attempt);
        const int err = a.fd >= 0 ? eyeballs::detail::bind_socket(a.fd, b->local) : EBADF;
        observe(action);
        machine_.handle_bound(now_, b->attempt, err);
    } else if (const auto* c = std::get_if<Connect>(&action)) {
        Attempt& a = attempt(c->attempt);
        observe(action);
        io_uring_sqe* s = a.fd >= 0 ? prep(&a.connect_op) : nullptr;
        if (s == nullptr) {
            Input in;
            in.kind = Input::Kind::connect_failed;
            in.at = now_;
            in.id = c->attempt;
            in.code = a.fd >= 0 ? EAGAIN : EBADF;
            pending_.push_back(std::move(in));
            return;
        }
        a.service = c->service;
        a.endpoint = c->remote;
        sockaddr_storage ss{};
        a.remote_len = std::min<socklen_t>(to_sockaddr(c->remote, ss), sizeof a.remote);
        std::memcpy(&a.remote, &ss, a.remote_len);
        io_uring_prep_connect(s, a.fd, reinterpret_cast<const sockaddr*>(&a.remote), a.remote_len);
        a.connecting = true;
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

void Race::open_socket(const OpenSocket& o) {
    if (o.protocol != Protocol::tcp) {  // TCP only: QUIC is the caller's to make
        machine_.handle_opened(now_, o.attempt, EPROTONOSUPPORT);
        return;
    }
    Attempt& a = attempt(o.attempt);
    const int af = to_af(o.remote.family());
    if (factory_) {
        errno = 0;
        const int fd = factory_(o.remote);
        int err = 0;
        if (fd < 0) {
            err = errno != 0 ? errno : EINVAL;
        } else if ((err = eyeballs::detail::make_nonblocking_cloexec(fd)) != 0) {
            eyeballs::detail::close_socket(fd);
        } else {
            a.fd = fd;
        }
        machine_.handle_opened(now_, o.attempt, err);
        return;
    }
    if (loop_->has_socket_op) {
        if (io_uring_sqe* s = prep(&a.socket_op)) {
            io_uring_prep_socket(s, af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0);
            a.opening = true;
            return;  // handle_opened when it completes
        }
    }
    int err = 0;
    const int fd = ::socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = errno;
    } else {
        a.fd = fd;
    }
    machine_.handle_opened(now_, o.attempt, err);
}

void Race::close_fd(int fd) noexcept {
    if (loop_ != nullptr && !loop_->destroying) {
        if (io_uring_sqe* s = prep(nullptr)) {
            io_uring_prep_close(s, fd);
            return;
        }
    }
    eyeballs::detail::close_socket(fd);
}

void Race::close_attempt(Attempt& a) noexcept {
    a.closed = true;
    if (a.connecting) {
        if (io_uring_sqe* s = prep(nullptr)) {
            io_uring_prep_cancel64(s, reinterpret_cast<std::uint64_t>(&a.connect_op), 0);
        }
    }
    if (a.polling) {  // the poll holds its own file reference until its CQE
        if (io_uring_sqe* s = prep(nullptr)) {
            io_uring_prep_cancel64(s, reinterpret_cast<std::uint64_t>(&a.poll_op), 0);
        }
    }
#ifdef EYEBALLS_URING_TLS
    a.tls = eyeballs::detail::TlsSession();  // SSL_free (the fd stays open until below)
#endif
    if (a.fd >= 0) close_fd(a.fd);
    a.fd = -1;
}

void Race::finish() {
    report_ = machine_.report();
    if (report_.outcome == Outcome::connected && report_.winner) {
        Attempt& a = attempt(report_.winner);
        winner_fd_ = a.fd;
        a.fd = -1;
#ifdef EYEBALLS_URING_TLS
        if (a.tls.active()) {
            report_.tls_version = a.tls.version();
            report_.alpn_selected = a.tls.alpn_selected();
            winner_ssl_ = a.tls.release();
        }
#endif
    }
    release_all();
    result_ready_ = true;
}

void Race::release_all() noexcept {
    for (std::size_t i = 0; i < inline_attempts; ++i) {
        if (inline_used_[i]) close_attempt(inline_[i]);
    }
    for (auto& a : attempts_) {
        if (a) close_attempt(*a);
    }
    for (auto& q : udp_) udp_close(*q);
    timer_seq_ = 0;  // its heap entry, if any, is stale
}

void Race::deliver() {
    if (delivered_) return;
    delivered_ = true;
    int fd = winner_fd_;
    winner_fd_ = -1;
    ::ssl_st* ssl = winner_ssl_;
    winner_ssl_ = nullptr;
    if (abandoned_) {
        free_tls(ssl);
        if (fd >= 0) eyeballs::detail::close_socket(fd);
        return;
    }
    if (pref64_) {
        auto callback = std::move(pref64_callback_);
        callback(pref64_result_);
        return;
    }
    if (tls_callback_) {
        auto callback = std::move(tls_callback_);
        callback(fd, ssl, report_);
        return;
    }
    auto callback = std::move(callback_);
    callback(fd, report_);
}

// ---- TLS (connect_tls) ----------------------------------------------------------

void Race::start_tls(AttemptId id) {
#ifdef EYEBALLS_URING_TLS
    Attempt& a = attempt(id);
    if (a.fd < 0 || a.closed || a.tls.active() || machine_.finished() || !tls_ctx_) return;
    // The service's own ALPN set first (RFC 9460 §7.1.2).
    const std::vector<std::string> alpn = eyeballs::detail::offered_alpn(a.service, tls_options_.alpn);
    const std::string name = eyeballs::detail::checked_name(tls_options_.server_name, tls_host_, a.endpoint);
    if (on_tls_ && !abandoned_) {
        TlsEvent e;
        e.kind = TlsEvent::Kind::started;
        e.attempt = id;
        e.remote = a.endpoint;
        e.alpn_offered = alpn;
        e.server_name = name;
        on_tls_(now_, e);
    }
    auto st = a.tls.start(*tls_ctx_, a.fd, name, alpn);
    if (st != eyeballs::detail::TlsSession::Step::failed) st = a.tls.step();
    tls_result(a, st);
#else
    (void)id;
#endif
}

#ifdef EYEBALLS_URING_TLS
// Feeds a handshake step's outcome to the machine, or waits on the fd with a
// one-shot IORING_OP_POLL_ADD (the ring never blocks on the handshake).
void Race::tls_result(Attempt& a, eyeballs::detail::TlsSession::Step st) {
    using Step = eyeballs::detail::TlsSession::Step;
    TlsEvent e;
    e.attempt = a.id;
    e.remote = a.endpoint;
    if (st == Step::want_read || st == Step::want_write) {
        if (a.polling) return;  // one is in flight already; its completion steps again
        if (io_uring_sqe* s = prep(&a.poll_op)) {
            io_uring_prep_poll_add(s, a.fd, st == Step::want_read ? POLLIN : POLLOUT);
            a.polling = true;
            return;  // complete() turns its CQE into tls_ready
        }
        e.kind = TlsEvent::Kind::failed;
        e.code = EAGAIN;
        e.error = "cannot watch the socket: no io_uring submission slot";
    } else if (st == Step::done) {
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
    if (on_tls_ && !abandoned_) on_tls_(now_, e);
    machine_.handle_secure_failed(now_, a.id, e.code, e.error);
}
#endif

void Race::cancel() {
    if (delivered_ || abandoned_ || loop_ == nullptr) return;
    if (pref64_) {
        auto guard = shared_from_this();
        if (!result_ready_) {
            pref64_result_ = pref64_discovery_failed("cancelled");
            release_all();
            result_ready_ = true;
        }
        deliver();
        maybe_release();
        return;
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
    maybe_release();
}

void Race::abandon() {
    if (delivered_ || loop_ == nullptr) return;
    abandoned_ = true;
    if (pref64_) {
        auto guard = shared_from_this();
        if (!result_ready_) release_all();
        result_ready_ = true;
        deliver();  // no callback
        maybe_release();
        return;
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
    maybe_release();
}

// ---- DNS: UDP queries on the ring ------------------------------------------------

Input Race::udp_input(const UdpQuery& q) const {
    Input in;
    in.kind = Input::Kind::resolve_failed;
    in.at = Clock::now();
    in.family = q.family;
    in.https = q.https;
    in.name = q.name;
    if (cache_ != nullptr) in.qname = q.qname;  // a copy only when it is used
    return in;
}

// Options::dns_cache: what a query brought back is kept for later races.
// Positive answers are stored with their TTL (an empty HTTPS answer
// forgets); NODATA and NXDOMAIN for addresses forget the entry; failures
// (SERVFAIL, timeouts, ...) keep it, so a stale answer can still be raced
// next time (RFC 8767).
void Race::remember(const Input& in) {
    if (cache_ == nullptr || in.cached || in.qname.empty()) return;
    if (in.kind == Input::Kind::https) {
        cache_->store_https(in.qname, in.records, in.ttl, now_);
    } else if (in.kind == Input::Kind::resolved) {
        cache_->store(in.qname, in.family, in.addresses, in.ttl, now_);
    } else if (in.kind == Input::Kind::resolve_failed && in.no_data && !in.https) {
        cache_->forget(in.qname, in.family == Family::v6 ? DnsCache::Type::aaaa : DnsCache::Type::a);
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

void Race::start_udp(const Resolve& r) {
    auto q = std::make_unique<UdpQuery>();
    q->https = r.https;
    q->family = r.family;
    q->name = std::string(r.name);
    q->qname = query_name(r, host_);  // RFC 9460 §9.1: _PORT._https.HOST off port 443
    q->type = r.https ? dns_type::https : (r.family == Family::v6 ? dns_type::aaaa : dns_type::a);
    q->recv_op = Op{Op::Kind::recv, this, q.get()};
    q->timer_op = Op{Op::Kind::dns_timer, this, q.get()};
    const std::string what = dns_type_name(q->type) + " query";
    Input failed = udp_input(*q);
    failed.at = now_;

    // An explicit dns_server is the only one asked; else resolv.conf's, in
    // order, each given an equal share of Options::dns_timeout.
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
    {
        std::uint16_t id = 0;
        const auto t = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
        id = static_cast<std::uint16_t>(t ^ (t >> 16) ^ (t >> 32) ^ reinterpret_cast<std::uintptr_t>(q.get()));
        q->id = id;
    }
    std::string error;
    auto message = r.https ? build_dns_query(q->id, q->qname, q->type, &error)
                           : build_dns_query(q->id, q->qname, q->type, &error, 0);
    if (!message) {
        failed.detail = what + " for " + q->qname + ": " + error;
        pending_.push_back(std::move(failed));
        return;
    }
    q->message = std::move(*message);
    // Each server gets an equal share of dns_timeout (at least 1 ms), sent
    // every 2 s while it lasts, the last wait being what is left of it. One
    // server and the default 4 s: sent at 0 and 2 s, failed at 4 s; two:
    // one send of 2 s each; 5 s: sent at 0, 2 and 4 s, failed at 5 s.
    q->total = dns_timeout_;
    const auto share = std::max(
        dns_timeout_ / static_cast<std::chrono::milliseconds::rep>(q->servers.size()),
        std::chrono::milliseconds(1));
    q->try_wait = std::min(udp_resend_interval, share);
    q->tries_per_server = share / q->try_wait + (share % q->try_wait != std::chrono::milliseconds::zero() ? 1 : 0);
    q->last_wait = share - q->try_wait * (q->tries_per_server - 1);
    q->tries_left = q->tries_per_server;
    q->buf.resize(r.https ? 65536 : 4096);
    if (auto not_sent = launch_udp(std::move(q))) pending_.push_back(std::move(*not_sent));
}

// Sends q's message to servers[server_index], or to the first server after
// it that takes it; the answer and the timer then come from the ring. When
// no server is left, what failed (for the race) is returned.
std::optional<Input> Race::launch_udp(std::unique_ptr<UdpQuery> q) {
    const std::string what = dns_type_name(q->type) + " query";
    int err = 0;
    q->fd = eyeballs::detail::send_to_first_server(q->servers, &q->server_index, q->message, &err);
    q->server = q->servers[q->server_index];
    if (err != 0) {
        Input failed = udp_input(*q);
        failed.code = err;
        failed.detail = what + " to " + q->server.to_string() + ": " + std::strerror(err);
        return failed;
    }
    --q->tries_left;
    UdpQuery& ref = *q;
    udp_.push_back(std::move(q));
    udp_receive(ref);
    udp_arm(ref);
    return std::nullopt;
}

// q's server gave no answer (its share ran out, or an ICMP error came back):
// the next server is asked with a fresh socket and a fresh share; after the
// last one the query fails with `failed`.
void Race::next_server(UdpQuery& q, Input failed) {
    if (q.server_index + 1 >= q.servers.size()) {
        udp_close(q);
        submit(std::move(failed));
        return;
    }
    auto next = std::make_unique<UdpQuery>();
    next->https = q.https;
    next->family = q.family;
    next->name = q.name;
    next->qname = q.qname;
    next->type = q.type;
    next->servers = q.servers;
    next->server_index = q.server_index + 1;
    next->try_wait = q.try_wait;
    next->last_wait = q.last_wait;
    next->total = q.total;
    next->tries_per_server = q.tries_per_server;
    next->tries_left = q.tries_per_server;
    next->message = q.message;
    next->id = q.id;
    next->buf.resize(q.buf.size());
    next->recv_op = Op{Op::Kind::recv, this, next.get()};
    next->timer_op = Op{Op::Kind::dns_timer, this, next.get()};
    udp_close(q);  // its memory stays with the race (udp_) until the race ends
    if (auto not_sent = launch_udp(std::move(next))) submit(std::move(*not_sent));
}

void Race::udp_receive(UdpQuery& q) {
    if (io_uring_sqe* s = prep(&q.recv_op)) {
        io_uring_prep_recv(s, q.fd, q.buf.data(), q.buf.size(), 0);
        q.receiving = true;
    }
}

void Race::udp_arm(UdpQuery& q) {
    if (io_uring_sqe* s = prep(&q.timer_op)) {
        // tries_left counts the sends still to come: none, this is the last.
        const auto ms = (q.tries_left > 0 ? q.try_wait : q.last_wait).count();
        q.wait = __kernel_timespec{ms / 1000, (ms % 1000) * 1000000};
        io_uring_prep_timeout(s, &q.wait, 0, 0);
        q.timing = true;
    }
}

void Race::udp_close(UdpQuery& q) noexcept {
    if (q.done) return;
    q.done = true;
    if (q.receiving) {
        if (io_uring_sqe* s = prep(nullptr)) {
            io_uring_prep_cancel64(s, reinterpret_cast<std::uint64_t>(&q.recv_op), 0);
        }
    }
    if (q.timing) {
        if (io_uring_sqe* s = prep(nullptr)) {
            io_uring_prep_timeout_remove(s, reinterpret_cast<std::uint64_t>(&q.timer_op), 0);
        }
    }
    if (q.fd >= 0) close_fd(q.fd);
    q.fd = -1;
}

void Race::udp_answer(UdpQuery& q, int res) {
    q.receiving = false;
    if (q.done) return;  // cancelled
    Input in = udp_input(q);
    const std::string what = dns_type_name(q.type) + " query to " + q.server.to_string();
    if (res < 0) {
        // ICMP errors of the connected socket (ECONNREFUSED, ...).
        in.code = -res;
        in.detail = what + ": " + std::strerror(-res);
        if (q.servers.size() > 1) {
            in.detail += " (the last of " + std::to_string(q.servers.size()) + " DNS servers)";
        }
        next_server(q, std::move(in));
        return;
    }
    DnsResponse r = parse_dns_response(q.buf.data(), static_cast<std::size_t>(res), q.id, q.qname, q.type);
    if (r.status == DnsResponse::Status::mismatch) {  // not ours: keep waiting
        udp_receive(q);
        return;
    }
    if (!r.ok()) {
        in.detail = r.error;
    } else if (q.https) {
        if (r.rcode != dns_rcode::noerror) {
            in.detail = dns_rcode_name(r.rcode);
        } else if (r.truncated && r.svcb.empty()) {
            in.detail = "HTTPS answer truncated (TC) with no whole record; no TCP retry";
        } else {
            in.kind = Input::Kind::https;
            in.https = false;
            name_dot_targets(r);
            in.records = std::move(r.svcb);
            in.ttl = r.ttl;
        }
    } else if (r.rcode == dns_rcode::nxdomain || (r.rcode == dns_rcode::noerror && r.addresses.empty())) {
        // NXDOMAIN and NODATA: "no data" (code 0, no text).
        in.no_data = true;
    } else if (r.rcode != dns_rcode::noerror) {
        in.detail = dns_rcode_name(r.rcode);
    } else {
        in.kind = Input::Kind::resolved;
        in.ttl = r.ttl;
        for (const Endpoint& ep : r.addresses) {
            if (ep.family() == q.family) in.addresses.push_back(ep.with_port(port_));
        }
    }
    udp_close(q);
    submit(std::move(in));
}

void Race::udp_timeout(UdpQuery& q) {
    if (q.done) return;
    if (q.tries_left > 0 && ::send(q.fd, q.message.data(), q.message.size(), 0) >= 0) {
        --q.tries_left;
        udp_arm(q);
        return;
    }
    Input in = udp_input(q);
    in.code = ETIMEDOUT;
    in.dns = DnsError::timeout;
    if (q.servers.size() == 1) {
        in.detail = "no " + dns_type_name(q.type) + " answer from " + q.server.to_string() +
                    " within " + std::to_string(q.total.count()) + " ms";
    } else {
        in.detail = "no " + dns_type_name(q.type) + " answer from " +
                    std::to_string(q.servers.size()) + " DNS servers within " +
                    std::to_string(q.total.count()) + " ms";
    }
    next_server(q, std::move(in));
}

// ---- entry points -------------------------------------------------------------------

struct Access {
    static Handle start(Loop& loop, std::string_view host, std::uint16_t port,
                        const std::vector<Endpoint>* endpoints, const Options& options, Callback callback,
                        TlsCallback tls_callback = {}) {
        LoopImpl* impl = loop.impl_.get();
        if (!impl->status.ok()) return Handle(impl->status);
        if (!callback && !tls_callback) return Handle(Status::failure("the callback is empty"));
        auto race = std::make_shared<Race>(impl, options, port, std::move(callback),
                                           std::move(tls_callback));
        Status status = race->start(host, port, endpoints, options);
        if (!status.ok()) return Handle(std::move(status));
        return Handle(std::move(race));
    }
    static LoopImpl& impl(Loop& loop) { return *loop.impl_; }

    static Handle pref64(Loop& loop, const Options& options, Pref64Callback callback) {
        LoopImpl* impl = loop.impl_.get();
        if (!impl->status.ok()) return Handle(impl->status);
        if (!callback) return Handle(Status::failure("the callback is empty"));
        auto race = std::make_shared<Race>(impl, Options{}, 0, Callback{}, TlsCallback{});
        Status status = race->start_pref64(options, std::move(callback));
        if (!status.ok()) return Handle(std::move(status));
        return Handle(std::move(race));
    }
};

Result blocking(std::string_view host, std::uint16_t port, const std::vector<Endpoint>* endpoints,
                const Options& options, bool tls) {
    Result result;
    auto refuse = [&](Status s, int code = EINVAL) {
        result.status = std::move(s);
        result.report.outcome = Outcome::failed;
        result.report.code = code;
        result.report.message = result.status.message();
        return result;
    };
    Loop loop(64);
    if (!loop.status()) return refuse(loop.status(), ENOSYS);
    bool done = false;
    Callback callback = [&](int fd, const RaceReport& report) {
        result.fd = fd;
        result.report = report;
        done = true;
    };
    TlsCallback tls_callback;
    if (tls) {
        tls_callback = [&](int fd, ::ssl_st* ssl, const RaceReport& report) {
            result.fd = fd;
            result.ssl = ssl;
            result.report = report;
            done = true;
        };
        callback = nullptr;
    }
    Handle handle = endpoints != nullptr
                        ? Access::start(loop, {}, 0, endpoints, options, callback, tls_callback)
                        : Access::start(loop, host, port, nullptr, options, callback, tls_callback);
    if (!handle.status()) return refuse(handle.status());
    LoopImpl& impl = Access::impl(loop);
    // The cancel fd: a POLL_ADD whose user_data is the address of `watch`
    // with bit 1 set; turn() recognises its completion and never hands it
    // to a race.
    Op watch{Op::Kind::watch, nullptr, nullptr};
    const std::uint64_t watch_data = reinterpret_cast<std::uint64_t>(&watch) | 2u;
    if (options.cancel_fd >= 0 && !done) {
        if (io_uring_sqe* s = impl.sqe()) {
            io_uring_prep_poll_add(s, options.cancel_fd, POLLIN);
            io_uring_sqe_set_data64(s, watch_data);
            impl.watch_data = watch_data;
        }
    }
    bool remove_sent = false;
    int err = 0;
    while (!done || impl.watch_data != 0 || impl.live > 0 || !impl.wake.empty()) {
        if (!impl.wake.empty()) {
            auto due = std::move(impl.wake);
            impl.wake.clear();
            for (auto& r : due) {
                r->deliver();
                r->maybe_release();
            }
            continue;
        }
        if (done && impl.watch_data != 0 && !remove_sent) {
            // The race is over: take the POLL_ADD back and wait for its CQE.
            if (io_uring_sqe* s = impl.sqe()) {
                io_uring_prep_poll_remove(s, watch_data);
                io_uring_sqe_set_data64(s, 0);  // its own completion: ignored
            }
            remove_sent = true;
        }
        if (!impl.turn(err)) break;
        if (impl.watch_fired) {
            impl.watch_fired = false;
            handle.cancel();
        }
    }
    impl.watch_data = 0;
    if (err != 0 && !done) {
        handle.cancel();
        return refuse(Status::failure(std::string("io_uring_enter: ") + std::strerror(err)), err);
    }
    return result;
}

}  // namespace detail

// ---- public API ------------------------------------------------------------------

Loop::Loop(unsigned entries) : impl_(std::make_unique<detail::LoopImpl>(entries)) {}
Loop::~Loop() = default;
const Status& Loop::status() const noexcept { return impl_->status; }
Status Loop::run() { return impl_->run(); }
std::size_t Loop::races() const noexcept { return impl_->live; }
bool Loop::socket_op() const noexcept { return impl_->has_socket_op; }
std::uint64_t Loop::enters() const noexcept { return impl_->enters; }

Handle::Handle() noexcept = default;
Handle::Handle(std::shared_ptr<detail::Race> race) noexcept : race_(std::move(race)) {}
Handle::Handle(Handle&& other) noexcept : race_(std::move(other.race_)), status_(std::move(other.status_)) {}
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
bool Handle::running() const noexcept { return race_ && race_->alive() && race_->running(); }
void Handle::cancel() {
    if (auto race = race_) race->cancel();
}
void Handle::detach() noexcept { race_.reset(); }

Handle connect(Loop& loop, std::string_view host, std::uint16_t port, const Options& options,
               Callback callback) {
    return detail::Access::start(loop, host, port, nullptr, options, std::move(callback));
}
Handle connect(Loop& loop, const std::vector<Endpoint>& endpoints, const Options& options,
               Callback callback) {
    return detail::Access::start(loop, {}, 0, &endpoints, options, std::move(callback));
}
Result connect(std::string_view host, std::uint16_t port, const Options& options) {
    return detail::blocking(host, port, nullptr, options, false);
}
Result connect(const std::vector<Endpoint>& endpoints, const Options& options) {
    return detail::blocking({}, 0, &endpoints, options, false);
}

Handle connect_tls(Loop& loop, std::string_view host, std::uint16_t port, const Options& options,
                   TlsCallback callback) {
    return detail::Access::start(loop, host, port, nullptr, options, {}, std::move(callback));
}
Handle connect_tls(Loop& loop, const std::vector<Endpoint>& endpoints, const Options& options,
                   TlsCallback callback) {
    return detail::Access::start(loop, {}, 0, &endpoints, options, {}, std::move(callback));
}
Result connect_tls(std::string_view host, std::uint16_t port, const Options& options) {
    return detail::blocking(host, port, nullptr, options, true);
}
Result connect_tls(const std::vector<Endpoint>& endpoints, const Options& options) {
    return detail::blocking({}, 0, &endpoints, options, true);
}

void free_tls(::ssl_st* ssl) noexcept {
#ifdef EYEBALLS_URING_TLS
    eyeballs::detail::TlsSession::free(ssl);
#else
    (void)ssl;
#endif
}

bool tls_available() noexcept {
#ifdef EYEBALLS_URING_TLS
    return true;
#else
    return false;
#endif
}

Handle discover_pref64(Loop& loop, const Options& options, Pref64Callback callback) {
    return detail::Access::pref64(loop, options, std::move(callback));
}

}  // namespace eyeballs::uring
