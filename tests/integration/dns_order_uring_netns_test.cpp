// SPDX-License-Identifier: BSL-1.0
// Root only: the io_uring adapter sends every DNS query (AAAA, A, HTTPS:
// its own client) over IPv6 first (draft v3 §4.5) when the system has both
// kinds of nameserver. In a private namespace (dns_order_netns.hpp)
// /etc/resolv.conf lists 127.0.0.1 before ::1, and the test's DNS server
// answers the same zone on both at port 53. Without Options::dns_server the
// adapter asks preferred_dns_servers() (eyeballs/dns_servers.hpp) in order:
// [::1]:53 for all three, 127.0.0.1 for none while [::1] answers. A
// nameserver that gives no answer (nothing on [::1]:53: an ICMP error; or a
// silent one: its share of the 4 s) leaves the queries to 127.0.0.1:53.
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

TEST_F(DnsOrderUring, Ipv6NameserverDownTheQueriesMoveOnToTheIpv4One) {
    DnsServer ns4(kNs4);  // nothing on [::1]:53
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    Result r = race(v6.endpoint().port());
    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v6.endpoint());
    EXPECT_EQ(count_type(ns4, 65), 1u) << "[::1]:53 refused: HTTPS went to 127.0.0.1";
    EXPECT_EQ(count_type(ns4, 28), 1u) << "AAAA too";
    EXPECT_EQ(count_type(ns4, 1), 1u) << "A too";
}

// [::1]:53 takes every query and never answers; after its share (half of
// 4 s) each goes to 127.0.0.1:53, whose HTTPS answer moves the race to
// port= of the record: the origin's port refuses connections, so only that
// answer (and the addresses from the second server) lets the race succeed.
TEST_F(DnsOrderUring, SilentFirstNameserverEveryAnswerComesFromTheNextOne) {
    SilentFirstNameserver world(/*addresses_silent=*/true);
    const std::uint16_t port = world.port;
    const Listener& service = world.service;
    DnsServer& ns6 = world.ns6;
    DnsServer& ns4 = world.ns4;
    const auto started = std::chrono::steady_clock::now();
    Result r = race(port);
    ASSERT_EQ(r.calls, 1);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, service.endpoint()) << "the port of the HTTPS record";
    for (const std::uint16_t type : {std::uint16_t{65}, std::uint16_t{28}, std::uint16_t{1}}) {
        EXPECT_EQ(count_type(ns6, type), 1u) << "type " << type << ": [::1] asked once (one 2 s send)";
    }
    // The race needs the HTTPS answer (its port) and the AAAA answer (the
    // service listens on [::1] only), so both must have come from 127.0.0.1.
    // The A query is not needed: when the race wins before the A query's own
    // 2 s share ends (it was sent a little after the others), the race ends
    // it and 127.0.0.1 never sees it. CI's ASan run saw exactly that.
    EXPECT_EQ(count_type(ns4, 65), 1u) << "HTTPS: then 127.0.0.1";
    EXPECT_EQ(count_type(ns4, 28), 1u) << "AAAA: then 127.0.0.1";
    EXPECT_LE(count_type(ns4, 1), 1u) << "A: at most once, and only after [::1]'s share";
    for (const auto& q : ns4.queries()) {
        EXPECT_GE(q.at - started, 1900ms) << "type " << q.type << " asked only after [::1]'s share";
    }
}

}  // namespace
}  // namespace eyeballs::test
