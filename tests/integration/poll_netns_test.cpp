// SPDX-License-Identifier: BSL-1.0
// Root only: the poll adapter across a real two-host topology (a second
// network namespace joined by veth, see support/netns.hpp). Here the broken
// path is a real route, not a loopback trick: replies dropped by the server
// host, or no route at all on ours. Skips with a message when not root.
#include <cerrno>

#include "netns.hpp"
#include "poll_common.hpp"

namespace eyeballs::test {
namespace {

class PollNetns : public FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        std::string why = TwoHostTopology::unavailable_reason();
        if (!why.empty()) GTEST_SKIP() << why;
        net_ = std::make_unique<TwoHostTopology>();
        // The same port on both server addresses, like a dual-stack server.
        v6_ = net_->listen_in_server(net_->server(Family::v6, 0));
        port_ = bound_endpoint(v6_.get()).port();
        v4_ = net_->listen_in_server(net_->server(Family::v4, port_));
    }
    void TearDown() override {
        v6_.reset();
        v4_.reset();
        net_.reset();
        FdLeakTest::TearDown();
    }
    std::vector<Endpoint> both() const {
        return {net_->server(Family::v6, port_), net_->server(Family::v4, port_)};
    }
    poll::Options options() {
        poll::Options o;
        o.on_action = rec.observer();
        return o;
    }

    std::unique_ptr<TwoHostTopology> net_;
    Fd v6_, v4_;
    std::uint16_t port_ = 0;
    Recorder rec;
};

TEST_F(PollNetns, HealthyPathsIpv6Wins) {
    poll::Result r = poll::connect(both(), options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, net_->server(Family::v6, port_));
    EXPECT_EQ(peer_of(r.fd), net_->server(Family::v6, port_));
    EXPECT_EQ(local_of(r.fd)->address_string(), net_->client(Family::v6).address_string());
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollNetns, Ipv6RepliesDroppedIpv4WinsAfterTheAttemptDelay) {
    net_->blackhole(Family::v6);
    poll::Result r = poll::connect(both(), options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, net_->server(Family::v4, port_));
    ASSERT_EQ(r.report.attempts.size(), 2u);
    auto gap = r.report.attempts[1].started - r.report.attempts[0].started;
    EXPECT_GE(gap, 250ms);
    EXPECT_LT(gap, 2s);
    EXPECT_EQ(r.report.attempts[0].state, AttemptRecord::State::closed);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// connect(2) itself fails (no route): the failure is fed at once and IPv4
// starts at the 10 ms floor.
TEST_F(PollNetns, Ipv6UnreachableFailsAtOnceIpv4StartsAtTheFloor) {
    net_->unreachable(Family::v6);
    poll::Result r = poll::connect(both(), options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, net_->server(Family::v4, port_));
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::connect);
    EXPECT_TRUE(r.report.errors[0].code == EHOSTUNREACH ||
                r.report.errors[0].code == ENETUNREACH)
        << r.report.errors[0].message();
    ASSERT_EQ(r.report.attempts.size(), 2u);
    auto gap = r.report.attempts[1].started - r.report.attempts[0].started;
    EXPECT_GE(gap, 10ms);
    EXPECT_LT(gap, 250ms);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollNetns, BothPathsDownFailsWithEveryError) {
    net_->unreachable(Family::v6);
    net_->blackhole(Family::v4);
    poll::Options o = options();
    o.config.attempt_timeout = 300ms;
    poll::Result r = poll::connect(both(), o);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::connect);
    EXPECT_EQ(r.report.errors[1].stage, Stage::timeout);
    EXPECT_EQ(r.report.errors[1].code, ETIMEDOUT);
    EXPECT_EQ(r.report.code, 0) << "different errnos: no shared one";
    expect_clean_trace(rec, r);
}

// A local bind on the real path picks our address of that family.
TEST_F(PollNetns, LocalBindOnTheRealPath) {
    poll::Options o = options();
    o.config.local = {net_->client(Family::v4)};
    poll::Result r = poll::connect(both(), o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    // IPv6 had no local candidate: it failed at bind, IPv4 won from our address.
    EXPECT_EQ(r.report.remote, net_->server(Family::v4, port_));
    EXPECT_EQ(local_of(r.fd)->address_string(), net_->client(Family::v4).address_string());
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

}  // namespace
}  // namespace eyeballs::test
