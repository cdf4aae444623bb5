// SPDX-License-Identifier: BSL-1.0
// Issue 17 items 5 and 6, unit by unit without a RaceMachine: DNS64
// de-synthesis and the host's families (src/v3/dns64.cpp, the editor's copy
// §8.2/§8.3, RFC 6052 §2.2/§3.1), and sorting with history (src/v3/sorting.cpp,
// v3 §5.3: the used-before rule, convergence, History::attach).
#include <gtest/gtest.h>

#include <chrono>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/history.hpp"
#include "eyeballs/sort.hpp"
#include "v3/dns64.hpp"
#include "v3/sorting.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;
using namespace eyeballs::detail;

namespace {

Endpoint ep(const char* text, std::uint16_t port = 443) { return *Endpoint::parse(text, port); }
Pref64 pref(const char* text) { return *Pref64::parse(text); }

// ---- §8.2 de-synthesis --------------------------------------------------------------

TEST(V3Dns64, AddressInsideThePrefixIsTheIpv4ItCarries) {
    const Dns64Check c = desynthesize(ep("2001:db8:64::c633:6429", 8443), pref("2001:db8:64::/96"));
    EXPECT_EQ(c.verdict, Dns64::desynthesized);
    EXPECT_EQ(c.address, ep("198.51.100.41", 8443));  // the port is kept
}

TEST(V3Dns64, EveryRfc6052LengthRoundTrips) {
    for (const char* p : {"2001:db8::/32", "2001:db8:100::/40", "2001:db8:122::/48",
                          "2001:db8:122:300::/56", "2001:db8:122:344::/64", "2001:db8:64::/96"}) {
        const Pref64 prefix = pref(p);
        const std::optional<Endpoint> v6 = synthesize(ep("198.51.100.41"), prefix);
        ASSERT_TRUE(v6) << p;
        const Dns64Check c = desynthesize(*v6, prefix);
        EXPECT_EQ(c.verdict, Dns64::desynthesized) << p;
        EXPECT_EQ(c.address, ep("198.51.100.41")) << p;
    }
}

TEST(V3Dns64, OutsideThePrefixOrIpv4IsNative) {
    const Pref64 prefix = pref("2001:db8:64::/96");
    EXPECT_EQ(desynthesize(ep("2001:db8:65::c633:6429"), prefix).verdict, Dns64::native);
    EXPECT_EQ(desynthesize(ep("2001:db8::1"), prefix).address, ep("2001:db8::1"));
    EXPECT_EQ(desynthesize(ep("192.0.2.1"), prefix).verdict, Dns64::native);
}

TEST(V3Dns64, NonZeroUOctetIsRejected) {
    // RFC 6052 §2.2: bits 64-71 MUST be zero (here the byte after the /64).
    EXPECT_EQ(desynthesize(ep("2001:db8:64:0:1c6:3364:2900:0"), pref("2001:db8:64::/64")).verdict,
              Dns64::rejected);
    EXPECT_EQ(desynthesize(ep("2001:db8:64:0:c6:3364:2900:0"), pref("2001:db8:64::/64")).verdict,
              Dns64::desynthesized);
}

TEST(V3Dns64, NeverSynthesizedAndNonGlobalUnderTheWellKnownPrefixAreRejected) {
    EXPECT_EQ(desynthesize(ep("2001:db8:64::7f00:1"), pref("2001:db8:64::/96")).verdict,
              Dns64::rejected);  // 127.0.0.1
    EXPECT_EQ(desynthesize(ep("64:ff9b::a00:1"), pref("64:ff9b::/96")).verdict,
              Dns64::rejected);  // 10.0.0.1, RFC 6052 §3.1
    // A network-specific prefix may carry non-global addresses.
    EXPECT_EQ(desynthesize(ep("2001:db8:64::a00:1"), pref("2001:db8:64::/96")).verdict,
              Dns64::desynthesized);
    EXPECT_EQ(desynthesize(ep("64:ff9b::5db8:d822"), pref("64:ff9b::/96")).verdict,
              Dns64::desynthesized);
}

TEST(V3Dns64, NonZeroSuffixIsTolerated) {
    // RFC 6052 §2.2: the suffix "SHOULD" be zero; not a reason to drop.
    const Dns64Check c = desynthesize(ep("2001:db8:64:0:c6:3364:2900:1"), pref("2001:db8:64::/64"));
    EXPECT_EQ(c.verdict, Dns64::desynthesized);
    EXPECT_EQ(c.address, ep("198.51.100.41"));
}

// ---- admission: synthesis, de-synthesis and the host's families -----------------------

TEST(V3Dns64, AdmissionDesynthesizesOnlyWhenAsked) {
    Config c;
    c.pref64 = pref("2001:db8:64::/96");
    const Endpoint dns64 = ep("2001:db8:64::c633:6429");
    EXPECT_EQ(admit_address(dns64, c, false), dns64);  // RFC 8305 mode: as given
    EXPECT_EQ(admit_address(dns64, c, true), ep("198.51.100.41"));
    EXPECT_FALSE(admit_address(ep("2001:db8:64::7f00:1"), c, true));
}

TEST(V3Dns64, AdmissionResynthesizesWhenIpv4IsUnavailable) {
    Config c;
    c.pref64 = pref("64:ff9b::/96");
    c.ipv4_unavailable = true;
    EXPECT_EQ(admit_address(ep("64:ff9b::5db8:d822"), c, true), ep("64:ff9b::5db8:d822"));
    EXPECT_EQ(admit_address(ep("93.184.216.34"), c, true), ep("64:ff9b::5db8:d822"));
    EXPECT_FALSE(admit_address(ep("127.0.0.1"), c, true));
}

TEST(V3Dns64, Ipv6NoneKeepsOnlyIpv4) {
    Config c;
    c.ipv6_unavailable = true;
    EXPECT_FALSE(admit_address(ep("2001:db8::1"), c, true));
    EXPECT_EQ(admit_address(ep("192.0.2.1"), c, false), ep("192.0.2.1"));
    c.pref64 = pref("2001:db8:64::/96");
    EXPECT_EQ(admit_address(ep("2001:db8:64::c633:6429"), c, true), ep("198.51.100.41"));
    EXPECT_FALSE(admit_address(ep("2001:db8:64::c633:6429"), c, false));
}

TEST(V3Dns64, Ipv6NoneContradictionsAreNamed) {
    Config c;
    c.ipv6_unavailable = true;
    EXPECT_FALSE(validate(c));
    c.ipv4_unavailable = true;
    ASSERT_TRUE(validate(c));
    EXPECT_NE(validate(c)->find("ipv6=none contradicts ipv4=none"), std::string::npos);
    c.ipv4_unavailable = false;
    c.only_family = Family::v6;
    ASSERT_TRUE(validate(c));
    EXPECT_NE(validate(c)->find("family=ipv6 contradicts ipv6=none"), std::string::npos);
}

// ---- §5.3 the used-before rule ---------------------------------------------------------

TEST(V3Sorting, UsedGoesBeforeUnusedAfterTheRttRule) {
    Destination used{ep("2001:db8::2"), std::nullopt, std::nullopt, true};
    Destination fresh{ep("2001:db8::1"), std::nullopt, std::nullopt, false};
    Comparison c = compare_destinations(used, fresh);
    EXPECT_LT(c.order, 0);
    EXPECT_EQ(c.rule, SortRule::prefer_used);
    // The RTT rule decides first: a known RTT beats "used" without one.
    Destination timed{ep("2001:db8::3"), std::nullopt, Duration(5ms), true};
    c = compare_destinations(timed, used);
    EXPECT_LT(c.order, 0);
    EXPECT_EQ(c.rule, SortRule::prefer_lower_rtt);
    // Precedence (rule 6) still comes before both.
    Destination v4{ep("192.0.2.1"), std::nullopt, std::nullopt, true};
    EXPECT_EQ(compare_destinations(fresh, v4).rule, SortRule::prefer_higher_precedence);
    EXPECT_STREQ(sort_rule_name(SortRule::prefer_used), "v3 §5.3 (prefer used addresses)");
}

TEST(V3Sorting, HistoryUsedIsAnySuccessEvenAfterAFailure) {
    History h;
    const TimePoint t{};
    EXPECT_FALSE(h.used("", ep("2001:db8::1")));
    h.record_failure("", ep("2001:db8::1"), t);
    EXPECT_FALSE(h.used("", ep("2001:db8::1")));
    h.record_success("", ep("2001:db8::1", 80), 3ms, t);
    h.record_failure("", ep("2001:db8::1"), t);
    EXPECT_TRUE(h.used("", ep("2001:db8::1", 8080)));  // the port does not matter
    EXPECT_FALSE(h.used("wlan0", ep("2001:db8::1")));
}

TEST(V3Sorting, SortWithHistoryPutsUsedFirst) {
    History h;
    h.record_success("", ep("2001:db8::2"), 3ms, TimePoint{});
    h.record_failure("", ep("2001:db8::2"), TimePoint{});
    Config c;
    c.history = &h;
    std::vector<Endpoint> v{ep("2001:db8::1"), ep("2001:db8::2")};
    ASSERT_TRUE(has_lookups(c));
    sort_with_history(v, c);
    EXPECT_EQ(v[0], ep("2001:db8::2"));
    c.network = "wlan0";  // another network's history is never used
    v = {ep("2001:db8::1"), ep("2001:db8::2")};
    sort_with_history(v, c);
    EXPECT_EQ(v[0], ep("2001:db8::1"));
}

// ---- §5.3 convergence ------------------------------------------------------------------

TEST(V3Sorting, ExploreIsDeterministicAndNearItsRate) {
    EXPECT_FALSE(history_explored(1, 0));
    EXPECT_TRUE(history_explored(1, 1000));
    int explored = 0;
    for (std::uint64_t seed = 0; seed < 10000; ++seed) {
        const bool e = history_explored(seed, 100);
        EXPECT_EQ(e, history_explored(seed, 100));
        if (e) {
            ++explored;
            EXPECT_TRUE(history_explored(seed, 101));  // monotone in the rate
        }
    }
    EXPECT_GT(explored, 800);  // 10 % of 10000, within a wide margin
    EXPECT_LT(explored, 1200);
}

TEST(V3Sorting, ExploringRaceSortsWithoutHistory) {
    History h;
    h.record_success("", ep("2001:db8::2"), 3ms, TimePoint{});
    Config c;
    c.history = &h;
    c.history_explore = 1000;
    EXPECT_FALSE(has_lookups(c));
    std::vector<Endpoint> v{ep("2001:db8::1"), ep("2001:db8::2")};
    sort_with_history(v, c);
    EXPECT_EQ(v[0], ep("2001:db8::1"));
    c.history_explore = 1001;
    ASSERT_TRUE(validate(c));
    EXPECT_NE(validate(c)->find("history-explore 1001"), std::string::npos);
}

// ---- §5.3 flushing on a network change -------------------------------------------------

TEST(V3History, AttachFlushesOnAChangeUnlessResumed) {
    History h;
    h.record_success("home", ep("2001:db8::1"), 3ms, TimePoint{});
    h.record_success("cafe", ep("2001:db8::2"), 3ms, TimePoint{});
    EXPECT_FALSE(h.attached());
    EXPECT_EQ(h.attach("home"), 0u);  // the first attach forgets nothing
    EXPECT_EQ(h.attach("home"), 0u);  // nor the same network again
    EXPECT_EQ(h.attach("cafe", History::Attach::resume), 0u);
    EXPECT_EQ(h.size(), 2u);
    EXPECT_EQ(*h.attached(), "cafe");
    EXPECT_EQ(h.attach("home"), 2u);  // ids not reliable: everything goes
    EXPECT_EQ(h.size(), 0u);
    EXPECT_EQ(*h.attached(), "home");
}

}  // namespace
