// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — async_connect, the entry points (documented in terms of
// standalone Asio; for eyeballs::boost_asio read boost::asio for asio and
// boost::system::error_code for std::error_code).
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

template <typename T, typename = void>
struct is_endpoint_sequence : std::false_type {};

template <typename T>
struct is_endpoint_sequence<T, std::void_t<decltype(std::begin(std::declval<const T&>())),
                                           decltype(std::end(std::declval<const T&>()))>> {
    using element = decltype(*std::begin(std::declval<const T&>()));
    static constexpr bool value = std::is_convertible_v<element, net::ip::tcp::endpoint> ||
                                  std::is_convertible_v<element, Endpoint>;
};

template <typename Executor>
inline constexpr bool is_executor_v =
    net::is_executor<Executor>::value || net::execution::is_executor<Executor>::value;

/// Hands `endpoints` to the race, in order (no copy in between: two of them
/// take no allocation).
template <typename Sequence>
void set_endpoints(race& r, const Sequence& endpoints) {
    r.set_endpoints({});
    for (const auto& e : endpoints) {
        if constexpr (std::is_convertible_v<decltype(e), Endpoint>) {
            r.add_endpoint(e);
        } else {
            r.add_endpoint(from_asio(static_cast<net::ip::tcp::endpoint>(e)));
        }
    }
}

/// An IP literal (`192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`) as an endpoint.
inline std::optional<Endpoint> literal_endpoint(std::string_view host, std::uint16_t port) {
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    // A zone may be an interface name (fe80::1%eth0): looked up here.
    return Endpoint::parse_address(host, port, nullptr, interface_index);
}

/// The completion handler, kept by the race until it finishes.
template <typename Self>
class completion_of final : public race_completion {
public:
    explicit completion_of(Self&& self)
        : self_(std::move(self)), work_(net::make_work_guard(self_.get_executor())) {}

    void complete(error_code ec, net::ip::tcp::socket socket) override {
        auto ex = self_.get_executor();
        net::post(ex, [self = std::move(self_), ec, socket = std::move(socket)]() mutable {
            self(ec, std::move(socket));
        });
        work_.reset();
    }

private:
    Self self_;
    decltype(net::make_work_guard(std::declval<Self&>().get_executor())) work_;
};

/// The async_compose implementation: its first step hands the operation to the
/// race; its second (posted by the race) completes it.
struct connect_op {
    std::shared_ptr<race> state;

    template <typename Self>
    void operator()(Self& self) {
        std::shared_ptr<race> r = std::move(state);  // `self` must not own the race
        self.reset_cancellation_state(net::enable_total_cancellation());
        net::cancellation_slot slot = self.get_cancellation_state().slot();
        if (slot.is_connected()) slot.assign(race::cancel_handler{r});
        r->launch<completion_of<Self>>(std::move(self));
    }

    template <typename Self>
    void operator()(Self& self, error_code ec, net::ip::tcp::socket socket) {
        self.complete(ec, std::move(socket));
    }
};

template <typename ConnectToken>
auto start(std::shared_ptr<race> r, const net::any_io_executor& ex, ConnectToken&& token) {
    return net::async_compose<ConnectToken, void(error_code, net::ip::tcp::socket)>(
        connect_op{std::move(r)}, token, ex);
}

}  // namespace detail

/// @defgroup async_connect eyeballsasio::async_connect
///
/// @brief Asynchronously establishes a TCP connection by racing the addresses
/// of a host, or a list of endpoints, the Happy Eyeballs way (RFC 8305).

/// Asynchronously connects to one of a host's addresses, racing IPv6 and IPv4.
/**
 * This function resolves `host` (AAAA and A, one query per family, with
 * ip::tcp::resolver or the DNS server named in `options`) and races
 * connection attempts to the addresses as they arrive: IPv6 first, the
 * families interleaved, a new attempt every `config.attempt_delay` (250 ms)
 * while earlier ones keep running, the next one at once when the newest
 * fails, never two starts within `config.min_start_gap` (10 ms). When A
 * answers first, IPv6 gets `config.resolution_delay` (50 ms) to catch up.
 * The first attempt to connect wins; every other socket is closed. It is an
 * initiating function for an asynchronous operation, and always returns
 * immediately.
 *
 * An IP literal as `host` (`192.0.2.1`, `2001:db8::1`, `[2001:db8::1]`)
 * races that one address, with no DNS.
 *
 * @param ex The I/O executor on which the sockets, the timer and the
 * resolver are created, and which runs the operation (on a strand of its
 * own, so an io_context run by several threads is safe; on `ex` itself when
 * it is the executor of an io_context made for one thread, concurrency hint
 * 1, whose handlers never overlap anyway). Outstanding work is
 * kept on it and on the handler's associated executor until the handler is
 * invoked.
 *
 * @param host A host name or an IP literal.
 *
 * @param port The TCP port, in host byte order.
 *
 * @param options The race's configuration (timers, timeouts, local bind
 * candidates), the socket factory, an action observer, where to put the full
 * report, and the DNS server. Copied.
 *
 * @param token The completion token that will be used to produce a
 * completion handler, which will be called when the race ends. Potential
 * completion tokens include a function object with the correct completion
 * signature, `asio::use_future`, `asio::use_awaitable` and
 * `asio::experimental::deferred`. The function signature of the completion
 * handler must be:
 * @code void handler(
 *   // Result of operation:
 *   //  - success: the connection is established;
 *   //  - asio::error::operation_aborted: the operation was cancelled;
 *   //  - asio::error::timed_out: config.overall_timeout ended the race;
 *   //  - asio::error::host_not_found: DNS gave no address to try;
 *   //  - asio::error::invalid_argument: options.config is invalid (the
 *   //    report's message says why);
 *   //  - otherwise the errno of the failed attempts, in Asio's system
 *   //    category as Asio's own socket errors: the one they all share (e.g.
 *   //    asio::error::connection_refused), or, when they differ, the last
 *   //    attempt's (as asio::async_connect reports the last endpoint's
 *   //    error); asio::error::address_family_not_supported when no attempt
 *   //    failed with an errno (no local bind candidate of its family).
 *   std::error_code error,
 *
 *   // On success, the connected socket (on `ex`, non-blocking).
 *   // Otherwise, a socket that is not open.
 *   asio::ip::tcp::socket socket
 * ); @endcode
 * Regardless of whether the asynchronous operation completes immediately or
 * not, the completion handler will not be invoked from within this function,
 * nor from within a cancellation signal's emit(). Invocation of the handler
 * is performed in a manner equivalent to using asio::post() on the handler's
 * associated executor.
 *
 * When `options.report` is set, it receives the full RaceReport (outcome,
 * winner, every attempt with its start and end time, every error, the
 * summary) before the handler is invoked.
 *
 * @par Exceptions
 * Like Asio's own I/O objects, the initiating function throws
 * std::system_error (boost::system::system_error for Boost.Asio) when the
 * executor's execution context cannot make its reactor (the epoll, eventfd and
 * timerfd descriptors, which Asio makes with a context's first I/O object:
 * `EMFILE` when the process is out of file descriptors); nothing has started
 * then and the handler is never invoked. Once started, the race never throws:
 * a socket or DNS socket it cannot open (`EMFILE`, `ENFILE`, `ENOBUFS`) is an
 * attempt's `open` error or a resolve error in the report, and the operation
 * completes as above.
 *
 * @par Completion Signature
 * @code void(std::error_code, asio::ip::tcp::socket) @endcode
 *
 * @par Example
 * @code asio::io_context io;
 * eyeballsasio::async_connect(io.get_executor(), "example.com", 443,
 *     [](std::error_code ec, asio::ip::tcp::socket s)
 *     {
 *       if (!ec)
 *         std::cout << s.remote_endpoint() << "\n";
 *     });
 * io.run(); @endcode
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
 * Any of them ends the race at every stage (during DNS, between attempts,
 * while attempts are in flight): every socket is closed and the handler is
 * invoked with asio::error::operation_aborted. A cancellation that arrives
 * after the race has ended (its handler already posted) has no effect. Bind a
 * slot with asio::bind_cancellation_slot; use_awaitable binds the
 * coroutine's. A system resolver query already running in Asio's resolver
 * thread (getaddrinfo cannot be interrupted) keeps the I/O context's work
 * count until it returns; its answer is then ignored.
 */
template <typename Executor, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor>>>
auto async_connect(const Executor& ex, std::string_view host, std::uint16_t port,
                   const connect_options& options, ConnectToken&& token) {
    net::any_io_executor io_ex(ex);
    auto r = std::make_shared<detail::race>(io_ex, options);
    // Resolve overrides (curl's --connect-to, then --resolve) from the shared
    // helper, before any DNS.
    OverrideTarget target = apply_overrides(options.overrides, host, port);
    if (!target.addresses.empty()) {
        r->set_endpoints(std::move(target.addresses));
    } else if (auto literal = detail::literal_endpoint(target.host, target.port)) {
        r->add_endpoint(*literal);
    } else {
        r->set_host(target.host, target.port);
        detail::use_alt_svc_cache(*r, options, host, port, target);
    }
    return detail::start(std::move(r), io_ex, std::forward<ConnectToken>(token));
}

/// Asynchronously connects to one of a host's addresses with default options.
/**
 * Equivalent to `async_connect(ex, host, port, connect_options{}, token)`.
 *
 * @par Completion Signature
 * @code void(std::error_code, asio::ip::tcp::socket) @endcode
 *
 * @par Per-Operation Cancellation
 * As for the overload with options: terminal, partial and total.
 */
template <typename Executor, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor>>>
auto async_connect(const Executor& ex, std::string_view host, std::uint16_t port,
                   ConnectToken&& token) {
    return async_connect(ex, host, port, connect_options{}, std::forward<ConnectToken>(token));
}

/// Asynchronously connects to one of a list of endpoints, racing them.
/**
 * This function races connection attempts to `endpoints` (addresses mode: no
 * DNS), in the given order interleaved by family (RFC 8305 §4), with the
 * timers of `options.config`. It is an initiating function for an
 * asynchronous operation, and always returns immediately.
 *
 * @param ex As for the host-name form.
 *
 * @param endpoints A sequence of `asio::ip::tcp::endpoint`,
 * `eyeballs::Endpoint`, or anything convertible to either (e.g.
 * `asio::ip::tcp::resolver::results_type`). Each carries its own port.
 * Duplicates are kept, each is a candidate. Copied.
 *
 * @param options As for the host-name form (`dns_server`, `dns_timeout` and
 * `resolve_flags` are not used).
 *
 * @param token As for the host-name form. An empty sequence completes with
 * asio::error::not_found (as asio::async_connect does).
 *
 * @par Completion Signature
 * @code void(std::error_code, asio::ip::tcp::socket) @endcode
 *
 * @par Example
 * @code std::vector<asio::ip::tcp::endpoint> eps = {
 *     {asio::ip::make_address("2001:db8::1"), 443},
 *     {asio::ip::make_address("192.0.2.1"), 443}};
 * asio::ip::tcp::socket s = eyeballsasio::async_connect(
 *     io.get_executor(), eps, asio::use_future).get(); @endcode
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
 * Any of them closes every socket and completes the operation with
 * asio::error::operation_aborted.
 */
template <typename Executor, typename EndpointSequence, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor> &&
                                      detail::is_endpoint_sequence<EndpointSequence>::value>>
auto async_connect(const Executor& ex, const EndpointSequence& endpoints,
                   const connect_options& options, ConnectToken&& token) {
    net::any_io_executor io_ex(ex);
    auto r = std::make_shared<detail::race>(io_ex, options);
    detail::set_endpoints(*r, endpoints);
    return detail::start(std::move(r), io_ex, std::forward<ConnectToken>(token));
}

/// Asynchronously connects to one of a list of endpoints with default options.
/**
 * Equivalent to `async_connect(ex, endpoints, connect_options{}, token)`.
 *
 * @par Completion Signature
 * @code void(std::error_code, asio::ip::tcp::socket) @endcode
 *
 * @par Per-Operation Cancellation
 * As for the overload with options: terminal, partial and total.
 */
template <typename Executor, typename EndpointSequence, typename ConnectToken,
          typename = std::enable_if_t<detail::is_executor_v<Executor> &&
                                      detail::is_endpoint_sequence<EndpointSequence>::value>>
auto async_connect(const Executor& ex, const EndpointSequence& endpoints, ConnectToken&& token) {
    return async_connect(ex, endpoints, connect_options{}, std::forward<ConnectToken>(token));
}

