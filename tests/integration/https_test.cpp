// SPDX-License-Identifier: BSL-1.0
// Happy Eyeballs v3 (issue 10) on real sockets: HTTPS records (RFC 9460)
// served by the test DNS server on 127.0.0.1, raced by every adapter that was
// built (poll, libevent, asio), and eyeballs-connect --https --plan.
//
// Each adapter runs through the runner eyeballs-connect uses
// (tools/connect/run_<adapter>.cpp), so the tests and the tool drive the
// adapters the same way. Delays are chosen so that every assertion is an
// order or a bound with a wide margin: answers the test wants "late" come
// 1-2 s after the ones it wants "first".
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#ifdef EYEBALLS_HAVE_ASIO
#include "eyeballs/asio.hpp"
#endif
#include "eyeballs/posix.hpp"
#include "eyeballs/race_machine.hpp"
#include "run.hpp"
#include "support.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tool::ConnectJob;
using tool::ConnectResult;

constexpr std::uint16_t type_https = 65;

std::vector<std::string> adapters() {
    std::vector<std::string> out;
#ifdef EYEBALLS_HAVE_POLL
    out.emplace_back("poll");
#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
    out.emplace_back("libevent");
#endif
#ifdef EYEBALLS_HAVE_ASIO
    out.emplace_back("asio");
#endif
    return out;
}

ConnectResult run_with(const std::string& adapter, const ConnectJob& job) {
#ifdef EYEBALLS_HAVE_POLL
    if (adapter == "poll") return tool::run_poll(job);
#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
    if (adapter == "libevent") return tool::run_libevent(job);
#endif
#ifdef EYEBALLS_HAVE_ASIO
    if (adapter == "asio") return tool::run_asio(job);
#endif
    ADD_FAILURE() << "adapter " << adapter << " was not built";
    return {};
}

std::optional<Endpoint> peer_endpoint(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fd < 0 || ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
}

/// What a race did, as its observer saw it.
struct Seen {
    std::vector<Resolve> resolves;  // names copied into `names`
    std::vector<std::string> names;
    std::vector<PlanEntry> first_plan;  // machine.plan() when attempt 1 opened
    std::vector<Service> first_plan_services;  // copies, parallel to first_plan (empty = none)
    std::vector<bool> first_plan_has_service;
    std::optional<TimePoint> first_open;
};

class Https : public FdLeakTest, public ::testing::WithParamInterface<std::string> {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (!ipv6_loopback_available()) GTEST_SKIP() << "needs [::1]: IPv6 loopback is disabled here";
    }

    ConnectJob job(const DnsServer& dns, const std::string& host, std::uint16_t port) {
        ConnectJob j;
        j.host = host;
        j.port = port;
        j.config.https = true;
        j.config.port = port;
        j.dns_server = dns.endpoint();
        j.on_action = [this](TimePoint now, const Action& a, const RaceMachine& m) {
            if (const auto* r = std::get_if<Resolve>(&a)) {
                seen.resolves.push_back(*r);
                seen.names.emplace_back(r->name);
            }
            if (std::holds_alternative<OpenSocket>(a) && !seen.first_open) {
                seen.first_open = now;
                seen.first_plan = m.plan();
                for (const PlanEntry& e : seen.first_plan) {
                    seen.first_plan_has_service.push_back(e.service != nullptr);
                    seen.first_plan_services.push_back(e.service ? *e.service : Service{});
                }
            }
        };
        return j;
    }

    ConnectResult run(const ConnectJob& j) {
        started = Clock::now();
        ConnectResult r = run_with(GetParam(), j);
        return r;
    }

    static std::size_t count_queries(const DnsServer& dns, const std::string& name,
                                     std::uint16_t type) {
        std::size_t n = 0;
        for (const auto& q : dns.queries()) {
            std::string qn = q.name;
            if (!qn.empty() && qn.back() == '.') qn.pop_back();
            if (q.type == type && qn == name) ++n;
        }
        return n;
    }

    Seen seen;
    Clock::time_point started{};
};

/// The origin's HTTPS question (RFC 9460 §9.1): `_PORT._https.HOST` unless
/// the port is 443. A ServiceMode "." there means HOST's own addresses.
std::string https_qname(const std::string& host, std::uint16_t port) {
    return port == 443 ? host : "_" + std::to_string(port) + "._https." + host;
}

// The origin's HTTPS record names a target with its own AAAA/A and port: the
// race connects there (the origin's own addresses, answered late and refused,
// are only the fallback).
TEST_P(Https, TargetNameWithItsOwnAddressesAndPort) {
    DnsServer dns;
    LoopbackPair origin = bind_loopback_pair();
    RefusedPort origin6(std::move(origin.v6));
    RefusedPort origin4(std::move(origin.v4));
    LoopbackPair svc = bind_loopback_pair();
    Listener svc6(std::move(svc.v6));
    Listener svc4(std::move(svc.v4));
    dns.set_https(https_qname("origin.test", origin.port), DnsServer::Answer::https_text(
                                     {"1 svc.test. alpn=h2 port=" + std::to_string(svc.port)}));
    dns.set("origin.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 1000ms));
    dns.set("origin.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 1000ms));
    dns.set("svc.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("svc.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    ConnectResult r = run(job(dns, "origin.test", origin.port));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(svc.port)) << "the target's AAAA and the record's port";
    ASSERT_FALSE(r.report.attempts.empty());
    EXPECT_EQ(r.report.attempts[0].remote, loopback_v6(svc.port));
    EXPECT_EQ(r.report.protocol, Protocol::tcp);
    EXPECT_EQ(r.report.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
    EXPECT_EQ(peer_endpoint(r.fd), loopback_v6(svc.port));
    EXPECT_LT(Clock::now() - started, 1000ms) << "no need to wait for the origin's own answers";
    // The origin's HTTPS query, then the target's AAAA and A queries.
    EXPECT_EQ(count_queries(dns, https_qname("origin.test", origin.port), type_https), 1u);
    EXPECT_GE(count_queries(dns, "svc.test", 28), 1u);
    EXPECT_GE(count_queries(dns, "svc.test", 1), 1u);
    EXPECT_NE(std::find(seen.names.begin(), seen.names.end(), "svc.test."), seen.names.end());
    if (r.fd >= 0) ::close(r.fd);
}

// An ipv6hint stands in for the target's addresses until they arrive: the
// race connects to the hint long before the target's (late) answers.
TEST_P(Https, Ipv6HintIsUsedBeforeTheTargetAnswers) {
    DnsServer dns;
    LoopbackPair svc = bind_loopback_pair();
    Listener svc6(std::move(svc.v6));
    RefusedPort svc4(std::move(svc.v4));
    dns.set_https("hinted.test",
                  DnsServer::Answer::https_text({"1 slow.test. alpn=h2 port=" +
                                                 std::to_string(svc.port) + " ipv6hint=::1"}));
    dns.set("hinted.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("hinted.test", Family::v4, DnsServer::Answer::nodata());
    dns.set("slow.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 2000ms));
    dns.set("slow.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 2000ms));

    ConnectResult r = run(job(dns, "hinted.test", 443));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(svc.port));
    EXPECT_LT(Clock::now() - started, 1500ms) << "connected on the hint, not the 2 s answer";
    ASSERT_FALSE(seen.first_plan.empty());
    EXPECT_EQ(seen.first_plan[0].remote, loopback_v6(svc.port));
    EXPECT_TRUE(seen.first_plan[0].hint) << "attempt 1 came from the ipv6hint";
    EXPECT_EQ(seen.first_plan[0].attempt, 1u);
    if (r.fd >= 0) ::close(r.fd);
}

// AliasMode chain: origin → a1.test → a2.test, whose ServiceMode record (".")
// means a2.test's own addresses on the record's port.
TEST_P(Https, AliasModeChainIsFollowed) {
    DnsServer dns;
    LoopbackPair origin = bind_loopback_pair();
    RefusedPort origin6(std::move(origin.v6));
    RefusedPort origin4(std::move(origin.v4));
    LoopbackPair svc = bind_loopback_pair();
    Listener svc6(std::move(svc.v6));
    Listener svc4(std::move(svc.v4));
    dns.set_https(https_qname("apex.test", origin.port), DnsServer::Answer::https_text({"0 a1.test."}));
    dns.set_https("a1.test", DnsServer::Answer::https_text({"0 a2.test."}));
    dns.set_https("a2.test", DnsServer::Answer::https_text(
                                 {"1 . alpn=h2 port=" + std::to_string(svc.port)}));
    dns.set("apex.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 1000ms));
    dns.set("apex.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 1000ms));
    dns.set("a2.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("a2.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    ConnectResult r = run(job(dns, "apex.test", origin.port));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(svc.port));
    ASSERT_FALSE(r.report.attempts.empty());
    EXPECT_EQ(r.report.attempts[0].remote.port(), svc.port);
    EXPECT_EQ(count_queries(dns, https_qname("apex.test", origin.port), type_https), 1u);
    EXPECT_EQ(count_queries(dns, "a1.test", type_https), 1u);
    EXPECT_EQ(count_queries(dns, "a2.test", type_https), 1u);
    EXPECT_GE(count_queries(dns, "a2.test", 28), 1u);
    // The HTTPS Resolve actions named each hop.
    std::vector<std::string> https_names;
    for (std::size_t i = 0; i < seen.resolves.size(); ++i) {
        if (seen.resolves[i].https) https_names.push_back(seen.names[i]);
    }
    EXPECT_EQ(https_names, (std::vector<std::string>{"", "a1.test.", "a2.test."}));
    if (r.fd >= 0) ::close(r.fd);
}

// NODATA for HTTPS: a plain RFC 8305 race on the origin's addresses, started
// as soon as the answers are in (not after the Resolution Delay).
TEST_P(Https, NodataHttpsGivesAPlainRace) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set_https(https_qname("plain.test", pair.port), DnsServer::Answer::nodata());
    dns.set("plain.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("plain.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    ConnectJob j = job(dns, "plain.test", pair.port);
    j.config.resolution_delay = 1500ms;
    ConnectResult r = run(j);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    EXPECT_TRUE(r.report.alpn.empty()) << "no HTTPS record, no ALPN";
    EXPECT_LT(Clock::now() - started, 1000ms) << "the NODATA answer counts: no waiting";
    for (std::size_t i = 0; i < seen.first_plan.size(); ++i) {
        EXPECT_FALSE(seen.first_plan_has_service[i]) << "entry " << i << " has a service";
    }
    EXPECT_EQ(count_queries(dns, https_qname("plain.test", pair.port), type_https), 1u);
    if (r.fd >= 0) ::close(r.fd);
}

// A silent HTTPS query does not hold the race: it starts once the Resolution
// Delay has passed, on the origin's addresses.
TEST_P(Https, SilentHttpsQueryWaitsOnlyTheResolutionDelay) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set_https(https_qname("quiet.test", pair.port), DnsServer::Answer::silent());
    dns.set("quiet.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("quiet.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    ConnectJob j = job(dns, "quiet.test", pair.port);
    j.config.resolution_delay = 300ms;
    ConnectResult r = run(j);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, loopback_v6(pair.port));
    ASSERT_FALSE(r.report.attempts.empty());
    const auto first = r.report.attempts[0].started - r.report.started;
    EXPECT_GE(first, 300ms) << "waited the Resolution Delay for the HTTPS answer";
    EXPECT_LT(first, 1500ms) << "and no longer";
    EXPECT_GE(count_queries(dns, https_qname("quiet.test", pair.port), type_https), 1u);
    if (r.fd >= 0) ::close(r.fd);
}

// Config::quic: the h3 endpoint comes first (v3 §5) and the bundled adapters
// report it unsupported; the race goes on over TCP.
TEST_P(Https, QuicAttemptsFailAsUnsupported) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    dns.set_https(https_qname("h3.test", pair.port), DnsServer::Answer::https_text({"1 . alpn=h3,h2"}));
    dns.set("h3.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("h3.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));

    ConnectJob j = job(dns, "h3.test", pair.port);
    j.config.quic = true;
    ConnectResult r = run(j);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.protocol, Protocol::tcp);
    ASSERT_GE(r.report.attempts.size(), 2u);
    EXPECT_EQ(r.report.attempts[0].protocol, Protocol::quic);
    const auto open_error = std::find_if(r.report.errors.begin(), r.report.errors.end(),
                                         [](const Error& e) { return e.stage == Stage::open; });
    ASSERT_NE(open_error, r.report.errors.end());
    EXPECT_EQ(open_error->code, EPROTONOSUPPORT);
    EXPECT_EQ(open_error->attempt, 1u);
    if (r.fd >= 0) ::close(r.fd);
}

INSTANTIATE_TEST_SUITE_P(Adapters, Https, ::testing::ValuesIn(adapters()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// ---- eyeballs-connect --https --plan ------------------------------------------

struct Output {
    int status = -1;
    std::string out;
};

Output run_tool(const std::vector<std::string>& args) {
    std::string cmd = EYEBALLS_CONNECT_PATH;
    for (const std::string& a : args) cmd += " '" + a + "'";
    cmd += " 2>/dev/null";
    Output o;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (p == nullptr) return o;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) o.out.append(buf, n);
    const int st = ::pclose(p);
    o.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return o;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

class ConnectToolPlan : public FdLeakTest, public ::testing::WithParamInterface<std::string> {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (!ipv6_loopback_available()) GTEST_SKIP() << "needs [::1]: IPv6 loopback is disabled here";
    }
};

// The plan printed when the first attempt starts: the ECH service first (v3
// §5.1), then the target with only its hint so far (its answers come 2 s
// later), ALPN with the implied http/1.1; the origin's own addresses are
// already in the ECH group, so the fallback adds nothing.
TEST_P(ConnectToolPlan, PrintsTheHttpsDrivenPlan) {
    DnsServer dns;
    LoopbackPair pair = bind_loopback_pair();
    Listener v6(std::move(pair.v6));
    Listener v4(std::move(pair.v4));
    const std::string port = std::to_string(pair.port);
    dns.set_https(https_qname("plan.test", pair.port),
                  DnsServer::Answer::https_text({"1 svc.test. alpn=h2 port=8443 ipv6hint=::1",
                                                 "2 . alpn=h2 ech=AQID"},
                                                200ms));
    dns.set("plan.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("plan.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set("svc.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 2000ms));
    dns.set("svc.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 2000ms));

    const std::string server = dns.endpoint().to_string();
    // The HTTPS answer (200 ms) comes inside the Resolution Delay (1 s): the
    // race starts with it (v3 §4.2).
    Output json = run_tool({"--adapter", GetParam(), "--https", "--plan", "--json",
                            "--resolution-delay", "1000", "--dns-server", server, "plan.test", port});
    ASSERT_EQ(json.status, 0) << json.out;
    const std::string expected_plan =
        "\"action\":\"plan\",\"endpoints\":["
        "{\"remote\":\"[::1]:" + port + "\",\"protocol\":\"tcp\",\"alpn\":[\"h2\",\"http/1.1\"],"
        "\"ech\":true,\"priority\":2,\"target\":\".\",\"source\":\"answer\",\"attempt\":1},"
        "{\"remote\":\"127.0.0.1:" + port + "\",\"protocol\":\"tcp\",\"alpn\":[\"h2\",\"http/1.1\"],"
        "\"ech\":true,\"priority\":2,\"target\":\".\",\"source\":\"answer\",\"attempt\":0},"
        "{\"remote\":\"[::1]:8443\",\"protocol\":\"tcp\",\"alpn\":[\"h2\",\"http/1.1\"],"
        "\"ech\":false,\"priority\":1,\"target\":\"svc.test.\",\"source\":\"hint\",\"attempt\":0}]}";
    std::string plan_line;
    std::string report_line;
    for (const std::string& line : lines_of(json.out)) {
        if (line.find("\"action\":\"plan\"") != std::string::npos) {
            EXPECT_TRUE(plan_line.empty()) << "one plan line";
            plan_line = line;
        }
        if (line.find("\"action\":\"report\"") != std::string::npos) report_line = line;
    }
    EXPECT_NE(plan_line.find(expected_plan), std::string::npos) << plan_line;
    EXPECT_NE(report_line.find("\"outcome\":\"connected\""), std::string::npos) << json.out;
    EXPECT_NE(report_line.find("\"remote\":\"[::1]:" + port + "\""), std::string::npos)
        << report_line;

    Output text = run_tool({"--adapter", GetParam(), "--https", "--plan", "--resolution-delay",
                            "1000", "--dns-server", server, "plan.test", port});
    ASSERT_EQ(text.status, 0) << text.out;
    const std::vector<std::string> lines = lines_of(text.out);
    ASSERT_EQ(lines.size(), 4u) << text.out;
    EXPECT_EQ(lines[0], "plan 1: [::1]:" + port +
                            " tcp alpn=h2,http/1.1 ech=yes priority=2 target=. answer attempt=1");
    EXPECT_EQ(lines[1],
              "plan 2: 127.0.0.1:" + port + " tcp alpn=h2,http/1.1 ech=yes priority=2 target=. answer");
    EXPECT_EQ(lines[2],
              "plan 3: [::1]:8443 tcp alpn=h2,http/1.1 ech=no priority=1 target=svc.test. hint");
    EXPECT_EQ(lines[3], "connected to [::1]:" + port);
}

INSTANTIATE_TEST_SUITE_P(Adapters, ConnectToolPlan, ::testing::ValuesIn(adapters()),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

#ifdef EYEBALLS_HAVE_ASIO
// The Asio adapter's HTTPS queries go to /etc/resolv.conf's first usable
// nameserver when no dns_server is given.
TEST(AsioResolvConf, FirstUsableNameserver) {
    char path[] = "/tmp/eyeballs-resolv-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string text =
        "# comment\nsearch example.test\nnameserver\nnameserver fe80::1%eth0\n"
        "nameserver not-an-address\n  nameserver 2001:db8::53  \nnameserver 192.0.2.53\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    const auto ns = eyeballs::asio::detail::resolv_conf_nameserver(path);
    ::unlink(path);
    ASSERT_TRUE(ns.has_value());
    EXPECT_EQ(ns->address().to_string(), "2001:db8::53");
    EXPECT_EQ(ns->port(), 53);
    EXPECT_FALSE(eyeballs::asio::detail::resolv_conf_nameserver("/nonexistent/resolv.conf"));
}

// Every usable nameserver, IPv6 ones first, each family in the file's order:
// the HTTPS query moves on along this list when a server gives no answer.
TEST(AsioResolvConf, EveryUsableNameserverIpv6First) {
    char path[] = "/tmp/eyeballs-resolv-XXXXXX";
    const int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    const std::string text =
        "nameserver 192.0.2.53\nnameserver fe80::1%eth0\nnameserver 2001:db8::53\n"
        "nameserver 198.51.100.53\nnameserver 2001:db8::54\n";
    ASSERT_EQ(::write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    ::close(fd);
    const auto servers = eyeballs::asio::detail::resolv_conf_nameservers(path);
    ::unlink(path);
    ASSERT_EQ(servers.size(), 4u);
    EXPECT_EQ(servers[0].address().to_string(), "2001:db8::53");
    EXPECT_EQ(servers[1].address().to_string(), "2001:db8::54");
    EXPECT_EQ(servers[2].address().to_string(), "192.0.2.53");
    EXPECT_EQ(servers[3].address().to_string(), "198.51.100.53");
    for (const auto& s : servers) EXPECT_EQ(s.port(), 53);
    EXPECT_TRUE(eyeballs::asio::detail::resolv_conf_nameservers("/nonexistent/resolv.conf").empty());
}
#endif

}  // namespace
}  // namespace eyeballs::test
