// SPDX-License-Identifier: BSL-1.0
// Endpoint text: RFC 5952 printing (§4, §5), parsing, ordering and hashing.
// Addresses are from the documentation ranges (RFC 3849, RFC 5737).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "eyeballs/endpoint.hpp"

#ifndef _WIN32
#include <arpa/inet.h>
#endif

namespace eyeballs {
namespace {

// Parses an address alone and prints it back in RFC 5952 form.
std::string canon(const char* text) {
    std::string err;
    auto ep = Endpoint::parse_address(text, 0, &err);
    EXPECT_TRUE(ep.has_value()) << text << ": " << err;
    return ep ? ep->address_string() : std::string("<parse error: ") + err + ">";
}

std::string parse_error(std::string_view text) {
    std::string err;
    auto ep = Endpoint::parse(text, 443, &err);
    EXPECT_FALSE(ep.has_value()) << "'" << text << "' parsed as " << ep->to_string();
    return err;
}

Endpoint v6(std::initializer_list<unsigned> fields, std::uint16_t port = 443) {
    std::array<std::uint8_t, 16> b{};
    std::size_t i = 0;
    for (unsigned f : fields) {
        b[2 * i] = static_cast<std::uint8_t>(f >> 8);
        b[2 * i + 1] = static_cast<std::uint8_t>(f & 0xff);
        ++i;
    }
    return Endpoint::v6(b, port);
}

// True when a hex field of an address text has a superfluous leading zero.
bool has_leading_zero_field(const std::string& a) {
    std::size_t start = 0;
    while (start <= a.size()) {
        std::size_t end = a.find(':', start);
        if (end == std::string::npos) end = a.size();
        const std::string field = a.substr(start, end - start);
        if (field.find('.') == std::string::npos && field.size() > 1 && field[0] == '0') return true;
        start = end + 1;
    }
    return false;
}

// ---- Names --------------------------------------------------------------

TEST(Family, NamesAndRecordTypes) {
    EXPECT_STREQ(family_name(Family::v6), "IPv6");
    EXPECT_STREQ(family_name(Family::v4), "IPv4");
    EXPECT_STREQ(record_name(Family::v6), "AAAA");
    EXPECT_STREQ(record_name(Family::v4), "A");
}

// ---- RFC 5952 printing --------------------------------------------------

TEST(Rfc5952, Section4_1_LeadingZerosAreSuppressed) {
    EXPECT_EQ(canon("2001:0db8::0001"), "2001:db8::1");
    EXPECT_EQ(canon("2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001"), "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1");
    EXPECT_EQ(canon("2001:db8:0:0:0:0:0:00a0"), "2001:db8::a0");
}

TEST(Rfc5952, Section4_2_1_ShortenAsMuchAsPossible) {
    EXPECT_EQ(canon("2001:db8:0:0:0:0:2:1"), "2001:db8::2:1");
    EXPECT_EQ(canon("2001:db8::0:1"), "2001:db8::1");
}

TEST(Rfc5952, Section4_2_2_SingleZeroFieldIsNotCompressed) {
    EXPECT_EQ(canon("2001:db8:0:1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
    EXPECT_EQ(canon("2001:db8::1:1:1:1:1"), "2001:db8:0:1:1:1:1:1");
    EXPECT_EQ(canon("1:2:3:4:5:6:7:0"), "1:2:3:4:5:6:7:0");
    EXPECT_EQ(canon("0:2:3:4:5:6:7:8"), "0:2:3:4:5:6:7:8");
}

TEST(Rfc5952, Section4_2_3_LongestRunWinsFirstOnTie) {
    EXPECT_EQ(canon("2001:0:0:1:0:0:0:1"), "2001:0:0:1::1");    // longest
    EXPECT_EQ(canon("2001:db8:0:0:1:0:0:1"), "2001:db8::1:0:0:1");  // tie: first
    EXPECT_EQ(canon("0:0:1:2:3:4:0:0"), "::1:2:3:4:0:0");         // tie at both ends
    EXPECT_EQ(canon("1:0:0:2:0:0:0:0"), "1:0:0:2::");             // longer one last
}

TEST(Rfc5952, Section4_3_LowerCase) {
    EXPECT_EQ(canon("2001:DB8::A"), "2001:db8::a");
    EXPECT_EQ(canon("2001:DB8:ABCD:EF01:2345:6789:ABCD:EF01"), "2001:db8:abcd:ef01:2345:6789:abcd:ef01");
}

TEST(Rfc5952, Section2_VariantsOfOneAddressPrintAlike) {
    // RFC 5952 §2.1-2.3: many spellings of one address.
    for (const char* text : {"2001:db8:0:0:1:0:0:1", "2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1",
                             "2001:db8::0:1:0:0:1", "2001:0db8::1:0:0:1", "2001:db8:0:0:1::1",
                             "2001:db8:0000:0:1::1", "2001:DB8:0:0:1::1"}) {
        EXPECT_EQ(canon(text), "2001:db8::1:0:0:1") << text;
    }
}

TEST(Rfc5952, AllZeroLoopbackAndEnds) {
    EXPECT_EQ(canon("::"), "::");
    EXPECT_EQ(canon("0:0:0:0:0:0:0:0"), "::");
    EXPECT_EQ(canon("::1"), "::1");
    EXPECT_EQ(canon("1::"), "1::");
    EXPECT_EQ(canon("0:0:0:0:1:2:3:4"), "::1:2:3:4");  // leading run
    EXPECT_EQ(canon("2001:db8:1:0:0:0:0:0"), "2001:db8:1::");  // trailing run
    EXPECT_EQ(canon("1:2:3:4:5:6:0:0"), "1:2:3:4:5:6::");  // shortest run that compresses
    EXPECT_EQ(canon("0:0:3:4:5:6:7:8"), "::3:4:5:6:7:8");
    EXPECT_EQ(canon("1:2:3:0:0:6:7:8"), "1:2:3::6:7:8");
    EXPECT_EQ(canon("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
              "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
}

TEST(Rfc5952, Section5_OnlyIpv4MappedUsesDottedQuad) {
    EXPECT_EQ(canon("::ffff:192.0.2.1"), "::ffff:192.0.2.1");
    EXPECT_EQ(canon("::ffff:c000:201"), "::ffff:192.0.2.1");
    EXPECT_EQ(canon("::FFFF:C000:0201"), "::ffff:192.0.2.1");
    EXPECT_EQ(canon("::ffff:0.0.0.0"), "::ffff:0.0.0.0");
    // IPv4-compatible (deprecated): glibc's inet_ntop prints ::192.0.2.1; docs/behaviour.md §5 does not.
    EXPECT_EQ(canon("::192.0.2.1"), "::c000:201");
    EXPECT_EQ(canon("::c000:201"), "::c000:201");
    // SIIT and NAT64 prefixes are not special here.
    EXPECT_EQ(canon("::ffff:0:c000:201"), "::ffff:0:c000:201");
    EXPECT_EQ(canon("64:ff9b::192.0.2.1"), "64:ff9b::c000:201");
    EXPECT_EQ(canon("1:2:3:4:5:6:192.0.2.1"), "1:2:3:4:5:6:c000:201");
}

TEST(Rfc5952, Ipv4MappedIsIpv6) {
    auto mapped = Endpoint::parse_address("::ffff:192.0.2.1", 443);
    ASSERT_TRUE(mapped);
    EXPECT_TRUE(mapped->is_v6());
    EXPECT_FALSE(mapped->is_v4());
    EXPECT_EQ(mapped->family(), Family::v6);
    EXPECT_TRUE(mapped->is_v4_mapped());
    EXPECT_EQ(mapped->to_string(), "[::ffff:192.0.2.1]:443");
    EXPECT_NE(*mapped, *Endpoint::parse_address("192.0.2.1", 443));

    EXPECT_FALSE(Endpoint::parse_address("::c000:201", 443)->is_v4_mapped());
    EXPECT_FALSE(Endpoint::parse_address("::ffff:0:c000:201", 443)->is_v4_mapped());
    EXPECT_FALSE(Endpoint::parse_address("1::ffff:c000:201", 443)->is_v4_mapped());
    EXPECT_FALSE(Endpoint::parse_address("192.0.2.1", 443)->is_v4_mapped());
    // Bytes 10 and 11 must both be 0xff.
    EXPECT_FALSE(v6({0, 0, 0, 0, 0, 0xff, 0xc000, 0x201}).is_v4_mapped());
    EXPECT_FALSE(v6({0, 0, 0, 0, 0, 0xff00, 0xc000, 0x201}).is_v4_mapped());
}

TEST(Rfc5952, FromBytes) {
    EXPECT_EQ(v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}).to_string(), "[2001:db8::1]:443");
    EXPECT_EQ(v6({0x2001, 0xdb8, 0xa, 0xbc, 0xdef, 0x1234, 0xf00d, 0}).address_string(),
              "2001:db8:a:bc:def:1234:f00d:0");
}

// ---- IPv4 ------------------------------------------------------------------

TEST(Endpoint, V4FromBytes) {
    const Endpoint e = Endpoint::v4({192, 0, 2, 1}, 443);
    EXPECT_TRUE(e.is_v4());
    EXPECT_EQ(e.family(), Family::v4);
    EXPECT_EQ(e.port(), 443);
    EXPECT_EQ(e.scope_id(), 0u);
    EXPECT_EQ(e.bytes()[0], 192);
    EXPECT_EQ(e.bytes()[3], 1);
    EXPECT_EQ(e.address_string(), "192.0.2.1");
    EXPECT_EQ(e.to_string(), "192.0.2.1:443");
    EXPECT_EQ(Endpoint::v4({0, 0, 0, 0}, 0).to_string(), "0.0.0.0:0");
    EXPECT_EQ(Endpoint::v4({255, 255, 255, 255}, 65535).to_string(), "255.255.255.255:65535");
}

TEST(Endpoint, WithPort) {
    const Endpoint e = *Endpoint::parse("[2001:db8::1]:443", 0);
    const Endpoint f = e.with_port(8443);
    EXPECT_EQ(f.port(), 8443);
    EXPECT_EQ(f.to_string(), "[2001:db8::1]:8443");
    EXPECT_EQ(f.with_port(443), e);
}

TEST(Endpoint, V6KeepsScopeIdAndPrintsItAsTheZone) {
    std::array<std::uint8_t, 16> b{};
    b[0] = 0xfe;
    b[1] = 0x80;
    b[15] = 1;
    const Endpoint e = Endpoint::v6(b, 443, 7);
    EXPECT_EQ(e.scope_id(), 7u);
    EXPECT_EQ(e.to_string(), "[fe80::1%7]:443");  // RFC 4007 §11
    EXPECT_NE(e, Endpoint::v6(b, 443));
}

// ---- Parsing ---------------------------------------------------------------

TEST(Parse, AcceptedForms) {
    auto a = Endpoint::parse("2001:db8::1", 443);
    ASSERT_TRUE(a);
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->port(), 443);
    EXPECT_EQ(a->to_string(), "[2001:db8::1]:443");

    auto b = Endpoint::parse("192.0.2.1", 80);
    ASSERT_TRUE(b);
    EXPECT_TRUE(b->is_v4());
    EXPECT_EQ(b->to_string(), "192.0.2.1:80");

    auto c = Endpoint::parse("[2001:db8::1]:8443", 80);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->port(), 8443);
    EXPECT_EQ(c->address_string(), "2001:db8::1");

    auto d = Endpoint::parse("192.0.2.1:8080", 80);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->port(), 8080);
    EXPECT_EQ(d->address_string(), "192.0.2.1");

    auto e = Endpoint::parse("[2001:db8::1]", 80);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->to_string(), "[2001:db8::1]:80");

    auto f = Endpoint::parse("[::ffff:192.0.2.1]:443", 80);
    ASSERT_TRUE(f);
    EXPECT_TRUE(f->is_v4_mapped());

    EXPECT_EQ(Endpoint::parse("192.0.2.1:0", 80)->port(), 0);
    EXPECT_EQ(Endpoint::parse("192.0.2.1:65535", 80)->port(), 65535);
    EXPECT_EQ(Endpoint::parse("[::1]:00443", 80)->port(), 443);
}

TEST(Parse, Ipv6WithoutBracketsHasNoPort) {
    // The last field is part of the address, never a port.
    auto e = Endpoint::parse("2001:db8::1:443", 80);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->port(), 80);
    EXPECT_EQ(e->address_string(), "2001:db8::1:443");
}

TEST(Parse, ParseAddressTakesTheAddressAlone) {
    auto e = Endpoint::parse_address("198.51.100.7", 53);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->to_string(), "198.51.100.7:53");
    EXPECT_FALSE(Endpoint::parse_address("[2001:db8::1]", 53));
    EXPECT_FALSE(Endpoint::parse_address("192.0.2.1:443", 53));
    EXPECT_FALSE(Endpoint::parse_address("", 53));
}

// RFC 4007 §11: <address>%<zone>; the zone is held as the interface index.
TEST(Zone, NumericZonesParseAndPrint) {
    std::string err;
    auto a = Endpoint::parse("fe80::1%2", 443, &err);
    ASSERT_TRUE(a) << err;
    EXPECT_EQ(a->scope_id(), 2u);
    EXPECT_EQ(a->port(), 443);
    EXPECT_EQ(a->address_string(), "fe80::1%2");
    EXPECT_EQ(a->to_string(), "[fe80::1%2]:443");
    auto b = Endpoint::parse("[fe80::1%2]:8443", 443, &err);
    ASSERT_TRUE(b) << err;
    EXPECT_EQ(b->to_string(), "[fe80::1%2]:8443");
    auto c = Endpoint::parse_address("FE80:0:0::A%4294967295", 1, &err);
    ASSERT_TRUE(c) << err;
    EXPECT_EQ(c->to_string(), "[fe80::a%4294967295]:1");
    // The zone is part of the value: the same address on another link differs.
    EXPECT_NE(*a, *Endpoint::parse("fe80::1%3", 443));
    EXPECT_NE(*a, *Endpoint::parse("fe80::1", 443));
    // %0 is RFC 4007 §6's default zone: no zone.
    EXPECT_EQ(Endpoint::parse("fe80::1%0", 443)->to_string(), "[fe80::1]:443");
    // Round trip.
    EXPECT_EQ(*Endpoint::parse(a->to_string(), 0), *a);
    // Multicast of link scope takes a zone too.
    EXPECT_EQ(Endpoint::parse("[ff02::1%7]:9", 0)->scope_id(), 7u);
}

TEST(Zone, NamesNeedALookup) {
    const std::string err = parse_error("fe80::1%eth0");
    EXPECT_NE(err.find("interface name"), std::string::npos) << err;
    EXPECT_NE(err.find("'fe80::1%eth0'"), std::string::npos) << err;
    const ZoneLookup table = [](const std::string& name) -> std::optional<std::uint32_t> {
        if (name == "eth0") return 5;
        return std::nullopt;
    };
    std::string e2;
    auto a = Endpoint::parse("[fe80::1%eth0]:443", 80, &e2, table);
    ASSERT_TRUE(a) << e2;
    EXPECT_EQ(a->scope_id(), 5u);
    EXPECT_EQ(a->to_string(), "[fe80::1%5]:443");
    EXPECT_FALSE(Endpoint::parse("fe80::1%wlan9", 80, &e2, table));
    EXPECT_EQ(e2, "no interface named 'wlan9' for the zone of 'fe80::1%wlan9'");
}

TEST(Zone, BadZonesAreRefusedWithAReason) {
    EXPECT_NE(parse_error("fe80::1%").find("empty zone"), std::string::npos);
    EXPECT_NE(parse_error("[fe80::1%]:443").find("empty zone"), std::string::npos);
    EXPECT_NE(parse_error("fe80::1%4294967296").find("too large"), std::string::npos);
    EXPECT_NE(parse_error("192.0.2.1%2").find("IPv6 address only"), std::string::npos);
    // A global address has no zone (RFC 4007 §6).
    const std::string g = parse_error("2001:db8::1%2");
    EXPECT_NE(g.find("link-local"), std::string::npos) << g;
    EXPECT_NE(parse_error("fe80::g%2").find("bad IPv6 address 'fe80::g'"), std::string::npos);
    EXPECT_NE(parse_error("fe80::1%a b").find("bad zone"), std::string::npos);
}

TEST(Parse, BadPorts) {
    EXPECT_EQ(parse_error("192.0.2.1:44a"), "bad port '44a' in '192.0.2.1:44a' (expected 0 … 65535)");
    EXPECT_EQ(parse_error("192.0.2.1:65536"),
              "bad port '65536' in '192.0.2.1:65536' (expected 0 … 65535)");
    EXPECT_NE(parse_error("[2001:db8::1]:99999").find("bad port '99999'"), std::string::npos);
    EXPECT_NE(parse_error("[2001:db8::1]:4294967739").find("bad port"), std::string::npos);
    EXPECT_NE(parse_error("192.0.2.1:-1").find("bad port '-1'"), std::string::npos);
    EXPECT_NE(parse_error("192.0.2.1:+1").find("bad port '+1'"), std::string::npos);
    EXPECT_NE(parse_error("192.0.2.1: 1").find("bad port"), std::string::npos);
    EXPECT_EQ(parse_error("192.0.2.1:"), "missing port after ':' in '192.0.2.1:'");
    EXPECT_EQ(parse_error("[2001:db8::1]:"), "missing port after ':' in '[2001:db8::1]:'");
}

TEST(Parse, BracketErrors) {
    EXPECT_EQ(parse_error("[2001:db8::1"), "missing ']' in '[2001:db8::1'");
    EXPECT_EQ(parse_error("[2001:db8::1]443"), "expected ':PORT' after ']' in '[2001:db8::1]443'");
    EXPECT_NE(parse_error("[192.0.2.1]:443").find("only for IPv6"), std::string::npos);
    EXPECT_NE(parse_error("[]:443").find("'[]:443'"), std::string::npos);
    EXPECT_NE(parse_error("[[::1]]:443").find("'[[::1]]:443'"), std::string::npos);
}

TEST(Parse, BadAddresses) {
    EXPECT_EQ(parse_error(""), "empty address");
    EXPECT_EQ(parse_error("256.0.2.1"), "bad IPv4 address '256.0.2.1'");
    EXPECT_EQ(parse_error("192.0.2"), "bad IPv4 address '192.0.2'");
    EXPECT_EQ(parse_error("example.com"), "bad IPv4 address 'example.com'");
    EXPECT_EQ(parse_error("2001:db8:::1"), "bad IPv6 address '2001:db8:::1'");
    EXPECT_EQ(parse_error("2001:db8::1::2"), "bad IPv6 address '2001:db8::1::2'");
    EXPECT_EQ(parse_error("1:2:3:4:5:6:7:8:9"), "bad IPv6 address '1:2:3:4:5:6:7:8:9'");
    EXPECT_EQ(parse_error("2001:db8::g"), "bad IPv6 address '2001:db8::g'");
    EXPECT_EQ(parse_error("12345::1"), "bad IPv6 address '12345::1'");
    EXPECT_EQ(parse_error(" 192.0.2.1"), "bad IPv4 address ' 192.0.2.1'");
    EXPECT_EQ(parse_error("192.0.2.1 "), "bad IPv4 address '192.0.2.1 '");
    // The address part of a text with a port is named, and so is the whole text.
    EXPECT_EQ(parse_error("192.0.2.300:443"), "bad IPv4 address '192.0.2.300' in '192.0.2.300:443'");
    EXPECT_EQ(parse_error("[2001:db8::x]:443"),
              "bad IPv6 address '2001:db8::x' in '[2001:db8::x]:443'");
    // An embedded NUL must not cut the text short.
    EXPECT_FALSE(Endpoint::parse(std::string_view("192.0.2.1\0junk", 14), 443));
    EXPECT_FALSE(Endpoint::parse_address(std::string_view("::1\0x", 5), 443));
}

TEST(Parse, NoErrorPointerIsFine) {
    EXPECT_FALSE(Endpoint::parse("nope", 443));
    EXPECT_FALSE(Endpoint::parse("[nope", 443));
    EXPECT_FALSE(Endpoint::parse("fe80::1%eth0", 443));
    EXPECT_FALSE(Endpoint::parse_address("nope", 443));
}

TEST(Parse, SuccessLeavesErrorUntouched) {
    std::string err = "unchanged";
    EXPECT_TRUE(Endpoint::parse("[2001:db8::1]:443", 0, &err));
    EXPECT_EQ(err, "unchanged");
}

// ---- Round trip ------------------------------------------------------------

TEST(RoundTrip, ParsePrintParse) {
    std::mt19937 rng(5952);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<int> coin(0, 3);
    for (int n = 0; n < 5000; ++n) {
        std::array<std::uint8_t, 16> b{};
        for (auto& x : b) {
            // Many zero fields, so that every compression case turns up.
            x = coin(rng) == 0 ? static_cast<std::uint8_t>(byte(rng)) : 0;
        }
        if (n % 7 == 0) {  // some IPv4-mapped
            std::fill(b.begin(), b.begin() + 10, 0);
            b[10] = b[11] = 0xff;
        }
        const auto port = static_cast<std::uint16_t>(n * 13);
        const Endpoint e = Endpoint::v6(b, port);
        const std::string text = e.to_string();
        std::string err;
        auto back = Endpoint::parse(text, 0, &err);
        ASSERT_TRUE(back) << text << ": " << err;
        EXPECT_EQ(*back, e) << text;
        EXPECT_EQ(back->to_string(), text);
        // No leading zeros, no upper case, at most one "::".
        const std::string a = e.address_string();
        EXPECT_EQ(a.find("::"), a.rfind("::")) << a;
        EXPECT_FALSE(has_leading_zero_field(a)) << a;
        EXPECT_EQ(a.find_first_of("ABCDEF"), std::string::npos) << a;
    }
    for (int n = 0; n < 1000; ++n) {
        const Endpoint e = Endpoint::v4({static_cast<std::uint8_t>(byte(rng)),
                                         static_cast<std::uint8_t>(byte(rng)),
                                         static_cast<std::uint8_t>(byte(rng)),
                                         static_cast<std::uint8_t>(byte(rng))},
                                        static_cast<std::uint16_t>(n));
        auto back = Endpoint::parse(e.to_string(), 9);
        ASSERT_TRUE(back) << e.to_string();
        EXPECT_EQ(*back, e);
    }
}

// ---- Ordering and hashing --------------------------------------------------

TEST(Ordering, StrictWeakAndConsistentWithEquality) {
    std::vector<Endpoint> eps;
    for (const char* t : {"192.0.2.1:443", "192.0.2.1:80", "192.0.2.2:80", "198.51.100.1:443",
                          "[2001:db8::1]:443", "[2001:db8::1]:80", "[2001:db8::2]:1",
                          "[::ffff:192.0.2.1]:443", "[::]:0", "0.0.0.0:0"}) {
        eps.push_back(*Endpoint::parse(t, 0));
    }
    for (const auto& a : eps) {
        EXPECT_FALSE(a < a);
        for (const auto& b : eps) {
            if (a == b) {
                EXPECT_FALSE(a < b);
            } else {
                EXPECT_NE(a < b, b < a) << a.to_string() << " vs " << b.to_string();
            }
            for (const auto& c : eps) {
                if (a < b && b < c) {
                    EXPECT_TRUE(a < c);
                }
            }
        }
    }
    std::set<Endpoint> set(eps.begin(), eps.end());
    EXPECT_EQ(set.size(), eps.size());
    set.insert(*Endpoint::parse("192.0.2.1:443", 0));
    EXPECT_EQ(set.size(), eps.size());
    // Same address: ordered by port.
    EXPECT_TRUE(*Endpoint::parse("192.0.2.1:80", 0) < *Endpoint::parse("192.0.2.1:443", 0));
    EXPECT_TRUE(*Endpoint::parse("192.0.2.1:443", 0) < *Endpoint::parse("192.0.2.2:1", 0));
}

TEST(Hashing, EqualEndpointsHashEqual) {
    std::hash<Endpoint> h;
    const Endpoint a = *Endpoint::parse("[2001:db8::1]:443", 0);
    const Endpoint b = *Endpoint::parse("[2001:0db8:0:0::1]:443", 0);
    EXPECT_EQ(a, b);
    EXPECT_EQ(h(a), h(b));
    EXPECT_NE(h(a), h(a.with_port(444)));
    EXPECT_NE(h(a), h(*Endpoint::parse("[2001:db8::2]:443", 0)));

    std::unordered_set<Endpoint> set;
    for (int i = 0; i < 256; ++i) {
        set.insert(Endpoint::v4({192, 0, 2, static_cast<std::uint8_t>(i)}, 443));
        set.insert(Endpoint::v4({192, 0, 2, static_cast<std::uint8_t>(i)}, 443));
    }
    EXPECT_EQ(set.size(), 256u);
    EXPECT_EQ(set.count(*Endpoint::parse("192.0.2.77:443", 0)), 1u);
    EXPECT_EQ(set.count(*Endpoint::parse("192.0.2.77:444", 0)), 0u);
}

TEST(Equality, SameAddressAnySpelling) {
    EXPECT_EQ(*Endpoint::parse("[2001:DB8::A]:443", 0), *Endpoint::parse("2001:db8:0:0:0:0:0:a", 443));
    EXPECT_NE(*Endpoint::parse("[2001:db8::a]:443", 0), *Endpoint::parse("[2001:db8::a]:444", 0));
    EXPECT_EQ(Endpoint(), Endpoint::v4({0, 0, 0, 0}, 0));
}

#ifndef _WIN32
// The parser is written out so every platform takes the same texts; on POSIX
// systems it must agree with the C library's inet_pton, accept or refuse, byte
// for byte (the reading glibc gives, which the goldens were made with).
TEST(EndpointParse, AgreesWithInetPton) {
    const char* texts[] = {
        "0.0.0.0", "255.255.255.255", "192.0.2.1", "192.0.2.01", "192.0.2.0", "00.1.2.3",
        "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "256.1.1.1", "1.2.3.4a",
        "0x1.2.3.4", "1.2.3.-4", "999.1.1.1", "1.2.3.255", "01.02.03.04",
        "::", "::1", "1::", "1:", ":1", ":::", "1:::2", "1::2::3", "::ffff:192.0.2.1",
        "::192.0.2.1", "1:2:3:4:5:6:192.0.2.1", "1:2:3:4:5:6:7:192.0.2.1",
        "1:2:3:4:5::192.0.2.1", "::1.2.3", "::1.2.3.04", "1:2:3:4:5:6:7:8",
        "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4::5:6:7:8",
        "2001:DB8::A", "2001:db8::12345", "2001:db8::g", "00000::1", "0000::1", "fe80::1:",
        "1.2.3.4::", "::1.2.3.4:5", "1:2:3:4:5:6:7:8:", ":1:2:3:4:5:6:7:8", "::ffff:1.2.3.4.5",
        "2001:db8:0:0:0:0:2:1", "2001:0db8::0001", "a:b:c:d:e:f:1.2.3.4", "::1.2.3.4x",
    };
    for (const char* text : texts) {
        const std::string t(text);
        std::array<std::uint8_t, 16> want{};
        const bool v6 = t.find(':') != std::string::npos;
        const bool ok = inet_pton(v6 ? AF_INET6 : AF_INET, text, want.data()) == 1;
        const auto got = Endpoint::parse_address(t, 443);
        ASSERT_EQ(got.has_value(), ok) << text;
        if (!ok) continue;
        EXPECT_EQ(got->is_v6(), v6) << text;
        for (std::size_t i = 0; i < (v6 ? 16u : 4u); ++i) {
            EXPECT_EQ(got->bytes()[i], want[i]) << text << " byte " << i;
        }
    }
}
#endif

}  // namespace
}  // namespace eyeballs
