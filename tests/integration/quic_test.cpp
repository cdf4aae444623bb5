// SPDX-License-Identifier: BSL-1.0
// QUIC attempts (issue 18 item 2) through the adapters' APIs, against
// gtlsserver (a child process, quic_server.hpp) with certificates made at run
// time (TestPki): QUIC wins when its server answers; a blackholed UDP port
// leaves the next attempt to the attempt delay; a port unreachable fails the
// QUIC attempt at once (stage connect); a certificate from no trusted CA fails
// it at stage tls. The poll adapter races TCP+TLS (TlsServer); the libevent
// adapter, which makes no TLS handshake yet, races plain TCP (Listener).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>

#include "quic_server.hpp"
#include "support.hpp"
#include "tls_server.hpp"

#ifdef EYEBALLS_TEST_POLL
#include "eyeballs/poll.hpp"
#endif
#ifdef EYEBALLS_TEST_LIBEVENT
#include <event2/event.h>

#include "eyeballs/libevent.hpp"
#endif
#include "eyeballs/quic_client.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;
using namespace eyeballs::test;

namespace {

const AttemptRecord* find_attempt(const RaceReport& r, Protocol p) {
    for (const AttemptRecord& a : r.attempts) {
        if (a.protocol == p) return &a;
    }
    return nullptr;
}

// The TCP attempt's start, from the race's first attempt start.
Duration tcp_start(const RaceReport& r) {
    const AttemptRecord* q = find_attempt(r, Protocol::quic);
    const AttemptRecord* t = find_attempt(r, Protocol::tcp);
    if (q == nullptr || t == nullptr) return Duration::max();
    return t->started - q->started;
}

struct World {
    TestPki pki;
    // TCP+TLS and QUIC share the port number; the TCP half is held from here
    // (see bind_tcp_with_free_udp_twin) and handed to the TLS server.
    Fd tcp = bind_tcp_with_free_udp_twin(loopback_v4());
    Endpoint at = bound_endpoint(tcp.get());
    std::uint16_t port = at.port();
    std::unique_ptr<QuicServer> quic;
    void serve_quic(bool good_cert = true, std::vector<std::string> extra = {}) {
        quic = std::make_unique<QuicServer>(EYEBALLS_GTLSSERVER, at,
                                            good_cert ? pki.leaf_key() : pki.self_signed_key(),
                                            good_cert ? pki.leaf_cert() : pki.self_signed_cert(),
                                            std::move(extra));
    }
};

}  // namespace

TEST(QuicClient, HelperSeesThePortBoundAndFreed) {
    World w;
    EXPECT_FALSE(udp_port_bound(w.at));
    w.serve_quic();
    EXPECT_TRUE(udp_port_bound(w.at));
    w.quic.reset();
    EXPECT_FALSE(udp_port_bound(w.at));
}

#ifdef EYEBALLS_TEST_POLL

namespace {
poll::Options poll_options(const World& w) {
    poll::Options o;
    o.tls.enabled = true;
    o.tls.ca_file = w.pki.ca_file();
    o.tls.server_name = "localhost";
    o.quic.enabled = true;
    return o;
}
}  // namespace

TEST(PollQuic, QuicAndTlsUpQuicWinsAtOnceAndHandsOverTheConnection) {
    ASSERT_TRUE(poll::quic_available());
    World w;
    w.serve_quic();
    TlsServer tls(std::move(w.tcp), w.pki);
    poll::Result r = poll::connect(std::vector<Endpoint>{w.at}, poll_options(w));
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.protocol, Protocol::quic);
    EXPECT_EQ(r.report.alpn_selected, "h3");
    EXPECT_EQ(r.report.tls_version, "TLSv1.3");
    EXPECT_EQ(r.report.attempts.size(), 1u) << "TCP never started";
    ASSERT_TRUE(r.quic);
    EXPECT_NE(r.quic->conn(), nullptr);
    EXPECT_NE(r.quic->session(), nullptr);
    EXPECT_EQ(r.quic->fd(), r.fd);
    EXPECT_EQ(r.ssl, nullptr);
    r.quic.reset();
    ::close(r.fd);
}

TEST(PollQuic, BlackholedUdpLeavesTlsToTheAttemptDelay) {
    World w;
    w.serve_quic(true, {"--rx-loss=1.0"});
    TlsServer tls(std::move(w.tcp), w.pki);
    poll::Result r = poll::connect(std::vector<Endpoint>{w.at}, poll_options(w));
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.protocol, Protocol::tcp);
    EXPECT_EQ(r.report.alpn_selected, "h2");
    EXPECT_FALSE(r.quic);
    EXPECT_GE(tcp_start(r.report), 250ms);
    EXPECT_LT(tcp_start(r.report), 400ms);
    poll::free_tls(r.ssl);
    ::close(r.fd);
}

TEST(PollQuic, PortUnreachableStartsTlsAtOnce) {
    World w;
    TlsServer tls(std::move(w.tcp), w.pki);
    poll::Result r = poll::connect(std::vector<Endpoint>{w.at}, poll_options(w));
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.protocol, Protocol::tcp);
    EXPECT_LT(tcp_start(r.report), 200ms);
    const AttemptRecord* q = find_attempt(r.report, Protocol::quic);
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(q->error);
    EXPECT_EQ(q->error->stage, Stage::connect);
    EXPECT_EQ(q->error->code, ECONNREFUSED);
    poll::free_tls(r.ssl);
    ::close(r.fd);
}

TEST(PollQuic, UntrustedQuicCertificateIsStageTls) {
    World w;
    w.serve_quic(false);
    TlsServer tls(std::move(w.tcp), w.pki);
    poll::Result r = poll::connect(std::vector<Endpoint>{w.at}, poll_options(w));
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.protocol, Protocol::tcp);
    const AttemptRecord* q = find_attempt(r.report, Protocol::quic);
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(q->error);
    EXPECT_EQ(q->error->stage, Stage::tls);
    EXPECT_NE(q->error->detail.find("certificate verify failed"), std::string::npos)
        << q->error->detail;
    poll::free_tls(r.ssl);
    ::close(r.fd);
}

TEST(PollQuic, InsecureAcceptsTheUntrustedCertificate) {
    World w;
    w.serve_quic(false);
    poll::Options o;
    o.quic.enabled = true;
    o.tls.insecure = true;
    poll::Result r = poll::connect(std::vector<Endpoint>{w.at}, o);
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.protocol, Protocol::quic);
    r.quic.reset();
    ::close(r.fd);
}

TEST(PollQuic, DifferentPortsWithoutHttpsAreAMisuse) {
    poll::Options o;
    o.quic.enabled = true;
    poll::Result r = poll::connect(std::vector<Endpoint>{loopback_v4(1000), loopback_v4(1001)}, o);
    EXPECT_FALSE(r.status);
    EXPECT_NE(r.status.message().find("one port"), std::string::npos) << r.status.message();
}

TEST(PollQuic, UnreadableCaFileIsAMisuse) {
    poll::Options o;
    o.quic.enabled = true;
    o.tls.ca_file = "/nonexistent/ca.pem";
    poll::Result r = poll::connect(std::vector<Endpoint>{loopback_v4(1000)}, o);
    EXPECT_FALSE(r.status);
    EXPECT_NE(r.status.message().find("/nonexistent/ca.pem"), std::string::npos) << r.status.message();
}

#endif  // EYEBALLS_TEST_POLL

#ifdef EYEBALLS_TEST_LIBEVENT

namespace {

struct Loop {
    event_base* base = nullptr;
    Loop() {
        event_config* cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    ~Loop() { event_base_free(base); }
};

struct LeResult {
    int fd = -1;
    RaceReport report;
    std::shared_ptr<quic::Connection> connection;
    bool done = false;
};

LeResult race_libevent(const World& w, bool insecure = false) {
    Loop loop;
    LeResult out;
    libevent::Options o;
    o.quic.enabled = true;
    o.quic.ca_file = w.pki.ca_file();
    o.quic.server_name = "localhost";
    o.quic.insecure = insecure;
    o.quic.on_connection = [&](std::shared_ptr<quic::Connection> c) { out.connection = std::move(c); };
    auto h = libevent::connect(loop.base, std::vector<Endpoint>{w.at}, o,
                               [&](evutil_socket_t fd, const RaceReport& report) {
                                   out.fd = fd;
                                   out.report = report;
                                   out.done = true;
                               });
    EXPECT_TRUE(h.status()) << h.status().message();
    while (!out.done && h.status()) event_base_loop(loop.base, EVLOOP_ONCE);
    return out;
}

void release(LeResult& o) {
    o.connection.reset();
    if (o.fd >= 0) ::close(o.fd);
}

}  // namespace

TEST(LibeventQuic, QuicUpWinsAtOnceAndHandsOverTheConnection) {
    ASSERT_TRUE(libevent::quic_available());
    World w;
    w.serve_quic();
    Listener tcp(std::move(w.tcp));
    LeResult o = race_libevent(w);
    ASSERT_GE(o.fd, 0) << o.report.message;
    EXPECT_EQ(o.report.protocol, Protocol::quic);
    EXPECT_EQ(o.report.alpn_selected, "h3");
    EXPECT_EQ(o.report.attempts.size(), 1u);
    ASSERT_TRUE(o.connection);
    EXPECT_EQ(o.connection->fd(), o.fd);
    EXPECT_NE(o.connection->conn(), nullptr);
    release(o);
}

TEST(LibeventQuic, BlackholedUdpLeavesTcpToTheAttemptDelay) {
    World w;
    w.serve_quic(true, {"--rx-loss=1.0"});
    Listener tcp(std::move(w.tcp));
    LeResult o = race_libevent(w);
    ASSERT_GE(o.fd, 0) << o.report.message;
    EXPECT_EQ(o.report.protocol, Protocol::tcp);
    EXPECT_FALSE(o.connection);
    EXPECT_GE(tcp_start(o.report), 250ms);
    EXPECT_LT(tcp_start(o.report), 400ms);
    release(o);
}

TEST(LibeventQuic, PortUnreachableStartsTcpAtOnce) {
    World w;
    Listener tcp(std::move(w.tcp));
    LeResult o = race_libevent(w);
    ASSERT_GE(o.fd, 0) << o.report.message;
    EXPECT_EQ(o.report.protocol, Protocol::tcp);
    EXPECT_LT(tcp_start(o.report), 200ms);
    const AttemptRecord* q = find_attempt(o.report, Protocol::quic);
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(q->error);
    EXPECT_EQ(q->error->stage, Stage::connect);
    EXPECT_EQ(q->error->code, ECONNREFUSED);
    release(o);
}

TEST(LibeventQuic, UntrustedQuicCertificateIsStageTls) {
    World w;
    w.serve_quic(false);
    Listener tcp(std::move(w.tcp));
    LeResult o = race_libevent(w);
    ASSERT_GE(o.fd, 0) << o.report.message;
    EXPECT_EQ(o.report.protocol, Protocol::tcp);
    const AttemptRecord* q = find_attempt(o.report, Protocol::quic);
    ASSERT_NE(q, nullptr);
    ASSERT_TRUE(q->error);
    EXPECT_EQ(q->error->stage, Stage::tls);
    EXPECT_NE(q->error->detail.find("certificate verify failed"), std::string::npos)
        << q->error->detail;
    release(o);
}

#endif  // EYEBALLS_TEST_LIBEVENT
