// SPDX-License-Identifier: BSL-1.0
// History (RFC 8305 §4, §5): RFC 6298 smoothing, outcomes, partitioning by
// network (never used across networks), address-only keys, the LRU bound,
// clear and clear_network.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "eyeballs/history.hpp"

namespace eyeballs {
namespace {

using namespace std::chrono_literals;

Endpoint A(const char* text, std::uint16_t port = 443) {
    std::string err;
    auto ep = Endpoint::parse_address(text, port, &err);
    EXPECT_TRUE(ep.has_value()) << text << ": " << err;
    return ep.value_or(Endpoint{});
}

const TimePoint t0{};

// ---- RFC 6298 smoothing ---------------------------------------------------------

TEST(HistorySmoothing, FirstSampleSetsSrttAndHalfOfItAsRttvar) {
    History h;
    h.record_success("", A("2001:db8::1"), 80ms, t0);
    const auto e = h.lookup("", A("2001:db8::1"));
    ASSERT_TRUE(e.has_value());
    // RFC 6298 §2.2: "SRTT <- R, RTTVAR <- R/2".
    EXPECT_EQ(e->srtt, Duration(80ms));
    EXPECT_EQ(e->rttvar, Duration(40ms));
    EXPECT_EQ(e->latest_rtt, Duration(80ms));
    // RTO = SRTT + 4 RTTVAR = 3 R, the value attempt-delay=auto uses.
    EXPECT_EQ(*e->srtt + 4 * *e->rttvar, Duration(240ms));
    EXPECT_EQ(h.rtt("", A("2001:db8::1")), Duration(80ms));
}

TEST(HistorySmoothing, LaterSamplesMoveAnEighthOfTheWay) {
    History h;
    const Endpoint d = A("192.0.2.1");
    h.record_success("", d, 80ms, t0);
    h.record_success("", d, 40ms, t0 + 1s);
    auto e = h.lookup("", d);
    ASSERT_TRUE(e.has_value());
    // RFC 6298 §2.3, RTTVAR first from the old SRTT:
    // RTTVAR = 3/4 * 40 + 1/4 * |80 - 40| = 40; SRTT = 7/8 * 80 + 1/8 * 40 = 75.
    EXPECT_EQ(e->rttvar, Duration(40ms));
    EXPECT_EQ(e->srtt, Duration(75ms));
    EXPECT_EQ(e->latest_rtt, Duration(40ms));
    h.record_success("", d, 155ms, t0 + 2s);
    e = h.lookup("", d);
    // RTTVAR = 3/4 * 40 + 1/4 * |75 - 155| = 50; SRTT = 75 + (155 - 75) / 8 = 85.
    EXPECT_EQ(e->rttvar, Duration(50ms));
    EXPECT_EQ(e->srtt, Duration(85ms));
    EXPECT_EQ(e->successes, 3u);
    EXPECT_EQ(e->last_success, t0 + 2s);
}

TEST(HistorySmoothing, ExactInNanosecondsTruncatingTheStepTowardZero) {
    History h;
    const Endpoint d = A("2001:db8::1");
    h.record_success("", d, 10ns, t0);
    h.record_success("", d, 3ns, t0);  // step (3 - 10) / 8 truncates to 0
    EXPECT_EQ(h.rtt("", d), Duration(10ns));
    h.record_success("", d, 27ns, t0);  // step (27 - 10) / 8 = 2
    EXPECT_EQ(h.rtt("", d), Duration(12ns));
}

TEST(HistorySmoothing, NegativeRttCountsAsZero) {
    History h;
    h.record_success("", A("2001:db8::1"), -5ms, t0);
    EXPECT_EQ(h.rtt("", A("2001:db8::1")), Duration(0));
}

// ---- Outcomes ----------------------------------------------------------------------

TEST(HistoryOutcome, AFailureHidesTheRttUntilTheNextSuccess) {
    History h;
    const Endpoint d = A("2001:db8::1");
    h.record_failure("", d, t0);
    EXPECT_EQ(h.rtt("", d), std::nullopt);  // never succeeded
    auto e = h.lookup("", d);
    ASSERT_TRUE(e.has_value());
    EXPECT_FALSE(e->srtt.has_value());
    EXPECT_TRUE(e->last_failed);
    EXPECT_EQ(e->failures, 1u);

    h.record_success("", d, 40ms, t0 + 1s);
    EXPECT_EQ(h.rtt("", d), Duration(40ms));
    h.record_failure("", d, t0 + 2s);
    h.record_failure("", d, t0 + 3s);
    EXPECT_EQ(h.rtt("", d), std::nullopt);  // the latest attempt failed
    e = h.lookup("", d);
    EXPECT_EQ(e->srtt, Duration(40ms));     // ... but the SRTT is kept
    EXPECT_EQ(e->consecutive_failures, 2u);
    EXPECT_EQ(e->failures, 3u);
    EXPECT_EQ(e->last_failure, t0 + 3s);
    EXPECT_EQ(e->last_success, t0 + 1s);

    h.record_success("", d, 80ms, t0 + 4s);  // smoothing resumes from 40
    EXPECT_EQ(h.rtt("", d), Duration(45ms));
    EXPECT_EQ(h.lookup("", d)->consecutive_failures, 0u);
    EXPECT_FALSE(h.lookup("", d)->last_failed);
}

// ---- Keys: network partitions, address without port ------------------------------

TEST(HistoryKeys, NetworksNeverSeeEachOthersEntries) {
    History h;
    const Endpoint d = A("2001:db8::1");
    h.record_success("wifi", d, 20ms, t0);
    h.record_success("cell", d, 90ms, t0);
    EXPECT_EQ(h.rtt("wifi", d), Duration(20ms));
    EXPECT_EQ(h.rtt("cell", d), Duration(90ms));
    // The default network (empty id) is a network of its own.
    EXPECT_EQ(h.lookup("", d), std::nullopt);
    EXPECT_EQ(h.rtt("", d), std::nullopt);
    EXPECT_EQ(h.lookup("ethernet", d), std::nullopt);
    h.record_success("", d, 50ms, t0);
    EXPECT_EQ(h.rtt("", d), Duration(50ms));
    EXPECT_EQ(h.rtt("wifi", d), Duration(20ms));
    EXPECT_EQ(h.size(), 3u);
    EXPECT_EQ(h.size("wifi"), 1u);
    EXPECT_EQ(h.size("ethernet"), 0u);
}

TEST(HistoryKeys, KeyedOnTheAddressNotThePort) {
    History h;
    h.record_success("", A("2001:db8::1", 443), 20ms, t0);
    h.record_success("", A("2001:db8::1", 8443), 40ms, t0);
    EXPECT_EQ(h.size(), 1u);
    EXPECT_EQ(h.lookup("", A("2001:db8::1", 80))->successes, 2u);
    EXPECT_EQ(h.rtt("", A("2001:db8::1", 0)), Duration(22500us));  // 20 + (40 - 20) / 8
    // Different addresses are different entries; an IPv4-mapped address is
    // its own destination (another socket family), not its IPv4 address.
    EXPECT_EQ(h.lookup("", A("2001:db8::2")), std::nullopt);
    h.record_success("", A("192.0.2.1"), 30ms, t0);
    EXPECT_EQ(h.lookup("", A("::ffff:192.0.2.1")), std::nullopt);
}

// ---- The size bound -------------------------------------------------------------

TEST(HistoryBound, EvictsTheLeastRecentlyRecordedEntry) {
    History h(3);
    EXPECT_EQ(h.capacity(), 3u);
    h.record_success("", A("2001:db8::a"), 10ms, t0);
    h.record_success("", A("2001:db8::b"), 10ms, t0);
    h.record_success("", A("2001:db8::c"), 10ms, t0);
    h.record_failure("", A("2001:db8::a"), t0);  // a is now the most recent
    h.record_success("", A("2001:db8::d"), 10ms, t0);
    EXPECT_EQ(h.size(), 3u);
    EXPECT_EQ(h.lookup("", A("2001:db8::b")), std::nullopt);  // evicted
    EXPECT_TRUE(h.lookup("", A("2001:db8::a")).has_value());
    EXPECT_TRUE(h.lookup("", A("2001:db8::c")).has_value());
    EXPECT_TRUE(h.lookup("", A("2001:db8::d")).has_value());
    // Lookups do not count as use: c is still the oldest record.
    (void)h.lookup("", A("2001:db8::c"));
    (void)h.rtt("", A("2001:db8::c"));
    h.record_success("", A("2001:db8::e"), 10ms, t0);
    EXPECT_EQ(h.lookup("", A("2001:db8::c")), std::nullopt);
    EXPECT_EQ(h.size(), 3u);
}

TEST(HistoryBound, TheBoundCoversAllNetworks) {
    History h(2);
    h.record_success("wifi", A("2001:db8::1"), 10ms, t0);
    h.record_success("cell", A("2001:db8::1"), 10ms, t0);
    h.record_success("", A("2001:db8::1"), 10ms, t0);
    EXPECT_EQ(h.size(), 2u);
    EXPECT_EQ(h.lookup("wifi", A("2001:db8::1")), std::nullopt);
    EXPECT_TRUE(h.lookup("cell", A("2001:db8::1")).has_value());
}

TEST(HistoryBound, CapacityZeroKeepsNothing) {
    History h(0);
    h.record_success("", A("2001:db8::1"), 10ms, t0);
    h.record_failure("", A("2001:db8::1"), t0);
    EXPECT_EQ(h.size(), 0u);
    EXPECT_EQ(h.lookup("", A("2001:db8::1")), std::nullopt);
}

TEST(HistoryBound, StaysWithinTheBoundOverManyRecords) {
    History h(16);
    for (unsigned i = 0; i < 1000; ++i) {
        const auto b = static_cast<std::uint8_t>(i % 40);
        h.record_success(i % 3 == 0 ? "wifi" : "", Endpoint::v4({192, 0, 2, b}, 443),
                         Duration(std::chrono::milliseconds(i % 50)), t0);
        ASSERT_LE(h.size(), 16u);
    }
    EXPECT_EQ(h.size(), 16u);
    EXPECT_EQ(h.size("wifi") + h.size(""), 16u);
}

// ---- Clearing ---------------------------------------------------------------------

TEST(HistoryClear, ClearNetworkForgetsOnlyThatNetwork) {
    History h(3);
    h.record_success("wifi", A("2001:db8::1"), 10ms, t0);
    h.record_success("wifi", A("192.0.2.1"), 10ms, t0);
    h.record_success("cell", A("2001:db8::1"), 30ms, t0);
    h.clear_network("wifi");
    EXPECT_EQ(h.size(), 1u);
    EXPECT_EQ(h.size("wifi"), 0u);
    EXPECT_EQ(h.lookup("wifi", A("2001:db8::1")), std::nullopt);
    EXPECT_EQ(h.rtt("cell", A("2001:db8::1")), Duration(30ms));
    h.clear_network("nowhere");  // unknown: nothing happens
    EXPECT_EQ(h.size(), 1u);
    // The bound still works after a partial clear: cell's entry is now the
    // oldest and goes first.
    h.record_success("wifi", A("2001:db8::2"), 10ms, t0);
    h.record_success("wifi", A("2001:db8::3"), 10ms, t0);
    h.record_success("wifi", A("2001:db8::4"), 10ms, t0);
    EXPECT_EQ(h.size(), 3u);
    EXPECT_EQ(h.lookup("cell", A("2001:db8::1")), std::nullopt);
}

TEST(HistoryClear, ClearForgetsEverything) {
    History h;
    h.record_success("wifi", A("2001:db8::1"), 10ms, t0);
    h.record_success("", A("192.0.2.1"), 10ms, t0);
    h.clear();
    EXPECT_EQ(h.size(), 0u);
    EXPECT_EQ(h.rtt("wifi", A("2001:db8::1")), std::nullopt);
    h.record_success("", A("192.0.2.1"), 20ms, t0);
    EXPECT_EQ(h.rtt("", A("192.0.2.1")), Duration(20ms));  // a fresh first sample
}

TEST(HistoryValue, CopiesAreIndependent) {
    History a(2);
    a.record_success("", A("2001:db8::1"), 10ms, t0);
    History b = a;
    b.record_success("", A("2001:db8::2"), 10ms, t0);
    b.record_success("", A("2001:db8::3"), 10ms, t0);
    EXPECT_EQ(a.size(), 1u);
    EXPECT_EQ(b.size(), 2u);
    EXPECT_TRUE(a.lookup("", A("2001:db8::1")).has_value());
    EXPECT_EQ(b.lookup("", A("2001:db8::1")), std::nullopt);  // evicted in b only
}

}  // namespace
}  // namespace eyeballs
