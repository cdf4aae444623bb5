// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — async_discover_pref64: the network's NAT64 prefix from the
// AAAA answer for ipv4only.arpa (RFC 7050 §2-§3), as a composed operation
// (documented in terms of standalone Asio; for eyeballs::boost_asio read
// boost::asio for asio and boost::system::error_code for std::error_code).
//
// The query goes where a race's AAAA query goes: to `dns_server` through the
// adapter's own client (dns.ipp, bounded by `dns_timeout`), else through
// ip::tcp::resolver (getaddrinfo for AF_INET6). One state object per
// operation, owned by its pending handlers (the lookup's callback, the
// resolver's handler) like a race; it owns the completion, which owns the
// handler's work guard. Everything runs on the operation's strand.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

/// The type-erased completion handler of one discovery.
class pref64_completion {
public:
    virtual ~pref64_completion() = default;
    /// Posts the handler's invocation to its associated executor.
    virtual void complete(error_code ec, Pref64Discovery result) = 0;
};

template <typename Self>
class pref64_completion_of final : public pref64_completion {
public:
    explicit pref64_completion_of(Self&& self)
        : self_(std::move(self)), work_(net::make_work_guard(self_.get_executor())) {}

    void complete(error_code ec, Pref64Discovery result) override {
        auto ex = self_.get_executor();
        net::post(ex, [self = std::move(self_), ec, result = std::move(result)]() mutable {
            self(ec, std::move(result));
        });
        work_.reset();
    }

private:
    Self self_;
    decltype(net::make_work_guard(std::declval<Self&>().get_executor())) work_;
};

class pref64_discovery : public std::enable_shared_from_this<pref64_discovery> {
public:
    pref64_discovery(const net::any_io_executor& ex, const connect_options& options)
        : ex_(ex),
          strand_(net::make_strand(ex)),
          dns_server_(options.dns_server),
          dns_timeout_(std::max(options.dns_timeout, std::chrono::milliseconds(1))),
          resolve_flags_(options.resolve_flags) {}

    /// Installed in the operation's cancellation slot: runs in the emitting
    /// thread, the discovery is ended on its strand.
    struct cancel_handler {
        std::weak_ptr<pref64_discovery> discovery;
        void operator()(net::cancellation_type_t type) const {
            constexpr auto ends = net::cancellation_type::terminal |
                                  net::cancellation_type::partial |
                                  net::cancellation_type::total;
            if ((type & ends) == net::cancellation_type::none) return;
            if (auto d = discovery.lock()) {
                net::post(d->strand_, [d] { d->cancel(); });
            }
        }
    };

    void launch(std::unique_ptr<pref64_completion> completion) {
        completion_ = std::move(completion);
        net::post(strand_, [self = shared_from_this()] { self->ask(); });
    }

private:
    // RFC 7050 §2: one AAAA query for ipv4only.arpa, as it is (no search list
    // can apply: the name ends in the root's "arpa").
    void ask() {
        if (done_) return;
        const std::string name(ipv4only_arpa);
        auto self = shared_from_this();
        if (dns_server_) {
            auto lookup = std::make_shared<udp_lookup>(ex_, strand_, *dns_server_, name,
                                                       Family::v6, 0, dns_timeout_);
            lookup_ = lookup;
            lookup->start([self](dns_result r) { self->on_answer(std::move(r)); });
            return;
        }
        resolver_.emplace(ex_);
        resolver_->async_resolve(
            net::ip::tcp::v6(), name, "0", resolve_flags_ | net::ip::resolver_base::numeric_service,
            net::bind_executor(strand_, [self](const error_code& ec,
                                               net::ip::tcp::resolver::results_type results) {
                self->on_system_answer(ec, results);
            }));
    }

    void on_answer(dns_result r) {
        if (r.ok && r.dns == DnsError::none) return finish({}, pref64_discovery_from_answer(r.addresses));
        finish({}, pref64_discovery_from_dns_error(r.ok ? DnsError::nodata : r.dns, r.code,
                                                   r.detail));
    }

    void on_system_answer(const error_code& ec, const net::ip::tcp::resolver::results_type& results) {
        if (done_ || ec == net::error::operation_aborted) return;
        if (!ec) {
            std::vector<Endpoint> aaaa;
            for (const auto& entry : results) {
                const Endpoint ep = from_asio(entry.endpoint());
                if (ep.family() == Family::v6) aaaa.push_back(ep);
            }
            return finish({}, pref64_discovery_from_answer(aaaa));
        }
        // getaddrinfo's "no such name" and "no address of that family" both
        // say: no AAAA for ipv4only.arpa, so no NAT64 (RFC 7050 §2).
        if (ec == net::error::host_not_found || ec == net::error::no_data) {
            return finish({}, pref64_discovery_no_aaaa());
        }
        finish({}, pref64_discovery_failed(ec.message()));
    }

    void cancel() {
        if (done_) return;
        finish(net::error::operation_aborted, pref64_discovery_failed("cancelled"));
    }

    void finish(error_code ec, Pref64Discovery result) {
        if (done_) return;
        done_ = true;
        if (auto lookup = lookup_.lock()) lookup->cancel();  // closes its socket and timer
        if (resolver_) resolver_->cancel();  // its handler comes back aborted, ignored
        if (auto completion = std::move(completion_)) completion->complete(ec, std::move(result));
    }

    net::any_io_executor ex_;
    net::strand<net::any_io_executor> strand_;
    std::optional<net::ip::udp::endpoint> dns_server_;
    std::chrono::milliseconds dns_timeout_;
    net::ip::resolver_base::flags resolve_flags_;
    std::weak_ptr<udp_lookup> lookup_;
    std::optional<net::ip::tcp::resolver> resolver_;
    std::unique_ptr<pref64_completion> completion_;
    bool done_ = false;
};

/// The async_compose implementation: its first step hands the operation to
/// the discovery; its second (posted by the discovery) completes it.
struct pref64_op {
    std::shared_ptr<pref64_discovery> state;

    template <typename Self>
    void operator()(Self& self) {
        std::shared_ptr<pref64_discovery> d = std::move(state);  // `self` must not own it
        self.reset_cancellation_state(net::enable_total_cancellation());
        net::cancellation_slot slot = self.get_cancellation_state().slot();
        if (slot.is_connected()) slot.assign(pref64_discovery::cancel_handler{d});
        d->launch(std::make_unique<pref64_completion_of<Self>>(std::move(self)));
    }

    template <typename Self>
    void operator()(Self& self, error_code ec, Pref64Discovery result) {
        self.complete(ec, std::move(result));
    }
};

template <typename Context>
inline constexpr bool is_execution_context_v =
    std::is_convertible_v<Context&, net::execution_context&>;

}  // namespace detail

/// Asynchronously discovers the network's NAT64 prefix (RFC 7050).
/**
 * This function asks DNS for the AAAA records of `ipv4only.arpa` — through
 * the DNS server named in `options` (`dns_server`, bounded by `dns_timeout`)
 * or else ip::tcp::resolver, as a race's AAAA query goes — and reads the
 * network's NAT64 prefix (Pref64::/n, RFC 6052) around the well-known
 * addresses 192.0.0.170 and 192.0.0.171 the DNS64 synthesized into the
 * answer (eyeballs/pref64_discovery.hpp). Use the prefix as Config::pref64,
 * with Config::ipv4_unavailable on an IPv6-only network. It is an initiating
 * function for an asynchronous operation, and always returns immediately.
 *
 * @param ex The I/O executor (or an execution context, for its executor) on
 * which the socket, the timer or the resolver are created.
 *
 * @param options `dns_server`, `dns_timeout` and `resolve_flags` are read;
 * the rest is not used.
 *
 * @param token The completion token; as for async_connect: a function object,
 * `asio::use_future`, `asio::use_awaitable`, `asio::deferred`. The function
 * signature of the completion handler must be:
 * @code void handler(
 *   // asio::error::operation_aborted when the operation was cancelled;
 *   // otherwise success, whatever DNS said: the result says it.
 *   std::error_code error,
 *
 *   // The prefixes found (usually one), or none and the error text: no
 *   // AAAA for ipv4only.arpa (no NAT64 on this network), a DNS failure
 *   // with its reason, an answer that embeds neither well-known address.
 *   eyeballs::Pref64Discovery result
 * ); @endcode
 * A network without NAT64 is not an error code (most networks have none), so
 * `co_await` and `use_future` throw only on cancellation. The handler is
 * never invoked from within this function, nor from within a cancellation
 * signal's emit(); its invocation is performed as by asio::post() on its
 * associated executor.
 *
 * @par Completion Signature
 * @code void(std::error_code, eyeballs::Pref64Discovery) @endcode
 *
 * @par Per-Operation Cancellation
 * This asynchronous operation supports cancellation for the following
 * asio::cancellation_type values:
 *
 * @li @c cancellation_type::terminal
 *
 * @li @c cancellation_type::partial
 *
 * @li @c cancellation_type::total
 *
 * Any of them closes the query's socket and completes the operation with
 * asio::error::operation_aborted (the result: "resolving ipv4only.arpa:
 * cancelled"). A system resolver query already running in Asio's resolver
 * thread keeps the I/O context's work count until getaddrinfo returns.
 */
template <typename Executor, typename DiscoverToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor>>>
auto async_discover_pref64(const Executor& ex, const connect_options& options,
                           DiscoverToken&& token) {
    net::any_io_executor io_ex(ex);
    auto d = std::make_shared<detail::pref64_discovery>(io_ex, options);
    return net::async_compose<DiscoverToken, void(error_code, Pref64Discovery)>(
        detail::pref64_op{std::move(d)}, token, io_ex);
}

/// As above, on an execution context's executor (an io_context).
template <typename ExecutionContext, typename DiscoverToken,
          typename = std::enable_if_t<detail::is_execution_context_v<ExecutionContext>>,
          typename = void>
auto async_discover_pref64(ExecutionContext& context, const connect_options& options,
                           DiscoverToken&& token) {
    return async_discover_pref64(context.get_executor(), options,
                                 std::forward<DiscoverToken>(token));
}

/// As above with default options: the system resolver.
template <typename ExecutorOrContext, typename DiscoverToken>
auto async_discover_pref64(ExecutorOrContext&& ex, DiscoverToken&& token)
    -> decltype(async_discover_pref64(std::forward<ExecutorOrContext>(ex), connect_options{},
                                      std::forward<DiscoverToken>(token))) {
    return async_discover_pref64(std::forward<ExecutorOrContext>(ex), connect_options{},
                                 std::forward<DiscoverToken>(token));
}
