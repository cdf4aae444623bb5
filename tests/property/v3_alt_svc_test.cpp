// SPDX-License-Identifier: BSL-1.0
// Property of README row 6.2 (issue 17 item 9, RFC 7838): whatever the Alt-Svc
// alternatives and the HTTPS records, an attempt is marked as an Alt-Svc
// alternative's (ServiceSource::alt_svc, the trace's "from":"alt-svc") exactly
// when its address, port and ALPN ids are those of an alternative the client
// speaks; its record and the report agree with the action.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <tuple>
#include <vector>

#include "eyeballs/alt_svc.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"

using namespace eyeballs;

namespace {

// What an attempt is, for the model: remote address and port, ALPN ids.
using Tuple = std::tuple<std::string, std::uint16_t, std::vector<std::string>>;

const char* const origin_address = "2001:db8::99";

}  // namespace

RC_GTEST_PROP(V3Properties, AnAttemptIsMarkedAltSvcIffAnAlternativeGaveIt, ()) {
    Config c;
    c.https = true;
    c.quic = *rc::gen::arbitrary<bool>();
    c.sort = SortMode::off;
    // Alternatives: on the origin's host or a name of their own, on 443 (the
    // records' port, so twins of a "." record occur) or 8443.
    const int alternatives = *rc::gen::inRange(0, 4);
    for (int i = 0; i < alternatives; ++i) {
        AltSvc a;
        a.alpn = *rc::gen::element<std::string>("h2", "http/1.1", "h3", "spdy/3");
        if (*rc::gen::arbitrary<bool>()) a.host = "a" + std::to_string(i) + ".example.";
        a.port = *rc::gen::arbitrary<bool>() ? std::uint16_t{443} : std::uint16_t{8443};
        c.alt_svc.push_back(a);
    }
    const int count = *rc::gen::inRange(0, 4);
    std::vector<SvcbRecord> records;
    for (int i = 0; i < count; ++i) {
        SvcbRecord r;
        r.priority = static_cast<std::uint16_t>(i + 1);
        r.target = *rc::gen::arbitrary<bool>() ? "." : "t" + std::to_string(i) + ".example.";
        for (const char* id : {"h3", "h2", "http/1.1"}) {
            if (*rc::gen::arbitrary<bool>()) r.alpn.emplace_back(id);
        }
        r.no_default_alpn = !r.alpn.empty() && *rc::gen::arbitrary<bool>();
        records.push_back(r);
    }
    for (const AltSvc& a : c.alt_svc) RC_LOG() << "alt-svc: " << to_string(a) << "\n";
    for (const SvcbRecord& r : records) RC_LOG() << "record: " << to_presentation(r) << "\n";
    RC_LOG() << "quic " << c.quic << "\n";

    RaceMachine m(c);
    TimePoint now{std::chrono::seconds(10)};
    RC_ASSERT(static_cast<bool>(m.start_resolving(now)));
    std::vector<Resolve> names;  // questions for a target or an alternative's host
    std::vector<std::string> name_texts;
    std::vector<AttemptId> refused;
    std::vector<std::pair<AttemptId, ServiceSource>> seen;
    std::vector<Tuple> marked, unmarked;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*act)) {
                m.handle_opened(now, o->attempt);
            } else if (auto* r = std::get_if<Resolve>(&*act)) {
                if (!r->name.empty()) {
                    names.push_back(*r);
                    name_texts.emplace_back(r->name);
                }
            } else if (auto* k = std::get_if<Connect>(&*act)) {
                refused.push_back(k->attempt);
                const ServiceSource s =
                    k->service != nullptr ? k->service->source : ServiceSource::none;
                seen.emplace_back(k->attempt, s);
                Tuple t{k->remote.address_string(), k->remote.port(),
                        k->service != nullptr ? k->service->alpn : std::vector<std::string>{}};
                (s == ServiceSource::alt_svc ? marked : unmarked).push_back(std::move(t));
            }
        }
    };
    drain();
    m.handle_https(now, Resolve(Family::v6, true), records);
    m.handle_resolved(now, Family::v6, {*Endpoint::parse_address(origin_address, 443)});
    m.handle_resolved(now, Family::v4, std::vector<Endpoint>{});
    drain();
    // Every other name gets an address of its own (AAAA) and no A.
    std::vector<std::pair<std::string, std::string>> addresses;  // name -> address
    for (std::size_t answered = 0; answered < names.size();) {
        const std::size_t end = names.size();
        for (; answered < end; ++answered) {
            const Resolve q = names[answered];
            const std::string name = name_texts[answered];
            if (q.family == Family::v4) {
                m.handle_resolved(now, Resolve(q.family, false, name), std::vector<Endpoint>{});
                continue;
            }
            const std::string addr = "2001:db8::" + std::to_string(addresses.size() + 1);
            addresses.emplace_back(name, addr);
            m.handle_resolved(now, Resolve(q.family, false, name),
                              {*Endpoint::parse_address(addr, 0)});
        }
        drain();
    }
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

    // The model: each alternative the client speaks (RFC 9460 §7.1's filter:
    // h3 needs QUIC, a TCP id must be in the default h2,http/1.1) on each
    // address of its host.
    std::vector<Tuple> from_alt_svc;
    for (const AltSvc& a : c.alt_svc) {
        const bool quic = a.alpn == "h3";
        if (quic ? !c.quic : (a.alpn != "h2" && a.alpn != "http/1.1")) continue;
        if (a.host.empty()) from_alt_svc.emplace_back(origin_address, a.port,
                                                       std::vector<std::string>{a.alpn});
        for (const auto& [name, addr] : addresses) {
            if (name == a.host) {
                from_alt_svc.emplace_back(addr, a.port, std::vector<std::string>{a.alpn});
            }
        }
    }
    auto from_alternative = [&](const Tuple& t) {
        return std::find(from_alt_svc.begin(), from_alt_svc.end(), t) != from_alt_svc.end();
    };
    RC_CLASSIFY(!marked.empty(), "an alternative raced");
    RC_CLASSIFY(!unmarked.empty(), "a record or fallback raced");
    for (const Tuple& t : marked) RC_ASSERT(from_alternative(t));
    for (const Tuple& t : unmarked) RC_ASSERT(!from_alternative(t));
    // The report's records say what the actions said.
    const RaceReport r = m.report();
    RC_ASSERT(r.attempts.size() == seen.size());
    for (const auto& [id, source] : seen) {
        const auto rec = std::find_if(r.attempts.begin(), r.attempts.end(),
                                      [&](const AttemptRecord& a) { return a.id == id; });
        RC_ASSERT(rec != r.attempts.end());
        RC_ASSERT(rec->source == source);
    }
}
