// SPDX-License-Identifier: BSL-1.0
// eyeballs::quic_client — one QUIC client handshake (ngtcp2 0.12 + GnuTLS) on
// a connected UDP socket, for the adapters' QUIC attempts (Happy Eyeballs v3
// §5.1, §6.1). Loop-agnostic: it never waits. The adapter tells it when the
// socket is readable (or reports an error) and when expiry() has come; it
// reads the socket's datagrams, feeds them to ngtcp2 and sends what ngtcp2
// has to send, and says whether the handshake is still running, done or
// failed. The poll and libevent adapters share this one library
// (eyeballs::quic_client, CMake option EYEBALLS_QUIC).
//
// Success: the QUIC handshake completed, the certificate chain and the server
// name were verified (unless insecure), and the server selected one of the
// offered ALPN ids. Failures carry an errno value and a reason:
//   - ECONNREFUSED, transport(): an ICMP port unreachable came back on the
//     connected socket (nothing listens on that UDP port);
//   - ETIMEDOUT, transport(): ngtcp2 gave up (its idle/handshake timer);
//   - EPROTO, not transport(): the TLS part of the handshake failed — a
//     certificate that does not verify ("certificate verify failed: ..."),
//     a TLS alert from either side, the server closing the connection, no ALPN.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/time.hpp"

struct ngtcp2_conn;
struct ngtcp2_callbacks;
struct gnutls_session_int;
struct gnutls_certificate_credentials_st;

namespace eyeballs::quic {

/// What every attempt of one race shares. Verification is on by default.
struct Settings {
    /// A PEM file and/or a directory of PEM files of trust anchors instead
    /// of the system store.
    std::string ca_file;
    std::string ca_dir;
    /// Skip certificate and name verification (like curl --insecure).
    bool insecure = false;
};

/// The GnuTLS credentials of one race (shared by its attempts and by the
/// connection that wins, which keeps them alive).
class Context {
public:
    /// nullptr with `error` set when the credentials cannot be made (an
    /// unreadable CA file, no system store).
    static std::shared_ptr<Context> create(const Settings& settings, std::string& error);
    ~Context();
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;

    gnutls_certificate_credentials_st* credentials() const noexcept { return cred_; }
    bool verify() const noexcept { return verify_; }

private:
    Context() = default;
    gnutls_certificate_credentials_st* cred_ = nullptr;
    bool verify_ = true;
};

/// A new non-blocking, close-on-exec UDP socket of `family`; -1 with `err`
/// set to errno when it cannot be made.
int open_udp_socket(Family family, int& err);
/// connect(2) of a UDP socket to `remote` (nothing is sent): 0 or errno.
int connect_udp(int fd, const Endpoint& remote);

/// The ALPN ids offered when the caller gives none: {"h3"}.
std::vector<std::string> default_alpn();

/// A QUIC connection whose handshake completed, handed to the caller.
///
/// Ownership: the Connection owns the ngtcp2 connection and the GnuTLS
/// session (and a reference to the race's credentials); its destructor calls
/// ngtcp2_conn_del and gnutls_deinit. It does NOT own the UDP socket: the
/// adapter's Result hands the fd to the caller separately, and the caller
/// closes it after destroying the Connection. Keep the Connection at a
/// stable address (it is heap-allocated and returned in a unique_ptr): the
/// GnuTLS session and ngtcp2 point back to it.
///
/// Going on with nghttp3: ngtcp2 0.12 cannot change a connection's
/// callbacks, so the stream callbacks this library installed forward to the
/// ones given to set_application() (recv_stream_data, acked_stream_data_offset,
/// stream_open, stream_close, stream_reset, stream_stop_sending,
/// extend_max_local_streams_bidi/uni, extend_max_remote_streams_bidi/uni,
/// extend_max_stream_data), with `user_data` replaced by the caller's.
/// Timestamps given to ngtcp2 so far are steady_clock nanoseconds since its
/// epoch; keep using that clock.
class Connection {
public:
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    ngtcp2_conn* conn() const noexcept { return conn_; }
    gnutls_session_int* session() const noexcept { return session_; }
    /// The UDP socket it was made on (not owned).
    int fd() const noexcept { return fd_; }
    /// Routes the stream callbacks (above) to `callbacks` (copied; null
    /// members are not called) with `user_data`. nullptr: none again.
    void set_application(const ngtcp2_callbacks* callbacks, void* user_data);

private:
    friend class Handshake;
    struct Impl;
    Connection();
    ngtcp2_conn* conn_ = nullptr;
    gnutls_session_int* session_ = nullptr;
    int fd_ = -1;
    std::shared_ptr<Context> context_;
    std::unique_ptr<Impl> impl_;
};

/// One attempt's handshake.
class Handshake {
public:
    enum class Step { running, done, failed };

    Handshake();
    /// A handshake still owned here (running, failed, or done and not
    /// released) sends one CONNECTION_CLOSE (NO_ERROR) and is freed.
    ~Handshake();
    Handshake(const Handshake&) = delete;
    Handshake& operator=(const Handshake&) = delete;

    /// Starts on `fd`, a non-blocking UDP socket already connect()ed to
    /// `remote` (not owned): sends the Initial. `server_name` is sent as SNI
    /// and checked against the certificate (an IP address is not sent as
    /// SNI and is checked against the certificate's IP addresses); `alpn`
    /// empty: default_alpn().
    Step start(std::shared_ptr<Context> context, int fd, const Endpoint& remote,
               const std::string& server_name, std::vector<std::string> alpn, TimePoint now);
    /// The socket is readable or has a pending error (POLLIN/POLLERR).
    Step on_readable(TimePoint now);
    /// Call when expiry() has come.
    Step on_timeout(TimePoint now);
    /// When on_timeout() is due; nullopt while none is (or once ended).
    std::optional<TimePoint> expiry() const;

    bool active() const noexcept { return static_cast<bool>(conn_); }
    /// Where it stands (the last call's answer).
    Step step() const noexcept { return step_; }
    /// After failed: errno value, reason, and whether it failed below TLS
    /// (port unreachable, timeout: a connect failure) or in the handshake.
    int code() const noexcept { return code_; }
    const std::string& reason() const noexcept { return reason_; }
    bool transport() const noexcept { return transport_; }
    /// After done: "TLSv1.3" and the selected ALPN id.
    std::string version() const;
    std::string alpn_selected() const;
    /// After done: the connection, now the caller's (see Connection).
    std::unique_ptr<Connection> release();

private:
    Step fail(int code, std::string reason, bool transport);
    Step flush(TimePoint now);
    Step check(TimePoint now);
    Step read_error(int rv);

    std::unique_ptr<Connection> conn_;
    Step step_ = Step::running;
    int code_ = 0;
    std::string reason_;
    bool transport_ = false;
    std::vector<std::string> alpn_;
};

}  // namespace eyeballs::quic
