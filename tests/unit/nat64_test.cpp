// SPDX-License-Identifier: BSL-1.0
// NAT64: RFC 6052 §2.2 address format (the §2.4 examples for all six prefix
// lengths), the addresses never synthesized, §3.1's Well-Known Prefix rule,
// round trips for every length, PREF64 text, and RFC 7050 §3 discovery.
//
// Addresses are the RFCs' own documentation addresses, except where a test is
// about global IPv4 addresses, which no documentation range is.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eyeballs/nat64.hpp"

namespace eyeballs {
namespace {

Endpoint A(const char* text, std::uint16_t port = 443) {
    std::string err;
    auto ep = Endpoint::parse_address(text, port, &err);
    EXPECT_TRUE(ep.has_value()) << text << ": " << err;
    return ep.value_or(Endpoint{});
}

Pref64 P(const char* text) {
    std::string err;
    auto p = Pref64::parse(text, &err);
    EXPECT_TRUE(p.has_value()) << text << ": " << err;
    return p.value_or(Pref64{});
}

std::string parse_error(const char* text) {
    std::string err;
    auto p = Pref64::parse(text, &err);
    EXPECT_FALSE(p.has_value()) << text << " parsed as " << p->to_string();
    return err;
}

// ---- RFC 6052 §2.4: the examples table ----------------------------------------

TEST(Rfc6052, Section2_4_ExamplesForEveryPrefixLength) {
    // "Table 1: Text Representation of IPv4-Embedded IPv6 Addresses Using
    // Network-Specific Prefixes"
    struct Row {
        const char* prefix;
        const char* embedded;
    };
    const Row table[] = {
        {"2001:db8::/32", "2001:db8:c000:221::"},
        {"2001:db8:100::/40", "2001:db8:1c0:2:21::"},
        {"2001:db8:122::/48", "2001:db8:122:c000:2:2100::"},
        {"2001:db8:122:300::/56", "2001:db8:122:3c0:0:221::"},
        {"2001:db8:122:344::/64", "2001:db8:122:344:c0:2:2100:0"},
        {"2001:db8:122:344::/96", "2001:db8:122:344::192.0.2.33"},
    };
    const Endpoint v4 = A("192.0.2.33", 443);
    for (const auto& row : table) {
        SCOPED_TRACE(row.prefix);
        const auto six = synthesize(v4, P(row.prefix));
        ASSERT_TRUE(six.has_value());
        EXPECT_EQ(*six, A(row.embedded, 443));
        EXPECT_EQ(six->port(), 443);
        EXPECT_EQ(extract_v4(A(row.embedded, 8080), P(row.prefix)), A("192.0.2.33", 8080));
    }
}

TEST(Rfc6052, Section2_4_WellKnownPrefixTextReadsBack) {
    // §2.4's Well-Known Prefix example 64:ff9b::192.0.2.33 still reads back;
    // only synthesis refuses it, because 192.0.2.33 is not global (§3.1).
    EXPECT_EQ(extract_v4(A("64:ff9b::192.0.2.33"), well_known_pref64()), A("192.0.2.33"));
    EXPECT_EQ(synthesize(A("192.0.2.33"), well_known_pref64()), std::nullopt);
}

// ---- What is never synthesized, and the Well-Known Prefix rule -------------

TEST(Rfc6052, NeverSynthesizedUnderAnyPrefix) {
    const Pref64 nsp = P("2001:db8:122:344::/96");
    for (const char* text : {"0.0.0.0", "0.255.255.255", "127.0.0.1", "127.255.255.254",
                             "169.254.0.1", "169.254.255.255", "255.255.255.255"}) {
        SCOPED_TRACE(text);
        EXPECT_TRUE(never_synthesized(A(text)));
        EXPECT_EQ(synthesize(A(text), nsp), std::nullopt);
        EXPECT_EQ(synthesize(A(text), well_known_pref64()), std::nullopt);
    }
    // Their neighbours are synthesized under a network-specific prefix.
    for (const char* text : {"1.0.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255",
                             "169.255.0.0", "255.255.255.254", "10.1.2.3", "192.168.1.1"}) {
        SCOPED_TRACE(text);
        EXPECT_FALSE(never_synthesized(A(text)));
        EXPECT_TRUE(synthesize(A(text), nsp).has_value());
    }
}

// RFC 6052 §3.1: "The Well-Known Prefix MUST NOT be used to represent
// non-global IPv4 addresses, such as those defined in [RFC1918] or listed in
// Section 3 of [RFC5735]." Each block's first and last address, and the
// addresses just outside it.
TEST(Rfc6052, Section3_1_NonGlobalBlocksAndTheirEdges) {
    struct Block {
        const char* first;
        const char* last;
        const char* before;
        const char* after;
    };
    const Block blocks[] = {
        {"10.0.0.0", "10.255.255.255", "9.255.255.255", "11.0.0.0"},            // RFC 1918
        {"100.64.0.0", "100.127.255.255", "100.63.255.255", "100.128.0.0"},     // RFC 6598
        {"172.16.0.0", "172.31.255.255", "172.15.255.255", "172.32.0.0"},       // RFC 1918
        {"192.0.0.0", "192.0.0.255", "191.255.255.255", "192.0.1.0"},           // RFC 5736
        {"192.0.2.0", "192.0.2.255", "192.0.1.255", "192.0.3.0"},               // RFC 5737
        {"192.88.99.0", "192.88.99.255", "192.88.98.255", "192.88.100.0"},      // RFC 3068
        {"192.168.0.0", "192.168.255.255", "192.167.255.255", "192.169.0.0"},   // RFC 1918
        {"198.18.0.0", "198.19.255.255", "198.17.255.255", "198.20.0.0"},       // RFC 2544
        {"198.51.100.0", "198.51.100.255", "198.51.99.255", "198.51.101.0"},    // RFC 5737
        {"203.0.113.0", "203.0.113.255", "203.0.112.255", "203.0.114.0"},       // RFC 5737
        {"224.0.0.0", "239.255.255.255", "223.255.255.255", nullptr},           // RFC 3171
        {"240.0.0.0", "255.255.255.254", nullptr, nullptr},                     // RFC 1112
    };
    const Pref64 wkp = well_known_pref64();
    const Pref64 nsp = P("2001:db8:100::/40");
    for (const auto& b : blocks) {
        SCOPED_TRACE(b.first);
        for (const char* inside : {b.first, b.last}) {
            EXPECT_FALSE(is_global_v4(A(inside))) << inside;
            EXPECT_EQ(synthesize(A(inside), wkp), std::nullopt) << inside;
            // Only the Well-Known Prefix refuses them.
            EXPECT_TRUE(synthesize(A(inside), nsp).has_value()) << inside;
        }
        for (const char* outside : {b.before, b.after}) {
            if (outside == nullptr) continue;
            EXPECT_TRUE(is_global_v4(A(outside))) << outside;
            EXPECT_TRUE(synthesize(A(outside), wkp).has_value()) << outside;
        }
    }
    // The RFC 7050 well-known addresses are in 192.0.0.0/24: not global.
    EXPECT_FALSE(is_global_v4(A("192.0.0.170")));
    // Globally reachable exceptions inside 192.0.0.0/24 (RFC 7723, RFC 8155).
    EXPECT_TRUE(is_global_v4(A("192.0.0.9")));
    EXPECT_TRUE(is_global_v4(A("192.0.0.10")));
    EXPECT_EQ(synthesize(A("192.0.0.9", 5351), wkp), A("64:ff9b::c000:9", 5351));
}

TEST(Rfc6052, WellKnownPrefixSynthesizesGlobalAddresses) {
    // 64:ff9b::/96 with a global address puts it in the last 32 bits.
    const auto six = synthesize(A("100.128.0.1", 80), well_known_pref64());
    ASSERT_TRUE(six.has_value());
    EXPECT_EQ(six->to_string(), "[64:ff9b::6480:1]:80");
    // RFC 8215's local-use prefix 64:ff9b:1::/48 is network-specific: the
    // Well-Known Prefix rule does not apply to it.
    const Pref64 local = P("64:ff9b:1::/48");
    EXPECT_FALSE(local.is_well_known());
    EXPECT_TRUE(synthesize(A("192.0.2.33"), local).has_value());
}

TEST(Rfc6052, OnlyIpv4EndpointsAreSynthesized) {
    const Pref64 nsp = P("2001:db8:122:344::/96");
    EXPECT_EQ(synthesize(A("2001:db8::1"), nsp), std::nullopt);
    EXPECT_EQ(synthesize(A("::ffff:192.0.2.33"), nsp), std::nullopt);
    Pref64 bad = nsp;
    bad.length = 60;
    EXPECT_EQ(synthesize(A("192.0.2.33"), bad), std::nullopt);
    EXPECT_EQ(extract_v4(A("2001:db8:122:344::c000:221"), bad), std::nullopt);
}

// ---- Round trips and the layout, for every length ------------------------------

TEST(Rfc6052, Section2_2_RoundTripAndLayoutForEveryLength) {
    const std::uint8_t octets[] = {0x00, 0x01, 0x21, 0x33, 0x7f, 0x80,
                                   0xa9, 0xaa, 0xc0, 0xfe, 0xff};
    std::size_t checked = 0;
    for (unsigned length : {32u, 40u, 48u, 56u, 64u, 96u}) {
        SCOPED_TRACE(length);
        // A prefix of ones-and-zeros patterns, so a misplaced octet shows.
        Pref64 p;
        p.length = static_cast<std::uint8_t>(length);
        for (std::size_t i = 0; i < length / 8; ++i) {
            p.prefix[i] = i == 8 ? 0 : static_cast<std::uint8_t>(0xa5 ^ i);
        }
        ASSERT_EQ(Pref64::parse(p.to_string()), p);
        for (std::uint8_t a : octets) {
            for (std::uint8_t b : octets) {
                for (std::uint8_t c : octets) {
                    for (std::uint8_t d : octets) {
                        const Endpoint v4 = Endpoint::v4({a, b, c, d}, 4242);
                        const auto six = synthesize(v4, p);
                        if (never_synthesized(v4)) {
                            ASSERT_FALSE(six.has_value()) << v4.to_string();
                            continue;
                        }
                        ASSERT_TRUE(six.has_value()) << v4.to_string();
                        const auto& bytes = six->bytes();
                        // The prefix is kept, u (bits 64-71) is zero.
                        for (std::size_t i = 0; i < length / 8; ++i) {
                            ASSERT_EQ(bytes[i], p.prefix[i]);
                        }
                        ASSERT_EQ(bytes[8], 0);
                        // The four octets follow the prefix, skipping u; the
                        // suffix after them is zero.
                        std::size_t at = length / 8;
                        for (std::uint8_t want : {a, b, c, d}) {
                            if (at == 8) ++at;
                            ASSERT_EQ(bytes[at], want);
                            ++at;
                        }
                        for (; at < 16; ++at) ASSERT_EQ(bytes[at], 0);
                        ASSERT_EQ(extract_v4(*six, p), v4);
                        ++checked;
                    }
                }
            }
        }
    }
    // 11^4 addresses per length, less 0/8, 127/8, 169.254/16 and
    // 255.255.255.255 (1331 + 1331 + 121 + 1).
    EXPECT_EQ(checked, 6u * 11857u);
}

TEST(Rfc6052, ExtractRefusesOtherPrefixesAndANonZeroU) {
    const Pref64 p = P("2001:db8:122::/48");
    EXPECT_EQ(extract_v4(A("2001:db8:122:c000:2:2100::"), p), A("192.0.2.33"));
    EXPECT_EQ(extract_v4(A("2001:db8:123:c000:2:2100::"), p), std::nullopt);   // other prefix
    EXPECT_EQ(extract_v4(A("2001:db8:122:c000:102:2100::"), p), std::nullopt); // u = 0x01
    EXPECT_EQ(extract_v4(A("192.0.2.33"), p), std::nullopt);                    // not IPv6
    // A non-zero suffix ("SHOULD be set to zero") is still read.
    EXPECT_EQ(extract_v4(A("2001:db8:122:c000:2:2100:0:1"), p), A("192.0.2.33"));
}

// ---- PREF64 text ----------------------------------------------------------------

TEST(Pref64Text, ParsesPrintsAndKnowsTheWellKnownPrefix) {
    const Pref64 wkp = P("64:ff9b::/96");
    EXPECT_TRUE(wkp.is_well_known());
    EXPECT_EQ(wkp, well_known_pref64());
    EXPECT_EQ(wkp.to_string(), "64:ff9b::/96");
    EXPECT_EQ(P("0064:FF9B:0:0:0:0::/96").to_string(), "64:ff9b::/96");
    EXPECT_EQ(P("2001:db8:122:300::/56").to_string(), "2001:db8:122:300::/56");
    EXPECT_EQ(P("2001:db8::/32").length, 32);
    EXPECT_FALSE(P("2001:db8::/96").is_well_known());
    EXPECT_FALSE(P("64:ff9b::/64").is_well_known());
    for (unsigned l : {32u, 40u, 48u, 56u, 64u, 96u}) EXPECT_TRUE(is_valid_pref64_length(l));
    for (unsigned l : {0u, 31u, 33u, 60u, 80u, 128u}) EXPECT_FALSE(is_valid_pref64_length(l));
}

TEST(Pref64Text, ErrorsSayWhatIsWrong) {
    EXPECT_EQ(parse_error("64:ff9b::"),
              "missing '/LENGTH' in NAT64 prefix '64:ff9b::' (e.g. 64:ff9b::/96)");
    EXPECT_EQ(parse_error("2001:db8::/60"),
              "NAT64 prefix length 60 in '2001:db8::/60' is not one of 32, 40, 48, 56, 64, 96 "
              "(RFC 6052 §2.2)");
    EXPECT_EQ(parse_error("2001:db8::/128"),
              "NAT64 prefix length 128 in '2001:db8::/128' is not one of 32, 40, 48, 56, 64, 96 "
              "(RFC 6052 §2.2)");
    EXPECT_EQ(parse_error("2001:db8::/"),
              "bad prefix length '' in NAT64 prefix '2001:db8::/' (expected one of 32, 40, 48, "
              "56, 64, 96)");
    EXPECT_EQ(parse_error("2001:db8::/9x"),
              "bad prefix length '9x' in NAT64 prefix '2001:db8::/9x' (expected one of 32, 40, "
              "48, 56, 64, 96)");
    EXPECT_EQ(parse_error("2001:db8::/0096"),
              "bad prefix length '0096' in NAT64 prefix '2001:db8::/0096' (expected one of 32, "
              "40, 48, 56, 64, 96)");
    EXPECT_EQ(parse_error("192.0.2.0/96"), "NAT64 prefix '192.0.2.0/96' is not an IPv6 prefix");
    EXPECT_EQ(parse_error("2001:db8::zz/96"),
              "bad IPv6 address '2001:db8::zz' in NAT64 prefix '2001:db8::zz/96'");
    EXPECT_EQ(parse_error("2001:db8::1/32"),
              "NAT64 prefix '2001:db8::1/32' has bits set after its first 32 (the address must "
              "end in zeros)");
    // RFC 6052 §2.2: "When using a /96 Network-Specific Prefix, the
    // administrators MUST ensure that the bits 64 to 71 are set to zero."
    EXPECT_EQ(parse_error("2001:db8:122:344:100::/96"),
              "NAT64 prefix '2001:db8:122:344:100::/96' has bits 64-71 set; they must be zero "
              "(RFC 6052 §2.2)");
}

// ---- RFC 7050 §3: PREF64 discovery from the ipv4only.arpa AAAA answer ------

// The answer a DNS64 gives for ipv4only.arpa (A records 192.0.0.170 and
// 192.0.0.171) under a prefix. 192.0.0.0/24 is not global, so a DNS64 can
// only synthesize these under a network-specific prefix, except that the
// Well-Known Prefix answer exists too (built by hand below).
std::vector<Endpoint> ipv4only_answer(const Pref64& p) {
    std::vector<Endpoint> out;
    for (const char* wka : {"192.0.0.170", "192.0.0.171"}) {
        auto six = synthesize(A(wka, 0), p);
        EXPECT_TRUE(six.has_value()) << p.to_string();
        if (six) out.push_back(*six);
    }
    return out;
}

TEST(Rfc7050, Section3_FindsTheWellKnownPrefix) {
    EXPECT_EQ(ipv4only_arpa, "ipv4only.arpa");
    const auto found =
        pref64_from_ipv4only_answer({A("64:ff9b::192.0.0.170", 0), A("64:ff9b::192.0.0.171", 0)});
    ASSERT_EQ(found.size(), 1u);
    EXPECT_TRUE(found[0].is_well_known());
}

TEST(Rfc7050, Section3_FindsANetworkSpecificPrefixOfEveryLength) {
    for (const char* text : {"2001:db8::/32", "2001:db8:100::/40", "2001:db8:122::/48",
                             "2001:db8:122:300::/56", "2001:db8:122:344::/64",
                             "2001:db8:122:344::/96"}) {
        SCOPED_TRACE(text);
        const Pref64 p = P(text);
        EXPECT_EQ(pref64_from_ipv4only_answer(ipv4only_answer(p)), std::vector<Pref64>{p});
        // One record alone is enough when it is unambiguous.
        EXPECT_EQ(pref64_from_ipv4only_answer({ipv4only_answer(p)[1]}), std::vector<Pref64>{p});
    }
}

TEST(Rfc7050, Section3_EveryPrefixOnceInAnswerOrder) {
    const Pref64 a = P("2001:db8:122:344::/96");
    const Pref64 b = P("2001:db8:100::/40");
    std::vector<Endpoint> answer = ipv4only_answer(a);
    for (const auto& e : ipv4only_answer(b)) answer.push_back(e);
    answer.push_back(ipv4only_answer(a)[0]);  // a repeat
    EXPECT_EQ(pref64_from_ipv4only_answer(answer), (std::vector<Pref64>{a, b}));
}

TEST(Rfc7050, Section3_NoWellKnownAddressMeansNoNat64) {
    EXPECT_TRUE(pref64_from_ipv4only_answer({}).empty());
    EXPECT_TRUE(pref64_from_ipv4only_answer({A("2001:db8::1"), A("2001:db8::c000:aa0")}).empty());
    // IPv4 addresses (an A answer by mistake) are ignored.
    EXPECT_TRUE(pref64_from_ipv4only_answer({A("192.0.0.170"), A("192.0.0.171")}).empty());
    // A WKA with a non-zero u octet is not an RFC 6052 address.
    EXPECT_TRUE(pref64_from_ipv4only_answer({A("2001:db8:c000:aa:100::")}).empty());
}

// A prefix can hold a WKA by chance: 2001:db8:c000:aa::/96 has 192.0.0.170 at
// /32 as well. The second WKA settles it, as RFC 7050 §3 intends.
TEST(Rfc7050, Section3_TheSecondWellKnownAddressSettlesAnAmbiguousBoundary) {
    const Endpoint primary = A("2001:db8:c000:aa::c000:aa", 0);    // .170 at /32 and /96
    const Endpoint secondary = A("2001:db8:c000:aa::c000:ab", 0);  // .171 at /96, .170 at /32
    const Pref64 p96 = P("2001:db8:c000:aa::/96");
    EXPECT_EQ(pref64_from_ipv4only_answer({primary, secondary}), std::vector<Pref64>{p96});
    EXPECT_EQ(pref64_from_ipv4only_answer({secondary, primary}), std::vector<Pref64>{p96});
    // Alone, the ambiguous record gives nothing rather than a guess.
    EXPECT_TRUE(pref64_from_ipv4only_answer({primary}).empty());
}

}  // namespace
}  // namespace eyeballs
