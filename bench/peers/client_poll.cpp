// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench --adapter poll.
//
// N = 1: the poll adapter itself, eyeballs::poll::connect(addresses) — one
// blocking race over ppoll(2).
//
// N > 1: the poll adapter runs one race per call and blocks, so it cannot
// run a burst of races in one thread. For N > 1 this file has its own small
// driver, NOT the poll adapter: N RaceMachines (the core) over one epoll set,
// with the poll adapter's socket steps (eyeballs/detail/socket_ops.hpp). It
// is what a program with its own epoll loop would write, and is labelled
// "eyeballs core+epoll (bench driver)" in the results. Its loop is
// race_machine.hpp's:
//   - each race: start(now) and drain its actions (OpenSocket → socket(2),
//     Connect → connect(2) and EPOLLOUT|EPOLLONESHOT, Close → close(2),
//     Report → the race has ended);
//   - one epoll_pwait2 with a nanosecond timeout: the earliest deadline of a
//     min-heap of (next_timeout(), race) entries; a stale entry (its race's
//     deadline moved) is skipped when it comes up;
//   - per wake-up, connect results first (SO_ERROR), then the timers due at
//     the wake-up (docs/behaviour.md §7); the clock is read at each event.
#include <sys/epoll.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <queue>
#include <variant>

#include "client.hpp"
#include "eyeballs/detail/socket_ops.hpp"
#include "eyeballs/poll.hpp"
#include "eyeballs/race_machine.hpp"

namespace eyeballs::bench {
namespace {

namespace ops = eyeballs::detail;

std::vector<Endpoint> targets(std::uint16_t port) {
    std::array<std::uint8_t, 16> v6{};
    v6[15] = 1;
    return {Endpoint::v6(v6, port), Endpoint::v4({127, 0, 0, 1}, port)};
}

Config race_config(const RunSpec& spec) {
    Config config;
    config.attempt_delay = spec.attempt_delay;
    return config;
}

// ---- N = 1: the poll adapter ----------------------------------------------

void run_poll_adapter(const RunSpec& spec, std::vector<RaceResult>& results,
                      std::vector<int>& winners) {
    poll::Options options;
    options.config = race_config(spec);
    const std::vector<Endpoint> to = targets(spec.port);
    poll::Result r = poll::connect(to, options);
    results[0].end = Clock::now();
    results[0].start = r.report.started;
    results[0].connected = r.connected();
    if (r.connected()) winners.push_back(r.fd);
}

// ---- N > 1: N machines over one epoll set (bench driver) --------------------

class MultiRace {
public:
    MultiRace(const RunSpec& spec, std::vector<RaceResult>& results, std::vector<int>& winners)
        : results_(results), winners_(winners), targets_(targets(spec.port)) {
        ep_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0) {
            std::perror("eyeballs-bench: epoll_create1");
            std::exit(1);
        }
        races_.reserve(spec.races);
        const Config config = race_config(spec);
        for (std::size_t i = 0; i < spec.races; ++i) races_.emplace_back(config);
        std::vector<Entry> storage;
        storage.reserve(spec.races * 2);
        heap_ = Heap(std::greater<Entry>(), std::move(storage));
    }
    ~MultiRace() { ::close(ep_); }
    MultiRace(const MultiRace&) = delete;
    MultiRace& operator=(const MultiRace&) = delete;

    void run() {
        for (std::uint32_t i = 0; i < races_.size(); ++i) {
            const TimePoint now = Clock::now();
            results_[i].start = now;
            Status s = races_[i].machine.start(now, targets_);
            if (!s) {
                std::fprintf(stderr, "eyeballs-bench: %s\n", s.message().c_str());
                std::exit(1);
            }
            settle(i, now);
        }
        epoll_event events[256];
        while (ended_ < races_.size()) {
            timespec ts{};
            timespec* timeout = nullptr;
            if (!heap_.empty()) {
                auto left = heap_.top().first - Clock::now();
                if (left < Clock::duration::zero()) left = Clock::duration::zero();
                const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
                ts.tv_sec = static_cast<time_t>(ns / 1000000000);
                ts.tv_nsec = static_cast<long>(ns % 1000000000);
                timeout = &ts;
            }
            const int n = ::epoll_pwait2(ep_, events, 256, timeout, nullptr);
            if (n < 0 && errno != EINTR) {
                std::perror("eyeballs-bench: epoll_pwait2");
                std::exit(1);
            }
            // 1. Connect results.
            for (int k = 0; k < n; ++k) {
                const std::uint64_t key = events[k].data.u64;
                const auto i = static_cast<std::uint32_t>(key >> 8);
                const auto number = static_cast<std::uint32_t>(key & 0xff);
                Race& r = races_[i];
                const int fd = r.fds[number - 1];
                if (fd < 0 || r.machine.finished()) continue;
                const auto code = ops::connect_result(fd, static_cast<short>(events[k].events));
                if (!code) continue;
                const TimePoint now = Clock::now();
                if (*code == 0) {
                    r.machine.handle_connected(now, AttemptId(number));
                } else {
                    r.machine.handle_connect_failed(now, AttemptId(number), *code);
                }
                settle(i, now);
            }
            // 2. Timers due at this wake-up (not those that fall due while
            // these run: the next wake-up takes them, after the connect
            // results that came in meanwhile).
            const TimePoint woke = Clock::now();
            while (!heap_.empty() && heap_.top().first <= woke) {
                const Entry e = heap_.top();
                heap_.pop();
                Race& r = races_[e.second];
                if (r.machine.finished() || r.armed != e.first) continue;  // stale
                r.armed.reset();
                const TimePoint now = Clock::now();
                r.machine.handle_timeout(now);
                settle(e.second, now);
            }
        }
    }

private:
    using Entry = std::pair<TimePoint, std::uint32_t>;
    using Heap = std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>>;
    struct Race {
        explicit Race(const Config& config) : machine(config) {}
        RaceMachine machine;
        std::array<int, 2> fds{-1, -1};  // by attempt number - 1 (two targets)
        std::optional<TimePoint> armed;
    };
    struct Immediate {  // a connect that ended inside connect(2)
        AttemptId id;
        int code;
    };

    // Drains race i, feeds the results known at once, re-arms its timer.
    void settle(std::uint32_t i, TimePoint now) {
        Race& r = races_[i];
        drain(i, now);
        while (!immediate_.empty()) {
            const Immediate in = immediate_.back();
            immediate_.pop_back();
            if (in.code == 0) {
                r.machine.handle_connected(now, in.id);
            } else {
                r.machine.handle_connect_failed(now, in.id, in.code);
            }
            drain(i, now);
        }
        if (r.machine.finished()) return;
        const std::optional<TimePoint> next = r.machine.next_timeout();
        if (next && next != r.armed) heap_.emplace(*next, i);
        r.armed = next;
    }

    void drain(std::uint32_t i, TimePoint now) {
        Race& r = races_[i];
        while (auto action = r.machine.poll_action()) {
            if (const auto* o = std::get_if<OpenSocket>(&*action)) {
                int err = 0;
                const int fd = ops::open_stream_socket(o->remote.family(), &err);
                if (fd >= 0) r.fds[o->attempt.number() - 1] = fd;
                r.machine.handle_opened(now, o->attempt, err);
            } else if (const auto* c = std::get_if<Connect>(&*action)) {
                const std::uint32_t number = c->attempt.number();
                const int fd = r.fds[number - 1];
                int err = ops::start_connect(fd, c->remote);
                if (err == EINPROGRESS) {
                    epoll_event ev{};
                    ev.events = EPOLLOUT | EPOLLONESHOT;
                    ev.data.u64 = (static_cast<std::uint64_t>(i) << 8) | number;
                    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) == 0) continue;
                    err = errno;
                }
                immediate_.push_back(Immediate{c->attempt, err});
            } else if (const auto* cl = std::get_if<Close>(&*action)) {
                int& fd = r.fds[cl->attempt.number() - 1];
                ops::close_socket(fd);  // also leaves the epoll set
                fd = -1;
            } else if (const auto* rep = std::get_if<Report>(&*action)) {
                results_[i].end = Clock::now();
                ++ended_;
                if (rep->outcome == Outcome::connected) {
                    int& fd = r.fds[rep->winner.number() - 1];
                    results_[i].connected = true;
                    winners_.push_back(fd);
                    fd = -1;
                }
            } else if (const auto* b = std::get_if<Bind>(&*action)) {
                r.machine.handle_bound(now, b->attempt,
                                       ops::bind_socket(r.fds[b->attempt.number() - 1], b->local));
            }
        }
    }

    std::vector<RaceResult>& results_;
    std::vector<int>& winners_;
    std::vector<Endpoint> targets_;
    std::vector<Race> races_;
    Heap heap_;
    std::vector<Immediate> immediate_;
    std::size_t ended_ = 0;
    int ep_ = -1;
};

class PollClient final : public Client {
public:
    void run(const RunSpec& spec, std::vector<RaceResult>& results) override {
        winners_.reserve(spec.races);
        if (spec.burst == 1) {
            run_poll_adapter(spec, results, winners_);
        } else {
            multi_.emplace(spec, results, winners_);
            multi_->run();
        }
    }
    std::vector<int> winner_fds() const override { return winners_; }
    void close_winners() override {
        for (int fd : winners_) ::close(fd);
        winners_.clear();
        multi_.reset();
    }
    std::string label(std::size_t races) const override {
        return races == 1 ? "eyeballs-poll" : "eyeballs-core+epoll";
    }

private:
    std::vector<int> winners_;
    std::optional<MultiRace> multi_;
};

}  // namespace

std::unique_ptr<Client> make_poll_client() { return std::make_unique<PollClient>(); }

}  // namespace eyeballs::bench
