// SPDX-License-Identifier: BSL-1.0
// Properties of v3 §6.3 and ECH (issue 17 items 3 and 4), over random HTTPS
// answers, answer times and handshake outcomes, driven in virtual time:
//   - when handshakes are held (ech with dns=protected, or ech=required), no
//     CryptoReady — the only start of a handshake — comes before the HTTPS
//     answer (or its failure) is in;
//   - the downgrade guard: once a record offers ECH (and ech-fallback is off),
//     or always with ech=required, no handshake starts without ECH;
//   - at most one ECH retry per endpoint, and only a retry opens it again.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cerrno>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

Endpoint v6(int i) { return *Endpoint::parse_address("2001:db8::" + std::to_string(i + 1), 443); }
Endpoint v4(int i) { return *Endpoint::parse_address("192.0.2." + std::to_string(i + 1), 443); }

// How a handshake ends in this world.
enum class Tls { ok, fail, ech_retry, hang };

struct World {
    Config config;
    std::vector<SvcbRecord> records;  // the origin's HTTPS answer
    enum class Https { records, nodata, failure } https = Https::records;
    Duration https_at{}, aaaa_at{}, a_at{};
    std::vector<Endpoint> aaaa, a;
    Duration connect_after{}, tls_after{};
    Tls tls = Tls::ok;
};

// How a counterexample prints.
void showValue(const World& w, std::ostream& os) {
    const char* ech[] = {"off", "opportunistic", "required"};
    os << "ech=" << ech[static_cast<int>(w.config.ech)]
       << " ech-fallback=" << (w.config.ech_fallback ? "on" : "off")
       << " dns=" << (w.config.dns_protected ? "protected" : "plain") << "\n";
    os << "HTTPS at " << format_ms(w.https_at) << " ms: ";
    if (w.https != World::Https::records) {
        os << (w.https == World::Https::nodata ? "none" : "SERVFAIL");
    }
    for (const SvcbRecord& r : w.records) os << to_presentation(r) << " | ";
    os << "\nAAAA at " << format_ms(w.aaaa_at) << " ms:";
    for (const Endpoint& e : w.aaaa) os << ' ' << e.to_string();
    os << "\nA at " << format_ms(w.a_at) << " ms:";
    for (const Endpoint& e : w.a) os << ' ' << e.to_string();
    os << "\nconnect after " << format_ms(w.connect_after) << " ms, tls after "
       << format_ms(w.tls_after) << " ms: " << static_cast<int>(w.tls) << "\n";
}

rc::Gen<World> gen_world(bool retry_world) {
    return rc::gen::exec([retry_world] {
        World w;
        w.config.https = true;
        w.config.success = Success::handshake;
        w.config.sort = SortMode::off;
        w.config.ech = *rc::gen::element(EchMode::opportunistic, EchMode::required);
        w.config.dns_protected = *rc::gen::arbitrary<bool>();
        w.config.ech_fallback =
            w.config.ech == EchMode::opportunistic && *rc::gen::arbitrary<bool>();
        const int n = *rc::gen::inRange(0, 4);
        for (int i = 0; i < n; ++i) {
            SvcbRecord r;
            r.priority = static_cast<std::uint16_t>(i + 1);
            r.target = *rc::gen::arbitrary<bool>() ? "." : "t" + std::to_string(i) + ".example.";
            r.alpn = {"h2"};
            if (retry_world || *rc::gen::arbitrary<bool>()) r.ech = std::vector<std::uint8_t>{1, 2};
            for (int k = *rc::gen::inRange(0, 3); k > 0; --k) {
                r.ipv6hint.push_back(v6(*rc::gen::inRange(0, 6)).with_port(0));
            }
            for (int k = *rc::gen::inRange(0, 3); k > 0; --k) {
                r.ipv4hint.push_back(v4(*rc::gen::inRange(0, 6)).with_port(0));
            }
            w.records.push_back(r);
        }
        w.https = retry_world ? World::Https::records
                              : *rc::gen::element(World::Https::records, World::Https::nodata,
                                                  World::Https::failure);
        auto ms = [](int hi) { return Duration(std::chrono::milliseconds(*rc::gen::inRange(0, hi))); };
        w.https_at = ms(600);
        w.aaaa_at = ms(300);
        w.a_at = ms(300);
        for (int k = *rc::gen::inRange(0, 3); k > 0; --k) w.aaaa.push_back(v6(*rc::gen::inRange(0, 6)));
        for (int k = *rc::gen::inRange(0, 3); k > 0; --k) w.a.push_back(v4(*rc::gen::inRange(0, 6)));
        w.connect_after = ms(200);
        w.tls_after = ms(200);
        w.tls = retry_world ? Tls::ech_retry : *rc::gen::element(Tls::ok, Tls::fail, Tls::hang);
        return w;
    });
}

struct Outcome_ {
    bool finished = false;
    std::optional<TimePoint> https_in;              // when the HTTPS answer (or failure) came
    std::vector<std::pair<TimePoint, bool>> ready;  // when, and whether it offers ECH
    std::map<std::pair<Endpoint, Protocol>, int> opens;
    std::map<std::pair<Endpoint, Protocol>, int> retries;  // accepted handle_ech_retry
    std::set<std::pair<Endpoint, Protocol>> retried_opens;
    bool origin_ech = false;
};

// Runs the race: answers at their times, each connect after connect_after,
// each handshake (started at CryptoReady only) ending as `tls` after tls_after.
Outcome_ run(const World& w) {
    Outcome_ out;
    for (const SvcbRecord& r : w.records) out.origin_ech = out.origin_ech || r.ech.has_value();
    RaceMachine m(w.config);
    const TimePoint t0{std::chrono::seconds(5)};
    TimePoint now = t0;
    std::multimap<TimePoint, std::function<void()>> events;
    std::map<std::uint32_t, std::pair<Endpoint, Protocol>> attempts;
    std::uint32_t serial = 0;
    auto drain = [&] {
        while (auto act = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*act)) {
                const auto key = std::make_pair(o->remote, o->protocol);
                attempts[o->attempt.number()] = key;
                ++out.opens[key];
                m.handle_opened(now, o->attempt);
            } else if (auto* q = std::get_if<Resolve>(&*act)) {
                // A target name's address query fails (its hints stay).
                if (!q->name.empty() && !q->https) {
                    const Resolve ask = *q;
                    events.emplace(now + 1ms, [&m, &now, ask] {
                        m.handle_resolve_failed(now, ask, DnsError::server_failure);
                    });
                }
            } else if (auto* c = std::get_if<Connect>(&*act)) {
                const AttemptId id = c->attempt;
                events.emplace(now + w.connect_after, [&m, &now, id] { m.handle_connected(now, id); });
            } else if (auto* r = std::get_if<CryptoReady>(&*act)) {
                out.ready.emplace_back(now, r->ech() != nullptr);
                const AttemptId id = r->attempt;
                const std::uint32_t k = ++serial;
                if (w.tls == Tls::hang) continue;
                events.emplace(now + w.tls_after, [&, id, k] {
                    switch (w.tls) {
                        case Tls::ok: m.handle_secured(now, id); break;
                        case Tls::fail: m.handle_secure_failed(now, id, ECONNRESET); break;
                        default: {
                            const std::vector<std::uint8_t> configs{9, static_cast<std::uint8_t>(k)};
                            if (m.handle_ech_retry(now, id, configs)) {
                                ++out.retries[attempts[id.number()]];
                            } else {
                                // Refused (no ECH offered; a second retry has failed it
                                // already): the handshake fails as it would.
                                m.handle_secure_failed(now, id, EPROTO);
                            }
                        }
                    }
                });
            }
        }
    };
    RC_ASSERT(static_cast<bool>(m.start_resolving(now)));
    drain();
    const Resolve https(Family::v6, true), aaaa(Family::v6), a(Family::v4);
    events.emplace(t0 + w.https_at, [&] {
        out.https_in = now;
        switch (w.https) {
            case World::Https::records: m.handle_https(now, https, w.records); break;
            case World::Https::nodata: m.handle_https(now, https, nullptr, 0); break;
            case World::Https::failure: m.handle_resolve_failed(now, https, DnsError::server_failure); break;
        }
    });
    events.emplace(t0 + w.aaaa_at, [&] { m.handle_resolved(now, aaaa, w.aaaa); });
    events.emplace(t0 + w.a_at, [&] { m.handle_resolved(now, a, w.a); });
    // Target names are never answered: their hints stand.
    for (int guard = 0; guard < 10000 && !m.finished(); ++guard) {
        const auto deadline = m.next_timeout();
        if (!events.empty() && (!deadline || events.begin()->first <= *deadline)) {
            auto it = events.begin();
            now = std::max(now, it->first);
            auto fn = std::move(it->second);
            events.erase(it);
            fn();
        } else if (deadline) {
            now = std::max(now, *deadline);
            m.handle_timeout(now);
        } else {
            break;  // waiting for what never comes (a hung handshake, a target name)
        }
        drain();
    }
    out.finished = m.finished();
    return out;
}

}  // namespace

RC_GTEST_PROP(V3EchProperties, NoHandshakeBeforeTheHttpsAnswerWhenHeld, ()) {
    const World w = *gen_world(false);
    const Outcome_ out = run(w);
    const bool held = w.config.dns_protected || w.config.ech == EchMode::required;
    for (const auto& [t, offers_ech] : out.ready) {
        if (held) {
            RC_ASSERT(out.https_in.has_value());
            RC_ASSERT(t >= *out.https_in);
        }
        // The downgrade guard: once the origin offers ECH, no plain handshake
        // unless ech-fallback; with ech=required, never a plain one.
        const bool plain = !offers_ech;
        if (w.config.ech == EchMode::required) RC_ASSERT(!plain);
        if (plain && out.origin_ech && w.https == World::Https::records && !w.config.ech_fallback &&
            out.https_in && t >= *out.https_in) {
            RC_FAIL("a handshake without ECH started after the origin offered ECH");
        }
    }
    // Over protected DNS a failed HTTPS query ends the race at once (RFC 9460 §3.1).
    if (w.config.dns_protected && w.https == World::Https::failure) RC_ASSERT(out.finished);
}

RC_GTEST_PROP(V3EchProperties, AtMostOneEchRetryPerEndpoint, ()) {
    const World w = *gen_world(true);
    const Outcome_ out = run(w);
    for (const auto& [key, n] : out.retries) RC_ASSERT(n <= 1);
    for (const auto& [key, n] : out.opens) {
        const auto r = out.retries.find(key);
        RC_ASSERT(n <= 1 + (r == out.retries.end() ? 0 : r->second));
    }
    // Every server rejects ECH here: the race always ends, failed.
    RC_ASSERT(out.finished);
}
