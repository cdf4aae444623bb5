// SPDX-License-Identifier: BSL-1.0
// TLS worlds for the integration tests (issue 18): certificates made at test
// time with OpenSSL (never committed keys), and a small TLS server thread on a
// loopback address that behaves well or badly on purpose.
//
//   TestPki pki;                      // EC P-256 CA + leaf for localhost,
//                                     // 127.0.0.1, ::1; pki.ca_file() = CA PEM
//   TlsServer good(Endpoint::parse_address("127.0.0.1", 0).value(), pki);
//   TlsServer box(v6_at, pki, TlsServer::Mode::silent);  // a middlebox
//
// And what every adapter's TLS test asks of those worlds: TlsWorldTest (a
// fixture with a fresh PKI that needs [::1] and counts fds), first_tls_error
// and expect_middlebox_handshakes (world (a)'s handshake events).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/tls.hpp"
#include "support.hpp"

namespace eyeballs::test {

/// A CA, a leaf it signed and a self-signed leaf (same names), as PEM files
/// in a fresh temporary directory removed by the destructor.
class TestPki {
public:
    TestPki();  // throws std::runtime_error if OpenSSL fails
    ~TestPki();
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;
    const std::string& dir() const { return dir_; }
    std::string ca_file() const { return dir_ + "/ca.pem"; }
    std::string leaf_cert() const { return dir_ + "/leaf.pem"; }
    std::string leaf_key() const { return dir_ + "/leaf.key"; }
    std::string self_signed_cert() const { return dir_ + "/self.pem"; }
    std::string self_signed_key() const { return dir_ + "/self.key"; }

private:
    std::string dir_;
};

class TlsServer {
public:
    enum class Mode {
        normal,      ///< leaf under the CA, ALPN h2 then http/1.1
        silent,      ///< accepts TCP, reads the ClientHello, never answers
        bad_cert,    ///< a self-signed leaf (not under the CA)
        alpn_alert,  ///< only "imap": no common ALPN → no_application_protocol
        no_alpn,     ///< ignores ALPN (selects none)
    };
    /// Listens on `at` (port 0: a free one) and serves on its own thread.
    TlsServer(const Endpoint& at, const TestPki& pki, Mode mode = Mode::normal);
    TlsServer(Fd bound, const TestPki& pki, Mode mode = Mode::normal);
    ~TlsServer();
    TlsServer(const TlsServer&) = delete;
    TlsServer& operator=(const TlsServer&) = delete;
    Endpoint endpoint() const { return endpoint_; }
    int accepted() const { return accepted_.load(); }
    int handshakes() const { return handshakes_.load(); }
    /// Waits (bounded) until `n` handshakes completed on the server's side,
    /// which may be a moment after the client's side (TLS 1.3). Returns the count.
    int wait_handshakes(int n, std::chrono::milliseconds limit = std::chrono::seconds(2)) const;

private:
    void serve();
    Fd listen_;
    Fd wake_read_;
    Fd wake_write_;
    Endpoint endpoint_;
    Mode mode_;
    void* ctx_ = nullptr;  // SSL_CTX
    std::vector<Fd> held_;
    std::vector<void*> sessions_;  // SSL objects kept open until the end
    std::atomic<int> accepted_{0};
    std::atomic<int> handshakes_{0};
    std::thread thread_;
};

}  // namespace eyeballs::test

namespace eyeballs::test {

/// The fixture of the adapters' TLS tests: fails at once without [::1] (the
/// worlds put the middlebox there), fails a test that leaks a descriptor
/// (FdLeakTest), and has a fresh PKI. warm_up() runs before the descriptors
/// are counted: an adapter whose library makes process-wide ones at first use
/// (libuv's signal pipe) makes them there.
class TlsWorldTest : public FdLeakTest {
protected:
    void SetUp() override;
    virtual void warm_up() {}
    TestPki pki;
};

/// The first attempt error of `report` at stage tls, or null.
const Error* first_tls_error(const RaceReport& report);

/// World (a) — a silent middlebox on [::1], TLS on 127.0.0.1 — as gtest
/// assertions on an adapter's handshake events: both attempts' handshakes
/// started, offering h2,http/1.1 with SNI "localhost", and attempt 2's ended
/// at `winner` with TLSv1.3 and h2.
void expect_middlebox_handshakes(const std::vector<TlsEvent>& events, const Endpoint& winner);

/// World (a)'s report as gtest assertions: connected to `good` by attempt 2,
/// TLS over TCP with TLSv1.3 and h2; IPv4 started one attempt delay (250 ms)
/// or more after IPv6; the middlebox `box` accepted one connection and `good`
/// completed one handshake.
void expect_middlebox_report(const RaceReport& report, const TlsServer& box, const TlsServer& good);

/// World (b)'s report (a bad certificate on [::1], `good` on 127.0.0.1) as
/// gtest assertions: connected to `good`; attempt 1 failed at stage tls with
/// EPROTO and OpenSSL's "certificate verify failed: self-signed ..." in a
/// message naming the handshake with [::1]; IPv4 started at once after it,
/// well before the 250 ms attempt delay.
void expect_bad_certificate_report(const RaceReport& report, const Endpoint& good);

/// Runs `eyeballs-connect ARGS` (stderr into stdout): exit status and output.
std::pair<int, std::string> run_connect_tool(const std::string& tool, const std::string& args);

/// eyeballs-connect --tls through `adapter` in the worlds of issue 18 item 4,
/// as gtest assertions: (a) a middlebox on [::1] and TLS on 127.0.0.1 at one
/// port — with --tls IPv4 wins (trace: both handshakes start, IPv4's ends
/// with TLSv1.3 and h2; the result line names tcp, the version and ALPN),
/// without --tls IPv6 "wins"; (b) a bad certificate on [::1] — IPv4 wins and
/// the tls error is in the JSON report.
void check_connect_tool_tls(const std::string& tool, const std::string& adapter,
                            const TestPki& pki);

}  // namespace eyeballs::test
