// SPDX-License-Identifier: BSL-1.0
// eyeballs integration-test support: a tiny UDP DNS server on 127.0.0.1.
//
// It answers one-question queries (what c-ares, evdns and the adapters send:
// AAAA, A, HTTPS) from the tables set by the test, after the chosen delay,
// from the server's own thread — over UDP, and over TCP on the same port
// (RFC 7766: a 2-octet length, then the message; one query per connection)
// for clients retrying after TC. An answer too long for the query's EDNS0
// size (512 octets without OPT) goes out over UDP with TC and no records. The messages are read and written by
// eyeballs/dns_message.hpp (parse_dns_question, build_dns_response).
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "eyeballs/dns_message.hpp"
#include "eyeballs/posix.hpp"
#include "support.hpp"

namespace eyeballs::test {
namespace {

// The UDP payload size a query offers: its OPT record's CLASS (RFC 6891
// §6.1.2; our queries and c-ares' put the OPT last), else 512.
std::size_t udp_limit(const std::uint8_t* q, std::size_t n) {
    if (n >= 12 + 11 && ((q[10] << 8) | q[11]) >= 1) {
        const std::uint8_t* opt = q + n - 11;
        if (opt[0] == 0 && ((opt[1] << 8) | opt[2]) == dns_type::opt) {
            return std::max<std::size_t>(512, static_cast<std::size_t>((opt[3] << 8) | opt[4]));
        }
    }
    return 512;
}

std::string normalize(std::string name) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!name.empty() && name.back() == '.') name.pop_back();
    return name;
}

}  // namespace

DnsServer::Answer DnsServer::Answer::with(std::vector<Endpoint> addresses, Millis delay) {
    return Answer{Kind::addresses, std::move(addresses), delay, {}, {}, false};
}
DnsServer::Answer DnsServer::Answer::https(std::vector<SvcbRecord> records, Millis delay) {
    return Answer{Kind::records, {}, delay, std::move(records), {}, false};
}
DnsServer::Answer DnsServer::Answer::https_text(const std::vector<std::string>& presentation,
                                                Millis delay) {
    std::vector<SvcbRecord> records;
    for (const std::string& text : presentation) {
        std::string error;
        auto r = parse_svcb_presentation(text, &error);
        if (!r) throw std::invalid_argument("dns server: HTTPS record '" + text + "': " + error);
        records.push_back(std::move(*r));
    }
    return https(std::move(records), delay);
}
DnsServer::Answer DnsServer::Answer::nodata(Millis delay) { return Answer{Kind::nodata, {}, delay, {}, {}, false}; }
DnsServer::Answer DnsServer::Answer::nxdomain(Millis delay) {
    return Answer{Kind::nxdomain, {}, delay, {}, {}, false};
}
DnsServer::Answer DnsServer::Answer::servfail(Millis delay) {
    return Answer{Kind::servfail, {}, delay, {}, {}, false};
}
DnsServer::Answer DnsServer::Answer::silent() { return Answer{Kind::silent, {}, Millis(0), {}, {}, false}; }
DnsServer::Answer DnsServer::Answer::refused(Millis delay) {
    return Answer{Kind::refused, {}, delay, {}, {}, false};
}
DnsServer::Answer DnsServer::Answer::bytes(RawFn fn) {
    Answer a;
    a.kind = Kind::raw;
    a.raw = std::move(fn);
    return a;
}

DnsServer::DnsServer() : DnsServer(loopback_v4(0)) {}

DnsServer::DnsServer(const Endpoint& at) {
    // A UDP port whose TCP twin is free too (the TCP retry after TC uses the
    // same port): try a few kernel-chosen ports (or just `at`'s port).
    const int domain = at.family() == Family::v6 ? AF_INET6 : AF_INET;
    for (int attempt = 0;; ++attempt) {
        int fd = ::socket(domain, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) throw std::runtime_error(std::string("dns server: socket: ") + std::strerror(errno));
        sock_.reset(fd);
        sockaddr_storage ss;
        socklen_t len = to_sockaddr(at, ss);
        if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
            throw std::runtime_error(std::string("dns server: bind: ") + std::strerror(errno));
        }
        endpoint_ = bound_endpoint(fd);
        int t = ::socket(domain, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (t < 0) throw std::runtime_error(std::string("dns server: socket: ") + std::strerror(errno));
        tcp_.reset(t);
        const int one = 1;
        ::setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        len = to_sockaddr(endpoint_, ss);
        if (::bind(t, reinterpret_cast<sockaddr*>(&ss), len) == 0 && ::listen(t, 16) == 0) break;
        if (errno != EADDRINUSE || attempt >= 50 || at.port() != 0) {
            throw std::runtime_error(std::string("dns server: TCP on the UDP port: ") +
                                     std::strerror(errno));
        }
    }
    wake_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wake_) throw std::runtime_error(std::string("dns server: eventfd: ") + std::strerror(errno));
    thread_ = std::thread([this] { run(); });
}

DnsServer::~DnsServer() {
    stop_ = true;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_.get(), &one, sizeof one);
    thread_.join();
}

void DnsServer::set(const std::string& name, Family family, Answer answer) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string key = normalize(name);
    names_[key] = true;
    table_[{key, family}] = std::move(answer);
}

void DnsServer::set_https(const std::string& name, Answer answer) {
    std::lock_guard<std::mutex> lock(mu_);
    std::string key = normalize(name);
    names_[key] = true;
    https_table_[key] = std::move(answer);
}

std::vector<DnsServer::Query> DnsServer::queries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
}

std::vector<DnsServer::Query> DnsServer::wait_for_queries(std::size_t count,
                                                          std::chrono::milliseconds limit) const {
    // The server reads on its own thread: a query sent just before the race
    // ended may not have been read yet when the test looks.
    const auto until = std::chrono::steady_clock::now() + limit;
    for (;;) {
        std::vector<Query> qs = queries();
        if (qs.size() >= count || std::chrono::steady_clock::now() >= until) return qs;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
}

void DnsServer::run() {
    using clock = std::chrono::steady_clock;
    while (!stop_) {
        timespec ts{};
        timespec* tsp = nullptr;
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (!pending_.empty()) {
                auto due = std::min_element(pending_.begin(), pending_.end(),
                                            [](const Pending& a, const Pending& b) {
                                                return a.due < b.due;
                                            })->due;
                auto left = std::max(due - clock::now(), clock::duration::zero());
                auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
                ts.tv_sec = static_cast<time_t>(ns / 1000000000);
                ts.tv_nsec = static_cast<long>(ns % 1000000000);
                tsp = &ts;
            }
        }
        pollfd pfds[3] = {{sock_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
        int n = ::ppoll(pfds, 3, tsp, nullptr);
        if (n < 0 && errno != EINTR) break;
        if (n > 0 && (pfds[2].revents & POLLIN) != 0) serve_tcp();
        if (n > 0 && (pfds[0].revents & POLLIN) != 0) {
            for (;;) {
                std::uint8_t buf[4096];
                sockaddr_storage peer;
                socklen_t plen = sizeof peer;
                ssize_t got = ::recvfrom(sock_.get(), buf, sizeof buf, 0,
                                         reinterpret_cast<sockaddr*>(&peer), &plen);
                if (got < 0) break;
                on_packet(buf, static_cast<std::size_t>(got), &peer, plen);
            }
        }
        // Send whatever is due.
        std::vector<Pending> due;
        {
            std::lock_guard<std::mutex> lock(mu_);
            auto now = clock::now();
            auto it = std::stable_partition(pending_.begin(), pending_.end(),
                                            [&](const Pending& p) { return p.due > now; });
            due.assign(std::make_move_iterator(it), std::make_move_iterator(pending_.end()));
            pending_.erase(it, pending_.end());
        }
        for (const Pending& p : due) {
            ::sendto(sock_.get(), p.packet.data(), p.packet.size(), 0,
                     reinterpret_cast<const sockaddr*>(p.peer.data()),
                     static_cast<socklen_t>(p.peer.size()));
        }
    }
}

void DnsServer::serve_tcp() {
    for (;;) {
        Fd c(::accept4(tcp_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!c) return;
        ++tcp_count_;
        timeval tv{1, 0};  // a client that sends nothing does not hold the server
        ::setsockopt(c.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        auto read_all = [&](std::uint8_t* p, std::size_t n) {
            while (n > 0) {
                const ssize_t got = ::recv(c.get(), p, n, 0);
                if (got <= 0) return false;
                p += got;
                n -= static_cast<std::size_t>(got);
            }
            return true;
        };
        std::uint8_t len[2];
        if (!read_all(len, 2)) continue;
        std::vector<std::uint8_t> query(static_cast<std::size_t>((len[0] << 8) | len[1]));
        if (!read_all(query.data(), query.size())) continue;
        Millis delay{0};
        auto out = respond(query.data(), query.size(), true, &delay);
        if (!out || out->size() > 65535) continue;
        std::vector<std::uint8_t> framed{static_cast<std::uint8_t>(out->size() >> 8),
                                         static_cast<std::uint8_t>(out->size() & 0xff)};
        framed.insert(framed.end(), out->begin(), out->end());
        std::size_t sent = 0;
        while (sent < framed.size()) {
            const ssize_t w = ::send(c.get(), framed.data() + sent, framed.size() - sent, MSG_NOSIGNAL);
            if (w <= 0) break;
            sent += static_cast<std::size_t>(w);
        }
    }
}

void DnsServer::on_packet(const std::uint8_t* data, std::size_t size, const void* peer,
                          unsigned peer_len) {
    auto now = std::chrono::steady_clock::now();
    Millis delay{0};
    auto out = respond(data, size, false, &delay);
    if (!out) return;
    std::lock_guard<std::mutex> lock(mu_);
    const auto* pb = static_cast<const std::uint8_t*>(peer);
    pending_.push_back(Pending{now + delay, std::move(*out),
                               std::vector<std::uint8_t>(pb, pb + peer_len)});
}

std::optional<std::vector<std::uint8_t>> DnsServer::respond(const std::uint8_t* data,
                                                            std::size_t size, bool tcp,
                                                            Millis* delay) {
    auto now = std::chrono::steady_clock::now();
    const std::optional<DnsQuestion> question = parse_dns_question(data, size);
    if (!question || question->is_response()) return std::nullopt;  // one question, or ignore
    const std::string name = normalize(question->name);
    const std::uint16_t qtype = question->type;
    Family family = qtype == dns_type::aaaa ? Family::v6 : Family::v4;

    Answer answer = Answer::nxdomain();
    {
        std::lock_guard<std::mutex> lock(mu_);
        queries_.push_back(Query{name, family, qtype, now});
        if (names_.count(name) != 0) {
            answer = Answer::nodata();
            if (qtype == dns_type::a || qtype == dns_type::aaaa) {
                auto it = table_.find({name, family});
                if (it != table_.end()) answer = it->second;
            } else if (qtype == dns_type::https) {
                auto it = https_table_.find(name);
                if (it != https_table_.end()) answer = it->second;
            }
        }
    }
    *delay = answer.delay;
    if (answer.kind == Answer::Kind::silent) return std::nullopt;
    if (answer.kind == Answer::Kind::raw) {
        std::vector<std::uint8_t> bytes = answer.raw ? answer.raw(data, size, tcp)
                                                     : std::vector<std::uint8_t>{};
        if (bytes.empty()) return std::nullopt;
        return bytes;
    }

    DnsResponseContent content;
    if (answer.kind == Answer::Kind::nxdomain) content.rcode = dns_rcode::nxdomain;
    if (answer.kind == Answer::Kind::servfail) content.rcode = dns_rcode::servfail;
    if (answer.kind == Answer::Kind::refused) content.rcode = dns_rcode::refused;
    if (answer.kind == Answer::Kind::addresses && qtype != dns_type::https) {
        for (const Endpoint& e : answer.addresses) {
            if (e.family() == family) content.addresses.push_back(e);
        }
    }
    if (answer.kind == Answer::Kind::records && qtype == dns_type::https) content.svcb = answer.records;
    std::string error;
    std::optional<std::vector<std::uint8_t>> out = build_dns_response(data, size, content, &error);
    if (!out) {
        // A record the test set that cannot be written: answer SERVFAIL so the
        // test sees a failure rather than a timeout.
        content = DnsResponseContent{};
        content.rcode = dns_rcode::servfail;
        out = build_dns_response(data, size, content, &error);
        if (!out) return std::nullopt;
    }
    if (!tcp && (answer.truncate_udp || out->size() > udp_limit(data, size))) {
        DnsResponseContent cut;
        cut.rcode = content.rcode;
        cut.truncated = true;
        out = build_dns_response(data, size, cut, &error);
        if (!out) return std::nullopt;
    }
    return out;
}

}  // namespace eyeballs::test
