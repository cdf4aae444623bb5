// SPDX-License-Identifier: BSL-1.0
// Root only: the libevent adapter sends its own DNS query (HTTPS, type 65)
// over IPv6 first (draft v3 §4.5) when the system has both kinds of
// nameserver. In a private namespace (dns_order_netns.hpp) /etc/resolv.conf
// lists 127.0.0.1 before ::1, and the test's DNS server answers the same
// zone on both at port 53. Without `dns` and `dns_server` the adapter makes
// an evdns_base from that file and sends the HTTPS query to the first IPv6
// nameserver of it (order_dns_servers, eyeballs/dns_servers.hpp).
// AAAA and A are evdns' own queries: the adapter puts the evdns_base's IPv6
// nameservers first, so the first (AAAA) goes to [::1]:53 (before this
// test, evdns kept the file's order and AAAA went to 127.0.0.1). With
// [::1]:53 down (an ICMP error) or silent (for its share of the HTTPS
// query's 4 s) the HTTPS query moves on to 127.0.0.1, and evdns resends AAAA
// there after its timeout: the race still connects.
#include <event2/event.h>
#include <unistd.h>

#include <chrono>

#include "dns_order_netns.hpp"
#include "eyeballs/libevent.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
namespace le = eyeballs::libevent;

struct Result {
    int calls = 0;
    evutil_socket_t fd = -1;
    RaceReport report;
    le::Callback callback() {
        return [this](evutil_socket_t f, const RaceReport& r) {
            ++calls;
            fd = f;
            report = r;
        };
    }
    ~Result() {
        if (fd >= 0) ::close(fd);
    }
};

class DnsOrderLibevent : public FdLeakTest {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network and mount namespaces)";
        const std::string why = enter_dns_order_namespace();
        if (!why.empty()) FAIL() << "running as root, but the namespace cannot be made: " << why;
        FdLeakTest::SetUp();
        base_ = event_base_new();
        ASSERT_NE(base_, nullptr);
    }
    void TearDown() override {
        if (base_ == nullptr) return;
        for (int i = 0; i < 8 && event_base_loop(base_, EVLOOP_NONBLOCK) == 0; ++i) {
        }
        event_base_free(base_);
        FdLeakTest::TearDown();
    }
    void run(const Result& r) {
        const auto deadline = Clock::now() + 10s;
        event* tick = evtimer_new(base_, [](evutil_socket_t, short, void*) {}, nullptr);
        while (r.calls == 0 && Clock::now() < deadline) {
            timeval tv{0, 20000};
            evtimer_add(tick, &tv);
            event_base_loop(base_, EVLOOP_ONCE);
        }
        event_free(tick);
        ASSERT_EQ(r.calls, 1) << "the race did not end in time";
    }
    le::Options options() {
        le::Options o;
        o.config.https = true;
        return o;
    }
    event_base* base_ = nullptr;
};

TEST_F(DnsOrderLibevent, HttpsQueryGoesToTheIpv6Nameserver) {
    DnsServer ns4(kNs4);
    DnsServer ns6(kNs6);
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    serve_zone(ns6, v6.endpoint().port());
    Result r;
    auto h = le::connect(base_, "dual.test", v6.endpoint().port(), options(), r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v6.endpoint());
    EXPECT_EQ(count_type(ns6, 65), 1u) << "the HTTPS query over IPv6";
    EXPECT_EQ(count_type(ns4, 65), 0u) << "no HTTPS query to 127.0.0.1:53";
    // evdns' first query, AAAA (docs/behaviour.md §2), goes to the first
    // server, which the adapter made [::1]:53; evdns then takes its servers
    // in turn, so A may go to 127.0.0.1 (not checked).
    EXPECT_EQ(count_type(ns6, 28), 1u) << "AAAA over IPv6";
    EXPECT_EQ(count_type(ns4, 28), 0u) << "no AAAA to 127.0.0.1:53";
}

TEST_F(DnsOrderLibevent, Ipv6NameserverDownTheHttpsQueryMovesOnToIpv4) {
    DnsServer ns4(kNs4);  // nothing on [::1]:53
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    Result r;
    auto h = le::connect(base_, "dual.test", v6.endpoint().port(), options(), r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, v6.endpoint());
    EXPECT_EQ(count_type(ns4, 65), 1u) << "[::1]:53 refused: the HTTPS query went to 127.0.0.1";
    // evdns does not read the ICMP error: after its timeout (1.67 s) it
    // resends AAAA to the next server, 127.0.0.1, which answers.
    EXPECT_EQ(count_type(ns4, 28), 1u) << "AAAA asked again over IPv4";
}

// [::1]:53 takes the HTTPS query and never answers (AAAA and A it answers,
// for evdns); after its share (half of 4 s) the query goes to 127.0.0.1,
// whose answer moves the race to port= of the record: the origin's port
// refuses connections, so only that answer lets the race succeed.
TEST_F(DnsOrderLibevent, SilentFirstNameserverTheHttpsAnswerComesFromTheNextOne) {
    SilentFirstNameserver world;
    const std::uint16_t port = world.port;
    const Listener& service = world.service;
    DnsServer& ns6 = world.ns6;
    DnsServer& ns4 = world.ns4;
    Result r;
    const auto started = Clock::now();
    auto h = le::connect(base_, "dual.test", port, options(), r.callback());
    run(r);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, service.endpoint()) << "the port of the HTTPS record";
    EXPECT_EQ(count_type(ns6, 65), 1u) << "asked first, once (its share is one 2 s wait)";
    EXPECT_EQ(count_type(ns4, 65), 1u) << "then the next nameserver";
    for (const auto& q : ns4.queries()) {
        if (q.type == 65) {
            EXPECT_GE(q.at - started, 1900ms) << "asked only after [::1]'s share";
        }
    }
}

}  // namespace
}  // namespace eyeballs::test
