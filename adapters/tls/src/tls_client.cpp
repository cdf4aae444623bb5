// SPDX-License-Identifier: BSL-1.0
// eyeballs::tls_client — see eyeballs/detail/tls_client.hpp.
#include "eyeballs/detail/tls_client.hpp"

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <sys/stat.h>

#include <cerrno>
#include <list>
#include <mutex>
#include <tuple>
#include <utility>

namespace eyeballs::detail {
namespace {

// The text of the earliest error on this thread's OpenSSL queue ("" if none);
// the queue is cleared.
std::string take_openssl_error() {
    unsigned long e = ERR_peek_last_error();
    std::string out;
    if (e != 0) {
        const char* r = ERR_reason_error_string(e);
        out = r != nullptr ? r : "OpenSSL error " + std::to_string(ERR_GET_REASON(e));
    }
    ERR_clear_error();
    return out;
}

bool is_ip_literal(const std::string& name) {
    unsigned char buf[16];
    return ::inet_pton(AF_INET, name.c_str(), buf) == 1 ||
           ::inet_pton(AF_INET6, name.c_str(), buf) == 1;
}

// OpenSSL's socket BIO writes with write(2): a peer that has reset the
// connection would raise SIGPIPE and kill a program that did not ignore it.
// A library must not (the socket steps use MSG_NOSIGNAL for the same reason),
// so each handshake step runs with SIGPIPE blocked on this thread, and a
// SIGPIPE it raised is taken off the pending set before the mask comes back.
class NoSigpipe {
public:
    NoSigpipe() noexcept {
        sigset_t pending;
        sigemptyset(&pending);
        sigpending(&pending);
        was_pending_ = sigismember(&pending, SIGPIPE) == 1;
        sigset_t block;
        sigemptyset(&block);
        sigaddset(&block, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &block, &old_);
    }
    ~NoSigpipe() {
        if (!was_pending_) {
            sigset_t pending;
            sigemptyset(&pending);
            sigpending(&pending);
            if (sigismember(&pending, SIGPIPE) == 1) {
                sigset_t only;
                sigemptyset(&only);
                sigaddset(&only, SIGPIPE);
                const timespec zero{0, 0};
                while (sigtimedwait(&only, nullptr, &zero) < 0 && errno == EINTR) {
                }
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_, nullptr);
    }
    NoSigpipe(const NoSigpipe&) = delete;
    NoSigpipe& operator=(const NoSigpipe&) = delete;

private:
    sigset_t old_{};
    bool was_pending_ = false;
};

}  // namespace

std::vector<std::string> default_alpn() { return {"h2", "http/1.1"}; }

std::unique_ptr<TlsContext> TlsContext::create(const TlsSettings& settings, std::string& error) {
    std::unique_ptr<TlsContext> c(new TlsContext());
    c->verify_ = settings.verify;
    c->ctx_ = SSL_CTX_new(TLS_client_method());
    if (c->ctx_ == nullptr) {
        error = "cannot create a TLS context: " + take_openssl_error();
        return nullptr;
    }
    // TLS 1.2 and up (RFC 8996 deprecates 1.0 and 1.1).
    SSL_CTX_set_min_proto_version(c->ctx_, TLS1_2_VERSION);
    if (settings.verify) {
        SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_PEER, nullptr);
        if (settings.ca_file.empty() && settings.ca_dir.empty()) {
            if (SSL_CTX_set_default_verify_paths(c->ctx_) != 1) {
                error = "cannot load the system's trust store: " + take_openssl_error();
                return nullptr;
            }
        } else if (SSL_CTX_load_verify_locations(
                       c->ctx_, settings.ca_file.empty() ? nullptr : settings.ca_file.c_str(),
                       settings.ca_dir.empty() ? nullptr : settings.ca_dir.c_str()) != 1) {
            error = "cannot load CA " +
                    (settings.ca_file.empty() ? "directory " + settings.ca_dir
                                              : "file " + settings.ca_file) +
                    ": " + take_openssl_error();
            return nullptr;
        }
    } else {
        SSL_CTX_set_verify(c->ctx_, SSL_VERIFY_NONE, nullptr);
    }
    return c;
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsSession::TlsSession(TlsSession&& other) noexcept
    : ssl_(std::exchange(other.ssl_, nullptr)),
      code_(other.code_),
      reason_(std::move(other.reason_)) {}

TlsSession& TlsSession::operator=(TlsSession&& other) noexcept {
    if (this != &other) {
        SSL_free(ssl_);
        ssl_ = std::exchange(other.ssl_, nullptr);
        code_ = other.code_;
        reason_ = std::move(other.reason_);
    }
    return *this;
}

TlsSession::Step TlsSession::fail(int code, std::string reason) {
    code_ = code;
    reason_ = std::move(reason);
    SSL_free(ssl_);
    ssl_ = nullptr;
    return Step::failed;
}

TlsSession::Step TlsSession::start(const TlsContext& ctx, int fd, const std::string& name,
                                   const std::vector<std::string>& alpn) {
    ERR_clear_error();
    SSL_free(ssl_);
    ssl_ = SSL_new(ctx.get());
    if (ssl_ == nullptr) return fail(ENOMEM, "SSL_new: " + take_openssl_error());
    if (SSL_set_fd(ssl_, fd) != 1) return fail(EBADF, "SSL_set_fd: " + take_openssl_error());
    std::string why = configure_client(ssl_, ctx.verify(), name, alpn);
    if (!why.empty()) return fail(EINVAL, std::move(why));
    return Step::want_write;
}

std::string configure_client(ssl_st* ssl, bool verify, const std::string& name,
                             const std::vector<std::string>& alpn) {
    if (!name.empty()) {
        const bool ip = is_ip_literal(name);
        if (!ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
            return "bad server name '" + name + "': " + take_openssl_error();
        }
        if (verify) {
            X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
            int ok = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
                        : SSL_set1_host(ssl, name.c_str());
            if (ok != 1) return "cannot check the name '" + name + "'";
        }
    }
    if (!alpn.empty()) {
        // RFC 7301 §3.1: a list of length-prefixed protocol names.
        std::vector<unsigned char> wire;
        for (const std::string& id : alpn) {
            if (id.empty() || id.size() > 255) return "bad ALPN id '" + id + "'";
            wire.push_back(static_cast<unsigned char>(id.size()));
            wire.insert(wire.end(), id.begin(), id.end());
        }
        // SSL_set_alpn_protos returns 0 on success.
        if (SSL_set_alpn_protos(ssl, wire.data(), static_cast<unsigned>(wire.size())) != 0) {
            return "cannot set ALPN: " + take_openssl_error();
        }
    }
    SSL_set_connect_state(ssl);
    return {};
}

std::string failure_reason(const ssl_st* ssl, unsigned long err) {
    std::string why;
    if (err != 0) {
        const char* r = ERR_reason_error_string(err);
        why = r != nullptr ? r : "OpenSSL error " + std::to_string(ERR_GET_REASON(err));
    }
    if (why.empty()) why = "handshake failed";
    if (ssl != nullptr && ERR_GET_LIB(err) == ERR_LIB_SSL &&
        ERR_GET_REASON(err) == SSL_R_CERTIFICATE_VERIFY_FAILED) {
        const long v = SSL_get_verify_result(ssl);
        if (v != X509_V_OK) {
            why += ": ";
            why += X509_verify_cert_error_string(v);
        }
    }
    return why;
}

std::unique_ptr<TlsContext> make_context(const TlsOptions& options, std::string& error) {
    TlsSettings settings;
    settings.verify = !options.insecure;
    settings.ca_file = options.ca_file;
    settings.ca_dir = options.ca_dir;
    auto ctx = TlsContext::create(settings, error);
    if (!ctx && error.empty()) error = "cannot create the TLS context";
    return ctx;
}

namespace {

// What makes two contexts interchangeable: the settings, and the CA path's
// identity on disk (an edited file is a new key).
struct ContextKey {
    bool verify = true;
    std::string ca_file;
    std::string ca_dir;
    long long file_mtime_ns = 0, file_size = -1, dir_mtime_ns = 0;
    bool operator==(const ContextKey& o) const {
        return std::tie(verify, ca_file, ca_dir, file_mtime_ns, file_size, dir_mtime_ns) ==
               std::tie(o.verify, o.ca_file, o.ca_dir, o.file_mtime_ns, o.file_size,
                        o.dir_mtime_ns);
    }
};

void stamp(const std::string& path, long long& mtime_ns, long long* size) {
    struct stat st {};
    if (path.empty() || ::stat(path.c_str(), &st) != 0) return;  // loading will say why
    mtime_ns = static_cast<long long>(st.st_mtim.tv_sec) * 1000000000LL + st.st_mtim.tv_nsec;
    if (size != nullptr) *size = static_cast<long long>(st.st_size);
}

struct ContextCache {
    std::mutex mutex;
    std::list<std::pair<ContextKey, std::shared_ptr<const TlsContext>>> entries;  // most recent first
};

ContextCache& context_cache() {
    static ContextCache* cache = new ContextCache();  // never destroyed: usable at exit
    return *cache;
}

}  // namespace

std::shared_ptr<const TlsContext> shared_context(const TlsOptions& options, std::string& error) {
    ContextKey key;
    key.verify = !options.insecure;
    if (key.verify) {  // insecure: no trust anchors are loaded, whatever was given
        key.ca_file = options.ca_file;
        key.ca_dir = options.ca_dir;
        stamp(key.ca_file, key.file_mtime_ns, &key.file_size);
        stamp(key.ca_dir, key.dir_mtime_ns, nullptr);
    }
    constexpr std::size_t capacity = 8;
    ContextCache& cache = context_cache();
    std::lock_guard<std::mutex> lock(cache.mutex);
    for (auto it = cache.entries.begin(); it != cache.entries.end(); ++it) {
        if (it->first == key) {
            cache.entries.splice(cache.entries.begin(), cache.entries, it);
            return cache.entries.front().second;
        }
    }
    std::shared_ptr<const TlsContext> made = make_context(options, error);
    if (!made) return nullptr;
    cache.entries.emplace_front(std::move(key), made);
    if (cache.entries.size() > capacity) cache.entries.pop_back();
    return made;
}

std::vector<std::string> offered_alpn(const Service* service,
                                      const std::vector<std::string>& configured) {
    if (service != nullptr && !service->alpn.empty()) return service->alpn;  // RFC 9460 §7.1.2
    if (!configured.empty()) return configured;
    return default_alpn();
}

std::string checked_name(const std::string& configured, const std::string& host,
                         const Endpoint& remote) {
    if (!configured.empty()) return configured;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        return host.substr(1, host.size() - 2);
    }
    if (!host.empty()) return host;
    return remote.address_string();
}

std::string selected_alpn(const ssl_st* ssl) {
    if (ssl == nullptr) return {};
    const unsigned char* data = nullptr;
    unsigned int len = 0;
    SSL_get0_alpn_selected(ssl, &data, &len);
    return data != nullptr ? std::string(reinterpret_cast<const char*>(data), len) : std::string();
}

std::string protocol_version(const ssl_st* ssl) {
    return ssl != nullptr ? std::string(SSL_get_version(ssl)) : std::string();
}

TlsSession::Step TlsSession::step() {
    if (ssl_ == nullptr) return Step::failed;
    ERR_clear_error();
    int rc = 0;
    int saved_errno = 0;
    {
        NoSigpipe guard;
        errno = 0;
        rc = SSL_connect(ssl_);
        saved_errno = errno;
    }
    errno = saved_errno;
    if (rc == 1) return Step::done;
    const int err = SSL_get_error(ssl_, rc);
    switch (err) {
        case SSL_ERROR_WANT_READ:
            return Step::want_read;
        case SSL_ERROR_WANT_WRITE:
            return Step::want_write;
        case SSL_ERROR_SYSCALL: {
            const int e = errno;
            std::string why = take_openssl_error();
            if (e != 0) return fail(e, why);
            return fail(ECONNRESET, why.empty() ? "connection closed during the handshake" : why);
        }
        default: {
            const unsigned long e = ERR_peek_last_error();
            ERR_clear_error();
            std::string why = e != 0 ? failure_reason(ssl_, e)
                                     : "handshake failed (SSL_get_error " + std::to_string(err) + ")";
            return fail(EPROTO, why);
        }
    }
}

std::string TlsSession::alpn_selected() const { return selected_alpn(ssl_); }

std::string TlsSession::version() const { return protocol_version(ssl_); }

ssl_st* TlsSession::release() noexcept { return std::exchange(ssl_, nullptr); }

void TlsSession::free(ssl_st* ssl) noexcept { SSL_free(ssl); }

}  // namespace eyeballs::detail
