// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — the run loop that binds a RaceMachine to Asio.
//
// Theory of operation. One `race` object per async_connect call, owned by
// shared_ptr: every pending operation (each socket's connect, the one timer,
// each DNS query) holds a reference, so every handler finds it alive, and it
// goes away when the last of them has run. All of its work happens on a
// private strand over the caller's executor, so an io_context run by many
// threads never runs two of its handlers at once — except on an io_context
// made for one thread (concurrency hint 1: one_thread_context), whose
// handlers are serial already: there they go straight to the caller's
// executor, which saves the strand (its allocation, and a second queueing of
// every handler), and a race started from one of its handlers begins at
// once instead of by a post. The TLS layer and the UDP DNS lookups take a
// strand all the same, made when first needed (on one thread it changes
// nothing). The caller's completion handler is kept apart (`race_completion`,
// made inside the race object when it fits) and is invoked exactly once, by a
// post to the handler's associated executor — never from inside async_connect
// and never from inside a cancellation signal's emit(). Allocations a race
// makes of its own (issue 19 item 3): the race object; on one thread the
// timer's and the attempts' waits take blocks inside it (op_rooms), two
// endpoints and two sockets live in it, and a connected race copies no
// report unless options.report or TLS wants it.
//
// The loop is race_machine.hpp's:
//   1. mutate the machine: start / start_resolving (begin), an answer from
//      DNS, a connect result, the timer, a cancellation;
//   2. drain poll_action(): Resolve → one query for that family, of the
//      origin or of the action's name (an HTTPS target), or for HTTPS
//      records (Config::https: always over UDP, to `dns_server` or the
//      nameservers of /etc/resolv.conf in turn; getaddrinfo cannot ask for them);
//      OpenSocket → create the socket (factory) and answer handle_opened
//      (a QUIC attempt: EPROTONOSUPPORT, this adapter connects TCP only);
//      Bind → bind and answer handle_bound; Connect → socket.async_connect;
//      Close → close and forget the socket; Report → finish;
//   3. re-arm the one steady_timer at next_timeout() (a deadline already
//      passed still goes through the timer, so nothing runs inline);
//   4. wait; 5. feed the result with the time it happened, go to 2.
// TLS (async_connect_tls, eyeballs/asio_ssl.hpp): with a tls_layer set, the
// machine runs with Success::handshake; a connected socket moves into the
// layer, which makes its handshake and calls back on the strand (secured or
// failed, stage tls); a Close drops the attempt's stream; the Report keeps
// the winner's for the completion. Without OpenSSL nothing here needs it.
// Results for attempts the machine has closed are dropped (their sockets are
// already gone), and a timer wait made stale by a re-arm is recognised by
// its generation number.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

/// The io_context of `ex` when every handler on `ex` runs in one thread, so
/// that a race needs no strand; else nullptr. That is: `ex` is an io_context's
/// executor, and the io_context was made for one thread (its concurrency hint
/// is one the flavour calls single_threaded_hint: 1, or a hint that turns
/// locking off). Any other executor (a strand, a thread_pool's, a type-erased
/// wrapper of another kind) keeps the strand.
// A template only so that, where executor_types_known is false, its body (which
// needs typeid and any_io_executor::target_type()) is never instantiated.
template <typename Executor, typename Context = net::io_context>
Context* one_thread_context(const Executor& ex) {
    if constexpr (!executor_types_known) {
        (void)ex;
        return nullptr;
    } else {
        using plain = typename Context::executor_type;
        using tracked =  // outstanding_work.tracked
            typename Context::template basic_executor_type<std::allocator<void>, 4>;
        // target<T>() does not check the type (Asio 1.22 casts whatever it
        // holds): target_type() does.
        Context* context = nullptr;
        if (!ex) return nullptr;
        if (ex.target_type() == typeid(plain)) {
            context = &ex.template target<plain>()->context();
        } else if (ex.target_type() == typeid(tracked)) {
            context = &ex.template target<tracked>()->context();
        }
        if (context == nullptr) return nullptr;
        const int hint = net::use_service<io_context_impl>(*context).concurrency_hint();
        return single_threaded_hint(hint) ? context : nullptr;
    }
}
inline bool one_thread_executor(const net::any_io_executor& ex) {
    return one_thread_context(ex) != nullptr;
}

/// The type-erased completion handler of one race.
class race_completion {
public:
    virtual ~race_completion() = default;
    /// Posts the handler's invocation to its associated executor.
    virtual void complete(error_code ec, net::ip::tcp::socket socket) = 0;
};

using race_strand = net::strand<net::any_io_executor>;

/// The TLS half of a race (implemented by eyeballs/asio_ssl.hpp over
/// ssl::stream): one handshake per connected attempt.
class tls_layer {
public:
    virtual ~tls_layer() = default;
    /// Takes attempt `id`'s connected socket and starts its handshake; calls
    /// `done(code, reason)` on `strand` when it ends (code 0: secured; else an
    /// errno value and OpenSSL's reason), unless the attempt was dropped.
    virtual void start(AttemptId id, net::ip::tcp::socket socket, const Endpoint& remote,
                       const Service* service, race_strand& strand,
                       std::function<void(int code, std::string reason)> done) = 0;
    /// The attempt is closed: its stream is closed and forgotten.
    virtual void drop(AttemptId id) = 0;
    /// The attempt won: its stream is kept for the completion, and what was
    /// negotiated goes into the report.
    virtual void keep(AttemptId id, RaceReport& report) = 0;
    /// The race is over: every stream but the kept one is closed.
    virtual void drop_all() = 0;
};

/// The attempts' sockets by attempt number: the first two inside the race
/// object (a race of one or two attempts allocates nothing for them), the
/// others one allocation each. An engaged slot is an attempt not yet closed.
class socket_slots {
public:
    using socket = net::ip::tcp::socket;
    /// Slot `n` (1, 2, …), made empty when new.
    std::optional<socket>& make(std::uint32_t n) {
        if (n <= first_.size()) return first_[n - 1];
        const std::size_t i = n - 1 - first_.size();
        while (rest_.size() <= i) rest_.push_back(std::make_unique<std::optional<socket>>());
        return *rest_[i];
    }
    /// Slot `n`, or nullptr when it was never made.
    std::optional<socket>* find(std::uint32_t n) {
        if (n == 0) return nullptr;
        if (n <= first_.size()) return &first_[n - 1];
        const std::size_t i = n - 1 - first_.size();
        return i < rest_.size() ? rest_[i].get() : nullptr;
    }
    template <typename F>
    void for_each(F&& f) {
        for (auto& s : first_) f(s);
        for (auto& s : rest_) f(*s);
    }

private:
    std::array<std::optional<socket>, 2> first_;
    std::vector<std::unique_ptr<std::optional<socket>>> rest_;
};

/// The endpoints of an addresses-mode race: up to two inside the race object
/// (a race of [::1] and 127.0.0.1 allocates nothing for them), more in a
/// vector.
class endpoint_list {
public:
    void push_back(const Endpoint& e) {
        if (rest_.empty() && size_ < first_.size()) {
            first_[size_++] = e;
            return;
        }
        if (rest_.empty()) rest_.assign(first_.begin(), first_.begin() + size_);
        rest_.push_back(e);
        size_ = rest_.size();
    }
    void assign(std::vector<Endpoint> endpoints) {
        rest_ = std::move(endpoints);
        size_ = rest_.size();
    }
    const Endpoint* data() const noexcept { return rest_.empty() ? first_.data() : rest_.data(); }
    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }

private:
    std::array<Endpoint, 2> first_{};
    std::size_t size_ = 0;
    std::vector<Endpoint> rest_;  // all of them, when there are more than two
};

/// Memory for the race's own pending operations (the timer's wait, each
/// attempt's wait for writability), on an io_context made for one thread:
/// Asio allocates an operation through its handler's associated allocator,
/// and frees it before the handler runs, so a few blocks inside the race
/// serve a whole race; Asio's own per-thread cache keeps two blocks for a
/// whole io_context, which a burst of races outgrows at once. A request that
/// is too large, or finds every block taken, goes to operator new. Not
/// thread-safe: only handlers of a one-thread io_context use it (a handler
/// holds the race, so the blocks outlive every operation in them).
/// Sizes, Asio 1.22 on x86-64: a timer wait 136 bytes, a socket wait 152; a
/// race of two attempts has at most two at once. Two blocks, not three: the
/// third made no allocation fewer in the bench and cost 0.05 page faults
/// per race (bench/peers/counts.py), the scarcer resource.
class op_rooms {
public:
    static constexpr std::size_t block_size = 160;
    static constexpr std::size_t blocks = 2;

    void* allocate(std::size_t size, std::size_t align) {
        if (size <= block_size && align <= alignof(std::max_align_t)) {
            for (std::size_t i = 0; i < blocks; ++i) {
                if (!used_[i]) {
                    used_[i] = true;
                    return &room_[i];
                }
            }
        }
        if (align <= alignof(std::max_align_t)) return ::operator new(size);
        return ::operator new(size, std::align_val_t(align));
    }
    void deallocate(void* p, std::size_t size, std::size_t align) noexcept {
        for (std::size_t i = 0; i < blocks; ++i) {
            if (p == &room_[i]) {
                used_[i] = false;
                return;
            }
        }
        (void)size;  // unsized: clang makes no sized operator delete by default
        if (align <= alignof(std::max_align_t)) return ::operator delete(p);
        ::operator delete(p, std::align_val_t(align));
    }

private:
    struct alignas(std::max_align_t) block {
        unsigned char bytes[block_size];
    };
    std::array<block, blocks> room_;
    std::array<bool, blocks> used_{};
};

/// The allocator a handler in an op_rooms hands to Asio.
template <typename T>
class op_room_allocator {
public:
    using value_type = T;
    explicit op_room_allocator(op_rooms* rooms) noexcept : rooms_(rooms) {}
    template <typename U>
    op_room_allocator(const op_room_allocator<U>& other) noexcept : rooms_(other.rooms_) {}
    T* allocate(std::size_t n) { return static_cast<T*>(rooms_->allocate(n * sizeof(T), alignof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { rooms_->deallocate(p, n * sizeof(T), alignof(T)); }
    friend bool operator==(const op_room_allocator& a, const op_room_allocator& b) noexcept {
        return a.rooms_ == b.rooms_;
    }
    friend bool operator!=(const op_room_allocator& a, const op_room_allocator& b) noexcept {
        return a.rooms_ != b.rooms_;
    }

private:
    template <typename U>
    friend class op_room_allocator;
    op_rooms* rooms_;
};

/// A handler whose operation Asio allocates in the race's op_rooms.
template <typename Handler>
struct in_op_room {
    using allocator_type = op_room_allocator<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(rooms); }
    template <typename... Args>
    void operator()(Args&&... args) {
        handler(std::forward<Args>(args)...);
    }
    op_rooms* rooms;
    Handler handler;
};

/// Deletes the race's completion: in place when it was made inside the race.
struct completion_deleter {
    bool inside = false;
    void operator()(race_completion* c) const noexcept {
        if (inside) {
            c->~race_completion();
        } else {
            delete c;
        }
    }
};

class race : public std::enable_shared_from_this<race> {
public:
    using clock = std::chrono::steady_clock;
    using strand_type = race_strand;

    race(const net::any_io_executor& ex, connect_options options)
        : ex_(ex),
          one_thread_(one_thread_context(ex)),
          options_(std::move(options)),
          machine_(options_.config),
          timer_(ex) {
        // Made here, before any other thread can see the race; on one thread
        // only when TLS or a UDP lookup first needs it (strand()).
        if (one_thread_ == nullptr) strand_.emplace(net::make_strand(ex_));
    }

    /// Addresses mode.
    void set_endpoints(std::vector<Endpoint> endpoints) {
        dns_mode_ = false;
        endpoints_.assign(std::move(endpoints));
    }
    /// Addresses mode, one endpoint more (in the caller's order).
    void add_endpoint(const Endpoint& endpoint) {
        dns_mode_ = false;
        endpoints_.push_back(endpoint);
    }
    /// DNS mode.
    void set_host(std::string host, std::uint16_t port) {
        dns_mode_ = true;
        host_ = std::move(host);
        port_ = port;
        if (options_.config.https && port != 0) {
            // Records without port= and target names use the origin's port.
            options_.config.port = port;
            remake_machine([port](Config& c) { c.port = port; });
        }
    }

    /// TLS: the race is won by a handshake the layer makes (call before launch).
    void set_tls(std::shared_ptr<tls_layer> layer) {
        tls_ = std::move(layer);
        options_.config.success = Success::handshake;  // v3 §6.1
        remake_machine([](Config& c) { c.success = Success::handshake; });
    }
    /// The machine again, before the race starts, with one setting changed.
    /// From the machine's own Config, which holds the race's history-explore
    /// decision (v3 §5.3): a Config from options_ would take a second race
    /// ticket from the History for the same race.
    template <typename Change>
    void remake_machine(Change change) {
        Config c = machine_.config();
        change(c);
        machine_ = RaceMachine(std::move(c));
    }
    /// A misuse found before the race (a TLS context that cannot be made):
    /// the operation completes with invalid_argument and this message.
    void set_misuse(std::string message) { misuse_ = std::move(message); }

    /// Called once from the initiation: keeps the completion and starts the
    /// race on the strand; on an io_context made for one thread, inline when
    /// called from a handler of that io_context (its thread: nothing else can
    /// run meanwhile), which saves a post per race. The completion is posted
    /// all the same, never invoked from here.
    template <typename Completion, typename... Args>
    void launch(Args&&... args) {
        static_assert(std::is_base_of_v<race_completion, Completion>);
        if constexpr (sizeof(Completion) <= sizeof(completion_room_) &&
                      alignof(Completion) <= alignof(std::max_align_t)) {
            // Inside the race: one allocation less per race. The completion
            // does not own the race (connect_op gives its reference away).
            completion_ = completion_ptr(new (completion_room_) Completion(std::forward<Args>(args)...),
                                         completion_deleter{true});
        } else {
            completion_ = completion_ptr(new Completion(std::forward<Args>(args)...));
        }
        if (one_thread_ != nullptr && one_thread_->get_executor().running_in_this_thread()) {
            return begin();
        }
        later([self = shared_from_this()] { self->begin(); });
    }

    /// Installed in the operation's cancellation slot. Runs in the thread that
    /// emits; the race itself is cancelled on the strand.
    struct cancel_handler {
        std::weak_ptr<race> target;
        void operator()(net::cancellation_type_t type) const {
            constexpr auto ends = net::cancellation_type::terminal |
                                  net::cancellation_type::partial |
                                  net::cancellation_type::total;
            if ((type & ends) == net::cancellation_type::none) return;
            if (auto self = target.lock()) {
                self->later([self] { self->cancel(); });
            }
        }
    };

private:
    // ---- 1. inputs ---------------------------------------------------------

    void begin() {
        const auto now = clock::now();
        if (misuse_) return fail_misuse(now, *misuse_);
        if (options_.config.success != Success::connect && !tls_) {
            return fail_misuse(now,
                               "success=handshake needs a TLS handshake: use async_connect_tls "
                               "(<eyeballs/asio_ssl.hpp>), which makes it with OpenSSL");
        }
        const Status status =
            dns_mode_ ? machine_.start_resolving(now) : machine_.start(now, endpoints_.data(), endpoints_.size());
        if (!status.ok()) return fail_misuse(now, status.message());
        drain(now);
    }

    void cancel() {
        if (done_) return;
        const auto now = clock::now();
        machine_.cancel(now);
        drain(now);
    }

    /// The answer to a Resolve action (`name` is its name: "" = the origin).
    /// `qname`: the name asked, given with connect_options::dns_cache only.
    void on_resolved(Family family, bool https, const std::string& name, dns_result result,
                     const std::string& qname = {}) {
        if (done_) return;
        const auto now = clock::now();
        const Resolve query(family, https, name);
        if (result.wire && !qname.empty()) remember(now, query, qname, result);
        if (https && result.ok) {
            machine_.handle_https(now, query, result.records);
        } else if (!https && result.ok && !result.addresses.empty()) {
            machine_.handle_resolved(now, query, result.addresses);
        } else if (result.dns != DnsError::none) {
            machine_.handle_resolve_failed(now, query, result.dns, result.code, result.detail);
        } else {
            machine_.handle_resolve_failed(now, query, result.code, result.detail);
        }
        drain(now);
    }

    /// A stale cached answer, raced while its query is out
    /// (connect_options::dns_cache, v3 §4.4): addresses, or for the HTTPS
    /// question its records.
    void on_stale(Family family, bool https, const std::string& name, const dns_result& r) {
        if (done_) return;
        const auto now = clock::now();
        if (https) {
            machine_.handle_stale_https(now, Resolve(Family::v6, true, name), r.records);
        } else {
            machine_.handle_stale(now, Resolve(family, false, name), r.addresses);
        }
        drain(now);
    }

    // connect_options::dns_cache: what the adapter's own client brought back
    // is kept for later races. Positive answers are stored with their TTL (an
    // empty HTTPS answer forgets); NODATA and NXDOMAIN for addresses forget
    // the entry; failures (SERVFAIL, timeouts, ...) keep it, so a stale
    // answer can still be raced next time (RFC 8767).
    void remember(clock::time_point now, const Resolve& query, const std::string& qname,
                  const dns_result& result) {
        DnsCache& cache = *options_.dns_cache;
        if (query.https) {
            if (result.ok) cache.store_https(qname, result.records, result.ttl, now);
        } else if (result.ok) {
            cache.store(qname, query.family, result.addresses, result.ttl, now);
        } else {
            cache.record_failure(qname, DnsCache::type_of(query), result.dns);
        }
    }

    // connect_options::dns_cache: answers the question from the cache when it
    // can. A fresh answer is posted to the race like any answer, and true
    // returned: no query is sent. A stale answer (HTTPS mode only: an RFC
    // 8305 race takes one answer per question) is posted for handle_stale
    // (addresses) or handle_stale_https (records) and false returned, so the
    // query still goes out.
    bool answer_from_cache(clock::time_point now, const Resolve& a, const std::string& qname) {
        DnsCache::Answer hit =
            options_.dns_cache->lookup_for_race(qname, a, machine_.config().https, now);
        if (hit.state == DnsCache::State::missing) return false;
        const bool fresh = hit.state == DnsCache::State::fresh;
        const bool stale = !fresh;
        dns_result r;
        r.ok = true;  // not `wire`: not stored again
        r.records = std::move(hit.records);
        for (const Endpoint& e : hit.addresses) r.addresses.push_back(e.with_port(port_));
        later([self = shared_from_this(), family = a.family, https = a.https,
               name = std::string(a.name), stale, r = std::move(r)]() mutable {
            if (stale) return self->on_stale(family, https, name, r);
            self->on_resolved(family, https, name, std::move(r));
        });
        return fresh;
    }

    void on_system_resolved(Family family, const std::string& name, const error_code& ec,
                            const net::ip::tcp::resolver::results_type& results) {
        if (done_ || ec == net::error::operation_aborted) return;
        dns_result r;
        if (!ec) {
            r.ok = true;
            for (const auto& entry : results) {
                const Endpoint ep = from_asio(entry.endpoint());
                if (ep.family() == family) r.addresses.push_back(ep);
            }
        } else if (ec == net::error::no_data) {
            // "no data": code 0, no detail
        } else if (ec.category() == net::error::get_system_category() ||
                   ec.category() == system_category()) {
            r.code = ec.value();  // EAI_SYSTEM: an errno value
        } else {
            r.detail = ec.message();
        }
        on_resolved(family, false, name, std::move(r));
    }

    void on_connected(AttemptId id, const error_code& ec) {
        if (done_ || socket_of(id) == nullptr) return;  // closed: its result is stale
        const auto now = clock::now();
        if (!ec) {
            machine_.handle_connected(now, id);
            if (tls_ && !machine_.finished()) start_tls(id);
        } else {
            machine_.handle_connect_failed(now, id, errno_value(ec));
        }
        drain(now);
    }

    void start_tls(AttemptId id) {
        auto& socket = *sockets_.find(id.number());
        const connect_target& target = targets_[id.number()];
        // The socket moves into the stream; its empty shell stays here until
        // the Close, so that a late result can still be recognised as stale.
        tls_->start(id, std::move(*socket), target.remote, target.service, strand(),
                    [self = shared_from_this(), id](int code, std::string reason) {
                        self->on_secured(id, code, std::move(reason));
                    });
    }

    void on_secured(AttemptId id, int code, std::string reason) {
        if (done_ || socket_of(id) == nullptr) return;  // closed meanwhile
        const auto now = clock::now();
        if (code == 0) {
            machine_.handle_secured(now, id);
        } else {
            machine_.handle_secure_failed(now, id, code, reason);
        }
        drain(now);
    }

    void on_timer(std::uint64_t generation, const error_code& ec) {
        if (done_ || generation != timer_generation_ || ec == net::error::operation_aborted) {
            return;
        }
        armed_.reset();
        const auto now = clock::now();
        machine_.handle_timeout(now);
        drain(now);
    }

    // ---- 2. actions --------------------------------------------------------

    void drain(clock::time_point now) {
        while (!done_) {
            std::optional<Action> action = machine_.poll_action();
            if (!action) break;
            if (options_.on_action) options_.on_action(now, *action, machine_);
            std::visit([this, now](const auto& a) { perform(now, a); }, *action);
        }
        if (!done_) rearm();
    }

    void perform(clock::time_point now, const Resolve& a) {
        const Family family = a.family;
        const bool https = a.https;
        std::string name(a.name);  // the machine's view: keep a copy
        const std::string qname = query_name(a, host_);  // RFC 9460 §9.1 prefix for HTTPS
        if (options_.dns_cache != nullptr && answer_from_cache(now, a, qname)) return;
        auto self = shared_from_this();
        // An explicit dns_server is asked alone; resolv.conf's nameservers
        // (HTTPS only) in order, each when the one before gave no answer.
        std::vector<net::ip::udp::endpoint> servers;
        if (options_.dns_server) {
            servers.push_back(*options_.dns_server);
        } else if (https) {
            servers = resolv_conf_nameservers();
        }
        if (https && servers.empty()) {
            dns_result r;
            r.detail = "HTTPS query: no DNS server to ask (connect_options::dns_server is unset "
                       "and /etc/resolv.conf names none)";
            later([self, family, name, r = std::move(r)]() mutable {
                self->on_resolved(family, true, name, std::move(r));
            });
            return;
        }
        if (!servers.empty()) {
            auto lookup = std::make_shared<udp_lookup>(ex_, strand(), std::move(servers), qname,
                                                       family, port_, options_.dns_timeout, https);
            lookups_.push_back(lookup);
            if (lookups_.size() > 16) {  // forget those that have finished
                lookups_.erase(std::remove_if(lookups_.begin(), lookups_.end(),
                                              [](const auto& w) { return w.expired(); }),
                               lookups_.end());
            }
            // The name asked is the cache's key; copied only when there is one.
            std::string key = options_.dns_cache != nullptr ? qname : std::string();
            lookup->start([self, family, https, name, key = std::move(key)](dns_result r) {
                self->on_resolved(family, https, name, std::move(r), key);
            });
            return;
        }
        if (!resolver_) resolver_.emplace(ex_);
        const auto protocol = family == Family::v6 ? net::ip::tcp::v6() : net::ip::tcp::v4();
        const auto flags = options_.resolve_flags | net::ip::resolver_base::numeric_service;
        start_op(
            [&](auto handler) {
                resolver_->async_resolve(protocol, qname, std::to_string(port_), flags,
                                         std::move(handler));
            },
            [self, family, name](const error_code& ec,
                                 net::ip::tcp::resolver::results_type results) {
                self->on_system_resolved(family, name, ec, results);
            });
    }

    void perform(clock::time_point now, const OpenSocket& a) {
        if (a.protocol != Protocol::tcp) {
            // TCP only: a QUIC attempt (Config::quic) is the caller's to make.
            machine_.handle_opened(now, a.attempt, EPROTONOSUPPORT);
            return;
        }
        std::optional<net::ip::tcp::socket>& slot = sockets_.make(a.attempt.number());
        auto* socket = &slot.emplace(ex_);
        const auto remote = to_asio_endpoint(a.remote);
        error_code ec =
            options_.open_socket ? options_.open_socket(*socket, remote) : open_default(*socket, remote);
        if (!ec && !socket->is_open()) ec = error_code(EBADF, generic_category());
        if (ec) {
            error_code ignored;
            socket->close(ignored);  // a factory may have opened it before failing
            slot.reset();
            machine_.handle_opened(now, a.attempt, errno_value(ec));
            return;
        }
        machine_.handle_opened(now, a.attempt, 0);
    }

    void perform(clock::time_point now, const Bind& a) {
        error_code ec;
        if (auto* socket = socket_of(a.attempt)) {
            socket->bind(to_asio_endpoint(a.local), ec);
        } else {
            ec = error_code(EBADF, generic_category());
        }
        machine_.handle_bound(now, a.attempt, errno_value(ec));
    }

    void perform(clock::time_point now, const Connect& a) {
        auto* socket = socket_of(a.attempt);
        if (socket == nullptr) {
            machine_.handle_connect_failed(now, a.attempt, EBADF);
            return;
        }
        const AttemptId id = a.attempt;
        if (tls_) targets_[id.number()] = connect_target{a.remote, a.service};  // for TLS
#if defined(__linux__)
        if (adopts_own_sockets && !options_.open_socket) {
            return own_connect(*socket, id, to_asio_endpoint(a.remote));
        }
#endif
        const auto remote = to_asio_endpoint(a.remote);
        start_op([&](auto handler) { socket->async_connect(remote, std::move(handler)); },
                 [self = shared_from_this(), id](const error_code& ec) {
                     self->on_connected(id, ec);
                 });
    }

#if defined(__linux__)
    // The default opener's sockets (non-blocking, not shared) are connected
    // here, not by socket.async_connect: connect(2), then a wait for
    // writability, then connect_state — one getsockopt where Asio's connect
    // operation makes a poll(2) and a getsockopt. Results always arrive
    // through the strand, never inline (the machine is being drained).
    void own_connect(net::ip::tcp::socket& socket, AttemptId id,
                     const net::ip::tcp::endpoint& remote) {
        const int rc = ::connect(socket.native_handle(), remote.data(),
                                 static_cast<socklen_t>(remote.size()));
        const int err = rc == 0 ? 0 : errno;
        if (err == EINPROGRESS || err == EINTR) {  // EINTR: it goes on in the background
            return wait_connected(socket, id);
        }
        later([self = shared_from_this(), id, err] {
            self->on_connected(id, err == 0 ? error_code()
                                            : error_code(err, net::error::get_system_category()));
        });
    }

    void wait_connected(net::ip::tcp::socket& socket, AttemptId id) {
        start_room_op(
            [&](auto handler) { socket.async_wait(net::socket_base::wait_write, std::move(handler)); },
            [self = shared_from_this(), id](const error_code& ec) { self->on_writable(id, ec); });
    }

    void on_writable(AttemptId id, const error_code& ec) {
        auto* socket = socket_of(id);
        if (done_ || socket == nullptr) return;  // closed: its result is stale
        if (ec) return on_connected(id, ec);
        int err = 0;
        switch (asio_detail::connect_state(socket->native_handle(), err)) {
            case asio_detail::connect_progress::in_progress:
                return wait_connected(*socket, id);  // a spurious wake-up: wait again
            case asio_detail::connect_progress::connected:
                return on_connected(id, error_code());
            case asio_detail::connect_progress::failed:
                return on_connected(id, error_code(err, net::error::get_system_category()));
        }
    }
#endif

    void perform(clock::time_point, const Close& a) {
        const std::uint32_t n = a.attempt.number();
        auto* slot = sockets_.find(n);
        if (slot == nullptr || !*slot) return;
        error_code ignored;
        (*slot)->close(ignored);  // its pending connect ends with operation_aborted
        slot->reset();
        if (tls_) tls_->drop(a.attempt);
    }

    void perform(clock::time_point now, const Report& a) { finish(now, a); }
    // Config::ech needs success=tls, which this adapter refuses: never comes.
    void perform(clock::time_point, const CryptoReady&) {}

    // ---- 3. the timer ------------------------------------------------------

    void rearm() {
        const std::optional<TimePoint> next = machine_.next_timeout();
        if (next == armed_) return;
        ++timer_generation_;
        armed_ = next;
        if (!next) {
            timer_.cancel();
            return;
        }
        timer_.expires_at(*next);  // cancels the previous wait
        start_room_op([this](auto handler) { timer_.async_wait(std::move(handler)); },
                      [self = shared_from_this(), generation = timer_generation_](
                          const error_code& ec) { self->on_timer(generation, ec); });
    }

    // ---- the end -----------------------------------------------------------

    void finish(clock::time_point, const Report& a) {
        done_ = true;
        // A connected race needs its report only for options.report and the
        // TLS layer (completion_error() of a connected report is success):
        // report() copies every attempt and error, two allocations a race.
        const bool needs_report =
            a.outcome != Outcome::connected || options_.report != nullptr || tls_ != nullptr;
        RaceReport report = needs_report ? machine_.report() : RaceReport{};
        if (!needs_report) report.outcome = Outcome::connected;
        net::ip::tcp::socket winner(ex_);
        if (a.outcome == Outcome::connected) {
            const std::uint32_t n = a.winner.number();
            if (auto* slot = sockets_.find(n); slot != nullptr && *slot) {
                winner = std::move(**slot);
                slot->reset();
            }
            if (tls_) tls_->keep(a.winner, report);  // the socket is in its stream
        }
        const error_code ec = completion_error(report);
        complete(ec, std::move(winner), std::move(report));
    }

    void fail_misuse(clock::time_point now, const std::string& message) {
        done_ = true;
        RaceReport report = machine_.report();
        report.outcome = Outcome::failed;
        report.code = EINVAL;
        report.message = message;
        report.started = now;
        report.finished = now;
        const error_code ec = !dns_mode_ && endpoints_.empty()
                                       ? error_code(net::error::not_found)
                                       : error_code(net::error::invalid_argument);
        complete(ec, net::ip::tcp::socket(ex_), std::move(report));
    }

    void complete(error_code ec, net::ip::tcp::socket socket, RaceReport report) {
        ++timer_generation_;
        armed_.reset();
        timer_.cancel();
        if (resolver_) resolver_->cancel();
        for (auto& weak : lookups_) {
            if (auto lookup = weak.lock()) lookup->cancel();
        }
        lookups_.clear();
        // The machine closes every socket but the winner before it reports;
        // whatever is left here is closed all the same, so nothing leaks.
        sockets_.for_each([](std::optional<net::ip::tcp::socket>& s) {
            if (s) {
                error_code ignored;
                s->close(ignored);
                s.reset();
            }
        });
        if (tls_) tls_->drop_all();
        if (options_.report) *options_.report = std::move(report);
        auto completion = std::move(completion_);
        if (completion) completion->complete(ec, std::move(socket));
    }

    // ---- helpers -----------------------------------------------------------

    /// Runs `f` later, never inline: on the strand, or on the caller's
    /// executor when that runs on one thread.
    template <typename F>
    void later(F&& f) {
        if (one_thread_ != nullptr) {
            net::post(ex_, std::forward<F>(f));
        } else {
            net::post(strand(), std::forward<F>(f));
        }
    }

    /// Starts an operation (`start(handler)`) whose `handler` runs on the
    /// strand, or, on one thread, on the I/O object's executor (ex_: every
    /// socket, the timer and the resolver are made on it).
    template <typename Start, typename Handler>
    void start_op(Start&& start, Handler&& handler) {
        if (one_thread_ != nullptr) {
            std::forward<Start>(start)(std::forward<Handler>(handler));
        } else {
            std::forward<Start>(start)(net::bind_executor(strand(), std::forward<Handler>(handler)));
        }
    }

    /// start_op() for the race's own waits (the timer, writability): on one
    /// thread, the operation is allocated in op_rooms_.
    template <typename Start, typename Handler>
    void start_room_op(Start&& start, Handler&& handler) {
        if (one_thread_ != nullptr) {
            std::forward<Start>(start)(
                in_op_room<std::decay_t<Handler>>{&op_rooms_, std::forward<Handler>(handler)});
        } else {
            start_op(std::forward<Start>(start), std::forward<Handler>(handler));
        }
    }

    /// The race's strand (on one thread: made when first needed, by a handler).
    strand_type& strand() {
        if (!strand_) strand_.emplace(net::make_strand(ex_));
        return *strand_;
    }

    net::ip::tcp::socket* socket_of(AttemptId id) {
        const std::uint32_t n = id.number();
        auto* slot = sockets_.find(n);
        return slot != nullptr && *slot ? &**slot : nullptr;
    }

    static error_code open_default(net::ip::tcp::socket& socket,
                                        const net::ip::tcp::endpoint& remote) {
        error_code ec;
#if defined(SOCK_CLOEXEC)
        // With a reactive backend the socket is made non-blocking here and
        // Asio is told so (adopt_own_socket): no FIONBIO ioctl at the
        // connect, no epoll_ctl(DEL) at the close. A factory's socket is left
        // to Asio (it may be a dup, or blocking).
#if defined(SOCK_NONBLOCK)
        constexpr int non_blocking = adopts_own_sockets ? SOCK_NONBLOCK : 0;
#else
        constexpr int non_blocking = 0;  // adopts_own_sockets is false then
#endif
        const int type = SOCK_STREAM | SOCK_CLOEXEC | non_blocking;
        const int fd = ::socket(remote.protocol().family(), type, remote.protocol().protocol());
        if (fd < 0) return {errno, net::error::get_system_category()};
        socket.assign(remote.protocol(), fd, ec);
        if (ec) {
            ::close(fd);
        } else {
            adopt_own_socket(socket);
        }
#else
        socket.open(remote.protocol(), ec);
#endif
        return ec;
    }

    net::any_io_executor ex_;
    // ex_'s io_context when that runs on one thread (one_thread_context): no
    // strand needed; else nullptr.
    net::io_context* one_thread_;
    std::optional<strand_type> strand_;
    connect_options options_;
    RaceMachine machine_;
    bool dns_mode_ = false;
    bool done_ = false;
    endpoint_list endpoints_;
    std::string host_;
    std::uint16_t port_ = 0;

    std::optional<net::ip::tcp::resolver> resolver_;
    // Every UDP query made, to cancel them at the end. Weak: a lookup is
    // owned by its pending handlers and owns its callback, which owns this
    // race (dns.ipp, "Ownership"); a strong reference here would be a cycle
    // that outlives a destroyed io_context.
    std::vector<std::weak_ptr<udp_lookup>> lookups_;
    socket_slots sockets_;
    net::steady_timer timer_;
    std::optional<TimePoint> armed_;
    std::uint64_t timer_generation_ = 0;
    using completion_ptr = std::unique_ptr<race_completion, completion_deleter>;
    completion_ptr completion_;
    // Room for the completion (launch()): the composed operation with the
    // caller's handler and two work guards.
    alignas(std::max_align_t) unsigned char completion_room_[256];
    // The blocks of the timer's and the attempts' pending waits (one thread).
    op_rooms op_rooms_;
    std::shared_ptr<tls_layer> tls_;
    std::optional<std::string> misuse_;
    struct connect_target {
        Endpoint remote;
        const Service* service = nullptr;  // its ALPN set (HTTPS records); the machine's
    };
    std::map<std::uint32_t, connect_target> targets_;  // by attempt number, with TLS
};

}  // namespace detail
