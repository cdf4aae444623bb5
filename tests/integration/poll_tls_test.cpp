// SPDX-License-Identifier: BSL-1.0
// The poll adapter's TLS races (issue 18, item 1; Happy Eyeballs v3 §6.1:
// with TLS the race is won by a completed handshake, not by a TCP connect).
// Worlds made here: a test PKI generated at run time and TLS servers on
// loopback (support/tls_server.hpp) that behave or misbehave on purpose.
#include <openssl/ssl.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "eyeballs/detail/tls_client.hpp"
#include "eyeballs/poll.hpp"
#include "support.hpp"
#include "tls_server.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;

poll::Options tls_options(const TestPki& pki) {
    poll::Options o;
    o.tls.enabled = true;
    o.tls.ca_file = pki.ca_file();
    o.tls.server_name = "localhost";
    o.config.attempt_timeout = 3s;  // a bound for a broken test, never reached
    return o;
}

// Frees what a won race handed over (the caller's job, poll.hpp).
void release(poll::Result& r) {
    if (r.ssl != nullptr) SSL_free(r.ssl);
    if (r.fd >= 0) ::close(r.fd);
    r.ssl = nullptr;
    r.fd = -1;
}

class PollTls : public TlsWorldTest {};

// (a) [::1] completes TCP and never answers the ClientHello (a middlebox);
// 127.0.0.1 is a real TLS server. With the handshake as success, IPv4 wins
// once the attempt delay (pushed back from IPv6's connect) runs out; with the
// plain connect as success IPv6 "wins" — the hang v3 §6.1 is about.
TEST_F(PollTls, MiddleboxOnIpv6HandshakeSuccessIpv4Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    const std::vector<Endpoint> addrs{box.endpoint(), good.endpoint()};

    std::vector<poll::TlsEvent> events;
    poll::Options o = tls_options(pki);
    o.on_tls = [&](TimePoint, const poll::TlsEvent& e) { events.push_back(e); };
    poll::Result r = poll::connect(addrs, o);
    ASSERT_TRUE(r.connected()) << r.report.message;
    ASSERT_NE(r.ssl, nullptr);
    EXPECT_EQ(SSL_get_fd(r.ssl), r.fd);
    EXPECT_TRUE(SSL_is_init_finished(r.ssl));
    // IPv4 started one attempt delay (250 ms) after IPv6's connect, not before.
    expect_middlebox_report(r.report, box, good);
    // The trace saw both handshakes start, and IPv4's end.
    expect_middlebox_handshakes(events, good.endpoint());
    release(r);
}

TEST_F(PollTls, MiddleboxOnIpv6ConnectSuccessIpv6Wins) {
    TlsServer box(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer good(loopback_v4(), pki);
    poll::Options o;  // no TLS: success at connect
    poll::Result r = poll::connect({box.endpoint(), good.endpoint()}, o);
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.remote, box.endpoint());  // the path whose TLS never completes
    EXPECT_EQ(r.ssl, nullptr);
    EXPECT_EQ(r.report.tls_version, "");
    EXPECT_EQ(r.report.attempts.size(), 1u);
    release(r);
}

// (b) A certificate not under the trusted CA on IPv6: that attempt fails at
// stage tls with OpenSSL's reason, and IPv4 wins at once after it.
TEST_F(PollTls, BadCertificateOnIpv6Ipv4Wins) {
    TlsServer bad(loopback_v6(), pki, TlsServer::Mode::bad_cert);
    TlsServer good(loopback_v4(), pki);
    poll::Result r = poll::connect({bad.endpoint(), good.endpoint()}, tls_options(pki));
    ASSERT_TRUE(r.connected()) << r.report.message;
    // The failure started IPv4 at once, well before the 250 ms delay.
    expect_bad_certificate_report(r.report, good.endpoint());
    release(r);
}

// The name is checked: a certificate for localhost does not pass as another name.
TEST_F(PollTls, WrongNameFails) {
    TlsServer good(loopback_v4(), pki);
    poll::Options o = tls_options(pki);
    o.tls.server_name = "example.org";
    poll::Result r = poll::connect({good.endpoint()}, o);
    EXPECT_FALSE(r.connected());
    const Error* e = first_tls_error(r.report);
    ASSERT_NE(e, nullptr) << r.report.message;
    EXPECT_NE(e->detail.find("certificate verify failed"), std::string::npos) << e->detail;
    release(r);
}

// An IP literal host: no SNI, the certificate's iPAddress is checked.
TEST_F(PollTls, IpLiteralHostVerifiesTheAddress) {
    TlsServer good(loopback_v4(), pki);
    poll::Options o = tls_options(pki);
    o.tls.server_name.clear();
    poll::Result r = poll::connect("127.0.0.1", good.endpoint().port(), o);
    ASSERT_TRUE(r.connected()) << r.report.message;
    release(r);
}

// --insecure: the self-signed leaf is accepted.
TEST_F(PollTls, InsecureAcceptsAnyCertificate) {
    TlsServer bad(loopback_v4(), pki, TlsServer::Mode::bad_cert);
    poll::Options o = tls_options(pki);
    o.tls.insecure = true;
    poll::Result r = poll::connect({bad.endpoint()}, o);
    ASSERT_TRUE(r.connected()) << r.report.message;
    release(r);
}

// Issue 18: races with the same trust configuration share one SSL_CTX
// (detail::shared_context); SNI and ALPN, set per SSL object, do not split it;
// another CA file, insecure or an edited CA file give another context.
TEST_F(PollTls, SharedContextIsKeyedByTheTrustConfiguration) {
    std::string error;
    TlsOptions a;
    a.ca_file = pki.ca_file();
    TlsOptions b = a;
    b.server_name = "other.example";
    b.alpn = {"h3"};
    auto ca = detail::shared_context(a, error);
    auto cb = detail::shared_context(b, error);
    ASSERT_TRUE(ca && cb) << error;
    EXPECT_EQ(ca->get(), cb->get());

    TlsOptions insecure = a;
    insecure.insecure = true;
    auto ci = detail::shared_context(insecure, error);
    ASSERT_TRUE(ci) << error;
    EXPECT_NE(ci->get(), ca->get());
    EXPECT_FALSE(ci->verify());
    EXPECT_TRUE(ca->verify());

    TestPki other;
    TlsOptions c = a;
    c.ca_file = other.ca_file();
    auto cc = detail::shared_context(c, error);
    ASSERT_TRUE(cc) << error;
    EXPECT_NE(cc->get(), ca->get());

    // Many threads asking at once for one new configuration get one context.
    TlsOptions d;
    d.ca_dir = pki.dir();
    std::array<std::shared_ptr<const detail::TlsContext>, 4> got;
    std::array<std::thread, 4> threads;
    for (std::size_t i = 0; i < threads.size(); ++i) {
        threads[i] = std::thread([&, i] {
            std::string e;
            got[i] = detail::shared_context(d, e);
        });
    }
    for (std::thread& t : threads) t.join();
    for (const auto& g : got) {
        ASSERT_TRUE(g);
        EXPECT_EQ(g->get(), got[0]->get());
    }
    EXPECT_NE(got[0]->get(), ca->get());

    // A failure is reported, not cached as a context.
    TlsOptions missing;
    missing.ca_file = pki.dir() + "/missing.pem";
    error.clear();
    EXPECT_FALSE(detail::shared_context(missing, error));
    EXPECT_NE(error.find("missing.pem"), std::string::npos) << error;
}

// Races that share the context still verify: the same configuration wins
// twice against the good server and fails against the self-signed one (the
// insecure context, cached too, never stands in for it), and insecure races
// still accept the self-signed leaf.
TEST_F(PollTls, RacesSharingTheContextStillVerify) {
    TlsServer good(loopback_v4(), pki);
    TlsServer bad(loopback_v4(), pki, TlsServer::Mode::bad_cert);
    poll::Options secure = tls_options(pki);
    poll::Options insecure = secure;
    insecure.tls.insecure = true;
    for (int round = 0; round < 2; ++round) {
        poll::Result ok = poll::connect({good.endpoint()}, secure);
        ASSERT_TRUE(ok.connected()) << ok.report.message;
        release(ok);
        poll::Result in = poll::connect({bad.endpoint()}, insecure);
        ASSERT_TRUE(in.connected()) << in.report.message;
        release(in);
        poll::Result no = poll::connect({bad.endpoint()}, secure);
        ASSERT_FALSE(no.connected());
        const Error* e = first_tls_error(no.report);
        ASSERT_NE(e, nullptr);
        EXPECT_NE(e->message().find("certificate verify failed"), std::string::npos)
            << e->message();
    }
}

// (c) ALPN. Reading taken: a server that answers with no_application_protocol
// fails the attempt (RFC 7301 §3.2: a fatal alert ends the handshake); a
// server that ignores ALPN completes the handshake with no selected id, which
// wins (RFC 7301 §3.1: the extension is then simply absent; RFC 9460 §7.1.2:
// negotiation proceeds "without regard to the SVCB ALPN set").
TEST_F(PollTls, NoCommonAlpnAlertFailsTheAttemptAndTheRaceGoesOn) {
    TlsServer imap(loopback_v6(), pki, TlsServer::Mode::alpn_alert);
    TlsServer good(loopback_v4(), pki);
    poll::Result r = poll::connect({imap.endpoint(), good.endpoint()}, tls_options(pki));
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.remote, good.endpoint());
    const Error* e = first_tls_error(r.report);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->detail.find("no application protocol"), std::string::npos) << e->detail;
    release(r);
}

TEST_F(PollTls, ServerIgnoringAlpnWinsWithNoSelectedId) {
    TlsServer plain(loopback_v4(), pki, TlsServer::Mode::no_alpn);
    poll::Result r = poll::connect({plain.endpoint()}, tls_options(pki));
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.alpn_selected, "");
    EXPECT_FALSE(r.report.tls_version.empty());
    release(r);
}

TEST_F(PollTls, AlpnOptionIsOffered) {
    TlsServer good(loopback_v4(), pki);
    poll::Options o = tls_options(pki);
    o.tls.alpn = {"http/1.1"};
    poll::Result r = poll::connect({good.endpoint()}, o);
    ASSERT_TRUE(r.connected()) << r.report.message;
    EXPECT_EQ(r.report.alpn_selected, "http/1.1");
    release(r);
}

// Cancelling while handshakes are in flight frees every SSL object and closes
// every socket exactly once (the fixture counts fds; LeakSanitizer, under the
// asan preset, finds an SSL object left behind).
TEST_F(PollTls, CancelDuringHandshakeLeaksNothing) {
    TlsServer box6(loopback_v6(), pki, TlsServer::Mode::silent);
    TlsServer box4(loopback_v4(), pki, TlsServer::Mode::silent);
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    Fd cancel_r(p[0]);
    Fd cancel_w(p[1]);
    poll::Options o = tls_options(pki);
    o.config.attempt_delay = 20ms;
    o.cancel_fd = cancel_r.get();
    int started = 0;
    o.on_tls = [&](TimePoint, const poll::TlsEvent& e) {
        if (e.kind == poll::TlsEvent::Kind::started && ++started == 2) {
            (void)!::write(cancel_w.get(), "x", 1);
        }
    };
    poll::Result r = poll::connect({box6.endpoint(), box4.endpoint()}, o);
    EXPECT_EQ(r.report.outcome, Outcome::cancelled);
    EXPECT_EQ(started, 2);
    EXPECT_EQ(r.fd, -1);
    EXPECT_EQ(r.ssl, nullptr);
}

TEST_F(PollTls, MisuseIsReported) {
    poll::Options o;
    o.config.success = Success::handshake;
    poll::Result r = poll::connect({loopback_v4(443)}, o);
    EXPECT_FALSE(r.status);
    EXPECT_NE(r.status.message().find("tls.enabled"), std::string::npos) << r.status.message();

    poll::Options bad_ca = tls_options(pki);
    bad_ca.tls.ca_file = pki.dir() + "/missing.pem";
    r = poll::connect({loopback_v4(443)}, bad_ca);
    EXPECT_FALSE(r.status);
    EXPECT_NE(r.status.message().find("missing.pem"), std::string::npos) << r.status.message();
}

#ifdef EYEBALLS_CONNECT_PATH
// eyeballs-connect --tls --cacert against the test server, and -v's trace.
std::pair<int, std::string> run_tool(const std::string& args) {
    return run_connect_tool(EYEBALLS_CONNECT_PATH, args);
}

TEST_F(PollTls, ConnectToolTlsWithCacert) {
    TlsServer bad(loopback_v6(), pki, TlsServer::Mode::bad_cert);
    TlsServer good(loopback_v4(), pki);
    // Same port needed for --resolve: use the literal list through the JSON trace instead.
    auto [code, out] = run_tool("--tls --cacert " + pki.ca_file() + " -v --resolve localhost:" +
                                std::to_string(good.endpoint().port()) + ":127.0.0.1 localhost " +
                                std::to_string(good.endpoint().port()));
    EXPECT_EQ(code, 0) << out;
    EXPECT_NE(out.find("tls-start"), std::string::npos) << out;
    EXPECT_NE(out.find("TLSv1.3"), std::string::npos) << out;
    EXPECT_NE(out.find("alpn h2"), std::string::npos) << out;
    EXPECT_NE(out.find("connected to 127.0.0.1:" + std::to_string(good.endpoint().port()) +
                       " tcp tls TLSv1.3 alpn h2"),
              std::string::npos)
        << out;

    // Without the CA: the system store does not trust the test CA.
    auto [code2, out2] = run_tool("--tls --resolve localhost:" +
                                  std::to_string(bad.endpoint().port()) + ":::1 localhost " +
                                  std::to_string(bad.endpoint().port()));
    EXPECT_EQ(code2, 1) << out2;
    EXPECT_NE(out2.find("certificate verify failed"), std::string::npos) << out2;

    // --json: one line per handshake step, as extra actions.
    auto [code4, out4] = run_tool("--tls --json --cacert " + pki.ca_file() + " --alpn http/1.1 --resolve localhost:" +
                                  std::to_string(good.endpoint().port()) + ":127.0.0.1 localhost " +
                                  std::to_string(good.endpoint().port()));
    EXPECT_EQ(code4, 0) << out4;
    EXPECT_NE(out4.find("\"action\":\"tls-start\",\"attempt\":1,\"remote\":\"127.0.0.1:"),
              std::string::npos)
        << out4;
    EXPECT_NE(out4.find("\"alpn\":[\"http/1.1\"],\"version\":\"TLSv1.3\"}"), std::string::npos)
        << out4;
}
#endif

}  // namespace
}  // namespace eyeballs::test
