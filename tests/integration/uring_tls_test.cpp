// SPDX-License-Identifier: BSL-1.0
// The io_uring adapter's TLS races (issue 18, item 1; Happy Eyeballs v3 §6.1):
// connect_tls() on a real ring against TLS servers on loopback that behave or
// misbehave on purpose (support/tls_server.hpp; the PKI is made at run time).
// The handshakes wait on IORING_OP_POLL_ADD. Where io_uring cannot be used
// here (ENOSYS, EPERM), every test is SKIPPED with the adapter's own message,
// as in uring_test.cpp. The fixture is the shared TlsWorldTest: it needs
// [::1], makes a fresh PKI and fails a test that leaves a socket open (and
// LeakSanitizer finds an SSL object left behind); worlds (a) and (b) are
// checked by the shared expect_* helpers plus what only this adapter shows.
#include <openssl/ssl.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "eyeballs/uring.hpp"
#include "support.hpp"
#include "tls_server.hpp"

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;
namespace ur = eyeballs::uring;

Endpoint v6(std::uint16_t port = 0) { return Endpoint::parse_address("::1", port).value(); }
Endpoint v4(std::uint16_t port = 0) { return Endpoint::parse_address("127.0.0.1", port).value(); }

ur::Options tls_options(const TestPki& pki) {
    ur::Options o;
    o.tls.ca_file = pki.ca_file();
    o.tls.server_name = "localhost";
    o.config.attempt_timeout = 3s;  // a bound for a broken test, never reached
    return o;
}

/// What the TLS callback received; the SSL object and the fd are released
/// there as the header says (free_tls, close).
struct Got {
    int calls = 0;
    bool ssl = false;
    int fd = -1;
    int ssl_fd = -2;
    bool finished = false;
    RaceReport report;
    ur::TlsCallback callback() {
        return [this](int f, ::ssl_st* s, const RaceReport& r) {
            ++calls;
            report = r;
            fd = f;
            ssl = s != nullptr;
            if (s != nullptr) {
                ssl_fd = SSL_get_fd(s);
                finished = SSL_is_init_finished(s) == 1;
            }
            ur::free_tls(s);
            if (f >= 0) ::close(f);
        };
    }
};

class UringTls : public TlsWorldTest {
protected:
    void SetUp() override {
        if (!ur::tls_available()) FAIL() << "the uring adapter was built without eyeballs::tls_client";
        TlsWorldTest::SetUp();  // fails without [::1]; counts the fds
        if (HasFatalFailure()) return;
        loop_ = std::make_unique<ur::Loop>();
        if (!loop_->status()) {
            const std::string why = loop_->status().message();
            loop_.reset();
            GTEST_SKIP() << why;
        }
    }
    void TearDown() override {
        if (loop_) {
            EXPECT_TRUE(loop_->run().ok());
            EXPECT_EQ(loop_->races(), 0u) << "races left on the ring";
        }
        loop_.reset();
        TlsWorldTest::TearDown();
    }
    /// One race on the fixture's ring, run to its end.
    Got race(const std::vector<Endpoint>& addrs, const ur::Options& o) {
        Got got;
        ur::Handle h = ur::connect_tls(*loop_, addrs, o, got.callback());
        EXPECT_TRUE(h.status()) << h.status().message();
        const Status s = loop_->run();
        EXPECT_TRUE(s.ok()) << s.message();
        EXPECT_EQ(got.calls, 1);
        return got;
    }
    std::unique_ptr<ur::Loop> loop_;
};

// (a) [::1] accepts TCP and never answers the ClientHello; 127.0.0.1 is a
// real TLS server: IPv4 wins after the attempt delay, with the handshake as
// success.
TEST_F(UringTls, MiddleboxOnIpv6HandshakeSuccessIpv4Wins) {
    TlsServer box(v6(), pki, TlsServer::Mode::silent);
    TlsServer good(v4(), pki);
    std::vector<TlsEvent> events;
    ur::Options o = tls_options(pki);
    o.on_tls = [&](TimePoint, const TlsEvent& e) { events.push_back(e); };
    Got r = race({box.endpoint(), good.endpoint()}, o);
    ASSERT_NO_FATAL_FAILURE(expect_middlebox_report(r.report, box, good));
    expect_middlebox_handshakes(events, good.endpoint());
    // What the shared checks leave out: the gap is ~the attempt delay, not a
    // timeout; the callback gets a finished SSL on the fd; handshakes are TCP.
    EXPECT_LT(r.report.attempts[1].started - r.report.attempts[0].started, 1500ms);
    ASSERT_TRUE(r.ssl);
    ASSERT_GE(r.fd, 0);
    EXPECT_EQ(r.ssl_fd, r.fd);
    EXPECT_TRUE(r.finished);
    for (const auto& e : events) {
        if (e.kind == TlsEvent::Kind::started) {
            EXPECT_EQ(e.protocol, Protocol::tcp);
        }
    }
}

// The same world with the plain connect as success: IPv6 "wins" (the hang).
TEST_F(UringTls, MiddleboxOnIpv6ConnectSuccessIpv6Wins) {
    TlsServer box(v6(), pki, TlsServer::Mode::silent);
    TlsServer good(v4(), pki);
    RaceReport got;
    int calls = 0;
    ur::Handle h = ur::connect(*loop_, {box.endpoint(), good.endpoint()}, {},
                               [&](int fd, const RaceReport& report) {
                                   ++calls;
                                   got = report;
                                   if (fd >= 0) ::close(fd);
                               });
    ASSERT_TRUE(h.status()) << h.status().message();
    ASSERT_TRUE(loop_->run().ok());
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(got.outcome, Outcome::connected);
    EXPECT_EQ(got.remote, box.endpoint());
    EXPECT_EQ(got.tls_version, "");
}

// (b) A bad certificate on IPv6: stage tls with OpenSSL's reason, IPv4 wins
// without waiting for the attempt delay.
TEST_F(UringTls, BadCertificateOnIpv6Ipv4Wins) {
    TlsServer bad(v6(), pki, TlsServer::Mode::bad_cert);
    TlsServer good(v4(), pki);
    std::vector<TlsEvent> events;
    ur::Options o = tls_options(pki);
    o.on_tls = [&](TimePoint, const TlsEvent& e) { events.push_back(e); };
    Got r = race({bad.endpoint(), good.endpoint()}, o);
    expect_bad_certificate_report(r.report, good.endpoint());
    bool failed_v6 = false;
    for (const auto& ev : events) {
        if (ev.kind == TlsEvent::Kind::failed && ev.attempt.number() == 1) {
            failed_v6 = ev.error.find("certificate verify failed") != std::string::npos;
        }
    }
    EXPECT_TRUE(failed_v6);
}

// --insecure accepts the self-signed leaf (and fails nothing without it).
TEST_F(UringTls, InsecureAcceptsTheSelfSignedLeaf) {
    TlsServer bad(v4(), pki, TlsServer::Mode::bad_cert);
    Got strict = race({bad.endpoint()}, tls_options(pki));
    EXPECT_EQ(strict.report.outcome, Outcome::failed);
    EXPECT_FALSE(strict.ssl);
    EXPECT_EQ(strict.fd, -1);
    ASSERT_NE(first_tls_error(strict.report), nullptr);

    ur::Options o = tls_options(pki);
    o.tls.insecure = true;
    Got r = race({bad.endpoint()}, o);
    EXPECT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_TRUE(r.ssl);
}

// An IP literal host: no SNI, the certificate's IP address is checked; the
// blocking form hands back fd and SSL*.
TEST_F(UringTls, IpLiteralHostChecksTheAddress) {
    TlsServer good(v4(), pki);
    ur::Options o = tls_options(pki);
    o.tls.server_name.clear();
    std::vector<TlsEvent> events;
    o.on_tls = [&](TimePoint, const TlsEvent& e) { events.push_back(e); };
    Got got;
    ur::Handle h = ur::connect_tls(*loop_, "127.0.0.1", good.endpoint().port(), o, got.callback());
    ASSERT_TRUE(h.status()) << h.status().message();
    ASSERT_TRUE(loop_->run().ok());
    EXPECT_EQ(got.report.outcome, Outcome::connected) << got.report.message;
    EXPECT_TRUE(got.ssl);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().server_name, "127.0.0.1");

    // A name the certificate does not carry fails the check.
    ur::Options wrong = tls_options(pki);
    wrong.tls.server_name = "example.com";
    Got r = race({good.endpoint()}, wrong);
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    ASSERT_NE(first_tls_error(r.report), nullptr);
    EXPECT_NE(first_tls_error(r.report)->detail.find("certificate verify failed"), std::string::npos)
        << first_tls_error(r.report)->detail;

    ur::Result b = ur::connect_tls("[127.0.0.1]", good.endpoint().port(), tls_options(pki));
    ASSERT_TRUE(b.status) << b.status.message();
    EXPECT_EQ(b.report.outcome, Outcome::connected) << b.report.message;
    ASSERT_NE(b.ssl, nullptr);
    EXPECT_EQ(SSL_get_fd(b.ssl), b.fd);
    EXPECT_EQ(b.report.tls_version, "TLSv1.3");
    ur::free_tls(b.ssl);
    if (b.fd >= 0) ::close(b.fd);
}

// (c) ALPN: no common id → no_application_protocol fails the attempt, the race
// goes on; a chosen ALPN list is what is offered; a server that ignores ALPN
// wins with none selected.
TEST_F(UringTls, NoCommonAlpnFailsTheAttemptAndTheRaceGoesOn) {
    TlsServer imap(v6(), pki, TlsServer::Mode::alpn_alert);
    TlsServer good(v4(), pki);
    Got r = race({imap.endpoint(), good.endpoint()}, tls_options(pki));
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, good.endpoint());
    const Error* e = first_tls_error(r.report);
    ASSERT_NE(e, nullptr);
    EXPECT_NE(e->detail.find("no application protocol"), std::string::npos) << e->detail;

    ur::Options o = tls_options(pki);
    o.tls.alpn = {"http/1.1"};
    EXPECT_EQ(race({good.endpoint()}, o).report.alpn_selected, "http/1.1");

    TlsServer none(v4(), pki, TlsServer::Mode::no_alpn);
    Got n = race({none.endpoint()}, tls_options(pki));
    EXPECT_EQ(n.report.outcome, Outcome::connected) << n.report.message;
    EXPECT_EQ(n.report.alpn_selected, "");
}

// Cancelling during the handshakes frees every SSL object and closes every
// socket (the fixture counts fds before and after).
TEST_F(UringTls, CancelDuringHandshakeLeaksNothing) {
    TlsServer box6(v6(), pki, TlsServer::Mode::silent);
    TlsServer box4(v4(), pki, TlsServer::Mode::silent);
    ur::Options o = tls_options(pki);
    o.config.attempt_delay = 20ms;
    ur::Handle h;
    int started = 0;
    o.on_tls = [&](TimePoint, const TlsEvent& e) {
        if (e.kind == TlsEvent::Kind::started && ++started == 2) h.cancel();
    };
    Got got;
    h = ur::connect_tls(*loop_, {box6.endpoint(), box4.endpoint()}, o, got.callback());
    ASSERT_TRUE(h.status()) << h.status().message();
    ASSERT_TRUE(loop_->run().ok());
    EXPECT_EQ(got.calls, 1);
    EXPECT_EQ(got.report.outcome, Outcome::cancelled);
    EXPECT_EQ(started, 2);
    EXPECT_FALSE(got.ssl);
    EXPECT_EQ(got.fd, -1);
}

// Destroying the handle mid-handshake (no callback) and destroying the Loop
// with a handshake waiting leak nothing either.
TEST_F(UringTls, AbandonAndLoopDestructionMidHandshakeLeakNothing) {
    TlsServer box(v4(), pki, TlsServer::Mode::silent);
    int calls = 0;
    {
        ur::Options o = tls_options(pki);
        bool started = false;
        o.on_tls = [&](TimePoint, const TlsEvent& e) { started |= e.kind == TlsEvent::Kind::started; };
        auto h = std::make_unique<ur::Handle>(ur::connect_tls(
            *loop_, {box.endpoint()}, o, [&](int, ::ssl_st*, const RaceReport&) { ++calls; }));
        ASSERT_TRUE(h->status());
        // A second race on the ring ends after 300 ms and drops the first.
        ur::Options t;
        t.config.overall_timeout = 300ms;
        Blackhole hole(v6());
        ur::Handle timer = ur::connect(*loop_, {hole.endpoint()}, t, [&](int fd, const RaceReport&) {
            if (fd >= 0) ::close(fd);
            EXPECT_TRUE(started);
            h.reset();
        });
        ASSERT_TRUE(timer.status());
        ASSERT_TRUE(loop_->run().ok());
    }
    EXPECT_EQ(calls, 0);
    {
        ur::Handle h = ur::connect_tls(*loop_, {box.endpoint()}, tls_options(pki),
                                       [&](int, ::ssl_st*, const RaceReport&) { ++calls; });
        ASSERT_TRUE(h.status());
        h.detach();
        loop_.reset();  // cancels without the callback, waits for its submissions
    }
    EXPECT_EQ(calls, 0);
}

// A handshake that waits (a silent middlebox) never blocks the ring: a plain
// race started once the handshake has begun, on the same Loop, connects and is
// delivered while the handshake still waits, and the TLS race ends only at its
// attempt timeout.
TEST_F(UringTls, AWaitingHandshakeDoesNotBlockTheRing) {
    TlsServer box(v4(), pki, TlsServer::Mode::silent);
    Listener open(v4());
    using SteadyClock = std::chrono::steady_clock;
    const auto t0 = SteadyClock::now();
    ur::Handle h;
    ur::Handle p;
    SteadyClock::time_point plain_at{};
    bool plain_during_handshake = false;
    ur::Options o = tls_options(pki);
    o.config.attempt_timeout = 600ms;
    o.on_tls = [&](TimePoint, const TlsEvent& e) {
        if (e.kind != TlsEvent::Kind::started) return;
        p = ur::connect(*loop_, {open.endpoint()}, {}, [&](int fd, const RaceReport& r) {
            plain_at = SteadyClock::now();
            plain_during_handshake = h.running();
            EXPECT_EQ(r.outcome, Outcome::connected) << r.message;
            if (fd >= 0) ::close(fd);
        });
        EXPECT_TRUE(p.status()) << p.status().message();
    };
    Got tls;
    SteadyClock::time_point tls_at{};
    h = ur::connect_tls(*loop_, {box.endpoint()}, o, [&](int fd, ::ssl_st* ssl, const RaceReport& r) {
        tls_at = SteadyClock::now();
        tls.callback()(fd, ssl, r);
    });
    ASSERT_TRUE(h.status()) << h.status().message();
    ASSERT_TRUE(loop_->run().ok());
    EXPECT_TRUE(plain_during_handshake);
    EXPECT_LT(plain_at - t0, 300ms);
    EXPECT_EQ(tls.calls, 1);
    EXPECT_EQ(tls.report.outcome, Outcome::failed);
    EXPECT_GE(tls_at - t0, 600ms);  // the attempt timeout, not a blocked ring
}

TEST_F(UringTls, MisuseIsReported) {
    ur::Options o;
    o.config.success = Success::handshake;
    ur::Handle h = ur::connect(*loop_, {v4(443)}, o, [](int, const RaceReport&) {});
    EXPECT_FALSE(h.status());
    EXPECT_NE(h.status().message().find("connect_tls"), std::string::npos) << h.status().message();

    ur::Options bad_ca = tls_options(pki);
    bad_ca.tls.ca_file = pki.dir() + "/missing.pem";
    h = ur::connect_tls(*loop_, {v4(443)}, bad_ca, [](int, ::ssl_st*, const RaceReport&) {});
    EXPECT_FALSE(h.status());
    EXPECT_NE(h.status().message().find("missing.pem"), std::string::npos) << h.status().message();

    h = ur::connect_tls(*loop_, {v4(443)}, tls_options(pki), ur::TlsCallback{});
    EXPECT_FALSE(h.status());

    ur::Result r = ur::connect({v4(443)}, o);
    EXPECT_FALSE(r.status);
    EXPECT_NE(r.report.message.find("connect_tls"), std::string::npos) << r.report.message;
}

#ifdef EYEBALLS_CONNECT_PATH
// eyeballs-connect --adapter uring --tls in worlds (a) and (b).
TEST_F(UringTls, ConnectTool) { check_connect_tool_tls(EYEBALLS_CONNECT_PATH, "uring", pki); }
#endif

}  // namespace
}  // namespace eyeballs::test
