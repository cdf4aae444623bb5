// SPDX-License-Identifier: BSL-1.0
// See tls_server.hpp.
#include "tls_server.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/wait.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <utility>

#include <gtest/gtest.h>

namespace eyeballs::test {
namespace {

[[noreturn]] void ossl_fail(const std::string& what) {
    char buf[256] = "";
    ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
    throw std::runtime_error("test PKI: " + what + ": " + buf);
}

using KeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using CertPtr = std::unique_ptr<X509, decltype(&X509_free)>;

KeyPtr make_key() {
    KeyPtr k(EVP_EC_gen("P-256"), &EVP_PKEY_free);
    if (!k) ossl_fail("EVP_EC_gen");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (ext == nullptr) ossl_fail(std::string("extension ") + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// A certificate for `key`, named `cn`, signed by `issuer_key` (issuer: null
// = self-signed).
CertPtr make_cert(EVP_PKEY* key, const char* cn, X509* issuer, EVP_PKEY* issuer_key, bool ca,
                  long serial) {
    CertPtr c(X509_new(), &X509_free);
    X509_set_version(c.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(c.get()), 24L * 3600);
    X509_set_pubkey(c.get(), key);
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn), -1, -1, 0);
    X509* iss = issuer != nullptr ? issuer : c.get();
    X509_set_issuer_name(c.get(), X509_get_subject_name(iss));
    add_ext(c.get(), iss, NID_subject_key_identifier, "hash");
    add_ext(c.get(), iss, NID_authority_key_identifier, "keyid:always");
    if (ca) {
        add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(c.get(), iss, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(c.get(), iss, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(c.get(), iss, NID_ext_key_usage, "serverAuth");
        add_ext(c.get(), iss, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1");
    }
    if (X509_sign(c.get(), issuer_key, EVP_sha256()) == 0) ossl_fail("X509_sign");
    return c;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("test PKI: cannot write " + path);
    int ok = cert != nullptr ? PEM_write_X509(f, cert)
                             : PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    if (ok != 1) ossl_fail("PEM write " + path);
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
    const bool only_imap = arg != nullptr;
    static const unsigned char normal[] = "\x02h2\x08http/1.1";
    static const unsigned char imap[] = "\x04imap";
    const unsigned char* ours = only_imap ? imap : normal;
    const unsigned ours_len = only_imap ? sizeof imap - 1 : sizeof normal - 1;
    unsigned char* sel = nullptr;
    if (SSL_select_next_proto(&sel, outlen, ours, ours_len, in, inlen) ==
        OPENSSL_NPN_NEGOTIATED) {
        *out = sel;
        return SSL_TLSEXT_ERR_OK;
    }
    // RFC 7301 §3.2: no common protocol → a fatal no_application_protocol alert.
    return only_imap ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK;
}

}  // namespace

TestPki::TestPki() {
    char tmpl[] = "/tmp/eyeballs-pki-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("test PKI: mkdtemp failed");
    dir_ = tmpl;
    KeyPtr ca_key = make_key();
    CertPtr ca = make_cert(ca_key.get(), "eyeballs test CA", nullptr, ca_key.get(), true, 1);
    KeyPtr lkey = make_key();
    CertPtr leaf = make_cert(lkey.get(), "localhost", ca.get(), ca_key.get(), false, 2);
    KeyPtr self_key = make_key();
    CertPtr self = make_cert(self_key.get(), "localhost", nullptr, self_key.get(), false, 3);
    write_pem(ca_file(), ca.get(), nullptr);
    write_pem(leaf_cert(), leaf.get(), nullptr);
    write_pem(leaf_key(), nullptr, lkey.get());
    write_pem(self_signed_cert(), self.get(), nullptr);
    write_pem(self_signed_key(), nullptr, self_key.get());
}

TestPki::~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

TlsServer::TlsServer(const Endpoint& at, const TestPki& pki, Mode mode)
    : TlsServer(bind_tcp(at), pki, mode) {}

TlsServer::TlsServer(Fd bound, const TestPki& pki, Mode mode) : listen_(std::move(bound)), mode_(mode) {
    if (::listen(listen_.get(), 16) < 0) throw std::runtime_error("TlsServer: listen failed");
    endpoint_ = bound_endpoint(listen_.get());
    int p[2];
    if (::pipe2(p, O_CLOEXEC) < 0) throw std::runtime_error("TlsServer: pipe failed");
    wake_read_.reset(p[0]);
    wake_write_.reset(p[1]);
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == nullptr) ossl_fail("SSL_CTX_new");
    ctx_ = ctx;
    const bool bad = mode == Mode::bad_cert;
    if (SSL_CTX_use_certificate_file(ctx, (bad ? pki.self_signed_cert() : pki.leaf_cert()).c_str(),
                                     SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, (bad ? pki.self_signed_key() : pki.leaf_key()).c_str(),
                                    SSL_FILETYPE_PEM) != 1) {
        ossl_fail("server certificate");
    }
    if (mode != Mode::no_alpn) {
        SSL_CTX_set_alpn_select_cb(ctx, select_alpn,
                                   mode == Mode::alpn_alert ? reinterpret_cast<void*>(1) : nullptr);
    }
    thread_ = std::thread([this] { serve(); });
}

TlsServer::~TlsServer() {
    char c = 'x';
    (void)!::write(wake_write_.get(), &c, 1);
    if (thread_.joinable()) thread_.join();
    for (void* s : sessions_) SSL_free(static_cast<SSL*>(s));
    SSL_CTX_free(static_cast<SSL_CTX*>(ctx_));
}

int TlsServer::wait_handshakes(int n, std::chrono::milliseconds limit) const {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (handshakes_.load() < n && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return handshakes_.load();
}

// One connection at a time: accept, then (unless silent) a blocking
// handshake bounded by a receive/send timeout; the wake pipe ends the loop.
void TlsServer::serve() {
    // A client that gives up mid-handshake must not SIGPIPE the test binary:
    // the signal stays pending on this thread instead.
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, nullptr);
    for (;;) {
        pollfd fds[2] = {{listen_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) continue;
        if (fds[1].revents != 0) return;
        int c = ::accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        accepted_.fetch_add(1);
        Fd conn(c);
        if (mode_ == Mode::silent) {
            // A middlebox: the ClientHello is read and never answered.
            char buf[4096];
            pollfd r{c, POLLIN, 0};
            if (::poll(&r, 1, 1000) > 0) (void)!::read(c, buf, sizeof buf);
            held_.push_back(std::move(conn));
            continue;
        }
        timeval tv{2, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        SSL* ssl = SSL_new(static_cast<SSL_CTX*>(ctx_));
        SSL_set_fd(ssl, c);
        if (SSL_accept(ssl) == 1) {
            handshakes_.fetch_add(1);
            sessions_.push_back(ssl);  // kept open until the end of the test
            held_.push_back(std::move(conn));
        } else {
            SSL_free(ssl);
        }
        ERR_clear_error();
    }
}

}  // namespace eyeballs::test

namespace eyeballs::test {

std::pair<int, std::string> run_connect_tool(const std::string& tool, const std::string& args) {
    const std::string cmd = tool + " " + args + " 2>&1";
    FILE* f = ::popen(cmd.c_str(), "r");
    if (f == nullptr) return {-1, ""};
    std::string out;
    char buf[512];
    while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
    const int st = ::pclose(f);
    return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

void check_connect_tool_tls(const std::string& tool, const std::string& adapter,
                            const TestPki& pki) {
    {
        LoopbackPair pair = bind_loopback_pair();
        const std::string port = std::to_string(pair.port);
        TlsServer box(std::move(pair.v6), pki, TlsServer::Mode::silent);
        TlsServer good(std::move(pair.v4), pki);
        const std::string where = " --resolve localhost:" + port + ":::1,127.0.0.1 localhost " + port;
        auto [code, out] = run_connect_tool(
            tool, "--adapter " + adapter + " --tls --cacert " + pki.ca_file() + " -v" + where);
        EXPECT_EQ(code, 0) << out;
        EXPECT_NE(out.find("#1 [::1]:" + port + " tls-start alpn h2,http/1.1"), std::string::npos)
            << out;
        EXPECT_NE(out.find("#2 127.0.0.1:" + port + " tls-done TLSv1.3 alpn h2"), std::string::npos)
            << out;
        EXPECT_NE(out.find("connected to 127.0.0.1:" + port + " tcp tls TLSv1.3 alpn h2"),
                  std::string::npos)
            << out;
        // Plain connect as success: the middlebox's path "wins".
        auto [code2, out2] = run_connect_tool(tool, "--adapter " + adapter + where);
        EXPECT_EQ(code2, 0) << out2;
        EXPECT_NE(out2.find("connected to [::1]:" + port), std::string::npos) << out2;
    }
    {
        LoopbackPair pair = bind_loopback_pair();
        const std::string port = std::to_string(pair.port);
        TlsServer bad(std::move(pair.v6), pki, TlsServer::Mode::bad_cert);
        TlsServer good(std::move(pair.v4), pki);
        auto [code, out] = run_connect_tool(
            tool, "--adapter " + adapter + " --tls --json --alpn http/1.1 --cacert " +
                      pki.ca_file() + " --resolve localhost:" + port +
                      ":::1,127.0.0.1 localhost " + port);
        EXPECT_EQ(code, 0) << out;
        EXPECT_NE(out.find("\"action\":\"tls-failed\",\"attempt\":1"), std::string::npos) << out;
        EXPECT_NE(out.find("\"stage\":\"tls\""), std::string::npos) << out;
        EXPECT_NE(out.find("certificate verify failed"), std::string::npos) << out;
        EXPECT_NE(out.find("\"action\":\"tls-done\",\"attempt\":2,\"remote\":\"127.0.0.1:" + port +
                           "\",\"protocol\":\"tcp\",\"alpn\":[\"http/1.1\"],\"version\":\"TLSv1.3\"}"),
                  std::string::npos)
            << out;
        EXPECT_NE(out.find("\"winner_protocol\":\"tcp\""), std::string::npos) << out;
    }
}

void TlsWorldTest::SetUp() {
    if (!ipv6_loopback_available()) FAIL() << "these tests need ::1";
    warm_up();
    FdLeakTest::SetUp();
}

const Error* first_tls_error(const RaceReport& report) {
    for (const Error& e : report.errors) {
        if (e.stage == Stage::tls) return &e;
    }
    return nullptr;
}

void expect_middlebox_handshakes(const std::vector<TlsEvent>& events, const Endpoint& winner) {
    int started = 0;
    bool secured_v4 = false;
    for (const TlsEvent& e : events) {
        if (e.kind == TlsEvent::Kind::started) {
            ++started;
            EXPECT_EQ(e.alpn_offered, (std::vector<std::string>{"h2", "http/1.1"}));
            EXPECT_EQ(e.server_name, "localhost");
        }
        if (e.kind == TlsEvent::Kind::secured && e.attempt.number() == 2) {
            secured_v4 = e.version == "TLSv1.3" && e.alpn_selected == "h2" && e.remote == winner;
        }
    }
    EXPECT_EQ(started, 2);
    EXPECT_TRUE(secured_v4) << "attempt 2 did not end its handshake at " << winner.to_string()
                            << " with TLSv1.3 and h2";
}

void expect_middlebox_report(const RaceReport& report, const TlsServer& box, const TlsServer& good) {
    using namespace std::chrono_literals;
    EXPECT_EQ(report.outcome, Outcome::connected) << report.message;
    EXPECT_EQ(report.remote, good.endpoint());
    EXPECT_EQ(report.winner.number(), 2u);
    EXPECT_EQ(report.protocol, Protocol::tcp);
    EXPECT_EQ(report.tls_version, "TLSv1.3");
    EXPECT_EQ(report.alpn_selected, "h2");
    EXPECT_EQ(box.accepted(), 1);
    EXPECT_EQ(good.wait_handshakes(1), 1);
    ASSERT_EQ(report.attempts.size(), 2u);
    EXPECT_GE(report.attempts[1].started - report.attempts[0].started, 250ms);
}

void expect_bad_certificate_report(const RaceReport& report, const Endpoint& good) {
    using namespace std::chrono_literals;
    EXPECT_EQ(report.outcome, Outcome::connected) << report.message;
    EXPECT_EQ(report.remote, good);
    const Error* e = first_tls_error(report);
    ASSERT_NE(e, nullptr) << "no tls error in the report";
    EXPECT_EQ(e->attempt, 1u);
    EXPECT_EQ(e->code, EPROTO);
    EXPECT_NE(e->detail.find("certificate verify failed: self"), std::string::npos) << e->detail;
    EXPECT_NE(e->message().find("TLS handshake with [::1]:"), std::string::npos) << e->message();
    ASSERT_EQ(report.attempts.size(), 2u);
    EXPECT_LT(report.attempts[1].started - report.attempts[0].started, 250ms);
}

}  // namespace eyeballs::test
