// SPDX-License-Identifier: BSL-1.0
// Property of Happy Eyeballs v3 §6.2 with RFC 9460 §7.1 (issue 17): whatever
// the HTTPS records and the client's TCP ALPN ids (Config::tcp_alpn), every
// TCP attempt offers exactly the ids its record's set (with the implied
// "http/1.1" unless no-default-alpn) shares with the client, never none; a
// record the client can speak to on neither transport has its target never
// asked for, and one it can speak to has it asked.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <vector>

#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"

using namespace eyeballs;

namespace {

const char* const pool[] = {"h2", "http/1.1", "spdy/3", "h3", "x-odd"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}

// The model: the TCP ids a record's service offers (RFC 9460 §7.1, §7.1.1).
std::vector<std::string> tcp_ids(const SvcbRecord& r, const std::vector<std::string>& client) {
    std::vector<std::string> set;
    for (const std::string& id : r.alpn) {
        if (id != "h3") set.push_back(id);
    }
    if (!r.no_default_alpn && !contains(set, "http/1.1")) set.push_back("http/1.1");
    std::vector<std::string> out;
    for (const std::string& id : set) {
        if (contains(client, id)) out.push_back(id);
    }
    return out;
}

}  // namespace

RC_GTEST_PROP(V3Properties, TcpAttemptsOfferOnlyTheClientsIdsAndForeignTargetsAreNotAsked, ()) {
    Config c;
    c.https = true;
    c.quic = *rc::gen::arbitrary<bool>();
    c.sort = SortMode::off;
    c.tcp_alpn.clear();
    for (const char* id : {"h2", "http/1.1", "spdy/3"}) {
        if (*rc::gen::arbitrary<bool>()) c.tcp_alpn.emplace_back(id);
    }
    if (c.tcp_alpn.empty()) c.tcp_alpn.emplace_back("spdy/3");

    const int count = *rc::gen::inRange(1, 5);
    std::vector<SvcbRecord> records;
    for (int i = 0; i < count; ++i) {
        SvcbRecord r;
        r.priority = static_cast<std::uint16_t>(i + 1);
        r.target = "t" + std::to_string(i) + ".example.";
        for (const char* id : pool) {
            if (*rc::gen::arbitrary<bool>()) r.alpn.emplace_back(id);
        }
        r.no_default_alpn = !r.alpn.empty() && *rc::gen::arbitrary<bool>();
        records.push_back(r);
    }

    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(static_cast<bool>(m.start_resolving(now)));
    std::vector<Resolve> targets;  // questions for a record's target
    std::vector<AttemptId> refused;
    std::vector<const Connect*> unused;
    bool offers_ok = true;
    std::string why;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*act)) {
                m.handle_opened(now, o->attempt);
            } else if (auto* r = std::get_if<Resolve>(&*act)) {
                if (!std::string(r->name).empty()) targets.push_back(*r);
            } else if (auto* k = std::get_if<Connect>(&*act)) {
                refused.push_back(k->attempt);
                if (k->protocol != Protocol::tcp || k->service == nullptr) continue;
                const std::string& target = k->service->target;
                const auto rec = std::find_if(records.begin(), records.end(),
                                              [&](const SvcbRecord& x) { return x.target == target; });
                if (rec == records.end()) continue;  // an Alt-Svc or alias end: none here
                const std::vector<std::string> expected = tcp_ids(*rec, c.tcp_alpn);
                if (k->service->alpn != expected || expected.empty()) {
                    offers_ok = false;
                    why = "attempt to " + k->remote.to_string() + " of " + target;
                }
            }
        }
    };
    drain();
    m.handle_https(now, Resolve(Family::v6, true), records);
    m.handle_resolved(now, Family::v6, {*Endpoint::parse_address("2001:db8::99", 443)});
    m.handle_resolved(now, Family::v4, std::vector<Endpoint>{});
    drain();
    for (const SvcbRecord& r : records) RC_LOG() << "record: " << to_presentation(r) << "\n";
    RC_LOG() << "quic " << c.quic << ", tcp_alpn " << c.tcp_alpn.size() << " ids\n";

    // Which targets were asked for: exactly those of records that give a service.
    for (std::size_t i = 0; i < records.size(); ++i) {
        const bool speaks = !tcp_ids(records[i], c.tcp_alpn).empty() ||
                            (c.quic && contains(records[i].alpn, "h3"));
        const bool asked = std::any_of(targets.begin(), targets.end(), [&](const Resolve& q) {
            return std::string(q.name) == records[i].target;
        });
        RC_LOG() << records[i].target << " speaks " << speaks << " asked " << asked << "\n";
        RC_ASSERT(asked == speaks);
    }
    // Answer every target question with one address; refuse every attempt.
    int n = 0;
    const std::vector<Resolve> asked = targets;
    for (const Resolve& q : asked) {
        const std::string addr = q.family == Family::v6 ? "2001:db8::" + std::to_string(++n)
                                                         : "192.0.2." + std::to_string(++n);
        m.handle_resolved(now, q, {*Endpoint::parse_address(addr, 0)});
    }
    drain();
    for (int guard = 0; guard < 1000 && !m.finished(); ++guard) {
        for (AttemptId id : refused) m.handle_connect_failed(now, id, ECONNREFUSED);
        refused.clear();
        drain();
        if (m.finished()) break;
        const auto t = m.next_timeout();
        if (!t) break;
        now = std::max(now, *t);
        m.handle_timeout(now);
        drain();
    }
    RC_LOG() << why << "\n";
    RC_ASSERT(offers_ok);
}
