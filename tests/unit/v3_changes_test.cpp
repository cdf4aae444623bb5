// SPDX-License-Identifier: BSL-1.0
// Answers that change during the race (Happy Eyeballs v3 §4.3, §4.4, §7):
// the pure rules of src/v3/changes.hpp driven alone, then the RaceMachine's
// handle_stale / handle_dns_update surface. The race-level behaviour is
// pinned by the v3_update_*.scn and v3_stale_*.scn scenarios.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "eyeballs/race_machine.hpp"
#include "v3/changes.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;

namespace {

Endpoint ep(const char* text, std::uint16_t port = 443) { return *Endpoint::parse(text, port); }

// ---- the pure rules ------------------------------------------------------------------

TEST(V3Changes, AnswerRoleTakesOnePlainAnswerTwoAfterAStaleOne) {
    detail::Target t;
    EXPECT_EQ(detail::answer_role(t, Family::v6, false), detail::AnswerRole::first);
    EXPECT_EQ(detail::answer_role(t, Family::v6, true), detail::AnswerRole::refused)
        << "an update needs an answer to change";
    t.addr[0] = detail::DnsState::positive;
    EXPECT_EQ(detail::answer_role(t, Family::v6, false), detail::AnswerRole::refused)
        << "a second plain answer stays a misuse";
    EXPECT_EQ(detail::answer_role(t, Family::v6, true), detail::AnswerRole::update);
    EXPECT_EQ(detail::answer_role(t, Family::v4, false), detail::AnswerRole::first);
    t.stale[0] = true;
    EXPECT_EQ(detail::answer_role(t, Family::v6, false), detail::AnswerRole::fresh);
    EXPECT_EQ(detail::answer_role(t, Family::v6, true), detail::AnswerRole::fresh);
}

TEST(V3Changes, CameFromComparesAddressesWhateverThePort) {
    const std::vector<Endpoint> produced{ep("2001:db8::1", 0), ep("192.0.2.1", 0)};
    EXPECT_TRUE(detail::came_from(ep("2001:db8::1", 8443), produced));
    EXPECT_TRUE(detail::came_from(ep("192.0.2.1"), produced));
    EXPECT_FALSE(detail::came_from(ep("2001:db8::2"), produced));
}

TEST(V3Changes, ResortPutsANewBetterAddressAheadWithinItsGroup) {
    // Issue #95 of the draft: RFC 6724 over the complete list, groups first.
    detail::Rank service;
    service.tier = detail::Rank::Tier::service;
    const std::vector<detail::Pending> pending{
        {service, ep("fd00::1")},                  // ULA: precedence 3
        {detail::Rank::fallback(), ep("2001:db8::9")},
        {service, ep("2001:db8::1")},              // global: precedence 40
        {service, ep("fd00::2")},
    };
    Config c;
    EXPECT_EQ(detail::resort(pending, c, true), (std::vector<std::size_t>{2, 0, 3, 1}));
    // Without sorting: the groups alone, the given order within each.
    EXPECT_EQ(detail::resort(pending, c, false), (std::vector<std::size_t>{0, 2, 3, 1}));
}

TEST(V3Changes, ResortKeepsTwoTransportsOfOneAddressInTheirOrder) {
    detail::Rank quic;
    quic.tier = detail::Rank::Tier::service;
    quic.tcp = false;
    detail::Rank tcp = quic;
    tcp.tcp = true;
    const std::vector<detail::Pending> pending{
        {tcp, ep("2001:db8::1")}, {quic, ep("2001:db8::1")}, {quic, ep("fd00::1")}};
    Config c;
    EXPECT_EQ(detail::resort(pending, c, true), (std::vector<std::size_t>{1, 2, 0}));
}

// ---- the RaceMachine's inputs -------------------------------------------------------------

struct Race {
    explicit Race(bool https = true) : m(config(https)) {}
    static Config config(bool https) {
        Config c;
        c.https = https;
        return c;
    }
    TimePoint t0{std::chrono::seconds(50)};
    RaceMachine m;
    std::vector<Connect> connects;
    std::vector<Close> closes;
    void drain(TimePoint now) {
        while (auto a = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*a)) m.handle_opened(now, o->attempt);
            if (auto* c = std::get_if<Connect>(&*a)) connects.push_back(*c);
            if (auto* c = std::get_if<Close>(&*a)) closes.push_back(*c);
        }
    }
    // HTTPS "no records", A "no data": a race of the origin's AAAA answers.
    void begin() {
        ASSERT_TRUE(m.start_resolving(t0));
        drain(t0);
        m.handle_https(t0, Resolve(Family::v6, true), nullptr, 0);
        m.handle_resolved(t0, Resolve(Family::v4), std::vector<Endpoint>{});
    }
    std::vector<Endpoint> pending() const {
        std::vector<Endpoint> out;
        for (const PlanEntry& p : m.plan()) {
            if (p.attempt == 0) out.push_back(p.remote);
        }
        return out;
    }
};

TEST(V3ChangesApi, WithoutHttpsBothInputsAreMisuseAndASecondAnswerStaysOne) {
    Race r(false);
    ASSERT_TRUE(r.m.start_resolving(r.t0));
    r.drain(r.t0);
    const std::vector<Endpoint> a{ep("2001:db8::1")};
    EXPECT_EQ(r.m.handle_stale(r.t0, Resolve(Family::v6), a), InputStatus::out_of_order);
    EXPECT_EQ(r.m.handle_resolved(r.t0, Family::v6, a), InputStatus::accepted);
    EXPECT_EQ(r.m.handle_dns_update(r.t0, Resolve(Family::v6), a), InputStatus::out_of_order);
    EXPECT_EQ(r.m.handle_resolved(r.t0, Family::v6, a), InputStatus::out_of_order);
}

TEST(V3ChangesApi, UpdateNeedsAnAnswerAndNeverTouchesAttemptsInFlight) {
    Race r;
    r.begin();
    const Resolve aaaa(Family::v6);
    EXPECT_EQ(r.m.handle_dns_update(r.t0, aaaa, std::vector<Endpoint>{ep("2001:db8::1")}),
              InputStatus::out_of_order)
        << "nothing to change yet";
    r.m.handle_resolved(r.t0, aaaa, std::vector<Endpoint>{ep("2001:db8::1"), ep("fd00::2")});
    r.drain(r.t0);
    ASSERT_EQ(r.connects.size(), 1u);
    EXPECT_EQ(r.connects[0].remote, ep("2001:db8::1"));
    EXPECT_EQ(r.m.handle_resolved(r.t0, aaaa, std::vector<Endpoint>{ep("2001:db8::3")}),
              InputStatus::out_of_order)
        << "a second plain answer stays a misuse";
    const TimePoint t = r.t0 + 100ms;
    EXPECT_EQ(r.m.handle_dns_update(t, aaaa,
                                    std::vector<Endpoint>{ep("fd00::2"), ep("2001:db8::3")}),
              InputStatus::accepted);
    r.drain(t);
    EXPECT_TRUE(r.closes.empty()) << "#1 (gone from the answer) goes on";
    EXPECT_EQ(r.m.attempts_in_flight(), 1u);
    EXPECT_EQ(r.pending(), (std::vector<Endpoint>{ep("2001:db8::3"), ep("fd00::2")}))
        << "sorted again: the new global address before the ULA one";
    // An empty update: no addresses of this family now.
    EXPECT_EQ(r.m.handle_dns_update(t, aaaa, nullptr, 0), InputStatus::accepted);
    EXPECT_TRUE(r.pending().empty());
    EXPECT_EQ(r.m.attempts_in_flight(), 1u);
    EXPECT_EQ(r.m.handle_connected(t + 1ms, r.connects[0].attempt), InputStatus::accepted);
    r.drain(t + 1ms);
    EXPECT_EQ(r.m.outcome(), Outcome::connected);
}

TEST(V3ChangesApi, StaleAnswerTakesOneFreshReplacement) {
    Race r;
    r.begin();
    const Resolve aaaa(Family::v6);
    EXPECT_EQ(r.m.handle_stale(r.t0, aaaa,
                               std::vector<Endpoint>{ep("2001:db8::1"), ep("2001:db8::2")}),
              InputStatus::accepted);
    r.drain(r.t0);
    ASSERT_EQ(r.connects.size(), 1u) << "a stale answer is raced at once";
    EXPECT_EQ(r.m.handle_stale(r.t0, aaaa, std::vector<Endpoint>{ep("2001:db8::9")}),
              InputStatus::out_of_order);
    const TimePoint t = r.t0 + 100ms;
    EXPECT_EQ(r.m.handle_resolved(t, aaaa, std::vector<Endpoint>{ep("2001:db8::3")}),
              InputStatus::accepted)
        << "the fresh answer";
    EXPECT_EQ(r.pending(), (std::vector<Endpoint>{ep("2001:db8::3")}));
    EXPECT_EQ(r.m.handle_resolved(t, aaaa, std::vector<Endpoint>{ep("2001:db8::4")}),
              InputStatus::out_of_order)
        << "one replacement only; later changes are updates";
    EXPECT_TRUE(r.closes.empty());
}

TEST(V3ChangesApi, RaceWaitsForTheFreshAnswerAndAFailedOneKeepsTheStale) {
    Race r;
    r.begin();
    const Resolve aaaa(Family::v6);
    r.m.handle_stale(r.t0, aaaa, std::vector<Endpoint>{ep("2001:db8::1")});
    r.drain(r.t0);
    ASSERT_EQ(r.connects.size(), 1u);
    r.m.handle_connect_failed(r.t0 + 5ms, r.connects[0].attempt, ECONNREFUSED);
    r.drain(r.t0 + 5ms);
    EXPECT_FALSE(r.m.finished()) << "the fresh answer is still to come";
    EXPECT_EQ(r.m.handle_resolve_failed(r.t0 + 9ms, aaaa, ETIMEDOUT, "timed out"),
              InputStatus::accepted);
    r.drain(r.t0 + 9ms);
    EXPECT_TRUE(r.m.finished()) << "nothing left: the stale ::1 was tried";
    const RaceReport rep = r.m.report();
    ASSERT_FALSE(rep.errors.empty());
    EXPECT_EQ(rep.errors.front().stage, Stage::resolve);
}

}  // namespace
