// SPDX-License-Identifier: BSL-1.0
// The libevent adapter's TLS races (issue 18 item 1; Happy Eyeballs v3 §6.1:
// with TLS the race is won by a completed handshake). The worlds of item 4
// (support/tls_server.hpp, a PKI made at run time): a middlebox on [::1], a
// bad certificate on [::1], a server without the offered ALPN ids.
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "eyeballs/libevent.hpp"
#include "support.hpp"
#include "tls_server.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;

struct Outcome_ {
    bufferevent* bev = nullptr;
    RaceReport report;
    int calls = 0;
    std::vector<TlsEvent> events;
    ~Outcome_() {
        if (bev != nullptr) bufferevent_free(bev);  // frees the SSL object, closes the fd
    }
};

struct Base {
    Base() {
        event_config* cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        base = event_base_new_with_config(cfg);
        event_config_free(cfg);
    }
    ~Base() { event_base_free(base); }
    event_base* base = nullptr;
};

libevent::Options tls_options(const TestPki& pki) {
    libevent::Options o;
    o.tls.enabled = true;
    o.tls.ca_file = pki.ca_file();
    o.tls.server_name = "localhost";
    o.config.attempt_timeout = 3s;  // a bound for a broken test, never reached
    return o;
}

// Runs one race on a fresh base; the bufferevent (if any) is freed with `out`.
void run(const std::vector<Endpoint>& addrs, libevent::Options o, Outcome_& out) {
    Base b;
    ASSERT_NE(b.base, nullptr);
    o.on_tls = [&out](TimePoint, const TlsEvent& e) { out.events.push_back(e); };
    libevent::Handle h = libevent::connect_bufferevent(
        b.base, addrs, o, [&out](bufferevent* bev, const RaceReport& report) {
            out.bev = bev;
            out.report = report;
            ++out.calls;
        });
    ASSERT_TRUE(h.status()) << h.status().message();
    event_base_dispatch(b.base);
    EXPECT_EQ(out.calls, 1);
    if (out.bev != nullptr) {
        bufferevent_free(out.bev);  // before the base goes
        out.bev = nullptr;
    }
}

class LibeventTls : public TlsWorldTest {};

// (a) [::1] completes TCP and never answers the ClientHello; 127.0.0.1 is a
// real TLS server. With the handshake as success IPv4 wins one attempt delay
// after IPv6's connect; the winner is an open bufferevent_openssl.
TEST_F(LibeventTls, MiddleboxOnIpv6HandshakeSuccessIpv4Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    Base b;
    Outcome_ out;
    libevent::Options o = tls_options(pki);
    o.on_tls = [&out](TimePoint, const TlsEvent& e) { out.events.push_back(e); };
    bool ssl_ok = false;
    libevent::Handle h = libevent::connect_bufferevent(
        b.base, {box.endpoint(), good.endpoint()}, o,
        [&](bufferevent* bev, const RaceReport& report) {
            out.report = report;
            ++out.calls;
            if (bev == nullptr) return;
            ssl_st* ssl = bufferevent_openssl_get_ssl(bev);
            ssl_ok = ssl != nullptr && SSL_is_init_finished(ssl) &&
                     SSL_get_fd(ssl) == static_cast<int>(bufferevent_getfd(bev));
            bufferevent_free(bev);
        });
    ASSERT_TRUE(h.status()) << h.status().message();
    event_base_dispatch(b.base);
    ASSERT_EQ(out.calls, 1);
    const RaceReport& r = out.report;
    ASSERT_EQ(r.outcome, Outcome::connected) << r.message;
    EXPECT_TRUE(ssl_ok);
    expect_middlebox_report(r, box, good);
    expect_middlebox_handshakes(out.events, good.endpoint());
}

// The same world with the TCP connect as success: IPv6 "wins", and a user
// would hang on its TLS.
TEST_F(LibeventTls, MiddleboxOnIpv6ConnectSuccessIpv6Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    Outcome_ out;
    run({box.endpoint(), good.endpoint()}, libevent::Options{}, out);
    ASSERT_EQ(out.report.outcome, Outcome::connected) << out.report.message;
    EXPECT_EQ(out.report.remote, box.endpoint());
    EXPECT_EQ(out.report.tls_version, "");
    EXPECT_TRUE(out.events.empty());
}

// (b) A self-signed certificate on IPv6: stage tls with OpenSSL's reason, and
// IPv4 starts at once and wins.
TEST_F(LibeventTls, BadCertificateOnIpv6Ipv4Wins) {
    TlsServer bad(loopback_v6(), pki, TlsServer::Mode::bad_cert);
    TlsServer good(loopback_v4(), pki);
    Outcome_ out;
    run({bad.endpoint(), good.endpoint()}, tls_options(pki), out);
    ASSERT_EQ(out.report.outcome, Outcome::connected) << out.report.message;
    expect_bad_certificate_report(out.report, good.endpoint());
}

// (c) ALPN: a server with none of the offered ids alerts (RFC 7301 §3.2): that
// attempt fails, the race goes on; --alpn's ids are what is offered.
TEST_F(LibeventTls, NoCommonAlpnFailsTheAttemptAndTheRaceGoesOn) {
    TlsServer imap(loopback_v6(), pki, TlsServer::Mode::alpn_alert);
    TlsServer good(loopback_v4(), pki);
    Outcome_ out;
    libevent::Options o = tls_options(pki);
    o.tls.alpn = {"http/1.1"};
    run({imap.endpoint(), good.endpoint()}, o, out);
    ASSERT_EQ(out.report.outcome, Outcome::connected) << out.report.message;
    EXPECT_EQ(out.report.remote, good.endpoint());
    EXPECT_EQ(out.report.alpn_selected, "http/1.1");
    const Error* e = first_tls_error(out.report);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->detail.find("no application protocol"), std::string::npos) << e->detail;
}

// Every attempt failing its handshake fails the race, with no bufferevent.
TEST_F(LibeventTls, WrongNameFailsTheRace) {
    TlsServer good(loopback_v4(), pki);
    Outcome_ out;
    libevent::Options o = tls_options(pki);
    o.tls.server_name = "example.org";
    run({good.endpoint()}, o, out);
    EXPECT_EQ(out.report.outcome, Outcome::failed);
    const Error* e = first_tls_error(out.report);
    ASSERT_NE(e, nullptr) << out.report.message;
    EXPECT_NE(e->detail.find("certificate verify failed"), std::string::npos) << e->detail;
}

// Cancelling mid-handshake frees every SSL object and closes every socket
// once (the fixture counts fds; LeakSanitizer sees SSL objects).
TEST_F(LibeventTls, CancelDuringHandshakeLeaksNothing) {
    TlsServer box6(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer box4(loopback_v4(), pki, TlsServer::Mode::silent);
    Base b;
    Outcome_ out;
    libevent::Options o = tls_options(pki);
    o.config.attempt_delay = 20ms;
    libevent::Handle h;
    int started = 0;
    o.on_tls = [&](TimePoint, const TlsEvent& e) {
        if (e.kind == TlsEvent::Kind::started && ++started == 2) h.cancel();
    };
    h = libevent::connect_bufferevent(b.base, {box6.endpoint(), box4.endpoint()}, o,
                                      [&](bufferevent* bev, const RaceReport& report) {
                                          out.report = report;
                                          ++out.calls;
                                          if (bev != nullptr) bufferevent_free(bev);
                                      });
    ASSERT_TRUE(h.status()) << h.status().message();
    event_base_dispatch(b.base);
    EXPECT_EQ(out.calls, 1);
    EXPECT_EQ(started, 2);
    EXPECT_EQ(out.report.outcome, Outcome::cancelled);
}

TEST_F(LibeventTls, MisuseIsReported) {
    Base b;
    libevent::Options o = tls_options(pki);
    // The fd form has nowhere to put the SSL object.
    libevent::Handle h = libevent::connect(b.base, {loopback_v4()}, o, [](evutil_socket_t, const RaceReport&) {});
    EXPECT_FALSE(h.status());
    EXPECT_NE(h.status().message().find("connect_bufferevent"), std::string::npos)
        << h.status().message();

    o.tls.ca_file = pki.dir() + "/missing.pem";
    h = libevent::connect_bufferevent(b.base, {loopback_v4()}, o, [](bufferevent*, const RaceReport&) {});
    EXPECT_FALSE(h.status());
    EXPECT_NE(h.status().message().find("missing.pem"), std::string::npos) << h.status().message();

    libevent::Options no_tls;
    no_tls.config.success = Success::handshake;
    h = libevent::connect_bufferevent(b.base, {loopback_v4()}, no_tls, [](bufferevent*, const RaceReport&) {});
    EXPECT_FALSE(h.status());
    EXPECT_NE(h.status().message().find("tls.enabled"), std::string::npos) << h.status().message();
}

#ifdef EYEBALLS_CONNECT_PATH
// eyeballs-connect --adapter libevent --tls in the middlebox and bad
// certificate worlds (the trace, the result line, the JSON report).
TEST_F(LibeventTls, ConnectTool) { check_connect_tool_tls(EYEBALLS_CONNECT_PATH, "libevent", pki); }
#endif

}  // namespace
}  // namespace eyeballs::test
