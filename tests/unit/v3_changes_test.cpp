// SPDX-License-Identifier: BSL-1.0
// Answers that change during the race (Happy Eyeballs v3 §4.3, §4.4, §7):
// the pure rules of src/v3/changes.hpp driven alone, then the RaceMachine's
// handle_stale / handle_stale_https / handle_dns_update surface. The race-level behaviour is
// pinned by the v3_update_*.scn, v3_stale_*.scn and v3_stale_https_*.scn scenarios.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "eyeballs/race_machine.hpp"
#include "v3/changes.hpp"
#include "v3/planner.hpp"

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

// ---- §4.4 / §7 for the HTTPS question ------------------------------------------------

std::vector<SvcbRecord> records(std::initializer_list<const char*> texts) {
    std::vector<SvcbRecord> out;
    for (const char* t : texts) out.push_back(*parse_svcb_presentation(t));
    return out;
}

TEST(V3ChangesPlanner, FreshHttpsKeepsWhatItHasAgainWithdrawsTheRestAndMakesTheNew) {
    Config c;
    c.https = true;
    detail::Planner p;
    p.names.start();
    const auto stale = records({"1 a.example. alpn=h2 ipv6hint=2001:db8::1",
                                "2 b.example. alpn=h2 ipv6hint=2001:db8::2"});
    const detail::HttpsStep first = p.on_stale_https(0, stale.data(), stale.size(), c);
    ASSERT_EQ(first.services.size(), 2u);
    EXPECT_EQ(p.stale_https(), 0u);
    EXPECT_TRUE(p.outstanding()) << "the fresh answer is awaited";
    EXPECT_FALSE(p.names.https_pending()) << "but the race need not wait for it";
    // b stays; a's hints changed (a new service); c is new.
    const auto fresh = records({"1 a.example. alpn=h2 ipv6hint=2001:db8::9",
                                "2 b.example. alpn=h2 ipv6hint=2001:db8::2",
                                "3 c.example. alpn=h2"});
    const detail::HttpsStep step = p.on_fresh_https(fresh.data(), fresh.size(), c);
    EXPECT_EQ(step.withdrawn, (std::vector<std::uint16_t>{first.services[0].index}));
    ASSERT_EQ(step.services.size(), 2u) << "a (new hints) and c";
    EXPECT_EQ(p.service(step.services[0].index).priority, 1);
    EXPECT_EQ(p.service(step.services[1].index).target, "c.example.");
    EXPECT_EQ(step.ask_addresses.size(), 1u) << "only c.example. is a new name";
    EXPECT_TRUE(p.withdrawn(first.services[0].index));
    EXPECT_FALSE(p.withdrawn(first.services[1].index));
    EXPECT_EQ(p.stale_https(), detail::no_target);
}

TEST(V3ChangesPlanner, IdenticalFreshHttpsChangesNothing) {
    Config c;
    c.https = true;
    detail::Planner p;
    p.names.start();
    const auto stale = records({"1 . alpn=h2", "1 . alpn=h3 port=8443"});
    c.quic = true;
    p.on_stale_https(0, stale.data(), stale.size(), c);
    const std::size_t made = p.services().size();
    const detail::HttpsStep step = p.on_fresh_https(stale.data(), stale.size(), c);
    EXPECT_TRUE(step.services.empty());
    EXPECT_TRUE(step.withdrawn.empty());
    EXPECT_TRUE(step.ask_addresses.empty());
    EXPECT_EQ(p.services().size(), made);
}

TEST(V3ChangesPlanner, FreshAliasWithdrawsEveryStaleServiceAndFollowsIt) {
    Config c;
    c.https = true;
    detail::Planner p;
    p.names.start();
    const auto stale = records({"1 . alpn=h2"});
    p.on_stale_https(0, stale.data(), stale.size(), c);
    const auto fresh = records({"0 alias.example."});
    const detail::HttpsStep step = p.on_fresh_https(fresh.data(), fresh.size(), c);
    EXPECT_EQ(step.withdrawn.size(), 1u);
    EXPECT_NE(step.ask_https, detail::no_target);
    EXPECT_TRUE(p.names.https_pending());
}

struct HttpsRace : Race {
    const Resolve https{Family::v6, true};
    // The origin: no addresses; the HTTPS answer is stale.
    void begin_stale(const std::vector<SvcbRecord>& stale) {
        ASSERT_TRUE(m.start_resolving(t0));
        drain(t0);
        ASSERT_EQ(m.handle_stale_https(t0, https, stale), InputStatus::accepted);
        m.handle_resolved(t0, Resolve(Family::v6), std::vector<Endpoint>{});
        m.handle_resolved(t0, Resolve(Family::v4), std::vector<Endpoint>{});
        drain(t0);
    }
};

TEST(V3ChangesApi, StaleHttpsIsMisuseWithoutHttpsOrForAQuestionNotAwaited) {
    Race plain(false);
    ASSERT_TRUE(plain.m.start_resolving(plain.t0));
    plain.drain(plain.t0);
    const auto recs = records({"1 . alpn=h2"});
    EXPECT_EQ(plain.m.handle_stale_https(plain.t0, Resolve(Family::v6, true), recs),
              InputStatus::out_of_order)
        << "an RFC 8305 race asks no HTTPS question";
    EXPECT_EQ(plain.m.handle_resolved(plain.t0, Family::v6, std::vector<Endpoint>{ep("::1")}),
              InputStatus::accepted)
        << "and goes on as before";

    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t0));
    r.drain(r.t0);
    EXPECT_EQ(r.m.handle_stale_https(r.t0, Resolve(Family::v6), recs), InputStatus::out_of_order)
        << "records for an address question";
    EXPECT_EQ(r.m.handle_stale(r.t0, Resolve(Family::v6, true), std::vector<Endpoint>{ep("::1")}),
              InputStatus::out_of_order)
        << "addresses for the HTTPS question";
    EXPECT_EQ(r.m.handle_stale_https(r.t0, Resolve(Family::v6, true, "other.example."), recs),
              InputStatus::out_of_order)
        << "a name never asked";
    EXPECT_EQ(r.m.handle_stale_https(r.t0, Resolve(Family::v6, true), recs),
              InputStatus::accepted);
    EXPECT_EQ(r.m.handle_stale_https(r.t0, Resolve(Family::v6, true), recs),
              InputStatus::out_of_order)
        << "a second stale answer";
    EXPECT_EQ(r.m.handle_https(r.t0, Resolve(Family::v6, true), recs), InputStatus::accepted)
        << "the fresh one";
    EXPECT_EQ(r.m.handle_https(r.t0, Resolve(Family::v6, true), recs), InputStatus::out_of_order)
        << "one replacement only";
    EXPECT_EQ(r.m.handle_stale_https(r.t0, Resolve(Family::v6, true), recs),
              InputStatus::out_of_order);
}

TEST(V3ChangesApi, StaleHttpsIsRacedAndTheFreshAnswerReplacesItsServices) {
    HttpsRace r;
    r.begin_stale(records({"1 a.example. alpn=h2 ipv6hint=2001:db8::1,2001:db8::2",
                           "2 b.example. alpn=h2 ipv6hint=2001:db8::3"}));
    ASSERT_EQ(r.connects.size(), 1u) << "the stale services' hints are raced at once";
    EXPECT_EQ(r.connects[0].remote, ep("2001:db8::1"));
    EXPECT_EQ(r.pending(), (std::vector<Endpoint>{ep("2001:db8::2"), ep("2001:db8::3")}));
    const TimePoint t = r.t0 + 100ms;
    EXPECT_EQ(r.m.handle_https(t, r.https,
                               records({"2 b.example. alpn=h2 ipv6hint=2001:db8::3",
                                        "3 c.example. alpn=h2 ipv6hint=2001:db8::4"})),
              InputStatus::accepted);
    std::vector<Resolve> asked;
    while (auto a = r.m.poll_action()) {
        if (auto* q = std::get_if<Resolve>(&*a)) asked.push_back(*q);
    }
    EXPECT_EQ(r.pending(), (std::vector<Endpoint>{ep("2001:db8::3"), ep("2001:db8::4")}))
        << "a's untried ::2 left; c's hint joined after b";
    EXPECT_EQ(r.m.attempts_in_flight(), 1u) << "the attempt to ::1 goes on";
    EXPECT_TRUE(r.closes.empty());
    ASSERT_EQ(asked.size(), 2u) << "c.example.'s AAAA and A";
    EXPECT_EQ(asked[0].name, "c.example.");
    // a.example.'s answer, still outstanding, brings nothing back.
    EXPECT_EQ(r.m.handle_resolved(t, Resolve(Family::v6, false, "a.example."),
                                  std::vector<Endpoint>{ep("2001:db8::7")}),
              InputStatus::accepted);
    EXPECT_EQ(r.pending(), (std::vector<Endpoint>{ep("2001:db8::3"), ep("2001:db8::4")}));
}

TEST(V3ChangesApi, FailedOrEmptyFreshHttpsKeepsTheStaleServices) {
    for (const int how : {0, 1, 2}) {  // an empty answer, NODATA, SERVFAIL
        const bool empty = how == 0;
        HttpsRace r;
        r.begin_stale(records({"1 a.example. alpn=h2 ipv6hint=2001:db8::1,2001:db8::2"}));
        ASSERT_EQ(r.connects.size(), 1u);
        const TimePoint t = r.t0 + 100ms;
        const InputStatus s =
            empty ? r.m.handle_https(t, r.https, nullptr, 0)
                  : r.m.handle_resolve_failed(
                        t, r.https, how == 1 ? DnsError::nodata : DnsError::server_failure);
        EXPECT_EQ(s, InputStatus::accepted);
        EXPECT_EQ(r.pending(), (std::vector<Endpoint>{ep("2001:db8::2")})) << how;
        EXPECT_EQ(r.m.handle_https(t, r.https, records({"1 . alpn=h2"})),
                  InputStatus::out_of_order)
            << "the question is settled";
    }
}

TEST(V3ChangesApi, RaceWaitsForTheFreshHttpsAnswer) {
    HttpsRace r;
    r.begin_stale(records({"1 a.example. alpn=h2 ipv6hint=2001:db8::1"}));
    // a.example.'s own queries fail: its hint stays the only endpoint.
    r.m.handle_resolve_failed(r.t0, Resolve(Family::v6, false, "a.example."), DnsError::server_failure);
    r.m.handle_resolve_failed(r.t0, Resolve(Family::v4, false, "a.example."), DnsError::server_failure);
    r.drain(r.t0);
    ASSERT_EQ(r.connects.size(), 1u);
    r.m.handle_connect_failed(r.t0 + 5ms, r.connects[0].attempt, ECONNREFUSED);
    r.drain(r.t0 + 5ms);
    EXPECT_FALSE(r.m.finished()) << "the fresh HTTPS answer is still to come";
    r.m.handle_https(r.t0 + 50ms, r.https, records({"1 d.example. alpn=h2 ipv6hint=2001:db8::5"}));
    r.drain(r.t0 + 50ms);
    ASSERT_EQ(r.connects.size(), 2u) << "the fresh answer's endpoint starts at once";
    EXPECT_EQ(r.connects[1].remote, ep("2001:db8::5"));
}

TEST(V3ChangesApi, StaleAliasOrNoServiceModeRecordChangesNothing) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t0));
    r.drain(r.t0);
    EXPECT_EQ(r.m.handle_stale_https(r.t0, Resolve(Family::v6, true),
                                     records({"0 alias.example."})),
              InputStatus::accepted);
    EXPECT_EQ(r.m.handle_stale_https(r.t0, Resolve(Family::v6, true), nullptr, 0),
              InputStatus::accepted);
    EXPECT_FALSE(r.m.poll_action().has_value()) << "no alias followed";
    EXPECT_TRUE(r.m.services().empty());
    EXPECT_EQ(r.m.handle_https(r.t0, Resolve(Family::v6, true), records({"1 . alpn=h2"})),
              InputStatus::accepted)
        << "the answer comes as a first one";
    EXPECT_EQ(r.m.services().size(), 1u);
}

}  // namespace
