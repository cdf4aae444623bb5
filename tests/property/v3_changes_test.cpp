// SPDX-License-Identifier: BSL-1.0
// Properties of answers that change during a Happy Eyeballs v3 race (draft
// §4.4, §7; RaceMachine::handle_dns_update, handle_stale and, at the end,
// handle_stale_https). A race of the
// origin's AAAA and A answers — sometimes on an IPv6-only network, where the
// A answer's addresses join the IPv6 list synthesized (NAT64), so that one
// family's list mixes two answers — gets random updates, connect failures
// and timers. After every step:
//   - no attempt in flight before an update was closed or ended by it, and no
//     address is ever attempted twice (an answer change restarts nothing);
//   - the endpoints not yet attempted are exactly the latest answers'
//     endpoints minus those attempted, and each family's list is in RFC 6724
//     order (precedence, then scope) over the complete list, not answer by
//     answer (§7, the draft's issue #95).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "eyeballs/nat64.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/sort.hpp"

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

// AAAA pool: global (precedence 40) and ULA (precedence 3) addresses; A pool:
// global IPv4 addresses (synthesizable under the Well-Known Prefix).
Endpoint aaaa(int i) {
    const std::string text = i % 2 == 0 ? "2001:db8::" + std::to_string(i + 1)
                                        : "fd00::" + std::to_string(i + 1);
    return *Endpoint::parse_address(text, 443);
}
Endpoint a(int i) { return *Endpoint::parse_address("9.9.9." + std::to_string(i + 1), 443); }

std::vector<Endpoint> answer(const std::vector<int>& picks, bool v6) {
    std::vector<Endpoint> out;
    for (const int i : picks) out.push_back(v6 ? aaaa(i) : a(i));
    return out;
}

int key(const Endpoint& e) { return precedence(e) * 32 + (31 - static_cast<int>(scope(e))); }

struct Op {
    int kind = 0;  // 0 AAAA update, 1 A update, 2 the oldest in flight fails, 3 the timer
    std::vector<int> picks;
};

rc::Gen<Op> gen_op() {
    return rc::gen::exec([] {
        Op op;
        op.kind = *rc::gen::inRange(0, 4);
        op.picks = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 5),
                                                         rc::gen::inRange(0, 6));
        return op;
    });
}

}  // namespace

RC_GTEST_PROP(V3ChangeProperties, ChangesRestartNothingAndLeaveTheSortedNewSet, ()) {
    const bool nat64 = *rc::gen::arbitrary<bool>();
    const bool stale = *rc::gen::arbitrary<bool>();
    const auto first6 = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(1, 5),
                                                              rc::gen::inRange(0, 6));
    const auto first4 = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(0, 4),
                                                              rc::gen::inRange(0, 6));
    const auto ops = *rc::gen::container<std::vector<Op>>(*rc::gen::inRange(1, 10), gen_op());

    Config c;
    c.https = true;
    if (nat64) {
        c.ipv4_unavailable = true;
        c.pref64 = Pref64::parse("64:ff9b::/96");
    }
    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(m.start_resolving(now));

    std::vector<Endpoint> latest6 = answer(first6, true);
    std::vector<Endpoint> latest4 = answer(first4, false);
    std::set<Endpoint> attempted;
    std::vector<AttemptId> in_flight;  // in start order
    std::vector<AttemptId> closed;     // by the step being checked
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (const auto* o = std::get_if<OpenSocket>(&*act)) {
                m.handle_opened(now, o->attempt);
            } else if (const auto* cn = std::get_if<Connect>(&*act)) {
                RC_ASSERT(attempted.insert(cn->remote).second);  // never attempted twice
                in_flight.push_back(cn->attempt);
            } else if (const auto* cl = std::get_if<Close>(&*act)) {
                closed.push_back(cl->attempt);
            }
        }
    };
    drain();
    m.handle_https(now, Resolve(Family::v6, true), nullptr, 0);
    if (stale) {
        m.handle_stale(now, Resolve(Family::v6), latest6);
    } else {
        m.handle_resolved(now, Resolve(Family::v6), latest6);
    }
    m.handle_resolved(now, Resolve(Family::v4), latest4);
    drain();

    auto check_pending = [&] {
        // What the latest answers offer, as the race may use it.
        std::set<Endpoint> offered(latest6.begin(), latest6.end());
        for (const Endpoint& e : latest4) offered.insert(nat64 ? *synthesize(e, *c.pref64) : e);
        std::set<Endpoint> want;
        for (const Endpoint& e : offered) {
            if (attempted.count(e) == 0) want.insert(e);
        }
        std::vector<Endpoint> fam[2];
        std::set<Endpoint> got;
        for (const PlanEntry& p : m.plan()) {
            if (p.attempt != 0) continue;
            RC_ASSERT(got.insert(p.remote).second);
            // The editor's copy §8.2: a synthesized address (IPv6-only host)
            // groups and sorts as the IPv4 address it carries.
            const std::optional<Endpoint> v4 = nat64 ? extract_v4(p.remote, *c.pref64) : std::nullopt;
            const Endpoint view = v4 ? *v4 : p.remote;
            fam[view.family() == Family::v6 ? 0 : 1].push_back(view);
        }
        RC_ASSERT(got == want);
        for (const auto& list : fam) {
            for (std::size_t i = 1; i < list.size(); ++i) RC_ASSERT(key(list[i - 1]) >= key(list[i]));
        }
    };
    check_pending();

    bool fresh_due = stale;
    for (const Op& op : ops) {
        if (m.finished()) break;
        closed.clear();
        if (op.kind <= 1) {
            const std::vector<AttemptId> before = in_flight;
            const bool v6 = op.kind == 0;
            (v6 ? latest6 : latest4) = answer(op.picks, v6);
            const Resolve q(v6 ? Family::v6 : Family::v4);
            InputStatus s;
            if (v6 && fresh_due) {
                s = m.handle_resolved(now, q, latest6);  // the stale answer's fresh one
                fresh_due = false;
            } else {
                s = m.handle_dns_update(now, q, v6 ? latest6 : latest4);
            }
            RC_ASSERT(s == InputStatus::accepted);
            drain();
            // Nothing in flight before the change was closed or ended by it.
            for (const AttemptId id : before) {
                RC_ASSERT(std::find(closed.begin(), closed.end(), id) == closed.end());
                const auto rec = m.attempt_record(id);
                RC_ASSERT(rec.has_value());
                RC_ASSERT(rec->state == AttemptRecord::State::in_flight);
            }
        } else if (op.kind == 2) {
            if (in_flight.empty()) continue;
            const AttemptId id = in_flight.front();
            in_flight.erase(in_flight.begin());
            m.handle_connect_failed(now, id, ECONNREFUSED);
            drain();
        } else {
            const auto t = m.next_timeout();
            if (!t) continue;
            now = std::max(now, *t);
            m.handle_timeout(now);
            drain();
        }
        // Attempts closed or failed are no longer in flight.
        in_flight.erase(std::remove_if(in_flight.begin(), in_flight.end(),
                                       [&](AttemptId id) {
                                           const auto rec = m.attempt_record(id);
                                           return !rec || rec->state != AttemptRecord::State::in_flight;
                                       }),
                        in_flight.end());
        if (!m.finished()) check_pending();
    }
}

// ---- §4.4 / §7 for the HTTPS question (RaceMachine::handle_stale_https) -----------
//
// A stale HTTPS answer of random ServiceMode records (targets never
// resolved, so their hints are the endpoints) is raced; connect failures and
// timers run; the fresh answer (other random records, or none) comes at a
// random step. After it:
//   - no attempt in flight before it was closed or ended by it;
//   - no attempt starts for an endpoint of a service the fresh answer does
//     not have (an empty fresh answer keeps the stale one's services);
//   - the endpoints not yet attempted are exactly the hints of the answer in
//     force minus the addresses attempted (nothing attempted twice).

namespace {

struct Rec {
    int priority = 1;
    int target = 0;
    std::vector<int> hints;
};

rc::Gen<Rec> gen_rec() {
    return rc::gen::exec([] {
        Rec r;
        r.priority = *rc::gen::inRange(1, 4);
        r.target = *rc::gen::inRange(0, 3);
        r.hints = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(1, 4),
                                                        rc::gen::inRange(0, 6));
        return r;
    });
}

std::string target_name(int t) { return std::string(1, static_cast<char>('a' + t)) + ".example."; }

std::vector<SvcbRecord> to_records(const std::vector<Rec>& recs) {
    std::vector<SvcbRecord> out;
    for (const Rec& r : recs) {
        SvcbRecord s;
        s.priority = static_cast<std::uint16_t>(r.priority);
        s.target = target_name(r.target);
        s.alpn = {"h2"};
        for (const int h : r.hints) {
            const Endpoint e = aaaa(h).with_port(0);
            if (std::find(s.ipv6hint.begin(), s.ipv6hint.end(), e) == s.ipv6hint.end()) {
                s.ipv6hint.push_back(e);
            }
        }
        out.push_back(std::move(s));
    }
    return out;
}

bool offered_by(const Service* svc, const Endpoint& remote, const std::vector<SvcbRecord>& recs) {
    if (svc == nullptr) return false;
    return std::any_of(recs.begin(), recs.end(), [&](const SvcbRecord& r) {
        return r.priority == svc->priority && r.target == svc->target &&
               std::find(r.ipv6hint.begin(), r.ipv6hint.end(), remote.with_port(0)) !=
                   r.ipv6hint.end();
    });
}

}  // namespace

RC_GTEST_PROP(V3ChangeProperties, FreshHttpsAnswerReplacesTheStaleServices, ()) {
    const auto stale_recs =
        *rc::gen::container<std::vector<Rec>>(*rc::gen::inRange(1, 4), gen_rec());
    const auto fresh_recs =
        *rc::gen::container<std::vector<Rec>>(*rc::gen::inRange(0, 4), gen_rec());
    const auto ops = *rc::gen::container<std::vector<int>>(*rc::gen::inRange(1, 10),
                                                           rc::gen::inRange(0, 2));
    const auto fresh_at = *rc::gen::inRange<std::size_t>(0, ops.size() + 1);
    const std::vector<SvcbRecord> stale = to_records(stale_recs);
    const std::vector<SvcbRecord> fresh = to_records(fresh_recs);

    Config c;
    c.https = true;
    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(m.start_resolving(now));
    std::set<Endpoint> attempted;
    std::vector<AttemptId> in_flight;
    std::vector<AttemptId> closed;
    bool fresh_in = false;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (const auto* o = std::get_if<OpenSocket>(&*act)) {
                if (fresh_in) RC_ASSERT(offered_by(o->service, o->remote, fresh.empty() ? stale : fresh));
                m.handle_opened(now, o->attempt);
            } else if (const auto* cn = std::get_if<Connect>(&*act)) {
                RC_ASSERT(attempted.insert(cn->remote).second);
                in_flight.push_back(cn->attempt);
            } else if (const auto* cl = std::get_if<Close>(&*act)) {
                closed.push_back(cl->attempt);
            }
        }
    };
    auto check_pending = [&] {
        const std::vector<SvcbRecord>& in_force = fresh_in && !fresh.empty() ? fresh : stale;
        std::set<Endpoint> want;
        for (const SvcbRecord& r : in_force) {
            for (const Endpoint& h : r.ipv6hint) {
                if (attempted.count(h.with_port(443)) == 0) want.insert(h.with_port(443));
            }
        }
        std::set<Endpoint> got;
        for (const PlanEntry& p : m.plan()) {
            if (p.attempt == 0) got.insert(p.remote);
        }
        RC_ASSERT(got == want);
    };
    const Resolve https(Family::v6, true);
    drain();
    RC_ASSERT(m.handle_stale_https(now, https, stale) == InputStatus::accepted);
    m.handle_resolved(now, Resolve(Family::v6), std::vector<Endpoint>{});
    m.handle_resolved(now, Resolve(Family::v4), std::vector<Endpoint>{});
    drain();
    check_pending();
    for (std::size_t i = 0; i <= ops.size() && !m.finished(); ++i) {
        closed.clear();
        if (i == fresh_at) {
            const std::vector<AttemptId> before = in_flight;
            RC_ASSERT(m.handle_https(now, https, fresh) == InputStatus::accepted);
            fresh_in = true;
            drain();
            for (const AttemptId id : before) {
                RC_ASSERT(std::find(closed.begin(), closed.end(), id) == closed.end());
            }
            check_pending();
        }
        if (i == ops.size() || m.finished()) break;
        if (ops[i] == 0) {
            if (in_flight.empty()) continue;
            const AttemptId id = in_flight.front();
            in_flight.erase(in_flight.begin());
            m.handle_connect_failed(now, id, ECONNREFUSED);
        } else {
            const auto t = m.next_timeout();
            if (!t) continue;
            now = std::max(now, *t);
            m.handle_timeout(now);
        }
        drain();
        in_flight.erase(std::remove_if(in_flight.begin(), in_flight.end(),
                                       [&](AttemptId id) {
                                           const auto rec = m.attempt_record(id);
                                           return !rec || rec->state != AttemptRecord::State::in_flight;
                                       }),
                        in_flight.end());
        if (!m.finished()) check_pending();
    }
}
