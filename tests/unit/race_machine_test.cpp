// SPDX-License-Identifier: BSL-1.0
// RaceMachine unit tests in virtual time, grouped by RFC 8305 section.
// Each test reads as a timeline: move the clock, feed an input, expect actions.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "eyeballs/race_machine.hpp"
#include "eyeballs/trace.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;

namespace {

Endpoint ep(const char* text) {
    auto e = Endpoint::parse(text, 443);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(Endpoint{});
}

const Endpoint v6a = ep("[2001:db8::a]:443");
const Endpoint v6b = ep("[2001:db8::b]:443");
const Endpoint v6c = ep("[2001:db8::c]:443");
const Endpoint v4a = ep("192.0.2.1:443");
const Endpoint v4b = ep("192.0.2.2:443");
const Endpoint v4c = ep("192.0.2.3:443");

AttemptId id(std::uint32_t n) { return AttemptId(n); }

// A machine, a virtual clock, and an adapter that opens and binds at once
// (binds to `bad_locals` fail with EADDRINUSE).
struct Race {
    explicit Race(Config c = {}) : m(std::move(c)) {}
    TimePoint t0{std::chrono::seconds(1000)};
    TimePoint t = t0;
    RaceMachine m;
    std::vector<Endpoint> bad_locals;
    std::vector<AttemptId> failing_opens;

    void at(Duration d) { t = t0 + d; }
    // Drains every action; answers OpenSocket and Bind like a real adapter.
    std::vector<Action> drain() {
        std::vector<Action> out;
        while (auto a = m.poll_action()) {
            out.push_back(*a);
            if (auto* o = std::get_if<OpenSocket>(&*a)) {
                bool fail = false;
                for (auto f : failing_opens) fail = fail || f == o->attempt;
                m.handle_opened(t, o->attempt, fail ? EMFILE : 0);
            } else if (auto* b = std::get_if<Bind>(&*a)) {
                bool fail = false;
                for (auto& l : bad_locals) fail = fail || l == b->local;
                m.handle_bound(t, b->attempt, fail ? EADDRINUSE : 0);
            }
        }
        return out;
    }
    // Only the actions a trace shows: connect, close, report (and resolve).
    std::vector<Action> visible() {
        std::vector<Action> out;
        for (auto& a : drain()) {
            if (!std::holds_alternative<OpenSocket>(a) && !std::holds_alternative<Bind>(a)) {
                out.push_back(a);
            }
        }
        return out;
    }
    void timeout_at(Duration d) {
        at(d);
        m.handle_timeout(t);
    }
    Duration next_timeout() const {
        auto n = m.next_timeout();
        EXPECT_TRUE(n.has_value());
        return n ? *n - t0 : Duration::max();
    }
};

Action connect(std::uint32_t n, const Endpoint& r) { return Connect{id(n), r, std::nullopt}; }
Action connect(std::uint32_t n, const Endpoint& r, const Endpoint& l) {
    return Connect{id(n), r, l};
}
Action closed(std::uint32_t n) { return Close{id(n)}; }
Action won(std::uint32_t n, const Endpoint& r) { return Report{Outcome::connected, id(n), r}; }
Action failed() { return Report{Outcome::failed, AttemptId(), std::nullopt}; }
Action cancelled() { return Report{Outcome::cancelled, AttemptId(), std::nullopt}; }
using Actions = std::vector<Action>;

Config delay(Duration d) {
    Config c;
    c.attempt_delay = d;
    return c;
}

}  // namespace

// ---- RFC 8305 §4: sorting and interleaving the address list --------------------

TEST(Rfc8305Sec4Interleave, AlternatesFamiliesStartingWithTheFirstAddress) {
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v6b, v4a, v4b}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
    r.timeout_at(100ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
    r.timeout_at(200ms);
    EXPECT_EQ(r.visible(), Actions{connect(3, v6b)});
    r.timeout_at(300ms);
    EXPECT_EQ(r.visible(), Actions{connect(4, v4b)});
    EXPECT_FALSE(r.m.next_timeout().has_value()) << "no candidate left: the timer stops";
}

TEST(Rfc8305Sec4Interleave, FirstFamilyIsTheFirstAddressFamily) {
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start(r.t, {v4a, v4b, v6a}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v4a)});
    r.timeout_at(100ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v6a)});
    r.timeout_at(200ms);
    EXPECT_EQ(r.visible(), Actions{connect(3, v4b)});
}

TEST(Rfc8305Sec4Interleave, FamilyCountTwoTakesTwoFromTheFirstFamily) {
    Config c = delay(50ms);
    c.family_count = 2;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v6b, v6c, v4a, v4b}));
    std::vector<Endpoint> order;
    for (int i = 0; i < 5; ++i) {
        for (auto& a : r.visible()) order.push_back(std::get<Connect>(a).remote);
        r.timeout_at(50ms * (i + 1));
    }
    EXPECT_EQ(order, (std::vector<Endpoint>{v6a, v6b, v4a, v6c, v4b}));
}

TEST(Rfc8305Sec4Interleave, FamilyCountLargerThanTheFamilyFallsBackToTheOther) {
    Config c = delay(50ms);
    c.family_count = 3;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v4b}));
    std::vector<Endpoint> order;
    for (int i = 0; i < 3; ++i) {
        for (auto& a : r.visible()) order.push_back(std::get<Connect>(a).remote);
        r.timeout_at(50ms * (i + 1));
    }
    EXPECT_EQ(order, (std::vector<Endpoint>{v6a, v4a, v4b}));
}

TEST(Rfc8305Sec4Interleave, OffKeepsTheGivenOrder) {
    Config c = delay(50ms);
    c.interleave = false;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v6b, v4a}));
    std::vector<Endpoint> order;
    for (int i = 0; i < 3; ++i) {
        for (auto& a : r.visible()) order.push_back(std::get<Connect>(a).remote);
        r.timeout_at(50ms * (i + 1));
    }
    EXPECT_EQ(order, (std::vector<Endpoint>{v6a, v6b, v4a}));
}

TEST(Rfc8305Sec4Interleave, Ipv4MappedCountsAsIpv6) {
    const Endpoint mapped = ep("[::ffff:192.0.2.7]:443");
    Race r(delay(50ms));
    ASSERT_TRUE(r.m.start(r.t, {mapped, v6a, v4a}));
    std::vector<Endpoint> order;
    for (int i = 0; i < 3; ++i) {
        for (auto& a : r.visible()) order.push_back(std::get<Connect>(a).remote);
        r.timeout_at(50ms * (i + 1));
    }
    EXPECT_EQ(order, (std::vector<Endpoint>{mapped, v4a, v6a}));
}

TEST(Rfc8305Sec4Interleave, DuplicatesAreDroppedByDefaultFirstKept) {
    // docs/behaviour.md §1 rule 1: v4a's second occurrence is dropped; the
    // first keeps its place (v4a, v6a, then v4b: nothing waits for a repeat).
    Race r(delay(50ms));
    ASSERT_TRUE(r.m.start(r.t, {v4a, v6a, v4a, v4b, v6a}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v4a)});
    r.timeout_at(50ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v6a)});
    r.timeout_at(100ms);
    EXPECT_EQ(r.visible(), Actions{connect(3, v4b)});
    EXPECT_FALSE(r.m.next_timeout().has_value()) << "the repeats left nothing to start";
    EXPECT_EQ(r.m.report().metrics.duplicates_dropped, 2u);
    EXPECT_EQ(r.m.report().dropped, 0u) << "repeats are not counted against the cap";
}

TEST(Rfc8305Sec4Interleave, DuplicatesKeptWhenAsked) {
    Config c = delay(50ms);
    c.duplicates = Duplicates::keep;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v4a, v4a}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v4a)});
    r.timeout_at(50ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
    EXPECT_EQ(r.m.report().metrics.duplicates_dropped, 0u);
}

TEST(Rfc8305Sec4Interleave, ADuplicateIsSameAddressPortAndZone) {
    // Another port, or another zone of one link-local address, is another remote.
    const Endpoint ll1 = Endpoint::parse("[fe80::1%1]:443", 443).value_or(Endpoint{});
    const Endpoint ll2 = Endpoint::parse("[fe80::1%2]:443", 443).value_or(Endpoint{});
    ASSERT_NE(ll1, ll2);
    Config c = delay(50ms);
    c.interleave = false;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v4a, v4a.with_port(80), ll1, ll2, ll1, v4a}));
    std::vector<Endpoint> order;
    for (int i = 0; i < 6; ++i) {
        for (auto& a : r.visible()) order.push_back(std::get<Connect>(a).remote);
        r.timeout_at(50ms * (i + 1));
    }
    EXPECT_EQ(order, (std::vector<Endpoint>{v4a, v4a.with_port(80), ll1, ll2}));
    EXPECT_EQ(r.m.report().metrics.duplicates_dropped, 2u);
}

TEST(Rfc8305Sec4Interleave, DuplicatesTakeNoRoomUnderTheCap) {
    Config c = delay(50ms);
    c.max_endpoints = 2;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v4a, v4a, v4a, v6a, v6b}));
    const RaceReport rep = r.m.report();
    EXPECT_EQ(rep.metrics.duplicates_dropped, 2u);
    EXPECT_EQ(rep.dropped, 1u) << "v6b is the one over the cap";
}

TEST(Rfc8305Sec3Dns, DuplicatesInAndAcrossAnswersAreDropped) {
    // glibc gives 127.0.0.1 twice for a name with ::1 and 127.0.0.1 in
    // /etc/hosts; a later answer may repeat what an earlier one gave (here
    // NAT64 synthesis turns the A answer's address into the AAAA answer's).
    Config c = delay(50ms);
    c.ipv4_unavailable = true;
    c.pref64 = Pref64::parse("2001:db8:64::/96");
    ASSERT_TRUE(c.pref64.has_value());
    const Endpoint synth = ep("[2001:db8:64::c000:201]:443");  // 192.0.2.1
    Race r(c);
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v6, {synth, synth, v6a});
    EXPECT_EQ(r.visible(), Actions{connect(1, synth)});
    r.at(10ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a, v4a});
    EXPECT_EQ(r.visible(), Actions{});
    r.timeout_at(55ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v6a)});
    EXPECT_FALSE(r.m.next_timeout().has_value()) << "the A answer added nothing";
    EXPECT_EQ(r.m.report().metrics.duplicates_dropped, 3u);
}

TEST(Rfc8305Sec3Dns, AnAnswerOfRepeatsOnlyIsStillAnAnswerWithAddresses) {
    Config c = delay(50ms);
    c.ipv4_unavailable = true;
    c.pref64 = Pref64::parse("2001:db8:64::/96");
    const Endpoint synth = ep("[2001:db8:64::c000:201]:443");  // 192.0.2.1
    Race r(c);
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v6, {synth});
    EXPECT_EQ(r.visible(), Actions{connect(1, synth)});
    r.at(7ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{});
    r.at(9ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), failed()}));
    const RaceReport rep = r.m.report();
    EXPECT_EQ(rep.errors.size(), 1u) << "no resolve error: the A answer had an address";
    EXPECT_EQ(rep.metrics.duplicates_dropped, 1u);
}

// ---- RFC 8305 §5: connection attempts -------------------------------------------

TEST(Rfc8305Sec5Attempts, NextAttemptAfterTheDelayAndFirstSuccessWins) {
    Race r(delay(150ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
    EXPECT_EQ(r.next_timeout(), 150ms);
    r.timeout_at(149ms);
    EXPECT_EQ(r.visible(), Actions{}) << "handle_timeout early does nothing";
    r.timeout_at(150ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
    r.at(192ms);
    r.m.handle_connected(r.t, id(2));
    EXPECT_EQ(r.visible(), (Actions{closed(1), won(2, v4a)}));
    EXPECT_TRUE(r.m.finished());
    EXPECT_FALSE(r.m.next_timeout().has_value());
    const RaceReport rep = r.m.report();
    EXPECT_EQ(rep.outcome, Outcome::connected);
    EXPECT_EQ(rep.winner, id(2));
    EXPECT_EQ(rep.remote, v4a);
    ASSERT_EQ(rep.attempts.size(), 2u);
    EXPECT_EQ(rep.attempts[0].state, AttemptRecord::State::closed);
    EXPECT_EQ(rep.attempts[1].state, AttemptRecord::State::connected);
    EXPECT_EQ(rep.attempts[1].started - r.t0, 150ms);
}

TEST(Rfc8305Sec5Attempts, DefaultDelayIs250ms) {
    Race r;
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    EXPECT_EQ(r.next_timeout(), 250ms);
}

TEST(Rfc8305Sec5Attempts, FailFastRespectsThe10msFloor) {
    Race r;
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.at(4ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), Actions{closed(1)});
    EXPECT_EQ(r.next_timeout(), 10ms);
    r.timeout_at(10ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
}

TEST(Rfc8305Sec5Attempts, FailFastAfterTheFloorStartsAtOnce) {
    Race r;
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.at(30ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v4a)}));
}

TEST(Rfc8305Sec5Attempts, MinStartGapZeroFailsOverAtOnce) {
    Config c;
    c.min_start_gap = 0ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.at(1ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v4a)}));
}

TEST(Rfc8305Sec5Attempts, FailureOfAnOlderAttemptChangesNoTimer) {
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.timeout_at(100ms);
    r.drain();
    r.at(120ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), Actions{closed(1)});
    EXPECT_EQ(r.next_timeout(), 200ms);
}

TEST(Rfc8305Sec5Attempts, RaceNeverIdles) {
    // The newest attempt is still pending when an older one fails; when the
    // newest fails too, nothing is in flight and the next starts at once.
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.timeout_at(100ms);
    r.drain();
    r.at(130ms);
    r.m.handle_connect_failed(r.t, id(2), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(2), connect(3, v6b)}));
}

TEST(Rfc8305Sec5Attempts, TimerRestartsAtEveryStartWhateverCausedIt) {
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.at(40ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v4a)}));
    EXPECT_EQ(r.next_timeout(), 140ms);
}

TEST(Rfc8305Sec5Attempts, SequentialModeOneAtATime) {
    Config c;
    c.attempt_delay.reset();
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v6b, v4a}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
    EXPECT_FALSE(r.m.next_timeout().has_value());
    r.at(75ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNRESET);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v6b)})) << "interleave off by default";
    r.at(78ms);
    r.m.handle_connect_failed(r.t, id(2), ENETUNREACH);
    EXPECT_EQ(r.visible(), Actions{closed(2)});
    EXPECT_EQ(r.next_timeout(), 85ms);
    r.timeout_at(85ms);
    EXPECT_EQ(r.visible(), Actions{connect(3, v4a)});
}

TEST(Rfc8305Sec5Attempts, SequentialWithInterleaveOn) {
    Config c;
    c.attempt_delay.reset();
    c.interleave = true;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v6b, v4a}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
    r.at(50ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNRESET);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v4a)}));
}

TEST(Rfc8305Sec5Attempts, MinStartGapLargerThanTheDelayDefersTheTimer) {
    Config c = delay(10ms);
    c.min_start_gap = 25ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    EXPECT_EQ(r.next_timeout(), 25ms);
    r.timeout_at(10ms);
    EXPECT_EQ(r.visible(), Actions{});
    r.timeout_at(25ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
}

TEST(Rfc8305Sec5Attempts, TwoSuccessesAtOneInstantFirstDeliveredWins) {
    Race r(delay(50ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.timeout_at(50ms);
    r.drain();
    r.at(60ms);
    r.m.handle_connected(r.t, id(2));
    r.m.handle_connected(r.t, id(1));
    EXPECT_EQ(r.visible(), (Actions{closed(1), won(2, v4a)}));
    EXPECT_EQ(r.m.poll_action(), std::nullopt);
}

TEST(Rfc8305Sec5Attempts, AllFailedReportsEveryErrorInStartOrder) {
    Race r(delay(120ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.timeout_at(120ms);
    r.drain();
    r.at(155ms);
    r.m.handle_connect_failed(r.t, id(2), ECONNREFUSED);
    r.drain();
    r.at(200ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), failed()}));
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].attempt, 1u);
    EXPECT_EQ(rep.errors[0].remote, v6a);
    EXPECT_EQ(rep.errors[1].attempt, 2u);
    EXPECT_EQ(rep.code, ECONNREFUSED);
    EXPECT_EQ(rep.message.rfind("multiple errors: ", 0), 0u) << rep.message;
}

TEST(Rfc8305Sec5Attempts, DifferentErrnosGiveNoSummaryErrno) {
    Race r(delay(50ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.at(5ms);
    r.m.handle_connect_failed(r.t, id(1), ENETUNREACH);
    r.drain();
    r.timeout_at(10ms);
    r.drain();
    r.at(20ms);
    r.m.handle_connect_failed(r.t, id(2), ECONNREFUSED);
    r.drain();
    const RaceReport rep = r.m.report();
    EXPECT_EQ(rep.outcome, Outcome::failed);
    EXPECT_EQ(rep.code, 0);
}

TEST(Rfc8305Sec5Attempts, OneErrorIsTheSummary) {
    Race r;
    ASSERT_TRUE(r.m.start(r.t, {v4a}));
    r.drain();
    r.at(3ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), failed()}));
    const RaceReport rep = r.m.report();
    EXPECT_EQ(rep.code, ECONNREFUSED);
    EXPECT_EQ(rep.message, rep.errors.at(0).message());
    EXPECT_EQ(rep.message.find("multiple"), std::string::npos);
}

TEST(Rfc8305Sec5Attempts, OpenFailureHasANumberButNoCloseAndTheFloorHolds) {
    Race r;
    r.failing_opens = {id(1)};
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    EXPECT_EQ(r.visible(), Actions{}) << "no connect for a socket that could not be created";
    EXPECT_EQ(r.next_timeout(), 10ms);
    r.timeout_at(10ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
    r.at(20ms);
    r.m.handle_connect_failed(r.t, id(2), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(2), failed()}));
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].stage, Stage::open);
    EXPECT_EQ(rep.errors[0].code, EMFILE);
}

// ---- Local bind (aiohappyeyeballs local_addr_infos) -----------------------------

TEST(LocalBind, BindsToTheFirstCandidateOfItsFamilyThatWorks) {
    const Endpoint l6 = ep("[2001:db8::99]:0");
    const Endpoint l4bad = ep("192.0.2.98:0");
    const Endpoint l4 = ep("192.0.2.99:0");
    Config c = delay(100ms);
    c.local = {l6, l4bad, l4};
    Race r(c);
    r.bad_locals = {l4bad};
    ASSERT_TRUE(r.m.start(r.t, {v4a, v6a}));
    EXPECT_EQ(r.visible(), Actions{connect(1, v4a, l4)});
    r.at(30ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v6a, l6)}));
    r.at(46ms);
    r.m.handle_connect_failed(r.t, id(2), ECONNREFUSED);
    r.drain();
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 3u);
    EXPECT_EQ(rep.errors[0].stage, Stage::bind);
    EXPECT_EQ(rep.errors[0].local, l4bad);
    EXPECT_EQ(rep.errors[0].code, EADDRINUSE);
    EXPECT_EQ(rep.errors[1].stage, Stage::connect);
    EXPECT_EQ(rep.code, 0) << "bind errors count in the summary even when a later bind worked";
}

TEST(LocalBind, AllBindsFailClosesTheSocketAndFailsWithJustThoseErrors) {
    const Endpoint l4a = ep("192.0.2.98:0");
    const Endpoint l4b = ep("192.0.2.99:0");
    Config c;
    c.local = {l4a, l4b};
    Race r(c);
    r.bad_locals = {l4a, l4b};
    ASSERT_TRUE(r.m.start(r.t, {v4a}));
    EXPECT_EQ(r.visible(), (Actions{closed(1), failed()}));
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].stage, Stage::bind);
    EXPECT_EQ(rep.errors[1].stage, Stage::bind);
    EXPECT_EQ(rep.code, EADDRINUSE);
}

TEST(LocalBind, NoCandidateOfTheFamilyFailsBeforeOpening) {
    Config c;
    c.local = {ep("192.0.2.99:0")};
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    const Actions first = r.drain();
    EXPECT_EQ(first, Actions{}) << "attempt 1 (IPv6) fails before any socket";
    EXPECT_EQ(r.m.attempts_started(), 1u);
    r.timeout_at(10ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a, ep("192.0.2.99:0"))});
    r.at(15ms);
    r.m.handle_connect_failed(r.t, id(2), ECONNREFUSED);
    r.drain();
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].stage, Stage::bind);
    EXPECT_EQ(rep.errors[0].code, 0);
    EXPECT_FALSE(rep.errors[0].local.has_value());
    EXPECT_EQ(rep.errors[0].message(), "no local address of family IPv6");
}

// ---- Timeouts --------------------------------------------------------------------

TEST(Timeouts, AttemptTimeoutFailsWithEtimedoutAndCountsForFailFast) {
    Config c = delay(300ms);
    c.attempt_timeout = 100ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    EXPECT_EQ(r.next_timeout(), 100ms);
    r.timeout_at(100ms);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v4a)}));
    r.timeout_at(200ms);
    EXPECT_EQ(r.visible(), (Actions{closed(2), failed()}));
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].stage, Stage::timeout);
    EXPECT_EQ(rep.errors[0].code, ETIMEDOUT);
    EXPECT_EQ(rep.code, ETIMEDOUT);
}

TEST(Timeouts, AttemptTimeoutInSequentialMode) {
    Config c;
    c.attempt_delay.reset();
    c.attempt_timeout = 50ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.timeout_at(50ms);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v4a)}));
}

TEST(Timeouts, OverallTimeoutClosesEverythingAndKeepsEarlierErrors) {
    Config c = delay(300ms);
    c.overall_timeout = 700ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v4a, v6a, v4b}));
    r.drain();
    r.at(120ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNRESET);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v6a)}));
    r.timeout_at(420ms);
    EXPECT_EQ(r.visible(), Actions{connect(3, v4b)});
    EXPECT_EQ(r.next_timeout(), 700ms);
    r.timeout_at(700ms);
    EXPECT_EQ(r.visible(), (Actions{closed(2), closed(3), failed()}));
    const RaceReport rep = r.m.report();
    EXPECT_TRUE(rep.overall_timeout);
    EXPECT_EQ(rep.code, ETIMEDOUT);
    EXPECT_EQ(rep.message, "overall timeout after 700 ms");
    ASSERT_EQ(rep.errors.size(), 1u);
    EXPECT_EQ(rep.errors[0].code, ECONNRESET);
}

TEST(Timeouts, OverallTimeoutComesBeforeAttemptTimeoutsAtOneInstant) {
    Config c = delay(100ms);
    c.attempt_timeout = 100ms;
    c.overall_timeout = 100ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.timeout_at(100ms);
    EXPECT_EQ(r.visible(), (Actions{closed(1), failed()}));
    EXPECT_TRUE(r.m.report().errors.empty()) << "the attempt timeout never fired";
}

TEST(Timeouts, AttemptTimeoutsFireBeforeTheNextAttemptAtOneInstant) {
    // Attempt 1 times out at 100 exactly when the next-attempt timer fires:
    // the timeout first, then one start (not two).
    Config c = delay(100ms);
    c.attempt_timeout = 100ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.timeout_at(100ms);
    EXPECT_EQ(r.visible(), (Actions{closed(1), connect(2, v4a)}));
    EXPECT_EQ(r.next_timeout(), 200ms);
}

TEST(Timeouts, LateHandleTimeoutDoesWhatIsDue) {
    Config c = delay(100ms);
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.timeout_at(250ms);  // late: one start, counted from now
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
    EXPECT_EQ(r.next_timeout(), 350ms);
    r.m.handle_timeout(r.t);  // twice: nothing more
    EXPECT_EQ(r.visible(), Actions{});
}

// ---- Cancel ----------------------------------------------------------------------

TEST(Cancel, ClosesEverythingInFlight) {
    Race r(delay(90ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.timeout_at(90ms);
    r.drain();
    r.timeout_at(180ms);
    r.drain();
    r.at(205ms);
    r.m.cancel(r.t);
    EXPECT_EQ(r.visible(), (Actions{closed(1), closed(2), closed(3), cancelled()}));
    EXPECT_EQ(r.m.outcome(), Outcome::cancelled);
}

TEST(Cancel, BeforeStartFinishesWithNoAction) {
    Race r;
    r.m.cancel(r.t);
    EXPECT_EQ(r.visible(), Actions{cancelled()});
    EXPECT_FALSE(r.m.start(r.t, {v4a}));
}

TEST(Cancel, DuringDnsClosesNothing) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.cancel(r.t);
    EXPECT_EQ(r.visible(), Actions{cancelled()});
}

// ---- RFC 8305 §3: hostname resolution -------------------------------------------

TEST(Rfc8305Sec3Dns, AsksAaaaThenA) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    EXPECT_EQ(r.drain(), (Actions{Resolve{Family::v6}, Resolve{Family::v4}}));
    EXPECT_FALSE(r.m.next_timeout().has_value());
}

TEST(Rfc8305Sec3Dns, AaaaFirstConnectsAtOnceAndAJoinsLater) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(8ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
    r.at(35ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{});
    EXPECT_EQ(r.next_timeout(), 258ms);
    r.timeout_at(258ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
}

TEST(Rfc8305Sec3Dns, AFirstWaitsTheResolutionDelayForAaaa) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(12ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{});
    EXPECT_EQ(r.next_timeout(), 62ms);
    r.at(44ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
    EXPECT_EQ(r.next_timeout(), 294ms);
}

TEST(Rfc8305Sec3Dns, ResolutionDelayExpiresThenIpv4Starts) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(12ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a, v4b});
    r.timeout_at(62ms);
    EXPECT_EQ(r.visible(), Actions{connect(1, v4a)});
    r.at(70ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    EXPECT_EQ(r.visible(), Actions{}) << "waits for the attempt timer";
    r.timeout_at(312ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v6a)}) << "interleaving: IPv6 next";
}

TEST(Rfc8305Sec3Dns, NegativeAaaaEndsTheWaitAtOnce) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(12ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    r.at(20ms);
    r.m.handle_resolve_failed(r.t, Family::v6);
    EXPECT_EQ(r.visible(), Actions{connect(1, v4a)});
}

TEST(Rfc8305Sec3Dns, AAfterNegativeAaaaStartsAtOnce) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v6, {});  // empty = no data
    r.at(30ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{connect(1, v4a)});
}

TEST(Rfc8305Sec3Dns, BothNegativeFailsWithTheResolveErrors) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolve_failed(r.t, Family::v4, 0, "server failure");
    r.at(9ms);
    r.m.handle_resolve_failed(r.t, Family::v6);
    EXPECT_EQ(r.visible(), Actions{failed()});
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].family, Family::v4) << "in arrival order";
    EXPECT_EQ(rep.errors[0].detail, "server failure");
    EXPECT_EQ(rep.errors[1].family, Family::v6);
    EXPECT_EQ(rep.errors[0].stage, Stage::resolve);
    EXPECT_EQ(rep.message.rfind("multiple errors: ", 0), 0u);
}

// Issue 14 item 6: the DNS class an adapter gives reaches the report, its
// message and the JSON trace ("dns"); NODATA keeps the "no data" form.
TEST(Rfc8305Sec3Dns, DnsClassReachesTheReportAndTheTrace) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolve_failed(r.t, Family::v4, DnsError::nxdomain);
    r.at(9ms);
    r.m.handle_resolve_failed(r.t, Family::v6, DnsError::nodata, EIO, "ignored");
    EXPECT_EQ(r.visible(), Actions{failed()});
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].dns, DnsError::nxdomain);
    EXPECT_EQ(rep.errors[0].message(), "resolve A: no such name (NXDOMAIN)");
    EXPECT_EQ(rep.errors[1].dns, DnsError::nodata);
    EXPECT_EQ(rep.errors[1].code, 0);
    EXPECT_EQ(rep.errors[1].message(), "resolve AAAA: no data");
    const std::string json = trace_json("9", Report{Outcome::failed, AttemptId{}}, &rep);
    EXPECT_NE(json.find("\"family\":\"A\",\"dns\":\"NXDOMAIN\",\"errno\":null"), std::string::npos)
        << json;
    EXPECT_NE(json.find("\"dns\":\"NODATA\""), std::string::npos) << json;
}

TEST(Rfc8305Sec3Dns, ResolveErrorsComeFirstButTheSummaryIsFromAttempts) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    r.at(6ms);
    r.m.handle_resolve_failed(r.t, Family::v6, ENOENT);
    r.drain();
    r.at(16ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), (Actions{closed(1), failed()}));
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 2u);
    EXPECT_EQ(rep.errors[0].stage, Stage::resolve);
    EXPECT_EQ(rep.code, ECONNREFUSED);
}

TEST(Rfc8305Sec3Dns, ResolutionDelayZeroStillLetsSameInstantAaaaWin) {
    Config c;
    c.resolution_delay = 0ms;
    Race r(c);
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(10ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{});
    EXPECT_EQ(r.next_timeout(), 10ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});  // same instant, before the timer
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
}

TEST(Rfc8305Sec3Dns, WaitsForAnOutstandingFamilyBeforeFailing) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    r.drain();
    r.at(15ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), Actions{closed(1)});
    EXPECT_FALSE(r.m.finished()) << "A is still outstanding";
    EXPECT_FALSE(r.m.next_timeout().has_value());
    r.at(40ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)}) << "nothing in flight: at once";
}

TEST(Rfc8305Sec3Dns, NewAddressWaitsForTheTimerWhileAnAttemptIsInFlight) {
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    r.drain();
    r.at(50ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{});
    EXPECT_EQ(r.next_timeout(), 105ms);
}

TEST(Rfc8305Sec3Dns, NewAddressAfterTheTimerInstantStartsAtOnce) {
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    r.drain();
    r.at(150ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
}

TEST(Rfc8305Sec3Dns, InterleaveOffPutsTheAaaaThatEndsTheDelayFirst) {
    Config c = delay(50ms);
    c.interleave = false;
    Race r(c);
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(5ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a, v4b});
    r.at(20ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a, v6b});
    EXPECT_EQ(r.visible(), Actions{connect(1, v6a)});
    r.timeout_at(70ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v6b)});
    r.timeout_at(120ms);
    EXPECT_EQ(r.visible(), Actions{connect(3, v4a)});
}

TEST(Rfc8305Sec3Dns, WrongFamilyAddressesInAnAnswerAreIgnored) {
    Race r;
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.m.handle_resolved(r.t, Family::v6, {v4a});
    EXPECT_EQ(r.visible(), Actions{});
    EXPECT_EQ(r.m.candidates_left(), 0u);
    ASSERT_EQ(r.m.report().errors.size(), 1u) << "counts as no data";
}

// ---- Misuse and robustness (docs/behaviour.md §1 rule 10) ---------------------------------

TEST(Robustness, EmptyListIsAClearErrorAndChangesNothing) {
    Race r;
    Status s = r.m.start(r.t, std::vector<Endpoint>{});
    EXPECT_FALSE(s);
    EXPECT_NE(s.message().find("empty"), std::string::npos);
    EXPECT_FALSE(r.m.started());
    EXPECT_EQ(r.m.poll_action(), std::nullopt);
    EXPECT_TRUE(r.m.start(r.t, {v4a}));
}

TEST(Robustness, BadConfigurationIsRejectedWithBothBounds) {
    Race r(delay(5ms));
    Status s = r.m.start(r.t, {v4a});
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("10 ms"), std::string::npos) << s.message();
    EXPECT_NE(s.message().find("2 s"), std::string::npos) << s.message();
    EXPECT_EQ(r.m.poll_action(), std::nullopt);
}

TEST(Robustness, StartingTwiceIsAnError) {
    Race r;
    ASSERT_TRUE(r.m.start(r.t, {v4a}));
    EXPECT_FALSE(r.m.start(r.t, {v4b}));
    EXPECT_FALSE(r.m.start_resolving(r.t));
}

TEST(Robustness, UnknownLateAndDuplicateEventsChangeNothing) {
    Race r(delay(50ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.m.handle_connect_failed(r.t, id(7), ECONNREFUSED);  // unknown
    r.m.handle_connected(r.t, AttemptId());               // null id
    r.m.handle_opened(r.t, id(1), 0);                     // duplicate answer
    r.m.handle_resolved(r.t, Family::v4, {v4b});          // not DNS mode
    EXPECT_EQ(r.visible(), Actions{});
    EXPECT_EQ(r.m.candidates_left(), 1u);
    r.at(10ms);
    r.m.handle_connected(r.t, id(1));
    EXPECT_EQ(r.visible(), Actions{won(1, v6a)});
    r.m.handle_connected(r.t, id(1));
    r.m.handle_connect_failed(r.t, id(1), ECONNRESET);
    r.m.handle_timeout(r.t + 1h);
    r.m.cancel(r.t);
    EXPECT_EQ(r.m.poll_action(), std::nullopt);
    EXPECT_EQ(r.m.outcome(), Outcome::connected);
}

TEST(Robustness, TimeGoingBackwardsIsClamped) {
    Race r(delay(50ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.timeout_at(50ms);
    r.drain();
    r.at(20ms);  // backwards
    r.m.handle_connect_failed(r.t, id(2), ECONNREFUSED);
    r.drain();
    // Counted at 50 ms (the latest time seen): floor at 60 ms.
    EXPECT_EQ(r.next_timeout(), 60ms);
}

TEST(Robustness, ResultForAClosedLoserIsIgnored) {
    Race r(delay(50ms));
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a}));
    r.drain();
    r.timeout_at(50ms);
    r.drain();
    r.at(60ms);
    r.m.handle_connected(r.t, id(1));
    EXPECT_EQ(r.visible(), (Actions{closed(2), won(1, v6a)}));
    r.m.handle_connected(r.t, id(2));
    EXPECT_EQ(r.m.poll_action(), std::nullopt);
    EXPECT_EQ(r.m.report().winner, id(1));
}

TEST(Robustness, UndrainedActionsKeepTheirOrder) {
    // A caller that never drains still gets every action, in order.
    Config c = delay(10ms);
    c.min_start_gap = 0ms;
    RaceMachine m(c);
    TimePoint t{};
    std::vector<Endpoint> many;
    for (int i = 0; i < 40; ++i) {
        // Distinct ports: repeated remotes would be dropped (docs/behaviour.md §1 rule 1).
        many.push_back((i % 2 ? v4a : v6a).with_port(static_cast<std::uint16_t>(1000 + i)));
    }
    ASSERT_TRUE(m.start(t, many));
    for (int i = 1; i <= 39; ++i) m.handle_timeout(t + 10ms * i);
    int opens = 0;
    std::uint32_t last = 0;
    while (auto a = m.poll_action()) {
        auto* o = std::get_if<OpenSocket>(&*a);
        ASSERT_NE(o, nullptr);
        EXPECT_EQ(o->attempt.number(), last + 1);
        last = o->attempt.number();
        ++opens;
    }
    EXPECT_EQ(opens, 40);
}

// ---- Ordering at one instant (docs/behaviour.md §4: events before the timers of the instant) ----

TEST(OneInstant, ADeferredStartIsATimerAndWaitsForTheEventsOfItsInstant) {
    // attempt-delay 10 ms < min-start-gap 20 ms: #3 is deferred to 40. At 40 an
    // older attempt is refused (an event): that must not start #3 before the
    // timer fires -- and when #2 then connects at the same instant, #3 never starts.
    Config c = delay(10ms);
    c.min_start_gap = 20ms;
    Race r(c);
    ASSERT_TRUE(r.m.start(r.t, {v6a, v4a, v6b}));
    r.drain();
    r.timeout_at(20ms);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
    EXPECT_EQ(r.next_timeout(), 40ms);
    r.at(40ms);
    r.m.handle_connect_failed(r.t, id(1), ECONNREFUSED);
    EXPECT_EQ(r.visible(), Actions{closed(1)});
    r.m.handle_connected(r.t, id(2));
    EXPECT_EQ(r.visible(), Actions{won(2, v4a)});
}

TEST(OneInstant, AnAddressArrivingAtTheTimerInstantWaitsForTheTimer) {
    Race r(delay(100ms));
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    r.drain();
    r.at(100ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{}) << "after the instant's events";
    EXPECT_EQ(r.next_timeout(), 100ms);
    r.m.handle_timeout(r.t);
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
}

TEST(OneInstant, AnAddressAfterThePassedTimerStartsAtTheFloorAtOnce) {
    // delay 20 < gap 50: the timer instant (80) has passed when A arrives at 110
    // = the floor; nothing was pending, so it starts at once, at that event.
    Config c = delay(20ms);
    c.min_start_gap = 50ms;
    Race r(c);
    ASSERT_TRUE(r.m.start_resolving(r.t));
    r.drain();
    r.at(60ms);
    r.m.handle_resolved(r.t, Family::v6, {v6a});
    r.drain();
    r.at(110ms);
    r.m.handle_resolved(r.t, Family::v4, {v4a});
    EXPECT_EQ(r.visible(), Actions{connect(2, v4a)});
}
