// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's poll adapter runner: ConnectJob → eyeballs::poll::connect.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "eyeballs/poll.hpp"
#include "run.hpp"

namespace eyeballs::tool {
namespace {

// --send over --tls: the winner's session, non-blocking like its socket.
// A peer that closes without close_notify ends the stream as EOF (as nc and
// curl take it), not as an error.
class TlsChannel final : public Channel {
public:
    explicit TlsChannel(::ssl_st* ssl) : ssl_(ssl) { SSL_set_options(ssl_, SSL_OP_IGNORE_UNEXPECTED_EOF); }
    long send(const char* data, std::size_t size, short& events, std::string& error) override {
        ERR_clear_error();
        const int n = SSL_write(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
        return n > 0 ? n : fail(n, "write", events, error);
    }
    long recv(char* data, std::size_t size, short& events, std::string& error) override {
        ERR_clear_error();
        const int n = SSL_read(ssl_, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX)));
        return n > 0 ? n : fail(n, "read", events, error);
    }
    bool buffered() const override { return SSL_pending(ssl_) > 0; }

private:
    long fail(int n, const char* what, short& events, std::string& error) {
        const int e = SSL_get_error(ssl_, n);
        switch (e) {
            case SSL_ERROR_ZERO_RETURN: return 0;  // close_notify (or EOF, see above)
            case SSL_ERROR_WANT_READ: events = POLLIN; return again;
            case SSL_ERROR_WANT_WRITE: events = POLLOUT; return again;
            case SSL_ERROR_SYSCALL:
                if (errno == EINTR) {
                    events = std::string_view(what) == "read" ? POLLIN : POLLOUT;
                    return again;
                }
                error = std::string(what) + ": " + errno_text(errno != 0 ? errno : EPIPE);
                return failed;
            default: {
                char text[256];
                ERR_error_string_n(ERR_get_error(), text, sizeof text);
                error = std::string(what) + ": TLS: " + text;
                return failed;
            }
        }
    }
    ::ssl_st* ssl_;
};

}  // namespace

ConnectResult run_poll(const ConnectJob& job) {
    poll::Options options;
    options.config = job.config;
    options.cancel_fd = job.cancel_fd;
    options.on_action = job.on_action;
    options.dns.server = job.dns_server;
    if (job.tls.enabled) {
        options.tls.enabled = true;
        options.tls.ca_file = job.tls.cacert;
        options.tls.insecure = job.tls.insecure;
        options.tls.alpn = job.tls.alpn;
        options.quic.enabled = job.tls.http3;
        // The name checked and sent as SNI: the origin (HOST), also with --resolve.
        options.tls.server_name = job.host;
        if (job.on_tls) {
            options.on_tls = [&job](TimePoint now, const poll::TlsEvent& e) {
                TlsStep s;
                s.attempt = e.attempt.number();
                s.protocol = eyeballs::protocol_name(e.protocol);
                s.remote = e.remote.to_string();
                switch (e.kind) {
                    case poll::TlsEvent::Kind::started:
                        s.kind = "tls-start";
                        s.alpn = e.alpn_offered;
                        break;
                    case poll::TlsEvent::Kind::secured:
                        s.kind = "tls-done";
                        if (!e.alpn_selected.empty()) s.alpn.push_back(e.alpn_selected);
                        s.version = e.version;
                        break;
                    case poll::TlsEvent::Kind::failed:
                        s.kind = "tls-failed";
                        s.error = e.error;
                        break;
                }
                job.on_tls(now, s);
            };
        }
    }
    poll::Result r = job.addresses_mode ? poll::connect(job.addresses, options)
                                        : poll::connect(job.host, job.port, options);
    ConnectResult out{std::move(r.report), r.fd, {}, std::move(r.quic), nullptr};
    if (r.ssl != nullptr) {
        ::ssl_st* ssl = r.ssl;
        out.release_tls = [ssl] { poll::free_tls(ssl); };
        out.channel = std::make_shared<TlsChannel>(ssl);
    }
    return out;
}

}  // namespace eyeballs::tool
