// SPDX-License-Identifier: BSL-1.0
// Issue 17 item 9: alternative services kept from race to race (RFC 7838 §3,
// §3.1 `ma` and `persist`), eyeballs/alt_svc_cache.hpp.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/overrides.hpp"

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

const AltSvcOrigin origin{"https", "www.example", 443};
const TimePoint t0 = TimePoint{} + 1000h;

AltSvcCache stored(std::string_view field, TimePoint when = t0) {
    AltSvcCache cache;
    std::string error;
    EXPECT_TRUE(cache.store(origin, field, when, &error)) << error;
    return cache;
}

TEST(AltSvcCache, LookupGivesWhatConfigAltSvcTakes) {
    const AltSvcCache cache = stored("h3=\":443\"; ma=3600, h2=\"alt.example:8443\"");
    const auto alts = cache.lookup(origin, t0);
    ASSERT_EQ(alts.size(), 2u);
    EXPECT_EQ(to_string(alts[0]), "h3=\":443\"; ma=3600");
    EXPECT_EQ(to_string(alts[1]), "h2=\"alt.example:8443\"; ma=86400");  // §3.1 default
    Config config;
    config.https = true;
    config.alt_svc = alts;
    EXPECT_EQ(config.alt_svc.size(), 2u);
    // Another origin (port, scheme, host) sees nothing; the host's case does not matter.
    EXPECT_TRUE(cache.lookup({"https", "www.example", 8443}, t0).empty());
    EXPECT_TRUE(cache.lookup({"http", "www.example", 443}, t0).empty());
    EXPECT_TRUE(cache.lookup({"https", "other.example", 443}, t0).empty());
    EXPECT_EQ(cache.lookup({"HTTPS", "WWW.Example", 443}, t0).size(), 2u);
}

TEST(AltSvcCache, FreshUntilMaExactlyThenExpired) {
    AltSvcCache cache = stored("h3=\":443\"; ma=60, h2=\":443\"; ma=120");
    // 1 ns before ma: fresh, with 1 s left (rounded up, never 0).
    auto alts = cache.lookup(origin, t0 + 60s - 1ns);
    ASSERT_EQ(alts.size(), 2u);
    EXPECT_EQ(alts[0].max_age, 1u);
    EXPECT_EQ(alts[1].max_age, 61u);
    // At received + ma exactly: expired (fresh only while the age is below ma).
    alts = cache.lookup(origin, t0 + 60s);
    ASSERT_EQ(alts.size(), 1u);
    EXPECT_EQ(alts[0].alpn, "h2");
    EXPECT_EQ(alts[0].max_age, 60u);
    EXPECT_TRUE(cache.lookup(origin, t0 + 120s).empty());
    // expire() forgets the expired alternatives, then the origin left with none.
    EXPECT_EQ(cache.alternatives(), 2u);
    EXPECT_EQ(cache.expire(t0 + 60s), 1u);
    EXPECT_EQ(cache.alternatives(), 1u);
    EXPECT_EQ(cache.size(), 1u);
    EXPECT_EQ(cache.expire(t0 + 120s), 1u);
    EXPECT_EQ(cache.size(), 0u);
}

TEST(AltSvcCache, MaZeroIsNeverFreshAndHugeMaDoesNotOverflow) {
    AltSvcCache cache = stored("h3=\":443\"; ma=0");
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_TRUE(cache.lookup(origin, t0).empty());
    // ma=2^32-1 near the end of time saturates instead of wrapping.
    const TimePoint late = TimePoint::max() - 1h;
    ASSERT_TRUE(cache.store(origin, "h3=\":443\"; ma=4294967295", late));
    ASSERT_EQ(cache.lookup(origin, late).size(), 1u);
    // Its expiry saturates at the end of representable time, an hour away.
    EXPECT_EQ(cache.lookup(origin, late)[0].max_age, 3600u);
    EXPECT_EQ(cache.lookup(origin, TimePoint::max()).size(), 0u);
}

TEST(AltSvcCache, NewValueReplacesAndClearForgets) {
    AltSvcCache cache = stored("h3=\":443\", h2=\":8443\"");
    // RFC 7838 §3: a new value invalidates and replaces all of the origin's.
    ASSERT_TRUE(cache.store(origin, "h2=\"alt.example:443\"", t0 + 1s));
    auto alts = cache.lookup(origin, t0 + 1s);
    ASSERT_EQ(alts.size(), 1u);
    EXPECT_EQ(alts[0].host, "alt.example");
    // `clear` forgets the origin's alternatives.
    ASSERT_TRUE(cache.store(origin, "clear", t0 + 2s));
    EXPECT_TRUE(cache.lookup(origin, t0 + 2s).empty());
    EXPECT_EQ(cache.size(), 0u);
    // clear(origin) and clear() do the same from the caller's side.
    ASSERT_TRUE(cache.store(origin, "h3=\":443\"", t0));
    ASSERT_TRUE(cache.store({"https", "b.example", 443}, "h3=\":443\"", t0));
    cache.clear(origin);
    EXPECT_TRUE(cache.lookup(origin, t0).empty());
    EXPECT_EQ(cache.size(), 1u);
    cache.clear();
    EXPECT_EQ(cache.size(), 0u);
}

TEST(AltSvcCache, BadFieldChangesNothingAndSaysWhy) {
    AltSvcCache cache = stored("h3=\":443\"");
    std::string error;
    EXPECT_FALSE(cache.store(origin, "h3=\":70000\"", t0, &error));
    EXPECT_NE(error.find("70000"), std::string::npos) << error;
    EXPECT_EQ(cache.lookup(origin, t0).size(), 1u);  // the old value stands
}

TEST(AltSvcCache, NetworkChangeKeepsOnlyPersist) {
    AltSvcCache cache;
    EXPECT_EQ(cache.attach("wifi:home"), 0u);  // the first attach forgets nothing
    ASSERT_TRUE(cache.store(origin, "h3=\":443\"; persist=1, h2=\":443\"", t0));
    ASSERT_TRUE(cache.store({"https", "b.example", 443}, "h2=\":8443\"", t0));
    EXPECT_EQ(cache.attach("wifi:home"), 0u);  // the same network again
    EXPECT_EQ(cache.alternatives(), 3u);
    // RFC 7838 §3.1: on a network change, what lacks persist=1 goes.
    EXPECT_EQ(cache.attach("cell"), 2u);
    ASSERT_TRUE(cache.attached());
    EXPECT_EQ(*cache.attached(), "cell");
    const auto alts = cache.lookup(origin, t0);
    ASSERT_EQ(alts.size(), 1u);
    EXPECT_EQ(alts[0].alpn, "h3");
    EXPECT_TRUE(alts[0].persist);
    EXPECT_EQ(cache.size(), 1u);  // b.example had nothing persistent left
    // persist does not outlive ma.
    EXPECT_TRUE(cache.lookup(origin, t0 + 86400s).empty());
}

TEST(AltSvcCache, BoundedByOriginsEvictingTheOldestStore) {
    AltSvcCache cache(2);
    ASSERT_TRUE(cache.store({"https", "a.example", 443}, "h3=\":443\"", t0));
    ASSERT_TRUE(cache.store({"https", "b.example", 443}, "h3=\":443\"", t0));
    // Storing a again makes b the oldest.
    ASSERT_TRUE(cache.store({"https", "a.example", 443}, "h2=\":443\"", t0));
    ASSERT_TRUE(cache.store({"https", "c.example", 443}, "h3=\":443\"", t0));
    EXPECT_EQ(cache.size(), 2u);
    EXPECT_EQ(cache.lookup({"https", "a.example", 443}, t0).size(), 1u);
    EXPECT_TRUE(cache.lookup({"https", "b.example", 443}, t0).empty());
    EXPECT_EQ(cache.lookup({"https", "c.example", 443}, t0).size(), 1u);
    // Capacity 0 keeps nothing.
    AltSvcCache none(0);
    ASSERT_TRUE(none.store(origin, "h3=\":443\"", t0));
    EXPECT_EQ(none.size(), 0u);
}

TEST(AltSvcCache, AtMostConfigsLimitOfAlternativesPerOrigin) {
    std::string field;
    for (int i = 1; i <= 70; ++i) {
        if (!field.empty()) field += ", ";
        field += "h2=\":" + std::to_string(i) + "\"";
    }
    const AltSvcCache cache = stored(field);
    const auto alts = cache.lookup(origin, t0);
    ASSERT_EQ(alts.size(), AltSvcCache::max_alternatives);
    EXPECT_EQ(alts.front().port, 1);   // the server's first ones are kept
    EXPECT_EQ(alts.back().port, 64);
}

}  // namespace

// ---- alternatives_for_race: the rule every adapter's alt_svc_cache option follows ----

namespace {

Config https_config() {
    Config config;
    config.https = true;
    return config;
}

}  // namespace

TEST(AltSvcForRace, GivesTheHttpsOriginsFreshAlternatives) {
    AltSvcCache cache = stored("h2=\":8443\"; ma=60, h3=\"alt.example:443\"; ma=30");
    const auto alts = alternatives_for_race(cache, "www.example", 443, https_config(), t0 + 1s);
    ASSERT_EQ(alts.size(), 2u);
    EXPECT_EQ(to_string(alts[0]), "h2=\":8443\"; ma=59");
    EXPECT_EQ(to_string(alts[1]), "h3=\"alt.example:443\"; ma=29");
    // The host's case does not matter; what expired is left out.
    ASSERT_EQ(alternatives_for_race(cache, "WWW.Example", 443, https_config(), t0 + 30s).size(),
              1u);
    EXPECT_TRUE(alternatives_for_race(cache, "www.example", 443, https_config(), t0 + 60s).empty());
    // The origin is https://HOST:PORT: another port, or an http origin's entry, is not it.
    EXPECT_TRUE(alternatives_for_race(cache, "www.example", 8443, https_config(), t0).empty());
    AltSvcCache http_only;
    ASSERT_TRUE(http_only.store({"http", "www.example", 443}, "h2=\":8443\"", t0));
    EXPECT_TRUE(alternatives_for_race(http_only, "www.example", 443, https_config(), t0).empty());
}

TEST(AltSvcForRace, OnlyForAnHttpsRace) {
    const AltSvcCache cache = stored("h2=\":8443\"");
    Config plain;  // https off: Config::alt_svc would be refused, and no HTTPS query is added
    EXPECT_TRUE(alternatives_for_race(cache, "www.example", 443, plain, t0).empty());
}

TEST(AltSvcForRace, TheCallersListWins) {
    const AltSvcCache cache = stored("h2=\":8443\"");
    Config config = https_config();
    AltSvc own;
    own.alpn = "h2";
    own.port = 9443;
    config.alt_svc.push_back(own);
    EXPECT_TRUE(alternatives_for_race(cache, "www.example", 443, config, t0).empty());
}

TEST(AltSvcForRace, NotForIpLiteralsEmptyHostsOrPortZero) {
    AltSvcCache cache;
    for (const char* host : {"192.0.2.1", "2001:db8::1", "[2001:db8::1]", "fe80::1%eth0", ""}) {
        ASSERT_TRUE(cache.store({"https", host, 443}, "h2=\":8443\"", t0)) << host;
        EXPECT_TRUE(alternatives_for_race(cache, host, 443, https_config(), t0).empty()) << host;
    }
    ASSERT_TRUE(cache.store({"https", "www.example", 0}, "h2=\":8443\"", t0));
    EXPECT_TRUE(alternatives_for_race(cache, "www.example", 0, https_config(), t0).empty());
    // A name that starts with digits is still a name.
    ASSERT_TRUE(cache.store({"https", "192.0.2.1.example", 443}, "h2=\":8443\"", t0));
    EXPECT_EQ(alternatives_for_race(cache, "192.0.2.1.example", 443, https_config(), t0).size(),
              1u);
}

TEST(AltSvcForRace, AnOverrideThatMatchedWins) {
    const AltSvcCache cache = stored("h2=\":8443\"");
    std::string error;
    const auto redirect = parse_connect_to("www.example:443:cdn.example:443", &error);
    ASSERT_TRUE(redirect) << error;
    const auto pin = parse_resolve_override("www.example:443:192.0.2.7", &error);
    ASSERT_TRUE(pin) << error;
    const auto elsewhere = parse_connect_to("other.example:443:cdn.example:443", &error);
    ASSERT_TRUE(elsewhere) << error;

    OverrideTarget t = apply_overrides({*redirect}, "www.example", 443);
    EXPECT_TRUE(alternatives_for_race(cache, "www.example", 443, https_config(), t0, &t).empty());
    t = apply_overrides({*pin}, "www.example", 443);
    EXPECT_TRUE(alternatives_for_race(cache, "www.example", 443, https_config(), t0, &t).empty());
    // An override for another origin changes nothing here.
    t = apply_overrides({*elsewhere}, "www.example", 443);
    EXPECT_EQ(alternatives_for_race(cache, "www.example", 443, https_config(), t0, &t).size(), 1u);
}
