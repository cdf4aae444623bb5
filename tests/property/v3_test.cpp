// SPDX-License-Identifier: BSL-1.0
// Properties of Happy Eyeballs v3 (issue 10): the order in which a race tries
// the endpoints of random HTTPS answers, against an independent model of v3 §5
// (groups: QUIC before TCP, ECH before none, SvcPriority; the origin's own
// addresses last; one attempt per address, port and transport; families
// interleaved inside each group), and plan() agreeing with the race.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "eyeballs/history.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

struct GenRecord {
    int target = 0;  // 0: "." (the origin), else tN.example.
    bool h3 = false;
    bool h2 = false;
    bool no_default_alpn = false;
    bool ech = false;
    bool port8443 = false;
    std::vector<int> v6hints, v4hints;  // indexes into the pools
};

Endpoint v6(int i, std::uint16_t port) {
    return *Endpoint::parse_address("2001:db8::" + std::to_string(i + 1), port);
}
Endpoint v4(int i, std::uint16_t port) {
    return *Endpoint::parse_address("192.0.2." + std::to_string(i + 1), port);
}

rc::Gen<GenRecord> gen_record() {
    return rc::gen::exec([] {
        GenRecord r;
        r.target = *rc::gen::inRange(0, 3);
        r.h3 = *rc::gen::arbitrary<bool>();
        r.h2 = *rc::gen::arbitrary<bool>();
        r.no_default_alpn = *rc::gen::arbitrary<bool>();
        r.ech = *rc::gen::arbitrary<bool>();
        r.port8443 = *rc::gen::arbitrary<bool>();
        r.v6hints = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(0, 5));
        r.v4hints = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(0, 5));
        return r;
    });
}

using Key = std::pair<Endpoint, Protocol>;

// The model: every endpoint with its group, deduplicated, then picked group by
// group with families interleaved (IPv6 first when the first group has it).
std::vector<Key> model_order(const std::vector<GenRecord>& recs, const std::vector<int>& prio,
                             const std::vector<int>& aaaa, const std::vector<int>& a, bool quic) {
    struct Item {
        std::tuple<int, int, int> rank;
        Key key;
    };
    std::vector<Item> items;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const GenRecord& r = recs[i];
        const std::uint16_t port = r.port8443 ? 8443 : 443;
        std::vector<Endpoint> addrs;
        if (r.target == 0) {
            for (int x : aaaa) addrs.push_back(v6(x, port));
            for (int x : a) addrs.push_back(v4(x, port));
        } else {
            for (int x : r.v6hints) addrs.push_back(v6(x, port));
            for (int x : r.v4hints) addrs.push_back(v4(x, port));
        }
        const bool has_quic = quic && r.h3;
        const bool has_tcp = r.h2 || !r.no_default_alpn;
        for (const Protocol p : {Protocol::quic, Protocol::tcp}) {
            if ((p == Protocol::quic && !has_quic) || (p == Protocol::tcp && !has_tcp)) continue;
            for (const Endpoint& e : addrs) {
                items.push_back({{p == Protocol::quic ? 0 : 1, r.ech ? 0 : 1, prio[i]}, {e, p}});
            }
        }
    }
    for (int x : aaaa) items.push_back({{9, 9, 1 << 20}, {v6(x, 443), Protocol::tcp}});
    for (int x : a) items.push_back({{9, 9, 1 << 20}, {v4(x, 443), Protocol::tcp}});
    // One per (address, port, transport): the best group keeps it.
    std::vector<Item> kept;
    for (const Item& it : items) {
        auto same = std::find_if(kept.begin(), kept.end(), [&](const Item& k) { return k.key == it.key; });
        if (same == kept.end()) {
            kept.push_back(it);
        } else if (it.rank < same->rank) {
            kept.erase(same);
            kept.push_back(it);
        }
    }
    std::stable_sort(kept.begin(), kept.end(),
                     [](const Item& x, const Item& y) { return x.rank < y.rank; });
    std::vector<Key> out;
    bool first = true;
    Family last = Family::v6;
    while (!kept.empty()) {
        const auto best = kept.front().rank;
        auto in_group = [&](Family f) {
            return std::find_if(kept.begin(), kept.end(), [&](const Item& k) {
                return k.rank == best && k.key.first.family() == f;
            });
        };
        Family f;
        if (first) {
            f = in_group(Family::v6) != kept.end() ? Family::v6 : Family::v4;
        } else {
            const Family other = last == Family::v6 ? Family::v4 : Family::v6;
            f = in_group(other) != kept.end() ? other : last;
            if (in_group(f) == kept.end()) f = other;
        }
        auto it = in_group(f);
        out.push_back(it->key);
        kept.erase(it);
        last = f;
        first = false;
    }
    return out;
}

}  // namespace

RC_GTEST_PROP(V3Properties, AttemptOrderFollowsTheGroupModel, ()) {
    const auto recs = *rc::gen::container<std::vector<GenRecord>>(*rc::gen::inRange(1, 5), gen_record());
    // Distinct priorities (the shuffle of equal ones has its own scenarios).
    std::vector<int> prio(recs.size());
    for (std::size_t i = 0; i < prio.size(); ++i) prio[i] = static_cast<int>(i) + 1;
    std::vector<int> shuffled = prio;
    for (std::size_t i = shuffled.size(); i > 1; --i) {
        std::swap(shuffled[i - 1], shuffled[*rc::gen::inRange<std::size_t>(0, i)]);
    }
    const auto aaaa = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(0, 5));
    const auto a = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(0, 5));
    const bool quic = *rc::gen::arbitrary<bool>();
    // An ipv6hint counts as the AAAA answer (v3 §4.2.1, issue 17): an HTTPS
    // answer with one starts the race at once, before the origin's answers
    // the model assumes are in; such answers come last here.
    const bool any_v6_hint = std::any_of(recs.begin(), recs.end(),
                                         [](const GenRecord& g) { return !g.v6hints.empty(); });
    const bool https_first = *rc::gen::arbitrary<bool>() && !any_v6_hint;

    std::vector<SvcbRecord> records;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const GenRecord& g = recs[i];
        SvcbRecord r;
        r.priority = static_cast<std::uint16_t>(shuffled[i]);
        r.target = g.target == 0 ? "." : "t" + std::to_string(g.target) + ".example.";
        if (g.h3) r.alpn.push_back("h3");
        if (g.h2) r.alpn.push_back("h2");
        r.no_default_alpn = g.no_default_alpn && !r.alpn.empty();
        if (g.ech) r.ech = std::vector<std::uint8_t>{0, 1};
        if (g.port8443) r.port = 8443;
        for (int x : g.v6hints) r.ipv6hint.push_back(v6(x, 0));
        for (int x : g.v4hints) r.ipv4hint.push_back(v4(x, 0));
        records.push_back(r);
    }
    std::vector<GenRecord> effective = recs;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        effective[i].no_default_alpn = records[i].no_default_alpn;
    }

    Config c;
    c.https = true;
    c.quic = quic;
    c.sort = SortMode::off;
    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(static_cast<bool>(m.start_resolving(now)));
    std::vector<Key> tried;
    std::vector<AttemptId> refused;
    std::vector<PlanEntry> plan_at_start;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*act)) {
                if (plan_at_start.empty()) plan_at_start = m.plan();
                m.handle_opened(now, o->attempt);
            } else if (auto* k = std::get_if<Connect>(&*act)) {
                tried.emplace_back(k->remote, k->protocol);
                refused.push_back(k->attempt);
            }
        }
    };
    drain();
    std::vector<Endpoint> aaaa_eps, a_eps;
    for (int x : aaaa) aaaa_eps.push_back(v6(x, 443));
    for (int x : a) a_eps.push_back(v4(x, 443));
    // Everything arrives before the first attempt may start (v3 §4.2 waits
    // for AAAA and HTTPS): HTTPS, A, AAAA — the origin's answers then replace
    // the hints of "." records — or A, AAAA, HTTPS.
    if (https_first) m.handle_https(now, Resolve(Family::v6, true), records);
    m.handle_resolved(now, Family::v4, a_eps);
    m.handle_resolved(now, Family::v6, aaaa_eps);
    if (!https_first) m.handle_https(now, Resolve(Family::v6, true), records);
    drain();
    // Every connect is refused at once; timers run until nothing is left.
    for (int guard = 0; guard < 1000; ++guard) {
        for (AttemptId id : refused) m.handle_connect_failed(now, id, ECONNREFUSED);
        refused.clear();
        drain();
        if (m.finished() || (m.candidates_left() == 0 && m.attempts_in_flight() == 0)) break;
        const auto t = m.next_timeout();
        RC_ASSERT(t.has_value());
        now = std::max(now, *t);
        m.handle_timeout(now);
        drain();
    }
    const std::vector<Key> expected = model_order(effective, shuffled, aaaa, a, quic);
    for (const SvcbRecord& r : records) RC_LOG() << "record: " << to_presentation(r) << "\n";
    for (const Key& k : tried) RC_LOG() << "tried: " << k.first.to_string() << " " << protocol_name(k.second) << "\n";
    for (const Key& k : expected) RC_LOG() << "expected: " << k.first.to_string() << " " << protocol_name(k.second) << "\n";
    RC_ASSERT(tried == expected);
    // plan() at the first attempt named the same order.
    if (!tried.empty()) {
        std::vector<Key> planned;
        for (const PlanEntry& p : plan_at_start) planned.emplace_back(p.remote, p.protocol);
        RC_ASSERT(planned == expected);
    }
}

// Issue 17, v3 §4.1 and RFC 9460 §3, §9.1: whatever the HTTPS answers say,
// every name's questions go out HTTPS (when asked), AAAA, A, back to back;
// the race's first three actions are the origin's; only the origin's HTTPS
// question is port-prefixed, and only off port 443.
RC_GTEST_PROP(V3Properties, QueriesGoHttpsAaaaA, ()) {
    const std::uint16_t ports[] = {443, 8443, 80};
    Config c;
    c.https = true;
    c.port = ports[*rc::gen::inRange(0, 3)];
    c.alias_limit = static_cast<std::uint32_t>(*rc::gen::inRange(1, 4));
    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(static_cast<bool>(m.start_resolving(now)));
    std::vector<Resolve> asked;
    std::vector<std::string> names;
    std::vector<Resolve> https_open;  // HTTPS questions not yet answered
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* r = std::get_if<Resolve>(&*act)) {
                asked.push_back(*r);
                names.emplace_back(r->name);
                if (r->https) https_open.push_back(*r);
            } else if (auto* o = std::get_if<OpenSocket>(&*act)) {
                m.handle_opened(now, o->attempt);
            }
        }
    };
    drain();
    // Answer each HTTPS question with an alias or ServiceMode records.
    for (int hop = 0; hop < 6 && !https_open.empty(); ++hop) {
        const Resolve q = https_open.front();
        const std::string qname(q.name);
        https_open.erase(https_open.begin());
        std::vector<SvcbRecord> recs;
        if (*rc::gen::arbitrary<bool>()) {
            SvcbRecord alias;
            alias.priority = 0;
            alias.target = "a" + std::to_string(*rc::gen::inRange(0, 4)) + ".example.";
            recs.push_back(alias);
        } else {
            const int n = *rc::gen::inRange(0, 3);
            for (int i = 0; i < n; ++i) {
                SvcbRecord r;
                r.priority = static_cast<std::uint16_t>(i + 1);
                const int t = *rc::gen::inRange(0, 3);
                r.target = t == 0 ? "." : "s" + std::to_string(t) + ".example.";
                recs.push_back(r);
            }
        }
        m.handle_https(now, Resolve(Family::v6, true, qname), recs);
        drain();
    }
    for (std::size_t i = 0; i < asked.size(); ++i) RC_LOG() << to_string(Action{asked[i]}) << "\n";
    RC_ASSERT(asked.size() >= 3u);
    RC_ASSERT(asked[0].https && names[0].empty());
    RC_ASSERT(!asked[1].https && asked[1].family == Family::v6 && names[1].empty());
    RC_ASSERT(!asked[2].https && asked[2].family == Family::v4 && names[2].empty());
    for (std::size_t i = 0; i < asked.size(); ++i) {
        const bool origin_https = asked[i].https && names[i].empty();
        RC_ASSERT(asked[i].port_prefix == (origin_https && c.port != 443 ? c.port : 0));
        if (asked[i].https || asked[i].family != Family::v6) continue;
        // An AAAA question is followed at once by the same name's A question,
        // and no HTTPS question for that name comes after it.
        RC_ASSERT(i + 1 < asked.size());
        RC_ASSERT(!asked[i + 1].https && asked[i + 1].family == Family::v4 && names[i + 1] == names[i]);
        for (std::size_t j = i + 1; j < asked.size(); ++j) {
            RC_ASSERT(!(asked[j].https && names[j] == names[i]));
        }
    }
}

// Issue 17 item 8: with Config::max_in_flight, never more attempts in flight
// than the cap, whatever fails or hangs; and the race still tries everything.
RC_GTEST_PROP(V3Properties, NeverMoreInFlightThanTheCap, ()) {
    Config c;
    c.max_in_flight = static_cast<std::uint32_t>(*rc::gen::inRange(1, 5));
    c.attempt_timeout = std::chrono::milliseconds(*rc::gen::inRange(300, 3000));
    const int n = *rc::gen::inRange(1, 9);
    std::vector<Endpoint> remotes;
    for (int i = 0; i < n; ++i) remotes.push_back(i % 2 == 0 ? v6(i, 443) : v4(i, 443));
    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(static_cast<bool>(m.start(now, remotes)));
    std::vector<AttemptId> connecting;
    std::uint32_t most = 0;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*act)) m.handle_opened(now, o->attempt);
            if (auto* k = std::get_if<Connect>(&*act)) connecting.push_back(k->attempt);
            most = std::max(most, m.attempts_in_flight());
        }
    };
    drain();
    for (int guard = 0; guard < 200 && !m.finished(); ++guard) {
        if (!connecting.empty() && *rc::gen::arbitrary<bool>()) {
            const std::size_t i = *rc::gen::inRange<std::size_t>(0, connecting.size());
            m.handle_connect_failed(now, connecting[i], ECONNREFUSED);
            connecting.erase(connecting.begin() + static_cast<std::ptrdiff_t>(i));
        } else if (const auto t = m.next_timeout()) {
            now = std::max(now, *t);
            m.handle_timeout(now);
        }
        drain();
        RC_ASSERT(m.attempts_in_flight() <= c.max_in_flight);
    }
    RC_ASSERT(most <= c.max_in_flight);
    RC_ASSERT(m.finished());
    RC_ASSERT(m.attempts_started() == static_cast<std::uint32_t>(n));
}

namespace {

// Issue 17 item 8: while History marks QUIC broken on the race's network, no
// QUIC attempt starts before a TCP one: every TCP endpoint the race has is
// tried first (Rank::quic_broken ranks QUIC after every tier).
RC_GTEST_PROP(V3Properties, QuicNeverFirstWhileMarkedBroken, ()) {
    auto recs = *rc::gen::container<std::vector<GenRecord>>(*rc::gen::inRange(1, 5), gen_record());
    std::vector<SvcbRecord> records;
    for (std::size_t i = 0; i < recs.size(); ++i) {
        const GenRecord& g = recs[i];
        SvcbRecord r;
        r.priority = static_cast<std::uint16_t>(i + 1);
        r.target = ".";  // the origin: every address is known before the start
        if (g.h3) r.alpn.push_back("h3");
        if (g.h2) r.alpn.push_back("h2");
        r.no_default_alpn = g.no_default_alpn && !r.alpn.empty();
        if (g.ech) r.ech = std::vector<std::uint8_t>{0, 1};
        if (g.port8443) r.port = 8443;
        for (int x : g.v6hints) r.ipv6hint.push_back(v6(x, 0));
        for (int x : g.v4hints) r.ipv4hint.push_back(v4(x, 0));
        records.push_back(r);
    }
    const auto aaaa = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(1, 3), rc::gen::inRange(0, 5));
    const auto a = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 3), rc::gen::inRange(0, 5));
    const bool other_network = *rc::gen::arbitrary<bool>();

    History history;
    TimePoint now{std::chrono::seconds(10)};
    history.record_quic_broken(other_network ? "elsewhere" : "", now - 1min);
    Config c;
    c.https = true;
    c.quic = true;
    c.history = &history;
    RaceMachine m(c);
    RC_ASSERT(static_cast<bool>(m.start_resolving(now)));
    std::vector<Protocol> tried;
    std::vector<AttemptId> refused;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*act)) m.handle_opened(now, o->attempt);
            if (auto* k = std::get_if<Connect>(&*act)) {
                tried.push_back(k->protocol);
                refused.push_back(k->attempt);
            }
        }
    };
    drain();
    std::vector<Endpoint> aaaa_eps, a_eps;
    for (int x : aaaa) aaaa_eps.push_back(v6(x, 443));
    for (int x : a) a_eps.push_back(v4(x, 443));
    m.handle_resolved(now, Family::v4, a_eps);
    m.handle_resolved(now, Family::v6, aaaa_eps);
    m.handle_https(now, Resolve(Family::v6, true), records);
    drain();
    for (int guard = 0; guard < 1000 && !m.finished(); ++guard) {
        for (AttemptId id : refused) m.handle_connect_failed(now, id, ECONNREFUSED);
        refused.clear();
        drain();
        const auto t = m.next_timeout();
        if (m.finished() || !t) break;
        now = std::max(now, *t);
        m.handle_timeout(now);
        drain();
    }
    const bool any_quic = std::find(tried.begin(), tried.end(), Protocol::quic) != tried.end();
    const bool any_tcp = std::find(tried.begin(), tried.end(), Protocol::tcp) != tried.end();
    RC_ASSERT(any_tcp);  // the origin's AAAA answer is never empty here
    if (other_network) {
        // Another network's mark is not this one's: QUIC, when there, is first.
        if (any_quic) RC_ASSERT(tried.front() == Protocol::quic);
    } else {
        // Marked here: the TCP attempts all come before the first QUIC one.
        const auto first_quic = std::find(tried.begin(), tried.end(), Protocol::quic);
        RC_ASSERT(std::find(first_quic, tried.end(), Protocol::tcp) == tried.end());
    }
}

}  // namespace
