// SPDX-License-Identifier: BSL-1.0
// Properties of Happy Eyeballs v3's DNS64 handling (issue 17 item 5, the
// editor's copy §8.2/§8.3) and of ipv6=none: whatever mix of native and
// DNS64-synthesized AAAA addresses and A addresses a race gets,
// - when IPv4 works, no address inside the PREF64 is ever attempted as IPv6:
//   it is attempted as the IPv4 address it carries;
// - on an IPv6-only host (ipv4=none), nothing is attempted as IPv4, and a
//   synthesized AAAA and the A answer it came from are one attempt;
// - with ipv6=none, nothing is attempted as IPv6;
// - every address the race could use is attempted once, and only once.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <string>
#include <vector>

#include "eyeballs/nat64.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

Endpoint global_v4(int i) {  // global (RFC 6052 §3.1): fine under the Well-Known Prefix too
    return *Endpoint::parse_address("93.184.216." + std::to_string(i + 1), 443);
}
Endpoint native_v6(int i) {  // outside every prefix below
    return *Endpoint::parse_address("2001:db9::" + std::to_string(i + 1), 443);
}

bool inside(const Endpoint& e, const Pref64& p) {
    if (!e.is_v6()) return false;
    return std::equal(p.prefix.begin(), p.prefix.begin() + p.length / 8, e.bytes().begin());
}

}  // namespace

RC_GTEST_PROP(V3Dns64Properties, SynthesizedAnswersRaceAsIpv4AndHostFamiliesHold, ()) {
    const char* prefixes[] = {"64:ff9b::/96", "2001:db8:64::/96", "2001:db8:122:344::/64",
                              "2001:db8:100::/40", "2001:db8::/32"};
    const Pref64 prefix = *Pref64::parse(prefixes[*rc::gen::inRange(0, 5)]);
    const int mode = *rc::gen::inRange(0, 3);  // 0 both families, 1 ipv4=none, 2 ipv6=none
    const auto dns64 = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 4), rc::gen::inRange(0, 6));
    const auto natives = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(0, 4));
    const auto a = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(0, 6));

    std::vector<Endpoint> aaaa;
    for (int i : dns64) aaaa.push_back(*synthesize(global_v4(i), prefix));
    for (int i : natives) aaaa.push_back(native_v6(i));
    std::vector<Endpoint> answer_a;
    for (int i : a) answer_a.push_back(global_v4(i));

    Config c;
    c.https = true;
    c.pref64 = prefix;
    c.ipv4_unavailable = mode == 1;
    c.ipv6_unavailable = mode == 2;
    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(static_cast<bool>(m.start_resolving(now)));
    std::vector<Endpoint> attempted;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* r = std::get_if<Resolve>(&*act)) {
                if (r->https) {
                    m.handle_https(now, *r, std::vector<SvcbRecord>{});
                } else {
                    m.handle_resolved(now, *r, r->family == Family::v6 ? aaaa : answer_a);
                }
            } else if (auto* o = std::get_if<OpenSocket>(&*act)) {
                m.handle_opened(now, o->attempt);
            } else if (auto* k = std::get_if<Connect>(&*act)) {
                attempted.push_back(k->remote);
                m.handle_connect_failed(now, k->attempt, ECONNREFUSED);
            }
        }
    };
    drain();
    for (int guard = 0; guard < 200 && !m.finished(); ++guard) {
        const auto t = m.next_timeout();
        RC_ASSERT(t.has_value());
        now = std::max(now, *t);
        m.handle_timeout(now);
        drain();
    }
    RC_ASSERT(m.finished());
    for (const Endpoint& e : attempted) RC_LOG() << e.to_string() << "\n";

    // What the race should have tried: every address, as this host reaches it.
    std::set<Endpoint> expected;
    auto reach = [&](const Endpoint& v4) {
        if (mode == 1) {
            expected.insert(*synthesize(v4, prefix));
        } else {
            expected.insert(v4);
        }
    };
    for (int i : dns64) reach(global_v4(i));
    for (int i : a) reach(global_v4(i));
    if (mode != 2) {
        for (int i : natives) expected.insert(native_v6(i));
    }
    const std::set<Endpoint> tried(attempted.begin(), attempted.end());
    RC_ASSERT(tried.size() == attempted.size());  // once each
    RC_ASSERT(tried == expected);
    for (const Endpoint& e : attempted) {
        if (mode != 1) RC_ASSERT(!inside(e, prefix));  // never as IPv6 when IPv4 works
        if (mode == 1) RC_ASSERT(e.is_v6());
        if (mode == 2) RC_ASSERT(e.is_v4());
    }
}
