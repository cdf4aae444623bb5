// SPDX-License-Identifier: BSL-1.0
// RFC 6724 destination address sorting: the §2.1 policy table, §3.1/§3.2
// scopes, the §6 rules one by one, the nine §10.2 examples, RFC 8305 §4's RTT
// rule, stability (rule 10), and an exhaustive strict-weak-order check.
// Addresses are the RFC's own (documentation ranges where it uses them).
#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/sort.hpp"

namespace eyeballs {
namespace {

using namespace std::chrono_literals;

Endpoint A(const char* text) {
    std::string err;
    auto ep = Endpoint::parse_address(text, 443, &err);
    EXPECT_TRUE(ep.has_value()) << text << ": " << err;
    return ep.value_or(Endpoint{});
}

SourceInfo via(const char* source) {
    SourceInfo s;
    s.source = A(source);
    return s;
}

std::vector<std::string> texts(const std::vector<Endpoint>& v) {
    std::vector<std::string> out;
    for (const auto& e : v) out.push_back(e.address_string());
    return out;
}

// Sorts `dests` with the given Source(D) for each (by address text).
std::vector<std::string> sorted(std::vector<Endpoint> dests,
                                const std::map<std::string, SourceInfo>& sources = {},
                                const std::map<std::string, Duration>& rtts = {}) {
    SortInputs in;
    if (!sources.empty()) {
        in.source = [&sources](const Endpoint& d) -> std::optional<SourceInfo> {
            auto it = sources.find(d.address_string());
            if (it == sources.end()) return std::nullopt;
            return it->second;
        };
    }
    if (!rtts.empty()) {
        in.rtt = [&rtts](const Endpoint& d) -> std::optional<Duration> {
            auto it = rtts.find(d.address_string());
            if (it == rtts.end()) return std::nullopt;
            return it->second;
        };
    }
    sort_destinations(dests, in);
    return texts(dests);
}

using Strings = std::vector<std::string>;

// ---- RFC 6724 §2.1: the default policy table --------------------------------

TEST(Rfc6724PolicyTable, Section2_1_DefaultTableIsTheRfcs) {
    struct Row {
        const char* prefix;
        int length, precedence, label;
    };
    const Row rfc[] = {
        {"::1", 128, 50, 0},      {"::", 0, 40, 1},       {"::ffff:0.0.0.0", 96, 35, 4},
        {"2002::", 16, 30, 2},    {"2001::", 32, 5, 5},   {"fc00::", 7, 3, 13},
        {"::", 96, 1, 3},         {"fec0::", 10, 1, 11},  {"3ffe::", 16, 1, 12},
    };
    const auto& table = default_policy_table();
    ASSERT_EQ(table.size(), std::size(rfc));
    for (std::size_t i = 0; i < table.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(Endpoint::v6(table[i].prefix, 0).address_string(),
                  A(rfc[i].prefix).address_string());
        EXPECT_EQ(table[i].length, rfc[i].length);
        EXPECT_EQ(table[i].precedence, rfc[i].precedence);
        EXPECT_EQ(table[i].label, rfc[i].label);
    }
}

// "the longest matching prefix" decides; IPv4 is looked up as ::ffff:a.b.c.d.
TEST(Rfc6724PolicyTable, PrecedenceAndLabelByLongestMatch) {
    struct Case {
        const char* address;
        int precedence, label;
    };
    const Case cases[] = {
        {"::1", 50, 0},                  // ::1/128
        {"2001:db8::1", 40, 1},          // ::/0
        {"fe80::1", 40, 1},              // ::/0
        {"::ffff:192.0.2.1", 35, 4},     // ::ffff:0:0/96
        {"192.0.2.1", 35, 4},            // IPv4 as IPv4-mapped
        {"127.0.0.1", 35, 4},            // IPv4 loopback is not ::1
        {"10.1.2.3", 35, 4},
        {"2002:c633:6401::1", 30, 2},    // 2002::/16 (6to4)
        {"2001:0:5ef5:79fd::1", 5, 5},   // 2001::/32 (Teredo)
        {"2001:1::1", 40, 1},            // just outside 2001::/32
        {"fc00::1", 3, 13},              // fc00::/7 (ULA)
        {"fd12:3456::1", 3, 13},
        {"::c000:201", 1, 3},            // ::/96 (IPv4-compatible)
        {"::", 1, 3},                    // the unspecified address is in ::/96
        {"fec0::1", 1, 11},              // fec0::/10 (site-local)
        {"feff::1", 1, 11},
        {"3ffe::1", 1, 12},              // 3ffe::/16 (6bone)
        {"ff02::1", 40, 1},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.address);
        EXPECT_EQ(precedence(A(c.address)), c.precedence);
        EXPECT_EQ(label(A(c.address)), c.label);
    }
}

// ---- RFC 6724 §3.1, §3.2; RFC 4291: scopes -----------------------------------

TEST(Rfc6724Scope, Section3_UnicastMulticastAndIpv4Scopes) {
    struct Case {
        const char* address;
        Scope scope;
    };
    const Case cases[] = {
        {"ff01::1", Scope::interface_local},  // RFC 4291 §2.7 scope field
        {"ff02::1", Scope::link_local},
        {"ff04::1", Scope::admin_local},
        {"ff05::1:3", Scope::site_local},
        {"ff08::1", Scope::organization_local},
        {"ff0e::1", Scope::global},
        {"fe80::1", Scope::link_local},       // RFC 4291 §2.5.6
        {"febf::1", Scope::link_local},
        {"::1", Scope::link_local},           // RFC 4291 §2.5.3
        {"fec0::1", Scope::site_local},       // RFC 6724 §3.1
        {"2001:db8::1", Scope::global},
        {"fd00::1", Scope::global},           // RFC 4193 §3.3: ULAs are global scope
        {"127.0.0.1", Scope::link_local},     // RFC 6724 §3.2
        {"127.255.0.1", Scope::link_local},
        {"169.254.13.78", Scope::link_local}, // RFC 6724 §3.2
        {"::ffff:127.0.0.1", Scope::link_local},
        {"::ffff:169.254.1.1", Scope::link_local},
        {"10.1.2.3", Scope::global},          // private IPv4 is global (RFC 6724 §3.2)
        {"192.0.2.1", Scope::global},
        {"169.255.0.1", Scope::global},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.address);
        EXPECT_EQ(scope(A(c.address)), c.scope);
    }
    // "unicast site-local is equal to multicast site-local, which is smaller
    // than multicast organization-local, which is smaller than unicast global,
    // which is equal to multicast global" (RFC 6724 §3.1).
    EXPECT_EQ(scope(A("fec0::1")), scope(A("ff05::1")));
    EXPECT_LT(scope(A("ff05::1")), scope(A("ff08::1")));
    EXPECT_LT(scope(A("ff08::1")), scope(A("2001:db8::1")));
    EXPECT_EQ(scope(A("2001:db8::1")), scope(A("ff0e::1")));
}

// ---- RFC 6724 §10.2: the nine destination address selection examples ------

struct Example {
    const char* name;
    const char* first;
    SourceInfo first_source;
    const char* second;
    SourceInfo second_source;
    SortRule rule;
};

SourceInfo deprecated(const char* s) {
    auto i = via(s);
    i.deprecated = true;
    return i;
}
SourceInfo home(const char* s) {
    auto i = via(s);
    i.home = true;
    i.care_of = false;
    return i;
}
SourceInfo care_of(const char* s) {
    auto i = via(s);
    i.home = false;
    i.care_of = true;
    return i;
}

std::vector<Example> rfc6724_examples() {
    return {
        // Candidate Source Addresses: 2001:db8:1::2 or fe80::1 or 169.254.13.78
        // Destination Address List: 2001:db8:1::1 or 198.51.100.121
        // Result: 2001:db8:1::1 (src 2001:db8:1::2) then 198.51.100.121 (src
        // 169.254.13.78) (prefer matching scope)
        {"prefer matching scope (IPv6 first)", "2001:db8:1::1", via("2001:db8:1::2"),
         "198.51.100.121", via("169.254.13.78"), SortRule::prefer_matching_scope},
        // Candidate Source Addresses: fe80::1 or 198.51.100.117
        // Destination Address List: 2001:db8:1::1 or 198.51.100.121
        // Result: 198.51.100.121 (src 198.51.100.117) then 2001:db8:1::1 (src
        // fe80::1) (prefer matching scope)
        {"prefer matching scope (IPv4 first)", "198.51.100.121", via("198.51.100.117"),
         "2001:db8:1::1", via("fe80::1"), SortRule::prefer_matching_scope},
        // Candidate Source Addresses: 2001:db8:1::2 or fe80::1 or 10.1.2.4
        // Destination Address List: 2001:db8:1::1 or 10.1.2.3
        // Result: 2001:db8:1::1 (src 2001:db8:1::2) then 10.1.2.3 (src
        // 10.1.2.4) (prefer higher precedence)
        {"prefer higher precedence (IPv6 over IPv4)", "2001:db8:1::1", via("2001:db8:1::2"),
         "10.1.2.3", via("10.1.2.4"), SortRule::prefer_higher_precedence},
        // Candidate Source Addresses: 2001:db8:1::2 or fe80::2
        // Destination Address List: 2001:db8:1::1 or fe80::1
        // Result: fe80::1 (src fe80::2) then 2001:db8:1::1 (src 2001:db8:1::2)
        // (prefer smaller scope)
        {"prefer smaller scope", "fe80::1", via("fe80::2"), "2001:db8:1::1", via("2001:db8:1::2"),
         SortRule::prefer_smaller_scope},
        // Candidate Source Addresses: 2001:db8:1::2 (care-of address) or
        // 2001:db8:3::1 (home address) or fe80::2 (care-of address)
        // Destination Address List: 2001:db8:1::1 or fe80::1
        // Result: 2001:db8:1::1 (src 2001:db8:3::1) then fe80::1 (src fe80::2)
        // (prefer home address)
        {"prefer home address", "2001:db8:1::1", home("2001:db8:3::1"), "fe80::1",
         care_of("fe80::2"), SortRule::prefer_home},
        // Candidate Source Addresses: 2001:db8:1::2 or fe80::2 (deprecated)
        // Destination Address List: 2001:db8:1::1 or fe80::1
        // Result: 2001:db8:1::1 (src 2001:db8:1::2) then fe80::1 (src fe80::2)
        // (avoid deprecated addresses)
        {"avoid deprecated addresses", "2001:db8:1::1", via("2001:db8:1::2"), "fe80::1",
         deprecated("fe80::2"), SortRule::avoid_deprecated},
        // Candidate Source Addresses: 2001:db8:1::2 or 2001:db8:3f44::2 or fe80::2
        // Destination Address List: 2001:db8:1::1 or 2001:db8:3ffe::1
        // Result: 2001:db8:1::1 (src 2001:db8:1::2) then 2001:db8:3ffe::1 (src
        // 2001:db8:3f44::2) (longest matching prefix)
        {"longest matching prefix", "2001:db8:1::1", via("2001:db8:1::2"), "2001:db8:3ffe::1",
         via("2001:db8:3f44::2"), SortRule::prefer_longest_prefix},
        // Candidate Source Addresses: 2002:c633:6401::2 or fe80::2
        // Destination Address List: 2002:c633:6401::1 or 2001:db8:1::1
        // Result: 2002:c633:6401::1 (src 2002:c633:6401::2) then 2001:db8:1::1
        // (src 2002:c633:6401::2) (prefer matching label)
        {"prefer matching label", "2002:c633:6401::1", via("2002:c633:6401::2"), "2001:db8:1::1",
         via("2002:c633:6401::2"), SortRule::prefer_matching_label},
        // Candidate Source Addresses: 2002:c633:6401::2 or 2001:db8:1::2 or fe80::2
        // Destination Address List: 2002:c633:6401::1 or 2001:db8:1::1
        // Result: 2001:db8:1::1 (src 2001:db8:1::2) then 2002:c633:6401::1 (src
        // 2002:c633:6401::2) (prefer higher precedence)
        {"prefer higher precedence (native over 6to4)", "2001:db8:1::1", via("2001:db8:1::2"),
         "2002:c633:6401::1", via("2002:c633:6401::2"), SortRule::prefer_higher_precedence},
    };
}

TEST(Rfc6724Examples, Section10_2_EachExampleSortsAsTheRfcSaysInBothInputOrders) {
    for (const auto& ex : rfc6724_examples()) {
        SCOPED_TRACE(ex.name);
        const std::map<std::string, SourceInfo> sources{
            {A(ex.first).address_string(), ex.first_source},
            {A(ex.second).address_string(), ex.second_source}};
        const Strings want{A(ex.first).address_string(), A(ex.second).address_string()};
        // In the RFC's result order, and reversed, so that rule 10 alone could
        // not have produced the answer.
        EXPECT_EQ(sorted({A(ex.first), A(ex.second)}, sources), want);
        EXPECT_EQ(sorted({A(ex.second), A(ex.first)}, sources), want);
    }
}

TEST(Rfc6724Examples, Section10_2_EachExampleIsDecidedByTheRuleTheRfcNames) {
    for (const auto& ex : rfc6724_examples()) {
        SCOPED_TRACE(ex.name);
        const Destination a{A(ex.first), ex.first_source, std::nullopt};
        const Destination b{A(ex.second), ex.second_source, std::nullopt};
        const Comparison ab = compare_destinations(a, b);
        const Comparison ba = compare_destinations(b, a);
        EXPECT_LT(ab.order, 0);
        EXPECT_GT(ba.order, 0);
        EXPECT_EQ(ab.rule, ex.rule) << sort_rule_name(ab.rule);
        EXPECT_EQ(ba.rule, ex.rule) << sort_rule_name(ba.rule);
    }
}

// ---- RFC 6724 §6: the rules one at a time -------------------------------------

// Without source information only rules 6, 8 and 10 apply.
TEST(Rfc6724Rules, Rule6_PrecedenceWithoutSourceInformation) {
    // IPv6 (40) before IPv4 (35) before 6to4 (30) before Teredo (5) before
    // ULA (3) before site-local / 6bone (1), whatever the input order.
    EXPECT_EQ(sorted({A("3ffe::1"), A("fd00::1"), A("2001:0:5ef5:79fd::1"), A("2002:c633:6401::1"),
                      A("192.0.2.1"), A("2001:db8::1")}),
              (Strings{"2001:db8::1", "192.0.2.1", "2002:c633:6401::1", "2001:0:5ef5:79fd::1",
                       "fd00::1", "3ffe::1"}));
    // ::1 (50) before everything.
    EXPECT_EQ(sorted({A("127.0.0.1"), A("2001:db8::1"), A("::1")}),
              (Strings{"::1", "2001:db8::1", "127.0.0.1"}));
}

TEST(Rfc6724Rules, Rule8_SmallerScopeFirstWhenPrecedenceTies) {
    // All precedence 40: link-local before global.
    EXPECT_EQ(sorted({A("2001:db8::1"), A("ff0e::1"), A("fe80::1"), A("ff05::1")}),
              (Strings{"fe80::1", "ff05::1", "2001:db8::1", "ff0e::1"}));
    // All IPv4 (precedence 35): 127/8 and 169.254/16 are link-local.
    EXPECT_EQ(sorted({A("192.0.2.1"), A("169.254.13.78"), A("198.51.100.7"), A("127.0.0.1")}),
              (Strings{"169.254.13.78", "127.0.0.1", "192.0.2.1", "198.51.100.7"}));
}

// A zone (RFC 4007 §11) does not change an address's scope: fe80::1%2 is
// link-local (§3.1), sorts by rule 8 like fe80::1, keeps its zone through the
// sort, and rule 2 compares it with a zoned source of the same scope.
TEST(Rfc6724Rules, ZonedLinkLocalSortsByItsScope) {
    EXPECT_EQ(scope(A("fe80::1%2")), Scope::link_local);
    EXPECT_EQ(scope(A("ff02::1%2")), Scope::link_local);
    EXPECT_EQ(sorted({A("2001:db8::1"), A("fe80::1%2"), A("ff05::1%3")}),
              (Strings{"fe80::1%2", "ff05::1%3", "2001:db8::1"}));
    // Rule 2: the global destination has a global source, the zoned one a
    // link-local source: both match, so rule 8 decides as above.
    EXPECT_EQ(sorted({A("2001:db8::1"), A("fe80::1%2")},
                     {{"2001:db8::1", via("2001:db8::2")}, {"fe80::1%2", via("fe80::2%2")}}),
              (Strings{"fe80::1%2", "2001:db8::1"}));
    // Rule 2 again: a zoned link-local destination whose only source is
    // global loses to a global destination with a global source.
    EXPECT_EQ(sorted({A("fe80::1%2"), A("2001:db8::1")},
                     {{"2001:db8::1", via("2001:db8::2")}, {"fe80::1%2", via("2001:db8::3")}}),
              (Strings{"2001:db8::1", "fe80::1%2"}));
}

TEST(Rfc6724Rules, Rule10_EqualDestinationsKeepTheirOrder) {
    const std::vector<Endpoint> v{A("2001:db8::5"), A("2001:db8::3"), A("2001:db8::9"),
                                  A("2001:db8::1"), A("2001:db8::3"), A("2001:db8::2")};
    EXPECT_EQ(sorted(v), texts(v));
    // Equal ones keep their order among the ones that move.
    EXPECT_EQ(sorted({A("192.0.2.3"), A("2001:db8::2"), A("192.0.2.1"), A("2001:db8::1"),
                      A("192.0.2.2")}),
              (Strings{"2001:db8::2", "2001:db8::1", "192.0.2.3", "192.0.2.1", "192.0.2.2"}));
}

TEST(Rfc6724Rules, Rule1_UnusableDestinationsGoLastAndKeepTheirOrder) {
    SourceInfo none;  // Source(D) undefined
    const std::map<std::string, SourceInfo> sources{
        {"2001:db8::1", none},
        {"2001:db8::2", none},
        {"192.0.2.1", via("192.0.2.9")},
    };
    EXPECT_EQ(sorted({A("2001:db8::1"), A("2001:db8::2"), A("192.0.2.1")}, sources),
              (Strings{"192.0.2.1", "2001:db8::1", "2001:db8::2"}));
    const Comparison c = compare_destinations({A("2001:db8::1"), none, {}},
                                              {A("192.0.2.1"), via("192.0.2.9"), {}});
    EXPECT_GT(c.order, 0);
    EXPECT_EQ(c.rule, SortRule::avoid_unusable);
}

TEST(Rfc6724Rules, Rule4_HomeAndCareOfBeatsHomeBeatsCareOf) {
    auto both = via("2001:db8:3::1");
    both.care_of = true;
    const std::map<std::string, SourceInfo> sources{
        {"2001:db8:1::1", care_of("2001:db8:1::2")},
        {"2001:db8:2::1", home("2001:db8:3::1")},
        {"2001:db8:4::1", both},
    };
    EXPECT_EQ(sorted({A("2001:db8:1::1"), A("2001:db8:2::1"), A("2001:db8:4::1")}, sources),
              (Strings{"2001:db8:4::1", "2001:db8:2::1", "2001:db8:1::1"}));
}

TEST(Rfc6724Rules, Rule7_NativeBeforeEncapsulated) {
    auto tunnel = via("2001:db8:1::2");
    tunnel.native = false;
    const Destination a{A("2001:db8:1::1"), tunnel, {}};
    const Destination b{A("2001:db8:2::1"), via("2001:db8:2::2"), {}};
    const Comparison c = compare_destinations(a, b);
    EXPECT_GT(c.order, 0);
    EXPECT_EQ(c.rule, SortRule::prefer_native);
    // Rule 7 comes after rule 6: an encapsulated IPv6 path still beats IPv4.
    const Destination v4{A("192.0.2.1"), via("192.0.2.9"), {}};
    EXPECT_EQ(compare_destinations(a, v4).rule, SortRule::prefer_higher_precedence);
    EXPECT_LT(compare_destinations(a, v4).order, 0);
}

// RFC 6724 §2.2: CommonPrefixLen counts "up to the length of S's prefix".
TEST(Rfc6724Rules, Rule9_PrefixIsCappedAtTheSourcePrefixLength) {
    // The §10.2 example: 64 (capped from 126) against 40.
    auto near = via("2001:db8:1::2");
    auto far = via("2001:db8:3f44::2");
    std::map<std::string, SourceInfo> sources{{"2001:db8:1::1", near}, {"2001:db8:3ffe::1", far}};
    EXPECT_EQ(sorted({A("2001:db8:3ffe::1"), A("2001:db8:1::1")}, sources),
              (Strings{"2001:db8:1::1", "2001:db8:3ffe::1"}));
    // With /32 source prefixes both lengths cap at 32: no decision, order kept.
    sources["2001:db8:1::1"].prefix_length = 32;
    sources["2001:db8:3ffe::1"].prefix_length = 32;
    EXPECT_EQ(sorted({A("2001:db8:3ffe::1"), A("2001:db8:1::1")}, sources),
              (Strings{"2001:db8:3ffe::1", "2001:db8:1::1"}));
}

// RFC 6724 §6 applies rule 9 to "both are IPv4" too; an IPv4 source's mask is
// unknown unless the caller gives it, and CommonPrefixLen is capped at it.
TEST(Rfc6724Rules, Rule9_Ipv4OnlyWithAKnownSourceMask) {
    std::map<std::string, SourceInfo> sources{{"198.51.100.7", via("192.0.2.9")},
                                              {"192.0.2.1", via("192.0.2.9")}};
    // No mask: DNS round robin among IPv4 addresses is left alone.
    EXPECT_EQ(sorted({A("198.51.100.7"), A("192.0.2.1")}, sources),
              (Strings{"198.51.100.7", "192.0.2.1"}));
    // A /24 source: the on-link destination (24 common bits) goes first.
    sources["198.51.100.7"].prefix_length = 24;
    sources["192.0.2.1"].prefix_length = 24;
    EXPECT_EQ(sorted({A("198.51.100.7"), A("192.0.2.1")}, sources),
              (Strings{"192.0.2.1", "198.51.100.7"}));
    const Comparison c = compare_destinations({A("192.0.2.1"), sources["192.0.2.1"], {}},
                                              {A("198.51.100.7"), sources["198.51.100.7"], {}});
    EXPECT_EQ(c.rule, SortRule::prefer_longest_prefix);
    EXPECT_LT(c.order, 0);
}

// Source information is all or nothing: when one destination lacks it, the
// source rules are skipped for the whole list.
TEST(Rfc6724Rules, SourceRulesNeedInformationForEveryDestination) {
    // §10.2's second example would put IPv4 first by rule 2 ...
    std::map<std::string, SourceInfo> sources{{"2001:db8:1::1", via("fe80::1")},
                                              {"198.51.100.121", via("198.51.100.117")}};
    EXPECT_EQ(sorted({A("2001:db8:1::1"), A("198.51.100.121")}, sources),
              (Strings{"198.51.100.121", "2001:db8:1::1"}));
    // ... but without information for the IPv6 destination, rule 6 decides.
    sources.erase("2001:db8:1::1");
    EXPECT_EQ(sorted({A("2001:db8:1::1"), A("198.51.100.121")}, sources),
              (Strings{"2001:db8:1::1", "198.51.100.121"}));
    // The same through the Destination overload.
    std::vector<Destination> d{{A("2001:db8:1::1"), std::nullopt, {}},
                               {A("198.51.100.121"), via("198.51.100.117"), {}}};
    sort_destinations(d);
    EXPECT_EQ(d[0].address, A("2001:db8:1::1"));
}

// ---- RFC 8305 §4: the RTT rule between rules 8 and 9 --------------------------

TEST(Rfc8305RttRule, LowerRttFirstAndUsedBeforeUnused) {
    const std::map<std::string, Duration> rtts{
        {"2001:db8::1", 80ms}, {"2001:db8::2", 20ms}, {"2001:db8::4", 50ms}};
    // ::3 has no history: after every used address.
    EXPECT_EQ(sorted({A("2001:db8::1"), A("2001:db8::3"), A("2001:db8::2"), A("2001:db8::4")}, {},
                     rtts),
              (Strings{"2001:db8::2", "2001:db8::4", "2001:db8::1", "2001:db8::3"}));
    const Comparison c = compare_destinations({A("2001:db8::1"), {}, 80ms},
                                              {A("2001:db8::3"), {}, std::nullopt});
    EXPECT_LT(c.order, 0);
    EXPECT_EQ(c.rule, SortRule::prefer_lower_rtt);
}

TEST(Rfc8305RttRule, ComesAfterRules6And8) {
    // A fast IPv4 address still follows a slow IPv6 one (rule 6) ...
    EXPECT_EQ(sorted({A("192.0.2.1"), A("2001:db8::1")}, {},
                     {{"192.0.2.1", 1ms}, {"2001:db8::1", 900ms}}),
              (Strings{"2001:db8::1", "192.0.2.1"}));
    // ... and a fast global one follows a slow link-local one (rule 8).
    EXPECT_EQ(sorted({A("2001:db8::1"), A("fe80::1")}, {},
                     {{"2001:db8::1", 1ms}, {"fe80::1", 900ms}}),
              (Strings{"fe80::1", "2001:db8::1"}));
}

TEST(Rfc8305RttRule, ComesBeforeRule9AndEqualRttsKeepOrder) {
    // Rule 9 alone would put 2001:db8:1::1 first (the §10.2 example).
    const std::map<std::string, SourceInfo> sources{{"2001:db8:1::1", via("2001:db8:1::2")},
                                                    {"2001:db8:3ffe::1", via("2001:db8:3f44::2")}};
    EXPECT_EQ(sorted({A("2001:db8:1::1"), A("2001:db8:3ffe::1")}, sources,
                     {{"2001:db8:1::1", 60ms}, {"2001:db8:3ffe::1", 30ms}}),
              (Strings{"2001:db8:3ffe::1", "2001:db8:1::1"}));
    // Equal RTTs decide nothing; rule 9 does.
    EXPECT_EQ(sorted({A("2001:db8:3ffe::1"), A("2001:db8:1::1")}, sources,
                     {{"2001:db8:1::1", 30ms}, {"2001:db8:3ffe::1", 30ms}}),
              (Strings{"2001:db8:1::1", "2001:db8:3ffe::1"}));
    // Equal RTTs and nothing else: input order.
    EXPECT_EQ(sorted({A("2001:db8::9"), A("2001:db8::1")}, {},
                     {{"2001:db8::9", 30ms}, {"2001:db8::1", 30ms}}),
              (Strings{"2001:db8::9", "2001:db8::1"}));
}

// ---- The sort's contract ---------------------------------------------------------

TEST(SortDestinations, CallsEachLookupOncePerDestinationInListOrder) {
    std::vector<std::string> source_calls, rtt_calls;
    SortInputs in;
    in.source = [&](const Endpoint& d) -> std::optional<SourceInfo> {
        source_calls.push_back(d.address_string());
        return via(d.is_v4() ? "192.0.2.9" : "2001:db8::9");
    };
    in.rtt = [&](const Endpoint& d) -> std::optional<Duration> {
        rtt_calls.push_back(d.address_string());
        return std::nullopt;
    };
    std::vector<Endpoint> v{A("192.0.2.1"), A("2001:db8::1"), A("198.51.100.1"), A("2001:db8::2")};
    sort_destinations(v, in);
    const Strings order{"192.0.2.1", "2001:db8::1", "198.51.100.1", "2001:db8::2"};
    EXPECT_EQ(source_calls, order);
    EXPECT_EQ(rtt_calls, order);
    EXPECT_EQ(texts(v), (Strings{"2001:db8::1", "2001:db8::2", "192.0.2.1", "198.51.100.1"}));
}

TEST(SortDestinations, KeepsPortsAndHandlesEmptyAndSingleLists) {
    std::vector<Endpoint> empty;
    sort_destinations(empty);
    EXPECT_TRUE(empty.empty());
    std::vector<Endpoint> one{A("192.0.2.1")};
    sort_destinations(one);
    EXPECT_EQ(one, std::vector<Endpoint>{A("192.0.2.1")});
    std::vector<Endpoint> v{A("192.0.2.1").with_port(80), A("2001:db8::1").with_port(8443)};
    sort_destinations(v);
    EXPECT_EQ(v[0], A("2001:db8::1").with_port(8443));
    EXPECT_EQ(v[1], A("192.0.2.1").with_port(80));
}

TEST(SortDestinations, RuleNamesSayTheRule) {
    EXPECT_STREQ(sort_rule_name(SortRule::prefer_higher_precedence),
                 "rule 6 (prefer higher precedence)");
    EXPECT_STREQ(sort_rule_name(SortRule::prefer_lower_rtt), "RFC 8305 §4 (prefer lower RTT)");
    EXPECT_STREQ(sort_rule_name(SortRule::none), "rule 10 (leave the order unchanged)");
}

// ---- Strict weak order, checked exhaustively over a fixed set ----------------

// Destinations over many precedences, scopes, source situations and RTTs.
std::vector<Destination> fixed_set(bool with_sources) {
    const char* addresses[] = {
        "::1",           "2001:db8::1",   "2001:db8:1::1",     "2001:db8:3ffe::1", "fe80::1",
        "fec0::1",       "fd00::1",       "2002:c633:6401::1", "2001:0:5ef5::1",   "3ffe::1",
        "::c000:201",    "ff02::1",       "ff0e::1",           "192.0.2.1",        "198.51.100.121",
        "10.1.2.3",      "127.0.0.1",     "169.254.13.78",     "::ffff:192.0.2.1",
    };
    const char* v6_sources[] = {"2001:db8:1::2", "fe80::2", "2002:c633:6401::2", "fd00::2"};
    const char* v4_sources[] = {"192.0.2.9", "169.254.1.1", "10.1.2.4", "127.0.0.1"};
    const std::optional<Duration> rtts[] = {std::nullopt, 10ms, 20ms};
    std::vector<Destination> out;
    unsigned n = 0;
    for (const char* text : addresses) {
        const Endpoint d = A(text);
        const bool v4 = d.is_v4() || d.is_v4_mapped();
        for (unsigned variant = 0; variant < 4; ++variant, ++n) {
            Destination x{d, std::nullopt, rtts[n % 3]};
            if (with_sources) {
                SourceInfo s = via(v4 ? v4_sources[(n / 3) % 4] : v6_sources[(n / 3) % 4]);
                if (n % 7 == 0) s.source.reset();
                s.deprecated = n % 5 == 0;
                s.home = n % 6 != 0;
                s.care_of = n % 4 == 0;
                s.native = n % 9 != 0;
                if (n % 8 == 0) s.prefix_length = v4 ? 24 : 48;
                x.source = s;
            }
            out.push_back(x);
        }
    }
    return out;
}

void expect_strict_weak_order(const std::vector<Destination>& set) {
    const std::size_t n = set.size();
    // cmp[i][j] = sign of compare(set[i], set[j]).
    std::vector<std::vector<int>> cmp(n, std::vector<int>(n));
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            const int o = compare_destinations(set[i], set[j]).order;
            cmp[i][j] = o < 0 ? -1 : (o > 0 ? 1 : 0);
        }
    }
    std::size_t failures = 0;
    for (std::size_t i = 0; i < n && failures < 5; ++i) {
        if (cmp[i][i] != 0) {
            ADD_FAILURE() << "not irreflexive at " << set[i].address.to_string();
            ++failures;
        }
        for (std::size_t j = 0; j < n && failures < 5; ++j) {
            if (cmp[i][j] != -cmp[j][i]) {
                ADD_FAILURE() << "not antisymmetric: " << set[i].address.to_string() << " vs "
                              << set[j].address.to_string();
                ++failures;
            }
            for (std::size_t k = 0; k < n && failures < 5; ++k) {
                // a < b and b < c imply a < c.
                if (cmp[i][j] < 0 && cmp[j][k] < 0 && cmp[i][k] >= 0) {
                    ADD_FAILURE() << "< not transitive over " << i << ", " << j << ", " << k;
                    ++failures;
                }
                // a ~ b and b ~ c imply a ~ c (incomparability is transitive).
                if (cmp[i][j] == 0 && cmp[j][k] == 0 && cmp[i][k] != 0) {
                    ADD_FAILURE() << "~ not transitive over " << set[i].address.to_string()
                                  << ", " << set[j].address.to_string() << ", "
                                  << set[k].address.to_string();
                    ++failures;
                }
            }
        }
    }
}

TEST(SortDestinations, IsAStrictWeakOrderWithoutSourceInformation) {
    const auto set = fixed_set(false);
    ASSERT_EQ(set.size(), 76u);
    expect_strict_weak_order(set);
}

TEST(SortDestinations, IsAStrictWeakOrderWithSourceInformation) {
    const auto set = fixed_set(true);
    ASSERT_EQ(set.size(), 76u);
    expect_strict_weak_order(set);
}

// The sort's result is ordered by the comparison, and equal elements keep
// their relative input order: sorting any rotation of the set gives a list
// where each adjacent pair is in order, and ties appear in input order.
TEST(SortDestinations, ResultIsOrderedAndStableForEveryRotation) {
    for (bool with_sources : {false, true}) {
        auto base = fixed_set(with_sources);
        for (std::size_t r = 0; r < base.size(); r += 7) {
            std::vector<Destination> v(base.begin() + static_cast<std::ptrdiff_t>(r), base.end());
            v.insert(v.end(), base.begin(), base.begin() + static_cast<std::ptrdiff_t>(r));
            // Tag each element with its input position through the port.
            for (std::size_t i = 0; i < v.size(); ++i) {
                v[i].address = v[i].address.with_port(static_cast<std::uint16_t>(i + 1));
            }
            sort_destinations(v);
            for (std::size_t i = 0; i + 1 < v.size(); ++i) {
                const int o = compare_destinations(v[i], v[i + 1]).order;
                ASSERT_LE(o, 0) << "rotation " << r << " position " << i;
                if (o == 0) ASSERT_LT(v[i].address.port(), v[i + 1].address.port());
            }
        }
    }
}

}  // namespace
}  // namespace eyeballs
