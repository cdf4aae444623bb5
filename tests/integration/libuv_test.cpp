// SPDX-License-Identifier: BSL-1.0
// Integration tests of the libuv adapter: real sockets on loopback, a real
// uv_loop_t, uv_getaddrinfo for localhost and the test DNS server for names.
// Every test runs inside FdLeakTest, and TearDown runs the loop until it has
// nothing left (uv_run returns 0) and closes it (uv_loop_close must succeed):
// a socket, a handle or a request left behind fails the test.
//
// Timing assertions are one-sided where they can be (a start never comes
// before the delay allows) and generous where they cannot (a busy 2-core box).
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/history.hpp"
#include "eyeballs/libuv.hpp"
#include "eyeballs/posix.hpp"
#include "support.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace lu = eyeballs::libuv;

// ---- helpers ----------------------------------------------------------------

/// Every action the adapter performed, with its time.
struct Recorder {
    struct Entry {
        TimePoint t;
        Action action;
    };
    std::vector<Entry> log;
    std::function<void(const Action&)> hook;  // runs after recording

    ActionObserver observer() {
        return [this](TimePoint t, const Action& a, const RaceMachine&) {
            log.push_back({t, a});
            if (hook) hook(a);
        };
    }
    template <class T>
    std::vector<T> all() const {
        std::vector<T> out;
        for (const Entry& e : log) {
            if (const T* x = std::get_if<T>(&e.action)) out.push_back(*x);
        }
        return out;
    }
    std::optional<TimePoint> connect_time(std::uint32_t n) const {
        for (const Entry& e : log) {
            if (const auto* c = std::get_if<Connect>(&e.action); c && c->attempt.number() == n) {
                return e.t;
            }
        }
        return std::nullopt;
    }
};

int fd_of(uv_tcp_t* tcp) {
    uv_os_fd_t fd = -1;
    if (tcp == nullptr || uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd) != 0) return -1;
    return fd;
}

/// What the callback received. The winner is closed (close_tcp) when the
/// result goes away, so declare it before nothing that outlives the loop.
struct Result {
    int calls = 0;
    uv_tcp_t* tcp = nullptr;
    RaceReport report;
    TimePoint at{};

    lu::Callback callback() {
        return [this](uv_tcp_t* t, const RaceReport& r) {
            ++calls;
            tcp = t;
            report = r;
            at = Clock::now();
        };
    }
    int fd() const { return fd_of(tcp); }
    void close() {
        lu::close_tcp(tcp);
        tcp = nullptr;
    }
    ~Result() { close(); }
};

std::optional<Endpoint> peer_of(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

std::optional<Endpoint> local_of(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

/// One Report, last; no attempt closed twice; the winner never closed; every
/// attempt that got a Connect closed unless it won.
void expect_clean_trace(const Recorder& rec, const RaceReport& report) {
    ASSERT_FALSE(rec.log.empty());
    EXPECT_TRUE(std::holds_alternative<Report>(rec.log.back().action)) << "the report is last";
    EXPECT_EQ(rec.all<Report>().size(), 1u);
    std::vector<std::uint32_t> closes;
    for (const Close& c : rec.all<Close>()) closes.push_back(c.attempt.number());
    std::sort(closes.begin(), closes.end());
    EXPECT_TRUE(std::adjacent_find(closes.begin(), closes.end()) == closes.end())
        << "an attempt was closed twice";
    for (const Connect& c : rec.all<Connect>()) {
        const bool won = report.outcome == Outcome::connected && report.winner == c.attempt;
        const bool closed = std::binary_search(closes.begin(), closes.end(), c.attempt.number());
        EXPECT_NE(won, closed) << "attempt " << c.attempt.number()
                               << (won ? " won and was closed" : " was never closed");
    }
}

/// Calls `f` after `after`, from the loop.
struct Later {
    uv_timer_t* timer = nullptr;
    std::function<void()> f;
    Later(uv_loop_t* loop, Clock::duration after, std::function<void()> fn) : f(std::move(fn)) {
        timer = static_cast<uv_timer_t*>(std::malloc(sizeof(uv_timer_t)));
        uv_timer_init(loop, timer);
        timer->data = this;
        uv_update_time(loop);  // the loop's clock is cached: count from now
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(after).count();
        uv_timer_start(
            timer, [](uv_timer_t* t) { static_cast<Later*>(t->data)->f(); },
            static_cast<std::uint64_t>(ms), 0);
    }
    ~Later() {
        uv_close(reinterpret_cast<uv_handle_t*>(timer), [](uv_handle_t* h) { std::free(h); });
    }
};

class LibuvTest : public FdLeakTest {
protected:
    void SetUp() override {
        // libuv makes process-wide descriptors (its signal pipe) at the first
        // uv_loop_init() and keeps them: make them before counting.
        static const bool warmed = [] {
            uv_loop_t warm;
            uv_loop_init(&warm);
            return uv_loop_close(&warm) == 0;
        }();
        ASSERT_TRUE(warmed);
        FdLeakTest::SetUp();
        ASSERT_EQ(uv_loop_init(&loop_), 0);
        // A loop opens one more descriptor (its EMFILE reserve, /dev/null) at
        // its first stream handle and keeps it until uv_loop_close: open it
        // now, so fd counts taken inside a test see only the races' sockets.
        uv_tcp_t warm;
        ASSERT_EQ(uv_tcp_init(&loop_, &warm), 0);
        uv_close(reinterpret_cast<uv_handle_t*>(&warm), nullptr);
        uv_run(&loop_, UV_RUN_NOWAIT);
    }
    void TearDown() override {
        EXPECT_TRUE(drains()) << "handles or requests were left on the loop";
        EXPECT_EQ(uv_loop_close(&loop_), 0) << "uv_loop_close: the loop is still busy";
        FdLeakTest::TearDown();
    }

    /// Runs the loop until `done()` or `limit` passes (a failed test, not a hang).
    void run_until(const std::function<bool()>& done, Clock::duration limit = 10s) {
        const auto deadline = Clock::now() + limit;
        uv_timer_t tick;
        uv_timer_init(&loop_, &tick);
        // Keeps the loop turning even when it has nothing else to do.
        uv_timer_start(&tick, [](uv_timer_t*) {}, 20, 20);
        while (!done() && Clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
        uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
        uv_run(&loop_, UV_RUN_NOWAIT);  // the tick's close
        EXPECT_TRUE(done()) << "the race did not end in time";
    }
    void run(const Result& r, Clock::duration limit = 10s) {
        run_until([&] { return r.calls > 0; }, limit);
    }
    /// Runs the loop until nothing is left on it: uv_run() returns 0.
    bool drains(Clock::duration limit = 5s) {
        const auto deadline = Clock::now() + limit;
        while (Clock::now() < deadline) {
            if (uv_run(&loop_, UV_RUN_NOWAIT) == 0 && !uv_loop_alive(&loop_)) return true;
            ::usleep(1000);
        }
        return false;
    }

    uv_loop_t loop_{};
};

#define REQUIRE_IPV6()                                                              \
    do {                                                                            \
        if (!ipv6_loopback_available()) GTEST_SKIP() << "no [::1] on this host";    \
    } while (0)

// ---- racing addresses on loopback (docs/behaviour.md §1) ---------------------------------

TEST_F(LibuvTest, BlackholedIpv6LosesToIpv4AfterTheAttemptDelay) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    Recorder rec;
    Result r;
    lu::Options o;
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    EXPECT_TRUE(h.running());
    run(r);

    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    EXPECT_EQ(r.report.winner, AttemptId(2));
    ASSERT_NE(r.tcp, nullptr);
    EXPECT_EQ(r.tcp->loop, &loop_) << "initialised on the caller's loop";
    EXPECT_EQ(r.tcp->data, nullptr);
    const int fd = r.fd();
    ASSERT_GE(fd, 0);
    EXPECT_EQ(peer_of(fd), loopback_v4(pair.port));
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "the winner is non-blocking";
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "the winner is close-on-exec";
    auto c1 = rec.connect_time(1);
    auto c2 = rec.connect_time(2);
    ASSERT_TRUE(c1 && c2);
    EXPECT_GE(*c2 - *c1, 250ms) << "IPv4 started before the attempt delay (the timer fired early)";
    EXPECT_LT(*c2 - *c1, 1250ms);
    ASSERT_EQ(rec.all<Close>().size(), 1u);
    EXPECT_EQ(rec.all<Close>()[0].attempt, AttemptId(1));
    expect_clean_trace(rec, r.report);
    EXPECT_FALSE(h.running());
    EXPECT_EQ(open.accept_all(), 1);
}

TEST_F(LibuvTest, TheWinnerIsAWorkingStream) {
    Listener open(loopback_v4());
    Result r;
    auto h = lu::connect(&loop_, {open.endpoint()}, lu::Options{}, r.callback());
    run(r);
    ASSERT_NE(r.tcp, nullptr) << r.report.message;
    uv_buf_t buf = uv_buf_init(const_cast<char*>("x"), 1);
    EXPECT_EQ(uv_try_write(reinterpret_cast<uv_stream_t*>(r.tcp), &buf, 1), 1);
    EXPECT_EQ(open.accept_all(), 1);
}

TEST_F(LibuvTest, SubMillisecondDelaysNeverStartEarly) {
    // uv timers count whole milliseconds: 100.4 ms must not start at 100 ms.
    Blackhole hole(loopback_v4());
    Listener open(loopback_v4());
    for (int i = 0; i < 3; ++i) {
        Recorder rec;
        Result r;
        lu::Options o;
        o.config.attempt_delay = std::chrono::microseconds(100400);
        o.on_action = rec.observer();
        auto h = lu::connect(&loop_, {hole.endpoint(), open.endpoint()}, o, r.callback());
        run(r);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
        auto c1 = rec.connect_time(1);
        auto c2 = rec.connect_time(2);
        ASSERT_TRUE(c1 && c2);
        EXPECT_GE(*c2 - *c1, std::chrono::microseconds(100400));
        EXPECT_LT(*c2 - *c1, 1100ms);
        r.close();
        open.accept_all();
    }
}

TEST_F(LibuvTest, RefusedIpv6FailsOverAtOnceButNotWithin10ms) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    Recorder rec;
    Result r;
    lu::Options o;
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    auto c1 = rec.connect_time(1);
    auto c2 = rec.connect_time(2);
    ASSERT_TRUE(c1 && c2);
    EXPECT_GE(*c2 - *c1, 10ms) << "the 10 ms floor (RFC 8305 §5)";
    EXPECT_LT(*c2 - *c1, 200ms) << "fail fast: no wait for the 250 ms delay";
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].code, ECONNREFUSED);
    EXPECT_EQ(r.report.errors[0].stage, Stage::connect);
    expect_clean_trace(rec, r.report);
    open.accept_all();
}

TEST_F(LibuvTest, AllRefusedReportsEconnrefusedWithEveryError) {
    RefusedPort a(loopback_v4());
    RefusedPort b(loopback_v4());
    Recorder rec;
    Result r;
    lu::Options o;
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, {a.endpoint(), b.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.calls, 1);
    EXPECT_EQ(r.tcp, nullptr);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_EQ(r.report.code, ECONNREFUSED);
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].remote, a.endpoint());
    EXPECT_EQ(r.report.errors[1].remote, b.endpoint());
    EXPECT_NE(r.report.message.find("multiple errors"), std::string::npos) << r.report.message;
    expect_clean_trace(rec, r.report);
}

TEST_F(LibuvTest, LiteralHostRacesThatAddressWithoutDns) {
    Listener open(loopback_v4());
    Recorder rec;
    Result r;
    lu::Options o;
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, "127.0.0.1", open.endpoint().port(), o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, open.endpoint());
    EXPECT_TRUE(rec.all<Resolve>().empty());
    open.accept_all();
}

// ---- local bind (docs/behaviour.md §1 rule 7) --------------------------------------------

TEST_F(LibuvTest, BindsTheLocalCandidateOfItsFamily) {
    Listener open(loopback_v4());
    Fd reserved = bind_tcp(loopback_v4());  // a free local port, released below
    const Endpoint local = bound_endpoint(reserved.get());
    reserved.reset();
    Recorder rec;
    Result r;
    lu::Options o;
    o.config.local = {Endpoint::parse("[::1]:0", 0).value(), local};
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, {open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(local_of(r.fd()), local);
    EXPECT_EQ(r.report.local, local);
    ASSERT_EQ(rec.all<Bind>().size(), 1u);
    EXPECT_EQ(rec.all<Bind>()[0].local, local);
    open.accept_all();
}

TEST_F(LibuvTest, FailedBindIsRecordedAndTheNextCandidateIsUsed) {
    Listener open(loopback_v4());
    // 192.0.2.1 (RFC 5737) is not an address of this host: EADDRNOTAVAIL.
    const Endpoint foreign = Endpoint::parse("192.0.2.1:0", 0).value();
    const Endpoint loop = loopback_v4(0);
    Result r;
    lu::Options o;
    o.config.local = {foreign, loop};
    auto h = lu::connect(&loop_, {open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::bind);
    EXPECT_EQ(r.report.errors[0].local, foreign);
    EXPECT_EQ(r.report.errors[0].code, EADDRNOTAVAIL);
    auto mine = local_of(r.fd());
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->with_port(0), loop);
    open.accept_all();
}

// ---- timeouts (docs/behaviour.md §1 rule 8) ------------------------------------------------

TEST_F(LibuvTest, AttemptTimeoutFailsAHangingAttempt) {
    Blackhole hole(loopback_v4());
    Recorder rec;
    Result r;
    lu::Options o;
    o.config.attempt_timeout = 100ms;
    o.on_action = rec.observer();
    const auto t0 = Clock::now();
    auto h = lu::connect(&loop_, {hole.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_EQ(r.report.code, ETIMEDOUT);
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::timeout);
    EXPECT_GE(r.at - t0, 100ms);
    EXPECT_LT(r.at - t0, 2s);
    EXPECT_FALSE(r.report.overall_timeout);
    expect_clean_trace(rec, r.report);
}

TEST_F(LibuvTest, OverallTimeoutEndsTheRace) {
    Blackhole a(loopback_v4());
    Blackhole b(loopback_v4());
    Recorder rec;
    Result r;
    lu::Options o;
    o.config.overall_timeout = 150ms;
    o.on_action = rec.observer();
    const auto t0 = Clock::now();
    auto h = lu::connect(&loop_, {a.endpoint(), b.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_TRUE(r.report.overall_timeout);
    EXPECT_EQ(r.report.code, ETIMEDOUT);
    EXPECT_GE(r.at - t0, 150ms);
    EXPECT_LT(r.at - t0, 2s);
    EXPECT_EQ(rec.all<Connect>().size(), 1u) << "the second attempt was due only at 250 ms";
    expect_clean_trace(rec, r.report);
}

// ---- DNS (docs/behaviour.md §2) ---------------------------------------------------------------

TEST_F(LibuvTest, ResolvesBothFamiliesOnTheGivenDnsServer) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    Recorder rec;
    Result r;
    {
        DnsServer dns;
        dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
        dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
        lu::Options o;
        o.dns_server = dns.endpoint();
        o.on_action = rec.observer();
        auto h = lu::connect(&loop_, "dual.test", pair.port, o, r.callback());
        ASSERT_TRUE(h.status().ok()) << h.status().message();
        run(r);
        auto queries = dns.queries();
        ASSERT_EQ(queries.size(), 2u);
        EXPECT_EQ(std::count_if(queries.begin(), queries.end(),
                                [](const auto& q) { return q.family == Family::v6; }),
                  1);
    }
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    ASSERT_EQ(rec.all<Resolve>().size(), 2u);
    EXPECT_EQ(rec.all<Resolve>()[0].family, Family::v6);
    EXPECT_EQ(rec.all<Resolve>()[1].family, Family::v4);
    ASSERT_EQ(rec.all<Connect>().size(), 2u);
    EXPECT_EQ(rec.all<Connect>()[0].remote, loopback_v6(pair.port)) << "AAAA first";
    expect_clean_trace(rec, r.report);
    open.accept_all();
}

TEST_F(LibuvTest, ResolutionDelayExpiresThenIpv4Starts) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    DnsServer dns;
    dns.set("slow6.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 400ms));
    dns.set("slow6.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    Recorder rec;
    Result r;
    lu::Options o;
    o.dns_server = dns.endpoint();
    o.on_action = rec.observer();
    const auto t0 = Clock::now();
    auto h = lu::connect(&loop_, "slow6.test", pair.port, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    auto c1 = rec.connect_time(1);
    ASSERT_TRUE(c1);
    EXPECT_GE(*c1 - t0, 50ms) << "the 50 ms Resolution Delay (RFC 8305 §3)";
    EXPECT_LT(*c1 - t0, 350ms);
    v4.accept_all();
}

// The DNS classes every adapter reports (Error::dns, issue 14 item 6).
TEST_F(LibuvTest, NegativeAnswersCarryTheirDnsClass) {
    Listener open(loopback_v4());
    DnsServer dns;
    dns.set("v4only.test", Family::v6, DnsServer::Answer::servfail());
    dns.set("v4only.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set("nodata.test", Family::v4, DnsServer::Answer::nodata());
    Recorder rec;
    Result r;
    lu::Options o;
    o.dns_server = dns.endpoint();
    auto h = lu::connect(&loop_, "v4only.test", open.endpoint().port(), o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].family, Family::v6);
    EXPECT_NE(r.report.errors[0].detail.find("SERVFAIL"), std::string::npos)
        << r.report.errors[0].detail;
    EXPECT_EQ(r.report.errors[0].dns, DnsError::server_failure);
    EXPECT_EQ(r.report.errors[0].message(), "resolve AAAA: server failure (SERVFAIL)");

    Result nx;
    auto h2 = lu::connect(&loop_, "nosuch.test", 80, o, nx.callback());  // NXDOMAIN both
    run(nx);
    EXPECT_EQ(nx.report.outcome, Outcome::failed);
    ASSERT_EQ(nx.report.errors.size(), 2u);
    for (const auto& e : nx.report.errors) {
        EXPECT_EQ(e.stage, Stage::resolve);
        EXPECT_EQ(e.code, 0);
        EXPECT_EQ(e.dns, DnsError::nxdomain);
        EXPECT_NE(e.message().find("no such name (NXDOMAIN)"), std::string::npos) << e.message();
    }

    Result nd;  // v4: NOERROR without an A record; v6: not listed for the name either
    auto h3 = lu::connect(&loop_, "nodata.test", 80, o, nd.callback());
    run(nd);
    EXPECT_EQ(nd.report.outcome, Outcome::failed);
    ASSERT_EQ(nd.report.errors.size(), 2u);
    for (const auto& e : nd.report.errors) {
        EXPECT_EQ(e.dns, DnsError::nodata);
        EXPECT_EQ(e.message(), std::string("resolve ") + (e.family == Family::v6 ? "AAAA" : "A") +
                                   ": no data");
    }
    open.accept_all();
}

TEST_F(LibuvTest, LocalhostResolvesThroughTheSystemResolver) {
    // uv_getaddrinfo() per family, no AI_ADDRCONFIG: /etc/hosts answers.
    Listener open(loopback_v4());
    Recorder rec;
    Result r;
    lu::Options o;
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, "localhost", open.endpoint().port(), o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    EXPECT_EQ(r.calls, 0) << "never called from inside connect()";
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote->family(), Family::v4);
    EXPECT_EQ(r.report.remote->port(), open.endpoint().port());
    ASSERT_EQ(rec.all<Resolve>().size(), 2u);
    EXPECT_EQ(rec.all<Resolve>()[0].family, Family::v6);
    EXPECT_EQ(rec.all<Resolve>()[1].family, Family::v4);
    expect_clean_trace(rec, r.report);
    open.accept_all();
}

TEST_F(LibuvTest, HttpsRecordsAreAskedForAndRaced) {
    // Happy Eyeballs v3: the HTTPS record names a port; the race connects there.
    Listener open(loopback_v4());
    DnsServer dns;
    dns.set("svc.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set("svc.test", Family::v6, DnsServer::Answer::nodata());
    // Port 1 is not 443: the HTTPS question is port-prefixed (RFC 9460 §9.1), and
    // its "." target means the origin's own name.
    dns.set_https("_1._https.svc.test", DnsServer::Answer::https_text(
                                  {"1 . alpn=h2 port=" + std::to_string(open.endpoint().port())}));
    Recorder rec;
    Result r;
    lu::Options o;
    o.config.https = true;
    o.dns_server = dns.endpoint();
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, "svc.test", 1, o, r.callback());  // port 1: only the record's works
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, open.endpoint());
    bool asked = false;
    for (const auto& q : dns.queries()) asked = asked || q.type == 65;
    EXPECT_TRUE(asked) << "no HTTPS (type 65) query reached the server";
    bool https_resolve = false;
    for (const Resolve& res : rec.all<Resolve>()) https_resolve = https_resolve || res.https;
    EXPECT_TRUE(https_resolve);
    open.accept_all();
}

// ---- cancel at every stage (docs/behaviour.md §1 rule 9) ------------------------------------

TEST_F(LibuvTest, CancelDuringDnsCallsBackAtOnceAndTheLoopDrains) {
    DnsServer dns;
    dns.set("silent.test", Family::v6, DnsServer::Answer::silent());
    dns.set("silent.test", Family::v4, DnsServer::Answer::silent());
    Recorder rec;
    Result r;
    lu::Options o;
    o.dns_server = dns.endpoint();
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, "silent.test", 80, o, r.callback());
    bool cancelled_inside = false;
    {
        Later l(&loop_, 50ms, [&] {
            h.cancel();
            cancelled_inside = r.calls == 1;  // synchronous: before cancel() returned
            h.cancel();                        // idempotent
        });
        run(r);
    }
    EXPECT_TRUE(cancelled_inside);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_EQ(r.tcp, nullptr);
    EXPECT_TRUE(rec.all<Connect>().empty());
    EXPECT_FALSE(h.running());
    EXPECT_TRUE(drains()) << "the cancelled queries linger";
}

TEST_F(LibuvTest, CancelDuringGetaddrinfoDrains) {
    Result r;
    auto h = lu::connect(&loop_, "localhost", 9, lu::Options{}, r.callback());
    ASSERT_TRUE(h.status().ok());
    h.cancel();  // the queries are on the thread pool (or queued for it)
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_TRUE(drains()) << "a cancelled uv_getaddrinfo keeps the loop";
}

TEST_F(LibuvTest, CancelBetweenAttemptsClosesEverySocket) {
    const int fds_before = open_fd_count();
    {
        Blackhole a(loopback_v4());
        Blackhole b(loopback_v4());
        Blackhole c(loopback_v4());
        const int fds_with_holes = open_fd_count();
        Recorder rec;
        Result r;
        lu::Options o;
        o.config.attempt_delay = 50ms;
        o.on_action = rec.observer();
        auto h = lu::connect(&loop_, {a.endpoint(), b.endpoint(), c.endpoint()}, o, r.callback());
        {
            Later l(&loop_, 75ms, [&] { h.cancel(); });
            run(r);
        }
        EXPECT_EQ(r.report.outcome, Outcome::cancelled);
        EXPECT_EQ(rec.all<Connect>().size(), 2u);
        EXPECT_EQ(rec.all<Close>().size(), 2u);
        expect_clean_trace(rec, r.report);
        EXPECT_EQ(open_fd_count(), fds_with_holes) << "uv_close closes the sockets at once";
        EXPECT_TRUE(drains());
    }
    EXPECT_EQ(open_fd_count(), fds_before);
}

TEST_F(LibuvTest, CancelFromInsideTheObserver) {
    Blackhole hole(loopback_v4());
    Blackhole hole2(loopback_v4());
    for (int stage = 0; stage < 2; ++stage) {
        SCOPED_TRACE(stage == 0 ? "at OpenSocket" : "at Connect");
        Recorder rec;
        Result r;
        lu::Handle h;
        int calls_when_cancel_returned = -1;
        rec.hook = [&](const Action& a) {
            const auto* o = std::get_if<OpenSocket>(&a);
            const auto* c = std::get_if<Connect>(&a);
            if ((stage == 0 && o && o->attempt.number() == 2) ||
                (stage == 1 && c && c->attempt.number() == 2)) {
                h.cancel();
                calls_when_cancel_returned = r.calls;
            }
        };
        lu::Options o;
        o.config.attempt_delay = 20ms;
        o.on_action = rec.observer();
        h = lu::connect(&loop_, {hole.endpoint(), hole2.endpoint()}, o, r.callback());
        run(r);
        EXPECT_EQ(calls_when_cancel_returned, 0) << "deferred until the action is done";
        EXPECT_EQ(r.calls, 1);
        EXPECT_EQ(r.report.outcome, Outcome::cancelled);
        EXPECT_EQ(rec.all<OpenSocket>().size(), 2u);
        EXPECT_EQ(rec.all<Connect>().size(), stage == 0 ? 1u : 2u);
        EXPECT_EQ(rec.all<Close>().size(), 2u) << "attempt 2's socket was opened: it is closed";
        expect_clean_trace(rec, r.report);
    }
}

TEST_F(LibuvTest, CancelAfterSuccessChangesNothing) {
    Listener open(loopback_v4());
    Result r;
    lu::Handle h;
    int calls = 0;
    uv_tcp_t* got = nullptr;
    h = lu::connect(&loop_, {open.endpoint()}, lu::Options{}, [&](uv_tcp_t* t, const RaceReport&) {
        ++calls;
        got = t;
        h.cancel();  // from inside the callback: nothing left to cancel
    });
    run_until([&] { return calls > 0; });
    ASSERT_NE(got, nullptr);
    h.cancel();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(peer_of(fd_of(got)).has_value()) << "the winner is still open";
    lu::close_tcp(got);
    open.accept_all();
}

TEST_F(LibuvTest, DestroyingARunningHandleCancelsWithoutCallback) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole6(std::move(pair.v6));
    Blackhole hole4(std::move(pair.v4));
    Recorder rec;
    Result r;
    lu::Options o;
    o.config.attempt_delay = 20ms;
    o.on_action = rec.observer();
    auto h = std::make_unique<lu::Handle>(
        lu::connect(&loop_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o, r.callback()));
    bool two = false;
    run_until([&] { return two = rec.all<Connect>().size() == 2; });
    ASSERT_TRUE(two);
    h.reset();
    EXPECT_EQ(r.calls, 0);
    EXPECT_TRUE(drains()) << "an abandoned race left handles behind";
    EXPECT_EQ(r.calls, 0);
}

TEST_F(LibuvTest, AbandonedRacesLetTheLoopClose) {
    // The documented way to close a loop with races pending: cancel (or
    // destroy) them, run the loop until uv_run returns 0, then uv_loop_close.
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    {
        Blackhole hole(loopback_v4());
        DnsServer dns;
        dns.set("silent.test", Family::v6, DnsServer::Answer::silent());
        dns.set("silent.test", Family::v4, DnsServer::Answer::silent());
        lu::Options o;
        Result a;
        Result b;
        Result c;
        auto ha = lu::connect(&loop, {hole.endpoint()}, o, a.callback());
        lu::Options od;
        od.dns_server = dns.endpoint();
        od.config.https = true;
        auto hb = lu::connect(&loop, "silent.test", 80, od, b.callback());
        auto hc = lu::connect(&loop, "localhost", 9, o, c.callback());
        uv_run(&loop, UV_RUN_NOWAIT);
        EXPECT_EQ(uv_loop_close(&loop), UV_EBUSY) << "races are pending";
        ha.cancel();
        hb = lu::Handle();  // abandoned: no callback
        hc.cancel();
        EXPECT_EQ(a.report.outcome, Outcome::cancelled);
        EXPECT_EQ(b.calls, 0);
        const auto limit = Clock::now() + 5s;
        int rc = 1;
        while (rc != 0 && Clock::now() < limit) rc = uv_run(&loop, UV_RUN_DEFAULT);
        EXPECT_EQ(rc, 0);
    }
    EXPECT_EQ(uv_loop_close(&loop), 0);
}

TEST_F(LibuvTest, TheCallbackMayDestroyItsHandle) {
    Listener open(loopback_v4());
    auto h = std::make_unique<lu::Handle>();
    int calls = 0;
    *h = lu::connect(&loop_, {open.endpoint()}, lu::Options{}, [&](uv_tcp_t* t, const RaceReport&) {
        ++calls;
        h.reset();  // frees the handle from inside
        lu::close_tcp(t);
    });
    run_until([&] { return calls > 0; });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(h, nullptr);
    open.accept_all();
}

TEST_F(LibuvTest, TheObserverMayDestroyItsHandle) {
    Blackhole hole(loopback_v4());
    Blackhole hole2(loopback_v4());
    auto h = std::make_unique<lu::Handle>();
    int calls = 0;
    Recorder rec;
    rec.hook = [&](const Action& a) {
        if (const auto* c = std::get_if<Connect>(&a); c && c->attempt.number() == 2) h.reset();
    };
    lu::Options o;
    o.config.attempt_delay = 20ms;
    o.on_action = rec.observer();
    *h = lu::connect(&loop_, {hole.endpoint(), hole2.endpoint()}, o,
                     [&](uv_tcp_t*, const RaceReport&) { ++calls; });
    run_until([&] { return h == nullptr; });
    EXPECT_EQ(calls, 0) << "an abandoned race calls nobody";
    EXPECT_TRUE(std::holds_alternative<Connect>(rec.log.back().action))
        << "no action is observed after the handle is gone";
}

TEST_F(LibuvTest, DetachedRaceRunsToItsEnd) {
    Listener open(loopback_v4());
    Result r;
    {
        auto h = lu::connect(&loop_, {open.endpoint()}, lu::Options{}, r.callback());
        h.detach();
        EXPECT_FALSE(h.running());
    }
    run(r);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.report.outcome, Outcome::connected);
    open.accept_all();
}

// ---- many races, one loop -------------------------------------------------------

TEST_F(LibuvTest, TwoHundredConcurrentRacesOnOneLoop) {
    REQUIRE_IPV6();
    constexpr int kRaces = 200;
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4), 1024);
    uv_poll_t acceptor;
    uv_poll_init_socket(&loop_, &acceptor, open.fd());
    acceptor.data = &open;
    uv_poll_start(&acceptor, UV_READABLE,
                  [](uv_poll_t* p, int, int) { static_cast<Listener*>(p->data)->accept_all(); });
    struct One {
        Result r;
        Recorder rec;
        lu::Handle h;
    };
    std::vector<std::unique_ptr<One>> races;
    lu::Options o;
    o.config.attempt_delay = 50ms;
    for (int i = 0; i < kRaces; ++i) {
        auto one = std::make_unique<One>();
        o.on_action = one->rec.observer();
        one->h = lu::connect(&loop_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o,
                             one->r.callback());
        ASSERT_TRUE(one->h.status().ok());
        races.push_back(std::move(one));
    }
    run_until(
        [&] {
            return std::all_of(races.begin(), races.end(),
                               [](const auto& one) { return one->r.calls > 0; });
        },
        30s);
    int connected = 0;
    for (const auto& one : races) {
        EXPECT_EQ(one->r.calls, 1);
        if (one->r.report.outcome == Outcome::connected &&
            one->r.report.remote == loopback_v4(pair.port)) {
            ++connected;
        }
        expect_clean_trace(one->rec, one->r.report);
        auto c1 = one->rec.connect_time(1);
        auto c2 = one->rec.connect_time(2);
        if (c1 && c2) {
            EXPECT_GE(*c2 - *c1, 50ms);
        }
    }
    EXPECT_EQ(connected, kRaces);
    races.clear();  // closes the winners
    uv_close(reinterpret_cast<uv_handle_t*>(&acceptor), nullptr);
    EXPECT_TRUE(drains());
    open.accept_all();
}

// ---- the fd entry point, the socket factory -----------------------------------------

TEST_F(LibuvTest, FdEntryPointHandsOverAPlainSocket) {
    Listener open(loopback_v4());
    RefusedPort refused(loopback_v4());
    int fd = -1;
    int calls = 0;
    auto h = lu::connect_fd(&loop_, {refused.endpoint(), open.endpoint()}, lu::Options{},
                            [&](uv_os_sock_t s, const RaceReport& r) {
                                ++calls;
                                fd = s;
                                EXPECT_EQ(r.outcome, Outcome::connected) << r.message;
                            });
    run_until([&] { return calls > 0; });
    ASSERT_GE(fd, 0);
    EXPECT_EQ(peer_of(fd), open.endpoint());
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_TRUE(drains()) << "the winner's uv_tcp_t is closed by the adapter";
    ::close(fd);
    open.accept_all();
}

TEST_F(LibuvTest, SocketFactoryMakesEverySocket) {
    Listener open(loopback_v4());
    std::vector<Endpoint> asked;
    lu::Options o;
    o.socket_factory = [&](const Endpoint& remote) -> uv_os_sock_t {
        asked.push_back(remote);
        int fd = ::socket(to_af(remote.family()), SOCK_STREAM, 0);  // blocking on purpose
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        return fd;
    };
    Result r;
    auto h = lu::connect(&loop_, {open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0], open.endpoint());
    int keepalive = 0;
    socklen_t len = sizeof keepalive;
    ASSERT_EQ(::getsockopt(r.fd(), SOL_SOCKET, SO_KEEPALIVE, &keepalive, &len), 0);
    EXPECT_EQ(keepalive, 1) << "the winner is the factory's socket";
    EXPECT_NE(::fcntl(r.fd(), F_GETFL) & O_NONBLOCK, 0) << "made non-blocking";
    EXPECT_NE(::fcntl(r.fd(), F_GETFD) & FD_CLOEXEC, 0) << "made close-on-exec";
    open.accept_all();
}

TEST_F(LibuvTest, FactoryFailuresAreOpenErrorsAndTheRaceEndsFromTheLoop) {
    Listener open(loopback_v4());
    lu::Options o;
    o.socket_factory = [](const Endpoint&) -> uv_os_sock_t {
        errno = EMFILE;
        return -1;
    };
    Recorder rec;
    o.on_action = rec.observer();
    Result r;
    // Two remotes (a repeat would be dropped: docs/behaviour.md §1 rule 1); the
    // factory fails before either is dialled.
    const Endpoint second = open.endpoint().with_port(open.endpoint().port() == 9 ? 10 : 9);
    auto h = lu::connect(&loop_, {open.endpoint(), second}, o, r.callback());
    ASSERT_TRUE(h.status().ok());
    EXPECT_EQ(r.calls, 0) << "every attempt failed inside connect(); the callback waits";
    EXPECT_TRUE(h.running());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::open);
    EXPECT_EQ(r.report.errors[0].code, EMFILE);
    EXPECT_TRUE(rec.all<Close>().empty()) << "a socket never opened is never closed";
}

TEST_F(LibuvTest, CancelBeforeTheLoopDeliversAResultThatEndedInsideConnect) {
    lu::Options o;
    o.socket_factory = [](const Endpoint&) -> uv_os_sock_t {
        errno = ENFILE;
        return -1;
    };
    Result r;
    auto h = lu::connect(&loop_, {loopback_v4(9)}, o, r.callback());
    EXPECT_EQ(r.calls, 0);
    h.cancel();  // runs the waiting callback now, with the real outcome
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_TRUE(drains());
    EXPECT_EQ(r.calls, 1);
}

// ---- misuse is a returned status, never a callback -------------------------------

TEST_F(LibuvTest, MisuseIsAStatusAndNoCallback) {
    int calls = 0;
    auto cb = [&](uv_tcp_t*, const RaceReport&) { ++calls; };
    lu::Options o;
    EXPECT_FALSE(lu::connect(nullptr, {loopback_v4(1)}, o, cb).status().ok());
    EXPECT_FALSE(lu::connect(&loop_, {loopback_v4(1)}, o, lu::Callback{}).status().ok());
    auto empty = lu::connect(&loop_, std::vector<Endpoint>{}, o, cb);
    EXPECT_FALSE(empty.status().ok());
    EXPECT_FALSE(empty.running());
    EXPECT_FALSE(lu::connect(&loop_, "", 80, o, cb).status().ok());
    lu::Options bad;
    bad.config.attempt_delay = 5ms;
    auto h = lu::connect(&loop_, "example.test", 80, bad, cb);
    EXPECT_FALSE(h.status().ok());
    EXPECT_NE(h.status().message().find("10 ms"), std::string::npos) << h.status().message();
    lu::Options tls;
    tls.config.success = Success::handshake;
    EXPECT_FALSE(lu::connect(&loop_, {loopback_v4(1)}, tls, cb).status().ok());
    EXPECT_FALSE(uv_loop_alive(&loop_)) << "a refused race puts nothing on the loop";
    EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace eyeballs::test

namespace eyeballs::test {
namespace {

// Resolve overrides (issue 16, eyeballs/overrides.hpp): a pinned name and a
// --connect-to redirect race loopback with no DNS question.
TEST_F(LibuvTest, OverridesPinAndConnectToSkipDns) {
    Listener open(loopback_v4());
    const std::uint16_t port = open.endpoint().port();
    for (int variant = 0; variant < 2; ++variant) {
        Recorder rec;
        Result r;
        lu::Options o;
        o.on_action = rec.observer();
        if (variant == 0) {
            o.overrides.push_back(*parse_resolve_override(
                "pinned.invalid:" + std::to_string(port) + ":127.0.0.1", nullptr));
        } else {
            o.overrides.push_back(
                *parse_connect_to("asked.invalid:1:127.0.0.1:" + std::to_string(port), nullptr));
        }
        auto h = variant == 0 ? lu::connect(&loop_, "pinned.invalid", port, o, r.callback())
                              : lu::connect(&loop_, "asked.invalid", 1, o, r.callback());
        ASSERT_TRUE(h.status().ok()) << h.status().message();
        run(r);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << variant << ": " << r.report.message;
        EXPECT_EQ(r.report.remote, open.endpoint());
        EXPECT_TRUE(rec.all<Resolve>().empty());
    }
    EXPECT_EQ(open.accept_all(), 2);
}

}  // namespace
}  // namespace eyeballs::test

// ---- PREF64 discovery (RFC 7050, v3 §8.2) -----------------------------------

namespace eyeballs::test {
namespace {

/// One discovery's outcome, as its callback saw it.
struct Discovered {
    int calls = 0;
    Pref64Discovery result;
    TimePoint at{};

    lu::Pref64Callback callback() {
        return [this](const Pref64Discovery& r) {
            ++calls;
            result = r;
            at = Clock::now();
        };
    }
};

// RFC 7050 §3: the prefix is read around 192.0.0.170/171 in the AAAA answer
// for ipv4only.arpa, asked of the explicit server by the adapter's own client.
TEST_F(LibuvTest, DiscoversPref64ThroughIpv4onlyArpa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6,
            DnsServer::Answer::with({*Endpoint::parse("2001:db8:64::c000:aa", 0),
                                     *Endpoint::parse("2001:db8:64::c000:ab", 0)}));
    lu::Options o;
    o.dns_server = dns.endpoint();
    Discovered d;
    auto h = lu::discover_pref64(&loop_, o, d.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    EXPECT_EQ(d.calls, 0) << "never inside discover_pref64()";
    run_until([&] { return d.calls > 0; });
    ASSERT_TRUE(d.result.error.empty()) << d.result.error;
    ASSERT_EQ(d.result.prefixes.size(), 1u);
    EXPECT_EQ(d.result.prefixes[0], *Pref64::parse("2001:db8:64::/96"));
    auto qs = dns.wait_for_queries(1);
    ASSERT_FALSE(qs.empty());
    EXPECT_EQ(qs[0].name, "ipv4only.arpa");
    EXPECT_EQ(qs[0].family, Family::v6);
    EXPECT_FALSE(h.running());

    // /64: the u octet (bits 64-71) is skipped: 192.0.0.170 → c0:0:aa00:0.
    DnsServer dns64;
    dns64.set("ipv4only.arpa", Family::v6,
              DnsServer::Answer::with({*Endpoint::parse("2001:db8:1:2:c0:0:aa00:0", 0)}));
    o.dns_server = dns64.endpoint();
    Discovered d64;
    auto h64 = lu::discover_pref64(&loop_, o, d64.callback());
    run_until([&] { return d64.calls > 0; });
    ASSERT_EQ(d64.result.prefixes.size(), 1u) << d64.result.error;
    EXPECT_EQ(d64.result.prefixes[0], *Pref64::parse("2001:db8:1:2::/64"));
    EXPECT_EQ(d.calls, 1);
}

// RFC 7050 §2: no AAAA for ipv4only.arpa means no DNS64, so no NAT64.
TEST_F(LibuvTest, NoNat64WhenIpv4onlyArpaHasNoAaaa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::nodata());
    lu::Options o;
    o.dns_server = dns.endpoint();
    Discovered d;
    auto h = lu::discover_pref64(&loop_, o, d.callback());
    run_until([&] { return d.calls > 0; });
    EXPECT_TRUE(d.result.prefixes.empty());
    EXPECT_NE(d.result.error.find("no NAT64"), std::string::npos) << d.result.error;
}

// A server that never answers: the discovery fails at dns_timeout and says so.
TEST_F(LibuvTest, Pref64DiscoveryTimesOutAtTheDnsTimeout) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::silent());
    lu::Options o;
    o.dns_server = dns.endpoint();
    o.dns_timeout = 600ms;
    Discovered d;
    const auto started = Clock::now();
    auto h = lu::discover_pref64(&loop_, o, d.callback());
    run_until([&] { return d.calls > 0; });
    EXPECT_TRUE(d.result.prefixes.empty());
    EXPECT_NE(d.result.error.find("ipv4only.arpa: timed out"), std::string::npos)
        << d.result.error;
    EXPECT_GE(d.at - started, 550ms);
    EXPECT_LT(d.at - started, 1500ms);
}

// A discovery is no race: it must not take a race ticket of the History in
// Options::config (History::next_race, which decides history_explore's
// per-race coin), or the races after it would explore on other turns than
// the seed gives them. The first ticket after the discovery is still 0.
TEST_F(LibuvTest, Pref64DiscoveryTakesNoRaceTicketOfTheHistory) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6,
            DnsServer::Answer::with({*Endpoint::parse("2001:db8:64::c000:aa", 0)}));
    History history;
    lu::Options o;
    o.dns_server = dns.endpoint();
    o.config.history = &history;
    o.config.history_explore = 500;  // a machine built with it takes a ticket
    Discovered d;
    auto h = lu::discover_pref64(&loop_, o, d.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run_until([&] { return d.calls > 0; });
    EXPECT_EQ(d.result.prefixes.size(), 1u) << d.result.error;
    EXPECT_EQ(history.next_race(), 0u) << "the discovery took a race ticket";
    // The same options make a race take one (so the check above can fail).
    Listener open(loopback_v4());
    Result r;
    auto race = lu::connect(&loop_, {open.endpoint()}, o, r.callback());
    ASSERT_TRUE(race.status().ok()) << race.status().message();
    run(r);
    EXPECT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(history.next_race(), 2u) << "the race took ticket 1";
    r.close();
    open.accept_all();
}

// Cancel and drop, as for a race: cancel() calls back before it returns; a
// destroyed handle never calls back; the loop drains either way (TearDown).
TEST_F(LibuvTest, Pref64DiscoveryCancelAndDrop) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::silent());
    lu::Options o;
    o.dns_server = dns.endpoint();
    Discovered d;
    auto h = lu::discover_pref64(&loop_, o, d.callback());
    bool inside = false;
    {
        Later l(&loop_, 50ms, [&] {
            h.cancel();
            inside = d.calls == 1;
            h.cancel();  // idempotent
        });
        run_until([&] { return d.calls > 0; });
    }
    EXPECT_TRUE(inside);
    EXPECT_NE(d.result.error.find("cancelled"), std::string::npos) << d.result.error;
    EXPECT_FALSE(h.running());

    Discovered dropped;
    { auto gone = lu::discover_pref64(&loop_, o, dropped.callback()); }
    Discovered system;  // uv_getaddrinfo on the thread pool, cancelled at once
    { auto gone = lu::discover_pref64(&loop_, lu::Options{}, system.callback()); }
    EXPECT_TRUE(drains());
    EXPECT_EQ(dropped.calls, 0);
    EXPECT_EQ(system.calls, 0);
    EXPECT_FALSE(lu::discover_pref64(nullptr, o, dropped.callback()).status().ok());
    EXPECT_FALSE(lu::discover_pref64(&loop_, o, lu::Pref64Callback{}).status().ok());
}

}  // namespace
}  // namespace eyeballs::test

// ---- Options::dns_cache: answers kept from race to race (v3 §4.3, §4.4) ------

namespace eyeballs::test {
namespace {

std::string https_name(const std::string& host, std::uint16_t port) {
    return port == 443 ? host : "_" + std::to_string(port) + "._https." + host;  // RFC 9460 §9.1
}

// The first race asks HTTPS, AAAA and A of dns_server and keeps the answers
// (TTL 60 s); the second race over the same cache is answered from it: the
// machine still issues its three Resolve actions, but no query reaches the
// server.
TEST_F(LibuvTest, DnsCacheAnswersTheNextRaceWithoutAQuery) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    DnsServer dns;
    dns.set_https(https_name("cached.test", pair.port),
                  DnsServer::Answer::https_text({"1 . alpn=h2"}));
    // AAAA comes 100 ms late and the Resolution Delay is the longest allowed:
    // the first race starts on the AAAA answer with the A and HTTPS answers
    // already in (answers after a race's end are not cached).
    dns.set("cached.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 100ms));
    dns.set("cached.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    DnsCache cache;
    lu::Options o;
    o.config.https = true;
    o.config.resolution_delay = eyeballs::max_resolution_delay;
    o.dns_server = dns.endpoint();
    o.dns_cache = &cache;
    {
        Result first;
        auto h = lu::connect(&loop_, "cached.test", pair.port, o, first.callback());
        ASSERT_TRUE(h.status().ok()) << h.status().message();
        run(first);
        ASSERT_EQ(first.report.outcome, Outcome::connected) << first.report.message;
    }
    ASSERT_EQ(dns.wait_for_queries(3).size(), 3u);
    EXPECT_EQ(cache.size(), 3u) << "HTTPS, AAAA and A are kept";
    const TimePoint after_first = Clock::now();
    EXPECT_EQ(cache.lookup(https_name("cached.test", pair.port), DnsCache::Type::https, after_first)
                  .state,
              DnsCache::State::fresh);
    EXPECT_EQ(cache.lookup("cached.test", DnsCache::Type::aaaa, after_first).addresses,
              std::vector<Endpoint>{loopback_v6(0)});

    Recorder rec;
    Result second;
    o.on_action = rec.observer();
    auto h = lu::connect(&loop_, "cached.test", pair.port, o, second.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(second);
    ASSERT_EQ(second.report.outcome, Outcome::connected) << second.report.message;
    EXPECT_EQ(second.report.remote, loopback_v6(pair.port));
    EXPECT_EQ(peer_of(second.fd()), loopback_v6(pair.port));
    EXPECT_EQ(rec.all<Resolve>().size(), 3u) << "the machine asked as usual";
    EXPECT_EQ(dns.wait_for_queries(4, 300ms).size(), 3u) << "the cache answered: no query sent";
    EXPECT_LT(second.report.finished - second.report.started, 100ms);
    expect_clean_trace(rec, second.report);
    EXPECT_TRUE(drains());
    v6.accept_all();
    v4.accept_all();
}

// A stale A answer (past its TTL, within max_stale) races at once while the
// query goes out; it is refused (127.0.0.2: nobody listens), the race waits
// for the question still open, and the server's answer (300 ms later)
// replaces it and connects. The new answer is then in the cache, fresh.
TEST_F(LibuvTest, DnsCacheStaleAnswerRacesThenIsReplaced) {
    Listener v4(loopback_v4());
    const std::uint16_t port = v4.endpoint().port();
    DnsServer dns;
    dns.set("stale.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("stale.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 300ms));
    DnsCache cache;
    const Endpoint old_address = *Endpoint::parse_address("127.0.0.2", 0);
    cache.store("stale.test", Family::v4, {old_address}, 1, Clock::now() - 10s);
    ASSERT_EQ(cache.lookup("stale.test", DnsCache::Type::a, Clock::now()).state,
              DnsCache::State::stale);
    lu::Options o;
    o.config.https = true;  // handle_stale is a v3 input
    o.dns_server = dns.endpoint();
    o.dns_cache = &cache;
    Result r;
    auto h = lu::connect(&loop_, "stale.test", port, o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.attempts.size(), 2u);
    auto start_of = [&](std::size_t i) { return r.report.attempts[i].started - r.report.started; };
    EXPECT_EQ(r.report.attempts[0].remote, old_address.with_port(port)) << "the stale answer raced";
    EXPECT_EQ(r.report.attempts[0].state, AttemptRecord::State::failed);
    EXPECT_LT(start_of(0), 300ms) << "before the server's answer";
    EXPECT_EQ(r.report.attempts[1].remote, loopback_v4(port));
    EXPECT_GE(start_of(1), 300ms) << "the fresh answer replaced the stale one";
    EXPECT_EQ(r.report.remote, loopback_v4(port));
    EXPECT_EQ(peer_of(r.fd()), loopback_v4(port));
    const auto after = cache.lookup("stale.test", DnsCache::Type::a, Clock::now());
    EXPECT_EQ(after.state, DnsCache::State::fresh);
    EXPECT_EQ(after.addresses, std::vector<Endpoint>{loopback_v4(0)});
    std::size_t a_queries = 0;
    for (const auto& q : dns.queries()) a_queries += q.name == "stale.test" && q.type == 1;
    EXPECT_EQ(a_queries, 1u) << "the stale answer did not stop the query";
    EXPECT_TRUE(drains());
    v4.accept_all();
}

// A failed re-query (SERVFAIL) keeps the stale addresses: they stay in the
// race (and win here, 127.0.0.1 listening) and in the cache for next time
// (RFC 8767: an unreachable server does not make a name disappear).
TEST_F(LibuvTest, DnsCacheFailedQueryKeepsTheStaleAnswer) {
    Listener v4(loopback_v4());
    const std::uint16_t port = v4.endpoint().port();
    DnsServer dns;
    dns.set("kept.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("kept.test", Family::v4, DnsServer::Answer::servfail());
    DnsCache cache;
    cache.store("kept.test", Family::v4, {loopback_v4(0)}, 1, Clock::now() - 10s);
    lu::Options o;
    o.config.https = true;
    o.dns_server = dns.endpoint();
    o.dns_cache = &cache;
    Result r;
    auto h = lu::connect(&loop_, "kept.test", port, o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(port));
    const auto after = cache.lookup("kept.test", DnsCache::Type::a, Clock::now());
    EXPECT_EQ(after.state, DnsCache::State::stale) << "SERVFAIL changed nothing";
    EXPECT_EQ(after.addresses, std::vector<Endpoint>{loopback_v4(0)});
    EXPECT_TRUE(drains());
    v4.accept_all();
}

}  // namespace
}  // namespace eyeballs::test
