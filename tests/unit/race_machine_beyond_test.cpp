// SPDX-License-Identifier: BSL-1.0
// RaceMachine with the features beyond RFC 8305's minimum (issue 8): RFC 6724
// sorting, RTT history and attempt-delay=auto, delay schedules, NAT64.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "eyeballs/history.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/race_machine.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;

namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text, 443); }

struct Driver {
    explicit Driver(Config c) : m(std::move(c)) {}
    TimePoint t0{std::chrono::seconds(50)};
    RaceMachine m;
    // Drains; answers opens and binds; returns the remotes of Connect actions.
    std::vector<Endpoint> connects(TimePoint now) {
        std::vector<Endpoint> out;
        while (auto a = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*a)) m.handle_opened(now, o->attempt);
            if (auto* c = std::get_if<Connect>(&*a)) out.push_back(c->remote);
        }
        return out;
    }
    // Runs every timer until no candidate is left; returns the start times.
    std::vector<Duration> start_times(std::vector<Endpoint>* order = nullptr) {
        std::vector<Duration> out;
        for (auto& r : connects(t0)) {
            out.push_back(0ms);
            if (order) order->push_back(r);
        }
        while (m.candidates_left() > 0 && m.next_timeout()) {
            const TimePoint t = *m.next_timeout();
            m.handle_timeout(t);
            for (auto& r : connects(t)) {
                out.push_back(t - t0);
                if (order) order->push_back(r);
            }
        }
        return out;
    }
};

}  // namespace

TEST(Rfc6724Sorting, DnsModeSortsEachAnswerByPrecedence) {
    // 2002::/16 (6to4, precedence 30) sorts after 2001:db8:: (::/0 ... 2001::/32
    // has precedence 5!) -- use native global 2a00:: (precedence 40) vs 6to4.
    Config c;
    c.attempt_delay = 100ms;
    Driver d(c);
    ASSERT_TRUE(d.m.start_resolving(d.t0));
    d.connects(d.t0);
    d.m.handle_resolved(d.t0, Family::v6, {ep("[2002:c000:201::1]:443"), ep("[2a00:1::1]:443")});
    EXPECT_EQ(d.connects(d.t0), std::vector<Endpoint>{ep("[2a00:1::1]:443")});
}

TEST(Rfc6724Sorting, AddressesModeKeepsTheOrderUnlessAsked) {
    const std::vector<Endpoint> list = {ep("[2002:c000:201::1]:443"), ep("[2a00:1::1]:443")};
    {
        Driver d(Config{});
        ASSERT_TRUE(d.m.start(d.t0, list));
        EXPECT_EQ(d.connects(d.t0), std::vector<Endpoint>{list[0]});
    }
    {
        Config c;
        c.sort = SortMode::rfc6724;
        Driver d(c);
        ASSERT_TRUE(d.m.start(d.t0, list));
        EXPECT_EQ(d.connects(d.t0), std::vector<Endpoint>{list[1]});
    }
}

TEST(Rfc6724Sorting, SortingComesBeforeInterleavingSoItPicksTheFirstFamily) {
    // IPv4 (precedence 35) beats 6to4 (30): the first attempt is IPv4.
    Config c;
    c.sort = SortMode::rfc6724;
    c.attempt_delay = 50ms;
    Driver d(c);
    ASSERT_TRUE(d.m.start(d.t0, {ep("[2002:c000:201::1]:443"), ep("192.0.2.1:443")}));
    EXPECT_EQ(d.connects(d.t0), std::vector<Endpoint>{ep("192.0.2.1:443")});
}

TEST(History, LowerRttSortsFirstWithinTheNetworkOnly) {
    History h;
    h.record_success("office", ep("[2a00:1::2]:443"), 5ms, TimePoint{});
    h.record_success("office", ep("[2a00:1::1]:443"), 40ms, TimePoint{});
    for (const char* net : {"office", "home"}) {
        Config c;
        c.history = &h;
        c.network = net;
        Driver d(c);
        ASSERT_TRUE(d.m.start_resolving(d.t0));
        d.connects(d.t0);
        d.m.handle_resolved(d.t0, Family::v6, {ep("[2a00:1::1]:443"), ep("[2a00:1::2]:443")});
        const auto first = d.connects(d.t0);
        ASSERT_EQ(first.size(), 1u);
        EXPECT_EQ(first[0], std::string(net) == "office" ? ep("[2a00:1::2]:443")
                                                         : ep("[2a00:1::1]:443"))
            << net;
    }
}

// v3 §5.3 convergence with the default Config: one History, the same seed (0)
// every race, and still about 20 races in 1000 sort without the history —
// History::next_race() moves the decision on; history_explore = 0 turns it off.
TEST(History, DefaultConfigExploresAFewRacesInAThousand) {
    for (const std::uint32_t rate : {default_history_explore, 0u}) {
        History h;
        h.record_success("", ep("[2a00:1::2]:443"), 5ms, TimePoint{});
        int explored = 0;
        for (int race = 0; race < 1000; ++race) {
            Config c;
            c.history = &h;
            c.history_explore = rate;
            Driver d(c);
            ASSERT_TRUE(d.m.start_resolving(d.t0));
            d.connects(d.t0);
            d.m.handle_resolved(d.t0, Family::v6, {ep("[2a00:1::1]:443"), ep("[2a00:1::2]:443")});
            const auto first = d.connects(d.t0);
            ASSERT_EQ(first.size(), 1u);
            const bool exploring = first[0] == ep("[2a00:1::1]:443");
            // config() holds the race's decision: 1000 explores, 0 uses the history.
            EXPECT_EQ(d.m.config().history_explore, exploring ? 1000u : 0u) << race;
            if (race == 0) EXPECT_FALSE(exploring);  // seed 0's own decision
            explored += exploring ? 1 : 0;
        }
        if (rate == 0) {
            EXPECT_EQ(explored, 0);
        } else {
            EXPECT_GE(explored, 8);  // 20 expected; a wide margin, but never 0
            EXPECT_LE(explored, 40);
        }
    }
}

TEST(History, AutoDelayIsThreeRttClamped) {
    History h;
    h.record_success("", ep("[2001:db8::1]:443"), 20ms, TimePoint{});   // 60 ms → clamped to 100
    h.record_success("", ep("192.0.2.1:443"), 150ms, TimePoint{});      // 450 ms
    Config c;
    c.auto_attempt_delay = true;
    c.history = &h;
    Driver d(c);
    ASSERT_TRUE(d.m.start(d.t0, {ep("[2001:db8::1]:443"), ep("192.0.2.1:443"),
                                 ep("[2001:db8::9]:443")}));
    // After attempt 1: 3 x 20 = 60 → 100 ms (min); after attempt 2: 450 ms.
    EXPECT_EQ(d.start_times(), (std::vector<Duration>{0ms, 100ms, 550ms}));
}

TEST(History, AutoDelayWithoutHistoryIs250ms) {
    Config c;
    c.auto_attempt_delay = true;
    Driver d(c);
    ASSERT_TRUE(d.m.start(d.t0, {ep("[2001:db8::1]:443"), ep("192.0.2.1:443")}));
    EXPECT_EQ(d.start_times(), (std::vector<Duration>{0ms, 250ms}));
}

TEST(History, TheMachineRecordsConnectTimesAndFailures) {
    History h;
    Config c;
    c.history = &h;
    c.network = "wifi-1";
    Driver d(c);
    ASSERT_TRUE(d.m.start(d.t0, {ep("[2001:db8::1]:443"), ep("192.0.2.1:443")}));
    d.connects(d.t0);
    d.m.handle_connect_failed(d.t0 + 3ms, AttemptId(1), ECONNREFUSED);
    d.connects(d.t0 + 3ms);
    d.m.handle_timeout(d.t0 + 10ms);
    d.connects(d.t0 + 10ms);
    d.m.handle_connected(d.t0 + 32ms, AttemptId(2));
    ASSERT_TRUE(h.rtt("wifi-1", ep("192.0.2.1:443")).has_value());
    EXPECT_EQ(*h.rtt("wifi-1", ep("192.0.2.1:443")), 22ms);
    auto v6 = h.lookup("wifi-1", ep("[2001:db8::1]:443"));
    ASSERT_TRUE(v6.has_value());
    EXPECT_EQ(v6->failures, 1u);
    EXPECT_FALSE(h.rtt("", ep("192.0.2.1:443")).has_value()) << "never across networks";
}

TEST(DelaySchedule, MultiplierDoublesEachDelayUpToTheCap) {
    Config c;
    c.attempt_delay = 50ms;
    c.delay_multiplier = 2.0;
    c.max_attempt_delay = 300ms;
    Driver d(c);
    std::vector<Endpoint> eps;
    for (int i = 1; i <= 6; ++i) {
        eps.push_back(Endpoint::v4({192, 0, 2, static_cast<std::uint8_t>(i)}, 443));
    }
    ASSERT_TRUE(d.m.start(d.t0, eps));
    // Delays 50, 100, 200, 300 (capped), 300.
    EXPECT_EQ(d.start_times(), (std::vector<Duration>{0ms, 50ms, 150ms, 350ms, 650ms, 950ms}));
}

TEST(DelaySchedule, InvalidBoundsAreRejected) {
    Config c;
    c.min_attempt_delay = 5ms;
    RaceMachine m(c);
    Status s = m.start(TimePoint{}, {ep("192.0.2.1:443")});
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("min-attempt-delay"), std::string::npos) << s.message();
    Config c2;
    c2.delay_multiplier = 0.5;
    RaceMachine m2(c2);
    EXPECT_FALSE(m2.start(TimePoint{}, {ep("192.0.2.1:443")}));
}

TEST(Nat64, Ipv4LiteralsAreSynthesizedOnlyOnAnIpv6OnlyNetwork) {
    const Pref64 prefix = *Pref64::parse("2001:db8:64::/96");
    {
        Config c;
        c.pref64 = prefix;  // but IPv4 is available: no synthesis
        Driver d(c);
        ASSERT_TRUE(d.m.start(d.t0, {ep("198.51.100.7:443")}));
        EXPECT_EQ(d.connects(d.t0), std::vector<Endpoint>{ep("198.51.100.7:443")});
    }
    {
        Config c;
        c.pref64 = prefix;
        c.ipv4_unavailable = true;
        Driver d(c);
        ASSERT_TRUE(d.m.start(d.t0, {ep("198.51.100.7:443")}));
        EXPECT_EQ(d.connects(d.t0), std::vector<Endpoint>{ep("[2001:db8:64::c633:6407]:443")});
    }
}

TEST(Nat64, UnsynthesizableAddressesAreDroppedAndAllDroppedIsAnError) {
    Config c;
    c.pref64 = well_known_pref64();
    c.ipv4_unavailable = true;
    RaceMachine m(c);
    // Under the Well-Known Prefix, non-global IPv4 (RFC 1918) is never synthesized.
    Status s = m.start(TimePoint{}, {ep("10.0.0.1:443"), ep("127.0.0.1:443")});
    ASSERT_FALSE(s);
    EXPECT_NE(s.message().find("64:ff9b::/96"), std::string::npos) << s.message();
}

TEST(Nat64, SynthesizedAAnswerStillWaitsTheResolutionDelayForAaaa) {
    Config c;
    c.pref64 = *Pref64::parse("2001:db8:64::/96");
    c.ipv4_unavailable = true;
    Driver d(c);
    ASSERT_TRUE(d.m.start_resolving(d.t0));
    d.connects(d.t0);
    d.m.handle_resolved(d.t0 + 5ms, Family::v4, {ep("198.51.100.7:443")});
    EXPECT_TRUE(d.connects(d.t0 + 5ms).empty());
    ASSERT_TRUE(d.m.next_timeout().has_value());
    EXPECT_EQ(*d.m.next_timeout() - d.t0, 55ms);
    d.m.handle_resolved(d.t0 + 20ms, Family::v6, {ep("[2001:db8::1]:443")});
    EXPECT_EQ(d.connects(d.t0 + 20ms), std::vector<Endpoint>{ep("[2001:db8::1]:443")});
}
