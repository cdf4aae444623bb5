// SPDX-License-Identifier: BSL-1.0
// The test DNS server's HTTPS (RFC 9460, type 65) answers, proven over a
// plain UDP socket: queries written by build_dns_query, answers read by
// parse_dns_response — records, NODATA, NXDOMAIN, SERVFAIL, silence, delay —
// and its A/AAAA answers read the same way.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "eyeballs/dns_message.hpp"
#include "eyeballs/posix.hpp"
#include "support.hpp"

namespace eyeballs::test {
namespace {

using Bytes = std::vector<std::uint8_t>;

// Sends `query` to the server from a fresh UDP socket; the answer, or nothing
// after `wait`.
Bytes exchange(const DnsServer& server, const Bytes& query, Millis wait) {
    Fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!s) throw std::runtime_error("socket failed");
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(server.endpoint(), ss);
    if (::sendto(s.get(), query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        throw std::runtime_error("sendto failed");
    }
    pollfd p{s.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return {};
    Bytes buf(1500);
    ssize_t n = ::recv(s.get(), buf.data(), buf.size(), 0);
    buf.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return buf;
}

// Asks `name` for `type` and reads the answer as its own (empty status
// mismatch when nothing came back).
DnsResponse ask(const DnsServer& server, const std::string& name, std::uint16_t type,
                Millis wait = Millis(2000), std::uint16_t id = 0x4e4f) {
    std::string error;
    std::optional<Bytes> q = build_dns_query(id, name, type, &error);
    EXPECT_TRUE(q.has_value()) << error;
    if (!q) return {};
    const Bytes answer = exchange(server, *q, wait);
    if (answer.empty()) return {};
    return parse_dns_response(answer.data(), answer.size(), id, name, type);
}

SvcbRecord record(const char* text) {
    std::string error;
    auto r = parse_svcb_presentation(text, &error);
    EXPECT_TRUE(r.has_value()) << error;
    return r.value_or(SvcbRecord{});
}

class DnsServerHttps : public FdLeakTest {};

TEST_F(DnsServerHttps, AnswersHttpsRecordsReadBackByTheParser) {
    DnsServer dns;
    const std::vector<std::string> texts = {
        "1 . alpn=h3,h2 ipv4hint=127.0.0.1 ech=aGVsbG8= ipv6hint=::1",
        "2 alt.svc.test. alpn=h2 port=8443",
    };
    dns.set_https("svc.test", DnsServer::Answer::https_text(texts));
    dns.set_https("alias.test", DnsServer::Answer::https({record("0 svc.test.")}));

    const DnsResponse r = ask(dns, "SVC.Test", dns_type::https);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.rcode, dns_rcode::noerror);
    EXPECT_FALSE(r.truncated);
    EXPECT_EQ(r.name, "SVC.Test.");
    ASSERT_EQ(r.svcb.size(), 2u);
    EXPECT_EQ(to_presentation(r.svcb[0]), texts[0]);
    EXPECT_EQ(to_presentation(r.svcb[1]), texts[1]);
    EXPECT_EQ(r.svcb[1].port_or(443), 8443);
    EXPECT_TRUE(r.notes.empty());

    const DnsResponse alias = ask(dns, "alias.test.", dns_type::https);
    ASSERT_TRUE(alias.ok()) << alias.error;
    ASSERT_EQ(alias.svcb.size(), 1u);
    EXPECT_TRUE(alias.svcb[0].alias_mode());
    EXPECT_EQ(alias.svcb[0].target, "svc.test.");

    const auto qs = dns.queries();
    ASSERT_EQ(qs.size(), 2u);
    EXPECT_EQ(qs[0].name, "svc.test");
    EXPECT_EQ(qs[0].type, dns_type::https);
}

TEST_F(DnsServerHttps, NodataNxdomainServfailSilenceAndDelay) {
    DnsServer dns;
    dns.set("addresses-only.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set_https("empty.test", DnsServer::Answer::nodata());
    dns.set_https("broken.test", DnsServer::Answer::servfail());
    dns.set_https("gone.test", DnsServer::Answer::nxdomain());
    dns.set_https("quiet.test", DnsServer::Answer::silent());
    dns.set_https("slow.test", DnsServer::Answer::https_text({"1 . alpn=h2"}, Millis(150)));

    for (const char* name : {"addresses-only.test", "empty.test"}) {
        const DnsResponse r = ask(dns, name, dns_type::https);
        ASSERT_TRUE(r.ok()) << name << ": " << r.error;
        EXPECT_EQ(r.rcode, dns_rcode::noerror) << name;
        EXPECT_TRUE(r.svcb.empty()) << name;
    }
    const DnsResponse servfail = ask(dns, "broken.test", dns_type::https);
    ASSERT_TRUE(servfail.ok()) << servfail.error;
    EXPECT_EQ(servfail.rcode, dns_rcode::servfail);
    for (const char* name : {"gone.test", "never-set.test"}) {
        const DnsResponse nx = ask(dns, name, dns_type::https);
        ASSERT_TRUE(nx.ok()) << nx.error;
        EXPECT_EQ(nx.rcode, dns_rcode::nxdomain) << name;
    }
    const DnsResponse quiet = ask(dns, "quiet.test", dns_type::https, Millis(200));
    EXPECT_EQ(quiet.status, DnsResponse::Status::mismatch) << "an answer came from a silent entry";

    const auto t0 = std::chrono::steady_clock::now();
    const DnsResponse slow = ask(dns, "slow.test", dns_type::https);
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(slow.ok()) << slow.error;
    ASSERT_EQ(slow.svcb.size(), 1u);
    EXPECT_EQ(slow.svcb[0].alpn, std::vector<std::string>{"h2"});
    EXPECT_GE(took, Millis(150));
}

TEST_F(DnsServerHttps, AddressAnswersReadTheSameWay) {
    DnsServer dns;
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6(), loopback_v4()}));
    dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set_https("dual.test", DnsServer::Answer::https_text({"1 . alpn=h2"}));

    const DnsResponse aaaa = ask(dns, "dual.test", dns_type::aaaa);
    ASSERT_TRUE(aaaa.ok()) << aaaa.error;
    EXPECT_EQ(aaaa.addresses, std::vector<Endpoint>{loopback_v6()}) << "only the family asked for";
    const DnsResponse a = ask(dns, "dual.test", dns_type::a, Millis(2000), 0x0001);
    ASSERT_TRUE(a.ok()) << a.error;
    EXPECT_EQ(a.addresses, std::vector<Endpoint>{loopback_v4()});
    EXPECT_TRUE(a.svcb.empty());
    // A query without EDNS is answered the same.
    const Bytes plain = *build_dns_query(7, "dual.test", dns_type::https, nullptr, 0);
    const Bytes answer = exchange(dns, plain, Millis(2000));
    const DnsResponse https = parse_dns_response(answer.data(), answer.size(), 7, "dual.test", dns_type::https);
    ASSERT_TRUE(https.ok()) << https.error;
    EXPECT_EQ(https.svcb.size(), 1u);
}

TEST(DnsServerHttpsTable, BadPresentationThrows) {
    EXPECT_THROW(DnsServer::Answer::https_text({"1 . alpn="}), std::invalid_argument);
    EXPECT_THROW(DnsServer::Answer::https_text({"x"}), std::invalid_argument);
}

}  // namespace
}  // namespace eyeballs::test
