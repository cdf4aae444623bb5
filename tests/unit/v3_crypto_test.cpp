// SPDX-License-Identifier: BSL-1.0
// Happy Eyeballs v3 §6.3 and ECH (src/v3/crypto.hpp) driven without a
// RaceMachine — when handshakes are held, when a failed HTTPS query abandons
// the race, the downgrade guard, the one-retry bookkeeping — then the
// RaceMachine's handle_ech_retry and CryptoReady at the API.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"
#include "v3/crypto.hpp"
#include "v3/planner.hpp"

using namespace eyeballs;
using namespace eyeballs::detail;
using namespace std::chrono_literals;

namespace {

Config ech_config(EchMode mode, bool dns_protected = false, bool fallback = false) {
    Config c;
    c.https = true;
    c.success = Success::handshake;
    c.ech = mode;
    c.dns_protected = dns_protected;
    c.ech_fallback = fallback;
    return c;
}

// ---- §6.3 pending handshakes ---------------------------------------------------------

TEST(V3Crypto, HandshakesAreHeldWithProtectedDnsOrRequiredEch) {
    EXPECT_FALSE(holds_handshakes(ech_config(EchMode::off, true)));  // no ECH: nothing relied on
    EXPECT_FALSE(holds_handshakes(ech_config(EchMode::opportunistic, false)));  // plain: MAY
    EXPECT_TRUE(holds_handshakes(ech_config(EchMode::opportunistic, true)));    // MUST
    EXPECT_TRUE(holds_handshakes(ech_config(EchMode::required, false)));        // SVCB-reliant
    EXPECT_TRUE(holds_handshakes(ech_config(EchMode::required, true)));
}

TEST(V3Crypto, OnlyARealFailureOverProtectedDnsAbandons) {
    const Config prot = ech_config(EchMode::off, true);
    EXPECT_TRUE(abandons_race(prot, 0, "", DnsError::server_failure));
    EXPECT_TRUE(abandons_race(prot, 0, "", DnsError::timeout));
    EXPECT_TRUE(abandons_race(prot, ETIMEDOUT, "", DnsError::none));
    EXPECT_TRUE(abandons_race(prot, 0, "resolver said no", DnsError::none));
    EXPECT_FALSE(abandons_race(prot, 0, "", DnsError::none));  // "no data"
    EXPECT_FALSE(abandons_race(prot, 0, "", DnsError::nodata));
    EXPECT_FALSE(abandons_race(prot, 3, "NXDOMAIN", DnsError::nxdomain));  // an answer
    EXPECT_FALSE(abandons_race(ech_config(EchMode::off, false), 0, "", DnsError::server_failure));
}

// ---- §5.1 the downgrade guard --------------------------------------------------------

TEST(V3Crypto, GuardAdmitsPlainEndpointsOnlyWhenNothingOffersEchOrFallbackIsOn) {
    const Config off = ech_config(EchMode::off);
    const Config opp = ech_config(EchMode::opportunistic);
    const Config fb = ech_config(EchMode::opportunistic, false, true);
    const Config req = ech_config(EchMode::required);
    // (origin offers ECH, endpoint offers ECH)
    EXPECT_TRUE(ech_admits(off, true, false));
    EXPECT_TRUE(ech_admits(opp, false, false));
    EXPECT_FALSE(ech_admits(opp, true, false));
    EXPECT_TRUE(ech_admits(opp, true, true));
    EXPECT_TRUE(ech_admits(fb, true, false));
    EXPECT_FALSE(ech_admits(req, false, false));
    EXPECT_FALSE(ech_admits(req, true, false));
    EXPECT_TRUE(ech_admits(req, true, true));
}

TEST(V3Crypto, AnyEchLooksAtEveryService) {
    std::deque<Service> s(2);
    EXPECT_FALSE(any_ech(s));
    s[1].ech = std::vector<std::uint8_t>{1};
    EXPECT_TRUE(any_ech(s));
}

// ---- ECH retry bookkeeping -----------------------------------------------------------

TEST(V3Crypto, OneRetryPerEndpointAndTransport) {
    EchState st;
    const Endpoint a = *Endpoint::parse("[2001:db8::1]:443", 443);
    const Endpoint b = *Endpoint::parse("192.0.2.1:443", 443);
    EXPECT_TRUE(st.first_retry(a, Protocol::tcp));
    EXPECT_FALSE(st.first_retry(a, Protocol::tcp));
    EXPECT_TRUE(st.first_retry(a, Protocol::quic));  // another endpoint: QUIC
    EXPECT_TRUE(st.first_retry(b, Protocol::tcp));
    EXPECT_TRUE(st.first_retry(a.with_port(8443), Protocol::tcp));
}

TEST(V3Crypto, HeldAttemptsAreReleasedOnceInOrder) {
    EchState st;
    st.hold(3);
    st.hold(1);
    EXPECT_EQ(st.release(), (std::vector<std::uint32_t>{3, 1}));
    EXPECT_TRUE(st.release().empty());
}

TEST(V3Crypto, RetryServiceCopiesTheServiceWithTheRetryConfigsFirst) {
    // zone: example.com. HTTPS 2 . alpn=h2 ech=AQI=
    Planner p;
    p.names.start();
    std::string error;
    const SvcbRecord r = *parse_svcb_presentation("2 . alpn=h2 ech=AQI=", &error);
    Config c;
    c.https = true;
    const HttpsStep step = p.on_https(0, &r, 1, c);
    ASSERT_EQ(step.services.size(), 1u);
    const std::uint16_t s = step.services[0].index;
    const std::uint16_t retry = p.retry_service(s, {7, 7});
    ASSERT_NE(retry, no_service);
    EXPECT_EQ(p.service(retry).ech, (std::vector<std::uint8_t>{7, 7}));
    EXPECT_EQ(p.service(retry).alpn, p.service(s).alpn);
    EXPECT_EQ(p.service_target(retry), p.service_target(s));
    EXPECT_TRUE(p.rank(retry) < p.rank(s));
}

// ---- at the RaceMachine's API ------------------------------------------------------------

struct Race {
    RaceMachine m;
    TimePoint now{std::chrono::seconds(1)};
    std::vector<Action> actions;
    explicit Race(Config c) : m(std::move(c)) {}
    void drain() {
        while (auto a = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*a)) m.handle_opened(now, o->attempt);
            actions.push_back(*a);
        }
    }
    template <class T>
    std::vector<T> all() const {
        std::vector<T> out;
        for (const Action& a : actions) {
            if (auto* x = std::get_if<T>(&a)) out.push_back(*x);
        }
        return out;
    }
};

// zone: example.com. HTTPS 1 . alpn=h2 ech=AQI=   AAAA 2001:db8::1
void answer_with_ech(Race& r) {
    ASSERT_TRUE(r.m.start_resolving(r.now));
    r.drain();
    std::string error;
    const SvcbRecord rec = *parse_svcb_presentation("1 . alpn=h2 ech=AQI=", &error);
    r.m.handle_https(r.now, Resolve(Family::v6, true), &rec, 1);
    r.m.handle_resolved(r.now, Resolve(Family::v6), {*Endpoint::parse("[2001:db8::1]:443", 443)});
    r.m.handle_resolve_failed(r.now, Resolve(Family::v4));
    r.drain();
}

TEST(V3CryptoRace, CryptoReadyAfterTheConnectCarriesTheEchConfig) {
    Race r(ech_config(EchMode::opportunistic, true));
    answer_with_ech(r);
    const auto connects = r.all<Connect>();
    ASSERT_EQ(connects.size(), 1u);
    EXPECT_TRUE(r.all<CryptoReady>().empty());  // not before the connect
    r.now += 5ms;
    r.m.handle_connected(r.now, connects[0].attempt);
    r.drain();
    const auto ready = r.all<CryptoReady>();
    ASSERT_EQ(ready.size(), 1u);
    EXPECT_EQ(ready[0].attempt, connects[0].attempt);
    ASSERT_NE(ready[0].ech(), nullptr);
    EXPECT_EQ(*ready[0].ech(), (std::vector<std::uint8_t>{1, 2}));
    EXPECT_EQ(to_string(Action{ready[0]}), "crypto-ready #1 ech");
}

TEST(V3CryptoRace, EchRetryRestartsTheEndpointOnceThenRefuses) {
    Race r(ech_config(EchMode::opportunistic));
    answer_with_ech(r);
    const AttemptId first = r.all<Connect>().at(0).attempt;
    r.m.handle_connected(r.now, first);
    r.drain();
    // Not in its handshake, ECH off, empty configs: refused, nothing changes.
    EXPECT_FALSE(r.m.handle_ech_retry(r.now, AttemptId(9), {1}));
    EXPECT_FALSE(r.m.handle_ech_retry(r.now, first, {}));
    r.now += 20ms;
    const Status s = r.m.handle_ech_retry(r.now, first, {5, 6});
    ASSERT_TRUE(s) << s.message();
    r.drain();
    const auto connects = r.all<Connect>();
    ASSERT_EQ(connects.size(), 2u);
    EXPECT_EQ(connects[1].remote, connects[0].remote);
    ASSERT_NE(connects[1].service, nullptr);
    EXPECT_EQ(connects[1].service->ech, (std::vector<std::uint8_t>{5, 6}));
    EXPECT_EQ(r.all<Close>().size(), 1u);  // the rejected attempt's socket
    r.m.handle_connected(r.now, connects[1].attempt);
    r.drain();
    const Status again = r.m.handle_ech_retry(r.now, connects[1].attempt, {7});
    EXPECT_FALSE(again);
    EXPECT_NE(again.message().find("once per endpoint"), std::string::npos) << again.message();
    r.drain();
    EXPECT_EQ(r.all<Connect>().size(), 2u);  // no third attempt
    ASSERT_TRUE(r.m.finished());
    const RaceReport rep = r.m.report();
    ASSERT_EQ(rep.errors.size(), 3u);  // resolve A no data, then the two tls errors
    EXPECT_EQ(rep.errors[2].stage, Stage::tls);
    EXPECT_EQ(rep.errors[2].code, EPROTO);
}

TEST(V3CryptoRace, EchRetryIsRefusedWithEchOff) {
    Config c = ech_config(EchMode::off);
    Race r(c);
    answer_with_ech(r);
    const AttemptId first = r.all<Connect>().at(0).attempt;
    r.m.handle_connected(r.now, first);
    r.drain();
    EXPECT_TRUE(r.all<CryptoReady>().empty());  // ech off: no CryptoReady at all
    EXPECT_FALSE(r.m.handle_ech_retry(r.now, first, {1}));
    EXPECT_FALSE(r.m.finished());
}

TEST(V3CryptoRace, ConfigRulesNameTheSetting) {
    Config c = ech_config(EchMode::opportunistic);
    c.https = false;
    EXPECT_NE(validate(c).value_or("").find("ech needs https=on"), std::string::npos);
    c = ech_config(EchMode::required);
    c.success = Success::connect;
    EXPECT_NE(validate(c).value_or("").find("ech needs success=tls"), std::string::npos);
    c = ech_config(EchMode::required, false, true);
    EXPECT_NE(validate(c).value_or("").find("ech-fallback=on needs ech=opportunistic"),
              std::string::npos);
    c = Config{};
    c.dns_protected = true;
    EXPECT_NE(validate(c).value_or("").find("dns=protected needs https=on"), std::string::npos);
    EXPECT_FALSE(validate(ech_config(EchMode::opportunistic, true, true)).has_value());
}

}  // namespace
