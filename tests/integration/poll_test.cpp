// SPDX-License-Identifier: BSL-1.0
// The poll adapter against real sockets on loopback (addresses mode).
//
// Timing assertions are lower bounds and generous upper bounds only: the
// machine may be busy. Speed is measured by bench/latency.sh, not here.
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "poll_common.hpp"

namespace eyeballs::test {
namespace {

class PollRace : public FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (!ipv6_loopback_available()) GTEST_SKIP() << "needs [::1]: IPv6 loopback is disabled here";
    }
    poll::Options options() {
        poll::Options o;
        o.on_action = rec.observer();
        return o;
    }
    Recorder rec;
};

// RFC 8305 §5: IPv6 silently dropped, IPv4 open → IPv4 starts one Connection
// Attempt Delay after IPv6 and wins; the IPv6 attempt is closed.
TEST_F(PollRace, Ipv6BlackholedIpv4OpenIpv4WinsOneAttemptDelayLater) {
    LoopbackPair pair = bind_loopback_pair();
    Blackhole v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));

    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_GE(r.fd, 0);
    EXPECT_EQ(r.report.remote, v4.endpoint());
    EXPECT_EQ(peer_of(r.fd), v4.endpoint());
    ASSERT_EQ(r.report.attempts.size(), 2u);
    EXPECT_EQ(r.report.attempts[0].remote, v6.endpoint());
    EXPECT_EQ(r.report.attempts[0].state, AttemptRecord::State::closed);
    auto gap = r.report.attempts[1].started - r.report.attempts[0].started;
    EXPECT_GE(gap, 250ms);
    EXPECT_LT(gap, 2s);
    // Trace: connect #1 v6, connect #2 v4, close #1, report.
    auto connects = rec.all<Connect>();
    ASSERT_EQ(connects.size(), 2u);
    EXPECT_EQ(connects[0].remote, v6.endpoint());
    EXPECT_EQ(connects[1].remote, v4.endpoint());
    ASSERT_EQ(rec.all<Close>().size(), 1u);
    EXPECT_EQ(rec.all<Close>()[0].attempt.number(), 1u);
    expect_clean_trace(rec, r);

    // The winner is non-blocking and close-on-exec, and really connected.
    EXPECT_NE(::fcntl(r.fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(r.fd, F_GETFD) & FD_CLOEXEC, 0);
    EXPECT_EQ(v4.accept_all(), 1);
    ::close(r.fd);
}

// RFC 8305 §5's 10 ms floor: IPv6 refused at once → IPv4 starts 10 ms after it.
TEST_F(PollRace, Ipv6RefusedIpv4StartsAtTheTenMillisecondFloor) {
    LoopbackPair pair = bind_loopback_pair();
    RefusedPort v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));

    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v4.endpoint());
    ASSERT_EQ(r.report.attempts.size(), 2u);
    EXPECT_EQ(r.report.attempts[0].state, AttemptRecord::State::failed);
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].code, ECONNREFUSED);
    EXPECT_EQ(r.report.errors[0].stage, Stage::connect);
    auto gap = r.report.attempts[1].started - r.report.attempts[0].started;
    EXPECT_GE(gap, 10ms);
    EXPECT_LT(gap, 250ms) << "fail fast: IPv4 must not wait for the attempt delay";
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// min-start-gap 0 (curl, Go, aiohappyeyeballs): IPv4 starts at the very
// instant the refusal is fed, not a moment later.
TEST_F(PollRace, Ipv6RefusedWithMinStartGapZeroIpv4StartsAtOnce) {
    LoopbackPair pair = bind_loopback_pair();
    RefusedPort v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));

    poll::Options o = options();
    o.config.min_start_gap = 0ms;
    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.attempts.size(), 2u);
    ASSERT_TRUE(r.report.attempts[0].ended.has_value());
    EXPECT_EQ(r.report.attempts[1].started, *r.report.attempts[0].ended);
    EXPECT_LT(r.report.attempts[1].started - r.report.attempts[0].started, 250ms);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollRace, BothOpenIpv6Wins) {
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));

    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v6.endpoint());
    EXPECT_EQ(peer_of(r.fd), v6.endpoint());
    EXPECT_EQ(r.report.attempts.size(), 1u) << "loopback answers long before 250 ms";
    EXPECT_TRUE(rec.all<Close>().empty());
    EXPECT_TRUE(r.report.errors.empty());
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// docs/behaviour.md §3: every attempt refused → failed, ECONNREFUSED is the summary errno.
TEST_F(PollRace, AllRefusedFailsWithEconnrefused) {
    LoopbackPair pair = bind_loopback_pair();
    RefusedPort v6(std::move(pair.v6));
    RefusedPort v4(std::move(pair.v4));

    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, options());
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_EQ(r.fd, -1);
    EXPECT_TRUE(r.status.ok()) << "a network failure is not misuse";
    EXPECT_EQ(r.report.code, ECONNREFUSED);
    ASSERT_EQ(r.report.errors.size(), 2u);
    for (const Error& e : r.report.errors) {
        EXPECT_EQ(e.code, ECONNREFUSED);
        EXPECT_EQ(e.stage, Stage::connect);
    }
    EXPECT_EQ(r.report.errors[0].remote, v6.endpoint());
    EXPECT_EQ(r.report.errors[1].remote, v4.endpoint());
    EXPECT_NE(r.report.message.find("multiple errors: "), std::string::npos) << r.report.message;
    EXPECT_EQ(rec.all<Close>().size(), 2u);
    expect_clean_trace(rec, r);
}

// ---- Local bind (docs/behaviour.md §1 rule 7) -------------------------------------------

TEST_F(PollRace, LocalBindUsesTheCandidate) {
    Listener v4(loopback_v4());
    poll::Options o = options();
    Endpoint local = Endpoint::v4({127, 0, 0, 2}, 0);
    o.config.local = {local};
    poll::Result r = poll::connect({v4.endpoint()}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.local, local);
    ASSERT_TRUE(local_of(r.fd).has_value());
    EXPECT_EQ(local_of(r.fd)->address_string(), "127.0.0.2");
    auto connects = rec.all<Connect>();
    ASSERT_EQ(connects.size(), 1u);
    EXPECT_EQ(connects[0].local, local);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollRace, LocalBindFailingCandidateThenAGoodOne) {
    Listener v4(loopback_v4());
    poll::Options o = options();
    Endpoint not_ours = non_local_v4();
    Endpoint good = Endpoint::v4({127, 0, 0, 3}, 0);
    o.config.local = {not_ours, good};
    poll::Result r = poll::connect({v4.endpoint()}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.local, good);
    EXPECT_EQ(local_of(r.fd)->address_string(), "127.0.0.3");
    // The failed bind is recorded even though a later one worked.
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::bind);
    EXPECT_EQ(r.report.errors[0].code, EADDRNOTAVAIL);
    EXPECT_EQ(r.report.errors[0].local, not_ours);
    EXPECT_EQ(rec.all<Bind>().size(), 2u);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollRace, LocalBindAllCandidatesFailClosesTheSocket) {
    RefusedPort unused(loopback_v4());
    poll::Options o = options();
    o.config.local = {non_local_v4(1), non_local_v4(2)};
    poll::Result r = poll::connect({unused.endpoint()}, o);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::bind);
    EXPECT_EQ(r.report.errors[1].stage, Stage::bind);
    EXPECT_EQ(r.report.code, EADDRNOTAVAIL);
    EXPECT_TRUE(rec.all<Connect>().empty());
    EXPECT_EQ(rec.all<Close>().size(), 1u) << "the socket was opened, so it is closed";
    expect_clean_trace(rec, r);
}

TEST_F(PollRace, LocalBindNoCandidateOfTheFamily) {
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    poll::Options o = options();
    o.config.local = {Endpoint::v4({127, 0, 0, 1}, 0)};
    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v4.endpoint());
    ASSERT_EQ(r.report.errors.size(), 1u);
    const Error& e = r.report.errors[0];
    EXPECT_EQ(e.stage, Stage::bind);
    EXPECT_EQ(e.code, 0);
    EXPECT_EQ(e.attempt, 1u);
    EXPECT_EQ(e.message(), "no local address of family IPv6");
    // Attempt 1 never opened a socket: one OpenSocket in all, no Close.
    auto opens = rec.all<OpenSocket>();
    ASSERT_EQ(opens.size(), 1u);
    EXPECT_EQ(opens[0].remote, v4.endpoint());
    EXPECT_TRUE(rec.all<Close>().empty());
    ASSERT_EQ(r.report.attempts.size(), 2u);
    EXPECT_GE(r.report.attempts[1].started - r.report.attempts[0].started, 10ms);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// ---- Timeouts and cancel (docs/behaviour.md §1 rules 8, 9) -----------------------------

TEST_F(PollRace, AttemptTimeoutFailsTheAttemptAndMovesOn) {
    LoopbackPair pair = bind_loopback_pair();
    Blackhole v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    poll::Options o = options();
    o.config.attempt_delay = std::nullopt;  // sequential: only the timeout moves on
    o.config.attempt_timeout = 100ms;
    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v4.endpoint());
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::timeout);
    EXPECT_EQ(r.report.errors[0].code, ETIMEDOUT);
    ASSERT_EQ(r.report.attempts.size(), 2u);
    auto gap = r.report.attempts[1].started - r.report.attempts[0].started;
    EXPECT_GE(gap, 100ms);
    EXPECT_LT(gap, 2s);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollRace, AttemptTimeoutOnEveryAttemptFailsWithEtimedout) {
    Blackhole v6(loopback_v6());
    poll::Options o = options();
    o.config.attempt_timeout = 80ms;
    auto t0 = Clock::now();
    poll::Result r = poll::connect({v6.endpoint()}, o);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_EQ(r.report.code, ETIMEDOUT);
    EXPECT_GE(Clock::now() - t0, 80ms);
    EXPECT_EQ(rec.all<Close>().size(), 1u);
    expect_clean_trace(rec, r);
}

TEST_F(PollRace, OverallTimeoutEndsTheRace) {
    LoopbackPair pair = bind_loopback_pair();
    Blackhole v6(std::move(pair.v6));
    Blackhole v4(std::move(pair.v4));
    poll::Options o = options();
    o.config.overall_timeout = 400ms;
    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, o);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_TRUE(r.report.overall_timeout);
    EXPECT_EQ(r.report.code, ETIMEDOUT);
    EXPECT_EQ(r.fd, -1);
    auto took = r.report.finished - r.report.started;
    EXPECT_GE(took, 400ms);
    EXPECT_LT(took, 3s);
    EXPECT_EQ(r.report.attempts.size(), 2u) << "IPv4 started at 250 ms, before the timeout";
    EXPECT_EQ(rec.all<Close>().size(), 2u);
    expect_clean_trace(rec, r);
}

TEST_F(PollRace, CancelFdEndsTheRace) {
    Blackhole v6(loopback_v6());
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    Fd rd(p[0]), wr(p[1]);
    poll::Options o = options();
    o.cancel_fd = rd.get();
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        char b = 1;
        [[maybe_unused]] auto n = ::write(wr.get(), &b, 1);
    });
    auto t0 = Clock::now();
    poll::Result r = poll::connect({v6.endpoint()}, o);
    canceller.join();
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_EQ(r.fd, -1);
    EXPECT_GE(Clock::now() - t0, 100ms);
    EXPECT_EQ(rec.all<Close>().size(), 1u);
    // The cancel fd is the caller's: still open, still readable, not drained.
    pollfd pf{rd.get(), POLLIN, 0};
    EXPECT_EQ(::poll(&pf, 1, 0), 1);
    expect_clean_trace(rec, r);
}

TEST_F(PollRace, CancelFdAlreadyReadableCancelsAtOnce) {
    Blackhole v6(loopback_v6());
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    Fd rd(p[0]), wr(p[1]);
    ASSERT_EQ(::write(wr.get(), "x", 1), 1);
    poll::Options o = options();
    o.cancel_fd = rd.get();
    poll::Result r = poll::connect({v6.endpoint()}, o);
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_LT(r.report.finished - r.report.started, 2s);
    expect_clean_trace(rec, r);
}

// ---- Socket factory ------------------------------------------------------

TEST_F(PollRace, SocketFactoryConfiguresEachSocket) {
    LoopbackPair pair = bind_loopback_pair();
    Blackhole v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    std::vector<Endpoint> asked;
    poll::Options o = options();
    o.config.attempt_delay = 20ms;
    o.socket_factory = [&](const Endpoint& remote) {
        asked.push_back(remote);
        // Blocking and inheritable on purpose: the adapter must fix both.
        int fd = ::socket(to_af(remote.family()), SOCK_STREAM, 0);
        int one = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
        return fd;
    };
    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(asked, (std::vector<Endpoint>{v6.endpoint(), v4.endpoint()}));
    int keepalive = 0;
    socklen_t len = sizeof keepalive;
    ASSERT_EQ(::getsockopt(r.fd, SOL_SOCKET, SO_KEEPALIVE, &keepalive, &len), 0);
    EXPECT_EQ(keepalive, 1) << "the winner is the factory's socket";
    EXPECT_NE(::fcntl(r.fd, F_GETFL) & O_NONBLOCK, 0);
    EXPECT_NE(::fcntl(r.fd, F_GETFD) & FD_CLOEXEC, 0);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollRace, SocketFactoryThatFailsFailsTheAttemptAtOpen) {
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    poll::Options o = options();
    o.socket_factory = [](const Endpoint& remote) {
        if (remote.is_v6()) {
            errno = EMFILE;
            return -1;
        }
        return ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    };
    poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v4.endpoint());
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::open);
    EXPECT_EQ(r.report.errors[0].code, EMFILE);
    EXPECT_TRUE(rec.all<Close>().empty()) << "a socket never created is never closed";
    // Attempt 1 has a number but no connect line (docs/behaviour.md §5).
    ASSERT_EQ(rec.all<Connect>().size(), 1u);
    EXPECT_EQ(rec.all<Connect>()[0].attempt.number(), 2u);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollRace, SocketFactoryFailingWithoutErrnoIsEinval) {
    RefusedPort v4(loopback_v4());
    poll::Options o = options();
    o.socket_factory = [](const Endpoint&) { return -1; };
    poll::Result r = poll::connect({v4.endpoint()}, o);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::open);
    EXPECT_EQ(r.report.errors[0].code, EINVAL);
    expect_clean_trace(rec, r);
}

// ---- Misuse is a returned Status, not a race -------------------------------

TEST_F(PollRace, MisuseIsReportedWithoutARace) {
    poll::Options o = options();
    poll::Result empty = poll::connect(std::vector<Endpoint>{}, o);
    EXPECT_FALSE(empty.status.ok());
    EXPECT_EQ(empty.fd, -1);
    EXPECT_EQ(empty.report.code, EINVAL);

    o.config.attempt_delay = 5ms;
    poll::Result bad = poll::connect({loopback_v4(1)}, o);
    EXPECT_FALSE(bad.status.ok());
    EXPECT_NE(bad.status.message().find("10 ms"), std::string::npos) << bad.status.message();
    EXPECT_EQ(bad.report.message, bad.status.message());

    poll::Result no_host = poll::connect("", 80, options());
    EXPECT_FALSE(no_host.status.ok());
    EXPECT_TRUE(rec.log.empty()) << "no action is performed on misuse";
}

// A literal address is raced alone, with no DNS.
TEST_F(PollRace, LiteralHostSkipsDns) {
    Listener v4(loopback_v4());
    poll::Result r = poll::connect("127.0.0.1", v4.endpoint().port(), options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_TRUE(rec.all<Resolve>().empty());
    EXPECT_EQ(r.report.remote, v4.endpoint());
    ::close(r.fd);

    Listener v6(loopback_v6());
    poll::Result r6 = poll::connect("[::1]", v6.endpoint().port(), options());
    ASSERT_EQ(r6.report.outcome, Outcome::connected) << r6.report.message;
    EXPECT_EQ(r6.report.remote, v6.endpoint());
    ::close(r6.fd);
}

// Many races one after another leave nothing behind (the fixture counts fds).
TEST_F(PollRace, RepeatedRacesLeakNothing) {
    LoopbackPair pair = bind_loopback_pair();
    RefusedPort v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    poll::Options o;
    o.config.min_start_gap = 0ms;
    for (int i = 0; i < 50; ++i) {
        poll::Result r = poll::connect({v6.endpoint(), v4.endpoint()}, o);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
        ::close(r.fd);
        v4.accept_all();
    }
}

}  // namespace
}  // namespace eyeballs::test

namespace eyeballs::test {
namespace {

// Resolve overrides (issue 16, eyeballs/overrides.hpp): a pinned name and a
// --connect-to redirect race loopback without a single DNS question.
TEST(PollOverrides, PinAndConnectToSkipDns) {
    Listener server(*Endpoint::parse("127.0.0.1:0", 0));
    const std::uint16_t port = server.endpoint().port();
    for (int variant = 0; variant < 2; ++variant) {
        Recorder rec;
        poll::Options o;
        o.on_action = rec.observer();
        if (variant == 0) {
            o.overrides.push_back(*parse_resolve_override(
                "pinned.invalid:" + std::to_string(port) + ":127.0.0.1", nullptr));
        } else {
            o.overrides.push_back(
                *parse_connect_to("asked.invalid:1:127.0.0.1:" + std::to_string(port), nullptr));
        }
        poll::Result r = variant == 0 ? poll::connect("pinned.invalid", port, o)
                                      : poll::connect("asked.invalid", 1, o);
        ASSERT_EQ(r.report.outcome, Outcome::connected) << variant << ": " << r.report.message;
        EXPECT_EQ(r.report.remote, server.endpoint());
        EXPECT_TRUE(rec.all<Resolve>().empty());
        ::close(r.fd);
    }
}

}  // namespace
}  // namespace eyeballs::test
