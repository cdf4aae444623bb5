// SPDX-License-Identifier: BSL-1.0
// RaceMachine with Happy Eyeballs v3 (issue 10, config.https): the API an
// embedder sees — Resolve actions naming targets, HTTPS answers, services on
// the actions, plan(), handshake success. The race rules themselves are
// pinned by the v3_*.scn scenarios; these tests pin the C++ surface.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "eyeballs/alt_svc.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;

namespace {

Endpoint ep(const char* text, std::uint16_t port = 443) { return *Endpoint::parse(text, port); }
SvcbRecord rec(const char* text) { return *parse_svcb_presentation(text); }

struct V3 {
    explicit V3(Config c = https_config()) : m(std::move(c)) {}
    static Config https_config() {
        Config c;
        c.https = true;
        return c;
    }
    TimePoint t0{std::chrono::seconds(50)};
    RaceMachine m;
    std::vector<Resolve> resolves;
    std::vector<std::string> names;  // copies, as an adapter keeps them
    std::vector<Connect> connects;
    std::vector<OpenSocket> opens;
    void drain(TimePoint now) {
        while (auto a = m.poll_action()) {
            if (auto* r = std::get_if<Resolve>(&*a)) {
                resolves.push_back(*r);
                names.emplace_back(r->name);
            }
            if (auto* o = std::get_if<OpenSocket>(&*a)) {
                opens.push_back(*o);
                m.handle_opened(now, o->attempt);
            }
            if (auto* c = std::get_if<Connect>(&*a)) connects.push_back(*c);
        }
    }
};

TEST(V3Api, HttpsOffAsksNoHttpsAndIgnoresHttpsAnswers) {
    V3 v{Config{}};
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    ASSERT_EQ(v.resolves.size(), 2u);
    EXPECT_FALSE(v.resolves[0].https);
    EXPECT_FALSE(v.resolves[1].https);
    v.m.handle_https(v.t0, Resolve(Family::v6, true), std::vector<SvcbRecord>{rec("1 . alpn=h2")});
    v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
    v.drain(v.t0);
    ASSERT_EQ(v.connects.size(), 1u);
    EXPECT_EQ(v.connects[0].service, nullptr);
    EXPECT_TRUE(v.m.services().empty());
}

// README row 6.2 (issue 17 item 9): an attempt says whether its service came
// from an Alt-Svc alternative or an HTTPS record, on the action, in its
// record and in the report; a plain A/AAAA attempt has none.
TEST(V3Api, AttemptsSayWhetherTheirServiceCameFromAltSvcOrAnHttpsRecord) {
    Config c = V3::https_config();
    c.alt_svc = {AltSvc{"h2", "", 8443, 3600, false}};  // h2=":8443": the origin's host
    V3 v{c};
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    ASSERT_EQ(v.resolves.size(), 3u);  // no name to ask: the alternative is the origin's
    v.m.handle_https(v.t0, v.resolves[0], std::vector<SvcbRecord>{rec("1 . alpn=h2")});
    v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
    v.m.handle_resolved(v.t0, Family::v4, std::vector<Endpoint>{});
    v.drain(v.t0);
    v.m.handle_timeout(v.t0 + 250ms);
    v.drain(v.t0 + 250ms);
    ASSERT_EQ(v.connects.size(), 2u);
    // Ranked first, the alternative: its port, its one ALPN id.
    ASSERT_NE(v.connects[0].service, nullptr);
    EXPECT_EQ(v.connects[0].remote, ep("2001:db8::1", 8443));
    EXPECT_EQ(v.connects[0].service->source, ServiceSource::alt_svc);
    EXPECT_EQ(to_string(Action{v.connects[0]}), "connect #1 [2001:db8::1]:8443 tcp alpn=h2 alt-svc");
    ASSERT_NE(v.connects[1].service, nullptr);
    EXPECT_EQ(v.connects[1].remote, ep("2001:db8::1"));
    EXPECT_EQ(v.connects[1].service->source, ServiceSource::https_record);
    EXPECT_EQ(to_string(Action{v.connects[1]}), "connect #2 [2001:db8::1]:443 tcp alpn=h2,http/1.1");
    EXPECT_EQ(v.m.attempt_record(v.connects[0].attempt)->source, ServiceSource::alt_svc);
    v.m.handle_connected(v.t0 + 260ms, v.connects[1].attempt);
    const RaceReport r = v.m.report();
    ASSERT_EQ(r.outcome, Outcome::connected);
    ASSERT_EQ(r.attempts.size(), 2u);
    EXPECT_EQ(r.attempts[0].source, ServiceSource::alt_svc);
    EXPECT_EQ(r.attempts[1].source, ServiceSource::https_record);
    EXPECT_EQ(r.source, ServiceSource::https_record);  // the winner's

    V3 plain{Config{}};
    ASSERT_TRUE(plain.m.start_resolving(plain.t0));
    plain.drain(plain.t0);
    plain.m.handle_resolved(plain.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
    plain.drain(plain.t0);
    ASSERT_EQ(plain.connects.size(), 1u);
    plain.m.handle_connected(plain.t0 + 5ms, plain.connects[0].attempt);
    const RaceReport pr = plain.m.report();
    ASSERT_EQ(pr.attempts.size(), 1u);
    EXPECT_EQ(pr.attempts[0].source, ServiceSource::none);
    EXPECT_EQ(pr.source, ServiceSource::none);
    EXPECT_STREQ(service_source_name(ServiceSource::alt_svc), "alt-svc");
    EXPECT_STREQ(service_source_name(ServiceSource::https_record), "https-record");
    EXPECT_STREQ(service_source_name(ServiceSource::none), "none");
}

TEST(V3Api, ResolveActionsNameTargetsAndAnswersFindThemByName) {
    V3 v;
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    // v3 §4.1: HTTPS, then AAAA, then A, back to back.
    ASSERT_EQ(v.resolves.size(), 3u);
    EXPECT_TRUE(v.resolves[0].https);
    EXPECT_TRUE(v.resolves[0].name.empty());
    EXPECT_EQ(v.resolves[0].port_prefix, 0) << "port 443: no prefix (RFC 9460 §9.1)";
    EXPECT_EQ(v.resolves[1], Resolve(Family::v6));
    EXPECT_EQ(v.resolves[2], Resolve(Family::v4));
    v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{});
    v.m.handle_resolved(v.t0, Family::v4, std::vector<Endpoint>{});
    v.m.handle_https(v.t0, v.resolves[0],
                     std::vector<SvcbRecord>{rec("1 svc.example.net. alpn=h2 port=8443")});
    v.drain(v.t0);
    ASSERT_EQ(v.resolves.size(), 5u);
    EXPECT_EQ(v.names[3], "svc.example.net.");
    EXPECT_EQ(v.resolves[3].family, Family::v6);
    EXPECT_EQ(v.resolves[4].family, Family::v4);
    EXPECT_TRUE(v.connects.empty()) << "no address yet";
    // The answer is matched by name, without case, from the caller's own copy.
    const std::string upper = "SVC.Example.NET.";
    v.m.handle_resolved(v.t0 + 1ms, Resolve(Family::v4, false, upper),
                        std::vector<Endpoint>{ep("192.0.2.7", 1)});
    v.drain(v.t0 + 1ms);
    ASSERT_EQ(v.connects.size(), 1u);
    EXPECT_EQ(v.connects[0].remote, ep("192.0.2.7", 8443)) << "the service's port, not the answer's";
    ASSERT_NE(v.connects[0].service, nullptr);
    EXPECT_EQ(v.connects[0].service->alpn, (std::vector<std::string>{"h2", "http/1.1"}));
    EXPECT_EQ(v.connects[0].service->port, 8443);
    EXPECT_EQ(v.connects[0].protocol, Protocol::tcp);
    // An answer for a name never asked is ignored.
    v.m.handle_resolved(v.t0 + 2ms, Resolve(Family::v6, false, "other.example."),
                        std::vector<Endpoint>{ep("2001:db8::9")});
    EXPECT_EQ(v.m.candidates_left(), 0u);
}

TEST(V3Api, QuicEndpointsOnlyWhenTheCallerSpeaksQuic) {
    for (const bool quic : {false, true}) {
        Config c = V3::https_config();
        c.quic = quic;
        V3 v(c);
        ASSERT_TRUE(v.m.start_resolving(v.t0));
        v.drain(v.t0);
        v.m.handle_https(v.t0, v.resolves[0], std::vector<SvcbRecord>{rec("1 . alpn=h3,h2")});
        v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
        v.m.handle_resolved(v.t0, Family::v4, std::vector<Endpoint>{});
        v.drain(v.t0);
        ASSERT_EQ(v.opens.size(), 1u);
        EXPECT_EQ(v.opens[0].protocol, quic ? Protocol::quic : Protocol::tcp);
        const std::vector<PlanEntry> plan = v.m.plan();
        // quic: QUIC h3, then TCP h2 (the fallback duplicate of the TCP one is
        // dropped); TCP only: the one TCP endpoint.
        ASSERT_EQ(plan.size(), quic ? 2u : 1u);
        EXPECT_EQ(plan[0].attempt, 1u);
        if (quic) {
            EXPECT_EQ(plan[1].protocol, Protocol::tcp);
            EXPECT_EQ(plan[1].attempt, 0u);
            ASSERT_NE(plan[1].service, nullptr);
            EXPECT_EQ(plan[1].service->alpn, (std::vector<std::string>{"h2", "http/1.1"}));
        }
    }
}

TEST(V3Api, PlanListsHintsInGroupOrderWithoutChangingTheRace) {
    V3 v;
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    v.m.handle_https(v.t0, v.resolves[0],
                     std::vector<SvcbRecord>{
                         rec("2 b.example. ipv4hint=192.0.2.2"),
                         rec("1 a.example. ipv6hint=2001:db8::a ipv4hint=192.0.2.1")});
    const std::vector<PlanEntry> before = v.m.plan();
    const std::vector<PlanEntry> again = v.m.plan();
    ASSERT_EQ(before.size(), 3u);
    ASSERT_EQ(again.size(), 3u);
    EXPECT_EQ(before[0].remote, ep("2001:db8::a"));
    EXPECT_EQ(before[1].remote, ep("192.0.2.1"));
    EXPECT_EQ(before[2].remote, ep("192.0.2.2"));
    // The ipv6hint counts as the AAAA answer (v3 §4.2.1): attempt 1 started
    // at the HTTPS answer, on the hint.
    for (std::size_t i = 0; i < before.size(); ++i) {
        EXPECT_TRUE(before[i].hint);
        EXPECT_EQ(before[i].attempt, i == 0 ? 1u : 0u);
        EXPECT_EQ(again[i].remote, before[i].remote);
        EXPECT_EQ(again[i].attempt, before[i].attempt);
    }
    EXPECT_EQ(v.m.attempts_started(), 1u) << "plan() is read-only";
    EXPECT_EQ(v.m.candidates_left(), 2u);
}

TEST(V3Api, HandshakeSuccessWaitsForHandleSecured) {
    Config c = V3::https_config();
    c.success = Success::handshake;
    V3 v(c);
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    v.m.handle_https(v.t0, v.resolves[0], nullptr, 0);
    v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
    v.drain(v.t0);
    ASSERT_EQ(v.connects.size(), 1u);
    const AttemptId id = v.connects[0].attempt;
    v.m.handle_connected(v.t0 + 100ms, id);
    v.drain(v.t0 + 100ms);
    EXPECT_FALSE(v.m.finished());
    EXPECT_EQ(v.m.attempts_in_flight(), 1u);
    // The attempt timer (250 ms) moved to the connect + 250 ms.
    v.m.handle_resolved(v.t0 + 100ms, Family::v4, std::vector<Endpoint>{ep("192.0.2.1")});
    ASSERT_TRUE(v.m.next_timeout());
    EXPECT_EQ(*v.m.next_timeout(), v.t0 + 350ms);
    v.m.handle_secured(v.t0 + 120ms, id);
    v.drain(v.t0 + 120ms);
    ASSERT_TRUE(v.m.finished());
    EXPECT_EQ(v.m.report().winner, id);
}

TEST(V3Api, HandshakeFailureIsStageTls) {
    Config c = V3::https_config();
    c.success = Success::handshake;
    V3 v(c);
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    v.m.handle_resolve_failed(v.t0, v.resolves[0], ETIMEDOUT);
    v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
    v.m.handle_resolved(v.t0, Family::v4, std::vector<Endpoint>{});
    v.drain(v.t0);
    ASSERT_EQ(v.connects.size(), 1u);
    v.m.handle_secured(v.t0, v.connects[0].attempt);  // not connected yet: ignored
    EXPECT_FALSE(v.m.finished());
    v.m.handle_connected(v.t0 + 5ms, v.connects[0].attempt);
    v.m.handle_secure_failed(v.t0 + 9ms, v.connects[0].attempt, ECONNRESET);
    v.drain(v.t0 + 9ms);
    ASSERT_TRUE(v.m.finished());
    const RaceReport r = v.m.report();
    ASSERT_FALSE(r.errors.empty());
    EXPECT_EQ(r.errors.back().stage, Stage::tls);
    EXPECT_EQ(r.errors.back().code, ECONNRESET);
    EXPECT_EQ(r.errors.back().message(), "TLS handshake with [2001:db8::1]:443: ECONNRESET");
    // The failed HTTPS query recorded nothing (HTTPS is optional).
    for (const Error& e : r.errors) EXPECT_NE(e.stage == Stage::resolve && e.code == ETIMEDOUT, true);
}

TEST(V3Api, QuicHandshakeFailureWhileConnectingIsStageTls) {
    // A QUIC attempt's handshake is its connect: its TLS failure comes while
    // it is connecting, is recorded at stage tls, and the race goes on to TCP.
    // A TCP attempt that is only connecting ignores handle_secure_failed.
    Config c = V3::https_config();
    c.quic = true;
    c.success = Success::handshake;
    V3 v(c);
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    v.m.handle_https(v.t0, v.resolves[0], std::vector<SvcbRecord>{rec("1 . alpn=h3,h2")});
    v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
    v.m.handle_resolved(v.t0, Family::v4, std::vector<Endpoint>{});
    v.drain(v.t0);
    ASSERT_EQ(v.connects.size(), 1u);
    ASSERT_EQ(v.connects[0].protocol, Protocol::quic);
    v.m.handle_secure_failed(v.t0 + 4ms, v.connects[0].attempt, EPROTO, "certificate verify failed");
    v.drain(v.t0 + 10ms);
    v.m.handle_timeout(v.t0 + 10ms);
    v.drain(v.t0 + 10ms);
    EXPECT_FALSE(v.m.finished());
    ASSERT_EQ(v.connects.size(), 2u);
    EXPECT_EQ(v.connects[1].protocol, Protocol::tcp);
    v.m.handle_secure_failed(v.t0 + 11ms, v.connects[1].attempt, EPROTO);  // TCP, connecting: ignored
    EXPECT_FALSE(v.m.finished());
    v.m.handle_connected(v.t0 + 12ms, v.connects[1].attempt);
    v.m.handle_secured(v.t0 + 13ms, v.connects[1].attempt);
    v.drain(v.t0 + 13ms);
    ASSERT_TRUE(v.m.finished());
    const RaceReport r = v.m.report();
    EXPECT_EQ(r.winner, v.connects[1].attempt);
    // The errors: A's "no data", and the QUIC attempt's handshake.
    ASSERT_EQ(r.errors.size(), 2u);
    EXPECT_EQ(r.errors[0].stage, Stage::resolve);
    EXPECT_EQ(r.errors[1].stage, Stage::tls);
    EXPECT_EQ(r.errors[1].attempt, v.connects[0].attempt.number());
    EXPECT_EQ(r.errors[1].code, EPROTO);
    EXPECT_EQ(r.errors[1].detail, "certificate verify failed");
}

TEST(V3Api, ConfigRulesNameTheSetting) {
    Config c = V3::https_config();
    c.port = 0;
    ASSERT_TRUE(validate(c));
    EXPECT_NE(validate(c)->find("port 0"), std::string::npos);
    c.port = 443;
    c.alias_limit = 17;
    ASSERT_TRUE(validate(c));
    EXPECT_NE(validate(c)->find("alias-limit 17"), std::string::npos);
    Config off;
    off.port = 0;  // irrelevant without https
    EXPECT_FALSE(validate(off));
}

TEST(V3Api, ActionTextShowsProtocolAndAlpn) {
    Service s;
    s.protocol = Protocol::quic;
    s.alpn = {"h3"};
    s.ech = std::vector<std::uint8_t>{1};
    EXPECT_EQ(to_string(Action{Connect(AttemptId(2), ep("192.0.2.1"), std::nullopt, Protocol::quic, &s)}),
              "connect #2 192.0.2.1:443 quic alpn=h3 ech");
    EXPECT_EQ(to_string(Action{Connect(AttemptId(2), ep("192.0.2.1"))}), "connect #2 192.0.2.1:443");
    EXPECT_EQ(to_string(Action{Resolve(Family::v4, false, "svc.example.")}), "resolve A svc.example.");
    EXPECT_EQ(to_string(Action{Resolve(Family::v6, true)}), "resolve HTTPS");
    EXPECT_STREQ(protocol_name(Protocol::quic), "quic");
    EXPECT_STREQ(stage_name(Stage::tls), "tls");
}

}  // namespace

namespace {

// ---- issue 17: query order (v3 §4.1) and port-prefixed names (RFC 9460 §9.1) ----

TEST(V3Queries, OriginHttpsQueryIsPortPrefixedOffPort443) {
    Config c = V3::https_config();
    c.port = 8443;
    V3 v{c};
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    ASSERT_EQ(v.resolves.size(), 3u);
    ASSERT_TRUE(v.resolves[0].https);
    EXPECT_EQ(v.resolves[0].port_prefix, 8443);
    EXPECT_EQ(query_name(v.resolves[0], "www.example.com"), "_8443._https.www.example.com");
    EXPECT_EQ(to_string(Action{v.resolves[0]}), "resolve HTTPS _8443._https.(origin)");
    // The address queries are the host's own, unprefixed.
    EXPECT_EQ(query_name(v.resolves[1], "www.example.com"), "www.example.com");
    EXPECT_EQ(v.resolves[1].port_prefix, 0);
    // "." at _8443._https.www.example.com means the origin host's addresses
    // (RFC 9460 §2.5.2 with §9.1; the reading pinned in v3_port_prefix_*.scn).
    v.m.handle_https(v.t0, v.resolves[0], std::vector<SvcbRecord>{rec("1 . alpn=h2")});
    v.m.handle_resolved(v.t0, Family::v6, std::vector<Endpoint>{ep("2001:db8::1", 8443)});
    v.drain(v.t0);
    ASSERT_EQ(v.resolves.size(), 3u) << "no query for the prefixed name's addresses";
    ASSERT_EQ(v.connects.size(), 1u);
    EXPECT_EQ(v.connects[0].remote, ep("2001:db8::1", 8443));
    ASSERT_NE(v.connects[0].service, nullptr);
    EXPECT_EQ(v.connects[0].service->alpn, (std::vector<std::string>{"h2", "http/1.1"}));
}

TEST(V3Queries, AliasTargetIsAskedHttpsFirstWithoutPrefix) {
    Config c = V3::https_config();
    c.port = 8443;
    V3 v{c};
    ASSERT_TRUE(v.m.start_resolving(v.t0));
    v.drain(v.t0);
    v.m.handle_https(v.t0, v.resolves[0], std::vector<SvcbRecord>{rec("0 pool.example.net.")});
    v.drain(v.t0);
    ASSERT_EQ(v.resolves.size(), 6u);
    EXPECT_EQ(v.resolves[3], Resolve(Family::v6, true, "pool.example.net."));
    EXPECT_EQ(v.resolves[3].port_prefix, 0) << "RFC 9460 §3: \"without additional prefixes\"";
    EXPECT_EQ(v.resolves[4], Resolve(Family::v6, false, "pool.example.net."));
    EXPECT_EQ(v.resolves[5], Resolve(Family::v4, false, "pool.example.net."));
}

TEST(V3Queries, QueryNameWithoutPrefix) {
    EXPECT_EQ(query_name(Resolve(Family::v4), "h.example"), "h.example");
    EXPECT_EQ(query_name(Resolve(Family::v6, true, "svc.example."), "h.example"), "svc.example.");
    // A prefix on an address query means nothing: only HTTPS questions get one.
    EXPECT_EQ(query_name(Resolve(Family::v6, false, {}, 8443), "h.example"), "h.example");
    EXPECT_EQ(port_prefix_labels(Resolve(Family::v6, true, {}, 80)), "_80._https");
}

}  // namespace
