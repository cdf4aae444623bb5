// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect: --send over --tls through the winner's OpenSSL session
// (the poll, libuv and libevent runs hand over an SSL* on a non-blocking
// socket; the Asio run talks through its ssl::stream instead, run_asio.cpp).
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>
#include <string_view>

#include "run.hpp"
#include "talk.hpp"

namespace eyeballs::tool {

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

}  // namespace eyeballs::tool
