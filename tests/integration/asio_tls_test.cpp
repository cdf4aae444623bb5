// SPDX-License-Identifier: BSL-1.0
// async_connect_tls (issue 18 item 1; Happy Eyeballs v3 §6.1: with TLS the
// race is won by a completed handshake), in both flavours: compiled once for
// eyeballs::asio_ssl and, with EYEBALLS_TEST_BOOST_ASIO, for
// eyeballs::boost_asio_ssl. The worlds of item 4 (support/tls_server.hpp, a
// PKI made at run time): a middlebox on [::1], a bad certificate on [::1], a
// server without the offered ALPN ids.
#ifdef EYEBALLS_TEST_BOOST_ASIO
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>

#include "eyeballs/boost_asio_ssl.hpp"
#else
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/write.hpp>

#include "eyeballs/asio_ssl.hpp"
#endif

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"
#include "tls_server.hpp"

namespace eyeballs::test {
namespace {

#ifdef EYEBALLS_TEST_BOOST_ASIO
namespace adapter = eyeballs::boost_asio;
#define AsioTls BoostAsioTls
#else
namespace adapter = eyeballs::asio;
#endif
namespace net = adapter::net;
using error_code = adapter::error_code;
using namespace std::chrono_literals;

struct TlsRun {
    error_code ec;
    bool open = false;
    bool finished = false;  // SSL_is_init_finished on the stream handed back
    int calls = 0;
    std::shared_ptr<RaceReport> report = std::make_shared<RaceReport>();
    std::vector<TlsEvent> events;
};

adapter::connect_options tls_options(const TestPki& pki) {
    adapter::connect_options o;
    o.tls.ca_file = pki.ca_file();
    o.tls.server_name = "localhost";
    o.config.attempt_timeout = 3s;  // a bound for a broken test, never reached
    return o;
}

// One race with a context made from options.tls.
TlsRun race(const std::vector<Endpoint>& addrs, adapter::connect_options o) {
    TlsRun out;
    o.report = out.report;
    o.on_tls = [&out](TimePoint, const TlsEvent& e) { out.events.push_back(e); };
    net::io_context io;
    adapter::async_connect_tls(io.get_executor(), addrs, o,
                               [&out](error_code ec, adapter::ssl_stream s) {
                                   out.ec = ec;
                                   out.open = s.next_layer().is_open();
                                   out.finished = s.next_layer().is_open() &&
                                                  SSL_is_init_finished(s.native_handle());
                                   ++out.calls;
                               });
    io.run();
    return out;
}

class AsioTls : public TlsWorldTest {};

// (a) [::1] completes TCP and never answers the ClientHello; 127.0.0.1 is a
// real TLS server. With the handshake as success IPv4 wins one attempt delay
// after IPv6's connect, and the stream handed back is ready.
TEST_F(AsioTls, MiddleboxOnIpv6HandshakeSuccessIpv4Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    TlsRun r = race({box.endpoint(), good.endpoint()}, tls_options(pki));
    ASSERT_EQ(r.calls, 1);
    ASSERT_FALSE(r.ec) << r.ec.message() << " " << r.report->message;
    EXPECT_TRUE(r.finished);
    expect_middlebox_report(*r.report, box, good);
    expect_middlebox_handshakes(r.events, good.endpoint());
}

// The same world with async_connect (success at connect): IPv6 "wins", and
// its TLS would hang.
TEST_F(AsioTls, MiddleboxOnIpv6ConnectSuccessIpv6Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    net::io_context io;
    adapter::connect_options o;
    o.report = std::make_shared<RaceReport>();
    std::vector<Endpoint> addrs{box.endpoint(), good.endpoint()};
    error_code got;
    adapter::async_connect(io.get_executor(), addrs, o,
                           [&](error_code ec, net::ip::tcp::socket) { got = ec; });
    io.run();
    EXPECT_FALSE(got);
    EXPECT_EQ(o.report->remote, box.endpoint());
    EXPECT_EQ(o.report->tls_version, "");
}

// (b) A self-signed certificate on IPv6: stage tls with OpenSSL's reason, and
// IPv4 starts at once and wins.
TEST_F(AsioTls, BadCertificateOnIpv6Ipv4Wins) {
    TlsServer bad(loopback_v6(), pki, TlsServer::Mode::bad_cert);
    TlsServer good(loopback_v4(), pki);
    TlsRun r = race({bad.endpoint(), good.endpoint()}, tls_options(pki));
    ASSERT_FALSE(r.ec) << r.report->message;
    expect_bad_certificate_report(*r.report, good.endpoint());
}

// (c) ALPN: a server with none of the offered ids alerts (RFC 7301 §3.2): that
// attempt fails and the race goes on; tls.alpn's ids are what is offered.
TEST_F(AsioTls, NoCommonAlpnFailsTheAttemptAndTheRaceGoesOn) {
    TlsServer imap(loopback_v6(), pki, TlsServer::Mode::alpn_alert);
    TlsServer good(loopback_v4(), pki);
    adapter::connect_options o = tls_options(pki);
    o.tls.alpn = {"http/1.1"};
    TlsRun r = race({imap.endpoint(), good.endpoint()}, o);
    ASSERT_FALSE(r.ec) << r.report->message;
    EXPECT_EQ(r.report->remote, good.endpoint());
    EXPECT_EQ(r.report->alpn_selected, "http/1.1");
    const Error* e = first_tls_error(*r.report);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->detail.find("no application protocol"), std::string::npos) << e->detail;
}

// The caller's own context: it verifies (verify_peer) against the test CA,
// and the name checked is the host given.
TEST_F(AsioTls, CallersContextByHostName) {
    TlsServer good(loopback_v4(), pki);
    net::ssl::context ctx(net::ssl::context::tls_client);
    ctx.set_verify_mode(net::ssl::verify_peer);
    ctx.load_verify_file(pki.ca_file());
    adapter::connect_options o;
    o.report = std::make_shared<RaceReport>();
    std::string error;
    auto pin = parse_resolve_override(
        "localhost:" + std::to_string(good.endpoint().port()) + ":127.0.0.1", &error);
    ASSERT_TRUE(pin) << error;
    o.overrides.push_back(*pin);
    net::io_context io;
    error_code got;
    std::string reply;
    adapter::async_connect_tls(io.get_executor(), "localhost", good.endpoint().port(), ctx, o,
                               [&](error_code ec, adapter::ssl_stream s) {
                                   got = ec;
                                   if (!ec) {
                                       error_code wec;
                                       net::write(s, net::buffer(std::string("x")), wec);
                                       if (wec) reply = wec.message();
                                   }
                               });
    io.run();
    EXPECT_FALSE(got) << got.message() << " " << o.report->message;
    EXPECT_EQ(reply, "");

    // The same context, a name the certificate does not carry: a tls failure.
    o.tls.server_name = "example.org";
    net::io_context io2;
    adapter::async_connect_tls(io2.get_executor(), "localhost", good.endpoint().port(), ctx, o,
                               [&](error_code ec, adapter::ssl_stream) { got = ec; });
    io2.run();
    EXPECT_TRUE(got);
    const Error* e = first_tls_error(*o.report);
    ASSERT_NE(e, nullptr) << o.report->message;
    EXPECT_NE(e->detail.find("certificate verify failed"), std::string::npos) << e->detail;
}

// Cancelling mid-handshake closes every stream (the fixture counts fds).
TEST_F(AsioTls, CancelDuringHandshakeLeaksNothing) {
    TlsServer box6(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer box4(loopback_v4(), pki, TlsServer::Mode::silent);
    adapter::connect_options o = tls_options(pki);
    o.config.attempt_delay = 20ms;
    o.report = std::make_shared<RaceReport>();
    net::io_context io;
    net::cancellation_signal cancel;
    int started = 0;
    o.on_tls = [&](TimePoint, const TlsEvent& e) {
        if (e.kind == TlsEvent::Kind::started && ++started == 2) {
            cancel.emit(net::cancellation_type::terminal);
        }
    };
    error_code got;
    std::vector<Endpoint> addrs{box6.endpoint(), box4.endpoint()};
    adapter::async_connect_tls(
        io.get_executor(), addrs, o,
        net::bind_cancellation_slot(cancel.slot(),
                                    [&](error_code ec, adapter::ssl_stream) { got = ec; }));
    io.run();
    EXPECT_EQ(got, net::error::operation_aborted);
    EXPECT_EQ(started, 2);
    EXPECT_EQ(o.report->outcome, Outcome::cancelled);
}

TEST_F(AsioTls, MisuseIsReported) {
    adapter::connect_options o = tls_options(pki);
    o.tls.ca_file = pki.dir() + "/missing.pem";
    TlsRun r = race({loopback_v4()}, o);
    EXPECT_EQ(r.ec, net::error::invalid_argument);
    EXPECT_NE(r.report->message.find("missing.pem"), std::string::npos) << r.report->message;

    // async_connect refuses success=handshake and names the call that makes it.
    adapter::connect_options plain;
    plain.config.success = Success::handshake;
    plain.report = std::make_shared<RaceReport>();
    net::io_context io;
    std::vector<Endpoint> addrs{loopback_v4()};
    error_code got;
    adapter::async_connect(io.get_executor(), addrs, plain,
                           [&](error_code ec, net::ip::tcp::socket) { got = ec; });
    io.run();
    EXPECT_EQ(got, net::error::invalid_argument);
    EXPECT_NE(plain.report->message.find("async_connect_tls"), std::string::npos)
        << plain.report->message;
}

#if defined(EYEBALLS_CONNECT_PATH) && !defined(EYEBALLS_TEST_BOOST_ASIO)
// eyeballs-connect --adapter asio --tls in the middlebox and bad certificate
// worlds (the trace, the result line, the JSON report).
TEST_F(AsioTls, ConnectTool) { check_connect_tool_tls(EYEBALLS_CONNECT_PATH, "asio", pki); }
#endif

}  // namespace
}  // namespace eyeballs::test
