// SPDX-License-Identifier: BSL-1.0
// eyeballs::poll — internal: c-ares (1.16+ API: ares_getaddrinfo,
// ares_getsock, ares_timeout, ares_process_fd) driven by the adapter's loop.
//
// Each address query is one ares_getaddrinfo call with ai_family AF_INET6 or
// AF_INET, for the origin host or a target name from an HTTPS record — or,
// when DnsOptions::server names the server, one ares_send of a query built by
// eyeballs::build_dns_query (EDNS0, 1232 octets) whose whole answer is read
// by parse_dns_response and dns_outcome(), exactly as the Asio and libevent
// adapters read theirs: c-ares' own parser skips an A record whose RDATA is
// not 4 octets and says "no data", where the answer is malformed (issue 14
// item 5). c-ares still brings its retries and the TCP retry after TC. The
// callbacks only record the answer; the adapter feeds it to the machine after
// c-ares returns. Mapping to the DNS class (Error::dns, issue 14 item 6):
//   ARES_SUCCESS with addresses        → positive answer
//   ARES_ENODATA (NOERROR, no records) → nodata
//   ARES_ENOTFOUND (NXDOMAIN)          → nxdomain
//   ARES_ESERVFAIL, EREFUSED, EFORMERR,
//   ENOTIMP                            → server_failure, the RCODE's name
//   ARES_ETIMEOUT, our total timeout   → timeout, ETIMEDOUT, "no answer within N ms"
//   ARES_EBADRESP and the like         → malformed, c-ares' text
//   anything else (ECONNREFUSED, ...)  → no class: errno and c-ares' text
// The channel: EDNS0 with 1232 octets (ARES_FLAG_EDNS), a 1 s first timeout
// doubling on each of 3 tries (sent at 0, 1 s, 3 s) and the 5 s total
// timeout — the schedule the three adapters share (DnsOptions).
//
// HTTPS records (Happy Eyeballs v3, Config::https): c-ares 1.18 cannot parse
// type 65, so the query is built by eyeballs::build_dns_query (EDNS0, 1232
// octets) and sent with ares_send, which still brings c-ares' retries, server
// rotation and TCP fallback on TC; the whole response is read with
// parse_dns_response:
//   NOERROR with records               → the records (a ServiceMode "." after
//                                        a CNAME means the CNAME's target)
//   NOERROR without (NODATA)           → no records: handle_https with none
//   NXDOMAIN, other RCODEs, malformed  → failed, with the RCODE or the error
//   ARES_ESERVFAIL and the rest        → failed, c-ares' text
//   timeouts                           → failed, ETIMEDOUT
#include "dns.hpp"

#include <ares.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <vector>

#include "eyeballs/dns_message.hpp"
#include "eyeballs/posix.hpp"

namespace eyeballs::poll::detail {
namespace {

void library_init() {
    // ares_library_init is not thread-safe before c-ares 1.23; do it once.
    static std::once_flag once;
    std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

// A failed c-ares status as a DNS class (the table at the top).
void classify_status(int status, DnsAnswer& a) {
    switch (status) {
        case ARES_ENODATA: a.dns = DnsError::nodata; return;
        case ARES_ENOTFOUND: a.dns = DnsError::nxdomain; a.detail = "NXDOMAIN"; return;
        case ARES_ESERVFAIL: a.dns = DnsError::server_failure; a.detail = "SERVFAIL"; return;
        case ARES_EREFUSED: a.dns = DnsError::server_failure; a.detail = "REFUSED"; return;
        case ARES_EFORMERR: a.dns = DnsError::server_failure; a.detail = "FORMERR"; return;
        case ARES_ENOTIMP: a.dns = DnsError::server_failure; a.detail = "NOTIMP"; return;
        case ARES_EBADRESP:
        case ARES_EBADNAME:
            a.dns = DnsError::malformed;
            a.detail = ares_strerror(status);
            return;
        default:
            if (status == ARES_ETIMEOUT) a.code = ETIMEDOUT;
            a.detail = ares_strerror(status);
            return;
    }
}

// v3 §4.5: DNS over IPv6 first. c-ares asks the system's servers
// (resolv.conf) in their order; this puts the IPv6 ones before the IPv4 ones,
// each family in its order (as eyeballs/dns_servers.hpp's order_dns_servers).
// On any c-ares error the order is left as it was.
void ipv6_servers_first(ares_channel channel) {
    ares_addr_port_node* list = nullptr;
    if (ares_get_servers_ports(channel, &list) != ARES_SUCCESS || list == nullptr) return;
    std::vector<ares_addr_port_node*> nodes;
    for (ares_addr_port_node* n = list; n != nullptr; n = n->next) nodes.push_back(n);
    std::stable_partition(nodes.begin(), nodes.end(),
                          [](const ares_addr_port_node* n) { return n->family == AF_INET6; });
    for (std::size_t i = 0; i < nodes.size(); ++i) {
        nodes[i]->next = i + 1 < nodes.size() ? nodes[i + 1] : nullptr;
    }
    (void)ares_set_servers_ports(channel, nodes.front());
    // ares_free_data walks the list from the node it is given: relinked, the
    // new head reaches every node.
    ares_free_data(nodes.front());
}

std::string server_csv(const Endpoint& server) {
    Endpoint s = server.port() == 0 ? server.with_port(53) : server;
    return s.to_string();  // "127.0.0.1:53" or "[::1]:53"
}

}  // namespace

struct Resolver::State {
    struct Query {
        State* state;
        Family family;
        bool https;
        std::string name;   // the Resolve's name ("" = origin)
        std::string qname;  // what is asked
    };

    DnsOptions options;
    std::string host;
    std::uint16_t port = 0;
    ares_channel channel = nullptr;
    std::string init_error;  // non-empty: every query fails with this text
    int outstanding = 0;
    bool started = false;
    bool timed_out = false;
    TimePoint deadline{};
    std::vector<DnsAnswer> answers;
    std::deque<Query> queries;  // stable: c-ares holds pointers into it

    static DnsAnswer answer_for(const Query& q) {
        DnsAnswer a;
        a.family = q.family;
        a.https = q.https;
        a.name = q.name;
        a.qname = q.qname;
        return a;
    }

    static void on_answer(void* arg, int status, int /*timeouts*/, ares_addrinfo* result) {
        auto* q = static_cast<Query*>(arg);
        State& s = *q->state;
        --s.outstanding;
        DnsAnswer a = answer_for(*q);
        if (status == ARES_SUCCESS && result != nullptr) {
            // The answer's TTL (DnsCache): the smallest of the CNAMEs' and
            // the addresses' (an /etc/hosts hit has 0: not cached).
            bool any_ttl = false;
            int ttl = 0;
            auto use_ttl = [&](int t) {
                ttl = any_ttl ? std::min(ttl, t) : t;
                any_ttl = true;
            };
            for (ares_addrinfo_cname* c = result->cnames; c != nullptr; c = c->next) use_ttl(c->ttl);
            for (ares_addrinfo_node* n = result->nodes; n != nullptr; n = n->ai_next) {
                auto ep = from_sockaddr(n->ai_addr, static_cast<socklen_t>(n->ai_addrlen));
                if (!ep || ep->family() != q->family) continue;
                use_ttl(n->ai_ttl);
                Endpoint e = ep->with_port(s.port);
                if (std::find(a.addresses.begin(), a.addresses.end(), e) == a.addresses.end()) {
                    a.addresses.push_back(e);
                }
            }
            if (any_ttl && ttl > 0) a.ttl = static_cast<std::uint32_t>(ttl);
        } else if ((status == ARES_ECANCELLED && s.timed_out) || status == ARES_ETIMEOUT) {
            s.timeout(a, status == ARES_ETIMEOUT);
        } else if (status == ARES_SUCCESS) {
            a.dns = DnsError::nodata;
        } else {
            classify_status(status, a);
        }
        if (a.addresses.empty() && a.dns == DnsError::none && a.detail.empty()) {
            a.dns = DnsError::nodata;
        }
        if (result != nullptr) ares_freeaddrinfo(result);
        if (status != ARES_EDESTRUCTION) s.answers.push_back(std::move(a));
    }

    // c-ares' tries ran out (`tries_done`: the sum of its doubling
    // timeouts), or our total timeout did.
    void timeout(DnsAnswer& a, bool tries_done) const {
        a.code = ETIMEDOUT;
        a.dns = DnsError::timeout;
        Duration waited = options.total_timeout;
        if (tries_done) {
            auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.query_timeout);
            ms = std::clamp(ms, std::chrono::milliseconds(1), std::chrono::milliseconds(60000));
            waited = Duration::zero();
            for (int i = 0; i < std::max(1, options.tries); ++i) waited += ms * (1 << i);
        }
        a.detail = "no answer within " + format_ms(waited) + " ms";
    }

    // An address query sent with ares_send (DnsOptions::server set): the
    // whole answer read by eyeballs/dns_message.hpp.
    static void on_raw(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        auto* q = static_cast<Query*>(arg);
        State& s = *q->state;
        --s.outstanding;
        if (status == ARES_EDESTRUCTION) return;
        DnsAnswer a = answer_for(*q);
        const std::uint16_t qtype = q->family == Family::v6 ? dns_type::aaaa : dns_type::a;
        if (status == ARES_SUCCESS && abuf != nullptr && alen >= 2) {
            // c-ares matched the response to the query (id and question) and
            // may have given the query an id of its own: read against that.
            const auto id = static_cast<std::uint16_t>((abuf[0] << 8) | abuf[1]);
            DnsResponse r =
                parse_dns_response(abuf, static_cast<std::size_t>(alen), id, q->qname, qtype);
            DnsOutcome outcome = dns_outcome(r, qtype);
            if (outcome.dns == DnsError::none) {
                a.ttl = r.ttl;
                for (const Endpoint& e : r.addresses) {
                    Endpoint ep = e.with_port(s.port);
                    if (std::find(a.addresses.begin(), a.addresses.end(), ep) == a.addresses.end()) {
                        a.addresses.push_back(ep);
                    }
                }
            } else {
                a.dns = outcome.dns;
                if (outcome.dns != DnsError::nodata) a.detail = std::move(outcome.detail);
            }
        } else if ((status == ARES_ECANCELLED && s.timed_out) || status == ARES_ETIMEOUT) {
            s.timeout(a, status == ARES_ETIMEOUT);
        } else {
            classify_status(status, a);
        }
        s.answers.push_back(std::move(a));
    }

    static void on_https(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
        auto* q = static_cast<Query*>(arg);
        State& s = *q->state;
        --s.outstanding;
        if (status == ARES_EDESTRUCTION) return;
        DnsAnswer a = answer_for(*q);
        if (status == ARES_SUCCESS && abuf != nullptr && alen >= 2) {
            // c-ares matched the response to the query (id and question) and
            // may have given the query an id of its own: read against that.
            const auto id = static_cast<std::uint16_t>((abuf[0] << 8) | abuf[1]);
            DnsResponse r = parse_dns_response(abuf, static_cast<std::size_t>(alen), id, q->qname,
                                               dns_type::https);
            if (!r.ok()) {
                a.failed = true;
                a.detail = r.error.empty() ? "HTTPS answer does not match the query" : r.error;
            } else if (r.rcode != dns_rcode::noerror) {
                a.failed = true;
                a.detail = dns_rcode_name(r.rcode);
            } else {
                name_dot_targets(r);  // "." after a CNAME is its target
                a.records = std::move(r.svcb);
                a.ttl = r.ttl;
            }
        } else if (status == ARES_ECANCELLED && s.timed_out) {
            a.failed = true;
            a.code = ETIMEDOUT;
            a.detail = "no answer within " + format_ms(s.options.total_timeout) + " ms";
        } else {
            a.failed = true;
            if (status == ARES_ETIMEOUT) a.code = ETIMEDOUT;
            a.detail = ares_strerror(status);
        }
        s.answers.push_back(std::move(a));
    }
};

Resolver::Resolver(const DnsOptions& options, std::string host, std::uint16_t port)
    : state_(std::make_unique<State>()) {
    library_init();
    State& s = *state_;
    s.options = options;
    s.host = std::move(host);
    s.port = port;

    ares_options opts;
    std::memset(&opts, 0, sizeof opts);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(options.query_timeout).count();
    opts.timeout = static_cast<int>(std::clamp<long long>(ms, 1, 60000));
    opts.tries = std::max(1, options.tries);
    // EDNS0 with the 1232-octet payload every adapter offers (issue 14 item 7).
    opts.flags = ARES_FLAG_EDNS;
    // With a named server, its SERVFAIL/REFUSED answers reach on_raw as they
    // are (c-ares 1.18 would otherwise drop them and report "Could not
    // contact DNS servers"), as the other adapters see them.
    if (options.server) opts.flags |= ARES_FLAG_NOCHECKRESP;
    opts.ednspsz = dns_default_udp_size;
    int mask = ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_FLAGS | ARES_OPT_EDNSPSZ;
    int rc = ares_init_options(&s.channel, &opts, mask);
    if (rc != ARES_SUCCESS) {
        s.channel = nullptr;
        s.init_error = std::string("c-ares init: ") + ares_strerror(rc);
        return;
    }
    if (options.server) {
        rc = ares_set_servers_ports_csv(s.channel, server_csv(*options.server).c_str());
        if (rc != ARES_SUCCESS) {
            s.init_error = "c-ares server " + server_csv(*options.server) + ": " + ares_strerror(rc);
        }
    } else {
        ipv6_servers_first(s.channel);
    }
}

Resolver::~Resolver() {
    // ares_destroy calls pending callbacks with ARES_EDESTRUCTION; they record nothing.
    if (state_->channel != nullptr) ares_destroy(state_->channel);
}

void Resolver::query(const Resolve& resolve, TimePoint now) {
    State& s = *state_;
    if (!s.started) {
        s.started = true;
        s.deadline = now + s.options.total_timeout;
    }
    State::Query& q = s.queries.emplace_back();
    q.state = &s;
    q.family = resolve.family;
    q.https = resolve.https;
    q.name = std::string(resolve.name);
    q.qname = query_name(resolve, s.host);  // RFC 9460 §9.1: _PORT._https.HOST off port 443
    if (!s.init_error.empty()) {
        DnsAnswer a = State::answer_for(q);
        a.failed = true;
        a.detail = s.init_error;
        s.answers.push_back(std::move(a));
        return;
    }
    if (q.https) {
        std::string error;
        // c-ares sets an id of its own.
        auto message = build_dns_query(0, q.qname, dns_type::https, &error);
        if (!message) {
            DnsAnswer a = State::answer_for(q);
            a.failed = true;
            a.detail = "HTTPS query for " + q.qname + ": " + error;
            s.answers.push_back(std::move(a));
            return;
        }
        ++s.outstanding;
        ares_send(s.channel, message->data(), static_cast<int>(message->size()), &State::on_https,
                  &q);
        return;
    }
    if (s.options.server) {
        std::string error;
        const std::uint16_t type = q.family == Family::v6 ? dns_type::aaaa : dns_type::a;
        auto message = build_dns_query(0, q.qname, type, &error);  // c-ares sets an id
        if (!message) {
            DnsAnswer a = State::answer_for(q);
            a.code = EINVAL;
            a.detail = "bad host name '" + q.qname + "': " + error;
            s.answers.push_back(std::move(a));
            return;
        }
        ++s.outstanding;
        ares_send(s.channel, message->data(), static_cast<int>(message->size()), &State::on_raw, &q);
        return;
    }
    ares_addrinfo_hints hints;
    std::memset(&hints, 0, sizeof hints);
    hints.ai_family = to_af(q.family);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    ++s.outstanding;
    // May call on_answer before returning (e.g. an /etc/hosts hit).
    ares_getaddrinfo(s.channel, q.qname.c_str(), nullptr, &hints, &State::on_answer, &q);
}

bool Resolver::busy() const noexcept { return state_->outstanding > 0; }

std::size_t Resolver::add_pollfds(std::vector<pollfd>& fds) const {
    if (state_->channel == nullptr || state_->outstanding == 0) return 0;
    ares_socket_t socks[ARES_GETSOCK_MAXNUM];
    int bits = ares_getsock(state_->channel, socks, ARES_GETSOCK_MAXNUM);
    std::size_t added = 0;
    for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
        short events = 0;
        if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
        if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
        if (events == 0) continue;
        fds.push_back(pollfd{socks[i], events, 0});
        ++added;
    }
    return added;
}

std::optional<TimePoint> Resolver::next_timeout(TimePoint now) const {
    const State& s = *state_;
    if (s.channel == nullptr || s.outstanding == 0) return std::nullopt;
    TimePoint at = s.deadline;
    timeval max{};
    auto left = std::max(s.deadline - now, TimePoint::duration::zero());
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(left).count();
    max.tv_sec = static_cast<time_t>(us / 1000000);
    max.tv_usec = static_cast<suseconds_t>(us % 1000000);
    timeval tv{};
    if (timeval* t = ares_timeout(s.channel, &max, &tv)) {
        at = std::min(at, now + std::chrono::seconds(t->tv_sec) +
                              std::chrono::microseconds(t->tv_usec));
    }
    return at;
}

void Resolver::process(const pollfd* fds, std::size_t count, TimePoint now) {
    State& s = *state_;
    if (s.channel == nullptr || s.outstanding == 0) return;
    for (std::size_t i = 0; i < count; ++i) {
        short re = fds[i].revents;
        if (re == 0) continue;
        ares_socket_t rd = (re & (POLLIN | POLLERR | POLLHUP)) != 0 ? fds[i].fd : ARES_SOCKET_BAD;
        ares_socket_t wr = (re & (POLLOUT | POLLERR | POLLHUP)) != 0 ? fds[i].fd : ARES_SOCKET_BAD;
        ares_process_fd(s.channel, rd, wr);
    }
    // c-ares' own timeouts (retries, the next server).
    ares_process_fd(s.channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    if (s.outstanding > 0 && now >= s.deadline) {
        s.timed_out = true;
        ares_cancel(s.channel);  // callbacks run now with ARES_ECANCELLED
    }
}

std::vector<DnsAnswer> Resolver::take_answers() {
    std::vector<DnsAnswer> out;
    out.swap(state_->answers);
    return out;
}

}  // namespace eyeballs::poll::detail
