// SPDX-License-Identifier: BSL-1.0
// eyeballs — a client TLS handshake on a connected, non-blocking TCP socket,
// with OpenSSL 3 (Happy Eyeballs v3 §6.1: with TLS, an attempt wins at its
// handshake). Loop-agnostic: any adapter that owns raw fds can use it
// (target eyeballs::tls_client); the poll adapter is the first.
//
//   auto ctx = TlsContext::create(settings, error);        // once per race
//   TlsSession s;
//   s.start(*ctx, fd, server_name, alpn);                   // after connect
//   switch (s.step()) { want_read / want_write: poll the fd, then step() again;
//                       done: s.release() → SSL*;  failed: s.code(), s.reason() }
//
// Never throws (allocation aside), never closes the fd: the caller does.
#pragma once

#include <memory>
#include <string>
#include <vector>

struct ssl_st;
struct ssl_ctx_st;

namespace eyeballs::detail {

/// What every handshake of a race shares.
struct TlsSettings {
    /// Verify the peer's chain and its name (or IP address); off = insecure.
    bool verify = true;
    /// Trust anchors besides (when both are empty: instead of nothing, the
    /// system store: SSL_CTX_set_default_verify_paths).
    std::string ca_file;
    std::string ca_dir;
};

class TlsContext {
public:
    /// nullptr and `error` set ("cannot load CA file x: ...") on failure.
    static std::unique_ptr<TlsContext> create(const TlsSettings& settings, std::string& error);
    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;
    ssl_ctx_st* get() const noexcept { return ctx_; }
    bool verify() const noexcept { return verify_; }

private:
    TlsContext() = default;
    ssl_ctx_st* ctx_ = nullptr;
    bool verify_ = true;
};

/// The ALPN ids a handshake offers when none is given (RFC 9460 §7.1.2 gives
/// the service's own set when an HTTPS record has one).
std::vector<std::string> default_alpn();

/// One attempt's handshake.
class TlsSession {
public:
    enum class Step { done, want_read, want_write, failed };

    TlsSession() = default;
    ~TlsSession();  // frees the SSL object unless released
    TlsSession(TlsSession&& other) noexcept;
    TlsSession& operator=(TlsSession&& other) noexcept;
    TlsSession(const TlsSession&) = delete;
    TlsSession& operator=(const TlsSession&) = delete;

    /// Prepares the client handshake on `fd` (connected, non-blocking).
    /// `name`: a DNS name is sent as SNI and checked against the certificate
    /// (SSL_set1_host); an IP address literal is not sent (RFC 6066 §3: SNI
    /// carries host names only) and is checked as an iPAddress entry. Empty:
    /// no SNI and no name check (the chain is still verified). Returns
    /// Step::want_write on success (call step() next) or Step::failed.
    Step start(const TlsContext& ctx, int fd, const std::string& name,
               const std::vector<std::string>& alpn);
    /// Drives SSL_connect one step.
    Step step();

    bool active() const noexcept { return ssl_ != nullptr; }
    /// After failed: an errno value (EPROTO for a TLS-level failure, the
    /// socket's errno otherwise) and OpenSSL's reason, e.g. "certificate
    /// verify failed: self-signed certificate".
    int code() const noexcept { return code_; }
    const std::string& reason() const noexcept { return reason_; }
    /// After done: the negotiated ALPN id ("" when the server chose none)
    /// and protocol version ("TLSv1.3").
    std::string alpn_selected() const;
    std::string version() const;
    /// Hands the SSL object over; the session no longer frees it.
    ssl_st* release() noexcept;
    /// SSL_free, for a released object.
    static void free(ssl_st* ssl) noexcept;

private:
    Step fail(int code, std::string reason);
    ssl_st* ssl_ = nullptr;
    int code_ = 0;
    std::string reason_;
};

}  // namespace eyeballs::detail
