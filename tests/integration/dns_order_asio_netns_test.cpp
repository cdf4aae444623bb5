// SPDX-License-Identifier: BSL-1.0
// Root only: the Asio adapter sends its own DNS query (HTTPS, type 65) over
// IPv6 first (draft v3 §4.5) when the system has both kinds of nameserver.
// In a private namespace (dns_order_netns.hpp) /etc/resolv.conf lists
// 127.0.0.1 before ::1, and the test's DNS server answers the same zone on
// both at port 53. Without connect_options::dns_server the HTTPS query goes
// to resolv_conf_nameserver(): [::1]:53, never 127.0.0.1. AAAA and A go
// through getaddrinfo, the system resolver (glibc asks in the file's order),
// which is not the adapter's client. The adapter asks one server: with
// [::1]:53 down the HTTPS query fails and the race connects on
// getaddrinfo's answers.
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
    static std::uint16_t race(std::uint16_t port, std::string* error) {
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
        io.run_for(10s);
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

TEST_F(DnsOrderAsio, Ipv6NameserverDownTheRaceResolvesThroughGetaddrinfo) {
    DnsServer ns4(kNs4);  // nothing on [::1]:53
    Listener v6(loopback_v6());
    serve_zone(ns4, v6.endpoint().port());
    std::string error;
    EXPECT_EQ(race(v6.endpoint().port(), &error), v6.endpoint().port()) << error;
    EXPECT_EQ(count_type(ns4, 65), 0u) << "the adapter asks one server: no HTTPS retry over IPv4";
    EXPECT_GE(count_type(ns4, 28), 1u) << "the AAAA answer came from 127.0.0.1 (getaddrinfo)";
}

}  // namespace
}  // namespace eyeballs::test
