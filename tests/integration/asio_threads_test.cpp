// SPDX-License-Identifier: BSL-1.0
// async_connect (either flavour: asio_common.hpp) on an io_context run by
// four threads: the race runs on a strand of its own, so its handlers never
// overlap, whatever the caller's handler is bound to. Built as its own binary
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
#else
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
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

}  // namespace
