// SPDX-License-Identifier: BSL-1.0
// async_connect (either flavour: asio_common.hpp) on an io_context run by
// four threads: the race runs on a strand of its own, so its handlers never
// overlap, whatever the caller's handler is bound to. On an io_context made
// for one thread (concurrency hint 1) the race has no strand: races started
// and cancelled from another thread than the one running it. Built as its own binary
// (label `tsan`) so CI runs it under ThreadSanitizer, which turns any data
// race in the adapter into a failure.
#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#ifdef EYEBALLS_TEST_BOOST_ASIO
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#else
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/thread_pool.hpp>
#endif

#include "asio_common.hpp"

namespace {

using namespace asio_test;
using eyeballs::Outcome;
using eyeballs::test::Blackhole;
using eyeballs::test::bind_loopback_pair;
using eyeballs::test::Listener;
using eyeballs::test::loopback_v4;
using eyeballs::test::loopback_v6;
using eyeballs::test::RefusedPort;

class AsioThreads : public eyeballs::test::FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (!eyeballs::test::ipv6_loopback_available()) {
            GTEST_SKIP() << "needs [::1]: IPv6 loopback is disabled here";
        }
    }
};

/// One race of the multi-threaded run: its own strand, its own cancellation
/// signal (emitted on that strand, as Asio requires), its own results.
struct ThreadedRace {
    explicit ThreadedRace(net::io_context& io) : strand(net::make_strand(io)), timer(strand) {}
    net::strand<net::io_context::executor_type> strand;
    net::steady_timer timer;
    net::cancellation_signal cancel;
    Recorder rec;
    std::shared_ptr<eyeballs::RaceReport> report = std::make_shared<eyeballs::RaceReport>();
    std::atomic<int> calls{0};
    bool in_strand = false;
    error_code ec;
    std::optional<tcp::socket> socket;
};

TEST_F(AsioThreads, ManyRacesOnFourThreadsWithCancellations) {
    auto good = bind_loopback_pair();  // [::1] refused, 127.0.0.1 open
    RefusedPort refused(std::move(good.v6));
    Listener open(std::move(good.v4), 1024);
    auto dead = bind_loopback_pair();  // both blackholed
    Blackhole hole6(std::move(dead.v6));
    Blackhole hole4(std::move(dead.v4));

    net::io_context io(4);
    constexpr int n = 120;
    std::vector<std::unique_ptr<ThreadedRace>> races;
    std::atomic<int> finished{0};
    std::mt19937 rng(12345);

    for (int i = 0; i < n; ++i) {
        races.push_back(std::make_unique<ThreadedRace>(io));
        ThreadedRace& r = *races.back();
        const bool doomed = i % 2 == 0;  // blackholes: only a cancellation ends it
        adapter::connect_options o;
        o.report = r.report;
        o.on_action = r.rec.observer();
        auto handler = [&r, &finished](error_code ec, tcp::socket s) {
            r.in_strand = r.strand.running_in_this_thread();
            r.ec = ec;
            r.socket.emplace(std::move(s));
            r.calls.fetch_add(1);
            finished.fetch_add(1);
        };
        adapter::async_connect(
            io.get_executor(),
            doomed ? std::vector<Endpoint>{loopback_v6(dead.port), loopback_v4(dead.port)}
                   : std::vector<Endpoint>{loopback_v6(good.port), loopback_v4(good.port)},
            o,
            net::bind_cancellation_slot(r.cancel.slot(), net::bind_executor(r.strand, handler)));
        if (doomed) {
            // Cancel at 0 … 400 ms: during the first attempt, between attempts,
            // with both in flight.
            r.timer.expires_after(std::chrono::milliseconds(rng() % 400));
            r.timer.async_wait([&r](error_code ec) {
                if (!ec) r.cancel.emit(net::cancellation_type::terminal);
            });
        }
    }

    // Accept the good races' connections as they come, on a strand of its own.
    auto acceptor_strand = net::make_strand(io);
    net::steady_timer accept_timer(acceptor_strand);
    std::function<void()> accept_loop = [&] {
        open.accept_all();
        if (finished.load() == n) return;
        accept_timer.expires_after(5ms);
        accept_timer.async_wait([&](error_code) { accept_loop(); });
    };
    net::post(acceptor_strand, accept_loop);

    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&io] { io.run(); });
    for (auto& t : threads) t.join();
    open.accept_all();

    ASSERT_EQ(finished.load(), n);
    for (int i = 0; i < n; ++i) {
        ThreadedRace& r = *races[static_cast<std::size_t>(i)];
        SCOPED_TRACE("race " + std::to_string(i));
        EXPECT_EQ(r.calls.load(), 1);
        EXPECT_TRUE(r.in_strand) << "the handler runs on its bound strand";
        if (i % 2 == 0) {
            EXPECT_EQ(r.ec, net::error::operation_aborted);
            EXPECT_EQ(r.report->outcome, Outcome::cancelled);
            EXPECT_FALSE(r.socket->is_open());
        } else {
            ASSERT_FALSE(r.ec) << r.ec.message() << " " << r.report->message;
            EXPECT_EQ(adapter::from_asio(r.socket->remote_endpoint()),
                      loopback_v4(good.port));
        }
        const auto reports = r.rec.all<eyeballs::Report>();
        ASSERT_EQ(reports.size(), 1u);
        const auto closes = r.rec.all<eyeballs::Close>().size();
        const auto connects = r.rec.all<eyeballs::Connect>().size();
        EXPECT_EQ(closes, i % 2 == 0 ? connects : connects - 1)
            << "every loser closed, the winner kept";
    }
    races.clear();
}

TEST_F(AsioThreads, UnboundHandlersOnFourThreads) {
    // Plain callbacks: their executor is the io_context itself, so they may run
    // on any thread at once; the races themselves must stay race-free.
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4), 1024);
    net::io_context io(4);
    constexpr int n = 60;
    std::atomic<int> ok{0}, done{0};
    eyeballs::Config c;
    c.attempt_delay = 20ms;  // the blackholed IPv6 loses sooner
    adapter::connect_options o;
    o.config = c;
    for (int i = 0; i < n; ++i) {
        adapter::async_connect(io.get_executor(),
                                      std::vector<Endpoint>{loopback_v6(pair.port),
                                                            loopback_v4(pair.port)},
                                      o, [&](error_code ec, tcp::socket s) {
                                          if (!ec && s.is_open()) ok.fetch_add(1);
                                          done.fetch_add(1);
                                      });
    }
    net::steady_timer accept_timer(io);
    std::function<void()> accept_loop = [&] {
        open.accept_all();
        if (done.load() == n) return;
        accept_timer.expires_after(5ms);
        accept_timer.async_wait([&](error_code) { accept_loop(); });
    };
    net::post(io, accept_loop);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&io] { io.run(); });
    for (auto& t : threads) t.join();
    open.accept_all();
    EXPECT_EQ(done.load(), n);
    EXPECT_EQ(ok.load(), n);
}

TEST(AsioOneThread, OnlyAnIoContextMadeForOneThreadGoesWithoutAStrand) {
    using adapter::detail::one_thread_executor;
    net::io_context one(1), four(4), plain;
    EXPECT_TRUE(one_thread_executor(one.get_executor()));
    EXPECT_TRUE(one_thread_executor(net::require(one.get_executor(),
                                                 net::execution::outstanding_work.tracked)));
    EXPECT_FALSE(one_thread_executor(four.get_executor()));
    EXPECT_FALSE(one_thread_executor(plain.get_executor()));
    // A strand over it, or another executor: the race keeps its own strand.
    EXPECT_FALSE(one_thread_executor(net::make_strand(one.get_executor())));
    net::thread_pool pool(1);
    EXPECT_FALSE(one_thread_executor(pool.get_executor()));
    pool.join();
}

TEST_F(AsioThreads, OneThreadHintRacesStartedAndCancelledFromAnotherThread) {
    // io_context(1) runs in one thread and the races need no strand; this
    // thread starts them while it runs, and half are cancelled (the signal
    // emitted in the io_context's thread, as Asio requires of a slot's
    // handler). ThreadSanitizer sees any state the two threads share.
    auto good = bind_loopback_pair();  // [::1] refused, 127.0.0.1 open
    RefusedPort refused(std::move(good.v6));
    Listener open(std::move(good.v4), 1024);
    auto dead = bind_loopback_pair();  // both blackholed
    Blackhole hole6(std::move(dead.v6));
    Blackhole hole4(std::move(dead.v4));

    net::io_context io(1);
    ASSERT_TRUE(adapter::detail::one_thread_executor(io.get_executor()));
    auto work = net::make_work_guard(io);
    std::thread runner([&io] { io.run(); });
    const std::thread::id runner_id = runner.get_id();
    struct Race {
        explicit Race(net::io_context& context) : timer(context) {}
        net::steady_timer timer;
        net::cancellation_signal cancel;
        std::shared_ptr<eyeballs::RaceReport> report = std::make_shared<eyeballs::RaceReport>();
        std::atomic<int> calls{0};
        error_code ec;
        std::optional<tcp::socket> socket;
        std::thread::id thread;
    };
    constexpr int n = 60;
    std::vector<std::unique_ptr<Race>> races;
    std::atomic<int> finished{0};
    for (int i = 0; i < n; ++i) {
        races.push_back(std::make_unique<Race>(io));
        Race& r = *races.back();
        const bool doomed = i % 2 == 0;  // blackholes: only a cancellation ends it
        adapter::connect_options o;
        o.report = r.report;
        adapter::async_connect(
            io.get_executor(),
            doomed ? std::vector<Endpoint>{loopback_v6(dead.port), loopback_v4(dead.port)}
                   : std::vector<Endpoint>{loopback_v6(good.port), loopback_v4(good.port)},
            o,
            net::bind_cancellation_slot(r.cancel.slot(), [&r, &finished](error_code ec, tcp::socket s) {
                r.thread = std::this_thread::get_id();
                r.ec = ec;
                r.socket.emplace(std::move(s));
                r.calls.fetch_add(1);
                finished.fetch_add(1);
            }));
        if (doomed) {
            net::post(io, [&r, delay = std::chrono::milliseconds(i * 5)] {
                r.timer.expires_after(delay);
                r.timer.async_wait([&r](error_code ec) {
                    if (!ec) r.cancel.emit(net::cancellation_type::terminal);
                });
            });
        }
    }
    const auto deadline = Clock::now() + 20s;
    while (finished.load() < n && Clock::now() < deadline) {
        open.accept_all();
        std::this_thread::sleep_for(5ms);
    }
    work.reset();
    runner.join();
    open.accept_all();

    ASSERT_EQ(finished.load(), n);
    for (int i = 0; i < n; ++i) {
        Race& r = *races[static_cast<std::size_t>(i)];
        SCOPED_TRACE("race " + std::to_string(i));
        EXPECT_EQ(r.calls.load(), 1);
        EXPECT_EQ(r.thread, runner_id) << "the handler runs in the io_context's thread";
        if (i % 2 == 0) {
            EXPECT_EQ(r.ec, net::error::operation_aborted);
            EXPECT_EQ(r.report->outcome, Outcome::cancelled);
            EXPECT_FALSE(r.socket->is_open());
        } else {
            ASSERT_FALSE(r.ec) << r.ec.message() << " " << r.report->message;
            EXPECT_EQ(adapter::from_asio(r.socket->remote_endpoint()), loopback_v4(good.port));
        }
    }
    races.clear();
}

TEST_F(AsioThreads, OneThreadHintRaceStartedFromAHandlerBeginsAtOnce) {
    // Started from a handler of an io_context(1), a race begins inside
    // async_connect (its first attempt is opened before it returns); its
    // handler is still posted, never invoked from inside async_connect.
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4), 64);
    net::io_context io(1);
    constexpr int n = 20;
    struct Race {
        Recorder rec;
        bool opened_inline = false;
        bool completed_inline = false;
        int calls = 0;
        error_code ec;
    };
    std::vector<Race> races(n);
    int done = 0;
    eyeballs::Config c;
    c.attempt_delay = 20ms;
    net::post(io, [&] {
        for (Race& r : races) {
            adapter::connect_options o;
            o.config = c;
            o.on_action = r.rec.observer();
            adapter::async_connect(io.get_executor(),
                                   std::vector<Endpoint>{loopback_v6(pair.port), loopback_v4(pair.port)},
                                   o, [&r, &done](error_code ec, tcp::socket) {
                                       r.ec = ec;
                                       ++r.calls;
                                       ++done;
                                   });
            r.opened_inline = r.rec.all<eyeballs::OpenSocket>().size() == 1;
            r.completed_inline = r.calls != 0;
        }
    });
    net::steady_timer accept_timer(io);
    std::function<void()> accept_loop = [&] {
        open.accept_all();
        if (done == n) return;
        accept_timer.expires_after(5ms);
        accept_timer.async_wait([&](error_code) { accept_loop(); });
    };
    net::post(io, accept_loop);
    io.run();
    for (int i = 0; i < n; ++i) {
        const Race& r = races[static_cast<std::size_t>(i)];
        SCOPED_TRACE("race " + std::to_string(i));
        EXPECT_TRUE(r.opened_inline) << "the first socket is opened inside async_connect";
        EXPECT_FALSE(r.completed_inline);
        EXPECT_EQ(r.calls, 1);
        EXPECT_FALSE(r.ec) << r.ec.message();
    }
}

TEST_F(AsioThreads, OneThreadRaceOutgrowsItsOwnStorage) {
    // On an io_context(1) a race keeps two endpoints, two sockets, its
    // completion and two pending waits inside its own object (issue 19
    // item 3); here five endpoints and four blackholed attempts in flight at
    // once (the timer's wait beside them) take it past every one of those,
    // into the heap. The fifth endpoint wins, in the caller's order; with and
    // without options.report (a connected race copies no report without it).
    auto dead1 = bind_loopback_pair();
    Blackhole hole16(std::move(dead1.v6));
    Blackhole hole14(std::move(dead1.v4));
    auto dead2 = bind_loopback_pair();
    Blackhole hole26(std::move(dead2.v6));
    Blackhole hole24(std::move(dead2.v4));
    auto good = bind_loopback_pair();
    RefusedPort refused(std::move(good.v6));
    Listener open(std::move(good.v4), 8);
    const std::vector<Endpoint> to = {loopback_v6(dead1.port), loopback_v4(dead1.port),
                                      loopback_v6(dead2.port), loopback_v4(dead2.port),
                                      loopback_v4(good.port)};
    for (const bool with_report : {true, false}) {
        SCOPED_TRACE(with_report ? "with options.report" : "without options.report");
        net::io_context io(1);
        ASSERT_TRUE(adapter::detail::one_thread_executor(io.get_executor()));
        Recorder rec;
        auto report = std::make_shared<eyeballs::RaceReport>();
        error_code ec = net::error::would_block;
        std::optional<tcp::socket> socket;
        adapter::connect_options o;
        o.config.attempt_delay = 20ms;
        o.on_action = rec.observer();
        if (with_report) o.report = report;
        net::post(io, [&] {
            adapter::async_connect(io.get_executor(), to, o, [&](error_code e, tcp::socket s) {
                ec = e;
                socket.emplace(std::move(s));
            });
        });
        io.run();
        ASSERT_FALSE(ec) << ec.message();
        ASSERT_TRUE(socket && socket->is_open());
        EXPECT_EQ(adapter::from_asio(socket->remote_endpoint()), loopback_v4(good.port));
        const auto connects = rec.all<eyeballs::Connect>();
        ASSERT_EQ(connects.size(), 5u);
        // RFC 8305 §4: the families interleaved, each in the given order.
        EXPECT_EQ(connects[0].remote, loopback_v6(dead1.port));
        EXPECT_EQ(connects[1].remote, loopback_v4(dead1.port));
        EXPECT_EQ(connects[2].remote, loopback_v6(dead2.port));
        EXPECT_EQ(connects[3].remote, loopback_v4(dead2.port));
        EXPECT_EQ(connects[4].remote, loopback_v4(good.port));
        EXPECT_EQ(rec.all<eyeballs::Close>().size(), 4u) << "every loser closed";
        if (with_report) {
            EXPECT_EQ(report->outcome, Outcome::connected);
            EXPECT_EQ(report->attempts.size(), 5u);
            EXPECT_EQ(report->winner.number(), 5u);
        } else {
            EXPECT_TRUE(report->attempts.empty()) << "options.report unset: nothing written";
        }
        open.accept_all();
    }
}

TEST_F(AsioThreads, SeveralThreadsHintRaceStartedFromAHandlerIsPosted) {
    // On an io_context for several threads the race starts on its strand,
    // later: nothing is opened inside async_connect.
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4), 4);
    net::io_context io(4);
    Recorder rec;
    std::atomic<bool> opened_inline{true};
    std::atomic<int> calls{0};
    net::post(io, [&] {
        adapter::connect_options o;
        o.on_action = rec.observer();
        adapter::async_connect(io.get_executor(),
                               std::vector<Endpoint>{loopback_v4(pair.port)}, o,
                               [&](error_code, tcp::socket) { calls.fetch_add(1); });
        opened_inline = !rec.all<eyeballs::OpenSocket>().empty();
    });
    std::thread runner([&io] { io.run(); });
    const auto deadline = Clock::now() + 10s;
    while (calls.load() == 0 && Clock::now() < deadline) {
        open.accept_all();
        std::this_thread::sleep_for(2ms);
    }
    runner.join();
    EXPECT_FALSE(opened_inline.load());
    EXPECT_EQ(calls.load(), 1);
}

TEST(AsioOneThread, FourthAttemptWinsPastTheTwoSocketsKeptInTheRace) {
    // io_context(1), no strand; attempts 1 and 2 have their sockets inside
    // the race, 3 and on are allocated: three refusals, then the fourth
    // address connects and every loser is closed.
    RefusedPort a(loopback_v4());
    RefusedPort b(loopback_v4());
    RefusedPort c(loopback_v4());
    Listener open(loopback_v4());
    net::io_context io(1);
    Recorder rec;
    adapter::connect_options o;
    o.on_action = rec.observer();
    o.report = std::make_shared<eyeballs::RaceReport>();
    int calls = 0;
    error_code result;
    std::optional<tcp::socket> winner;
    adapter::async_connect(io.get_executor(),
                           std::vector<Endpoint>{a.endpoint(), b.endpoint(), c.endpoint(),
                                                 open.endpoint()},
                           o, [&](error_code ec, tcp::socket s) {
                               ++calls;
                               result = ec;
                               winner.emplace(std::move(s));
                           });
    io.run();
    ASSERT_EQ(calls, 1);
    ASSERT_FALSE(result) << result.message() << " " << o.report->message;
    EXPECT_EQ(o.report->winner.number(), 4u);
    EXPECT_EQ(adapter::from_asio(winner->remote_endpoint()), open.endpoint());
    EXPECT_EQ(o.report->errors.size(), 3u);
    EXPECT_EQ(rec.all<eyeballs::Close>().size(), 3u);
    EXPECT_EQ(open.accept_all(), 1);
}

}  // namespace
