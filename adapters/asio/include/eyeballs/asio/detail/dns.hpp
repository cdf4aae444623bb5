// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — a tiny DNS client over UDP, for `connect_options::dns_server`.
//
// Asio's ip::tcp::resolver asks the system (getaddrinfo), which reads
// /etc/resolv.conf and cannot be pointed at another server. When the caller
// names a server, the adapter asks it itself: one query per family (AAAA for
// IPv6, A for IPv4, recursion desired, no EDNS; eyeballs/dns_message.hpp
// writes it and reads the answer, CNAME chains included), sent from a connected UDP
// socket, resent 1 s later and then at doubling intervals (at 1 s and 3 s
// with a 5 s timeout) until `timeout`, when the family fails with ETIMEDOUT. No TCP fallback: a
// truncated answer is used as far as it goes. An ICMP "port unreachable"
// (ECONNREFUSED on the connected socket) fails the family at once.
//
// HTTPS records (Happy Eyeballs v3): the same client asks for type 65 when
// told to (udp_lookup's `https`), with an EDNS0 OPT record offering 1232
// octets (answers with ECH configs outgrow 512). NOERROR gives the records
// (none = NODATA); NXDOMAIN, SERVFAIL and the rest fail the query.
//
// Everything here runs on the race's strand; the lookup keeps itself alive
// (shared_from_this) while one of its operations is pending.
#pragma once

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/ip/udp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>

#include "eyeballs/asio/detail/error.hpp"
#include "eyeballs/dns_message.hpp"
#include "eyeballs/endpoint.hpp"

namespace eyeballs::asio::detail {

/// What one family's query gave: addresses (possibly none = no data) or an
/// error (`code` an errno value or 0, `detail` a text, as
/// RaceMachine::handle_resolve_failed takes them).
struct dns_result {
    bool ok = false;
    std::vector<Endpoint> addresses;
    std::vector<SvcbRecord> records;  ///< an HTTPS query's answer
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
/// over 63 bytes, name over 253). Built by eyeballs/dns_message.hpp, without
/// EDNS: an A or AAAA answer fits the 512 octets of plain DNS.
inline std::vector<std::uint8_t> dns_build_query(std::uint16_t id, std::string_view host,
                                                 Family family, std::string& error) {
    std::string why;
    auto query = build_dns_query(id, host, dns_type_of(family), &why, 0);
    if (!query) {
        error = "bad host name '" + std::string(host) + "': " + why;
        return {};
    }
    return std::move(*query);
}

/// Reads the answer to query `query` (the packet we sent) with
/// parse_dns_response(). Returns nullopt when `p` is not that answer (wrong
/// id, not a response, another question, too short): the caller keeps
/// waiting. An answer that is ours but malformed fails the family (code 0,
/// the parser's message); a truncated one (TC) is used as far as it goes.
/// `port` goes into every address.
inline std::optional<dns_result> dns_parse_response(const std::uint8_t* p, std::size_t size,
                                                    const std::vector<std::uint8_t>& query,
                                                    Family family, std::uint16_t port) {
    const std::optional<DnsQuestion> question = parse_dns_question(query.data(), query.size());
    if (!question) return std::nullopt;
    const DnsResponse answer =
        parse_dns_response(p, size, question->id, question->name, dns_type_of(family));
    if (answer.status == DnsResponse::Status::mismatch) return std::nullopt;
    dns_result r;
    if (!answer.ok()) {
        r.detail = "bad DNS answer: " + answer.error;
        return r;
    }
    if (answer.rcode == dns_rcode::nxdomain) {
        r.detail = "host not found (NXDOMAIN)";
        return r;
    }
    if (answer.rcode == dns_rcode::servfail) {
        r.detail = "server failure (SERVFAIL)";
        return r;
    }
    if (answer.rcode != dns_rcode::noerror) {
        r.detail = "DNS error, rcode " + std::to_string(answer.rcode);
        return r;
    }
    r.ok = true;
    for (const Endpoint& e : answer.addresses) r.addresses.push_back(e.with_port(port));
    return r;
}

/// Reads the answer to the HTTPS query `query` (the packet we sent), as
/// dns_parse_response() does for addresses: nullopt when it is not that
/// answer; ok with the records (none = NODATA); otherwise a failure. A
/// ServiceMode "." reached through a CNAME means the CNAME's target.
inline std::optional<dns_result> dns_parse_https_response(const std::uint8_t* p, std::size_t size,
                                                          const std::vector<std::uint8_t>& query) {
    const std::optional<DnsQuestion> question = parse_dns_question(query.data(), query.size());
    if (!question) return std::nullopt;
    DnsResponse answer = parse_dns_response(p, size, question->id, question->name, dns_type::https);
    if (answer.status == DnsResponse::Status::mismatch) return std::nullopt;
    dns_result r;
    if (!answer.ok()) {
        r.detail = "bad DNS answer: " + answer.error;
        return r;
    }
    if (answer.rcode != dns_rcode::noerror) {
        r.detail = "HTTPS query: " + dns_rcode_name(answer.rcode);
        return r;
    }
    r.ok = true;
    name_dot_targets(answer);  // "." after a CNAME is its target
    r.records = std::move(answer.svcb);
    return r;
}

/// One query (a family's addresses, or HTTPS records) to one server.
class udp_lookup : public std::enable_shared_from_this<udp_lookup> {
public:
    using strand_type = ::asio::strand<::asio::any_io_executor>;
    using callback = std::function<void(dns_result)>;

    udp_lookup(const ::asio::any_io_executor& ex, strand_type strand,
               ::asio::ip::udp::endpoint server, std::string host, Family family,
               std::uint16_t port, std::chrono::milliseconds timeout, bool https = false)
        : strand_(std::move(strand)),
          socket_(ex),
          timer_(ex),
          server_(server),
          host_(std::move(host)),
          family_(family),
          port_(port),
          timeout_(timeout),
          https_(https) {}

    /// Sends the query; `done` is called once (on the strand, never from
    /// inside start) unless cancel() comes first.
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
        std::error_code ec;
        socket_.open(server_.protocol(), ec);
        if (!ec) socket_.connect(server_, ec);
        if (ec) return fail_later(errno_value(ec), {});
        deadline_ = std::chrono::steady_clock::now() + timeout_;
        send();
        receive();
        arm(std::chrono::steady_clock::now() + std::chrono::seconds(1));
    }

    /// Stops at once; the callback is never called.
    void cancel() {
        done_ = nullptr;
        std::error_code ignored;
        timer_.cancel();
        socket_.close(ignored);
    }

private:
    static std::uint16_t random_id() {
        static thread_local std::minstd_rand gen(std::random_device{}());
        return static_cast<std::uint16_t>(gen());
    }
    void fail_later(int code, std::string detail) {
        dns_result r;
        r.code = code;
        r.detail = std::move(detail);
        ::asio::post(strand_, [self = shared_from_this(), r = std::move(r)]() mutable {
            self->finish(std::move(r));
        });
    }

    void finish(dns_result r) {
        if (!done_) return;
        callback done = std::move(done_);
        done_ = nullptr;
        std::error_code ignored;
        timer_.cancel();
        socket_.close(ignored);
        done(std::move(r));
    }

    void send() {
        std::error_code ec;
        socket_.send(::asio::buffer(query_), 0, ec);  // UDP: never waits for long
        // A send error (ECONNREFUSED from an earlier ICMP, ENETUNREACH) shows
        // up again on receive, or the timeout fires; nothing to do here.
    }

    void receive() {
        socket_.async_receive(
            ::asio::buffer(buffer_), ::asio::bind_executor(strand_, [self = shared_from_this()](
                                                                        std::error_code ec,
                                                                        std::size_t n) {
                self->on_receive(ec, n);
            }));
    }

    void on_receive(std::error_code ec, std::size_t n) {
        if (!done_) return;
        if (ec == ::asio::error::operation_aborted) return;
        if (ec) {
            dns_result r;
            r.code = errno_value(ec);
            return finish(std::move(r));
        }
        if (auto r = https_ ? dns_parse_https_response(buffer_.data(), n, query_)
                            : dns_parse_response(buffer_.data(), n, query_, family_, port_)) {
            return finish(std::move(*r));
        }
        receive();  // not our answer: keep listening
    }

    void arm(std::chrono::steady_clock::time_point at) {
        if (at > deadline_) at = deadline_;
        timer_.expires_at(at);
        timer_.async_wait(::asio::bind_executor(
            strand_, [self = shared_from_this()](std::error_code ec) { self->on_timer(ec); }));
    }

    void on_timer(std::error_code ec) {
        if (!done_ || ec == ::asio::error::operation_aborted) return;
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline_) {
            dns_result r;
            r.code = ETIMEDOUT;
            r.detail = "no answer from " + server_.address().to_string();
            return finish(std::move(r));
        }
        send();
        interval_ *= 2;
        arm(now + interval_);
    }

    strand_type strand_;
    ::asio::ip::udp::socket socket_;
    ::asio::steady_timer timer_;
    ::asio::ip::udp::endpoint server_;
    std::string host_;
    Family family_;
    std::uint16_t port_;
    std::chrono::milliseconds timeout_;
    bool https_ = false;
    std::chrono::steady_clock::time_point deadline_{};
    std::chrono::seconds interval_{1};
    std::vector<std::uint8_t> query_;
    std::array<std::uint8_t, 1500> buffer_{};
    callback done_;
};

}  // namespace eyeballs::asio::detail
