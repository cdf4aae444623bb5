// SPDX-License-Identifier: BSL-1.0
// Happy Eyeballs v3's planner units (src/v3/), each driven without a
// RaceMachine: names (draft §4.1, RFC 9460 §2.4.2, §3, §9.1), services and
// their ranks (draft §5.1, §5.2; RFC 9460 §2.4.1, §7.1.1, §8) and where a
// service's endpoints come from (draft §4.2.1). Records are written in RFC
// 9460 presentation form; each test's zone is in its comment.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eyeballs/svcb.hpp"
#include "v3/endpoints.hpp"
#include "v3/names.hpp"
#include "v3/planner.hpp"
#include "v3/services.hpp"

using namespace eyeballs;
using namespace eyeballs::detail;

namespace {

SvcbRecord rec(const char* text) {
    std::string error;
    auto r = parse_svcb_presentation(text, &error);
    EXPECT_TRUE(r.has_value()) << text << ": " << error;
    return r.value_or(SvcbRecord{});
}

std::vector<const SvcbRecord*> ptrs(const std::vector<SvcbRecord>& v) {
    std::vector<const SvcbRecord*> out;
    for (const SvcbRecord& r : v) out.push_back(&r);
    return out;
}

// ---- names ----------------------------------------------------------------------

TEST(V3Names, KeysCompareWithoutCaseAndFullyQualified) {
    EXPECT_EQ(name_key("Svc.Example.NET"), "svc.example.net.");
    EXPECT_EQ(name_key("svc.example.net."), "svc.example.net.");
    EXPECT_EQ(name_key(""), ".");
}

TEST(V3Names, PortPrefixOnlyForPortsOtherThan443) {
    // RFC 9460 §9.1: "if the scheme is "https" and the port is 443, then the
    // client's original QNAME is equal to the service name".
    EXPECT_EQ(https_prefix_port(443), 0);
    EXPECT_EQ(https_prefix_port(8443), 8443);
    EXPECT_EQ(https_prefix_port(80), 80);
}

TEST(V3Names, InternFindsANameAgainWhateverItsCase) {
    Names n;
    n.start();
    ASSERT_EQ(n.size(), 1u);
    EXPECT_TRUE(n.https_pending());
    EXPECT_EQ(n.https_target(), 0u);
    bool made = false;
    const std::uint32_t a = n.intern("svc.example.net.", made);
    EXPECT_TRUE(made);
    EXPECT_EQ(n.intern("SVC.example.net", made), a);
    EXPECT_FALSE(made);
    EXPECT_EQ(n.find(""), 0u);
    EXPECT_EQ(n.find("other.example."), no_target);
    EXPECT_TRUE(n.targets_outstanding());  // its AAAA and A are pending
}

TEST(V3Names, AliasChainEndsAtDotLoopOrLimit) {
    // example.com. HTTPS 0 a.example.  /  a.example. HTTPS 0 b.example.
    // b.example. HTTPS 0 a.example. (a loop)
    Names n;
    n.start();
    bool made = false;
    EXPECT_EQ(n.follow_alias(".", 8, made), no_target);  // §2.5.1: not available
    EXPECT_FALSE(made);
    const std::uint32_t a = n.follow_alias("a.example.", 8, made);
    ASSERT_NE(a, no_target);
    EXPECT_TRUE(made);
    EXPECT_EQ(n.https_target(), a);
    EXPECT_EQ(n.final_qname(), a);
    const std::uint32_t b = n.follow_alias("b.example.", 8, made);
    ASSERT_NE(b, no_target);
    EXPECT_EQ(n.follow_alias("A.example.", 8, made), no_target);  // loop
    EXPECT_FALSE(made);
    EXPECT_EQ(n.final_qname(), b);
    Names short_chain;
    short_chain.start();
    EXPECT_NE(short_chain.follow_alias("a.example.", 1, made), no_target);
    EXPECT_EQ(short_chain.follow_alias("b.example.", 1, made), no_target);  // past the limit
}

// ---- services -------------------------------------------------------------------

TEST(V3Services, RankOrdersQuicEchPriorityThenAliasEndThenFallback) {
    Rank quic_ech{Rank::Tier::service, false, false, 9, 0};
    Rank quic{Rank::Tier::service, false, true, 1, 0};
    Rank tcp_ech{Rank::Tier::service, true, false, 1, 0};
    Rank tcp1{Rank::Tier::service, true, true, 1, 5};
    Rank tcp1_later{Rank::Tier::service, true, true, 1, 6};
    Rank tcp2{Rank::Tier::service, true, true, 2, 0};
    const Rank order[] = {quic_ech, quic, tcp_ech, tcp1, tcp1_later, tcp2,
                          Rank::alias_end(), Rank::fallback()};
    for (std::size_t i = 0; i + 1 < std::size(order); ++i) {
        EXPECT_LT(order[i], order[i + 1]) << i;
        EXPECT_FALSE(order[i + 1] < order[i]) << i;
    }
    EXPECT_EQ(Rank::fallback(), Rank{});
}

TEST(V3Services, UnknownMandatoryKeyDropsTheRecordAndAliasModeWins) {
    // example.com. HTTPS 1 . alpn=h2 mandatory=key667 key667=x   (ignored, §8)
    //              HTTPS 1 . alpn=h2
    const std::vector<SvcbRecord> svc = {rec("1 . mandatory=key667 alpn=h2 key667=x"),
                                         rec("1 . alpn=h2")};
    HttpsAnswer a = sort_out(svc.data(), svc.size());
    EXPECT_EQ(a.alias, nullptr);
    ASSERT_EQ(a.service_mode.size(), 1u);
    EXPECT_EQ(a.service_mode[0], &svc[1]);
    const std::vector<SvcbRecord> mixed = {rec("1 . alpn=h2"), rec("0 alias.example.")};
    a = sort_out(mixed.data(), mixed.size());
    EXPECT_EQ(a.alias, &mixed[1]);
}

TEST(V3Services, InconsistentRecordIsRejected) {
    // RFC 9460 §2.4.3/§8: `mandatory` names port, which the record lacks.
    SvcbRecord bad = rec("1 . alpn=h2");
    bad.mandatory = {svcb_key::port};
    EXPECT_TRUE(bad.mandatory_ok());
    EXPECT_FALSE(bad.self_consistent());
    const std::vector<SvcbRecord> v = {bad, rec("2 . alpn=h2")};
    const HttpsAnswer a = sort_out(v.data(), v.size());
    ASSERT_EQ(a.service_mode.size(), 1u);
    EXPECT_EQ(a.service_mode[0], &v[1]);
    EXPECT_TRUE(rec("1 . mandatory=alpn alpn=h2").self_consistent());
}

// The client's TCP ALPN ids, as Config's default.
const std::vector<std::string> tcp = Config{}.tcp_alpn;

TEST(V3Services, OneRecordGivesQuicAndTcpServicesWithDefaultAlpn) {
    // example.com. HTTPS 1 . alpn=h3,h2
    const std::vector<SvcbRecord> r = {rec("1 . alpn=h3,h2")};
    auto p = ptrs(r);
    auto s = plan_services(p.data(), p.size(), 0, 8443, true, tcp, max_services);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].service.protocol, Protocol::quic);
    EXPECT_EQ(s[0].service.alpn, (std::vector<std::string>{"h3"}));
    EXPECT_EQ(s[1].service.protocol, Protocol::tcp);
    // RFC 9460 §7.1.1: "http/1.1" is implied.
    EXPECT_EQ(s[1].service.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
    EXPECT_EQ(s[1].service.port, 8443);  // no port=: the origin's
    EXPECT_LT(s[0].rank, s[1].rank);
    // QUIC off: only TCP; an h3-only record without the default gives none.
    EXPECT_EQ(plan_services(p.data(), p.size(), 0, 443, false, tcp, max_services).size(), 1u);
    const std::vector<SvcbRecord> h3only = {rec("1 . alpn=h3 no-default-alpn")};
    auto q = ptrs(h3only);
    EXPECT_TRUE(plan_services(q.data(), q.size(), 0, 443, false, tcp, max_services).empty());
}

TEST(V3Services, PriorityFirstAndTheShuffleFollowsTheSeed) {
    // Five records at priority 1 and one at priority 2 (listed first).
    const std::vector<SvcbRecord> r = {rec("2 z.example."), rec("1 a.example."),
                                       rec("1 b.example."), rec("1 c.example."),
                                       rec("1 d.example."), rec("1 e.example.")};
    auto p = ptrs(r);
    auto targets = [&](std::uint64_t seed) {
        std::vector<const SvcbRecord*> order;
        plan_services(p.data(), p.size(), seed, 443, false, tcp, max_services, &order);
        std::string s;
        for (const SvcbRecord* x : order) s += x->target.substr(0, 1);
        return s;
    };
    EXPECT_EQ(targets(1), targets(1));
    EXPECT_EQ(targets(1).back(), 'z');
    bool differs = false;
    for (std::uint64_t seed = 2; seed < 20 && !differs; ++seed) differs = targets(seed) != targets(1);
    EXPECT_TRUE(differs) << "the seed never changed the order of equal priorities";
    EXPECT_EQ(plan_services(p.data(), p.size(), 1, 443, false, tcp, 3).size(), 3u);  // room
}

TEST(V3Services, TcpServiceKeepsOnlyTheIdsTheClientSpeaks) {
    // RFC 9460 §7.1: the set is filtered to what the client supports; the
    // TCP service offers what is left, in the record's order.
    const std::vector<SvcbRecord> r = {rec("1 . alpn=h3,spdy/3,h2")};
    auto p = ptrs(r);
    auto s = plan_services(p.data(), p.size(), 0, 443, true, tcp, max_services);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[1].service.protocol, Protocol::tcp);
    EXPECT_EQ(s[1].service.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
    // A client of http/1.1 alone: the default id is what it shares.
    s = plan_services(p.data(), p.size(), 0, 443, false, {"http/1.1"}, max_services);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].service.alpn, (std::vector<std::string>{"http/1.1"}));
}

TEST(V3Services, TcpServiceWithNoCommonIdIsLeftOut) {
    // no-default-alpn: the set is exactly {spdy/3, h3}; this client speaks
    // neither over TCP. With QUIC the h3 side still races; without, nothing.
    const std::vector<SvcbRecord> r = {rec("1 a.example. alpn=spdy/3,h3 no-default-alpn"),
                                       rec("2 b.example. alpn=h2")};
    auto p = ptrs(r);
    auto s = plan_services(p.data(), p.size(), 0, 443, true, tcp, max_services);
    ASSERT_EQ(s.size(), 2u);
    EXPECT_EQ(s[0].service.protocol, Protocol::quic);
    EXPECT_EQ(s[0].record, &r[0]);
    EXPECT_EQ(s[1].service.protocol, Protocol::tcp);
    EXPECT_EQ(s[1].record, &r[1]);
    s = plan_services(p.data(), p.size(), 0, 443, false, tcp, max_services);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].record, &r[1]);
    // Without no-default-alpn, http/1.1 is in the set (RFC 9460 §7.1.1):
    // a client that speaks it keeps the service.
    const std::vector<SvcbRecord> d = {rec("1 a.example. alpn=spdy/3")};
    auto q = ptrs(d);
    s = plan_services(q.data(), q.size(), 0, 443, false, tcp, max_services);
    ASSERT_EQ(s.size(), 1u);
    EXPECT_EQ(s[0].service.alpn, (std::vector<std::string>{"http/1.1"}));
    // ... and one that speaks h2 only does not.
    EXPECT_TRUE(plan_services(q.data(), q.size(), 0, 443, false, {"h2"}, max_services).empty());
}

// ---- endpoints ------------------------------------------------------------------

TEST(V3Endpoints, HintsUntilTheAnswerThenTheAnswerNoneAfterNoData) {
    Target t;
    EXPECT_EQ(address_source(t, Family::v6), Source::hints);  // pending
    t.addr[0] = DnsState::positive;
    EXPECT_EQ(address_source(t, Family::v6), Source::answer);
    t.addr[1] = DnsState::negative;
    EXPECT_EQ(address_source(t, Family::v4), Source::none);  // "no data"
    t.failed[1] = true;
    EXPECT_EQ(address_source(t, Family::v4), Source::hints);  // a failure keeps them
    const SvcbRecord r = rec("1 . ipv4hint=192.0.2.1 ipv6hint=2001:db8::1");
    EXPECT_EQ(hints_of(r, Family::v6).size(), 1u);
    EXPECT_TRUE(hints_of(r, Family::v6)[0].is_v6());
    EXPECT_TRUE(hints_of(r, Family::v4)[0].is_v4());
}

// ---- planner --------------------------------------------------------------------

TEST(V3Planner, ServiceModeAnswerAsksEachNewTargetOnceAndSettles) {
    // example.com. HTTPS 1 svc.example. alpn=h2 / HTTPS 2 svc.example. alpn=h3 / HTTPS 3 .
    Planner p;
    p.names.start();
    Config c;
    c.https = true;
    const std::vector<SvcbRecord> r = {rec("1 svc.example. alpn=h2"), rec("2 svc.example. alpn=h3"),
                                       rec("3 .")};
    HttpsStep step = p.on_https(0, r.data(), r.size(), c);
    EXPECT_FALSE(p.names.https_pending());
    ASSERT_EQ(step.ask_addresses.size(), 1u);
    EXPECT_EQ(p.names[step.ask_addresses[0]].name, "svc.example.");
    EXPECT_EQ(step.ask_https, no_target);
    ASSERT_EQ(step.services.size(), 3u);  // h2 (+http/1.1), http/1.1 (quic off), "."
    EXPECT_EQ(p.service_target(step.services[2].index), 0u);
    EXPECT_EQ(p.service(step.services[2].index).target, ".");
    // The service at "svc.example." has no address yet: the race waits for it.
    std::vector<bool> has(p.services().size(), false);
    has[step.services[2].index] = true;
    EXPECT_TRUE(p.service_waiting(has, Rank::fallback()));
    // §4.2 "SHOULD NOT wait for all answers": once a candidate ranks ahead
    // of the waiting service, nothing is waited for.
    EXPECT_FALSE(p.service_waiting(has, p.rank(step.services[0].index)));
}

TEST(V3Planner, ServiceTheClientCannotSpeakIsLeftOutAndItsTargetNotAsked) {
    // example.com. HTTPS 1 odd.example. alpn=spdy/3 no-default-alpn
    //              HTTPS 2 good.example. alpn=h2
    Planner p;
    p.names.start();
    Config c;
    c.https = true;
    const std::vector<SvcbRecord> r = {rec("1 odd.example. alpn=spdy/3 no-default-alpn"),
                                       rec("2 good.example. alpn=h2")};
    HttpsStep step = p.on_https(0, r.data(), r.size(), c);
    ASSERT_EQ(step.ask_addresses.size(), 1u);  // RFC 9460 §7.1: odd.example. is not resolved
    EXPECT_EQ(p.names[step.ask_addresses[0]].name, "good.example.");
    ASSERT_EQ(step.services.size(), 1u);
    EXPECT_EQ(p.service(step.services[0].index).target, "good.example.");
    // A client that speaks spdy/3 over TCP races it, and asks for its target.
    Planner q;
    q.names.start();
    c.tcp_alpn = {"spdy/3", "h2"};
    step = q.on_https(0, r.data(), r.size(), c);
    ASSERT_EQ(step.ask_addresses.size(), 2u);
    EXPECT_EQ(q.names[step.ask_addresses[0]].name, "odd.example.");
    ASSERT_EQ(step.services.size(), 2u);
    EXPECT_EQ(q.service(step.services[0].index).alpn, (std::vector<std::string>{"spdy/3"}));
}

TEST(V3Planner, AltSvcTcpAlternativeOutsideTheClientsIdsIsLeftOut) {
    Planner p;
    p.names.start();
    Config c;
    c.https = true;
    c.alt_svc = {AltSvc{"spdy/3", "odd.example.", 443, 0, false},
                 AltSvc{"h2", "good.example.", 8443, 0, false}};
    HttpsStep step = p.on_alt_svc(c);
    ASSERT_EQ(step.ask_addresses.size(), 1u);
    EXPECT_EQ(p.names[step.ask_addresses[0]].name, "good.example.");
    ASSERT_EQ(step.services.size(), 1u);
    EXPECT_EQ(p.service(step.services[0].index).port, 8443);
    EXPECT_EQ(p.service(step.services[0].index).source, ServiceSource::alt_svc);
    // A record's services are the default source (the trace leaves them unmarked).
    const std::vector<SvcbRecord> r = {rec("1 . alpn=h3,h2")};
    c.quic = true;
    step = p.on_https(0, r.data(), r.size(), c);
    ASSERT_EQ(step.services.size(), 2u);
    for (const NewService& s : step.services) {
        EXPECT_EQ(p.service(s.index).source, ServiceSource::https_record);
    }
}

TEST(V3Planner, AliasToANameWithoutRecordsEndsInAnEndpointBeforeTheFallback) {
    // example.com. HTTPS 0 pool.example.   /   pool.example. (no HTTPS records)
    Planner p;
    p.names.start();
    Config c;
    c.https = true;
    c.port = 8443;
    const std::vector<SvcbRecord> alias = {rec("0 pool.example.")};
    HttpsStep step = p.on_https(0, alias.data(), alias.size(), c);
    ASSERT_EQ(step.ask_addresses.size(), 1u);
    ASSERT_NE(step.ask_https, no_target);
    EXPECT_TRUE(p.names.https_pending());
    step = p.on_https(step.ask_https, nullptr, 0, c);
    ASSERT_EQ(step.services.size(), 1u);
    const std::uint16_t s = step.services[0].index;
    EXPECT_EQ(p.service(s).port, 8443);  // RFC 9460 §3: the origin's port
    EXPECT_TRUE(p.service(s).alpn.empty());
    EXPECT_EQ(p.rank(s), Rank::alias_end());
    EXPECT_LT(p.rank(s), Rank::fallback());
    EXPECT_FALSE(p.names.https_pending());
}

TEST(V3Planner, FinalQnameIsAnEndpointAfterServiceModeRecordsOrAFailure) {
    // example.com. HTTPS 0 pool.example.  /  pool.example. HTTPS 1 . alpn=h2
    Config c;
    c.https = true;
    for (const bool fails : {false, true}) {
        Planner p;
        p.names.start();
        const std::vector<SvcbRecord> alias = {rec("0 pool.example.")};
        const std::uint32_t pool = p.on_https(0, alias.data(), alias.size(), c).ask_https;
        ASSERT_NE(pool, no_target);
        const std::vector<SvcbRecord> svc = {rec("1 . alpn=h2")};
        HttpsStep step = fails ? p.on_https_failed(pool, c) : p.on_https(pool, svc.data(), svc.size(), c);
        ASSERT_FALSE(step.services.empty());
        const NewService last = step.services.back();
        EXPECT_EQ(last.record, nullptr);
        EXPECT_EQ(p.rank(last.index), Rank::alias_end()) << "RFC 9460 §3, after the services";
        EXPECT_EQ(p.service_target(last.index), pool);
        EXPECT_EQ(step.services.size(), fails ? 1u : 2u);
        EXPECT_FALSE(p.names.https_pending());
    }
    // At the origin the final $QNAME is the origin: the fallback, no extra service.
    Planner q;
    q.names.start();
    EXPECT_TRUE(q.on_https_failed(0, c).services.empty());
}

}  // namespace
