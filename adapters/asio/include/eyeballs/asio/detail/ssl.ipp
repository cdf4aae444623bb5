// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — async_connect_tls: the race won by a completed TLS
// handshake (Happy Eyeballs v3 §6.1), handing back an ssl::stream
// (eyeballs/asio_ssl.hpp, eyeballs/boost_asio_ssl.hpp; documented in terms of
// standalone Asio).
//
// How. The race (race.ipp) is the one async_connect runs, given a tls_layer:
// ssl_layer below. When an attempt's connect completes, its socket moves into
// a new ssl::stream on the race's context; SNI, the name check and ALPN are
// set on the stream's SSL object by eyeballs::tls_client (the code the poll
// and libevent adapters run), then async_handshake runs on the race's strand.
// Its end is fed to the machine as handle_secured / handle_secure_failed
// (stage tls, OpenSSL's reason from eyeballs::tls_client). A Close closes the
// stream's socket (its handshake ends with operation_aborted, ignored); the
// winner's stream is moved into the completion.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio_ssl.hpp> or <eyeballs/boost_asio_ssl.hpp>, not this file"
#endif

/// What async_connect_tls hands back: a TLS stream whose handshake is done.
using ssl_stream = net::ssl::stream<net::ip::tcp::socket>;

namespace detail {

class ssl_layer final : public tls_layer, public std::enable_shared_from_this<ssl_layer> {
public:
    ssl_layer(std::shared_ptr<net::ssl::context> context, const connect_options& options,
              std::string host)
        : context_(std::move(context)),
          tls_(options.tls),
          observer_(options.on_tls),
          host_(std::move(host)),
          verify_((SSL_CTX_get_verify_mode(context_->native_handle()) & SSL_VERIFY_PEER) != 0) {}

    void start(AttemptId id, net::ip::tcp::socket socket, const Endpoint& remote,
               const Service* service, race_strand& strand,
               std::function<void(int, std::string)> done) override {
        auto stream = std::make_shared<ssl_stream>(std::move(socket), *context_);
        streams_[id.number()] = stream;
        TlsEvent started;
        started.kind = TlsEvent::Kind::started;
        started.attempt = id;
        started.remote = remote;
        // The service's own ALPN set first (RFC 9460 §7.1.2), and the origin's name.
        started.alpn_offered = eyeballs::detail::offered_alpn(service, tls_.alpn);
        started.server_name = eyeballs::detail::checked_name(tls_.server_name, host_, remote);
        observe(started);
        std::string why = eyeballs::detail::configure_client(
            stream->native_handle(), verify_, started.server_name, started.alpn_offered);
        if (!why.empty()) {
            net::post(strand, [self = shared_from_this(), id, remote, done = std::move(done),
                               why = std::move(why)]() mutable {
                self->finished(id, remote, EINVAL, std::move(why), nullptr, done);
            });
            return;
        }
        stream->async_handshake(
            net::ssl::stream_base::client,
            net::bind_executor(strand, [self = shared_from_this(), stream, id, remote,
                                        done = std::move(done)](const error_code& ec) mutable {
                self->handshaken(id, remote, stream, ec, done);
            }));
    }

    void drop(AttemptId id) override {
        auto it = streams_.find(id.number());
        if (it == streams_.end()) return;
        error_code ignored;
        it->second->next_layer().close(ignored);  // its handshake ends with operation_aborted
        streams_.erase(it);
    }

    void keep(AttemptId id, RaceReport& report) override {
        auto it = streams_.find(id.number());
        if (it == streams_.end()) return;
        winner_ = std::move(it->second);
        streams_.erase(it);
        report.tls_version = eyeballs::detail::protocol_version(winner_->native_handle());
        report.alpn_selected = eyeballs::detail::selected_alpn(winner_->native_handle());
    }

    void drop_all() override {
        for (auto& entry : streams_) {
            error_code ignored;
            entry.second->next_layer().close(ignored);
        }
        streams_.clear();
    }

    /// The kept winner, or (a failed race) a stream that is not open.
    ssl_stream take_winner(const net::any_io_executor& ex) {
        if (winner_) {
            ssl_stream s(std::move(*winner_));
            winner_.reset();
            return s;
        }
        return ssl_stream(net::ip::tcp::socket(ex), *context_);
    }

private:
    void observe(const TlsEvent& e) {
        if (observer_) observer_(std::chrono::steady_clock::now(), e);
    }

    void handshaken(AttemptId id, const Endpoint& remote, const std::shared_ptr<ssl_stream>& stream,
                    const error_code& ec, std::function<void(int, std::string)>& done) {
        auto it = streams_.find(id.number());
        if (it == streams_.end() || it->second != stream) return;  // dropped meanwhile
        if (!ec) {
            finished(id, remote, 0, {}, stream->native_handle(), done);
            return;
        }
        int code = EPROTO;
        std::string why;
        if (ec.category() == net::error::get_ssl_category()) {
            // OpenSSL's packed error code, as ERR_get_error gave it.
            why = eyeballs::detail::failure_reason(
                stream->native_handle(),
                static_cast<unsigned long>(static_cast<unsigned int>(ec.value())));
        } else if (ec == net::ssl::error::stream_truncated) {
            code = ECONNRESET;
            why = "connection closed during the handshake";
        } else {
            code = errno_value(ec);
            why = ec.message();
        }
        finished(id, remote, code, std::move(why), nullptr, done);
    }

    void finished(AttemptId id, const Endpoint& remote, int code, std::string why,
                  const ssl_st* ssl, std::function<void(int, std::string)>& done) {
        TlsEvent e;
        e.attempt = id;
        e.remote = remote;
        if (code == 0) {
            e.kind = TlsEvent::Kind::secured;
            e.version = eyeballs::detail::protocol_version(ssl);
            e.alpn_selected = eyeballs::detail::selected_alpn(ssl);
        } else {
            e.kind = TlsEvent::Kind::failed;
            e.code = code;
            e.error = why;
        }
        observe(e);
        done(code, std::move(why));
    }

    std::shared_ptr<net::ssl::context> context_;
    TlsOptions tls_;
    TlsObserver observer_;
    std::string host_;
    bool verify_;
    std::map<std::uint32_t, std::shared_ptr<ssl_stream>> streams_;  // by attempt number
    std::shared_ptr<ssl_stream> winner_;
};

/// The completion handler of a TLS race: the stream comes from the layer.
template <typename Self>
class tls_completion_of final : public race_completion {
public:
    tls_completion_of(Self&& self, std::shared_ptr<ssl_layer> layer, net::any_io_executor ex)
        : self_(std::move(self)),
          work_(net::make_work_guard(self_.get_executor())),
          layer_(std::move(layer)),
          ex_(std::move(ex)) {}

    void complete(error_code ec, net::ip::tcp::socket) override {
        ssl_stream stream = layer_->take_winner(ex_);
        layer_.reset();
        auto ex = self_.get_executor();
        net::post(ex, [self = std::move(self_), ec, stream = std::move(stream)]() mutable {
            self(ec, std::move(stream));
        });
        work_.reset();
    }

private:
    Self self_;
    decltype(net::make_work_guard(std::declval<Self&>().get_executor())) work_;
    std::shared_ptr<ssl_layer> layer_;
    net::any_io_executor ex_;
};

struct tls_connect_op {
    std::shared_ptr<race> state;
    std::shared_ptr<ssl_layer> layer;
    net::any_io_executor ex;

    template <typename Self>
    void operator()(Self& self) {
        std::shared_ptr<race> r = std::move(state);  // `self` must not own the race
        self.reset_cancellation_state(net::enable_total_cancellation());
        net::cancellation_slot slot = self.get_cancellation_state().slot();
        if (slot.is_connected()) slot.assign(race::cancel_handler{r});
        r->launch<tls_completion_of<Self>>(std::move(self), std::move(layer), ex);
    }

    template <typename Self>
    void operator()(Self& self, error_code ec, ssl_stream stream) {
        self.complete(ec, std::move(stream));
    }
};

/// The context async_connect_tls makes from options.tls (eyeballs::tls_client:
/// verification on against the system store, or the CA file/dir, unless
/// insecure; TLS 1.2 or later); on failure a plain one and `error` set.
inline std::shared_ptr<net::ssl::context> make_ssl_context(const TlsOptions& tls,
                                                           std::string& error) {
    // The process-wide context for this trust configuration (shared_context):
    // the ssl::context takes a reference of its own and drops it when destroyed.
    // Nothing here sets callbacks or options on it: other races share it.
    if (auto shared = eyeballs::detail::shared_context(tls, error)) {
        SSL_CTX_up_ref(shared->get());
        return std::make_shared<net::ssl::context>(shared->get());
    }
    return std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
}

/// Starts a TLS race on `r` (target already set) with `context`.
template <typename ConnectToken>
auto start_tls(std::shared_ptr<race> r, std::shared_ptr<net::ssl::context> context,
               const connect_options& options, std::string host,
               const net::any_io_executor& ex, ConnectToken&& token) {
    auto layer = std::make_shared<ssl_layer>(std::move(context), options, std::move(host));
    r->set_tls(layer);
    return net::async_compose<ConnectToken, void(error_code, ssl_stream)>(
        tls_connect_op{std::move(r), std::move(layer), ex}, token, ex);
}

template <typename Executor, typename ConnectToken>
auto connect_tls_by_name(const Executor& ex, std::string_view host, std::uint16_t port,
                         std::shared_ptr<net::ssl::context> context, const connect_options& options,
                         std::string misuse, ConnectToken&& token) {
    net::any_io_executor io_ex(ex);
    auto r = std::make_shared<race>(io_ex, options);
    OverrideTarget target = apply_overrides(options.overrides, host, port);
    if (!target.addresses.empty()) {
        r->set_endpoints(std::move(target.addresses));
    } else if (auto literal = literal_endpoint(target.host, target.port)) {
        r->add_endpoint(*literal);
    } else {
        r->set_host(target.host, target.port);
        use_alt_svc_cache(*r, options, host, port, target);
    }
    if (!misuse.empty()) r->set_misuse(std::move(misuse));
    // The origin is the name checked (and sent as SNI), never a redirect's.
    return start_tls(std::move(r), std::move(context), options, std::string(host), io_ex,
                     std::forward<ConnectToken>(token));
}

}  // namespace detail

/// Races `host`'s addresses (as async_connect does) to a completed TLS
/// handshake, with the caller's ssl::context.
/**
 * Each attempt whose TCP connect completes moves its socket into an
 * ssl::stream on `context` and starts a client handshake: SNI is the origin's
 * host name (`options.tls.server_name` if set; an IP literal is not sent,
 * RFC 6066 §3), the name is checked against the certificate when `context`
 * verifies peers (SSL_VERIFY_PEER: set_verify_mode(ssl::verify_peer)), and
 * ALPN offers the attempt's service's ids (an HTTPS record, RFC 9460
 * §7.1.2), else `options.tls.alpn`, else h2,http/1.1. The first completed
 * handshake wins (Success::handshake); a failed one is an attempt error at
 * stage `tls` with OpenSSL's reason, and the race goes on. Every other stream
 * is closed. `context` must outlive the operation.
 *
 * @par Completion Signature
 * @code void(std::error_code, asio::ssl::stream<asio::ip::tcp::socket>) @endcode
 * On success the stream's handshake is done: read and write it at once. The
 * negotiated version and ALPN id are in `options.report` (tls_version,
 * alpn_selected). Errors as for async_connect; a race lost to TLS failures
 * only completes with the errno of stage tls (EPROTO for a TLS alert or a
 * certificate that failed verification). Cancellation as for async_connect.
 */
template <typename Executor, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor>>>
auto async_connect_tls(const Executor& ex, std::string_view host, std::uint16_t port,
                       net::ssl::context& context, const connect_options& options,
                       ConnectToken&& token) {
    // Not owned: the caller keeps the context alive (see above).
    std::shared_ptr<net::ssl::context> borrowed(&context, [](net::ssl::context*) {});
    return detail::connect_tls_by_name(ex, host, port, std::move(borrowed), options, {},
                                       std::forward<ConnectToken>(token));
}

/// As above, with an ssl::context made from `options.tls`: verification on,
/// against the system store (SSL_CTX_set_default_verify_paths) or
/// `options.tls.ca_file` / `ca_dir`, unless `options.tls.insecure`; TLS 1.2 or
/// later. A CA file that cannot be loaded completes the operation with
/// invalid_argument, the reason in the report's message.
template <typename Executor, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor>>>
auto async_connect_tls(const Executor& ex, std::string_view host, std::uint16_t port,
                       const connect_options& options, ConnectToken&& token) {
    std::string error;
    auto context = detail::make_ssl_context(options.tls, error);
    return detail::connect_tls_by_name(ex, host, port, std::move(context), options,
                                       std::move(error), std::forward<ConnectToken>(token));
}

/// Races a list of endpoints (as async_connect does) to a completed TLS
/// handshake with the caller's context. The name checked is
/// `options.tls.server_name`, or each attempt's address (checked against the
/// certificate's IP addresses) when it is empty.
template <typename Executor, typename EndpointSequence, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor> &&
                                      detail::is_endpoint_sequence<EndpointSequence>::value>>
auto async_connect_tls(const Executor& ex, const EndpointSequence& endpoints,
                       net::ssl::context& context, const connect_options& options,
                       ConnectToken&& token) {
    net::any_io_executor io_ex(ex);
    auto r = std::make_shared<detail::race>(io_ex, options);
    detail::set_endpoints(*r, endpoints);
    std::shared_ptr<net::ssl::context> borrowed(&context, [](net::ssl::context*) {});
    return detail::start_tls(std::move(r), std::move(borrowed), options, std::string(), io_ex,
                             std::forward<ConnectToken>(token));
}

/// Races a list of endpoints to a completed TLS handshake, with a context made
/// from `options.tls` (as the host-name form without a context).
template <typename Executor, typename EndpointSequence, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor> &&
                                      detail::is_endpoint_sequence<EndpointSequence>::value>>
auto async_connect_tls(const Executor& ex, const EndpointSequence& endpoints,
                       const connect_options& options, ConnectToken&& token) {
    net::any_io_executor io_ex(ex);
    auto r = std::make_shared<detail::race>(io_ex, options);
    detail::set_endpoints(*r, endpoints);
    std::string error;
    auto context = detail::make_ssl_context(options.tls, error);
    if (!error.empty()) r->set_misuse(std::move(error));
    return detail::start_tls(std::move(r), std::move(context), options, std::string(), io_ex,
                             std::forward<ConnectToken>(token));
}
