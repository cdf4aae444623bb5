// SPDX-License-Identifier: BSL-1.0
// The libuv adapter's TLS races (issue 18, item 1; Happy Eyeballs v3 §6.1):
// connect_tls() on a real uv_loop_t against TLS servers on loopback that
// behave or misbehave on purpose (support/tls_server.hpp; the PKI is made at
// run time).
#include <openssl/ssl.h>
#include <uv.h>

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "eyeballs/libuv.hpp"
#include "support.hpp"
#include "tls_server.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;

libuv::Options tls_options(const TestPki& pki) {
    libuv::Options o;
    o.tls.ca_file = pki.ca_file();
    o.tls.server_name = "localhost";
    o.config.attempt_timeout = 3s;  // a bound for a broken test, never reached
    return o;
}

struct Outcome_ {
    bool called = false;
    bool ssl = false;
    bool tcp = false;
    int ssl_fd = -2;
    int tcp_fd = -3;
    bool finished = false;
    RaceReport report;
};

// One race on a private loop, run until the loop drains; what the callback
// got is recorded, then the SSL object and the uv_tcp_t are released as the
// header says (free_tls, close_tcp).
Outcome_ race(const std::vector<Endpoint>& addrs, const libuv::Options& o,
              const std::string* host = nullptr, std::uint16_t port = 0) {
    uv_loop_t loop;
    EXPECT_EQ(uv_loop_init(&loop), 0);
    Outcome_ out;
    auto cb = [&](uv_tcp_t* tcp, ::ssl_st* ssl, const RaceReport& report) {
        out.called = true;
        out.report = report;
        out.tcp = tcp != nullptr;
        out.ssl = ssl != nullptr;
        if (ssl != nullptr) {
            out.ssl_fd = SSL_get_fd(ssl);
            out.finished = SSL_is_init_finished(ssl) == 1;
        }
        if (tcp != nullptr) {
            uv_os_fd_t fd = -1;
            uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd);
            out.tcp_fd = fd;
        }
        libuv::free_tls(ssl);
        libuv::close_tcp(tcp);
    };
    {
        libuv::Handle h = host != nullptr ? libuv::connect_tls(&loop, *host, port, o, cb)
                                          : libuv::connect_tls(&loop, addrs, o, cb);
        EXPECT_TRUE(h.status()) << h.status().message();
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);  // every handle of the race is gone
    return out;
}

class LibuvTls : public TlsWorldTest {
protected:
    void warm_up() override {
        // libuv makes process-wide descriptors (its signal pipe) at the first
        // loop: make them before the fixture counts.
        static const bool warmed = [] {
            uv_loop_t warm;
            uv_loop_init(&warm);
            return uv_loop_close(&warm) == 0;
        }();
        ASSERT_TRUE(warmed);
    }
};

// (a) [::1] accepts TCP and never answers the ClientHello; 127.0.0.1 is a
// real TLS server: IPv4 wins after the attempt delay.
TEST_F(LibuvTls, MiddleboxOnIpv6HandshakeSuccessIpv4Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    std::vector<TlsEvent> events;
    libuv::Options o = tls_options(pki);
    o.on_tls = [&](TimePoint, const TlsEvent& e) { events.push_back(e); };
    Outcome_ r = race({box.endpoint(), good.endpoint()}, o);
    ASSERT_TRUE(r.called);
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    ASSERT_TRUE(r.ssl);
    ASSERT_TRUE(r.tcp);
    EXPECT_EQ(r.ssl_fd, r.tcp_fd);
    EXPECT_TRUE(r.finished);
    expect_middlebox_report(r.report, box, good);
    expect_middlebox_handshakes(events, good.endpoint());
}

// The same world with the plain connect as success: IPv6 "wins" (the hang).
TEST_F(LibuvTls, MiddleboxOnIpv6ConnectSuccessIpv6Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    RaceReport got;
    {
        libuv::Handle h = libuv::connect(&loop, {box.endpoint(), good.endpoint()}, {},
                                         [&](uv_tcp_t* tcp, const RaceReport& report) {
                                             got = report;
                                             libuv::close_tcp(tcp);
                                         });
        ASSERT_TRUE(h.status());
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
    EXPECT_EQ(got.remote, box.endpoint());
    EXPECT_EQ(got.tls_version, "");
}

// (b) A bad certificate on IPv6: stage tls with OpenSSL's reason, IPv4 wins at once.
TEST_F(LibuvTls, BadCertificateOnIpv6Ipv4Wins) {
    TlsServer bad(loopback_v6(), pki, TlsServer::Mode::bad_cert);
    TlsServer good(loopback_v4(), pki);
    Outcome_ r = race({bad.endpoint(), good.endpoint()}, tls_options(pki));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    expect_bad_certificate_report(r.report, good.endpoint());
}

// --insecure accepts the self-signed leaf; an IP literal host checks the address.
TEST_F(LibuvTls, InsecureAndIpLiteral) {
    TlsServer bad(loopback_v4(), pki, TlsServer::Mode::bad_cert);
    libuv::Options o = tls_options(pki);
    o.tls.insecure = true;
    EXPECT_EQ(race({bad.endpoint()}, o).report.outcome, Outcome::connected);

    TlsServer good(loopback_v4(), pki);
    libuv::Options lit = tls_options(pki);
    lit.tls.server_name.clear();
    const std::string host = "127.0.0.1";
    Outcome_ r = race({}, lit, &host, good.endpoint().port());
    EXPECT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
}

// (c) ALPN: no common id → no_application_protocol fails the attempt, the race
// goes on; a chosen ALPN list is what is offered.
TEST_F(LibuvTls, NoCommonAlpnFailsTheAttemptAndTheRaceGoesOn) {
    TlsServer imap(loopback_v6(), pki, TlsServer::Mode::alpn_alert);
    TlsServer good(loopback_v4(), pki);
    Outcome_ r = race({imap.endpoint(), good.endpoint()}, tls_options(pki));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, good.endpoint());
    const Error* e = first_tls_error(r.report);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->detail.find("no application protocol"), std::string::npos) << e->detail;

    libuv::Options o = tls_options(pki);
    o.tls.alpn = {"http/1.1"};
    EXPECT_EQ(race({good.endpoint()}, o).report.alpn_selected, "http/1.1");
}

// Cancelling during the handshakes frees every SSL object and closes every
// socket (the fixture counts fds; LeakSanitizer finds an SSL left behind).
TEST_F(LibuvTls, CancelDuringHandshakeLeaksNothing) {
    TlsServer box6(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer box4(loopback_v4(), pki, TlsServer::Mode::silent);
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    libuv::Options o = tls_options(pki);
    o.config.attempt_delay = 20ms;
    libuv::Handle h;
    int started = 0;
    o.on_tls = [&](TimePoint, const TlsEvent& e) {
        if (e.kind == TlsEvent::Kind::started && ++started == 2) h.cancel();
    };
    RaceReport got;
    bool had_ssl = true;
    h = libuv::connect_tls(&loop, {box6.endpoint(), box4.endpoint()}, o,
                           [&](uv_tcp_t* tcp, ::ssl_st* ssl, const RaceReport& report) {
                               got = report;
                               had_ssl = ssl != nullptr || tcp != nullptr;
                           });
    ASSERT_TRUE(h.status());
    uv_run(&loop, UV_RUN_DEFAULT);
    h = libuv::Handle();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
    EXPECT_EQ(got.outcome, Outcome::cancelled);
    EXPECT_EQ(started, 2);
    EXPECT_FALSE(had_ssl);
}

TEST_F(LibuvTls, MisuseIsReported) {
    uv_loop_t loop;
    ASSERT_EQ(uv_loop_init(&loop), 0);
    libuv::Options o;
    o.config.success = Success::handshake;
    libuv::Handle h = libuv::connect(&loop, {loopback_v4(443)}, o, [](uv_tcp_t*, const RaceReport&) {});
    EXPECT_FALSE(h.status());
    EXPECT_NE(h.status().message().find("connect_tls"), std::string::npos) << h.status().message();

    libuv::Options bad_ca = tls_options(pki);
    bad_ca.tls.ca_file = pki.dir() + "/missing.pem";
    h = libuv::connect_tls(&loop, {loopback_v4(443)}, bad_ca, [](uv_tcp_t*, ::ssl_st*, const RaceReport&) {});
    EXPECT_FALSE(h.status());
    EXPECT_NE(h.status().message().find("missing.pem"), std::string::npos) << h.status().message();
    uv_run(&loop, UV_RUN_DEFAULT);
    EXPECT_EQ(uv_loop_close(&loop), 0);
}

}  // namespace
}  // namespace eyeballs::test
