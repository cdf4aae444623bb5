// SPDX-License-Identifier: BSL-1.0
// Root only: the libuv adapter sends its own DNS query (HTTPS, type 65)
// over IPv6 first (draft v3 §4.5) when the system has both kinds of
// nameserver. In a private namespace (dns_order_netns.hpp) /etc/resolv.conf
// lists 127.0.0.1 before ::1, and the test's DNS server answers the same
// zone on both at port 53. Without Options::dns_server the adapter asks
// preferred_dns_server() (eyeballs/dns_servers.hpp): [::1]:53, never
// 127.0.0.1. Its AAAA and A questions go through uv_getaddrinfo, the system
// resolver (glibc asks the servers in the file's order: 127.0.0.1 first);
// that is not the adapter's client, so only the HTTPS query is checked.
// A nameserver that gives no answer (nothing on [::1]:53: an ICMP error; or
// a server that stays silent: its share of the query's timeout) leaves the
// HTTPS query to the next one, 127.0.0.1:53, as resolv.conf(5) resolvers do.
#include <uv.h>

#include <chrono>
#include <functional>

#include "dns_order_netns.hpp"
#include "eyeballs/libuv.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace lu = eyeballs::libuv;

struct Result {
    int calls = 0;
    uv_tcp_t* tcp = nullptr;
    RaceReport report;
    lu::Callback callback() {
        return [this](uv_tcp_t* t, const RaceReport& r) {
            ++calls;
            tcp = t;
            report = r;
        };
    }
    ~Result() { lu::close_tcp(tcp); }
};

class DnsOrderLibuv : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network and mount namespaces)";
        const std::string why = enter_dns_order_namespace();
        if (!why.empty()) FAIL() << "running as root, but the namespace cannot be made: " << why;
        ASSERT_EQ(uv_loop_init(&loop_), 0);
        inited_ = true;
    }
    void TearDown() override {
        if (!inited_) return;
        const auto deadline = Clock::now() + 5s;
        while (uv_run(&loop_, UV_RUN_NOWAIT) != 0 && Clock::now() < deadline) ::usleep(1000);
        EXPECT_EQ(uv_loop_close(&loop_), 0) << "the loop is still busy";
    }
    void run(const Result& r) {
        const auto deadline = Clock::now() + 10s;
        uv_timer_t tick;
        uv_timer_init(&loop_, &tick);
        uv_timer_start(&tick, [](uv_timer_t*) {}, 20, 20);
        while (r.calls == 0 && Clock::now() < deadline) uv_run(&loop_, UV_RUN_ONCE);
        uv_close(reinterpret_cast<uv_handle_t*>(&tick), nullptr);
        uv_run(&loop_, UV_RUN_NOWAIT);
        ASSERT_EQ(r.calls, 1) << "the race did not end in time";
    }
    lu::Options options() {
        lu::Options o;
        o.config.https = true;
        return o;
    }
    uv_loop_t loop_{};
    bool inited_ = false;
};

TEST_F(DnsOrderLibuv, HttpsQueryGoesToTheIpv6Nameserver) {
    DnsServer ns4(kNs4);
    DnsServer ns6(kNs6);
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    serve_zone(ns6, v6.endpoint().port());
    Result r;
    auto h = lu::connect(&loop_, "dual.test", v6.endpoint().port(), options(), r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v6.endpoint());
    EXPECT_EQ(count_type(ns6, 65), 1u) << "the HTTPS query over IPv6";
    EXPECT_EQ(count_type(ns4, 65), 0u) << "no HTTPS query to 127.0.0.1:53";
}

TEST_F(DnsOrderLibuv, Ipv6NameserverDownTheHttpsQueryMovesOnToTheIpv4One) {
    DnsServer ns4(kNs4);  // nothing on [::1]:53
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    Result r;
    auto h = lu::connect(&loop_, "dual.test", v6.endpoint().port(), options(), r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v6.endpoint());
    EXPECT_EQ(count_type(ns4, 65), 1u) << "[::1]:53 refused: the HTTPS query went to 127.0.0.1";
    bool aaaa = false;  // the race connected to ::1: its AAAA answer was in
    for (const auto& q : ns4.queries()) aaaa = aaaa || q.type == 28;
    EXPECT_TRUE(aaaa) << "the AAAA answer came from 127.0.0.1 (getaddrinfo)";
}

// The first nameserver ([::1]:53) takes the HTTPS query and never answers;
// after its share of the timeout (half of 4 s) the query goes to 127.0.0.1,
// whose answer moves the race to port= of the record: the origin's port
// refuses connections, so only the HTTPS answer lets the race succeed.
TEST_F(DnsOrderLibuv, SilentFirstNameserverTheHttpsAnswerComesFromTheNextOne) {
    SilentFirstNameserver world;
    const std::uint16_t port = world.port;
    const Listener& service = world.service;
    DnsServer& ns6 = world.ns6;
    DnsServer& ns4 = world.ns4;
    Result r;
    const auto started = Clock::now();
    auto h = lu::connect(&loop_, "dual.test", port, options(), r.callback());
    ASSERT_TRUE(h.status().ok()) << h.status().message();
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, service.endpoint()) << "the port of the HTTPS record";
    EXPECT_EQ(count_type(ns6, 65), 1u) << "asked first, once (its share is one 2 s wait)";
    EXPECT_EQ(count_type(ns4, 65), 1u) << "then the next nameserver";
    const auto ns4_https = ns4.queries();
    for (const auto& q : ns4_https) {
        if (q.type == 65) {
            EXPECT_GE(q.at - started, 1900ms) << "asked only after [::1]'s share";
        }
    }
}

}  // namespace
}  // namespace eyeballs::test
