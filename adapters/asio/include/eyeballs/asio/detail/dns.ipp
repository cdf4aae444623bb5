// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — a tiny DNS client over UDP (and TCP), for
// `connect_options::dns_server`.
//
// Asio's ip::tcp::resolver asks the system (getaddrinfo), which reads
// /etc/resolv.conf and cannot be pointed at another server. When the caller
// names a server, the adapter asks it itself: one query per family (AAAA for
// IPv6, A for IPv4, recursion desired, an EDNS0 OPT record offering 1232
// octets, RFC 6891; eyeballs/dns_message.hpp writes it and reads the answer,
// CNAME chains included), sent from a connected UDP socket. The schedule is
// the one all three adapters share (docs in options.hpp, `dns_timeout`):
// sent at 0, resent 1 s later and then at doubling intervals (at 1 s and 3 s
// with the default 5 s) until `timeout`, when the family fails (ETIMEDOUT,
// DnsError::timeout). An ICMP "port unreachable" (ECONNREFUSED on the
// connected socket) fails the family at once.
//
// A lookup may be given several servers (the nameservers of resolv.conf,
// IPv6 first, for HTTPS queries without `dns_server`): each gets an equal
// share of `timeout` with the same schedule inside it, and a server that
// gives no answer in its share, or an ICMP error, leaves the query to the
// next one (a fresh socket, the same message). Any answer ends the lookup.
//
// A truncated answer (TC) is retried over TCP to the same server (RFC 7766
// §5; RFC 1035 §4.2.2: a 2-octet length, then the message), with the same
// query and id, within what is left of `timeout`; if that fails too the
// family fails as DnsError::truncated. Answers are read by dns_outcome()
// (eyeballs/dns_message.hpp): NXDOMAIN, NODATA, SERVFAIL/REFUSED/other
// RCODEs, a malformed message and an A/AAAA record whose RDATA does not fit
// its type each give their DnsError, the same as in the poll and libevent
// adapters.
//
// HTTPS records (Happy Eyeballs v3): the same client asks for type 65 when
// told to (udp_lookup's `https`). NOERROR gives the records (none = NODATA);
// NXDOMAIN, SERVFAIL and the rest fail the query.
//
// Ownership (Asio's rule: destroying the io_context destroys the pending
// handlers and what they own): a lookup is owned only by its pending
// handlers (each holds a shared_ptr to it), and it owns the completion
// callback, which owns the race. The race keeps weak_ptrs to its lookups (to
// cancel them), so there is no cycle: when the context is destroyed with a
// query pending, the handlers go, then the lookup (its sockets closed), then
// the callback and the race. Everything runs on the race's strand.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

/// What one family's query gave: addresses (possibly none = no data) or an
/// error (`code` an errno value or 0, `detail` a text, as
/// RaceMachine::handle_resolve_failed takes them).
struct dns_result {
    bool ok = false;
    DnsError dns = DnsError::none;  ///< the class of a failure (eyeballs/error.hpp)
    std::vector<Endpoint> addresses;
    std::vector<SvcbRecord> records;  ///< an HTTPS query's answer
    /// Read off the wire by dns_read_answer(), so `ttl` and `dns` are exact
    /// and the answer may go into connect_options::dns_cache (the system
    /// resolver's have no TTL; a timeout is no answer).
    bool wire = false;
    std::uint32_t ttl = 0;  ///< the answer's TTL in seconds (wire only)
    int code = 0;
    std::string detail;
};

inline constexpr std::uint16_t dns_type_a = dns_type::a;
inline constexpr std::uint16_t dns_type_aaaa = dns_type::aaaa;

inline std::uint16_t dns_type_of(Family f) noexcept {
    return f == Family::v6 ? dns_type_aaaa : dns_type_a;
}

/// The query packet for `host` (a trailing dot is allowed), or an empty vector
/// and a message in `error` when the name cannot be sent (empty label, label
/// over 63 bytes, name over 253). Built by eyeballs/dns_message.hpp, with an
/// EDNS0 OPT record offering 1232 octets (dns_default_udp_size).
inline std::vector<std::uint8_t> dns_build_query(std::uint16_t id, std::string_view host,
                                                 Family family, std::string& error) {
    std::string why;
    auto query = build_dns_query(id, host, dns_type_of(family), &why);
    if (!query) {
        error = "bad host name '" + std::string(host) + "': " + why;
        return {};
    }
    return std::move(*query);
}

/// Reads the answer to query `query` (the packet we sent) with
/// parse_dns_response() and dns_outcome(). Returns nullopt when `p` is not
/// that answer (wrong id, not a response, another question, too short): the
/// caller keeps waiting. `truncated` is set (and the result is the
/// DnsError::truncated failure) when TC is set: the caller retries over TCP.
/// `port` goes into every address.
inline std::optional<dns_result> dns_read_answer(const std::uint8_t* p, std::size_t size,
                                                 const std::vector<std::uint8_t>& query,
                                                 std::uint16_t qtype, std::uint16_t port,
                                                 bool* truncated = nullptr) {
    const std::optional<DnsQuestion> question = parse_dns_question(query.data(), query.size());
    if (!question) return std::nullopt;
    DnsResponse answer = parse_dns_response(p, size, question->id, question->name, qtype);
    if (answer.status == DnsResponse::Status::mismatch) return std::nullopt;
    if (truncated != nullptr) *truncated = answer.ok() && answer.truncated;
    DnsOutcome outcome = dns_outcome(answer, qtype);
    dns_result r;
    r.wire = true;
    r.ttl = answer.ttl;
    if (outcome.dns == DnsError::none) {
        r.ok = true;
        if (qtype == dns_type::https || qtype == dns_type::svcb) {
            name_dot_targets(answer);  // "." after a CNAME is its target
            r.records = std::move(answer.svcb);
        } else {
            for (const Endpoint& e : answer.addresses) r.addresses.push_back(e.with_port(port));
        }
        return r;
    }
    if (outcome.dns == DnsError::nodata) r.ok = true;  // no records: a negative answer
    r.dns = outcome.dns;
    r.detail = std::move(outcome.detail);
    return r;
}

/// As dns_read_answer() for an A or AAAA query.
inline std::optional<dns_result> dns_parse_response(const std::uint8_t* p, std::size_t size,
                                                    const std::vector<std::uint8_t>& query,
                                                    Family family, std::uint16_t port) {
    return dns_read_answer(p, size, query, dns_type_of(family), port);
}

/// As dns_read_answer() for an HTTPS query.
inline std::optional<dns_result> dns_parse_https_response(const std::uint8_t* p, std::size_t size,
                                                          const std::vector<std::uint8_t>& query) {
    return dns_read_answer(p, size, query, dns_type::https, 0);
}

/// One query (a family's addresses, or HTTPS records) to one server after
/// another until one answers, over UDP and, after a truncated answer, over
/// TCP to the server that gave it.
class udp_lookup : public std::enable_shared_from_this<udp_lookup> {
public:
    using strand_type = net::strand<net::any_io_executor>;
    using callback = std::function<void(dns_result)>;

    udp_lookup(const net::any_io_executor& ex, strand_type strand,
               net::ip::udp::endpoint server, std::string host, Family family,
               std::uint16_t port, std::chrono::milliseconds timeout, bool https = false)
        : udp_lookup(ex, std::move(strand), std::vector<net::ip::udp::endpoint>{server},
                     std::move(host), family, port, timeout, https) {}

    /// Asks `servers` (not empty) in turn, each for timeout / servers.size().
    udp_lookup(const net::any_io_executor& ex, strand_type strand,
               std::vector<net::ip::udp::endpoint> servers, std::string host, Family family,
               std::uint16_t port, std::chrono::milliseconds timeout, bool https = false)
        : strand_(std::move(strand)),
          socket_(ex),
          tcp_(ex),
          timer_(ex),
          servers_(std::move(servers)),
          server_(servers_.front()),
          host_(std::move(host)),
          family_(family),
          port_(port),
          timeout_(timeout),
          share_(std::max(timeout / static_cast<std::chrono::milliseconds::rep>(servers_.size()),
                          std::chrono::milliseconds(1))),
          https_(https) {}

    /// Sends the query; `done` is called once (on the strand, never from
    /// inside start) unless cancel() comes first. `done` is owned by the
    /// lookup, which is owned by its pending handlers only.
    void start(callback done) {
        done_ = std::move(done);
        std::string error;
        if (https_) {
            auto q = build_dns_query(random_id(), host_, dns_type::https, &error);
            if (q) query_ = std::move(*q);
            if (!q) error = "bad host name '" + host_ + "': " + error;
        } else {
            query_ = dns_build_query(random_id(), host_, family_, error);
        }
        if (query_.empty()) return fail_later(EINVAL, error);
        const error_code ec = ask(0);
        if (ec) return fail_later(errno_value(ec), {});
    }

    /// Stops at once; the callback is never called.
    void cancel() {
        done_ = nullptr;
        close_all();
    }

private:
    std::uint16_t qtype() const noexcept { return https_ ? dns_type::https : dns_type_of(family_); }

    static std::uint16_t random_id() {
        static thread_local std::minstd_rand gen(std::random_device{}());
        return static_cast<std::uint16_t>(gen());
    }
    // Opens a socket to servers_[index] (or the first one after it that takes
    // it), sends, and waits its share. The error of the last server tried
    // when none does.
    error_code ask(std::size_t index) {
        error_code ec;
        for (; index < servers_.size(); ++index) {
            ec = {};
            server_index_ = index;
            server_ = servers_[index];
            ++generation_;  // the handlers of the server before are stale
            error_code ignored;
            timer_.cancel();
            socket_.close(ignored);
            socket_.open(server_.protocol(), ec);
            if (!ec) socket_.connect(server_, ec);
            if (!ec) break;
        }
        if (ec) return ec;
        deadline_ = std::chrono::steady_clock::now() + share_;
        interval_ = std::chrono::seconds(1);
        send();
        receive();
        arm(std::chrono::steady_clock::now() + interval_);
        return {};
    }

    // The server gave no answer: the next one, or `r` when it was the last.
    void no_answer(dns_result r) {
        if (server_index_ + 1 < servers_.size()) {
            const error_code ec = ask(server_index_ + 1);
            if (!ec) return;
            r.code = errno_value(ec);
            r.dns = DnsError::none;
            r.detail = "DNS server " + server_.address().to_string() + ": " + ec.message();
        }
        finish(std::move(r));
    }

    void fail_later(int code, std::string detail) {
        dns_result r;
        r.code = code;
        r.detail = std::move(detail);
        net::post(strand_, [self = shared_from_this(), r = std::move(r)]() mutable {
            self->finish(std::move(r));
        });
    }

    void close_all() {
        error_code ignored;
        timer_.cancel();
        socket_.close(ignored);
        tcp_.close(ignored);
    }

    void finish(dns_result r) {
        if (!done_) return;
        callback done = std::move(done_);
        done_ = nullptr;
        close_all();
        done(std::move(r));
    }

    void send() {
        error_code ec;
        socket_.send(net::buffer(query_), 0, ec);  // UDP: never waits for long
        // A send error (ECONNREFUSED from an earlier ICMP, ENETUNREACH) shows
        // up again on receive, or the timeout fires; nothing to do here.
    }

    void receive() {
        socket_.async_receive(
            net::buffer(buffer_),
            net::bind_executor(strand_, [self = shared_from_this(), gen = generation_](
                                            error_code ec, std::size_t n) {
                if (gen == self->generation_) self->on_receive(ec, n);
            }));
    }

    void on_receive(error_code ec, std::size_t n) {
        if (!done_ || tcp_mode_) return;
        if (ec == net::error::operation_aborted) return;
        if (ec) {  // an ICMP error of the connected socket (ECONNREFUSED, ...)
            dns_result r;
            r.code = errno_value(ec);
            r.detail = "DNS server " + server_.address().to_string() + ": " + ec.message();
            return no_answer(std::move(r));
        }
        bool truncated = false;
        if (auto r = dns_read_answer(buffer_.data(), n, query_, qtype(), port_, &truncated)) {
            if (truncated) return start_tcp(std::move(*r));
            return finish(std::move(*r));
        }
        receive();  // not our answer: keep listening
    }

    // ---- TCP, after TC (RFC 7766 §5) ----------------------------------------

    void start_tcp(dns_result truncated) {
        tcp_mode_ = true;
        truncated_ = std::move(truncated);
        error_code ignored;
        socket_.close(ignored);  // no more UDP: its pending receive ends aborted
        timer_.cancel();
        arm(deadline_);
        const net::ip::tcp::endpoint server(server_.address(), server_.port());
        tcp_.async_connect(server, net::bind_executor(strand_, [self = shared_from_this()](
                                                                      error_code ec) {
                               self->on_tcp_connected(ec);
                           }));
    }

    void tcp_failed(const error_code& ec, const char* step) {
        dns_result r = std::move(truncated_);
        r.ok = false;
        r.dns = DnsError::truncated;
        r.detail = std::string("TC set; the retry over TCP failed to ") + step + ": " + ec.message();
        finish(std::move(r));
    }

    void on_tcp_connected(error_code ec) {
        if (!done_ || ec == net::error::operation_aborted) return;
        if (ec) return tcp_failed(ec, "connect");
        tcp_out_.clear();
        tcp_out_.push_back(static_cast<std::uint8_t>(query_.size() >> 8));
        tcp_out_.push_back(static_cast<std::uint8_t>(query_.size() & 0xff));
        tcp_out_.insert(tcp_out_.end(), query_.begin(), query_.end());
        net::async_write(tcp_, net::buffer(tcp_out_),
                            net::bind_executor(strand_, [self = shared_from_this()](
                                                               error_code e, std::size_t) {
                                self->on_tcp_written(e);
                            }));
    }

    void on_tcp_written(error_code ec) {
        if (!done_ || ec == net::error::operation_aborted) return;
        if (ec) return tcp_failed(ec, "send");
        net::async_read(tcp_, net::buffer(tcp_length_),
                           net::bind_executor(strand_, [self = shared_from_this()](
                                                              error_code e, std::size_t) {
                               self->on_tcp_length(e);
                           }));
    }

    void on_tcp_length(error_code ec) {
        if (!done_ || ec == net::error::operation_aborted) return;
        if (ec) return tcp_failed(ec, "read the length");
        const std::size_t length = (std::size_t{tcp_length_[0]} << 8) | tcp_length_[1];
        tcp_in_.assign(length, 0);
        net::async_read(tcp_, net::buffer(tcp_in_),
                           net::bind_executor(strand_, [self = shared_from_this()](
                                                              error_code e, std::size_t) {
                               self->on_tcp_message(e);
                           }));
    }

    void on_tcp_message(error_code ec) {
        if (!done_ || ec == net::error::operation_aborted) return;
        if (ec) return tcp_failed(ec, "read the answer");
        bool truncated = false;
        auto r = dns_read_answer(tcp_in_.data(), tcp_in_.size(), query_, qtype(), port_, &truncated);
        if (!r) {
            // Over TCP the answer is the next message (RFC 7766 §7: one query
            // on this connection): one that does not match is unusable.
            dns_result bad;
            bad.dns = DnsError::malformed;
            bad.detail = "the answer over TCP does not match the query";
            return finish(std::move(bad));
        }
        finish(std::move(*r));  // TC again over TCP: dns_outcome says truncated
    }

    // ---- the timer ----------------------------------------------------------

    void arm(std::chrono::steady_clock::time_point at) {
        if (at > deadline_) at = deadline_;
        timer_.expires_at(at);
        timer_.async_wait(net::bind_executor(
            strand_, [self = shared_from_this(), gen = generation_](error_code ec) {
                if (gen == self->generation_) self->on_timer(ec);
            }));
    }

    void on_timer(error_code ec) {
        if (!done_ || ec == net::error::operation_aborted) return;
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline_) {
            if (tcp_mode_) return tcp_failed(net::error::timed_out, "answer in time");
            dns_result r;
            r.code = ETIMEDOUT;
            r.dns = DnsError::timeout;
            r.detail = "no answer within " + std::to_string(timeout_.count()) + " ms";
            if (servers_.size() > 1) {
                r.detail += " from " + std::to_string(servers_.size()) + " DNS servers";
            }
            return no_answer(std::move(r));
        }
        if (tcp_mode_) return arm(deadline_);
        send();
        interval_ *= 2;
        arm(now + interval_);
    }

    strand_type strand_;
    net::ip::udp::socket socket_;
    net::ip::tcp::socket tcp_;
    net::steady_timer timer_;
    std::vector<net::ip::udp::endpoint> servers_;
    net::ip::udp::endpoint server_;  // servers_[server_index_]
    std::size_t server_index_ = 0;
    unsigned generation_ = 0;  // bumped per server: older handlers are ignored
    std::string host_;
    Family family_;
    std::uint16_t port_;
    std::chrono::milliseconds timeout_;  // over every server
    std::chrono::milliseconds share_;    // each server's
    bool https_ = false;
    bool tcp_mode_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    std::chrono::seconds interval_{1};
    std::vector<std::uint8_t> query_;
    // An EDNS0 answer may be as long as a datagram can be (the server may
    // ignore the 1232 we offer); shorter reads would cut it.
    std::array<std::uint8_t, 65536> buffer_{};
    dns_result truncated_;
    std::vector<std::uint8_t> tcp_out_;
    std::array<std::uint8_t, 2> tcp_length_{};
    std::vector<std::uint8_t> tcp_in_;
    callback done_;
};

}  // namespace detail
