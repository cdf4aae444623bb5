// SPDX-License-Identifier: BSL-1.0
// eyeballs::libevent — PREF64 discovery through ipv4only.arpa (RFC 7050 §2-§3)
// on an event_base.
//
// One AAAA query for the well-known name, through evdns's own resolver
// (evdns_base_resolve_ipv6, not evdns_getaddrinfo: libevent 2.1's getaddrinfo
// reports an empty answer like a SERVFAIL, and RFC 7050 §2's "no AAAA, no
// NAT64" needs the two apart), and one evtimer at Options::dns_timeout.
//
// evdns always answers from the loop, exactly once per request: with the
// answer, or with DNS_ERR_CANCEL after evdns_cancel_request() (nothing, if an
// answer was already on its way: that one comes instead), or with
// DNS_ERR_SHUTDOWN when the evdns_base is freed with its requests failed. So
// the query's argument is a small heap token that that one callback frees;
// the discovery unhooks itself from the token when it stops caring. An
// evdns_base the adapter made is freed at once when the discovery ends
// (failing the request, so that its token still comes back): the request's
// delivery does not read the evdns_base.
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "evdns_util.hpp"
#include "eyeballs/libevent.hpp"
#include "eyeballs/posix.hpp"

namespace eyeballs::libevent {
namespace detail {

namespace {

using Clock = std::chrono::steady_clock;

/// How many times an adapter-made evdns_base sends the query within
/// dns_timeout (evdns resends at fixed intervals; the races' own client sends
/// at 0, 1 s and 3 s of 5 s — about the same).
constexpr int evdns_attempts = 3;

timeval to_timeval(std::chrono::milliseconds d) {
    timeval tv;
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(d.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((d.count() % 1000) * 1000);
    return tv;
}

}  // namespace

/// The argument of the evdns request; freed by its callback.
struct Pref64Token {
    Pref64Query* query = nullptr;  // null once the discovery no longer wants the answer
};

class Pref64Query : public std::enable_shared_from_this<Pref64Query> {
public:
    Pref64Query(event_base* base, Pref64Callback callback)
        : base_(base), callback_(std::move(callback)) {}
    Pref64Query(const Pref64Query&) = delete;
    Pref64Query& operator=(const Pref64Query&) = delete;
    ~Pref64Query() { release(); }

    static Pref64Handle start(event_base* base, const Options& options, Pref64Callback callback);

    bool running() const noexcept { return !delivered_; }
    void cancel() { finish(pref64_discovery_failed("cancelled")); }
    void abandon() {
        abandoned_ = true;
        finish({});
    }
    void detach() {
        if (!delivered_) self_ = shared_from_this();
    }

private:
    Status begin(const Options& options);
    void finish(Pref64Discovery result);
    void release() noexcept;
    std::string timed_out() const {
        return "timed out (no answer within " + std::to_string(timeout_.count()) + " ms)";
    }
    static void on_answer(int result, char type, int count, int ttl, void* addresses, void* arg);
    static void on_timer(evutil_socket_t, short, void* arg);

    event_base* base_;
    Pref64Callback callback_;
    evdns_base* dns_ = nullptr;
    bool owned_ = false;  // dns_ was made here: freed here
    evdns_request* request_ = nullptr;
    Pref64Token* token_ = nullptr;
    event* timer_ = nullptr;
    std::chrono::milliseconds timeout_{5000};
    std::shared_ptr<Pref64Query> self_;  // set while detached
    bool abandoned_ = false;
    bool delivered_ = false;
};

Status Pref64Query::begin(const Options& options) {
    if (options.dns != nullptr && options.dns_server) {
        return Status::failure(
            "Options::dns and Options::dns_server cannot be combined: a DNS server override "
            "applies only to an evdns_base the adapter makes");
    }
    timeout_ = std::max(options.dns_timeout, std::chrono::milliseconds(1));
    timer_ = evtimer_new(base_, &Pref64Query::on_timer, this);
    if (timer_ == nullptr) return Status::failure("libevent: event_new failed for the timer");
    if (options.dns != nullptr) {
        dns_ = options.dns;
    } else {
        owned_ = true;
        if (options.dns_server) {
            Endpoint server = *options.dns_server;
            if (server.port() == 0) server = server.with_port(53);
            dns_ = evdns_base_new(base_, EVDNS_BASE_DISABLE_WHEN_INACTIVE);
            sockaddr_storage ss;
            const socklen_t len = to_sockaddr(server, ss);
            if (dns_ != nullptr && evdns_base_nameserver_sockaddr_add(
                                       dns_, reinterpret_cast<const sockaddr*>(&ss), len, 0) != 0) {
                return Status::failure("libevent: cannot use DNS server " + server.to_string());
            }
        } else {
            dns_ = evdns_base_new(base_, EVDNS_BASE_INITIALIZE_NAMESERVERS |
                                             EVDNS_BASE_DISABLE_WHEN_INACTIVE);
            if (dns_ != nullptr) ipv6_nameservers_first(dns_);
        }
        if (dns_ == nullptr) return Status::failure("libevent: evdns_base_new failed");
        // Resend within the timeout, as the races' DNS does.
        char interval[32];
        std::snprintf(interval, sizeof interval, "%.3f",
                      static_cast<double>(timeout_.count()) / 1000.0 / evdns_attempts);
        evdns_base_set_option(dns_, "timeout:", interval);
        evdns_base_set_option(dns_, "attempts:", std::to_string(evdns_attempts).c_str());
    }
    const timeval tv = to_timeval(timeout_);
    if (evtimer_add(timer_, &tv) != 0) return Status::failure("libevent: event_add failed");
    token_ = new Pref64Token{this};
    // RFC 7050 §2: ask for the AAAA of "ipv4only.arpa." as it is (no search list).
    request_ = evdns_base_resolve_ipv6(dns_, std::string(ipv4only_arpa).c_str(),
                                       DNS_QUERY_NO_SEARCH, &Pref64Query::on_answer, token_);
    if (request_ == nullptr) {
        delete token_;  // no request: its callback will not run
        token_ = nullptr;
        return Status::failure("libevent: evdns_base_resolve_ipv6 failed");
    }
    return Status{};
}

Pref64Handle Pref64Query::start(event_base* base, const Options& options,
                                Pref64Callback callback) {
    if (base == nullptr) return Pref64Handle(Status::failure("the event_base is null"));
    if (!callback) return Pref64Handle(Status::failure("the callback is empty"));
    auto query = std::make_shared<Pref64Query>(base, std::move(callback));
    Status status = query->begin(options);
    if (!status.ok()) return Pref64Handle(std::move(status));  // ~Pref64Query frees what begin made
    return Pref64Handle(std::move(query));
}

// Everything the query holds on the base, now. A request still out is
// cancelled (a caller's evdns_base) or failed by freeing the evdns_base (one
// made here); either way its callback comes back once, from the loop, and
// frees the token.
void Pref64Query::release() noexcept {
    if (timer_ != nullptr) event_free(timer_);
    timer_ = nullptr;
    if (token_ != nullptr) {
        token_->query = nullptr;
        token_ = nullptr;
        if (!owned_) evdns_cancel_request(dns_, request_);
    }
    request_ = nullptr;
    if (owned_ && dns_ != nullptr) evdns_base_free(dns_, 1);
    dns_ = nullptr;
}

void Pref64Query::finish(Pref64Discovery result) {
    if (delivered_) return;
    delivered_ = true;
    auto guard = shared_from_this();  // the callback may drop the last handle
    release();
    Pref64Callback callback = std::move(callback_);
    std::shared_ptr<Pref64Query> self = std::move(self_);  // a detached query frees itself after
    if (!abandoned_) callback(result);
}

void Pref64Query::on_answer(int result, char type, int count, int, void* addresses, void* arg) {
    auto* token = static_cast<Pref64Token*>(arg);
    Pref64Query* query = token->query;
    delete token;
    if (query == nullptr) return;  // cancelled: nobody waits for this any more
    query->token_ = nullptr;
    query->request_ = nullptr;
    if (result == DNS_ERR_NONE && type == DNS_IPv6_AAAA && count > 0) {
        std::vector<Endpoint> aaaa;
        const auto* raw = static_cast<const in6_addr*>(addresses);
        for (int i = 0; i < count; ++i) {
            sockaddr_in6 sa{};
            sa.sin6_family = AF_INET6;
            sa.sin6_addr = raw[i];
            if (auto e = from_sockaddr(reinterpret_cast<const sockaddr*>(&sa), sizeof sa)) {
                aaaa.push_back(*e);
            }
        }
        return query->finish(pref64_discovery_from_answer(aaaa));
    }
    // RFC 7050 §2: NODATA or NXDOMAIN for the AAAA is the answer "no NAT64".
    if (result == DNS_ERR_NONE || result == DNS_ERR_NODATA || result == DNS_ERR_NOTEXIST) {
        return query->finish(pref64_discovery_no_aaaa());
    }
    if (result == DNS_ERR_TIMEOUT) return query->finish(pref64_discovery_failed(query->timed_out()));
    query->finish(pref64_discovery_failed(evdns_err_to_string(result)));
}

void Pref64Query::on_timer(evutil_socket_t, short, void* arg) {
    auto* query = static_cast<Pref64Query*>(arg);
    query->finish(pref64_discovery_failed(query->timed_out()));
}

}  // namespace detail

Pref64Handle::Pref64Handle() noexcept = default;
Pref64Handle::Pref64Handle(std::shared_ptr<detail::Pref64Query> query) noexcept
    : query_(std::move(query)) {}
Pref64Handle::Pref64Handle(Pref64Handle&& other) noexcept
    : query_(std::move(other.query_)), status_(std::move(other.status_)) {}

Pref64Handle& Pref64Handle::operator=(Pref64Handle&& other) noexcept {
    if (this != &other) {
        if (auto old = std::move(query_)) old->abandon();
        query_ = std::move(other.query_);
        status_ = std::move(other.status_);
    }
    return *this;
}

Pref64Handle::~Pref64Handle() {
    if (auto query = std::move(query_)) query->abandon();
}

bool Pref64Handle::running() const noexcept { return query_ && query_->running(); }

void Pref64Handle::cancel() {
    if (auto query = query_) query->cancel();  // a copy: the callback may reset this handle
}

void Pref64Handle::detach() noexcept {
    if (query_) query_->detach();
    query_.reset();
}

Pref64Handle discover_pref64(event_base* base, const Options& options, Pref64Callback callback) {
    return detail::Pref64Query::start(base, options, std::move(callback));
}

}  // namespace eyeballs::libevent
