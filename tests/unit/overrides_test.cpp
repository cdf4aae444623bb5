// SPDX-License-Identifier: BSL-1.0
// Resolve overrides: curl's --resolve (pin) and --connect-to (redirect),
// matched in one place (eyeballs/overrides.hpp).
#include <gtest/gtest.h>

#include "eyeballs/overrides.hpp"

namespace eyeballs {
namespace {

ResolveOverride R(const char* text) {
    std::string err;
    auto o = parse_resolve_override(text, &err);
    EXPECT_TRUE(o) << text << ": " << err;
    return o.value_or(ResolveOverride{});
}

ResolveOverride C(const char* text) {
    std::string err;
    auto o = parse_connect_to(text, &err);
    EXPECT_TRUE(o) << text << ": " << err;
    return o.value_or(ResolveOverride{});
}

TEST(Overrides, PinMatchesHostWithoutCaseAndPort) {
    const std::vector<ResolveOverride> o{R("Example.COM:443:[2001:db8::1],192.0.2.1")};
    OverrideTarget t = apply_overrides(o, "example.com", 443);
    ASSERT_EQ(t.addresses.size(), 2u);
    EXPECT_EQ(t.addresses[0].to_string(), "[2001:db8::1]:443");
    EXPECT_EQ(t.addresses[1].to_string(), "192.0.2.1:443");
    EXPECT_TRUE(apply_overrides(o, "example.com", 80).addresses.empty());
    EXPECT_TRUE(apply_overrides(o, "example.net", 443).addresses.empty());
}

TEST(Overrides, ConnectToRedirectsThenPinsApplyToTheNewTarget) {
    const std::vector<ResolveOverride> o{C("example.com:443:backend.test:8443"),
                                         R("backend.test:8443:192.0.2.9")};
    OverrideTarget t = apply_overrides(o, "EXAMPLE.com", 443);
    EXPECT_EQ(t.host, "backend.test");
    EXPECT_EQ(t.port, 8443);
    ASSERT_EQ(t.addresses.size(), 1u);
    EXPECT_EQ(t.addresses[0].to_string(), "192.0.2.9:8443");
}

TEST(Overrides, EmptyConnectToFieldsMeanAnyAndSame) {
    // curl: an empty HOST1/PORT1 matches any; an empty HOST2/PORT2 keeps it.
    OverrideTarget a = apply_overrides({C("::other.test:")}, "x.test", 80);
    EXPECT_EQ(a.host, "other.test");
    EXPECT_EQ(a.port, 80);
    OverrideTarget b = apply_overrides({C("x.test:::9090")}, "x.test", 80);
    EXPECT_EQ(b.host, "x.test");
    EXPECT_EQ(b.port, 9090);
    OverrideTarget c = apply_overrides({C("y.test:80:z.test:81")}, "x.test", 80);
    EXPECT_EQ(c.host, "x.test");  // no match: unchanged
    EXPECT_EQ(c.port, 80);
    // The first match wins, and redirects do not chain.
    OverrideTarget d = apply_overrides({C("x.test:80:a.test:1"), C("a.test:1:b.test:2")}, "x.test", 80);
    EXPECT_EQ(d.host, "a.test");
    EXPECT_EQ(d.port, 1);
    // A bracketed IPv6 literal as HOST2.
    EXPECT_EQ(apply_overrides({C("x.test:80:[::1]:81")}, "x.test", 80).host, "::1");
}

TEST(Overrides, BadTextSaysWhatIsWrong) {
    std::string err;
    EXPECT_FALSE(parse_resolve_override("host:443", &err));
    EXPECT_NE(err.find("PORT"), std::string::npos) << err;
    EXPECT_FALSE(parse_resolve_override(":443:192.0.2.1", &err));
    EXPECT_NE(err.find("no HOST"), std::string::npos) << err;
    EXPECT_FALSE(parse_resolve_override("h:443:192.0.2.300", &err));
    EXPECT_NE(err.find("bad IPv4 address"), std::string::npos) << err;
    EXPECT_FALSE(parse_connect_to("a:1:b", &err));
    EXPECT_NE(err.find("HOST1:PORT1:HOST2:PORT2"), std::string::npos) << err;
    EXPECT_FALSE(parse_connect_to("a:99999:b:1", &err));
    EXPECT_NE(err.find("bad port"), std::string::npos) << err;
    // A zone needs a lookup for a name; numeric zones parse.
    EXPECT_FALSE(parse_resolve_override("h:80:fe80::1%eth0", &err));
    EXPECT_EQ(R("h:80:fe80::1%3").addresses.at(0).to_string(), "[fe80::1%3]:80");
}

}  // namespace
}  // namespace eyeballs
