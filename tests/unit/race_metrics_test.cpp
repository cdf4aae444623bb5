// SPDX-License-Identifier: BSL-1.0
// Issue 16: RaceMetrics (what report() counts for operators), the DNS query
// log behind the answer lines, and attempt records with the error that ended
// them.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <variant>
#include <vector>

#include "eyeballs/eyeballs.hpp"

namespace eyeballs {
namespace {

using namespace std::chrono_literals;

Endpoint ep(const char* text) {
    auto e = Endpoint::parse(text, 443);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(Endpoint{});
}

// Drains the machine, answering OpenSocket at once; returns the Connects.
std::vector<Connect> drain(RaceMachine& m, TimePoint now) {
    std::vector<Connect> out;
    while (auto a = m.poll_action()) {
        if (const auto* o = std::get_if<OpenSocket>(&*a)) m.handle_opened(now, o->attempt);
        if (const auto* c = std::get_if<Connect>(&*a)) out.push_back(*c);
    }
    return out;
}

TEST(RaceMetrics, DnsTimesAttemptsWinnerAndErrorsByStage) {
    const TimePoint t0{std::chrono::seconds(10)};
    RaceMachine m;
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m, t0);
    m.handle_resolved(t0 + 5ms, Family::v6, {ep("2001:db8::1")});
    std::vector<Connect> c = drain(m, t0 + 5ms);
    ASSERT_EQ(c.size(), 1u);
    m.handle_resolved(t0 + 7ms, Family::v4, {ep("192.0.2.1")});
    drain(m, t0 + 7ms);
    m.handle_connect_failed(t0 + 8ms, c[0].attempt, ECONNREFUSED);
    drain(m, t0 + 8ms);
    m.handle_timeout(t0 + 15ms);  // 10 ms after attempt 1's start
    c = drain(m, t0 + 15ms);
    ASSERT_EQ(c.size(), 1u);
    m.handle_connected(t0 + 40ms, c[0].attempt);
    drain(m, t0 + 40ms);

    const RaceReport r = m.report();
    const RaceMetrics& x = r.metrics;
    EXPECT_EQ(x.dns_aaaa, Duration(5ms));
    EXPECT_EQ(x.dns_a, Duration(7ms));
    EXPECT_FALSE(x.dns_https.has_value());
    EXPECT_EQ(x.dns_queries, 2u);
    EXPECT_EQ(x.dns_max, Duration(7ms));
    EXPECT_EQ(x.attempts_started, 2u);
    EXPECT_EQ(x.winner_family, Family::v4);
    EXPECT_EQ(x.winner_protocol, Protocol::tcp);
    EXPECT_EQ(x.time_to_connect, Duration(40ms));
    EXPECT_EQ(x.errors_by_stage[static_cast<int>(Stage::connect)], 1u);
    EXPECT_EQ(x.errors_by_stage[static_cast<int>(Stage::resolve)], 0u);
    EXPECT_EQ(x.duplicates_dropped, 0u);
    EXPECT_EQ(x.duration, Duration(40ms));

    // The query log, as the answer lines print it.
    ASSERT_EQ(r.queries.size(), 2u);
    EXPECT_EQ(r.queries[0].family, Family::v6);
    EXPECT_EQ(r.queries[0].asked, t0);
    EXPECT_EQ(r.queries[0].answered, t0 + 5ms);
    EXPECT_EQ(r.queries[0].addresses, std::vector<Endpoint>{ep("2001:db8::1")});
    EXPECT_STREQ(r.queries[1].type(), "A");
    EXPECT_FALSE(r.queries[1].error.has_value());

    // The losing attempt's record names the error that ended it.
    ASSERT_EQ(r.attempts.size(), 2u);
    ASSERT_TRUE(r.attempts[0].error.has_value());
    EXPECT_EQ(r.attempts[0].error->stage, Stage::connect);
    EXPECT_EQ(r.attempts[0].error->code, ECONNREFUSED);
    EXPECT_FALSE(r.attempts[1].error.has_value());
    const std::optional<AttemptRecord> first = m.attempt_record(AttemptId(1));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->error, r.attempts[0].error);
    EXPECT_FALSE(m.attempt_record(AttemptId(3)).has_value());
}

TEST(RaceMetrics, NegativeAnswersCountAsResolveErrorsAndLogTheirError) {
    const TimePoint t0{};
    RaceMachine m;
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m, t0);
    m.handle_resolve_failed(t0 + 3ms, Family::v6);  // no data
    m.handle_resolve_failed(t0 + 4ms, Family::v4, EHOSTUNREACH, "server unreachable");
    drain(m, t0 + 4ms);
    // A late answer after the end is ignored: not in the log.
    m.handle_resolved(t0 + 9ms, Family::v4, {ep("192.0.2.1")});
    const RaceReport r = m.report();
    EXPECT_EQ(r.outcome, Outcome::failed);
    EXPECT_EQ(r.metrics.errors_by_stage[static_cast<int>(Stage::resolve)], 2u);
    EXPECT_EQ(r.metrics.attempts_started, 0u);
    EXPECT_FALSE(r.metrics.winner_family.has_value());
    EXPECT_FALSE(r.metrics.time_to_connect.has_value());
    EXPECT_EQ(r.metrics.dns_aaaa, Duration(3ms));
    EXPECT_EQ(r.metrics.dns_a, Duration(4ms));
    ASSERT_EQ(r.queries.size(), 2u);
    ASSERT_TRUE(r.queries[0].error.has_value());
    EXPECT_EQ(r.queries[0].error->code, 0);
    EXPECT_TRUE(r.queries[0].error->detail.empty());
    ASSERT_TRUE(r.queries[1].error.has_value());
    EXPECT_EQ(r.queries[1].error->code, EHOSTUNREACH);
    EXPECT_EQ(r.queries[1].error->detail, "server unreachable");
    EXPECT_EQ(r.queries[1].answered, t0 + 4ms);
    EXPECT_TRUE(r.queries[1].addresses.empty());
}

TEST(RaceMetrics, AddressesModeHasNoDnsAndAnOverallTimeoutNoWinner) {
    const TimePoint t0{};
    Config c;
    c.overall_timeout = 100ms;
    RaceMachine m(c);
    ASSERT_TRUE(m.start(t0, {ep("192.0.2.1"), ep("192.0.2.2")}));
    drain(m, t0);
    m.handle_timeout(t0 + 100ms);
    drain(m, t0 + 100ms);
    const RaceReport r = m.report();
    EXPECT_TRUE(r.queries.empty());
    EXPECT_FALSE(r.metrics.dns_aaaa.has_value());
    EXPECT_EQ(r.metrics.dns_queries, 0u);
    EXPECT_EQ(r.metrics.attempts_started, 1u);
    EXPECT_FALSE(r.metrics.winner_family.has_value());
    EXPECT_EQ(r.metrics.duration, Duration(100ms));
    // Cut off by the overall timeout: closed, with no error of its own.
    ASSERT_EQ(r.attempts.size(), 1u);
    EXPECT_EQ(r.attempts[0].state, AttemptRecord::State::closed);
    EXPECT_FALSE(r.attempts[0].error.has_value());
    EXPECT_TRUE(m.overall_timed_out());
}

}  // namespace
}  // namespace eyeballs
