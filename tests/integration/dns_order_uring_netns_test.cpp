// SPDX-License-Identifier: BSL-1.0
// Root only: the io_uring adapter sends every DNS query (AAAA, A, HTTPS:
// its own client) over IPv6 first (draft v3 §4.5) when the system has both
// kinds of nameserver. In a private namespace (dns_order_netns.hpp)
// /etc/resolv.conf lists 127.0.0.1 before ::1, and the test's DNS server
// answers the same zone on both at port 53. Without Options::dns_server the
// adapter asks preferred_dns_server() (eyeballs/dns_servers.hpp): [::1]:53
// for all three, 127.0.0.1 for none. It asks one server: with [::1]:53 down
// the race fails its DNS (no fallback to the IPv4 nameserver).
#include <unistd.h>

#include <chrono>

#include "dns_order_netns.hpp"
#include "eyeballs/uring.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;
namespace ur = eyeballs::uring;

struct Result {
    int calls = 0;
    Fd fd;
    RaceReport report;
    ur::Callback callback() {
        return [this](int f, const RaceReport& r) {
            ++calls;
            fd.reset(f);
            report = r;
        };
    }
};

class DnsOrderUring : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network and mount namespaces)";
        const std::string why = enter_dns_order_namespace();
        if (!why.empty()) FAIL() << "running as root, but the namespace cannot be made: " << why;
        loop_ = std::make_unique<ur::Loop>();
        if (!loop_->status()) {
            const std::string reason = loop_->status().message();
            loop_.reset();
            GTEST_SKIP() << reason;
        }
    }
    Result race(std::uint16_t port) {
        ur::Options o;
        o.config.https = true;
        o.config.overall_timeout = 10s;
        Result r;
        auto h = ur::connect(*loop_, "dual.test", port, o, r.callback());
        EXPECT_TRUE(h.status().ok()) << h.status().message();
        const Status s = loop_->run();
        EXPECT_TRUE(s.ok()) << s.message();
        return r;
    }
    std::unique_ptr<ur::Loop> loop_;
};

TEST_F(DnsOrderUring, EveryQueryGoesToTheIpv6Nameserver) {
    DnsServer ns4(kNs4);
    DnsServer ns6(kNs6);
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    serve_zone(ns6, v6.endpoint().port());
    Result r = race(v6.endpoint().port());
    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v6.endpoint());
    EXPECT_EQ(ns6.wait_for_queries(3).size(), 3u) << "HTTPS, AAAA and A over IPv6";
    EXPECT_TRUE(ns4.queries().empty()) << ns4.queries().size() << " queries reached 127.0.0.1:53";
}

TEST_F(DnsOrderUring, Ipv6NameserverDownFailsWithoutAskingIpv4) {
    DnsServer ns4(kNs4);  // nothing on [::1]:53
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    Result r = race(v6.endpoint().port());
    ASSERT_EQ(r.calls, 1);
    EXPECT_NE(r.report.outcome, Outcome::connected) << "documented: one nameserver is asked";
    EXPECT_TRUE(ns4.queries().empty()) << "no fallback to 127.0.0.1:53";
}

}  // namespace
}  // namespace eyeballs::test
