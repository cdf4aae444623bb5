// SPDX-License-Identifier: BSL-1.0
// Issue 14: time at the edges. Deadlines saturate (item 2), an earlier `now`
// is processed at the latest time seen (item 10), the endpoint cap (item 8)
// and port 0 (item 9).
#include <gtest/gtest.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <string>
#include <vector>

#include "eyeballs/history.hpp"
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
const Endpoint v4a = ep("192.0.2.1:443");
const Endpoint v4b = ep("192.0.2.2:443");

constexpr TimePoint tmax = TimePoint::max();
constexpr TimePoint tmin = TimePoint::min();

// Drains every action, answering OpenSocket at once; returns the texts of the
// actions a trace shows.
std::vector<std::string> drain(RaceMachine& m, TimePoint now) {
    std::vector<std::string> out;
    while (auto a = m.poll_action()) {
        if (auto* o = std::get_if<OpenSocket>(&*a)) {
            m.handle_opened(now, o->attempt, 0);
            continue;
        }
        out.push_back(to_string(*a));
    }
    return out;
}

using Texts = std::vector<std::string>;

}  // namespace

// ---- the helpers -----------------------------------------------------------------

TEST(SaturatingTime, AddClampsAtBothEnds) {
    const TimePoint t0{1s};
    EXPECT_EQ(detail::saturating_add(t0, 5ms), t0 + 5ms);
    EXPECT_EQ(detail::saturating_add(t0, Duration::max()), tmax);
    EXPECT_EQ(detail::saturating_add(tmax - 1ns, 2ns), tmax);
    EXPECT_EQ(detail::saturating_add(tmax, Duration::max()), tmax);
    EXPECT_EQ(detail::saturating_add(tmin, Duration::max()), TimePoint(Duration(-1)));
    EXPECT_EQ(detail::saturating_add(tmin + 1ns, -2ns), tmin);
    EXPECT_EQ(detail::saturating_add(tmin, Duration::min()), tmin);
    EXPECT_EQ(detail::saturating_add(tmax, Duration::min()), TimePoint(Duration(-1)));
}

TEST(SaturatingTime, SubAndMulClamp) {
    EXPECT_EQ(detail::saturating_sub(tmax, tmin), Duration::max());
    EXPECT_EQ(detail::saturating_sub(tmin, tmax), Duration::min());
    EXPECT_EQ(detail::saturating_sub(tmax, tmax - 3ns), 3ns);
    EXPECT_EQ(detail::saturating_sub(TimePoint(2s), TimePoint(1s)), 1s);
    EXPECT_EQ(detail::saturating_mul(Duration::max(), 3), Duration::max());
    EXPECT_EQ(detail::saturating_mul(Duration::max() / 3, 3), Duration::max() / 3 * 3);
    EXPECT_EQ(detail::saturating_mul(Duration::min(), 3), Duration::min());
    EXPECT_EQ(detail::saturating_mul(7ns, 3), 21ns);
    EXPECT_EQ(detail::saturating_mul(7ns, 0), 0ns);
}

// ---- item 2: huge durations and a start near the end of time ----------------

TEST(TimeLimits, MaxTimeoutsNeverFailTheRaceEarly) {
    Config c;
    c.attempt_timeout = Duration::max();
    c.overall_timeout = Duration::max();
    RaceMachine m(c);
    const TimePoint t0{1000s};
    ASSERT_TRUE(m.start(t0, {v6a, v4a}));
    EXPECT_EQ(drain(m, t0), Texts{"connect #1 [2001:db8::a]:443"});
    ASSERT_TRUE(m.next_timeout());
    EXPECT_EQ(*m.next_timeout(), t0 + 250ms);
    m.handle_timeout(t0 + 1ns);  // a wrapped overall deadline would end the race here
    EXPECT_FALSE(m.finished());
    m.handle_timeout(t0 + 250ms);
    EXPECT_EQ(drain(m, t0 + 250ms), Texts{"connect #2 192.0.2.1:443"});
    // Only the two timeouts are left, both past the end of time.
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(tmax));
    m.handle_timeout(t0 + std::chrono::hours(24 * 365 * 100));
    EXPECT_FALSE(m.finished());
    EXPECT_TRUE(drain(m, t0).empty());
    m.handle_connected(t0 + 300ms, AttemptId(2));
    EXPECT_EQ(drain(m, t0 + 300ms),
              (Texts{"close #1", "report connected #2 192.0.2.1:443"}));
    EXPECT_FALSE(m.report().overall_timeout);
}

TEST(TimeLimits, StartNearTheEndOfTimeWorks) {
    Config c;
    c.attempt_timeout = 50ms;
    c.overall_timeout = Duration::max();
    RaceMachine m(c);
    const TimePoint s = tmax - 100ms;
    ASSERT_TRUE(m.start(s, {v6a, v4a, v6b}));
    EXPECT_EQ(drain(m, s), Texts{"connect #1 [2001:db8::a]:443"});
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(s + 50ms));  // the attempt timeout
    m.handle_timeout(s + 50ms);
    EXPECT_EQ(drain(m, s + 50ms), (Texts{"close #1", "connect #2 192.0.2.1:443"}));
    // #2's timeout lands exactly on the end; the attempt delay (250 ms) would
    // pass it, so it saturates there too.
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(tmax));
    m.handle_timeout(tmax - 1ns);
    EXPECT_TRUE(drain(m, tmax - 1ns).empty());
    m.handle_connected(tmax - 1ns, AttemptId(2));
    EXPECT_EQ(drain(m, tmax - 1ns), Texts{"report connected #2 192.0.2.1:443"});
    const RaceReport r = m.report();
    EXPECT_EQ(r.started, s);
    EXPECT_EQ(r.finished, tmax - 1ns);
}

TEST(TimeLimits, TheEndOfTimeIsReachedOnlyAtTimePointMax) {
    // A saturated deadline is TimePoint::max() itself: a clock that gets
    // there finds it due (rule 8's order: the overall timeout first).
    Config c;
    c.overall_timeout = Duration::max();
    RaceMachine m(c);
    const TimePoint s = tmax - 100ms;
    ASSERT_TRUE(m.start(s, {v6a, v4a}));
    drain(m, s);
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(tmax));
    m.handle_timeout(tmax);
    EXPECT_EQ(drain(m, tmax), (Texts{"close #1", "report failed"}));
    EXPECT_TRUE(m.report().overall_timeout);
}

TEST(TimeLimits, DnsModeResolutionDelayAndHandshakeNearTheEnd) {
    Config c;
    c.success = Success::handshake;
    RaceMachine m(c);
    const TimePoint s = tmax - 100ms;
    ASSERT_TRUE(m.start_resolving(s));
    drain(m, s);
    m.handle_resolved(s, Family::v4, {v4a, v4b});
    EXPECT_TRUE(drain(m, s).empty());
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(s + 50ms));  // resolution delay
    m.handle_timeout(s + 50ms);
    EXPECT_EQ(drain(m, s + 50ms), Texts{"connect #1 192.0.2.1:443"});
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(tmax));  // s + 300 ms saturates
    m.handle_connected(s + 60ms, AttemptId(1));  // pushes the timer back: saturates too
    EXPECT_TRUE(drain(m, s + 60ms).empty());
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(tmax));
    m.handle_secured(s + 70ms, AttemptId(1));
    EXPECT_EQ(drain(m, s + 70ms), Texts{"report connected #1 192.0.2.1:443"});
}

TEST(TimeLimits, HugeHistoryRttSaturatesTheAutoDelay) {
    History h(16);
    h.record_success("", v6a, Duration::max(), TimePoint{});
    Config c;
    c.auto_attempt_delay = true;
    c.history = &h;
    RaceMachine m(c);
    const TimePoint t0{5s};
    ASSERT_TRUE(m.start(t0, {v6a, v4a}));
    drain(m, t0);
    // 3 × Duration::max() saturates, then clamps to max-attempt-delay (2 s).
    EXPECT_EQ(m.next_timeout(), std::optional<TimePoint>(t0 + 2s));
}

TEST(TimeLimits, RttFromTheMostNegativeStartToTheEndSaturates) {
    History h(16);
    Config c;
    c.history = &h;
    RaceMachine m(c);
    ASSERT_TRUE(m.start(tmin, {v6a}));
    drain(m, tmin);
    m.handle_connected(tmax, AttemptId(1));
    EXPECT_EQ(drain(m, tmax), Texts{"report connected #1 [2001:db8::a]:443"});
    EXPECT_EQ(h.rtt("", v6a), std::optional<Duration>(Duration::max()));
}

TEST(TimeLimits, TraceTimeSaturates) {
    EXPECT_EQ(format_trace_ms(Duration::max()), "9223372036854.775807");
    EXPECT_EQ(format_trace_ms(Duration::min()), "-9223372036854.775808");
}

// ---- item 10: time going backwards --------------------------------------------

TEST(TimeLimits, AnEarlierNowIsProcessedAtTheLatestTimeSeen) {
    RaceMachine m(Config{});
    const TimePoint t0{1000s};
    ASSERT_TRUE(m.start(t0, {v6a, v4a}));
    drain(m, t0);
    m.handle_timeout(t0 + 300ms);
    EXPECT_EQ(drain(m, t0 + 300ms), Texts{"connect #2 192.0.2.1:443"});
    // #1 fails "at 100 ms", before the latest time seen (300 ms): not ignored,
    // but taken as happening at 300 ms.
    m.handle_connect_failed(t0 + 100ms, AttemptId(1), ECONNREFUSED);
    EXPECT_EQ(drain(m, t0 + 300ms), Texts{"close #1"});
    const RaceReport r = m.report();
    ASSERT_EQ(r.attempts.size(), 2u);
    ASSERT_TRUE(r.attempts[0].ended.has_value());
    EXPECT_EQ(*r.attempts[0].ended, t0 + 300ms);
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_EQ(r.errors[0].code, ECONNREFUSED);
    // A timer "from the past" fires nothing that is not due at 300 ms.
    m.handle_timeout(t0);
    EXPECT_TRUE(drain(m, t0).empty());
    EXPECT_FALSE(m.finished());
    m.handle_connected(t0, AttemptId(2));
    EXPECT_EQ(drain(m, t0), Texts{"report connected #2 192.0.2.1:443"});
    EXPECT_EQ(m.report().finished, t0 + 300ms);
}

// ---- item 9: port 0 ----------------------------------------------------------------

TEST(PortZero, StartRejectsARemoteWithPortZero) {
    RaceMachine m;
    const Status s = m.start(TimePoint{}, {v6a, v6a.with_port(0)});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.message(),
              "remote [2001:db8::a]:0 (address 2 of 2) has port 0, which is not a valid "
              "remote port");
    EXPECT_FALSE(m.started());
    EXPECT_FALSE(m.poll_action().has_value());
}

TEST(PortZero, AnAnswersAddressWithPortZeroIsLeftOut) {
    RaceMachine m;
    const TimePoint t0{1s};
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m, t0);
    m.handle_resolved(t0, Family::v6, {v6a.with_port(0), v6b});
    EXPECT_EQ(drain(m, t0), Texts{"connect #1 [2001:db8::b]:443"});
    m.handle_resolved(t0, Family::v4, {v4a.with_port(0)});  // nothing left: as "no data"
    m.handle_connect_failed(t0 + 1ms, AttemptId(1), ECONNREFUSED);
    EXPECT_EQ(drain(m, t0 + 1ms), (Texts{"close #1", "report failed"}));
    EXPECT_EQ(m.report().attempts.size(), 1u);
}

// ---- item 8: the endpoint cap --------------------------------------------------

TEST(EndpointCap, DefaultIs64AndBadValuesAreRejected) {
    EXPECT_EQ(Config{}.max_endpoints, 64u);
    Config c;
    c.max_endpoints = 0;
    ASSERT_TRUE(validate(c).has_value());
    EXPECT_EQ(*validate(c), "max-endpoints 0 is outside 1 … 1024");
    c.max_endpoints = 1025;
    ASSERT_TRUE(validate(c).has_value());
    EXPECT_NE(validate(c)->find("max-endpoints 1025"), std::string::npos);
    c.max_endpoints = 1024;
    EXPECT_FALSE(validate(c).has_value());
}

TEST(EndpointCap, TheGivenListIsCutAfterTheFirstN) {
    Config c;
    c.max_endpoints = 2;
    c.attempt_delay = 10ms;
    RaceMachine m(c);
    const TimePoint t0{1s};
    ASSERT_TRUE(m.start(t0, {v6a, v4a, v6b, v4b}));
    EXPECT_EQ(drain(m, t0), Texts{"connect #1 [2001:db8::a]:443"});
    EXPECT_EQ(m.candidates_left(), 1u);
    m.handle_timeout(t0 + 10ms);
    EXPECT_EQ(drain(m, t0 + 10ms), Texts{"connect #2 192.0.2.1:443"});
    m.handle_connect_failed(t0 + 20ms, AttemptId(1), ECONNREFUSED);
    m.handle_connect_failed(t0 + 20ms, AttemptId(2), ECONNREFUSED);
    EXPECT_EQ(drain(m, t0 + 20ms), (Texts{"close #1", "close #2", "report failed"}));
    EXPECT_EQ(m.report().dropped, 2u);
    EXPECT_EQ(m.report().attempts.size(), 2u);
}

TEST(EndpointCap, AnswersFillTheRoomLeftFirstArrivedFirstKept) {
    Config c;
    c.max_endpoints = 3;
    RaceMachine m(c);
    const TimePoint t0{1s};
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m, t0);
    // 300 AAAA records: the first 3 (after RFC 6724 sorting, which keeps
    // these equal-precedence ones in order) are kept.
    std::vector<Endpoint> many;
    for (int i = 0; i < 300; ++i) {
        std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
        b[14] = static_cast<std::uint8_t>(i >> 8);
        b[15] = static_cast<std::uint8_t>(i);
        many.push_back(Endpoint::v6(b, 443));
    }
    m.handle_resolved(t0, Family::v6, many);
    EXPECT_EQ(drain(m, t0), Texts{"connect #1 [2001:db8::]:443"});
    EXPECT_EQ(m.candidates_left(), 2u);
    // The A answer finds no room: not "no data", just dropped.
    m.handle_resolved(t0 + 1ms, Family::v4, {v4a, v4b});
    EXPECT_EQ(m.candidates_left(), 2u);
    const RaceReport r = m.report();
    EXPECT_EQ(r.dropped, 297u + 2u);
    EXPECT_TRUE(r.errors.empty()) << "a capped answer is not a resolve error";
    m.cancel(t0 + 2ms);
    drain(m, t0 + 2ms);
    // The trace reports the count.
    const std::string line = trace_json("2", Action{Report{Outcome::cancelled, AttemptId(), {}}},
                                        &r);
    EXPECT_NE(line.find("\"dropped\":299"), std::string::npos) << line;
}
