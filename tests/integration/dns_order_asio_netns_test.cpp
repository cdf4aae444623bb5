// SPDX-License-Identifier: BSL-1.0
// Root only: the Asio adapter sends its own DNS query (HTTPS, type 65) over
// IPv6 first (draft v3 §4.5) when the system has both kinds of nameserver.
// In a private namespace (dns_order_netns.hpp) /etc/resolv.conf lists
// 127.0.0.1 before ::1, and the test's DNS server answers the same zone on
// both at port 53. Without connect_options::dns_server the HTTPS query goes
// to resolv_conf_nameservers() in order: [::1]:53, and 127.0.0.1 only when
// [::1] gives no answer (nothing there: an ICMP error; or silence for its
// share of dns_timeout). AAAA and A go through getaddrinfo, the system
// resolver (glibc asks in the file's order), which is not the adapter's
// client.
#include <unistd.h>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>

#include "dns_order_netns.hpp"
#include "eyeballs/asio.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;

class DnsOrderAsio : public ::testing::Test {
protected:
    void SetUp() override {
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network and mount namespaces)";
        const std::string why = enter_dns_order_namespace();
        if (!why.empty()) FAIL() << "running as root, but the namespace cannot be made: " << why;
    }
    // Races to dual.test:port with HTTPS on; the connected peer's port, 0 on failure.
    static std::uint16_t race(std::uint16_t port, std::string* error,
                              std::chrono::milliseconds* took = nullptr) {
        ::asio::io_context io;
        eyeballs::asio::connect_options o;
        o.config.https = true;
        std::uint16_t peer = 0;
        eyeballs::asio::async_connect(io.get_executor(), "dual.test", port, o,
                                      [&](std::error_code ec, ::asio::ip::tcp::socket s) {
                                          if (ec) {
                                              *error = ec.message();
                                              return;
                                          }
                                          std::error_code e2;
                                          const auto remote = s.remote_endpoint(e2);
                                          if (!e2 && remote.address().is_v6()) peer = remote.port();
                                      });
        const auto started = std::chrono::steady_clock::now();
        io.run_for(10s);
        if (took != nullptr) {
            *took = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - started);
        }
        return peer;
    }
};

TEST_F(DnsOrderAsio, HttpsQueryGoesToTheIpv6Nameserver) {
    DnsServer ns4(kNs4);
    DnsServer ns6(kNs6);
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    serve_zone(ns6, v6.endpoint().port());
    std::string error;
    EXPECT_EQ(race(v6.endpoint().port(), &error), v6.endpoint().port()) << error;
    EXPECT_EQ(count_type(ns6, 65), 1u) << "the HTTPS query over IPv6";
    EXPECT_EQ(count_type(ns4, 65), 0u) << "no HTTPS query to 127.0.0.1:53";
}

TEST_F(DnsOrderAsio, Ipv6NameserverDownTheHttpsQueryMovesOnToTheIpv4One) {
    DnsServer ns4(kNs4);  // nothing on [::1]:53
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    std::string error;
    EXPECT_EQ(race(v6.endpoint().port(), &error), v6.endpoint().port()) << error;
    EXPECT_EQ(count_type(ns4, 65), 1u) << "[::1]:53 refused: the HTTPS query went to 127.0.0.1";
    EXPECT_GE(count_type(ns4, 28), 1u) << "the AAAA answer came from 127.0.0.1 (getaddrinfo)";
}

// [::1]:53 takes the HTTPS query and never answers; after its share (half of
// dns_timeout's 5 s) the query goes to 127.0.0.1, whose answer moves the
// race to port= of the record: the origin's port refuses connections, so
// only that answer lets the race succeed.
TEST_F(DnsOrderAsio, SilentFirstNameserverTheHttpsAnswerComesFromTheNextOne) {
    SilentFirstNameserver world;
    const std::uint16_t port = world.port;
    const Listener& service = world.service;
    DnsServer& ns6 = world.ns6;
    DnsServer& ns4 = world.ns4;
    std::string error;
    std::chrono::milliseconds took{0};
    EXPECT_EQ(race(port, &error, &took), service.endpoint().port())
        << "the port of the HTTPS record; " << error;
    EXPECT_GE(count_type(ns6, 65), 1u) << "asked first (sent at 0 and 1 s of its 2.5 s)";
    EXPECT_EQ(count_type(ns4, 65), 1u) << "then the next nameserver";
    EXPECT_GE(took, 2400ms) << "127.0.0.1 asked only after [::1]'s share";
}

}  // namespace
}  // namespace eyeballs::test
