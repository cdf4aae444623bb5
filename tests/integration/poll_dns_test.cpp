// SPDX-License-Identifier: BSL-1.0
// The poll adapter with real DNS: c-ares asking the test's own UDP server on
// 127.0.0.1, answers fed as they arrive (RFC 8305 §3, docs/behaviour.md §2).
//
// Delays are chosen so that every assertion is an ordering or a bound with a
// wide margin: "started after the 100 ms answer and before the 1.5 s
// resolution delay would have ended".
#include <ares.h>

#include <cerrno>

#include "poll_common.hpp"

namespace eyeballs::test {
namespace {

class PollDns : public FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (!ipv6_loopback_available()) GTEST_SKIP() << "needs [::1]: IPv6 loopback is disabled here";
    }
    poll::Options options(const DnsServer& dns) {
        poll::Options o;
        o.on_action = rec.observer();
        o.dns.server = dns.endpoint();
        return o;
    }
    // Time from the race's start to attempt i's start.
    static Clock::duration start_of(const poll::Result& r, std::size_t i) {
        return r.report.attempts.at(i).started - r.report.started;
    }
    Recorder rec;
};

TEST_F(PollDns, AaaaFirstConnectsAtOnce) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 300ms));

    poll::Result r = poll::connect("dual.test", pair.port, options(dns));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    EXPECT_EQ(peer_of(r.fd), loopback_v6(pair.port));
    EXPECT_LT(r.report.finished - r.report.started, 300ms)
        << "IPv6 connects without waiting for the A answer";
    // Both families were asked, AAAA first (docs/behaviour.md §2).
    auto resolves = rec.all<Resolve>();
    ASSERT_EQ(resolves.size(), 2u);
    EXPECT_EQ(resolves[0].family, Family::v6);
    EXPECT_EQ(resolves[1].family, Family::v4);
    expect_clean_trace(rec, r);
    ::close(r.fd);
    auto qs = dns.wait_for_queries(2);
    ASSERT_GE(qs.size(), 2u);
    EXPECT_EQ(qs[0].name, "dual.test");
}

// A first, AAAA inside the Resolution Delay → IPv6 goes first anyway.
TEST_F(PollDns, AFirstThenAaaaWithinResolutionDelayStartsIpv6) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 100ms));
    dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    poll::Options o = options(dns);
    o.config.resolution_delay = 1500ms;
    poll::Result r = poll::connect("dual.test", pair.port, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_GE(r.report.attempts.size(), 1u);
    EXPECT_EQ(r.report.attempts[0].remote, loopback_v6(pair.port));
    EXPECT_GE(start_of(r, 0), 100ms);
    EXPECT_LT(start_of(r, 0), 1500ms) << "the AAAA answer ends the wait";
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// A first, AAAA late → IPv4 starts when the Resolution Delay expires.
TEST_F(PollDns, AFirstAndAaaaTooLateStartsIpv4AfterResolutionDelay) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 1500ms));
    dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    poll::Options o = options(dns);
    o.config.resolution_delay = 100ms;
    poll::Result r = poll::connect("dual.test", pair.port, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    ASSERT_EQ(r.report.attempts.size(), 1u);
    EXPECT_GE(start_of(r, 0), 100ms);
    EXPECT_LT(start_of(r, 0), 1500ms);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// A negative AAAA ends the Resolution Delay at once.
TEST_F(PollDns, NodataAaaaEndsTheResolutionDelay) {
    DnsServer dns;
    Listener v4(loopback_v4());
    dns.set("v4only.test", Family::v6, DnsServer::Answer::nodata(100ms));
    dns.set("v4only.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    poll::Options o = options(dns);
    o.config.resolution_delay = 1500ms;
    poll::Result r = poll::connect("v4only.test", v4.endpoint().port(), o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v4.endpoint());
    EXPECT_GE(start_of(r, 0), 100ms);
    EXPECT_LT(start_of(r, 0), 1500ms);
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::resolve);
    EXPECT_EQ(r.report.errors[0].family, Family::v6);
    EXPECT_EQ(r.report.errors[0].message(), "resolve AAAA: no data");
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// A silent AAAA cannot hold IPv4 back longer than the Resolution Delay, and
// the race ends without waiting for it.
TEST_F(PollDns, SilentAaaaDoesNotHoldTheRace) {
    DnsServer dns;
    Listener v4(loopback_v4());
    dns.set("quiet6.test", Family::v6, DnsServer::Answer::silent());
    dns.set("quiet6.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    poll::Result r = poll::connect("quiet6.test", v4.endpoint().port(), options(dns));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v4.endpoint());
    EXPECT_GE(start_of(r, 0), 50ms);
    EXPECT_LT(r.report.finished - r.report.started, 1s);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// docs/behaviour.md §2: an address that arrives while an attempt is in flight waits for
// the Next Connection Attempt Timer.
TEST_F(PollDns, LateAAnswerWaitsForTheAttemptDelay) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Blackhole v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 60ms));

    poll::Result r = poll::connect("dual.test", pair.port, options(dns));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    ASSERT_EQ(r.report.attempts.size(), 2u);
    auto gap = r.report.attempts[1].started - r.report.attempts[0].started;
    EXPECT_GE(gap, 250ms);
    EXPECT_LT(gap, 2s);
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

TEST_F(PollDns, BothNodataFailsWithTheResolveErrors) {
    DnsServer dns;
    dns.set("empty.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("empty.test", Family::v4, DnsServer::Answer::nodata(20ms));
    poll::Result r = poll::connect("empty.test", 443, options(dns));
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_TRUE(r.status.ok());
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].family, Family::v6);
    EXPECT_EQ(r.report.errors[1].family, Family::v4);
    EXPECT_EQ(r.report.message, "multiple errors: resolve AAAA: no data, resolve A: no data");
    EXPECT_TRUE(rec.all<OpenSocket>().empty());
    expect_clean_trace(rec, r);
}

// NXDOMAIN (ARES_ENOTFOUND) is "no data" too.
// NXDOMAIN is named, NODATA is "no data" (issue 14 item 6, issue 16 item 2).
TEST_F(PollDns, NxdomainIsNamedNotNoData) {
    DnsServer dns;  // knows no names at all
    dns.set("empty.test", Family::v6, DnsServer::Answer::nodata());
    poll::Result r = poll::connect("nosuch.test", 443, options(dns));
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 2u);
    EXPECT_EQ(r.report.errors[0].dns, DnsError::nxdomain);
    EXPECT_EQ(r.report.errors[0].message(), "resolve AAAA: no such name (NXDOMAIN)");
    EXPECT_EQ(r.report.errors[1].message(), "resolve A: no such name (NXDOMAIN)");
    poll::Result e = poll::connect("empty.test", 443, options(dns));
    ASSERT_EQ(e.report.errors.size(), 2u);
    EXPECT_EQ(e.report.errors[0].dns, DnsError::nodata);
    EXPECT_EQ(e.report.errors[0].message(), "resolve AAAA: no data");
}

// SERVFAIL reads as the other adapters read it (issue 14 item 6).
TEST_F(PollDns, ServfailIsAServerFailure) {
    DnsServer dns;
    Listener v4(loopback_v4());
    dns.set("broken6.test", Family::v6, DnsServer::Answer::servfail());
    dns.set("broken6.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 30ms));
    poll::Options o = options(dns);
    o.dns.tries = 1;
    poll::Result r = poll::connect("broken6.test", v4.endpoint().port(), o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.errors.size(), 1u);
    EXPECT_EQ(r.report.errors[0].stage, Stage::resolve);
    EXPECT_EQ(r.report.errors[0].dns, DnsError::server_failure);
    EXPECT_EQ(r.report.errors[0].code, 0);
    EXPECT_EQ(r.report.errors[0].message(), "resolve AAAA: server failure (SERVFAIL)");
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

// c-ares' own per-query timeout and tries bound a silent server...
TEST_F(PollDns, SilentServerTimesOutByCaresTries) {
    DnsServer dns;
    dns.set("void.test", Family::v6, DnsServer::Answer::silent());
    dns.set("void.test", Family::v4, DnsServer::Answer::silent());
    poll::Options o = options(dns);
    o.dns.query_timeout = 100ms;
    o.dns.tries = 2;  // 100 ms, then 200 ms
    poll::Result r = poll::connect("void.test", 443, o);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 2u);
    for (const Error& e : r.report.errors) {
        EXPECT_EQ(e.code, ETIMEDOUT);
        EXPECT_EQ(e.dns, DnsError::timeout);
        EXPECT_EQ(e.detail, "no answer within 300 ms") << "100 ms, then 200 ms";
    }
    auto took = r.report.finished - r.report.started;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 3s);
    EXPECT_GE(dns.queries().size(), 4u) << "two tries per family";
    expect_clean_trace(rec, r);
}

// ...and the total timeout bounds it whatever c-ares would do.
TEST_F(PollDns, SilentServerTimesOutByTheTotalTimeout) {
    DnsServer dns;
    dns.set("void.test", Family::v6, DnsServer::Answer::silent());
    dns.set("void.test", Family::v4, DnsServer::Answer::silent());
    poll::Options o = options(dns);
    o.dns.query_timeout = 10s;
    o.dns.total_timeout = 300ms;
    poll::Result r = poll::connect("void.test", 443, o);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_EQ(r.report.errors.size(), 2u);
    for (const Error& e : r.report.errors) {
        EXPECT_EQ(e.code, ETIMEDOUT);
        EXPECT_EQ(e.detail, "no answer within 300 ms");
    }
    auto took = r.report.finished - r.report.started;
    EXPECT_GE(took, 300ms);
    EXPECT_LT(took, 3s);
    expect_clean_trace(rec, r);
}

// The schedule the three adapters share (issue 14 item 6): sent at 0, 1 s
// and 3 s (c-ares doubles its timeout on each try), given up at 5 s.
TEST_F(PollDns, DefaultDnsOptionsAreTheSharedSchedule) {
    poll::DnsOptions d;
    EXPECT_EQ(d.total_timeout, 5s);
    EXPECT_EQ(d.query_timeout, 1s);
    EXPECT_EQ(d.tries, 3);
    auto last_send = Duration::zero();
    for (int i = 0; i + 1 < d.tries; ++i) last_send += d.query_timeout * (1 << i);
    EXPECT_EQ(last_send, 3s) << "every try is sent before the total timeout";
}

TEST_F(PollDns, CancelDuringResolution) {
    DnsServer dns;
    dns.set("void.test", Family::v6, DnsServer::Answer::silent());
    dns.set("void.test", Family::v4, DnsServer::Answer::silent());
    int p[2];
    ASSERT_EQ(::pipe2(p, O_CLOEXEC), 0);
    Fd rd(p[0]), wr(p[1]);
    poll::Options o = options(dns);
    o.cancel_fd = rd.get();
    std::thread canceller([&] {
        std::this_thread::sleep_for(100ms);
        [[maybe_unused]] auto n = ::write(wr.get(), "x", 1);
    });
    poll::Result r = poll::connect("void.test", 443, o);
    canceller.join();
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_LT(r.report.finished - r.report.started, 3s);
    expect_clean_trace(rec, r);
}

// RFC 7050: the NAT64 prefix is read from the AAAA answer for ipv4only.arpa,
// which a DNS64 server synthesizes from 192.0.0.170 and 192.0.0.171.
TEST_F(PollDns, DiscoversPref64ThroughIpv4onlyArpa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6,
            DnsServer::Answer::with({*Endpoint::parse("2001:db8:64::c000:aa", 0),
                                     *Endpoint::parse("2001:db8:64::c000:ab", 0)}));
    poll::DnsOptions d;
    d.server = dns.endpoint();
    const poll::Pref64Discovery found = poll::discover_pref64(d);
    ASSERT_TRUE(found.error.empty()) << found.error;
    ASSERT_EQ(found.prefixes.size(), 1u);
    EXPECT_EQ(found.prefixes[0], *Pref64::parse("2001:db8:64::/96"));
    // /64: the u octet (bits 64-71) is skipped: 192.0.0.170 → c0:0:aa00:0.
    DnsServer dns64;
    dns64.set("ipv4only.arpa", Family::v6,
              DnsServer::Answer::with({*Endpoint::parse("2001:db8:1:2:c0:0:aa00:0", 0)}));
    d.server = dns64.endpoint();
    const poll::Pref64Discovery found64 = poll::discover_pref64(d);
    ASSERT_EQ(found64.prefixes.size(), 1u) << found64.error;
    EXPECT_EQ(found64.prefixes[0], *Pref64::parse("2001:db8:1:2::/64"));
}

TEST_F(PollDns, NoNat64WhenIpv4onlyArpaHasNoAaaa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::nodata());
    poll::DnsOptions d;
    d.server = dns.endpoint();
    const poll::Pref64Discovery found = poll::discover_pref64(d);
    EXPECT_TRUE(found.prefixes.empty());
    EXPECT_NE(found.error.find("ipv4only.arpa"), std::string::npos) << found.error;
}

// The discovered prefix used for a real race on an IPv6-only network: the IPv4
// literal 127.0.0.1 is never synthesized (RFC 6052 §3.1 exclusions), so a race
// over [::1] and 127.0.0.1 keeps only [::1].
TEST_F(PollDns, DiscoveredPrefixFeedsARaceOnAnIpv6OnlyNetwork) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6,
            DnsServer::Answer::with({*Endpoint::parse("2001:db8:64::c000:aa", 0)}));
    poll::DnsOptions d;
    d.server = dns.endpoint();
    const poll::Pref64Discovery found = poll::discover_pref64(d);
    ASSERT_EQ(found.prefixes.size(), 1u) << found.error;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    poll::Options o;
    o.on_action = rec.observer();
    o.config.ipv4_unavailable = true;
    o.config.pref64 = found.prefixes[0];
    poll::Result r = poll::connect({loopback_v4(pair.port), loopback_v6(pair.port)}, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    EXPECT_EQ(r.report.attempts.size(), 1u) << "127.0.0.1 was dropped, not raced";
    expect_clean_trace(rec, r);
    ::close(r.fd);
}

}  // namespace
}  // namespace eyeballs::test

// ---- DnsOptions::cache: answers kept from race to race (v3 §4.3, §4.4) ------

namespace eyeballs::test {
namespace {

std::string https_name(const std::string& host, std::uint16_t port) {
    return port == 443 ? host : "_" + std::to_string(port) + "._https." + host;  // RFC 9460 §9.1
}

// The first race asks HTTPS, AAAA and A and keeps the answers (TTL 60 s);
// the second race over the same cache is answered from it: the machine
// still issues its three Resolve actions, but no query reaches the server.
TEST_F(PollDns, CacheAnswersTheNextRaceWithoutAQuery) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set_https(https_name("cached.test", pair.port),
                  DnsServer::Answer::https_text({"1 . alpn=h2"}));
    // AAAA comes 100 ms late and the Resolution Delay is the longest allowed,
    // so that the first race starts on the AAAA answer with the A and HTTPS
    // answers already in: answers after a race's end are not cached, and under
    // load an A answer racing the IPv6 connect could otherwise miss the cache.
    dns.set("cached.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 100ms));
    dns.set("cached.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    DnsCache cache;
    poll::Options o = options(dns);
    o.config.https = true;
    o.config.resolution_delay = eyeballs::max_resolution_delay;
    o.dns.cache = &cache;

    poll::Result first = poll::connect("cached.test", pair.port, o);
    ASSERT_EQ(first.report.outcome, Outcome::connected) << first.report.message;
    ::close(first.fd);
    ASSERT_EQ(dns.wait_for_queries(3).size(), 3u);
    EXPECT_EQ(cache.size(), 3u) << "HTTPS, AAAA and A are kept";
    const TimePoint after_first = Clock::now();
    EXPECT_EQ(cache.lookup(https_name("cached.test", pair.port), DnsCache::Type::https, after_first)
                  .state,
              DnsCache::State::fresh);
    EXPECT_EQ(cache.lookup("cached.test", DnsCache::Type::aaaa, after_first).addresses,
              std::vector<Endpoint>{loopback_v6(0)});

    Recorder second_rec;
    o.on_action = second_rec.observer();
    poll::Result second = poll::connect("cached.test", pair.port, o);
    ASSERT_EQ(second.report.outcome, Outcome::connected) << second.report.message;
    EXPECT_EQ(second.report.remote, loopback_v6(pair.port));
    EXPECT_EQ(peer_of(second.fd), loopback_v6(pair.port));
    EXPECT_EQ(second_rec.all<Resolve>().size(), 3u) << "the machine asked as usual";
    EXPECT_EQ(dns.wait_for_queries(4, 300ms).size(), 3u) << "the cache answered: no query sent";
    EXPECT_LT(second.report.finished - second.report.started, 100ms);
    ::close(second.fd);
}

// A stale A answer (past its TTL, within max_stale) races at once while the
// query goes out; it is refused (127.0.0.2: nobody listens), the race waits
// for the question still open, and the server's answer (300 ms later)
// replaces it and connects. The new answer is then in the cache, fresh.
TEST_F(PollDns, StaleAnswerRacesThenIsReplaced) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v4(std::move(pair.v4));
    RefusedPort v6(std::move(pair.v6));
    dns.set("stale.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("stale.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 300ms));
    DnsCache cache;
    const Endpoint old_address = *Endpoint::parse_address("127.0.0.2", 0);
    cache.store("stale.test", Family::v4, {old_address}, 1, Clock::now() - 10s);
    ASSERT_EQ(cache.lookup("stale.test", DnsCache::Type::a, Clock::now()).state,
              DnsCache::State::stale);
    poll::Options o = options(dns);
    o.config.https = true;  // handle_stale is a v3 input
    o.dns.cache = &cache;

    poll::Result r = poll::connect("stale.test", pair.port, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.attempts.size(), 2u);
    EXPECT_EQ(r.report.attempts[0].remote, old_address.with_port(pair.port)) << "the stale answer raced";
    EXPECT_EQ(r.report.attempts[0].state, AttemptRecord::State::failed);
    EXPECT_LT(start_of(r, 0), 300ms) << "before the server's answer";
    EXPECT_EQ(r.report.attempts[1].remote, loopback_v4(pair.port));
    EXPECT_GE(start_of(r, 1), 300ms) << "the fresh answer replaced the stale one";
    EXPECT_EQ(r.report.remote, loopback_v4(pair.port));
    EXPECT_EQ(peer_of(r.fd), loopback_v4(pair.port));
    ::close(r.fd);
    const auto after = cache.lookup("stale.test", DnsCache::Type::a, Clock::now());
    EXPECT_EQ(after.state, DnsCache::State::fresh);
    EXPECT_EQ(after.addresses, std::vector<Endpoint>{loopback_v4(0)});
    std::size_t a_queries = 0;
    for (const auto& q : dns.queries()) a_queries += q.name == "stale.test" && q.type == 1;
    EXPECT_EQ(a_queries, 1u) << "the stale answer did not stop the query";
}

// A stale HTTPS answer from the cache (v3 §4.4) races at once while the
// HTTPS query goes out: its service old.test (127.0.0.2: nobody listens) is
// tried and refused, and the race waits for the question still open. The
// server's answer (300 ms later) has new.test instead: it replaces the stale
// service (§7), new.test is asked, and its 127.0.0.1 connects. The origin's
// own A answer comes too late to matter. The new records are then cached.
TEST_F(PollDns, StaleHttpsAnswerRacesThenIsReplaced) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v4(std::move(pair.v4));
    RefusedPort v6(std::move(pair.v6));
    const std::string qname = https_name("stale.test", pair.port);
    dns.set_https(qname, DnsServer::Answer::https_text({"1 new.test. alpn=h2"}, 300ms));
    dns.set("stale.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("stale.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 3s));
    dns.set("old.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("old.test", Family::v4,
            DnsServer::Answer::with({*Endpoint::parse_address("127.0.0.2", 0)}));
    dns.set("new.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("new.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    DnsCache cache;
    cache.store_https(qname, {*parse_svcb_presentation("1 old.test. alpn=h2")}, 1,
                      Clock::now() - 10s);
    ASSERT_EQ(cache.lookup(qname, DnsCache::Type::https, Clock::now()).state,
              DnsCache::State::stale);
    poll::Options o = options(dns);
    o.config.https = true;
    o.dns.cache = &cache;

    poll::Result r = poll::connect("stale.test", pair.port, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_EQ(r.report.attempts.size(), 2u);
    EXPECT_EQ(r.report.attempts[0].remote, Endpoint::parse_address("127.0.0.2", pair.port))
        << "the stale answer's service raced";
    EXPECT_EQ(r.report.attempts[0].source, ServiceSource::https_record);
    EXPECT_LT(start_of(r, 0), 300ms) << "before the server's HTTPS answer";
    EXPECT_EQ(r.report.attempts[1].remote, loopback_v4(pair.port));
    EXPECT_EQ(r.report.attempts[1].source, ServiceSource::https_record)
        << "the fresh answer's service, not the origin's A answer";
    EXPECT_GE(start_of(r, 1), 300ms) << "the fresh answer replaced the stale one";
    EXPECT_EQ(peer_of(r.fd), loopback_v4(pair.port));
    ::close(r.fd);
    const auto after = cache.lookup(qname, DnsCache::Type::https, Clock::now());
    EXPECT_EQ(after.state, DnsCache::State::fresh);
    ASSERT_EQ(after.records.size(), 1u);
    EXPECT_EQ(after.records[0].target, "new.test.");
    std::size_t https_queries = 0;
    for (const auto& q : dns.queries()) https_queries += q.name == qname && q.type == 65;
    EXPECT_EQ(https_queries, 1u) << "the stale answer did not stop the query";
}

}  // namespace
}  // namespace eyeballs::test
