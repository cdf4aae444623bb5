// eyeballs integration-test support: a tiny UDP DNS server on 127.0.0.1.
//
// It understands exactly what c-ares sends for ares_getaddrinfo: one question,
// QTYPE AAAA (28) or A (1), class IN. Answers are built from the table set by
// the test and sent after the chosen delay from the server's own thread.
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

#include "eyeballs/posix.hpp"
#include "support.hpp"

namespace eyeballs::test {
namespace {

constexpr std::uint16_t type_a = 1;
constexpr std::uint16_t type_aaaa = 28;
constexpr std::uint16_t rcode_servfail = 2;
constexpr std::uint16_t rcode_nxdomain = 3;

std::uint16_t get16(const std::uint8_t* p) {
    return static_cast<std::uint16_t>((p[0] << 8) | p[1]);
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

std::string normalize(std::string name) {
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!name.empty() && name.back() == '.') name.pop_back();
    return name;
}

}  // namespace

DnsServer::Answer DnsServer::Answer::with(std::vector<Endpoint> addresses, Millis delay) {
    return Answer{Kind::addresses, std::move(addresses), delay};
}
DnsServer::Answer DnsServer::Answer::nodata(Millis delay) { return Answer{Kind::nodata, {}, delay}; }
DnsServer::Answer DnsServer::Answer::nxdomain(Millis delay) {
    return Answer{Kind::nxdomain, {}, delay};
}
DnsServer::Answer DnsServer::Answer::servfail(Millis delay) {
    return Answer{Kind::servfail, {}, delay};
}
DnsServer::Answer DnsServer::Answer::silent() { return Answer{Kind::silent, {}, Millis(0)}; }

DnsServer::DnsServer() {
    int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) throw std::runtime_error(std::string("dns server: socket: ") + std::strerror(errno));
    sock_.reset(fd);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(loopback_v4(0), ss);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        throw std::runtime_error(std::string("dns server: bind: ") + std::strerror(errno));
    }
    endpoint_ = bound_endpoint(fd);
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

std::vector<DnsServer::Query> DnsServer::queries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
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
        pollfd pfds[2] = {{sock_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
        int n = ::ppoll(pfds, 2, tsp, nullptr);
        if (n < 0 && errno != EINTR) break;
        if (n > 0 && (pfds[0].revents & POLLIN) != 0) {
            for (;;) {
                std::uint8_t buf[1500];
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

void DnsServer::on_packet(const std::uint8_t* data, std::size_t size, const void* peer,
                          unsigned peer_len) {
    auto now = std::chrono::steady_clock::now();
    if (size < 12 || get16(data + 4) != 1) return;  // one question, or ignore
    // QNAME: uncompressed labels.
    std::size_t pos = 12;
    std::string name;
    while (pos < size && data[pos] != 0) {
        std::size_t label = data[pos];
        if ((label & 0xc0) != 0 || pos + 1 + label > size) return;
        if (!name.empty()) name += '.';
        name.append(reinterpret_cast<const char*>(data + pos + 1), label);
        pos += 1 + label;
    }
    if (pos + 5 > size) return;
    pos += 1;  // the root label
    std::uint16_t qtype = get16(data + pos);
    std::size_t question_end = pos + 4;
    name = normalize(name);
    Family family = qtype == type_aaaa ? Family::v6 : Family::v4;

    std::lock_guard<std::mutex> lock(mu_);
    queries_.push_back(Query{name, family, qtype, now});

    Answer answer = Answer::nxdomain();
    if (names_.count(name) != 0) {
        auto it = table_.find({name, family});
        answer = (it != table_.end() && (qtype == type_a || qtype == type_aaaa)) ? it->second
                                                                                : Answer::nodata();
    }
    if (answer.kind == Answer::Kind::silent) return;

    std::uint16_t rcode = 0;
    if (answer.kind == Answer::Kind::nxdomain) rcode = rcode_nxdomain;
    if (answer.kind == Answer::Kind::servfail) rcode = rcode_servfail;
    std::vector<Endpoint> records;
    if (answer.kind == Answer::Kind::addresses) {
        for (const Endpoint& e : answer.addresses) {
            if (e.family() == family) records.push_back(e);
        }
    }

    std::vector<std::uint8_t> out;
    std::uint16_t qflags = get16(data + 2);
    std::uint16_t flags = static_cast<std::uint16_t>(0x8000 | (qflags & 0x7800) | 0x0400 |
                                                     (qflags & 0x0100) | 0x0080 | rcode);
    put16(out, get16(data));  // id
    put16(out, flags);
    put16(out, 1);
    put16(out, static_cast<std::uint16_t>(records.size()));
    put16(out, 0);
    put16(out, 0);
    out.insert(out.end(), data + 12, data + question_end);
    for (const Endpoint& e : records) {
        put16(out, 0xc00c);  // pointer to the question's name
        put16(out, qtype);
        put16(out, 1);  // IN
        put16(out, 0);  // TTL 60
        put16(out, 60);
        std::size_t n = e.is_v4() ? 4 : 16;
        put16(out, static_cast<std::uint16_t>(n));
        out.insert(out.end(), e.bytes().begin(), e.bytes().begin() + static_cast<long>(n));
    }
    const auto* pb = static_cast<const std::uint8_t*>(peer);
    pending_.push_back(Pending{now + answer.delay, std::move(out),
                               std::vector<std::uint8_t>(pb, pb + peer_len)});
}

}  // namespace eyeballs::test
