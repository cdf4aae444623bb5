// SPDX-License-Identifier: BSL-1.0
// eyeballs::poll — the blocking adapter: one RaceMachine, non-blocking
// sockets, c-ares, and ppoll(2) with a nanosecond timeout.
//
// Theory of operation (race_machine.hpp's run loop, made concrete):
//   settle(now)  drains poll_action() and performs each action at `now`:
//                Resolve → ares_getaddrinfo (or, for HTTPS records, a raw
//                type-65 query: dns.cpp); OpenSocket → socket or the
//                caller's factory, answered with handle_opened (a QUIC
//                attempt with EPROTONOSUPPORT: TCP only); Bind → bind,
//                answered with handle_bound; Connect → a non-blocking
//                connect; Close → close; Report → the winner's fd is kept.
//                Results that are known at once (a connect that completed or
//                failed inside connect(2), an /etc/hosts answer) are queued
//                and fed after the drain, each followed by its own drain.
//   wait         one ppoll over: every connecting socket (POLLOUT), c-ares'
//                sockets, the cancel fd. Its timeout is the earliest of
//                next_timeout() and c-ares' timeouts, in nanoseconds.
//   feed         with the time read after waking: connect results first,
//                then DNS answers, then the cancel fd, and only then
//                handle_timeout if the machine's deadline has come (docs/behaviour.md §7).
// TLS (Options::tls): a completed connect is fed as handle_connected (the
// machine waits in `securing`), then the attempt's handshake starts on the
// same fd (eyeballs/detail/tls_client.hpp) and sits in the poll set with the
// events OpenSSL wants; its end is fed as handle_secured or
// handle_secure_failed (stage tls, OpenSSL's reason as the detail). An
// attempt's SSL object lives in its Attempt and is freed with it (Close, or
// the destructor); the winner's is released into Result::ssl.
// QUIC (Options::quic, built with EYEBALLS_HAVE_QUIC): OpenSocket makes a UDP
// socket, Connect connect()s it and starts the attempt's handshake
// (eyeballs/quic_client.hpp: the Initial goes out then); the socket sits in the
// poll set for POLLIN and the handshake's expiry joins the wait's deadline.
// A completed handshake is fed as handle_connected (QUIC wins at its connect),
// a TLS failure as handle_secure_failed, a transport one (port unreachable,
// ngtcp2's timeout) as handle_connect_failed. Without Config::https, the
// adapter answers the HTTPS query itself (curl's --http3: every address over
// QUIC first); in addresses mode it answers AAAA and A from the list too.
// The loop ends after the Report action. Every socket the adapter opened is
// closed by a Close action except the winner; as a last guard, anything still
// open when the race ends is closed too.
#include "eyeballs/poll.hpp"
#include "eyeballs/zone.hpp"

#include <poll.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <cerrno>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <variant>

#include "dns.hpp"
#include "eyeballs/detail/socket_ops.hpp"
#include "eyeballs/detail/tls_client.hpp"
#ifdef EYEBALLS_HAVE_QUIC
#include "eyeballs/quic_client.hpp"
#endif

namespace eyeballs::poll {
namespace {

using Clock = std::chrono::steady_clock;
namespace ops = eyeballs::detail;

struct Attempt {
    AttemptId id;
    int fd = -1;
    bool connecting = false;  // waiting for POLLOUT
    Endpoint remote;
    const Service* service = nullptr;  // from the Connect action (HTTPS records)
    ops::TlsSession tls;            // active while the handshake runs
    short tls_events = 0;              // POLLIN / POLLOUT while handshaking
#ifdef EYEBALLS_HAVE_QUIC
    std::unique_ptr<quic::Handshake> quic;  // a QUIC attempt's, from its Connect
#endif
};

struct ConnectDone {
    AttemptId id;
    int code;  // 0 = connected
};
struct QuicDone {  // a QUIC handshake that ended inside an action
    AttemptId id;
};
using Input = std::variant<ConnectDone, detail::DnsAnswer, QuicDone>;

timespec to_timespec(Clock::duration d) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
    if (ns < 0) ns = 0;
    timespec ts{};
    ts.tv_sec = static_cast<time_t>(ns / 1000000000);
    ts.tv_nsec = static_cast<long>(ns % 1000000000);
    return ts;
}

// How long to sleep for a deadline `left` away. poll/ppoll let the kernel
// wake a normal task up to 0.1 % of the timeout late, whatever the timer
// slack (fs/select.c, select_estimate_accuracy: 250 µs on a 250 ms wait). So a
// long wait stops short by twice that, and the next, short wait (its slack
// under a microsecond) lands on the deadline.
Clock::duration wait_for(Clock::duration left) {
    const Clock::duration margin = left / 500;
    if (margin < std::chrono::microseconds(20)) return left;
    return left - margin;
}

Result misuse(std::string message) {
    Result r;
    r.report.outcome = Outcome::failed;
    r.report.code = EINVAL;
    r.report.message = message;
    r.status = Status::failure(std::move(message));
    return r;
}

// Linux lets a sleeping thread wake up to 50 µs late by default ("timer
// slack"). For the length of a race the calling thread asks for none, so the
// Next Connection Attempt Timer fires on time (docs/behaviour.md §7); the old value comes
// back when the race ends.
class TimerSlack {
public:
    TimerSlack() noexcept {
#ifdef PR_SET_TIMERSLACK
        int old = ::prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
        if (old > 1 && ::prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0) == 0) saved_ = old;
#endif
    }
    ~TimerSlack() {
#ifdef PR_SET_TIMERSLACK
        if (saved_ > 0) ::prctl(PR_SET_TIMERSLACK, static_cast<unsigned long>(saved_), 0, 0, 0);
#endif
    }
    TimerSlack(const TimerSlack&) = delete;
    TimerSlack& operator=(const TimerSlack&) = delete;

private:
    int saved_ = 0;
};

// With HTTPS records on, the origin's port is the one connect() was given:
// records without port= and target names use it (Config::port).
Config race_config(Config config, std::uint16_t port, bool tls, bool quic) {
    if (quic) {
        // Without HTTPS records the adapter answers the HTTPS query itself
        // (Driver::synthetic_): the v3 plan then puts QUIC first.
        config.quic = true;
        config.https = true;
    }
    if (config.https && port != 0) config.port = port;
    if (tls) config.success = Success::handshake;  // v3 §6.1
    return config;
}

std::string strip_brackets(std::string host) {
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        return host.substr(1, host.size() - 2);
    }
    return host;
}

class Driver {
public:
    Driver(const Options& options, std::string host, std::uint16_t port,
           std::shared_ptr<const ops::TlsContext> tls)
        : options_(options),
          machine_(race_config(options.config, port, tls != nullptr, options.quic.enabled)),
          host_(std::move(host)),
          port_(port),
          tls_(std::move(tls)),
          synthetic_(options.quic.enabled && !options.config.https) {}

#ifdef EYEBALLS_HAVE_QUIC
    void set_quic(std::shared_ptr<quic::Context> ctx) { quic_ = std::move(ctx); }
#endif

    ~Driver() {
        // Only reached with sockets open if the machine broke its promise
        // (docs/behaviour.md §1 rule 9); never leak them.
        for (Attempt& a : attempts_) {
            a.tls = ops::TlsSession();  // SSL_free before the fd goes
#ifdef EYEBALLS_HAVE_QUIC
            a.quic.reset();
#endif
            ops::close_socket(a.fd);
        }
    }

    Result run_addresses(const std::vector<Endpoint>& remotes) {
        started_ = Clock::now();
        if (synthetic_) {
            // The list answers the AAAA and A queries (and the plan's port).
            list_ = remotes;
            return run_dns();
        }
        Status s = machine_.start(started_, remotes);
        if (!s) return misuse(s.message());
        return run();
    }

    /// `alts`: Options::alt_svc_cache's alternatives for the race (empty: none).
    Result run_dns(std::vector<AltSvc> alts = {}) {
        started_ = Clock::now();
        if (!alts.empty()) {
            Config config = machine_.config();
            config.alt_svc = std::move(alts);
            machine_ = RaceMachine(std::move(config));
        }
        Status s = machine_.start_resolving(started_);
        if (!s) return misuse(s.message());
        return run();
    }

private:
    Result run() {
        TimerSlack no_slack;
        settle(started_);
        while (!machine_.finished()) wait_and_feed();
        Result r;
        r.fd = winner_fd_;
        r.ssl = winner_ssl_;
#ifdef EYEBALLS_HAVE_QUIC
        r.quic = std::move(winner_quic_);
#endif
        r.report = machine_.report();
        r.report.tls_version = winner_version_;
        r.report.alpn_selected = winner_alpn_;
        return r;
    }

    Attempt* find(AttemptId id) {
        for (Attempt& a : attempts_) {
            if (a.id == id) return &a;
        }
        return nullptr;
    }

    void forget(AttemptId id) {
        for (std::size_t i = 0; i < attempts_.size(); ++i) {
            if (attempts_[i].id == id) {
                attempts_.erase(attempts_.begin() + static_cast<long>(i));
                return;
            }
        }
    }

    // Drains the machine, then feeds whatever became known while doing so.
    void settle(TimePoint now) {
        drain(now);
        while (!pending_.empty()) {
            Input in = std::move(pending_.front());
            pending_.pop_front();
            apply(now, in);
            drain(now);
        }
    }

    void apply(TimePoint now, const Input& in) {
        if (const auto* q = std::get_if<QuicDone>(&in)) {
#ifdef EYEBALLS_HAVE_QUIC
            if (Attempt* a = find(q->id); a != nullptr && a->quic) quic_result(now, *a);
#else
            (void)q;
#endif
            return;
        }
        if (const auto* c = std::get_if<ConnectDone>(&in)) {
            if (c->code == 0) {
                machine_.handle_connected(now, c->id);
                // With Config::ech the handshake waits for CryptoReady (v3 §6.3).
                if (tls_ && machine_.config().ech == EchMode::off) start_tls(now, c->id);
            } else {
                machine_.handle_connect_failed(now, c->id, c->code);
            }
            return;
        }
        const auto& a = std::get<detail::DnsAnswer>(in);
        const Resolve query = a.query();
        if (a.stale) {  // raced while the query is out; its answer replaces it (v3 §4.4)
            if (a.https) {
                machine_.handle_stale_https(now, query, a.records);
            } else {
                machine_.handle_stale(now, query, a.addresses);
            }
            return;
        }
        remember(now, a);
        if (a.https) {
            if (a.failed) {
                machine_.handle_resolve_failed(now, query, a.code, a.detail);
            } else {
                machine_.handle_https(now, query, a.records);
            }
        } else if (a.negative() && a.dns != DnsError::none) {
            machine_.handle_resolve_failed(now, query, a.dns, a.code, a.detail);
        } else if (a.negative()) {
            machine_.handle_resolve_failed(now, query, a.code, a.detail);
        } else {
            machine_.handle_resolved(now, query, a.addresses);
        }
    }

    // The name the handshake checks (and sends as SNI unless it is an IP).
    std::string tls_name(const Attempt& a) const {
        if (!options_.tls.server_name.empty()) return options_.tls.server_name;
        if (!host_.empty()) return strip_brackets(host_);
        return a.remote.address_string();
    }

    void start_tls(TimePoint now, AttemptId id) {
        Attempt* a = find(id);
        if (a == nullptr || machine_.finished()) return;
        // The service's own ALPN set first (RFC 9460 §7.1.2).
        const std::vector<std::string> alpn = ops::offered_alpn(a->service, options_.tls.alpn);
        const std::string name = tls_name(*a);
        if (options_.on_tls) {
            TlsEvent e;
            e.kind = TlsEvent::Kind::started;
            e.attempt = id;
            e.remote = a->remote;
            e.alpn_offered = alpn;
            e.server_name = name;
            options_.on_tls(now, e);
        }
        ops::TlsSession::Step st = a->tls.start(*tls_, a->fd, name, alpn);
        if (st != ops::TlsSession::Step::failed) st = a->tls.step();
        tls_result(now, *a, st);
    }

    // Feeds a handshake step's outcome to the machine, or waits for more.
    void tls_result(TimePoint now, Attempt& a, ops::TlsSession::Step st) {
        using Step = ops::TlsSession::Step;
        a.tls_events = 0;
        if (st == Step::want_read) {
            a.tls_events = POLLIN;
            return;
        }
        if (st == Step::want_write) {
            a.tls_events = POLLOUT;
            return;
        }
        TlsEvent e;
        e.attempt = a.id;
        e.remote = a.remote;
        if (st == Step::done) {
            e.kind = TlsEvent::Kind::secured;
            e.version = a.tls.version();
            e.alpn_selected = a.tls.alpn_selected();
            if (options_.on_tls) options_.on_tls(now, e);
            machine_.handle_secured(now, a.id);
            return;
        }
        e.kind = TlsEvent::Kind::failed;
        e.code = a.tls.code() != 0 ? a.tls.code() : EPROTO;
        e.error = a.tls.reason();
        if (options_.on_tls) options_.on_tls(now, e);
        machine_.handle_secure_failed(now, a.id, e.code, e.error);
    }

#ifdef EYEBALLS_HAVE_QUIC
    // Connect for a QUIC attempt: connect the UDP socket, send the Initial.
    void start_quic(TimePoint now, Attempt& a) {
        std::vector<std::string> alpn;
        if (!synthetic_ && a.service != nullptr && !a.service->alpn.empty()) {
            alpn = a.service->alpn;  // the record's h3 ids
        } else if (!options_.quic.alpn.empty()) {
            alpn = options_.quic.alpn;
        } else {
            alpn = quic::default_alpn();
        }
        const std::string name = tls_name(a);
        if (options_.on_tls) {
            TlsEvent e;
            e.kind = TlsEvent::Kind::started;
            e.attempt = a.id;
            e.remote = a.remote;
            e.protocol = Protocol::quic;
            e.alpn_offered = alpn;
            e.server_name = name;
            options_.on_tls(now, e);
        }
        a.quic = std::make_unique<quic::Handshake>();
        if (a.quic->start(quic_, a.fd, a.remote, name, std::move(alpn), now) !=
            quic::Handshake::Step::running) {
            pending_.emplace_back(QuicDone{a.id});
        }
    }

    // Feeds a QUIC handshake's end to the machine (nothing while it runs).
    void quic_result(TimePoint now, Attempt& a) {
        using Step = quic::Handshake::Step;
        const quic::Handshake& h = *a.quic;
        if (h.step() == Step::running || machine_.finished()) return;
        if (h.step() == Step::failed && h.transport()) {
            // Below TLS: port unreachable, ngtcp2's own timeout.
            machine_.handle_connect_failed(now, a.id, h.code());
            return;
        }
        TlsEvent e;
        e.attempt = a.id;
        e.remote = a.remote;
        e.protocol = Protocol::quic;
        if (h.step() == Step::done) {
            e.kind = TlsEvent::Kind::secured;
            e.version = h.version();
            e.alpn_selected = h.alpn_selected();
            if (options_.on_tls) options_.on_tls(now, e);
            machine_.handle_connected(now, a.id);  // a QUIC attempt wins at its connect
            return;
        }
        e.kind = TlsEvent::Kind::failed;
        e.code = h.code();
        e.error = h.reason();
        if (options_.on_tls) options_.on_tls(now, e);
        machine_.handle_secure_failed(now, a.id, e.code, e.error);
    }
#endif

    // DnsOptions::cache: what a query brought back is kept for later races.
    // Positive answers are stored with their TTL; NODATA and NXDOMAIN
    // forget the question's entry; failures (SERVFAIL, timeouts, ...) keep
    // it, so a stale answer can still be raced next time (RFC 8767).
    void remember(TimePoint now, const detail::DnsAnswer& a) {
        DnsCache* cache = options_.dns.cache;
        if (cache == nullptr || a.cached || a.qname.empty()) return;
        if (a.https) {
            if (!a.failed) cache->store_https(a.qname, a.records, a.ttl, now);
        } else if (!a.negative()) {
            cache->store(a.qname, a.family, a.addresses, a.ttl, now);
        } else {
            cache->record_failure(a.qname, a.family == Family::v6 ? DnsCache::Type::aaaa : DnsCache::Type::a, a.dns);
        }
    }

    // DnsOptions::cache: answers the question from the cache when it can.
    // Returns true when no query is needed (a fresh answer is queued); a
    // stale answer is queued for handle_stale (addresses) or
    // handle_stale_https (records) — HTTPS mode only: an RFC 8305 race takes
    // one answer per question — and false returned, so the query still goes
    // out.
    bool answer_from_cache(TimePoint now, const Resolve& r) {
        DnsCache* cache = options_.dns.cache;
        if (cache == nullptr) return false;
        const std::string qname = query_name(r, host_);
        DnsCache::Answer hit = cache->lookup_for_race(qname, r, machine_.config().https, now);
        if (hit.state == DnsCache::State::missing) return false;
        const bool fresh = hit.state == DnsCache::State::fresh;
        const bool stale = !fresh;
        detail::DnsAnswer a;
        a.family = r.family;
        a.https = r.https;
        a.name = std::string(r.name);
        a.qname = qname;
        a.cached = true;
        a.stale = stale;
        for (const Endpoint& e : hit.addresses) a.addresses.push_back(e.with_port(port_));
        a.records = std::move(hit.records);
        pending_.emplace_back(std::move(a));
        return fresh;
    }

    void take_dns_answers() {
        if (!resolver_) return;
        for (auto& a : resolver_->take_answers()) pending_.emplace_back(std::move(a));
    }

    void drain(TimePoint now) {
        while (auto action = machine_.poll_action()) {
            if (options_.on_action) options_.on_action(now, *action, machine_);
            perform(now, *action);
        }
    }

    void perform(TimePoint now, const Action& action) {
        if (const auto* r = std::get_if<Resolve>(&action)) {
            if (synthetic_ && (r->https || !list_.empty()) && r->name.empty()) {
                pending_.emplace_back(synthetic_answer(*r));
                return;
            }
            if (answer_from_cache(now, *r)) return;
            if (!resolver_) resolver_.emplace(options_.dns, host_, port_);
            resolver_->query(*r, now);
            take_dns_answers();
        } else if (const auto* o = std::get_if<OpenSocket>(&action)) {
            int err = 0;
            int fd = -1;
            if (o->protocol != Protocol::tcp) {
#ifdef EYEBALLS_HAVE_QUIC
                if (quic_) fd = quic::open_udp_socket(o->remote.family(), err);
                else err = EPROTONOSUPPORT;
#else
                err = EPROTONOSUPPORT;  // built without the QUIC component
#endif
            } else {
                fd = open_socket(o->remote, err);
            }
            if (fd >= 0) {
                Attempt a;
                a.id = o->attempt;
                a.fd = fd;
                a.remote = o->remote;
                attempts_.push_back(std::move(a));
            }
            machine_.handle_opened(now, o->attempt, err);
        } else if (const auto* b = std::get_if<Bind>(&action)) {
            const Attempt* a = find(b->attempt);
            int err = a != nullptr ? ops::bind_socket(a->fd, b->local) : EBADF;
            machine_.handle_bound(now, b->attempt, err);
        } else if (const auto* c = std::get_if<Connect>(&action)) {
            Attempt* a = find(c->attempt);
            if (a != nullptr) a->service = c->service;
#ifdef EYEBALLS_HAVE_QUIC
            if (c->protocol == Protocol::quic && a != nullptr) {
                if (int e = quic::connect_udp(a->fd, c->remote); e != 0) {
                    pending_.emplace_back(ConnectDone{c->attempt, e});
                } else {
                    start_quic(now, *a);
                }
                return;
            }
#endif
            int err = a != nullptr ? ops::start_connect(a->fd, c->remote) : EBADF;
            if (err == EINPROGRESS) {
                a->connecting = true;
            } else {
                pending_.emplace_back(ConnectDone{c->attempt, err});
            }
        } else if (const auto* ready = std::get_if<CryptoReady>(&action)) {
            if (tls_) start_tls(now, ready->attempt);
        } else if (const auto* cl = std::get_if<Close>(&action)) {
            if (Attempt* a = find(cl->attempt)) {
                a->tls = ops::TlsSession();  // SSL_free, then close the fd once
#ifdef EYEBALLS_HAVE_QUIC
                a->quic.reset();  // its CONNECTION_CLOSE goes out first
#endif
                ops::close_socket(a->fd);
            }
            forget(cl->attempt);
        } else if (const auto* rep = std::get_if<Report>(&action)) {
            if (rep->outcome == Outcome::connected) {
                if (Attempt* a = find(rep->winner)) {
                    winner_fd_ = a->fd;
                    if (a->tls.active()) {
                        winner_version_ = a->tls.version();
                        winner_alpn_ = a->tls.alpn_selected();
                        winner_ssl_ = a->tls.release();
                    }
#ifdef EYEBALLS_HAVE_QUIC
                    if (a->quic && a->quic->step() == quic::Handshake::Step::done) {
                        winner_version_ = a->quic->version();
                        winner_alpn_ = a->quic->alpn_selected();
                        winner_quic_ = std::shared_ptr<quic::Connection>(a->quic->release());
                    }
#endif
                }
                forget(rep->winner);
            }
        }
    }

    // curl's --http3 without HTTPS records: the origin's HTTPS query is
    // answered with one record that offers h3 and the TCP ids, so the v3
    // plan races every address over QUIC first; in addresses mode the list
    // answers AAAA and A.
    detail::DnsAnswer synthetic_answer(const Resolve& r) const {
        detail::DnsAnswer a;
        a.family = r.family;
        a.https = r.https;
        if (r.https) {
            SvcbRecord rec;
            rec.priority = 1;
            rec.target = ".";
            rec.alpn.push_back("h3");
            const std::vector<std::string> tcp =
                options_.tls.alpn.empty() ? ops::default_alpn() : options_.tls.alpn;
            rec.alpn.insert(rec.alpn.end(), tcp.begin(), tcp.end());
            a.records.push_back(std::move(rec));
            return a;
        }
        for (const Endpoint& e : list_) {
            if (e.family() == r.family) a.addresses.push_back(e);
        }
        return a;
    }

    int open_socket(const Endpoint& remote, int& err) {
        if (!options_.socket_factory) return ops::open_stream_socket(remote.family(), &err);
        errno = 0;
        int fd = options_.socket_factory(remote);
        if (fd < 0) {
            err = errno != 0 ? errno : EINVAL;
            return -1;
        }
        err = ops::make_nonblocking_cloexec(fd);
        if (err != 0) {
            ops::close_socket(fd);
            return -1;
        }
        return fd;
    }

    void wait_and_feed() {
        // Build the poll set: connecting sockets, then c-ares, then cancel.
        fds_.clear();
        ids_.clear();
        for (const Attempt& a : attempts_) {
            if (a.connecting) {
                fds_.push_back(pollfd{a.fd, POLLOUT, 0});
            } else if (a.tls_events != 0 && a.tls.active()) {
                fds_.push_back(pollfd{a.fd, a.tls_events, 0});
#ifdef EYEBALLS_HAVE_QUIC
            } else if (a.quic && a.quic->step() == quic::Handshake::Step::running) {
                fds_.push_back(pollfd{a.fd, POLLIN, 0});
#endif
            } else {
                continue;
            }
            ids_.push_back(a.id);
        }
        const std::size_t dns_begin = fds_.size();
        const std::size_t dns_count = resolver_ ? resolver_->add_pollfds(fds_) : 0;
        const std::size_t cancel_at = fds_.size();
        if (options_.cancel_fd >= 0) fds_.push_back(pollfd{options_.cancel_fd, POLLIN, 0});

        TimePoint now = Clock::now();
        std::optional<TimePoint> deadline = machine_.next_timeout();
        if (resolver_) {
            if (auto d = resolver_->next_timeout(now); d && (!deadline || *d < *deadline)) {
                deadline = d;
            }
        }
#ifdef EYEBALLS_HAVE_QUIC
        for (const Attempt& a : attempts_) {
            if (!a.quic) continue;
            if (auto d = a.quic->expiry(); d && (!deadline || *d < *deadline)) deadline = d;
        }
#endif
        if (fds_.empty() && !deadline) {
            // Nothing could ever wake us: the machine is waiting for an event
            // that cannot come. Never block forever; end the race instead.
            machine_.cancel(now);
            settle(now);
            return;
        }
        timespec ts{};
        if (deadline) ts = to_timespec(wait_for(*deadline - now));
        int n = ops::wait_for_events(fds_.data(), fds_.size(), deadline ? &ts : nullptr);
        now = Clock::now();
        if (n < 0 && errno != EINTR) {
            // Cannot wait any more (ENOMEM, ...): end the race cleanly.
            machine_.cancel(now);
            settle(now);
            return;
        }

        if (n > 0) {
            // 1. Connect results.
            for (std::size_t i = 0; i < dns_begin && !machine_.finished(); ++i) {
                if (fds_[i].revents == 0) continue;
                Attempt* a = find(ids_[i]);
                if (a == nullptr || a->fd != fds_[i].fd) continue;  // closed meanwhile
#ifdef EYEBALLS_HAVE_QUIC
                if (a->quic) {
                    a->quic->on_readable(now);
                    quic_result(now, *a);
                    settle(now);
                    continue;
                }
#endif
                if (!a->connecting) {
                    // A handshake step (any event, errors included: OpenSSL reads them).
                    if (a->tls_events == 0 || !a->tls.active()) continue;
                    tls_result(now, *a, a->tls.step());
                    settle(now);
                    continue;
                }
                if (auto code = ops::connect_result(a->fd, fds_[i].revents)) {
                    find(ids_[i])->connecting = false;
                    pending_.emplace_back(ConnectDone{ids_[i], *code});
                    settle(now);
                }
            }
        }
        // 2. DNS: ready sockets and c-ares' own timeouts.
        if (resolver_ && !machine_.finished()) {
            resolver_->process(fds_.data() + dns_begin, dns_count, now);
            take_dns_answers();
            settle(now);
        }
        // 3. Cancel.
        if (n > 0 && options_.cancel_fd >= 0 && fds_[cancel_at].revents != 0 &&
            !machine_.finished()) {
            machine_.cancel(now);
            settle(now);
        }
#ifdef EYEBALLS_HAVE_QUIC
        // QUIC's own timers (resends, ngtcp2's timeouts); ids first, as a
        // result may close other attempts.
        std::vector<AttemptId> due;
        for (const Attempt& a : attempts_) {
            if (!a.quic) continue;
            if (auto d = a.quic->expiry(); d && now >= *d) due.push_back(a.id);
        }
        for (AttemptId id : due) {
            Attempt* a = find(id);
            if (a == nullptr || !a->quic || machine_.finished()) continue;
            a->quic->on_timeout(now);
            quic_result(now, *a);
            settle(now);
        }
#endif
        // 4. Timers, after the I/O of this wake-up.
        if (auto t = machine_.next_timeout(); t && now >= *t && !machine_.finished()) {
            machine_.handle_timeout(now);
            settle(now);
        }
    }

    const Options& options_;
    RaceMachine machine_;
    std::string host_;
    std::uint16_t port_;
    std::vector<Attempt> attempts_;
    std::deque<Input> pending_;
    std::optional<detail::Resolver> resolver_;
    std::vector<pollfd> fds_;
    std::vector<AttemptId> ids_;
    std::shared_ptr<const ops::TlsContext> tls_;
    bool synthetic_ = false;      // quic without config.https (see synthetic_answer)
    std::vector<Endpoint> list_;  // addresses mode with synthetic_: the list
#ifdef EYEBALLS_HAVE_QUIC
    std::shared_ptr<quic::Context> quic_;
    std::shared_ptr<quic::Connection> winner_quic_;
#endif
    int winner_fd_ = -1;
    ::ssl_st* winner_ssl_ = nullptr;
    std::string winner_version_;
    std::string winner_alpn_;
    TimePoint started_{};
};

std::optional<Status> check_options(const Options& options) {
    if (auto msg = validate(options.config)) return Status::failure(*msg);
    if (options.dns.total_timeout <= Duration::zero()) {
        return Status::failure("dns total_timeout must be > 0");
    }
    if (options.dns.query_timeout <= Duration::zero()) {
        return Status::failure("dns query_timeout must be > 0");
    }
    if (options.dns.tries < 1) return Status::failure("dns tries must be >= 1");
    if (options.quic.enabled && !quic_available()) {
        return Status::failure(
            "quic.enabled needs the QUIC component, which this build lacks (ngtcp2 + GnuTLS, "
            "CMake option EYEBALLS_QUIC)");
    }
    if (options.config.success != Success::connect && !options.tls.enabled) {
        return Status::failure(
            "success=handshake needs a TLS handshake: set Options::tls.enabled (the poll "
            "adapter then makes it with OpenSSL)");
    }
    return std::nullopt;
}

// The race's TLS context, or nullptr without TLS; `error` set when it cannot be made.
// Shared with every race of the same trust configuration (ops::shared_context).
std::shared_ptr<const ops::TlsContext> make_tls(const Options& options, std::string& error) {
    if (!options.tls.enabled) return nullptr;
    auto ctx = ops::shared_context(options.tls, error);
    return ctx;
}

// The race's QUIC context (credentials), or nullptr without QUIC; `error`
// set when it cannot be made.
#ifdef EYEBALLS_HAVE_QUIC
std::shared_ptr<quic::Context> make_quic(const Options& options, std::string& error) {
    if (!options.quic.enabled) return nullptr;
    quic::Settings settings;
    settings.ca_file = options.tls.ca_file;
    settings.ca_dir = options.tls.ca_dir;
    settings.insecure = options.tls.insecure;
    return quic::Context::create(settings, error);
}
#endif

// Builds the driver with its TLS and QUIC contexts and runs it; a context
// that cannot be made is a misuse error.
template <typename Run>
Result drive(const Options& options, std::string host, std::uint16_t port, Run run) {
    std::string error;
    auto tls = make_tls(options, error);
    if (options.tls.enabled && !tls) return misuse(error);
    Driver driver(options, std::move(host), port, std::move(tls));
#ifdef EYEBALLS_HAVE_QUIC
    if (options.quic.enabled) {
        auto q = make_quic(options, error);
        if (!q) return misuse(error);
        driver.set_quic(std::move(q));
    }
#endif
    return run(driver);
}

}  // namespace

bool quic_available() noexcept {
#ifdef EYEBALLS_HAVE_QUIC
    return true;
#else
    return false;
#endif
}

Result connect(std::string_view host, std::uint16_t port, const Options& options) {
    if (host.empty()) return misuse("empty host name");
    if (auto bad = check_options(options)) return misuse(bad->message());
    // Overrides first (curl's --connect-to, then --resolve), in the shared helper.
    OverrideTarget target = apply_overrides(options.overrides, host, port);
    if (!target.addresses.empty()) {
        return drive(options, target.host, target.port,
                     [&](Driver& d) { return d.run_addresses(target.addresses); });
    }
    std::string_view literal = target.host;
    if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
        literal = literal.substr(1, literal.size() - 2);
    }
    // A literal, with a zone for a link-local one (an interface name is looked
    // up here: the adapter does I/O, the core does not).
    if (auto ep = Endpoint::parse_address(literal, target.port, nullptr, interface_index)) {
        return drive(options, target.host, target.port,
                     [&](Driver& d) { return d.run_addresses({*ep}); });
    }
    return drive(options, target.host, target.port, [&](Driver& d) {
        // Options::alt_svc_cache: the origin's (host:port before the
        // overrides) fresh Alt-Svc alternatives join the race (RFC 7838; the
        // rule is alternatives_for_race's).
        std::vector<AltSvc> alts;
        if (options.alt_svc_cache != nullptr) {
            alts = alternatives_for_race(*options.alt_svc_cache, host, port, options.config,
                                         Clock::now(), &target);
        }
        return d.run_dns(std::move(alts));
    });
}

void free_tls(::ssl_st* ssl) noexcept { ops::TlsSession::free(ssl); }

Result connect(const std::vector<Endpoint>& addresses, const Options& options) {
    if (auto bad = check_options(options)) return misuse(bad->message());
    std::uint16_t port = 0;
    if (options.quic.enabled && !options.config.https && !addresses.empty()) {
        // The synthetic plan (curl's --http3) takes one port for every address.
        port = addresses.front().port();
        for (const Endpoint& e : addresses) {
            if (e.port() != port) {
                return misuse("quic.enabled without config.https races one port: " +
                              addresses.front().to_string() + " and " + e.to_string() +
                              " differ");
            }
        }
    }
    return drive(options, std::string(), port,
                 [&](Driver& d) { return d.run_addresses(addresses); });
}

}  // namespace eyeballs::poll
