// SPDX-License-Identifier: BSL-1.0
// Properties of issue 8's modules: RFC 6724 sorting is a stable strict weak
// order, NAT64 synthesis round-trips at every RFC 6052 prefix length, and RTT
// history never crosses networks.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "eyeballs/history.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/sort.hpp"

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

// Addresses from every row of the policy table and every scope, so that each
// rule has something to decide.
rc::Gen<Endpoint> gen_address() {
    static const std::vector<std::string> bases = {
        "::1", "2001:db8::1", "2001:db8:1::2", "2002:c000:201::1", "2001:0:4136::1",
        "fc00::1", "fd12::3", "fe80::1", "fec0::1", "3ffe::1", "::c000:201", "::ffff:192.0.2.1",
        "192.0.2.1", "198.51.100.7", "127.0.0.1", "169.254.3.4", "10.1.2.3", "2a00:1::5"};
    return rc::gen::map(rc::gen::pair(rc::gen::elementOf(bases), rc::gen::inRange(0, 4)),
                        [](const std::pair<std::string, int>& p) {
                            // The port tells equal addresses apart, so stability shows.
                            return *Endpoint::parse_address(p.first,
                                                            static_cast<std::uint16_t>(p.second));
                        });
}

rc::Gen<Destination> gen_destination() {
    return rc::gen::map(rc::gen::pair(gen_address(), rc::gen::maybe(rc::gen::inRange(1, 400))),
                        [](const std::pair<Endpoint, rc::Maybe<int>>& p) {
                            Destination d;
                            d.address = p.first;
                            if (p.second) d.rtt = std::chrono::milliseconds(*p.second);
                            return d;
                        });
}

bool before(const Destination& a, const Destination& b) {
    return compare_destinations(a, b).order < 0;
}

}  // namespace

RC_GTEST_PROP(Rfc6724Properties, CompareIsAStrictWeakOrder, ()) {
    const auto a = *gen_destination();
    const auto b = *gen_destination();
    const auto c = *gen_destination();
    RC_ASSERT(!before(a, a));                          // irreflexive
    RC_ASSERT(!(before(a, b) && before(b, a)));        // asymmetric
    if (before(a, b) && before(b, c)) RC_ASSERT(before(a, c));  // transitive
    // Incomparability is transitive too.
    const bool ab = !before(a, b) && !before(b, a);
    const bool bc = !before(b, c) && !before(c, b);
    if (ab && bc) RC_ASSERT(!before(a, c) && !before(c, a));
}

RC_GTEST_PROP(Rfc6724Properties, SortIsStableAndOrdered, ()) {
    auto list = *rc::gen::container<std::vector<Destination>>(gen_destination());
    // A unique port per element names it (no rule looks at ports), so the
    // stability check below can tell equal addresses apart.
    for (std::size_t i = 0; i < list.size(); ++i) {
        list[i].address = list[i].address.with_port(static_cast<std::uint16_t>(i));
    }
    const auto original = list;
    sort_destinations(list);
    RC_ASSERT(list.size() == original.size());
    RC_ASSERT(std::is_permutation(
        list.begin(), list.end(), original.begin(),
        [](const Destination& x, const Destination& y) { return x.address == y.address; }));
    for (std::size_t i = 1; i < list.size(); ++i) {
        RC_ASSERT(!before(list[i], list[i - 1]));
        // Rule 10: equal elements keep their original order.
        if (!before(list[i - 1], list[i])) {
            auto pos = [&](const Destination& d) {
                return std::find_if(original.begin(), original.end(),
                                    [&](const Destination& o) { return o.address == d.address; });
            };
            RC_ASSERT(pos(list[i - 1]) <= pos(list[i]));
        }
    }
}

RC_GTEST_PROP(Nat64Properties, SynthesisRoundTripsAtEveryPrefixLength, ()) {
    static const std::array<unsigned, 6> lengths = {32, 40, 48, 56, 64, 96};
    const unsigned length = *rc::gen::elementOf(lengths);
    std::array<std::uint8_t, 16> prefix{0x20, 0x01, 0x0d, 0xb8};
    for (unsigned i = 4; i < length / 8; ++i) {
        prefix[i] = *rc::gen::arbitrary<std::uint8_t>();
    }
    if (length == 64 || length == 96) prefix[8] = 0;  // RFC 6052 §2.2: the u octet is zero
    std::string error;
    Endpoint p6 = Endpoint::v6(prefix, 0);
    auto pref = Pref64::parse(p6.address_string() + "/" + std::to_string(length), &error);
    RC_ASSERT(pref.has_value());
    const auto bytes = *rc::gen::arbitrary<std::array<std::uint8_t, 4>>();
    const Endpoint v4 = Endpoint::v4(bytes, *rc::gen::arbitrary<std::uint16_t>());
    const auto v6 = synthesize(v4, *pref);
    if (never_synthesized(v4)) {
        RC_ASSERT(!v6.has_value());
        return;
    }
    RC_ASSERT(v6.has_value());
    RC_ASSERT(v6->is_v6());
    RC_ASSERT(v6->port() == v4.port());
    RC_ASSERT(v6->bytes()[8] == 0);  // the u octet stays zero
    const auto back = extract_v4(*v6, *pref);
    RC_ASSERT(back.has_value());
    RC_ASSERT(*back == v4);
}

RC_GTEST_PROP(HistoryProperties, NeverCrossesNetworks, ()) {
    History h;
    const auto address = *gen_address();
    const auto networks = std::vector<std::string>{"", "home", "office", "lte"};
    const std::string recorded_on = *rc::gen::elementOf(networks);
    const std::string asked_on = *rc::gen::elementOf(networks);
    h.record_success(recorded_on, address,
                     std::chrono::milliseconds(*rc::gen::inRange(1, 1000)), TimePoint{});
    RC_ASSERT(h.rtt(asked_on, address).has_value() == (asked_on == recorded_on));
    h.clear_network(recorded_on);
    RC_ASSERT(!h.rtt(recorded_on, address).has_value());
}
