// SPDX-License-Identifier: BSL-1.0
// Issue 17 item 10, draft v3 §4.5: the adapters' own DNS clients ask an IPv6
// nameserver first (eyeballs/dns_servers.hpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "eyeballs/dns_servers.hpp"

using namespace eyeballs;

namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text, 53); }

TEST(DnsServers, ParsesNameserversInFileOrderSkippingZonesAndJunk) {
    const auto servers = parse_resolv_conf(
        "# comment\n"
        "search example.net\n"
        "nameserver 192.0.2.53\n"
        "nameserver fe80::1%eth0\n"
        "nameserver not-an-address\n"
        "nameserver   2001:db8::53  \n"
        "options edns0\n"
        "nameserver 198.51.100.53\n");
    ASSERT_EQ(servers.size(), 3u);
    EXPECT_EQ(servers[0], ep("192.0.2.53"));
    EXPECT_EQ(servers[1], ep("[2001:db8::53]"));
    EXPECT_EQ(servers[2], ep("198.51.100.53"));
    EXPECT_EQ(servers[1].port(), 53);
}

TEST(DnsServers, OrderPutsIpv6FirstKeepingEachFamilysOrder) {
    const auto ordered = order_dns_servers(
        {ep("192.0.2.1"), ep("[2001:db8::2]"), ep("192.0.2.3"), ep("[2001:db8::4]")});
    const std::vector<Endpoint> expected{ep("[2001:db8::2]"), ep("[2001:db8::4]"), ep("192.0.2.1"),
                                         ep("192.0.2.3")};
    EXPECT_EQ(ordered, expected);
    EXPECT_TRUE(order_dns_servers({}).empty());
}

TEST(DnsServers, PreferredServerFromAFile) {
    const std::string path = ::testing::TempDir() + "eyeballs_resolv_conf_test";
    {
        std::ofstream out(path);
        out << "nameserver 192.0.2.53\nnameserver 2001:db8::53\n";
    }
    EXPECT_EQ(preferred_dns_server(path.c_str()), ep("[2001:db8::53]"));
    {
        std::ofstream out(path);
        out << "nameserver 192.0.2.53\n";
    }
    EXPECT_EQ(preferred_dns_server(path.c_str()), ep("192.0.2.53"));
    {
        std::ofstream out(path);
        out << "search example.net\n";
    }
    EXPECT_FALSE(preferred_dns_server(path.c_str()));
    std::remove(path.c_str());
    EXPECT_FALSE(preferred_dns_server(path.c_str()));
}

TEST(DnsServers, PreferredServersIsTheWholeOrderedListOfAFile) {
    const std::string path = ::testing::TempDir() + "eyeballs_resolv_conf_list_test";
    {
        std::ofstream out(path);
        out << "nameserver 192.0.2.1\nnameserver 2001:db8::2\n"
               "nameserver 192.0.2.3\nnameserver 2001:db8::4\n";
    }
    const std::vector<Endpoint> expected{ep("[2001:db8::2]"), ep("[2001:db8::4]"), ep("192.0.2.1"),
                                         ep("192.0.2.3")};
    EXPECT_EQ(preferred_dns_servers(path.c_str()), expected);
    // The single-server form is the front of the list.
    EXPECT_EQ(preferred_dns_server(path.c_str()), ep("[2001:db8::2]"));
    {
        std::ofstream out(path);
        out << "# no nameserver here\n";
    }
    EXPECT_TRUE(preferred_dns_servers(path.c_str()).empty());
    std::remove(path.c_str());
    EXPECT_TRUE(preferred_dns_servers(path.c_str()).empty());
}

}  // namespace
