// SPDX-License-Identifier: BSL-1.0
// eyeballs::quic_client — see eyeballs/quic_client.hpp. One ngtcp2 client
// connection with a GnuTLS session per attempt; all I/O is non-blocking
// send/recv on the attempt's connected UDP socket.
#include "eyeballs/quic_client.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <sys/socket.h>

#include "eyeballs/posix.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace eyeballs::quic {
namespace {

// TLS 1.3 only, and no middlebox compatibility mode (RFC 9001 §4.2, §8.4).
constexpr const char* priorities = "NORMAL:-VERS-ALL:+VERS-TLS1.3:%DISABLE_TLS13_COMPAT_MODE";

ngtcp2_tstamp stamp(TimePoint t) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
    return ns < 0 ? 0 : static_cast<ngtcp2_tstamp>(ns);
}

void random_bytes(std::uint8_t* dest, std::size_t len) {
    (void)gnutls_rnd(GNUTLS_RND_RANDOM, dest, len);
}

void rand_cb(std::uint8_t* dest, std::size_t len, const ngtcp2_rand_ctx*) { random_bytes(dest, len); }

int new_cid_cb(ngtcp2_conn*, ngtcp2_cid* cid, std::uint8_t* token, std::size_t cidlen, void*) {
    if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0) return NGTCP2_ERR_CALLBACK_FAILURE;
    cid->datalen = cidlen;
    if (gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0) {
        return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
}

bool is_ip_literal(const std::string& name) {
    return Endpoint::parse_address(name, 1).has_value();
}

std::string hex(std::uint64_t v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}

}  // namespace

// ---- Context -----------------------------------------------------------------

std::shared_ptr<Context> Context::create(const Settings& settings, std::string& error) {
    std::shared_ptr<Context> ctx(new Context());
    gnutls_certificate_credentials_t cred = nullptr;
    int rv = gnutls_certificate_allocate_credentials(&cred);
    if (rv < 0) {
        error = std::string("QUIC: cannot allocate TLS credentials: ") + gnutls_strerror(rv);
        return nullptr;
    }
    ctx->cred_ = cred;
    ctx->verify_ = !settings.insecure;
    if (!settings.ca_file.empty()) {
        rv = gnutls_certificate_set_x509_trust_file(cred, settings.ca_file.c_str(),
                                                    GNUTLS_X509_FMT_PEM);
        if (rv <= 0) {
            error = "QUIC: cannot load CA file " + settings.ca_file + ": " +
                    (rv < 0 ? gnutls_strerror(rv) : "no certificate in it");
            return nullptr;
        }
    }
    if (!settings.ca_dir.empty()) {
        rv = gnutls_certificate_set_x509_trust_dir(cred, settings.ca_dir.c_str(), GNUTLS_X509_FMT_PEM);
        if (rv < 0) {
            error = "QUIC: cannot load CA directory " + settings.ca_dir + ": " + gnutls_strerror(rv);
            return nullptr;
        }
    }
    if (settings.ca_file.empty() && settings.ca_dir.empty() && ctx->verify_) {
        rv = gnutls_certificate_set_x509_system_trust(cred);
        if (rv < 0) {
            error = std::string("QUIC: cannot load the system trust store: ") + gnutls_strerror(rv);
            return nullptr;
        }
    }
    return ctx;
}

Context::~Context() {
    if (cred_ != nullptr) gnutls_certificate_free_credentials(cred_);
}

std::vector<std::string> default_alpn() { return {"h3"}; }

int open_udp_socket(Family family, int& err) {
    const int fd = ::socket(family == Family::v6 ? AF_INET6 : AF_INET,
                            SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    err = fd < 0 ? errno : 0;
    return fd;
}

int connect_udp(int fd, const Endpoint& remote) {
    sockaddr_storage ss{};
    const socklen_t len = eyeballs::to_sockaddr(remote, ss);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0) return 0;
    return errno;
}

// ---- Connection --------------------------------------------------------------

struct Connection::Impl {
    ngtcp2_crypto_conn_ref ref{};
    ngtcp2_callbacks app{};
    void* app_user = nullptr;
    std::string name;  // the name checked (GnuTLS holds a pointer to it)
    sockaddr_storage local{};
    socklen_t local_len = 0;
    sockaddr_storage remote{};
    socklen_t remote_len = 0;

    static ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) {
        return static_cast<Connection*>(ref->user_data)->conn_;
    }
    static Impl& of(void* user_data) { return *static_cast<Connection*>(user_data)->impl_; }

    // Forwarders to the application's stream callbacks (set_application).
    static int recv_stream_data(ngtcp2_conn* c, std::uint32_t flags, std::int64_t id,
                                std::uint64_t off, const std::uint8_t* data, std::size_t len,
                                void* u, void* su) {
        Impl& i = of(u);
        return i.app.recv_stream_data ? i.app.recv_stream_data(c, flags, id, off, data, len, i.app_user, su) : 0;
    }
    static int acked(ngtcp2_conn* c, std::int64_t id, std::uint64_t off, std::uint64_t len, void* u,
                     void* su) {
        Impl& i = of(u);
        return i.app.acked_stream_data_offset ? i.app.acked_stream_data_offset(c, id, off, len, i.app_user, su) : 0;
    }
    static int stream_open(ngtcp2_conn* c, std::int64_t id, void* u) {
        Impl& i = of(u);
        return i.app.stream_open ? i.app.stream_open(c, id, i.app_user) : 0;
    }
    static int stream_close(ngtcp2_conn* c, std::uint32_t flags, std::int64_t id, std::uint64_t err,
                            void* u, void* su) {
        Impl& i = of(u);
        return i.app.stream_close ? i.app.stream_close(c, flags, id, err, i.app_user, su) : 0;
    }
    static int stream_reset(ngtcp2_conn* c, std::int64_t id, std::uint64_t size, std::uint64_t err,
                            void* u, void* su) {
        Impl& i = of(u);
        return i.app.stream_reset ? i.app.stream_reset(c, id, size, err, i.app_user, su) : 0;
    }
    static int stop_sending(ngtcp2_conn* c, std::int64_t id, std::uint64_t err, void* u, void* su) {
        Impl& i = of(u);
        return i.app.stream_stop_sending ? i.app.stream_stop_sending(c, id, err, i.app_user, su) : 0;
    }
    static int local_bidi(ngtcp2_conn* c, std::uint64_t n, void* u) {
        Impl& i = of(u);
        return i.app.extend_max_local_streams_bidi ? i.app.extend_max_local_streams_bidi(c, n, i.app_user) : 0;
    }
    static int local_uni(ngtcp2_conn* c, std::uint64_t n, void* u) {
        Impl& i = of(u);
        return i.app.extend_max_local_streams_uni ? i.app.extend_max_local_streams_uni(c, n, i.app_user) : 0;
    }
    static int remote_bidi(ngtcp2_conn* c, std::uint64_t n, void* u) {
        Impl& i = of(u);
        return i.app.extend_max_remote_streams_bidi ? i.app.extend_max_remote_streams_bidi(c, n, i.app_user) : 0;
    }
    static int remote_uni(ngtcp2_conn* c, std::uint64_t n, void* u) {
        Impl& i = of(u);
        return i.app.extend_max_remote_streams_uni ? i.app.extend_max_remote_streams_uni(c, n, i.app_user) : 0;
    }
    static int stream_data(ngtcp2_conn* c, std::int64_t id, std::uint64_t n, void* u, void* su) {
        Impl& i = of(u);
        return i.app.extend_max_stream_data ? i.app.extend_max_stream_data(c, id, n, i.app_user, su) : 0;
    }
};

Connection::Connection() : impl_(std::make_unique<Impl>()) {
    impl_->ref.get_conn = &Impl::get_conn;
    impl_->ref.user_data = this;
}

Connection::~Connection() {
    if (conn_ != nullptr) ngtcp2_conn_del(conn_);
    if (session_ != nullptr) gnutls_deinit(session_);
}

void Connection::set_application(const ngtcp2_callbacks* callbacks, void* user_data) {
    impl_->app = callbacks != nullptr ? *callbacks : ngtcp2_callbacks{};
    impl_->app_user = callbacks != nullptr ? user_data : nullptr;
}

// ---- Handshake ---------------------------------------------------------------

Handshake::Handshake() = default;

Handshake::~Handshake() {
    // A loser (or a failed attempt) says goodbye with a CONNECTION_CLOSE
    // (NO_ERROR), so that the server does not keep its state until its idle
    // timeout. Best effort: one datagram, never waited for.
    if (!conn_ || conn_->conn_ == nullptr) return;
    ngtcp2_conn* c = conn_->conn_;
    if (ngtcp2_conn_is_in_closing_period(c) || ngtcp2_conn_is_in_draining_period(c)) return;
    ngtcp2_connection_close_error ccerr;
    ngtcp2_connection_close_error_default(&ccerr);
    std::array<std::uint8_t, 1500> buf{};
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info pi{};
    ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c, &ps.path, &pi, buf.data(), buf.size(),
                                                        &ccerr, stamp(std::chrono::steady_clock::now()));
    if (n > 0) (void)::send(conn_->fd_, buf.data(), static_cast<std::size_t>(n), MSG_DONTWAIT);
}

Handshake::Step Handshake::fail(int code, std::string reason, bool transport) {
    step_ = Step::failed;
    code_ = code;
    reason_ = std::move(reason);
    transport_ = transport;
    return step_;
}

Handshake::Step Handshake::start(std::shared_ptr<Context> context, int fd, const Endpoint& remote,
                                 const std::string& server_name, std::vector<std::string> alpn,
                                 TimePoint now) {
    conn_.reset(new Connection());
    Connection& k = *conn_;
    k.fd_ = fd;
    k.context_ = std::move(context);
    alpn_ = alpn.empty() ? default_alpn() : std::move(alpn);

    gnutls_session_t session = nullptr;
    int rv = gnutls_init(&session, GNUTLS_CLIENT);
    if (rv != 0) return fail(EPROTO, std::string("gnutls_init: ") + gnutls_strerror(rv), false);
    k.session_ = session;
    if (ngtcp2_crypto_gnutls_configure_client_session(session) != 0) {
        return fail(EPROTO, "cannot set the TLS session up for QUIC", false);
    }
    rv = gnutls_priority_set_direct(session, priorities, nullptr);
    if (rv == 0) rv = gnutls_credentials_set(session, GNUTLS_CRD_CERTIFICATE, k.context_->credentials());
    if (rv != 0) return fail(EPROTO, std::string("TLS session setup: ") + gnutls_strerror(rv), false);
    gnutls_session_set_ptr(session, &k.impl_->ref);

    std::vector<gnutls_datum_t> ids;
    for (const std::string& id : alpn_) {
        gnutls_datum_t d;
        d.data = reinterpret_cast<unsigned char*>(const_cast<char*>(id.data()));
        d.size = static_cast<unsigned>(id.size());
        ids.push_back(d);
    }
    rv = gnutls_alpn_set_protocols(session, ids.data(), static_cast<unsigned>(ids.size()), 0);
    if (rv != 0) return fail(EPROTO, std::string("ALPN: ") + gnutls_strerror(rv), false);
    if (!server_name.empty() && !is_ip_literal(server_name)) {
        rv = gnutls_server_name_set(session, GNUTLS_NAME_DNS, server_name.data(), server_name.size());
        if (rv != 0) return fail(EPROTO, std::string("SNI: ") + gnutls_strerror(rv), false);
    }
    if (k.context_->verify()) {
        // Chain and name checked by GnuTLS during the handshake (an IP
        // literal against the certificate's IP addresses).
        // GnuTLS keeps the pointer: the name lives in the Connection.
        k.impl_->name = server_name;
        gnutls_session_set_verify_cert(session, k.impl_->name.empty() ? nullptr : k.impl_->name.c_str(), 0);
    }

    Connection::Impl& im = *k.impl_;
    im.remote_len = eyeballs::to_sockaddr(remote, im.remote);
    im.local_len = sizeof im.local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&im.local), &im.local_len) != 0) {
        return fail(errno, std::string("getsockname: ") + std::strerror(errno), true);
    }

    ngtcp2_path path{};
    path.local.addr = reinterpret_cast<sockaddr*>(&im.local);
    path.local.addrlen = im.local_len;
    path.remote.addr = reinterpret_cast<sockaddr*>(&im.remote);
    path.remote.addrlen = im.remote_len;

    ngtcp2_callbacks cb{};
    cb.client_initial = ngtcp2_crypto_client_initial_cb;
    cb.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
    cb.encrypt = ngtcp2_crypto_encrypt_cb;
    cb.decrypt = ngtcp2_crypto_decrypt_cb;
    cb.hp_mask = ngtcp2_crypto_hp_mask_cb;
    cb.recv_retry = ngtcp2_crypto_recv_retry_cb;
    cb.rand = rand_cb;
    cb.get_new_connection_id = new_cid_cb;
    cb.update_key = ngtcp2_crypto_update_key_cb;
    cb.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
    cb.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
    cb.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
    cb.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
    cb.recv_stream_data = &Connection::Impl::recv_stream_data;
    cb.acked_stream_data_offset = &Connection::Impl::acked;
    cb.stream_open = &Connection::Impl::stream_open;
    cb.stream_close = &Connection::Impl::stream_close;
    cb.stream_reset = &Connection::Impl::stream_reset;
    cb.stream_stop_sending = &Connection::Impl::stop_sending;
    cb.extend_max_local_streams_bidi = &Connection::Impl::local_bidi;
    cb.extend_max_local_streams_uni = &Connection::Impl::local_uni;
    cb.extend_max_remote_streams_bidi = &Connection::Impl::remote_bidi;
    cb.extend_max_remote_streams_uni = &Connection::Impl::remote_uni;
    cb.extend_max_stream_data = &Connection::Impl::stream_data;

    ngtcp2_cid dcid{};
    ngtcp2_cid scid{};
    dcid.datalen = NGTCP2_MIN_INITIAL_DCIDLEN;
    random_bytes(dcid.data, dcid.datalen);
    scid.datalen = 8;
    random_bytes(scid.data, scid.datalen);

    ngtcp2_settings settings;
    ngtcp2_settings_default(&settings);
    settings.initial_ts = stamp(now);
    ngtcp2_transport_params params;
    ngtcp2_transport_params_default(&params);
    // Room for HTTP/3 after the handshake (the caller's nghttp3).
    params.initial_max_streams_uni = 3;
    params.initial_max_stream_data_bidi_local = 256 * 1024;
    params.initial_max_stream_data_uni = 256 * 1024;
    params.initial_max_data = 1024 * 1024;

    ngtcp2_conn* c = nullptr;
    rv = ngtcp2_conn_client_new(&c, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &settings,
                                &params, nullptr, &k);
    if (rv != 0) return fail(EPROTO, std::string("ngtcp2_conn_client_new: ") + ngtcp2_strerror(rv), false);
    k.conn_ = c;
    ngtcp2_conn_set_tls_native_handle(c, session);
    return flush(now);  // the Initial, at the attempt's start
}

Handshake::Step Handshake::flush(TimePoint now) {
    if (step_ != Step::running) return step_;
    std::array<std::uint8_t, 1500> buf{};
    for (;;) {
        ngtcp2_path_storage ps;
        ngtcp2_path_storage_zero(&ps);
        ngtcp2_pkt_info pi{};
        ngtcp2_ssize n = ngtcp2_conn_write_pkt(conn_->conn_, &ps.path, &pi, buf.data(), buf.size(),
                                               stamp(now));
        if (n < 0) return read_error(static_cast<int>(n));
        if (n == 0) break;
        ssize_t sent;
        do {
            sent = ::send(conn_->fd_, buf.data(), static_cast<std::size_t>(n), MSG_DONTWAIT);
        } while (sent < 0 && errno == EINTR);
        if (sent < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) break;  // lost: QUIC resends
            if (errno == ECONNREFUSED) return fail(ECONNREFUSED, "UDP port unreachable (ICMP)", true);
            const int e = errno;
            return fail(e, std::string("send: ") + std::strerror(e), true);
        }
    }
    return check(now);
}

Handshake::Step Handshake::check(TimePoint) {
    if (step_ != Step::running || ngtcp2_conn_get_handshake_completed(conn_->conn_) == 0) return step_;
    gnutls_datum_t selected{};
    if (gnutls_alpn_get_selected_protocol(conn_->session_, &selected) != 0 || selected.size == 0) {
        std::string offered;
        for (const std::string& id : alpn_) offered += (offered.empty() ? "" : ",") + id;
        return fail(EPROTO, "no ALPN id selected by the server (offered " + offered + ")", false);
    }
    const std::string id(reinterpret_cast<const char*>(selected.data), selected.size);
    if (std::find(alpn_.begin(), alpn_.end(), id) == alpn_.end()) {
        return fail(EPROTO, "the server selected ALPN " + id + ", which was not offered", false);
    }
    step_ = Step::done;
    return step_;
}

Handshake::Step Handshake::read_error(int rv) {
    ngtcp2_conn* c = conn_->conn_;
    if (rv == NGTCP2_ERR_CRYPTO || rv == NGTCP2_ERR_CALLBACK_FAILURE) {
        const unsigned status = gnutls_session_get_verify_cert_status(conn_->session_);
        if (status != 0) {
            gnutls_datum_t out{};
            std::string text = "certificate verify failed";
            if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &out, 0) == 0) {
                text += ": ";
                text.append(reinterpret_cast<const char*>(out.data), out.size);
                gnutls_free(out.data);
            }
            return fail(EPROTO, text, false);
        }
        const std::uint8_t alert = ngtcp2_conn_get_tls_alert(c);
        const char* name = gnutls_alert_get_name(static_cast<gnutls_alert_description_t>(alert));
        return fail(EPROTO, std::string("TLS handshake failed: alert ") + std::to_string(alert) +
                                (name != nullptr ? std::string(" (") + name + ")" : std::string()),
                    false);
    }
    if (rv == NGTCP2_ERR_DRAINING || rv == NGTCP2_ERR_CLOSING) {
        ngtcp2_connection_close_error ccerr{};
        ngtcp2_conn_get_connection_close_error(c, &ccerr);
        std::string text = "the server closed the connection: ";
        if (ccerr.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_TRANSPORT &&
            ccerr.error_code >= NGTCP2_CRYPTO_ERROR && ccerr.error_code < NGTCP2_CRYPTO_ERROR + 256) {
            const auto alert = static_cast<unsigned>(ccerr.error_code - NGTCP2_CRYPTO_ERROR);
            const char* name = gnutls_alert_get_name(static_cast<gnutls_alert_description_t>(alert));
            text += "TLS alert " + std::to_string(alert) + (name != nullptr ? std::string(" (") + name + ")" : "");
        } else {
            text += "error " + hex(ccerr.error_code);
        }
        if (ccerr.reasonlen > 0) {
            text += " \"" + std::string(reinterpret_cast<const char*>(ccerr.reason), ccerr.reasonlen) + "\"";
        }
        return fail(EPROTO, text, false);
    }
    if (rv == NGTCP2_ERR_HANDSHAKE_TIMEOUT || rv == NGTCP2_ERR_IDLE_CLOSE) {
        return fail(ETIMEDOUT, std::string("QUIC: ") + ngtcp2_strerror(rv), true);
    }
    return fail(EPROTO, std::string("QUIC: ") + ngtcp2_strerror(rv), false);
}

Handshake::Step Handshake::on_readable(TimePoint now) {
    if (step_ != Step::running || !conn_) return step_;
    Connection::Impl& im = *conn_->impl_;
    std::array<std::uint8_t, 65536> buf{};
    for (;;) {
        ssize_t n = ::recv(conn_->fd_, buf.data(), buf.size(), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            if (errno == ECONNREFUSED) return fail(ECONNREFUSED, "UDP port unreachable (ICMP)", true);
            const int e = errno;
            return fail(e, std::string("recv: ") + std::strerror(e), true);
        }
        ngtcp2_path path{};
        path.local.addr = reinterpret_cast<sockaddr*>(&im.local);
        path.local.addrlen = im.local_len;
        path.remote.addr = reinterpret_cast<sockaddr*>(&im.remote);
        path.remote.addrlen = im.remote_len;
        ngtcp2_pkt_info pi{};
        int rv = ngtcp2_conn_read_pkt(conn_->conn_, &path, &pi, buf.data(),
                                      static_cast<std::size_t>(n), stamp(now));
        if (rv != 0) return read_error(rv);
    }
    return flush(now);
}

Handshake::Step Handshake::on_timeout(TimePoint now) {
    if (step_ != Step::running || !conn_) return step_;
    int rv = ngtcp2_conn_handle_expiry(conn_->conn_, stamp(now));
    if (rv != 0) return read_error(rv);
    return flush(now);
}

std::optional<TimePoint> Handshake::expiry() const {
    if (step_ != Step::running || !conn_ || conn_->conn_ == nullptr) return std::nullopt;
    ngtcp2_tstamp t = ngtcp2_conn_get_expiry(conn_->conn_);
    if (t == UINT64_MAX) return std::nullopt;
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(
        static_cast<std::int64_t>(std::min<ngtcp2_tstamp>(t, INT64_MAX)))));
}

std::string Handshake::version() const {
    if (!conn_ || conn_->session_ == nullptr) return {};
    const gnutls_protocol_t v = gnutls_protocol_get_version(conn_->session_);
    if (v == GNUTLS_TLS1_3) return "TLSv1.3";
    const char* name = gnutls_protocol_get_name(v);
    return name != nullptr ? name : "";
}

std::string Handshake::alpn_selected() const {
    gnutls_datum_t selected{};
    if (!conn_ || conn_->session_ == nullptr ||
        gnutls_alpn_get_selected_protocol(conn_->session_, &selected) != 0) {
        return {};
    }
    return std::string(reinterpret_cast<const char*>(selected.data), selected.size);
}

std::unique_ptr<Connection> Handshake::release() {
    if (step_ != Step::done) return nullptr;
    return std::move(conn_);
}

}  // namespace eyeballs::quic
