// SPDX-License-Identifier: BSL-1.0
// Happy Eyeballs v3 §4.3/§4.4 and RFC 8767: DNS answers kept from race to
// race, fresh within their TTL, stale up to max_stale past it
// (eyeballs/dns_cache.hpp).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "eyeballs/dns_cache.hpp"

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

const TimePoint t0 = TimePoint{} + 1000h;

Endpoint ep(const char* text, std::uint16_t port = 443) {
    return *Endpoint::parse_address(text, port);
}

SvcbRecord record(const char* text) { return *parse_svcb_presentation(text); }

using State = DnsCache::State;
using Type = DnsCache::Type;

TEST(DnsCache, FreshUntilTheTtlThenStaleUntilMaxStaleThenMissing) {
    DnsCache cache(16, 10min);
    cache.store("www.example", Family::v6, {ep("2001:db8::1"), ep("2001:db8::2")}, 60, t0);
    auto a = cache.lookup("www.example", Type::aaaa, t0 + 60s - 1ns);
    EXPECT_EQ(a.state, State::fresh);
    ASSERT_EQ(a.addresses.size(), 2u);
    EXPECT_EQ(a.addresses[0], ep("2001:db8::1", 0));  // ports are not kept
    EXPECT_EQ(a.expires, t0 + 60s);
    // At received + TTL exactly the answer is stale (RFC 1035: valid for TTL seconds).
    a = cache.lookup("www.example", Type::aaaa, t0 + 60s);
    EXPECT_EQ(a.state, State::stale);
    EXPECT_EQ(a.addresses.size(), 2u);
    EXPECT_EQ(cache.lookup("www.example", Type::aaaa, t0 + 60s + 10min - 1ns).state, State::stale);
    // max_stale past the TTL: no longer served.
    a = cache.lookup("www.example", Type::aaaa, t0 + 60s + 10min);
    EXPECT_EQ(a.state, State::missing);
    EXPECT_TRUE(a.addresses.empty());
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.expire(t0 + 60s + 10min - 1ns), 0u);
    EXPECT_EQ(cache.expire(t0 + 60s + 10min), 1u);
    EXPECT_EQ(cache.size(), 0u);
}

// The rule every adapter and the C API use for a race's question.
TEST(DnsCache, LookupForRaceServesStaleOnlyToHttpsRaces) {
    DnsCache cache(16, 10min);
    cache.store("www.example", Family::v6, {ep("2001:db8::1")}, 60, t0);
    cache.store_https("www.example", {record("1 . alpn=h2")}, 60, t0);
    const Resolve aaaa(Family::v6);
    const Resolve https(Family::v6, true);
    for (const bool https_race : {false, true}) {
        EXPECT_EQ(cache.lookup_for_race("www.example", aaaa, https_race, t0).state, State::fresh);
        EXPECT_EQ(cache.lookup_for_race("www.example", https, https_race, t0).state, State::fresh);
        // Past the TTL: an RFC 8305 race takes one answer per question, so no stale one.
        EXPECT_EQ(cache.lookup_for_race("www.example", aaaa, https_race, t0 + 60s).state,
                  https_race ? State::stale : State::missing);
        // A stale HTTPS answer is raced too (RaceMachine::handle_stale_https),
        // with its records, in an HTTPS race only.
        const auto h = cache.lookup_for_race("www.example", https, https_race, t0 + 60s);
        EXPECT_EQ(h.state, https_race ? State::stale : State::missing);
        EXPECT_EQ(h.records.size(), https_race ? 1u : 0u);
    }
    EXPECT_EQ(cache.lookup_for_race("www.example", Resolve(Family::v4), true, t0).state,
              State::missing);
}

TEST(DnsCache, RecordFailureForgetsOnlyOnNoDataOrNxdomain) {
    DnsCache cache(16, 10min);
    for (const DnsError e : {DnsError::server_failure, DnsError::timeout, DnsError::malformed,
                             DnsError::truncated, DnsError::none}) {
        cache.store("www.example", Family::v4, {ep("192.0.2.1")}, 60, t0);
        cache.record_failure("www.example", Type::a, e);
        EXPECT_EQ(cache.lookup("www.example", Type::a, t0 + 61s).state, State::stale)
            << static_cast<int>(e);
    }
    for (const DnsError e : {DnsError::nodata, DnsError::nxdomain}) {
        cache.store("www.example", Family::v4, {ep("192.0.2.1")}, 60, t0);
        cache.record_failure("www.example", Type::aaaa, e);  // another type: kept
        EXPECT_EQ(cache.size(), 1u);
        cache.record_failure("www.example", Type::a, e);
        EXPECT_EQ(cache.size(), 0u) << static_cast<int>(e);
    }
}

TEST(DnsCache, DefaultMaxStaleIsOneDayAndZeroTurnsStaleOff) {
    EXPECT_EQ(DnsCache::default_max_stale, 24h);  // RFC 8767 §4: 1-3 days suggested
    DnsCache cache;
    cache.store("www.example", Family::v4, {ep("192.0.2.1")}, 30, t0);
    EXPECT_EQ(cache.lookup("www.example", Type::a, t0 + 30s + 24h - 1ns).state, State::stale);
    EXPECT_EQ(cache.lookup("www.example", Type::a, t0 + 30s + 24h).state, State::missing);
    DnsCache no_stale(16, Duration::zero());
    no_stale.store("www.example", Family::v4, {ep("192.0.2.1")}, 30, t0);
    EXPECT_EQ(no_stale.lookup("www.example", Type::a, t0 + 30s - 1ns).state, State::fresh);
    EXPECT_EQ(no_stale.lookup("www.example", Type::a, t0 + 30s).state, State::missing);
    EXPECT_EQ(DnsCache(16, -1s).max_stale(), Duration::zero());
}

TEST(DnsCache, KeyedByNameAndTypeWithoutCaseOrTrailingDot) {
    DnsCache cache;
    cache.store("WWW.Example.", Family::v6, {ep("2001:db8::1")}, 60, t0);
    cache.store("www.example", Family::v4, {ep("192.0.2.1"), ep("2001:db8::9")}, 60, t0);
    cache.store_https("_8443._https.www.example", {record("1 . alpn=h3 port=8443")}, 300, t0);
    auto a = cache.lookup("www.example", Type::aaaa, t0);
    ASSERT_EQ(a.addresses.size(), 1u);
    EXPECT_EQ(a.addresses[0], ep("2001:db8::1", 0));
    a = cache.lookup("www.example.", Type::a, t0);
    ASSERT_EQ(a.addresses.size(), 1u);  // the other family is left out
    EXPECT_EQ(a.addresses[0], ep("192.0.2.1", 0));
    // The port-prefixed HTTPS name is its own question (RFC 9460 §9.1).
    EXPECT_EQ(cache.lookup("www.example", Type::https, t0).state, State::missing);
    a = cache.lookup("_8443._HTTPS.www.example", Type::https, t0);
    EXPECT_EQ(a.state, State::fresh);
    ASSERT_EQ(a.records.size(), 1u);
    EXPECT_EQ(a.records[0], record("1 . alpn=h3 port=8443"));
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_EQ(DnsCache::type_of(Resolve(Family::v6)), Type::aaaa);
    EXPECT_EQ(DnsCache::type_of(Resolve(Family::v4)), Type::a);
    EXPECT_EQ(DnsCache::type_of(Resolve(Family::v6, true)), Type::https);
}

TEST(DnsCache, NewAnswerReplacesEmptyOrTtlZeroForgets) {
    DnsCache cache;
    cache.store("www.example", Family::v6, {ep("2001:db8::1")}, 60, t0);
    cache.store("www.example", Family::v6, {ep("2001:db8::2")}, 120, t0 + 100s);
    auto a = cache.lookup("www.example", Type::aaaa, t0 + 100s);
    EXPECT_EQ(a.state, State::fresh);
    ASSERT_EQ(a.addresses.size(), 1u);
    EXPECT_EQ(a.addresses[0], ep("2001:db8::2", 0));
    EXPECT_EQ(a.expires, t0 + 220s);
    cache.store("www.example", Family::v6, {}, 60, t0 + 101s);  // NODATA now
    EXPECT_EQ(cache.lookup("www.example", Type::aaaa, t0 + 101s).state, State::missing);
    cache.store("www.example", Family::v4, {ep("192.0.2.1")}, 0, t0);  // RFC 1035: not cached
    EXPECT_EQ(cache.lookup("www.example", Type::a, t0).state, State::missing);
    cache.store_https("www.example", {record("1 . alpn=h2")}, 60, t0);
    cache.store_https("www.example", {}, 60, t0);
    EXPECT_EQ(cache.size(), 0u);
    cache.store("www.example", Family::v4, {ep("192.0.2.1")}, 60, t0);
    cache.forget("www.example", Type::aaaa);  // another type: untouched
    EXPECT_EQ(cache.size(), 1u);
    cache.forget("WWW.example", Type::a);
    EXPECT_EQ(cache.size(), 0u);
    cache.store("www.example", Family::v4, {ep("192.0.2.1")}, 60, t0);
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
}

TEST(DnsCache, BoundedEvictingTheOldestStoreAndTtlNearTheEndOfTime) {
    DnsCache cache(2);
    cache.store("a.example", Family::v4, {ep("192.0.2.1")}, 60, t0);
    cache.store("b.example", Family::v4, {ep("192.0.2.2")}, 60, t0);
    cache.store("a.example", Family::v4, {ep("192.0.2.3")}, 60, t0);  // b is now the oldest
    cache.store("c.example", Family::v4, {ep("192.0.2.4")}, 60, t0);
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.lookup("a.example", Type::a, t0).state, State::fresh);
    EXPECT_EQ(cache.lookup("b.example", Type::a, t0).state, State::missing);
    EXPECT_EQ(cache.lookup("c.example", Type::a, t0).state, State::fresh);
    DnsCache none(0);
    none.store("a.example", Family::v4, {ep("192.0.2.1")}, 60, t0);
    EXPECT_EQ(none.size(), 0u);
    // A TTL of 2^32-1 s near TimePoint::max() saturates, it does not wrap.
    DnsCache late;
    late.store("a.example", Family::v4, {ep("192.0.2.1")}, 0xFFFFFFFFu, TimePoint::max() - 1h);
    EXPECT_EQ(late.lookup("a.example", Type::a, TimePoint::max() - 1ns).state, State::fresh);
    EXPECT_EQ(late.expire(TimePoint::max() - 1ns), 0u);
}

}  // namespace
