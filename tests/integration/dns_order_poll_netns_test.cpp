// SPDX-License-Identifier: BSL-1.0
// Root only: the poll adapter sends its DNS queries over IPv6 first (draft v3
// §4.5) when the system has both kinds of nameserver. In a private namespace
// (dns_order_netns.hpp) /etc/resolv.conf lists 127.0.0.1 before ::1 and the
// test's DNS server answers the same zone on both, port 53. Without
// DnsOptions::server the adapter's c-ares channel reads that file; its
// servers are put IPv6 first (adapters/poll/src/dns.cpp ipv6_servers_first),
// so HTTPS, AAAA and A all go to [::1]:53 and none to 127.0.0.1:53. When
// [::1]:53 is down (ICMP port unreachable) or silent, c-ares moves on to the
// next server and the race resolves through 127.0.0.1:53.
// Not root: skipped with a message. Root and the namespace cannot be made:
// the test fails, naming what failed.
#include <unistd.h>

#include "dns_order_netns.hpp"
#include "poll_common.hpp"

namespace eyeballs::test {
namespace {

void go_silent(DnsServer& dns, std::uint16_t port) {
    dns.set_https(dual_https_name(port), DnsServer::Answer::silent());
    dns.set("dual.test", Family::v6, DnsServer::Answer::silent());
    dns.set("dual.test", Family::v4, DnsServer::Answer::silent());
}

class DnsOrderPoll : public FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network and mount namespaces)";
        const std::string why = enter_dns_order_namespace();
        if (!why.empty()) FAIL() << "running as root, but the namespace cannot be made: " << why;
    }
    poll::Options options() {
        poll::Options o;
        o.on_action = rec.observer();
        o.config.https = true;  // HTTPS, AAAA and A: three queries
        return o;
    }
    Recorder rec;
};

TEST_F(DnsOrderPoll, AsksTheIpv6NameserverAndNotTheIpv4One) {
    DnsServer ns4(kNs4);
    DnsServer ns6(kNs6);
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    serve_zone(ns4, pair.port);
    serve_zone(ns6, pair.port);

    poll::Result r = poll::connect("dual.test", pair.port, options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    ::close(r.fd);
    const auto q6 = ns6.wait_for_queries(3);
    EXPECT_EQ(q6.size(), 3u) << "HTTPS, AAAA and A over IPv6";
    EXPECT_TRUE(ns4.queries().empty()) << ns4.queries().size() << " queries reached 127.0.0.1:53";
}

TEST_F(DnsOrderPoll, Ipv6NameserverDownFallsBackToIpv4) {
    DnsServer ns4(kNs4);  // nothing on [::1]:53: ICMP port unreachable
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    serve_zone(ns4, pair.port);

    poll::Result r = poll::connect("dual.test", pair.port, options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    ::close(r.fd);
    EXPECT_EQ(ns4.wait_for_queries(3).size(), 3u) << "all three asked again over IPv4";
    EXPECT_LT(r.report.finished - r.report.started, 1s) << "a refused server is left at once";
}

TEST_F(DnsOrderPoll, Ipv6NameserverSilentFallsBackToIpv4AfterItsTimeout) {
    DnsServer ns4(kNs4);
    DnsServer ns6(kNs6);
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    serve_zone(ns4, pair.port);
    go_silent(ns6, pair.port);
    poll::Options o = options();
    o.dns.query_timeout = 300ms;

    poll::Result r = poll::connect("dual.test", pair.port, o);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ::close(r.fd);
    const auto q6 = ns6.wait_for_queries(3);
    ASSERT_EQ(q6.size(), 3u) << "IPv6 asked first";
    // The race may end (connected on the first answers) before c-ares has
    // moved every query to 127.0.0.1, so only the ones it did are checked.
    const auto q4 = ns4.queries();
    ASSERT_FALSE(q4.empty()) << "then IPv4: the answers that connected came from there";
    for (const auto& q : q4) {
        EXPECT_GE(q.at - q6.front().at, 250ms) << "127.0.0.1 asked only after ::1's timeout";
    }
}

}  // namespace
}  // namespace eyeballs::test
