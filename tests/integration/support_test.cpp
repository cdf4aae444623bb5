// SPDX-License-Identifier: BSL-1.0
// Checks the loopback fixtures themselves, so an adapter test that fails
// points at the adapter, not at a blackhole that stopped dropping SYNs.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "eyeballs/posix.hpp"
#include "support.hpp"

namespace eyeballs::test {
namespace {

// Connects non-blocking and waits up to `wait`: 0 connected, an errno, or -1 pending.
int try_connect(const Endpoint& to, Millis wait) {
    Fd c(::socket(to_af(to.family()), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(to, ss);
    if (::connect(c.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) return 0;
    if (errno != EINPROGRESS) return errno;
    pollfd p{c.get(), POLLOUT, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) == 0) return -1;
    int err = 0;
    socklen_t elen = sizeof err;
    ::getsockopt(c.get(), SOL_SOCKET, SO_ERROR, &err, &elen);
    return err;
}

class SupportTest : public FdLeakTest {};

TEST_F(SupportTest, ListenerAcceptsOnBothFamilies) {
    Listener v4(loopback_v4());
    EXPECT_EQ(try_connect(v4.endpoint(), Millis(2000)), 0);
    if (ipv6_loopback_available()) {
        Listener v6(loopback_v6());
        EXPECT_EQ(try_connect(v6.endpoint(), Millis(2000)), 0);
        EXPECT_EQ(v6.accept_all(), 1);
    }
    EXPECT_EQ(v4.accept_all(), 1);
}

TEST_F(SupportTest, RefusedPortRefuses) {
    RefusedPort r(loopback_v4());
    EXPECT_NE(r.endpoint().port(), 0);
    EXPECT_EQ(try_connect(r.endpoint(), Millis(2000)), ECONNREFUSED);
}

TEST_F(SupportTest, BlackholeDropsSynsOnIpv6) {
    if (!ipv6_loopback_available()) GTEST_SKIP() << "no [::1] on this host";
    Blackhole b(loopback_v6());
    EXPECT_EQ(try_connect(b.endpoint(), Millis(300)), -1);
    EXPECT_TRUE(b.drops(Millis(100)));
}

TEST_F(SupportTest, LoopbackPairSharesOnePort) {
    LoopbackPair pair = bind_loopback_pair();
    EXPECT_EQ(bound_endpoint(pair.v6.get()), loopback_v6(pair.port));
    EXPECT_EQ(bound_endpoint(pair.v4.get()), loopback_v4(pair.port));
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    EXPECT_EQ(try_connect(loopback_v4(pair.port), Millis(2000)), 0);
    EXPECT_EQ(try_connect(loopback_v6(pair.port), Millis(200)), -1);
}

TEST(SupportFdCount, CountsOpenedAndClosedFds) {
    int before = open_fd_count();
    {
        Fd a(::dup(0));
        EXPECT_EQ(open_fd_count(), before + 1);
    }
    EXPECT_EQ(open_fd_count(), before);
}

// One raw query/answer through the DNS server (c-ares is exercised by the
// adapter tests).
std::vector<std::uint8_t> query_packet(const char* name, std::uint16_t type) {
    std::vector<std::uint8_t> q = {0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
    std::string n(name);
    std::size_t start = 0;
    while (start <= n.size()) {
        std::size_t dot = n.find('.', start);
        if (dot == std::string::npos) dot = n.size();
        q.push_back(static_cast<std::uint8_t>(dot - start));
        q.insert(q.end(), n.begin() + static_cast<long>(start), n.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    q.push_back(0);
    q.push_back(static_cast<std::uint8_t>(type >> 8));
    q.push_back(static_cast<std::uint8_t>(type));
    q.push_back(0);
    q.push_back(1);
    return q;
}

std::vector<std::uint8_t> ask(const DnsServer& server, const char* name, std::uint16_t type,
                              Millis wait) {
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    auto q = query_packet(name, type);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(server.endpoint(), ss);
    ::sendto(s.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&ss), len);
    pollfd p{s.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return {};
    std::vector<std::uint8_t> buf(1500);
    ssize_t n = ::recv(s.get(), buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return buf;
}

TEST_F(SupportTest, DnsServerAnswersFromItsTable) {
    DnsServer dns;
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("dual.test", Family::v4, DnsServer::Answer::servfail());
    dns.set("quiet.test", Family::v6, DnsServer::Answer::silent());

    auto aaaa = ask(dns, "Dual.Test", 28, Millis(2000));
    ASSERT_GE(aaaa.size(), 12u + 15u + 28u);
    EXPECT_EQ(aaaa[0], 0x12);
    EXPECT_EQ(aaaa[3] & 0x0f, 0);  // NOERROR
    EXPECT_EQ(aaaa[7], 1);         // one answer
    EXPECT_EQ(aaaa.back(), 1);     // ...ending in ::1

    auto a = ask(dns, "dual.test", 1, Millis(2000));
    ASSERT_GE(a.size(), 12u);
    EXPECT_EQ(a[3] & 0x0f, 2);  // SERVFAIL

    auto nx = ask(dns, "other.test", 1, Millis(2000));
    ASSERT_GE(nx.size(), 12u);
    EXPECT_EQ(nx[3] & 0x0f, 3);  // NXDOMAIN

    EXPECT_TRUE(ask(dns, "quiet.test", 28, Millis(200)).empty());

    auto qs = dns.queries();
    ASSERT_EQ(qs.size(), 4u);
    EXPECT_EQ(qs[0].name, "dual.test");
    EXPECT_EQ(qs[0].family, Family::v6);
    EXPECT_EQ(qs[1].family, Family::v4);
}

TEST_F(SupportTest, DnsServerDelaysAnswers) {
    DnsServer dns;
    dns.set("slow.test", Family::v4, DnsServer::Answer::nodata(Millis(150)));
    auto t0 = std::chrono::steady_clock::now();
    auto r = ask(dns, "slow.test", 1, Millis(2000));
    auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_GE(r.size(), 12u);
    EXPECT_EQ(r[7], 0);  // NODATA: no answers, NOERROR
    EXPECT_EQ(r[3] & 0x0f, 0);
    EXPECT_GE(took, Millis(150));
}

}  // namespace
}  // namespace eyeballs::test
