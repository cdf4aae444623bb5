// SPDX-License-Identifier: BSL-1.0
// Fault suite (issue 14): races abandoned at every stage, in every adapter, in
// every way an application can abandon one — and every adapter entry point
// under a low fd limit.
//
// The matrix: adapter (poll, asio, libevent) × stage × way.
//   Stages  dns      DNS pending: the test DNS server never answers "slow.test"
//           one      one attempt in flight: one blackholed 127.0.0.1 listener
//           several  three attempts in flight: three blackholes, 10 ms apart
//           winner   just after a winner: the loop is stepped until the race's
//                    Report action has been performed, then abandoned at once
//   Ways    cancel   the adapter's cancellation (asio: the bound cancellation
//                    signal, terminal; libevent: Handle::cancel(); poll: the
//                    cancel fd made readable from another thread)
//           timeout  Config::overall_timeout ends the race at the stage
//           loop     the loop destroyed with the race pending (asio: the
//                    io_context destroyed; libevent: the handle dropped and
//                    event_base_free with no further loop turn)
//           drop     the handle dropped, the loop run on (libevent only)
// Cells that do not apply, and why:
//   - poll × loop, poll × drop: poll::connect is one blocking call; its loop
//     lives on the caller's stack and there is no handle. Its ways are cancel
//     (cancel_fd, from another thread) and timeout.
//   - asio × drop: an Asio operation has no handle; the only way to drop it
//     unfinished is to destroy its io_context (the `loop` cell).
//   - libevent × loop means "handle dropped, then event_base_free at once":
//     libevent.hpp forbids freeing the base while a race on it is running
//     (the race's events live in the base), so the handle must go first; no
//     loop turn comes in between. (With dns_server the adapter asks the
//     server itself; the evdns path, whose cancellations libevent delivers
//     only from the loop, has AbandonLibevent's test below.)
//   - × winner × timeout: the race has already ended when it is abandoned, so
//     no overall timeout can fire; not run.
// Each cell checks the count of open fds before and after (everything torn
// down), that the completion came as the way says (cancelled, timed out, or
// never for loop/drop), and that the stage was really reached. Under the asan
// preset LeakSanitizer checks the memory at exit (issue 14 item 1's leak).
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support.hpp"
#ifdef EYEBALLS_HAVE_POLL
#include "eyeballs/poll.hpp"
#endif
#ifdef EYEBALLS_HAVE_ASIO
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "eyeballs/asio.hpp"
#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
#include <event2/event.h>
#if defined(__SANITIZE_ADDRESS__)
#define EYEBALLS_TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EYEBALLS_TEST_LSAN 1
#endif
#endif
#ifdef EYEBALLS_TEST_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#include "eyeballs/libevent.hpp"
#endif

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;

enum class Stage { dns, one, several, winner };
enum class Way { cancel, timeout, loop, drop };

const char* stage_text(Stage s) {
    switch (s) {
        case Stage::dns: return "dns";
        case Stage::one: return "one";
        case Stage::several: return "several";
        case Stage::winner: return "winner";
    }
    return "?";
}
const char* way_text(Way w) {
    switch (w) {
        case Way::cancel: return "cancel";
        case Way::timeout: return "timeout";
        case Way::loop: return "loop";
        case Way::drop: return "drop";
    }
    return "?";
}

constexpr const char* slow_host = "slow.test";

/// The world of one cell: the servers it races against, and what the race did.
struct World {
    explicit World(Stage s) : stage(s) {
        switch (stage) {
            case Stage::dns:
                dns.emplace();
                dns->set(slow_host, Family::v6, DnsServer::Answer::silent());
                dns->set(slow_host, Family::v4, DnsServer::Answer::silent());
                break;
            case Stage::one:
                holes.emplace_back(loopback_v4());
                break;
            case Stage::several:
                for (int i = 0; i < 3; ++i) holes.emplace_back(loopback_v4());
                break;
            case Stage::winner:
                listener.emplace(loopback_v4());
                break;
        }
    }
    bool dns_mode() const { return stage == Stage::dns; }
    std::vector<Endpoint> targets() const {
        std::vector<Endpoint> out;
        for (const Blackhole& h : holes) out.push_back(h.endpoint());
        if (listener) out.push_back(listener->endpoint());
        return out;
    }
    /// When the race is abandoned (by a cancel or the overall timeout).
    Millis at() const { return stage == Stage::several ? 60ms : 30ms; }
    Config config(Way way) const {
        Config c;
        c.attempt_delay = Duration(10ms);  // several: three starts by 20 ms
        if (way == Way::timeout) c.overall_timeout = Duration(at());
        return c;
    }
    ActionObserver observer() {
        return [this](TimePoint, const Action& a, const RaceMachine&) {
            if (std::holds_alternative<Resolve>(a)) ++resolves;
            if (std::holds_alternative<Connect>(a)) ++connects;
            if (std::holds_alternative<Close>(a)) ++closes;
            if (std::holds_alternative<Report>(a)) reported = true;
        };
    }
    /// The stage was really reached when the race was abandoned.
    void expect_stage_reached() const {
        switch (stage) {
            case Stage::dns:
                EXPECT_GE(resolves.load(), 2) << "AAAA and A were asked";
                EXPECT_EQ(connects.load(), 0) << "no answer, no attempt";
                break;
            case Stage::one:
                EXPECT_EQ(connects.load(), 1);
                break;
            case Stage::several:
                EXPECT_EQ(connects.load(), 3) << "three attempts in flight";
                break;
            case Stage::winner:
                EXPECT_TRUE(reported.load());
                EXPECT_EQ(connects.load(), 1);
                break;
        }
    }

    Stage stage;
    std::optional<DnsServer> dns;
    std::vector<Blackhole> holes;
    std::optional<Listener> listener;
    std::atomic<int> resolves{0};
    std::atomic<int> connects{0};
    std::atomic<int> closes{0};
    std::atomic<bool> reported{false};
};

#ifdef EYEBALLS_HAVE_POLL
// ---- poll ---------------------------------------------------------------------

void poll_cell(Stage stage, Way way) {
    World w(stage);
    poll::Options options;
    options.config = w.config(way);
    options.on_action = w.observer();
    int pipe_fds[2];
    ASSERT_EQ(::pipe2(pipe_fds, O_CLOEXEC), 0);
    Fd cancel_read(pipe_fds[0]);
    Fd cancel_write(pipe_fds[1]);
    std::thread canceller;
    if (way == Way::cancel) {
        options.cancel_fd = cancel_read.get();
        if (stage == Stage::winner) {
            // The cancel arrives just after the winner: from the Report action.
            options.on_action = [&w, &cancel_write, inner = w.observer()](
                                    TimePoint t, const Action& a, const RaceMachine& m) {
                inner(t, a, m);
                if (std::holds_alternative<Report>(a)) {
                    ASSERT_EQ(::write(cancel_write.get(), "x", 1), 1);
                }
            };
        } else {
            canceller = std::thread([&] {
                std::this_thread::sleep_for(w.at());
                ASSERT_EQ(::write(cancel_write.get(), "x", 1), 1);
            });
        }
    }
    if (w.dns) options.dns.server = w.dns->endpoint();
    poll::Result r = w.dns_mode() ? poll::connect(slow_host, 443, options)
                                  : poll::connect(w.targets(), options);
    if (canceller.joinable()) canceller.join();
    Fd winner(r.fd);
    EXPECT_TRUE(r.status.ok()) << r.status.message();
    if (stage == Stage::winner) {
        EXPECT_EQ(r.report.outcome, Outcome::connected) << "a cancel after the winner changes nothing";
        EXPECT_GE(winner.get(), 0);
    } else if (way == Way::cancel) {
        EXPECT_EQ(r.report.outcome, Outcome::cancelled) << r.report.message;
        EXPECT_LT(winner.get(), 0);
    } else {
        EXPECT_EQ(r.report.outcome, Outcome::failed);
        EXPECT_EQ(r.report.code, ETIMEDOUT) << r.report.message;
    }
    w.expect_stage_reached();
}

#endif
#ifdef EYEBALLS_HAVE_ASIO
// ---- asio ---------------------------------------------------------------------

void asio_cell(Stage stage, Way way) {
    World w(stage);
    asio::connect_options options;
    options.config = w.config(way);
    options.on_action = w.observer();
    options.report = std::make_shared<RaceReport>();
    if (w.dns) {
        options.dns_server = ::asio::ip::udp::endpoint(asio::to_asio_address(w.dns->endpoint()),
                                                       w.dns->endpoint().port());
    }
    int calls = 0;
    std::error_code result;
    Fd winner;
    {
        std::optional<::asio::io_context> io(std::in_place, 1);
        ::asio::cancellation_signal cancel;
        auto handler = [&](std::error_code ec, ::asio::ip::tcp::socket s) {
            ++calls;
            result = ec;
            if (s.is_open()) winner.reset(s.release());
        };
        if (w.dns_mode()) {
            asio::async_connect(io->get_executor(), slow_host, 443, options,
                                ::asio::bind_cancellation_slot(cancel.slot(), handler));
        } else {
            asio::async_connect(io->get_executor(), w.targets(), options,
                                ::asio::bind_cancellation_slot(cancel.slot(), handler));
        }
        if (stage == Stage::winner) {
            // Step until the race has reported: its handler is posted, not run.
            const auto limit = std::chrono::steady_clock::now() + 5s;
            while (!w.reported && std::chrono::steady_clock::now() < limit) io->run_one_for(100ms);
            ASSERT_TRUE(w.reported);
            w.expect_stage_reached();
            if (way == Way::cancel) {
                cancel.emit(::asio::cancellation_type::terminal);  // too late: no effect
                io->run();
                EXPECT_EQ(calls, 1);
                EXPECT_FALSE(result) << result.message();
                EXPECT_GE(winner.get(), 0);
            } else {  // loop: the io_context goes with the posted handler and its socket
                io.reset();
                EXPECT_EQ(calls, 0);
            }
        } else if (way == Way::loop) {
            io->run_for(w.at());
            EXPECT_EQ(calls, 0) << "still pending when the io_context is destroyed";
            w.expect_stage_reached();
            io.reset();
            EXPECT_EQ(calls, 0) << "destroying the context never invokes the handler";
        } else {
            ::asio::steady_timer t(*io, w.at());
            if (way == Way::cancel) {
                t.async_wait([&](std::error_code) {
                    w.expect_stage_reached();
                    cancel.emit(::asio::cancellation_type::terminal);
                });
            }
            io->run_for(10s);
            EXPECT_EQ(calls, 1);
            if (way == Way::cancel) {
                EXPECT_EQ(result, ::asio::error::operation_aborted) << result.message();
                EXPECT_EQ(options.report->outcome, Outcome::cancelled);
            } else {
                EXPECT_EQ(result, ::asio::error::timed_out) << result.message();
            }
        }
    }
    if (stage != Stage::winner && way != Way::loop) w.expect_stage_reached();
}

#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
// ---- libevent -----------------------------------------------------------------

struct BaseFree {
    void operator()(event_base* b) const noexcept { event_base_free(b); }
};

void libevent_cell(Stage stage, Way way) {
    World w(stage);
    std::unique_ptr<event_base, BaseFree> base(event_base_new());
    ASSERT_TRUE(base);
    libevent::Options options;
    options.config = w.config(way);
    options.on_action = w.observer();
    if (w.dns) options.dns_server = w.dns->endpoint();
    int calls = 0;
    Outcome outcome = Outcome::failed;
    int code = 0;
    Fd winner;
    auto callback = [&](evutil_socket_t fd, const RaceReport& report) {
        ++calls;
        outcome = report.outcome;
        code = report.code;
        if (fd >= 0) winner.reset(fd);
    };
    libevent::Handle handle = w.dns_mode()
                                  ? libevent::connect(base.get(), slow_host, 443, options, callback)
                                  : libevent::connect(base.get(), w.targets(), options, callback);
    ASSERT_TRUE(handle.status()) << handle.status().message();

    auto loop_for = [&](Millis d) {
        const timeval tv{0, static_cast<suseconds_t>(
                                std::chrono::duration_cast<std::chrono::microseconds>(d).count())};
        event_base_loopexit(base.get(), &tv);
        event_base_dispatch(base.get());
    };
    auto wind_down = [&] {  // the turns libevent needs to deliver DNS cancellations
        for (int turn = 0; turn < 8 && event_base_loop(base.get(), EVLOOP_NONBLOCK) == 0; ++turn) {
        }
    };

    if (stage == Stage::winner) {
        const auto limit = std::chrono::steady_clock::now() + 5s;
        while (!w.reported && std::chrono::steady_clock::now() < limit) {
            event_base_loop(base.get(), EVLOOP_ONCE);
        }
        ASSERT_TRUE(w.reported);
    } else if (way == Way::loop || way == Way::drop) {
        loop_for(w.at());
        EXPECT_EQ(calls, 0);
        w.expect_stage_reached();
    } else {
        if (way == Way::cancel) {
            loop_for(w.at());
            w.expect_stage_reached();
            handle.cancel();
            EXPECT_EQ(calls, 1) << "cancel() calls back before it returns";
        } else {
            const auto limit = std::chrono::steady_clock::now() + 10s;
            while (calls == 0 && std::chrono::steady_clock::now() < limit) {
                event_base_loop(base.get(), EVLOOP_ONCE);
            }
            w.expect_stage_reached();
        }
        EXPECT_EQ(calls, 1);
        if (way == Way::cancel) {
            EXPECT_EQ(outcome, Outcome::cancelled);
        } else {
            EXPECT_EQ(outcome, Outcome::failed);
            EXPECT_EQ(code, ETIMEDOUT);
        }
    }

    switch (way) {
        case Way::cancel:
            handle.cancel();  // idempotent; after a winner it does nothing
            wind_down();
            break;
        case Way::timeout:
            wind_down();
            break;
        case Way::drop:
            handle = libevent::Handle();  // abandons the race: no callback
            wind_down();
            break;
        case Way::loop:
            // The handle dropped and the base freed at once, with no loop
            // turn in between.
            handle = libevent::Handle();
            base.reset();
            break;
    }
    if (stage == Stage::winner) {
        EXPECT_EQ(calls, 1) << "the winner was delivered once";
        EXPECT_EQ(outcome, Outcome::connected);
        EXPECT_GE(winner.get(), 0);
    } else if (way == Way::loop || way == Way::drop) {
        EXPECT_EQ(calls, 0) << "a dropped handle's callback never runs";
    }
    handle = libevent::Handle();
    base.reset();
}

#endif

// ---- the matrix ---------------------------------------------------------------

struct Cell {
    const char* adapter;
    Stage stage;
    Way way;
};

std::vector<Cell> cells() {
    std::vector<Cell> out;
    for (Stage s : {Stage::dns, Stage::one, Stage::several, Stage::winner}) {
        for (Way w : {Way::cancel, Way::timeout, Way::loop, Way::drop}) {
            const bool after_winner_timeout = s == Stage::winner && w == Way::timeout;
            if (after_winner_timeout) continue;
#ifdef EYEBALLS_HAVE_POLL
            if (w == Way::cancel || w == Way::timeout) out.push_back({"poll", s, w});
#endif
#ifdef EYEBALLS_HAVE_ASIO
            if (w != Way::drop) out.push_back({"asio", s, w});
#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
            out.push_back({"libevent", s, w});
#endif
        }
    }
    return out;
}

class Abandon : public ::testing::TestWithParam<Cell> {};

void run_cell(const Cell& c) {
    const int before = open_fd_count();
    const std::string adapter = c.adapter;
#ifdef EYEBALLS_HAVE_POLL
    if (adapter == "poll") poll_cell(c.stage, c.way);
#endif
#ifdef EYEBALLS_HAVE_ASIO
    if (adapter == "asio") asio_cell(c.stage, c.way);
#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
    if (adapter == "libevent") libevent_cell(c.stage, c.way);
#endif
    EXPECT_EQ(open_fd_count(), before) << "file descriptors leaked (or closed twice)";
}

TEST_P(Abandon, LeavesNoFdAndCompletesAsTheWaySays) { run_cell(GetParam()); }

std::string cell_name(const ::testing::TestParamInfo<Cell>& info) {
    return std::string(info.param.adapter) + "_" + stage_text(info.param.stage) + "_" +
           way_text(info.param.way);
}

INSTANTIATE_TEST_SUITE_P(Matrix, Abandon, ::testing::ValuesIn(cells()), cell_name);

#ifdef EYEBALLS_HAVE_LIBEVENT
// Without dns_server evdns resolves, on an evdns_base the adapter makes (its
// nameservers from /etc/resolv.conf; its UDP socket opened at once). A race
// dropped with its query pending and the event_base freed with no loop turn
// in between: libevent never delivers the cancellation, so the adapter's
// finalizer frees that evdns_base inside event_base_free — no fd is left
// (before, the evdns_base and its socket leaked: +1 fd). The query never
// leaves this process unanswered for long: nothing reads its answer.
// libevent's own bookkeeping of the cancelled request (its deferred callback
// and getaddrinfo state) can only be freed from a loop turn that never
// comes; LeakSanitizer is told to ignore what is allocated in this window.
TEST(AbandonLibevent, AdapterEvdnsBaseFreedWithTheEventBaseWithNoLoopTurn) {
    const int before = open_fd_count();
    {
#ifdef EYEBALLS_TEST_LSAN
        __lsan::ScopedDisabler libevent_bookkeeping;
#endif
        event_base* base = event_base_new();
        ASSERT_NE(base, nullptr);
        int calls = 0;
        libevent::Options options;  // no dns_server: evdns, adapter-made base
        libevent::Handle handle = libevent::connect(
            base, "abandoned.invalid", 443, options,
            [&calls](evutil_socket_t, const RaceReport&) { ++calls; });
        ASSERT_TRUE(handle.status()) << handle.status().message();
        EXPECT_TRUE(handle.running()) << "the query is pending: nothing answers without a loop";
        handle = libevent::Handle();
        event_base_free(base);
        EXPECT_EQ(calls, 0);
    }
    EXPECT_EQ(open_fd_count(), before) << "the adapter-made evdns_base (and its socket) leaked";
}
#endif

}  // namespace
}  // namespace eyeballs::test
