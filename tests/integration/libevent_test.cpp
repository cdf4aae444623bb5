// SPDX-License-Identifier: BSL-1.0
// Integration tests of the libevent adapter: real sockets on loopback, a real
// event_base, evdns against the test DNS server. Every test runs inside
// FdLeakTest, so a socket, an evdns_base or an event_base left open fails it.
//
// Timing assertions are one-sided where they can be (a start never comes
// before the delay allows) and generous where they cannot (a busy 2-core box).
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/libevent.hpp"
#include "eyeballs/posix.hpp"
#include "support.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace le = eyeballs::libevent;

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
    /// The time of the Connect of attempt `n`.
    std::optional<TimePoint> connect_time(std::uint32_t n) const {
        for (const Entry& e : log) {
            if (const auto* c = std::get_if<Connect>(&e.action); c && c->attempt.number() == n) {
                return e.t;
            }
        }
        return std::nullopt;
    }
    std::optional<TimePoint> first_time() const {
        if (log.empty()) return std::nullopt;
        return log.front().t;
    }
};

/// What the callback received.
struct Result {
    int calls = 0;
    evutil_socket_t fd = -1;
    RaceReport report;
    TimePoint at{};

    le::Callback callback() {
        return [this](evutil_socket_t f, const RaceReport& r) {
            ++calls;
            fd = f;
            report = r;
            at = Clock::now();
        };
    }
    ~Result() {
        if (fd >= 0) ::close(fd);
    }
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
/// opened socket (OpenSocket that got a Connect or Bind) closed unless it won.
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

class LibeventTest : public FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        event_config* cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        base_ = event_base_new_with_config(cfg);
        event_config_free(cfg);
        ASSERT_NE(base_, nullptr);
    }
    void TearDown() override {
        // Whatever a test left behind (DNS cancellations) is delivered here.
        for (int i = 0; i < 8 && event_base_loop(base_, EVLOOP_NONBLOCK) == 0; ++i) {
        }
        event_base_free(base_);
        FdLeakTest::TearDown();
    }

    /// Runs the loop until `done()` or `limit` passes (a failed test, not a hang).
    void run_until(const std::function<bool()>& done, Clock::duration limit = 10s) {
        const auto deadline = Clock::now() + limit;
        event* tick = evtimer_new(base_, [](evutil_socket_t, short, void*) {}, nullptr);
        while (!done() && Clock::now() < deadline) {
            timeval tv{0, 20000};
            evtimer_add(tick, &tv);  // keeps the loop turning even when it has nothing else
            event_base_loop(base_, EVLOOP_ONCE);
        }
        event_free(tick);
        EXPECT_TRUE(done()) << "the race did not end in time";
    }
    void run(const Result& r, Clock::duration limit = 10s) {
        run_until([&] { return r.calls > 0; }, limit);
    }
    /// Runs the loop until it has no events left (nothing lingers).
    bool drains(Clock::duration limit = 5s) {
        const auto deadline = Clock::now() + limit;
        while (Clock::now() < deadline) {
            int rc = event_base_loop(base_, EVLOOP_NONBLOCK);
            if (rc == 1) return true;
            ::usleep(1000);
        }
        return false;
    }
    /// Calls `f` after `after`, from the loop.
    struct Later {
        event* ev = nullptr;
        std::function<void()> f;
        ~Later() {
            if (ev != nullptr) event_free(ev);
        }
    };
    std::unique_ptr<Later> later(Clock::duration after, std::function<void()> f) {
        auto l = std::make_unique<Later>();
        l->f = std::move(f);
        l->ev = evtimer_new(
            base_, [](evutil_socket_t, short, void* arg) { static_cast<Later*>(arg)->f(); },
            l.get());
        const auto us = std::chrono::duration_cast<std::chrono::microseconds>(after).count();
        timeval tv{static_cast<time_t>(us / 1000000), static_cast<suseconds_t>(us % 1000000)};
        evtimer_add(l->ev, &tv);
        return l;
    }

    event_base* base_ = nullptr;
};

#define REQUIRE_IPV6()                                                              \
    do {                                                                            \
        if (!ipv6_loopback_available()) GTEST_SKIP() << "no [::1] on this host";    \
    } while (0)

// ---- racing addresses on loopback (docs/behaviour.md §1) ---------------------------------

TEST_F(LibeventTest, BlackholedIpv6LosesToIpv4AfterTheAttemptDelay) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    Recorder rec;
    Result r;
    le::Options o;
    o.on_action = rec.observer();
    auto h = le::connect(base_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    EXPECT_TRUE(h.running());
    run(r);

    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    EXPECT_EQ(r.report.winner, AttemptId(2));
    ASSERT_GE(r.fd, 0);
    EXPECT_EQ(peer_of(r.fd), loopback_v4(pair.port));
    EXPECT_NE(::fcntl(r.fd, F_GETFL) & O_NONBLOCK, 0) << "the winner is non-blocking";
    EXPECT_NE(::fcntl(r.fd, F_GETFD) & FD_CLOEXEC, 0) << "the winner is close-on-exec";
    auto c1 = rec.connect_time(1);
    auto c2 = rec.connect_time(2);
    ASSERT_TRUE(c1 && c2);
    EXPECT_GE(*c2 - *c1, 250ms) << "IPv4 started before the attempt delay";
    EXPECT_LT(*c2 - *c1, 1250ms);
    ASSERT_EQ(rec.all<Close>().size(), 1u);
    EXPECT_EQ(rec.all<Close>()[0].attempt, AttemptId(1));
    expect_clean_trace(rec, r.report);
    EXPECT_FALSE(h.running());
    EXPECT_EQ(open.accept_all(), 1);
}

TEST_F(LibeventTest, DefaultBaseWithItsCoarseClockNeverStartsEarly) {
    // Without EVENT_BASE_FLAG_PRECISE_TIMER libevent's timers run on a coarse
    // clock and may fire a little before the deadline: the adapter must then
    // simply wait again, never start IPv4 before the attempt delay.
    REQUIRE_IPV6();
    event_base* plain = event_base_new();
    ASSERT_NE(plain, nullptr);
    {
        LoopbackPair pair = bind_loopback_pair();
        Blackhole hole(std::move(pair.v6));
        Listener open(std::move(pair.v4));
        Recorder rec;
        Result r;
        le::Options o;
        o.config.attempt_delay = 100ms;
        o.on_action = rec.observer();
        auto h = le::connect(plain, {loopback_v6(pair.port), loopback_v4(pair.port)}, o,
                             r.callback());
        const auto limit = Clock::now() + 10s;
        while (r.calls == 0 && Clock::now() < limit) event_base_loop(plain, EVLOOP_ONCE);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
        EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
        auto c1 = rec.connect_time(1);
        auto c2 = rec.connect_time(2);
        ASSERT_TRUE(c1 && c2);
        EXPECT_GE(*c2 - *c1, 100ms);
        EXPECT_LT(*c2 - *c1, 1100ms);
        open.accept_all();
    }
    event_base_free(plain);
}

TEST_F(LibeventTest, RefusedIpv6FailsOverAtOnceButNotWithin10ms) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    Recorder rec;
    Result r;
    le::Options o;
    o.on_action = rec.observer();
    auto h = le::connect(base_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o, r.callback());
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

TEST_F(LibeventTest, BothOpenIpv6WinsAlone) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    Recorder rec;
    Result r;
    le::Options o;
    o.on_action = rec.observer();
    auto h = le::connect(base_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    EXPECT_EQ(peer_of(r.fd), loopback_v6(pair.port));
    EXPECT_EQ(rec.all<Connect>().size(), 1u);
    EXPECT_TRUE(rec.all<Close>().empty());
    expect_clean_trace(rec, r.report);
    EXPECT_EQ(v6.accept_all(), 1);
    EXPECT_EQ(v4.accept_all(), 0);
}

TEST_F(LibeventTest, AllRefusedReportsEconnrefusedWithEveryError) {
    RefusedPort a(loopback_v4());
    RefusedPort b(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.on_action = rec.observer();
    auto h = le::connect(base_, {a.endpoint(), b.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.calls, 1);
    EXPECT_EQ(r.fd, -1);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_EQ(r.report.code, ECONNREFUSED);
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].remote, a.endpoint());
    EXPECT_EQ(r.report.errors[1].remote, b.endpoint());
    EXPECT_NE(r.report.message.find("multiple errors"), std::string::npos) << r.report.message;
    expect_clean_trace(rec, r.report);
}

TEST_F(LibeventTest, FourthAttemptWinsPastTheTwoKeptInTheRace) {
    // Attempts 1 and 2 live inside the race object, 3 and on are allocated:
    // three refusals, then the fourth address connects.
    RefusedPort a(loopback_v4());
    RefusedPort b(loopback_v4());
    RefusedPort c(loopback_v4());
    Listener open(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.on_action = rec.observer();
    auto h = le::connect(base_, {a.endpoint(), b.endpoint(), c.endpoint(), open.endpoint()}, o,
                         r.callback());
    run(r);
    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.winner.number(), 4u);
    EXPECT_EQ(peer_of(r.fd), open.endpoint());
    ASSERT_EQ(r.report.errors.size(), 3u);
    EXPECT_EQ(r.report.errors[2].remote, c.endpoint());
    EXPECT_EQ(rec.all<Close>().size(), 3u);
    expect_clean_trace(rec, r.report);
    EXPECT_EQ(open.accept_all(), 1);
}

TEST_F(LibeventTest, LiteralHostRacesThatAddressWithoutDns) {
    Listener open(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.on_action = rec.observer();
    auto h = le::connect(base_, "127.0.0.1", open.endpoint().port(), o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, open.endpoint());
    EXPECT_TRUE(rec.all<Resolve>().empty());
    open.accept_all();
}

// ---- local bind (docs/behaviour.md §1 rule 7) --------------------------------------------

TEST_F(LibeventTest, BindsTheLocalCandidateOfItsFamily) {
    Listener open(loopback_v4());
    Fd reserved = bind_tcp(loopback_v4());  // a free local port, released below
    const Endpoint local = bound_endpoint(reserved.get());
    reserved.reset();
    Recorder rec;
    Result r;
    le::Options o;
    o.config.local = {Endpoint::parse("[::1]:0", 0).value(), local};
    o.on_action = rec.observer();
    auto h = le::connect(base_, {open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(local_of(r.fd), local);
    EXPECT_EQ(r.report.local, local);
    ASSERT_EQ(rec.all<Bind>().size(), 1u);
    EXPECT_EQ(rec.all<Bind>()[0].local, local);
    open.accept_all();
}

TEST_F(LibeventTest, FailedBindIsRecordedAndTheNextCandidateIsUsed) {
    Listener open(loopback_v4());
    // 192.0.2.1 (RFC 5737) is not an address of this host: EADDRNOTAVAIL.
    const Endpoint foreign = Endpoint::parse("192.0.2.1:0", 0).value();
    const Endpoint loop = loopback_v4(0);
    Result r;
    le::Options o;
    o.config.local = {foreign, loop};
    auto h = le::connect(base_, {open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::bind);
    EXPECT_EQ(r.report.errors[0].local, foreign);
    EXPECT_EQ(r.report.errors[0].code, EADDRNOTAVAIL);
    auto mine = local_of(r.fd);
    ASSERT_TRUE(mine);
    EXPECT_EQ(mine->with_port(0), loop);
    open.accept_all();
}

TEST_F(LibeventTest, NoLocalCandidateOfTheFamilyFailsBeforeOpening) {
    Listener open(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.config.local = {Endpoint::parse("[::1]:0", 0).value()};
    o.on_action = rec.observer();
    auto h = le::connect(base_, {open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::bind);
    EXPECT_EQ(r.report.errors[0].code, 0);
    EXPECT_EQ(r.report.message, "no local address of family IPv4");
    EXPECT_TRUE(rec.all<OpenSocket>().empty());
}

// ---- timeouts (docs/behaviour.md §1 rule 8) ------------------------------------------------

TEST_F(LibeventTest, AttemptTimeoutFailsAHangingAttempt) {
    Blackhole hole(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.config.attempt_timeout = 100ms;
    o.on_action = rec.observer();
    const auto t0 = Clock::now();
    auto h = le::connect(base_, {hole.endpoint()}, o, r.callback());
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

TEST_F(LibeventTest, OverallTimeoutEndsTheRace) {
    Blackhole a(loopback_v4());
    Blackhole b(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.config.overall_timeout = 150ms;
    o.on_action = rec.observer();
    const auto t0 = Clock::now();
    auto h = le::connect(base_, {a.endpoint(), b.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_TRUE(r.report.overall_timeout);
    EXPECT_EQ(r.report.code, ETIMEDOUT);
    EXPECT_GE(r.at - t0, 150ms);
    EXPECT_LT(r.at - t0, 2s);
    EXPECT_EQ(rec.all<Connect>().size(), 1u) << "the second attempt was due only at 250 ms";
    expect_clean_trace(rec, r.report);
}

TEST_F(LibeventTest, SequentialModeWaitsForEachAttempt) {
    RefusedPort a(loopback_v4());
    Listener open(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.config.attempt_delay.reset();
    o.on_action = rec.observer();
    auto h = le::connect(base_, {a.endpoint(), open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, open.endpoint());
    auto c1 = rec.connect_time(1);
    auto c2 = rec.connect_time(2);
    ASSERT_TRUE(c1 && c2);
    EXPECT_GE(*c2 - *c1, 10ms);
    open.accept_all();
}

// ---- DNS through evdns (docs/behaviour.md §2) ----------------------------------------------

TEST_F(LibeventTest, ResolvesBothFamiliesOnTheGivenDnsServer) {
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
        le::Options o;
        o.dns_server = dns.endpoint();
        o.on_action = rec.observer();
        auto h = le::connect(base_, "dual.test", pair.port, o, r.callback());
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
    EXPECT_TRUE(drains()) << "the adapter's evdns_base lingers";
    open.accept_all();
}

TEST_F(LibeventTest, LateAaaaWithinTheResolutionDelayStillGoesFirst) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    DnsServer dns;
    dns.set("late6.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 20ms));
    dns.set("late6.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    Recorder rec;
    Result r;
    le::Options o;
    o.config.resolution_delay = 500ms;  // roomy: the box may be busy
    o.dns_server = dns.endpoint();
    o.on_action = rec.observer();
    auto h = le::connect(base_, "late6.test", pair.port, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    ASSERT_FALSE(rec.all<Connect>().empty());
    EXPECT_EQ(rec.all<Connect>()[0].remote, loopback_v6(pair.port));
    v6.accept_all();
    v4.accept_all();
}

TEST_F(LibeventTest, ResolutionDelayExpiresThenIpv4Starts) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    DnsServer dns;
    dns.set("slow6.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 1500ms));
    dns.set("slow6.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    Recorder rec;
    Result r;
    le::Options o;
    o.config.resolution_delay = 50ms;
    o.dns_server = dns.endpoint();
    o.on_action = rec.observer();
    auto h = le::connect(base_, "slow6.test", pair.port, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    auto start = rec.first_time();
    auto c1 = rec.connect_time(1);
    ASSERT_TRUE(start && c1);
    EXPECT_GE(*c1 - *start, 50ms) << "IPv4 started before the resolution delay ran out";
    EXPECT_LT(*c1 - *start, 1000ms);
    // The AAAA query was still out when the race ended: it is cancelled and
    // the adapter's evdns_base is freed once libevent has said so.
    EXPECT_TRUE(drains());
    v4.accept_all();
}

// libevent 2.1's evdns_getaddrinfo() reports an empty answer (NOERROR, no
// records) as EVUTIL_EAI_FAIL, the same code as a timeout or SERVFAIL; only
// NXDOMAIN comes back as EVUTIL_EAI_NONAME. So a v4-only name records its AAAA
// answer as a resolver failure with libevent's text — which changes nothing in
// the race: a negative answer is a negative answer (docs/behaviour.md §2).
// With dns_server the adapter reads whole answers itself (issue 14 items 5,
// 6): NODATA ends the wait, NXDOMAIN and SERVFAIL are named as in the poll
// and Asio adapters.
TEST_F(LibeventTest, NegativeAnswersEndTheWaitAndReadAsInTheOtherAdapters) {
    Listener open(loopback_v4());
    DnsServer dns;
    dns.set("v4only.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("v4only.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set("broken.test", Family::v6, DnsServer::Answer::servfail());
    dns.set("broken.test", Family::v4, DnsServer::Answer::nodata());
    le::Options o;
    o.dns_server = dns.endpoint();
    {
        Result r;
        auto h = le::connect(base_, "v4only.test", open.endpoint().port(), o, r.callback());
        run(r);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
        EXPECT_EQ(r.report.remote, open.endpoint());
        ASSERT_EQ(r.report.errors.size(), 1u);
        EXPECT_EQ(r.report.errors[0].stage, Stage::resolve);
        EXPECT_EQ(r.report.errors[0].family, Family::v6);
        EXPECT_EQ(r.report.errors[0].dns, DnsError::nodata);
        EXPECT_EQ(r.report.errors[0].message(), "resolve AAAA: no data");
    }
    {
        Result r;
        auto h = le::connect(base_, "missing.test", 80, o, r.callback());  // NXDOMAIN
        run(r);
        ASSERT_EQ(r.report.outcome, Outcome::failed);
        ASSERT_EQ(r.report.errors.size(), 2u);
        for (const Error& e : r.report.errors) {
            EXPECT_EQ(e.stage, Stage::resolve);
            EXPECT_EQ(e.code, 0);
            EXPECT_EQ(e.dns, DnsError::nxdomain);
            EXPECT_NE(e.message().find("no such name (NXDOMAIN)"), std::string::npos);
        }
    }
    {
        Result r;
        auto h = le::connect(base_, "broken.test", 80, o, r.callback());
        run(r);
        ASSERT_EQ(r.report.outcome, Outcome::failed);
        ASSERT_EQ(r.report.errors.size(), 2u);
        const auto six = std::find_if(r.report.errors.begin(), r.report.errors.end(),
                                      [](const Error& e) { return e.family == Family::v6; });
        ASSERT_NE(six, r.report.errors.end());
        EXPECT_EQ(six->message(), "resolve AAAA: server failure (SERVFAIL)");
    }
    open.accept_all();
    EXPECT_TRUE(drains());
}

TEST_F(LibeventTest, CallersEvdnsBaseIsUsedAndLeftAlone) {
    Listener open(loopback_v4());
    DnsServer dns;
    dns.set("mine.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("mine.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    evdns_base* mine = evdns_base_new(base_, 0);
    ASSERT_NE(mine, nullptr);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(dns.endpoint(), ss);
    ASSERT_EQ(evdns_base_nameserver_sockaddr_add(mine, reinterpret_cast<sockaddr*>(&ss), len, 0), 0);
    le::Options o;
    o.dns = mine;
    for (int round = 0; round < 2; ++round) {  // the second race proves it was not freed
        Result r;
        auto h = le::connect(base_, "mine.test", open.endpoint().port(), o, r.callback());
        ASSERT_TRUE(h.status().ok()) << h.status().message();
        run(r);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    }
    EXPECT_EQ(dns.queries().size(), 4u);
    EXPECT_EQ(evdns_base_count_nameservers(mine), 1);
    evdns_base_free(mine, 0);
    open.accept_all();
}

TEST_F(LibeventTest, HostsFileAnswersInlineAndStillRace) {
    // evdns answers a hosts-file name inside evdns_getaddrinfo(): the adapter
    // must take both answers in the middle of its own drain.
    Listener open(loopback_v4());
    char path[] = "/tmp/eyeballs-hosts-XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string text = "127.0.0.1 inline.test\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    evdns_base* mine = evdns_base_new(base_, 0);
    ASSERT_EQ(evdns_base_load_hosts(mine, path), 0);
    ::unlink(path);
    Recorder rec;
    Result r;
    le::Options o;
    o.dns = mine;
    o.on_action = rec.observer();
    auto h = le::connect(base_, "inline.test", open.endpoint().port(), o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    EXPECT_EQ(r.calls, 0) << "never called from inside connect()";
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, open.endpoint());
    ASSERT_EQ(r.report.errors.size(), 1u) << "AAAA: no data";
    EXPECT_EQ(r.report.errors[0].family, Family::v6);
    expect_clean_trace(rec, r.report);
    evdns_base_free(mine, 0);
    open.accept_all();
}

// ---- cancel at every stage (docs/behaviour.md §1 rule 9) ------------------------------------

TEST_F(LibeventTest, CancelDuringDnsCallsBackAtOnceAndFreesTheResolver) {
    DnsServer dns;
    dns.set("silent.test", Family::v6, DnsServer::Answer::silent());
    dns.set("silent.test", Family::v4, DnsServer::Answer::silent());
    Recorder rec;
    Result r;
    le::Options o;
    o.dns_server = dns.endpoint();
    o.on_action = rec.observer();
    auto h = le::connect(base_, "silent.test", 80, o, r.callback());
    bool cancelled_inside = false;
    auto l = later(50ms, [&] {
        h.cancel();
        cancelled_inside = r.calls == 1;  // synchronous: before cancel() returned
        h.cancel();                        // idempotent
    });
    run(r);
    EXPECT_TRUE(cancelled_inside);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_EQ(r.fd, -1);
    EXPECT_TRUE(rec.all<Connect>().empty());
    EXPECT_FALSE(h.running());
    l.reset();
    EXPECT_TRUE(drains()) << "the cancelled queries or the evdns_base linger";
}

TEST_F(LibeventTest, CancelBetweenAttemptsClosesEverySocket) {
    Blackhole a(loopback_v4());
    Blackhole b(loopback_v4());
    Blackhole c(loopback_v4());
    Recorder rec;
    Result r;
    le::Options o;
    o.config.attempt_delay = 50ms;
    o.on_action = rec.observer();
    auto h = le::connect(base_, {a.endpoint(), b.endpoint(), c.endpoint()}, o, r.callback());
    auto l = later(75ms, [&] { h.cancel(); });
    run(r);
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_EQ(rec.all<Connect>().size(), 2u);
    EXPECT_EQ(rec.all<Close>().size(), 2u);
    expect_clean_trace(rec, r.report);
    l.reset();
    EXPECT_TRUE(drains()) << "the race left an event behind";
}

TEST_F(LibeventTest, CancelFromInsideTheObserver) {
    // The observer cancels while attempt 2 is being started (it comes from the
    // loop): at its OpenSocket, then at its Connect. The action is finished,
    // then the race ends cancelled, every opened socket closed, one report,
    // and the callback runs before control goes back to the loop.
    Blackhole hole(loopback_v4());
    Blackhole hole2(loopback_v4());
    for (int stage = 0; stage < 2; ++stage) {
        SCOPED_TRACE(stage == 0 ? "at OpenSocket" : "at Connect");
        Recorder rec;
        Result r;
        le::Handle h;
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
        le::Options o;
        o.config.attempt_delay = 20ms;
        o.on_action = rec.observer();
        h = le::connect(base_, {hole.endpoint(), hole2.endpoint()}, o, r.callback());
        event_base_loop(base_, EVLOOP_ONCE);  // one turn: the timer starts attempt 2
        while (r.calls == 0 && rec.all<OpenSocket>().size() < 2) event_base_loop(base_, EVLOOP_ONCE);
        EXPECT_EQ(calls_when_cancel_returned, 0) << "deferred until the action is done";
        EXPECT_EQ(r.calls, 1) << "called before control went back to the loop";
        EXPECT_EQ(r.report.outcome, Outcome::cancelled);
        EXPECT_EQ(rec.all<OpenSocket>().size(), 2u);
        EXPECT_EQ(rec.all<Connect>().size(), stage == 0 ? 1u : 2u);
        EXPECT_EQ(rec.all<Close>().size(), 2u) << "attempt 2's socket was opened: it is closed";
        expect_clean_trace(rec, r.report);
    }
    EXPECT_TRUE(drains());
}

TEST_F(LibeventTest, CancelAtAndAfterSuccessChangesNothing) {
    Listener open(loopback_v4());
    Recorder rec;
    Result r;
    le::Handle h;
    rec.hook = [&](const Action& a) {
        if (std::holds_alternative<Report>(a)) h.cancel();  // the race is already won
    };
    le::Options o;
    o.on_action = rec.observer();
    int calls = 0;
    evutil_socket_t fd = -1;
    Outcome outcome = Outcome::failed;
    h = le::connect(base_, {open.endpoint()}, o, [&](evutil_socket_t f, const RaceReport& rep) {
        ++calls;
        fd = f;
        outcome = rep.outcome;
        h.cancel();  // from inside the callback: nothing left to cancel
    });
    run_until([&] { return calls > 0; });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(outcome, Outcome::connected);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(peer_of(fd).has_value()) << "the winner is still open";
    h.cancel();
    EXPECT_EQ(calls, 1);
    EXPECT_TRUE(peer_of(fd).has_value());
    ::close(fd);
    open.accept_all();
}

TEST_F(LibeventTest, DestroyingARunningHandleCancelsWithoutCallback) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole6(std::move(pair.v6));
    Blackhole hole4(std::move(pair.v4));
    Recorder rec;
    Result r;
    le::Options o;
    o.config.attempt_delay = 20ms;
    o.on_action = rec.observer();
    auto h = std::make_unique<le::Handle>(
        le::connect(base_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o, r.callback()));
    bool two = false;
    run_until([&] { return two = rec.all<Connect>().size() == 2; });
    ASSERT_TRUE(two);
    h.reset();
    EXPECT_EQ(r.calls, 0);
    EXPECT_TRUE(drains()) << "an abandoned race left events behind";
    EXPECT_EQ(r.calls, 0);
}

TEST_F(LibeventTest, MoveAssigningOverARunningHandleAbandonsIt) {
    Blackhole hole(loopback_v4());
    Listener open(loopback_v4());
    Result first;
    Result second;
    le::Options o;
    auto h = le::connect(base_, {hole.endpoint()}, o, first.callback());
    le::Handle moved(std::move(h));
    EXPECT_FALSE(h.running());  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_TRUE(moved.running());
    moved = le::connect(base_, {open.endpoint()}, o, second.callback());
    run(second);
    EXPECT_EQ(first.calls, 0);
    EXPECT_EQ(second.report.outcome, Outcome::connected);
    open.accept_all();
}

TEST_F(LibeventTest, TheCallbackMayDestroyItsHandle) {
    Listener open(loopback_v4());
    auto h = std::make_unique<le::Handle>();
    int calls = 0;
    *h = le::connect(base_, {open.endpoint()}, le::Options{},
                     [&](evutil_socket_t fd, const RaceReport&) {
                         ++calls;
                         h.reset();  // frees the handle (and the race) from inside
                         ::close(fd);
                     });
    run_until([&] { return calls > 0; });
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(h, nullptr);
    open.accept_all();
}

TEST_F(LibeventTest, TheObserverMayDestroyItsHandle) {
    Blackhole hole(loopback_v4());
    Blackhole hole2(loopback_v4());
    auto h = std::make_unique<le::Handle>();
    int calls = 0;
    Recorder rec;
    rec.hook = [&](const Action& a) {
        // Attempt 2's Connect comes from the loop (the attempt delay's timer).
        if (const auto* c = std::get_if<Connect>(&a); c && c->attempt.number() == 2) h.reset();
    };
    le::Options o;
    o.config.attempt_delay = 20ms;
    o.on_action = rec.observer();
    *h = le::connect(base_, {hole.endpoint(), hole2.endpoint()}, o,
                     [&](evutil_socket_t, const RaceReport&) { ++calls; });
    run_until([&] { return h == nullptr; });
    EXPECT_EQ(calls, 0) << "an abandoned race calls nobody";
    EXPECT_TRUE(std::holds_alternative<Connect>(rec.log.back().action))
        << "no action is observed after the handle is gone";
    EXPECT_TRUE(drains());
}

TEST_F(LibeventTest, CallbackFreesTheBasesOtherObjects) {
    // Race A wins at once; from its callback the test frees everything else on
    // the base: a running race B (abandoned), a running race C (cancelled, its
    // callback runs inside), an unrelated event, a bufferevent, and A's own
    // handle. The loop must then have nothing left to run.
    Listener open(loopback_v4());
    Blackhole hole(loopback_v4());
    DnsServer dns;
    dns.set("silent.test", Family::v6, DnsServer::Answer::silent());
    dns.set("silent.test", Family::v4, DnsServer::Answer::silent());

    le::Options o;
    int b_calls = 0;
    Result c;
    auto b = std::make_unique<le::Handle>(le::connect(
        base_, {hole.endpoint()}, o, [&](evutil_socket_t, const RaceReport&) { ++b_calls; }));
    le::Options odns;
    odns.dns_server = dns.endpoint();
    auto cr = std::make_unique<le::Handle>(le::connect(base_, "silent.test", 80, odns, c.callback()));
    event* other = event_new(base_, -1, EV_PERSIST, [](evutil_socket_t, short, void*) {}, nullptr);
    timeval hour{3600, 0};
    event_add(other, &hour);
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
    bufferevent* bev = bufferevent_socket_new(base_, pair[0], BEV_OPT_CLOSE_ON_FREE);
    bufferevent_enable(bev, EV_READ);

    auto a = std::make_unique<le::Handle>();
    int a_calls = 0;
    int c_calls_seen_inside = -1;
    Outcome a_outcome = Outcome::failed;
    // Let B and C get going first.
    auto l = later(30ms, [&] {
        *a = le::connect(base_, {open.endpoint()}, o,
                         [&](evutil_socket_t fd, const RaceReport& rep) {
                             ++a_calls;
                             a_outcome = rep.outcome;
                             b.reset();
                             cr->cancel();
                             c_calls_seen_inside = c.calls;
                             cr.reset();
                             event_free(other);
                             bufferevent_free(bev);
                             a.reset();
                             ::close(fd);
                         });
    });
    run_until([&] { return a_calls > 0; });
    l.reset();
    EXPECT_EQ(a_calls, 1);
    EXPECT_EQ(a_outcome, Outcome::connected);
    EXPECT_EQ(b_calls, 0);
    EXPECT_EQ(c_calls_seen_inside, 1);
    EXPECT_EQ(c.report.outcome, Outcome::cancelled);
    EXPECT_TRUE(drains()) << "something still holds the loop";
    ::close(pair[1]);
    open.accept_all();
}

// ---- many races, one base -------------------------------------------------------

TEST_F(LibeventTest, TwoHundredConcurrentRacesOnOneBase) {
    REQUIRE_IPV6();
    constexpr int kRaces = 200;
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4), 1024);
    // Accept as they come, so the accept queue never overflows.
    event* acceptor = event_new(
        base_, open.fd(), EV_READ | EV_PERSIST,
        [](evutil_socket_t, short, void* arg) { static_cast<Listener*>(arg)->accept_all(); },
        &open);
    event_add(acceptor, nullptr);

    struct One {
        Result r;
        Recorder rec;
        le::Handle h;
    };
    std::vector<std::unique_ptr<One>> races;
    le::Options o;
    o.config.attempt_delay = 50ms;
    for (int i = 0; i < kRaces; ++i) {
        auto one = std::make_unique<One>();
        o.on_action = one->rec.observer();
        one->h = le::connect(base_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o,
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
    event_free(acceptor);
    open.accept_all();
}

// ---- the bufferevent entry point ------------------------------------------------

TEST_F(LibeventTest, BuffereventEntryPointHandsOverAWorkingBufferevent) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    bufferevent* got = nullptr;
    RaceReport report;
    int calls = 0;
    le::Options o;
    o.config.attempt_delay = 20ms;
    auto h = le::connect_bufferevent(
        base_, {loopback_v6(pair.port), loopback_v4(pair.port)}, o,
        [&](bufferevent* bev, const RaceReport& rep) {
            ++calls;
            got = bev;
            report = rep;
        },
        BEV_OPT_DEFER_CALLBACKS);
    run_until([&] { return calls > 0; });
    ASSERT_EQ(calls, 1);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(report.outcome, Outcome::connected);
    EXPECT_EQ(peer_of(bufferevent_getfd(got)), loopback_v4(pair.port));

    // Talk through it: the server side receives what the bufferevent writes.
    bufferevent_enable(got, EV_WRITE);
    ASSERT_EQ(bufferevent_write(got, "ping", 4), 0);
    run_until([&] { return evbuffer_get_length(bufferevent_get_output(got)) == 0; });
    Fd server(::accept(open.fd(), nullptr, nullptr));
    ASSERT_TRUE(server);
    char buf[8] = {};
    ASSERT_EQ(::recv(server.get(), buf, sizeof buf, 0), 4);
    EXPECT_EQ(std::string(buf, 4), "ping");
    bufferevent_free(got);  // BEV_OPT_CLOSE_ON_FREE: closes the socket (FdLeakTest checks)
}

TEST_F(LibeventTest, BuffereventEntryPointGivesNullOnFailure) {
    RefusedPort refused(loopback_v4());
    bufferevent* got = reinterpret_cast<bufferevent*>(&refused);
    RaceReport report;
    int calls = 0;
    auto h = le::connect_bufferevent(base_, "127.0.0.1", refused.endpoint().port(), le::Options{},
                                     [&](bufferevent* bev, const RaceReport& rep) {
                                         ++calls;
                                         got = bev;
                                         report = rep;
                                     });
    run_until([&] { return calls > 0; });
    EXPECT_EQ(got, nullptr);
    EXPECT_EQ(report.outcome, Outcome::failed);
    EXPECT_EQ(report.code, ECONNREFUSED);
}

// ---- the socket factory hook ----------------------------------------------------

TEST_F(LibeventTest, SocketFactoryMakesEverySocket) {
    Listener open(loopback_v4());
    std::vector<Endpoint> asked;
    le::Options o;
    o.socket_factory = [&](const Endpoint& remote) -> evutil_socket_t {
        asked.push_back(remote);
        int fd = ::socket(to_af(remote.family()), SOCK_STREAM, 0);  // blocking on purpose
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        return fd;
    };
    Result r;
    auto h = le::connect(base_, {open.endpoint()}, o, r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(asked.size(), 1u);
    EXPECT_EQ(asked[0], open.endpoint());
    int keepalive = 0;
    socklen_t len = sizeof keepalive;
    ASSERT_EQ(::getsockopt(r.fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &len), 0);
    EXPECT_EQ(keepalive, 1) << "the winner is the factory's socket";
    EXPECT_NE(::fcntl(r.fd, F_GETFL) & O_NONBLOCK, 0) << "made non-blocking by the adapter";
    open.accept_all();
}

TEST_F(LibeventTest, FactoryFailuresAreOpenErrorsAndTheRaceEndsFromTheLoop) {
    Listener open(loopback_v4());
    le::Options o;
    o.socket_factory = [](const Endpoint&) -> evutil_socket_t {
        errno = EMFILE;
        return -1;
    };
    Recorder rec;
    o.on_action = rec.observer();
    Result r;
    // Two remotes (a repeat would be dropped: docs/behaviour.md §1 rule 1); the
    // factory fails before either is dialled.
    const Endpoint second = open.endpoint().with_port(open.endpoint().port() == 9 ? 10 : 9);
    auto h = le::connect(base_, {open.endpoint(), second}, o, r.callback());
    ASSERT_TRUE(h.status().ok());
    // Every attempt failed inside connect(), but the callback waits for the loop.
    EXPECT_EQ(r.calls, 0);
    EXPECT_TRUE(h.running());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::open);
    EXPECT_EQ(r.report.errors[0].code, EMFILE);
    EXPECT_EQ(r.report.code, EMFILE);
    EXPECT_TRUE(rec.all<Close>().empty()) << "a socket never opened is never closed";
}

TEST_F(LibeventTest, CancelBeforeTheLoopDeliversAResultThatEndedInsideConnect) {
    le::Options o;
    o.socket_factory = [](const Endpoint&) -> evutil_socket_t {
        errno = ENFILE;
        return -1;
    };
    Result r;
    auto h = le::connect(base_, {loopback_v4(9)}, o, r.callback());
    EXPECT_EQ(r.calls, 0);
    h.cancel();  // runs the waiting callback now, with the real outcome
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_TRUE(drains());
    EXPECT_EQ(r.calls, 1);
}

TEST_F(LibeventTest, DetachedRaceRunsToItsEnd) {
    Listener open(loopback_v4());
    Result r;
    {
        auto h = le::connect(base_, {open.endpoint()}, le::Options{}, r.callback());
        h.detach();
        EXPECT_FALSE(h.running());
    }
    run(r);
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.report.outcome, Outcome::connected);
    open.accept_all();
}

// ---- misuse is a returned status, never a callback -------------------------------

TEST_F(LibeventTest, MisuseIsAStatusAndNoCallback) {
    int calls = 0;
    auto cb = [&](evutil_socket_t, const RaceReport&) { ++calls; };
    le::Options o;
    EXPECT_FALSE(le::connect(nullptr, {loopback_v4(1)}, o, cb).status().ok());
    EXPECT_FALSE(le::connect(base_, {loopback_v4(1)}, o, le::Callback{}).status().ok());
    auto empty = le::connect(base_, std::vector<Endpoint>{}, o, cb);
    EXPECT_FALSE(empty.status().ok());
    EXPECT_FALSE(empty.running());
    EXPECT_FALSE(le::connect(base_, "", 80, o, cb).status().ok());
    le::Options bad;
    bad.config.attempt_delay = 5ms;
    auto h = le::connect(base_, "example.test", 80, bad, cb);
    EXPECT_FALSE(h.status().ok());
    EXPECT_NE(h.status().message().find("10 ms"), std::string::npos) << h.status().message();
    EXPECT_FALSE(le::connect(base_, {loopback_v4(1)}, bad, cb).status().ok());
    evdns_base* mine = evdns_base_new(base_, 0);
    le::Options both;
    both.dns = mine;
    both.dns_server = loopback_v4(53);
    EXPECT_FALSE(le::connect(base_, "example.test", 80, both, cb).status().ok());
    EXPECT_FALSE(le::connect(base_, "127.0.0.1", 80, both, cb).status().ok());
    evdns_base_free(mine, 0);
    EXPECT_TRUE(drains());
    EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace eyeballs::test

namespace eyeballs::test {
namespace {

// Resolve overrides (issue 16, eyeballs/overrides.hpp): a pinned name and a
// --connect-to redirect race loopback with no DNS question.
TEST_F(LibeventTest, OverridesPinAndConnectToSkipDns) {
    Listener open(loopback_v4());
    const std::uint16_t port = open.endpoint().port();
    for (int variant = 0; variant < 2; ++variant) {
        Recorder rec;
        Result r;
        le::Options o;
        o.on_action = rec.observer();
        if (variant == 0) {
            o.overrides.push_back(*parse_resolve_override(
                "pinned.invalid:" + std::to_string(port) + ":127.0.0.1", nullptr));
        } else {
            o.overrides.push_back(
                *parse_connect_to("asked.invalid:1:127.0.0.1:" + std::to_string(port), nullptr));
        }
        auto h = variant == 0 ? le::connect(base_, "pinned.invalid", port, o, r.callback())
                              : le::connect(base_, "asked.invalid", 1, o, r.callback());
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

// ---- Options::dns_cache: answers kept from race to race (v3 §4.3, §4.4) ------
// ---- PREF64 discovery (RFC 7050, v3 §8.2) -----------------------------------

namespace eyeballs::test {
namespace {

std::string https_name(const std::string& host, std::uint16_t port) {
    return port == 443 ? host : "_" + std::to_string(port) + "._https." + host;  // RFC 9460 §9.1
}

// The first race asks HTTPS, AAAA and A of dns_server and keeps the answers
// (TTL 60 s); the second race over the same cache is answered from it: the
// machine still issues its three Resolve actions, but no query reaches the
// server.
TEST_F(LibeventTest, DnsCacheAnswersTheNextRaceWithoutAQuery) {
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
    le::Options o;
    o.config.https = true;
    o.config.resolution_delay = eyeballs::max_resolution_delay;
    o.dns_server = dns.endpoint();
    o.dns_cache = &cache;
    {
        Result first;
        auto h = le::connect(base_, "cached.test", pair.port, o, first.callback());
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
    auto h = le::connect(base_, "cached.test", pair.port, o, second.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(second);
    ASSERT_EQ(second.report.outcome, Outcome::connected) << second.report.message;
    EXPECT_EQ(second.report.remote, loopback_v6(pair.port));
    EXPECT_EQ(peer_of(second.fd), loopback_v6(pair.port));
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
TEST_F(LibeventTest, DnsCacheStaleAnswerRacesThenIsReplaced) {
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
    le::Options o;
    o.config.https = true;  // handle_stale is a v3 input
    o.dns_server = dns.endpoint();
    o.dns_cache = &cache;
    Result r;
    auto h = le::connect(base_, "stale.test", port, o, r.callback());
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
    EXPECT_EQ(peer_of(r.fd), loopback_v4(port));
    const auto after = cache.lookup("stale.test", DnsCache::Type::a, Clock::now());
    EXPECT_EQ(after.state, DnsCache::State::fresh);
    EXPECT_EQ(after.addresses, std::vector<Endpoint>{loopback_v4(0)});
    std::size_t a_queries = 0;
    for (const auto& q : dns.queries()) a_queries += q.name == "stale.test" && q.type == 1;
    EXPECT_EQ(a_queries, 1u) << "the stale answer did not stop the query";
    EXPECT_TRUE(drains());
    v4.accept_all();
}

// A stale HTTPS answer from the cache (v3 §4.4): its service old.test
// (127.0.0.2: nobody listens) races and is refused while the HTTPS query goes
// out; the server's answer (300 ms later) names new.test instead, which
// replaces it (§7), is asked, and connects. The new records are then cached.
TEST_F(LibeventTest, DnsCacheStaleHttpsAnswerRacesThenIsReplaced) {
    Listener v4(loopback_v4());
    const std::uint16_t port = v4.endpoint().port();
    const std::string qname = https_name("stale.test", port);
    DnsServer dns;
    dns.set_https(qname, DnsServer::Answer::https_text({"1 new.test. alpn=h2"}, 300ms));
    dns.set("stale.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("stale.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 3s));
    dns.set("old.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("old.test", Family::v4,
            DnsServer::Answer::with({*Endpoint::parse_address("127.0.0.2", 0)}));
    dns.set("new.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("new.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    DnsCache cache;
    cache.store_https(qname, {*parse_svcb_presentation("1 old.test. alpn=h2")}, 1,
                      Clock::now() - 10s);
    le::Options o;
    o.config.https = true;
    o.dns_server = dns.endpoint();
    o.dns_cache = &cache;
    Result r;
    auto h = le::connect(base_, "stale.test", port, o, r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.attempts.size(), 2u);
    auto start_of = [&](std::size_t i) { return r.report.attempts[i].started - r.report.started; };
    EXPECT_EQ(r.report.attempts[0].remote, Endpoint::parse_address("127.0.0.2", port))
        << "the stale answer's service raced";
    EXPECT_LT(start_of(0), 300ms) << "before the server's HTTPS answer";
    EXPECT_EQ(r.report.attempts[1].remote, loopback_v4(port));
    EXPECT_EQ(r.report.attempts[1].source, ServiceSource::https_record)
        << "the fresh answer's service, not the origin's A answer";
    EXPECT_GE(start_of(1), 300ms) << "the fresh answer replaced the stale one";
    EXPECT_EQ(peer_of(r.fd), loopback_v4(port));
    const auto after = cache.lookup(qname, DnsCache::Type::https, Clock::now());
    EXPECT_EQ(after.state, DnsCache::State::fresh);
    ASSERT_EQ(after.records.size(), 1u);
    EXPECT_EQ(after.records[0].target, "new.test.");
    std::size_t https_queries = 0;
    for (const auto& q : dns.queries()) https_queries += q.name == qname && q.type == 65;
    EXPECT_EQ(https_queries, 1u) << "the stale answer did not stop the query";
    EXPECT_TRUE(drains());
    v4.accept_all();
}

// A failed re-query (SERVFAIL) keeps the stale addresses: they stay in the
// race (and win here, 127.0.0.1 listening) and in the cache for next time
// (RFC 8767: an unreachable server does not make a name disappear).
TEST_F(LibeventTest, DnsCacheFailedQueryKeepsTheStaleAnswer) {
    Listener v4(loopback_v4());
    const std::uint16_t port = v4.endpoint().port();
    DnsServer dns;
    dns.set("kept.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("kept.test", Family::v4, DnsServer::Answer::servfail());
    DnsCache cache;
    cache.store("kept.test", Family::v4, {loopback_v4(0)}, 1, Clock::now() - 10s);
    le::Options o;
    o.config.https = true;
    o.dns_server = dns.endpoint();
    o.dns_cache = &cache;
    Result r;
    auto h = le::connect(base_, "kept.test", port, o, r.callback());
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

// Through evdns (no dns_server: the caller's evdns_base, asking the test
// server) a failed re-query reads as EVUTIL_EAI_FAIL, which is also what an
// empty answer gives; for a question raced stale it is a failure, so the
// stale addresses stay: the untried 127.0.0.1 is still raced after the
// (long) attempt delay, past the A query's 200 ms timeout, and wins.
TEST_F(LibeventTest, DnsCacheEvdnsTimeoutKeepsTheStaleAddresses) {
    Blackhole hole(*Endpoint::parse_address("127.0.0.2", 0));
    const std::uint16_t port = hole.endpoint().port();
    Listener open(loopback_v4(port));
    DnsServer dns;
    dns.set("evdns-stale.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("evdns-stale.test", Family::v4, DnsServer::Answer::silent());
    evdns_base* mine = evdns_base_new(base_, 0);
    ASSERT_NE(mine, nullptr);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(dns.endpoint(), ss);
    ASSERT_EQ(evdns_base_nameserver_sockaddr_add(mine, reinterpret_cast<sockaddr*>(&ss), len, 0), 0);
    evdns_base_set_option(mine, "timeout:", "0.2");
    evdns_base_set_option(mine, "attempts:", "1");
    DnsCache cache;
    cache.store("evdns-stale.test", Family::v4,
                {*Endpoint::parse_address("127.0.0.2", 0), loopback_v4(0)}, 1, Clock::now() - 10s);
    le::Options o;
    o.config.https = true;
    o.config.attempt_delay = 1000ms;
    o.config.overall_timeout = 5s;
    o.dns = mine;
    o.dns_cache = &cache;
    Result r;
    {
        auto h = le::connect(base_, "evdns-stale.test", port, o, r.callback());
        ASSERT_TRUE(h.status().ok()) << h.status().message();
        run(r);
    }
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(port));
    ASSERT_EQ(r.report.attempts.size(), 2u);
    EXPECT_EQ(r.report.attempts[0].remote.address_string(), "127.0.0.2");
    const auto a_error = std::find_if(r.report.errors.begin(), r.report.errors.end(), [](const Error& e) {
        return e.stage == Stage::resolve && e.family == Family::v4;
    });
    ASSERT_NE(a_error, r.report.errors.end()) << "the failed A query is recorded";
    EXPECT_NE(a_error->dns, DnsError::nodata);
    EXPECT_EQ(cache.lookup("evdns-stale.test", DnsCache::Type::a, Clock::now()).state,
              DnsCache::State::stale);
    evdns_base_free(mine, 0);
    open.accept_all();
}

/// One discovery's outcome, as its callback saw it.
struct Discovered {
    int calls = 0;
    Pref64Discovery result;
    TimePoint at{};

    le::Pref64Callback callback() {
        return [this](const Pref64Discovery& r) {
            ++calls;
            result = r;
            at = Clock::now();
        };
    }
};

// RFC 7050 §3: the prefix is read around 192.0.0.170/171 in the AAAA answer
// for ipv4only.arpa, asked of the explicit server through evdns.
TEST_F(LibeventTest, DiscoversPref64ThroughIpv4onlyArpa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6,
            DnsServer::Answer::with({*Endpoint::parse("2001:db8:64::c000:aa", 0),
                                     *Endpoint::parse("2001:db8:64::c000:ab", 0)}));
    le::Options o;
    o.dns_server = dns.endpoint();
    Discovered d;
    auto h = le::discover_pref64(base_, o, d.callback());
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
    auto h64 = le::discover_pref64(base_, o, d64.callback());
    run_until([&] { return d64.calls > 0; });
    ASSERT_EQ(d64.result.prefixes.size(), 1u) << d64.result.error;
    EXPECT_EQ(d64.result.prefixes[0], *Pref64::parse("2001:db8:1:2::/64"));
    EXPECT_EQ(d.calls, 1);
    EXPECT_TRUE(drains()) << "the evdns_base or the timer lingers";
}

// RFC 7050 §2: no AAAA for ipv4only.arpa means no DNS64, so no NAT64.
TEST_F(LibeventTest, NoNat64WhenIpv4onlyArpaHasNoAaaa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::nodata());
    le::Options o;
    o.dns_server = dns.endpoint();
    Discovered d;
    auto h = le::discover_pref64(base_, o, d.callback());
    run_until([&] { return d.calls > 0; });
    EXPECT_TRUE(d.result.prefixes.empty());
    EXPECT_NE(d.result.error.find("no NAT64"), std::string::npos) << d.result.error;
    EXPECT_TRUE(drains());
}

// A server that never answers: the discovery fails at dns_timeout, says so,
// and leaves nothing behind.
TEST_F(LibeventTest, Pref64DiscoveryTimesOutAtTheDnsTimeout) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::silent());
    le::Options o;
    o.dns_server = dns.endpoint();
    o.dns_timeout = 600ms;
    Discovered d;
    const auto started = Clock::now();
    auto h = le::discover_pref64(base_, o, d.callback());
    run_until([&] { return d.calls > 0; });
    EXPECT_TRUE(d.result.prefixes.empty());
    EXPECT_NE(d.result.error.find("timed out"), std::string::npos) << d.result.error;
    EXPECT_NE(d.result.error.find("ipv4only.arpa"), std::string::npos) << d.result.error;
    EXPECT_GE(d.at - started, 550ms);
    EXPECT_LT(d.at - started, 1500ms);
    EXPECT_TRUE(drains()) << "the failed query or the evdns_base lingers";
}

// Cancel and drop, as for a race: cancel() calls back before it returns; a
// destroyed handle never calls back; neither leaves a socket or an event.
TEST_F(LibeventTest, Pref64DiscoveryCancelAndDrop) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::silent());
    le::Options o;
    o.dns_server = dns.endpoint();
    Discovered d;
    auto h = le::discover_pref64(base_, o, d.callback());
    bool inside = false;
    auto l = later(50ms, [&] {
        h.cancel();
        inside = d.calls == 1;
        h.cancel();  // idempotent
    });
    run_until([&] { return d.calls > 0; });
    EXPECT_TRUE(inside);
    EXPECT_NE(d.result.error.find("cancelled"), std::string::npos) << d.result.error;
    EXPECT_FALSE(h.running());
    l.reset();

    // A caller's evdns_base: its request is cancelled, the base left alone.
    evdns_base* mine = evdns_base_new(base_, 0);
    sockaddr_storage ss;
    const socklen_t len = to_sockaddr(dns.endpoint(), ss);
    ASSERT_EQ(evdns_base_nameserver_sockaddr_add(mine, reinterpret_cast<const sockaddr*>(&ss),
                                                 len, 0),
              0);
    le::Options theirs;
    theirs.dns = mine;
    Discovered dropped;
    {
        auto gone = le::discover_pref64(base_, theirs, dropped.callback());
        ASSERT_TRUE(gone.status().ok()) << gone.status().message();
        run_until([&] { return dns.queries().size() >= 2; }, 2s);
    }
    Discovered owned_dropped;
    { auto gone = le::discover_pref64(base_, o, owned_dropped.callback()); }
    event_base_loop(base_, EVLOOP_NONBLOCK);  // the cancellations come back
    EXPECT_EQ(evdns_base_count_nameservers(mine), 1);
    evdns_base_free(mine, 0);  // its own socket's event stays until then
    EXPECT_TRUE(drains());
    EXPECT_EQ(dropped.calls, 0);
    EXPECT_EQ(owned_dropped.calls, 0);

    le::Options both = theirs;
    both.dns_server = dns.endpoint();
    EXPECT_FALSE(le::discover_pref64(base_, both, dropped.callback()).status().ok());
    EXPECT_FALSE(le::discover_pref64(nullptr, o, dropped.callback()).status().ok());
    EXPECT_FALSE(le::discover_pref64(base_, o, le::Pref64Callback{}).status().ok());
}

// ---- Options::alt_svc_cache: the origin's Alt-Svc alternatives (RFC 7838, v3 §6.2) ----

// https://alt.test:PORT refuses; the cache holds h2=":ALT" for that origin.
// The race given the cache connects to ALT's listener (an alt-svc service,
// ranked first); the same race without it fails on the refused origin and
// ALT's listener sees nothing; a config.alt_svc the caller gives (h2=":OWN")
// wins over the cache. The names are raced with config.https, so the server
// answers the HTTPS question (NODATA).
TEST_F(LibeventTest, AltSvcCacheAlternativesJoinTheRace) {
    RefusedPort origin(loopback_v4());
    const std::uint16_t port = origin.endpoint().port();
    Listener alt(loopback_v4());
    Listener own(loopback_v4());
    DnsServer dns;
    dns.set_https(https_name("alt.test", port), DnsServer::Answer::nodata());
    dns.set("alt.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("alt.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    AltSvcCache cache;
    std::string error;
    ASSERT_TRUE(cache.store({"https", "alt.test", port},
                            "h2=\":" + std::to_string(alt.endpoint().port()) + "\"", Clock::now(),
                            &error))
        << error;
    le::Options o;
    o.config.https = true;
    o.dns_server = dns.endpoint();
    auto race = [&](Result& r) {
        auto h = le::connect(base_, "alt.test", port, o, r.callback());
        ASSERT_TRUE(h.status().ok()) << h.status().message();
        run(r);
    };
    {
        o.alt_svc_cache = &cache;
        Result r;
        race(r);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
        EXPECT_EQ(peer_of(r.fd), alt.endpoint());
        EXPECT_EQ(r.report.source, ServiceSource::alt_svc);
        EXPECT_EQ(alt.accept_all(), 1);
        EXPECT_EQ(own.accept_all(), 0);
    }
    {
        o.alt_svc_cache = nullptr;
        Result r;
        race(r);
        EXPECT_EQ(r.report.outcome, Outcome::failed) << "only the refused origin was raced";
        EXPECT_EQ(alt.accept_all(), 0);
    }
    {
        o.alt_svc_cache = &cache;
        const auto mine = parse_alt_svc("h2=\":" + std::to_string(own.endpoint().port()) + "\"",
                                        &error);
        ASSERT_TRUE(mine) << error;
        o.config.alt_svc = mine->alternatives;
        Result r;
        race(r);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
        EXPECT_EQ(peer_of(r.fd), own.endpoint()) << "the caller's list wins";
        EXPECT_EQ(own.accept_all(), 1);
        EXPECT_EQ(alt.accept_all(), 0);
    }
    EXPECT_TRUE(drains());
}

}  // namespace
}  // namespace eyeballs::test
