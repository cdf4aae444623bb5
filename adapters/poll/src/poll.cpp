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
//                handle_timeout if the machine's deadline has come (SPEC §7).
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
#include <string>
#include <utility>
#include <variant>

#include "dns.hpp"
#include "eyeballs/detail/socket_ops.hpp"

namespace eyeballs::poll {
namespace {

using Clock = std::chrono::steady_clock;
namespace ops = eyeballs::detail;

struct Attempt {
    AttemptId id;
    int fd = -1;
    bool connecting = false;  // waiting for POLLOUT
};

struct ConnectDone {
    AttemptId id;
    int code;  // 0 = connected
};
using Input = std::variant<ConnectDone, detail::DnsAnswer>;

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
// Next Connection Attempt Timer fires on time (SPEC §7); the old value comes
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
Config race_config(Config config, std::uint16_t port) {
    if (config.https && port != 0) config.port = port;
    return config;
}

class Driver {
public:
    Driver(const Options& options, std::string host, std::uint16_t port)
        : options_(options),
          machine_(race_config(options.config, port)),
          host_(std::move(host)),
          port_(port) {}

    ~Driver() {
        // Only reached with sockets open if the machine broke its promise
        // (SPEC §1 rule 9); never leak them.
        for (const Attempt& a : attempts_) ops::close_socket(a.fd);
    }

    Result run_addresses(const std::vector<Endpoint>& remotes) {
        started_ = Clock::now();
        Status s = machine_.start(started_, remotes);
        if (!s) return misuse(s.message());
        return run();
    }

    Result run_dns() {
        started_ = Clock::now();
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
        r.report = machine_.report();
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
        if (const auto* c = std::get_if<ConnectDone>(&in)) {
            if (c->code == 0) {
                machine_.handle_connected(now, c->id);
            } else {
                machine_.handle_connect_failed(now, c->id, c->code);
            }
            return;
        }
        const auto& a = std::get<detail::DnsAnswer>(in);
        const Resolve query = a.query();
        if (a.https) {
            if (a.failed) {
                machine_.handle_resolve_failed(now, query, a.code, a.detail);
            } else {
                machine_.handle_https(now, query, a.records);
            }
        } else if (a.negative()) {
            machine_.handle_resolve_failed(now, query, a.code, a.detail);
        } else {
            machine_.handle_resolved(now, query, a.addresses);
        }
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
            if (!resolver_) resolver_.emplace(options_.dns, host_, port_);
            resolver_->query(*r, now);
            take_dns_answers();
        } else if (const auto* o = std::get_if<OpenSocket>(&action)) {
            if (o->protocol != Protocol::tcp) {
                // TCP only: a QUIC attempt (Config::quic) is the caller's to make.
                machine_.handle_opened(now, o->attempt, EPROTONOSUPPORT);
                return;
            }
            int err = 0;
            int fd = open_socket(o->remote, err);
            if (fd >= 0) attempts_.push_back(Attempt{o->attempt, fd, false});
            machine_.handle_opened(now, o->attempt, err);
        } else if (const auto* b = std::get_if<Bind>(&action)) {
            const Attempt* a = find(b->attempt);
            int err = a != nullptr ? ops::bind_socket(a->fd, b->local) : EBADF;
            machine_.handle_bound(now, b->attempt, err);
        } else if (const auto* c = std::get_if<Connect>(&action)) {
            Attempt* a = find(c->attempt);
            int err = a != nullptr ? ops::start_connect(a->fd, c->remote) : EBADF;
            if (err == EINPROGRESS) {
                a->connecting = true;
            } else {
                pending_.emplace_back(ConnectDone{c->attempt, err});
            }
        } else if (const auto* cl = std::get_if<Close>(&action)) {
            if (const Attempt* a = find(cl->attempt)) ops::close_socket(a->fd);
            forget(cl->attempt);
        } else if (const auto* rep = std::get_if<Report>(&action)) {
            if (rep->outcome == Outcome::connected) {
                if (const Attempt* a = find(rep->winner)) winner_fd_ = a->fd;
                forget(rep->winner);
            }
        }
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
            if (!a.connecting) continue;
            fds_.push_back(pollfd{a.fd, POLLOUT, 0});
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
        if (fds_.empty() && !deadline) {
            // Nothing could ever wake us: the machine is waiting for an event
            // that cannot come. Never block forever; end the race instead.
            machine_.cancel(now);
            settle(now);
            return;
        }
        timespec ts{};
        if (deadline) ts = to_timespec(wait_for(*deadline - now));
        int n = ::ppoll(fds_.data(), fds_.size(), deadline ? &ts : nullptr, nullptr);
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
                const Attempt* a = find(ids_[i]);
                if (a == nullptr || a->fd != fds_[i].fd) continue;  // closed meanwhile
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
    int winner_fd_ = -1;
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
    if (options.config.success != Success::connect) {
        return Status::failure(
            "success=handshake needs the caller's TLS handshake (RaceMachine::handle_secured); "
            "the poll adapter connects TCP only and reports success at connect");
    }
    return std::nullopt;
}

}  // namespace

Result connect(std::string_view host, std::uint16_t port, const Options& options) {
    if (host.empty()) return misuse("empty host name");
    if (auto bad = check_options(options)) return misuse(bad->message());
    // Overrides first (curl's --connect-to, then --resolve), in the shared helper.
    OverrideTarget target = apply_overrides(options.overrides, host, port);
    if (!target.addresses.empty()) {
        return Driver(options, target.host, target.port).run_addresses(target.addresses);
    }
    std::string_view literal = target.host;
    if (literal.size() > 2 && literal.front() == '[' && literal.back() == ']') {
        literal = literal.substr(1, literal.size() - 2);
    }
    // A literal, with a zone for a link-local one (an interface name is looked
    // up here: the adapter does I/O, the core does not).
    if (auto ep = Endpoint::parse_address(literal, target.port, nullptr, interface_index)) {
        return Driver(options, target.host, target.port).run_addresses({*ep});
    }
    return Driver(options, target.host, target.port).run_dns();
}

Result connect(const std::vector<Endpoint>& addresses, const Options& options) {
    if (auto bad = check_options(options)) return misuse(bad->message());
    return Driver(options, std::string(), 0).run_addresses(addresses);
}

}  // namespace eyeballs::poll
