// SPDX-License-Identifier: BSL-1.0
// Issue 17 item 9: the Alt-Svc field value (RFC 7838 §3), parsed.
#include <gtest/gtest.h>

#include <string>

#include "eyeballs/alt_svc.hpp"

using namespace eyeballs;

namespace {

TEST(AltSvc, ParsesAlternativesWithParameters) {
    std::string error;
    const auto v = parse_alt_svc("h3=\":443\"; ma=3600, h2=\"alt.example:8443\"; persist=1", &error);
    ASSERT_TRUE(v) << error;
    EXPECT_FALSE(v->clear);
    ASSERT_EQ(v->alternatives.size(), 2u);
    EXPECT_EQ(v->alternatives[0].alpn, "h3");
    EXPECT_EQ(v->alternatives[0].host, "");
    EXPECT_EQ(v->alternatives[0].port, 443);
    EXPECT_EQ(v->alternatives[0].max_age, 3600u);
    EXPECT_EQ(v->alternatives[1].alpn, "h2");
    EXPECT_EQ(v->alternatives[1].host, "alt.example");
    EXPECT_EQ(v->alternatives[1].port, 8443);
    EXPECT_EQ(v->alternatives[1].max_age, 86400u);  // RFC 7838 §3.1 default
    EXPECT_TRUE(v->alternatives[1].persist);
}

TEST(AltSvc, ClearPercentEncodingIpv6AndUnknownParameters) {
    auto v = parse_alt_svc("  clear ");
    ASSERT_TRUE(v);
    EXPECT_TRUE(v->clear);
    v = parse_alt_svc("http%2F1.1=\"[2001:db8::1]:80\"; foo=\"bar;baz\"; ma=99999999999, ,");
    ASSERT_TRUE(v);
    ASSERT_EQ(v->alternatives.size(), 1u);
    EXPECT_EQ(v->alternatives[0].alpn, "http/1.1");
    EXPECT_EQ(v->alternatives[0].host, "2001:db8::1");
    EXPECT_EQ(v->alternatives[0].port, 80);
    EXPECT_EQ(v->alternatives[0].max_age, 4294967295u);  // saturates
    EXPECT_EQ(to_string(v->alternatives[0]), "http%2F1.1=\"[2001:db8::1]:80\"; ma=4294967295");
}

TEST(AltSvc, BadValuesNameWhatAndWhere) {
    const auto bad = [](const char* text) {
        std::string error;
        EXPECT_FALSE(parse_alt_svc(text, &error)) << text;
        return error;
    };
    EXPECT_EQ(bad(""), "no alternative (an empty Alt-Svc value)");
    EXPECT_NE(bad("h3=:443").find("alternative 1: the authority must be a quoted string"),
              std::string::npos);
    EXPECT_NE(bad("h3=\":443\", h2=\":70000\"").find("alternative 2: port 70000 is outside 1-65535"),
              std::string::npos);
    EXPECT_NE(bad("h3=\"host\"").find("has no ':port'"), std::string::npos);
    EXPECT_NE(bad("h3=\":443").find("unterminated quoted string"), std::string::npos);
    EXPECT_NE(bad("h3=\":443\"; ma=soon").find("ma=soon is not a number of seconds"),
              std::string::npos);
    EXPECT_NE(bad("h%2=\":443\"").find("bad percent-encoding"), std::string::npos);
    EXPECT_NE(bad("h3=\"2001:db8::1:443\"").find("needs brackets"), std::string::npos);
    EXPECT_NE(bad("h3=\":443\" h2").find("expected ',' or ';'"), std::string::npos);
}

}  // namespace

#include <cerrno>

#include "eyeballs/race_machine.hpp"

namespace {

TEST(AltSvcRace, ConfigRulesNameTheSetting) {
    eyeballs::Config c;
    c.alt_svc = eyeballs::parse_alt_svc("h2=\":443\"")->alternatives;
    EXPECT_NE(validate(c)->find("alt-svc needs https=on"), std::string::npos);
    c.https = true;
    EXPECT_FALSE(validate(c));
    c.alt_svc[0].port = 0;
    EXPECT_NE(validate(c)->find("alt-svc alternative 1 needs an ALPN id and a port"),
              std::string::npos);
}

TEST(AltSvcRace, AlternativeHostIsAskedAndRacedFirst) {
    using namespace std::chrono_literals;
    eyeballs::Config c;
    c.https = true;
    c.alt_svc = eyeballs::parse_alt_svc("h2=\"alt.example.:8443\", h3=\":443\"")->alternatives;
    eyeballs::RaceMachine m(c);  // quic off: the h3 alternative is left out
    const eyeballs::TimePoint t0{std::chrono::seconds(1)};
    ASSERT_TRUE(m.start_resolving(t0));
    std::vector<eyeballs::Resolve> asked;
    std::vector<eyeballs::Connect> connects;
    auto drain = [&] {
        while (auto a = m.poll_action()) {
            if (auto* r = std::get_if<eyeballs::Resolve>(&*a)) asked.push_back(*r);
            if (auto* o = std::get_if<eyeballs::OpenSocket>(&*a)) m.handle_opened(t0, o->attempt);
            if (auto* k = std::get_if<eyeballs::Connect>(&*a)) connects.push_back(*k);
        }
    };
    drain();
    ASSERT_EQ(asked.size(), 5u);  // HTTPS, AAAA, A of the origin; AAAA, A of alt.example.
    EXPECT_EQ(asked[3].name, "alt.example.");
    EXPECT_EQ(asked[3].family, eyeballs::Family::v6);
    EXPECT_EQ(asked[4].name, "alt.example.");
    ASSERT_EQ(m.services().size(), 1u);
    EXPECT_EQ(m.services()[0].port, 8443);
    m.handle_https(t0, asked[0], nullptr, 0);
    m.handle_resolved(t0, eyeballs::Family::v6,
                      std::vector<eyeballs::Endpoint>{*eyeballs::Endpoint::parse("2001:db8::1", 443)});
    m.handle_resolve_failed(t0, eyeballs::Family::v4);
    m.handle_resolved(t0, asked[3],
                      std::vector<eyeballs::Endpoint>{*eyeballs::Endpoint::parse("2001:db8::a", 0)});
    m.handle_resolve_failed(t0, asked[4]);
    drain();
    ASSERT_EQ(connects.size(), 1u);
    EXPECT_EQ(connects[0].remote, *eyeballs::Endpoint::parse("[2001:db8::a]:8443", 0));
}

}  // namespace
