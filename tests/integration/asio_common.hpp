// SPDX-License-Identifier: BSL-1.0
// Helpers shared by the Asio adapter's integration tests.
//
// The tests are written once for both flavours of the adapter, against
// `adapter` (eyeballs::asio or eyeballs::boost_asio), `net` (its Asio:
// ::asio or ::boost::asio), `error_code` and `system_error`. They are compiled
// twice: eyeballs_asio_integration_tests (standalone Asio) and, with
// EYEBALLS_TEST_BOOST_ASIO defined, eyeballs_boost_asio_integration_tests.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <system_error>
#include <type_traits>
#include <variant>
#include <vector>

#ifdef EYEBALLS_TEST_BOOST_ASIO
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/system_error.hpp>

#include "eyeballs/boost_asio.hpp"
#else
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "eyeballs/asio.hpp"
#endif
#include <gtest/gtest.h>

#include "support.hpp"

namespace asio_test {

#ifdef EYEBALLS_TEST_BOOST_ASIO
namespace adapter = eyeballs::boost_asio;
using system_error = boost::system::system_error;
#else
namespace adapter = eyeballs::asio;
using system_error = std::system_error;
#endif
namespace net = adapter::net;
using error_code = adapter::error_code;

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tcp = net::ip::tcp;
using eyeballs::Action;
using eyeballs::Endpoint;

inline double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

/// Every action the adapter performed, with its time (the observer runs on the
/// race's strand; the lock only matters for readers on other threads).
struct Recorder {
    struct Entry {
        eyeballs::TimePoint t;
        Action action;
    };
    mutable std::mutex mu;
    std::vector<Entry> log;

    eyeballs::ActionObserver observer() {
        return [this](eyeballs::TimePoint t, const Action& a, const eyeballs::RaceMachine&) {
            std::lock_guard<std::mutex> lock(mu);
            log.push_back({t, a});
        };
    }
    template <class T>
    std::vector<T> all() const {
        std::lock_guard<std::mutex> lock(mu);
        std::vector<T> out;
        for (const Entry& e : log) {
            if (const T* x = std::get_if<T>(&e.action)) out.push_back(*x);
        }
        return out;
    }
    /// When the first action of type T for `attempt` (0 = any) was performed.
    template <class T>
    std::optional<eyeballs::TimePoint> time_of(std::uint32_t attempt = 0) const {
        std::lock_guard<std::mutex> lock(mu);
        for (const Entry& e : log) {
            if (const T* x = std::get_if<T>(&e.action)) {
                if constexpr (std::is_same_v<T, eyeballs::Resolve> ||
                              std::is_same_v<T, eyeballs::Report>) {
                    return e.t;
                } else {
                    if (attempt == 0 || x->attempt.number() == attempt) return e.t;
                }
            }
        }
        return std::nullopt;
    }
};

/// One race's result, filled by the completion handler from handler().
struct Race {
    Recorder rec;
    std::shared_ptr<eyeballs::RaceReport> report = std::make_shared<eyeballs::RaceReport>();
    int calls = 0;
    error_code ec;
    std::optional<tcp::socket> socket;
    Clock::time_point started = Clock::now();
    Clock::time_point finished{};

    adapter::connect_options options(eyeballs::Config config = {}) {
        adapter::connect_options o;
        o.config = std::move(config);
        o.report = report;
        o.on_action = rec.observer();
        return o;
    }
    auto handler() {
        return [this](error_code e, tcp::socket s) {
            ++calls;
            ec = e;
            socket.emplace(std::move(s));
            finished = Clock::now();
        };
    }
    bool connected() const { return calls == 1 && !ec && socket && socket->is_open(); }
    /// The remote the winner is connected to.
    Endpoint peer() const { return adapter::from_asio(socket->remote_endpoint()); }
    double elapsed_ms() const { return ms(finished - started); }
};

/// docs/behaviour.md §1 rule 9 and §5, checked on the actions: one Report, last; every
/// attempt that got a socket (it was connected or bound) is closed exactly
/// once, except the winner, which is never closed.
inline void expect_clean_trace(const Race& r) {
    const auto opens = r.rec.all<eyeballs::OpenSocket>();
    const auto reports = r.rec.all<eyeballs::Report>();
    ASSERT_EQ(reports.size(), 1u) << "exactly one report";
    {
        std::lock_guard<std::mutex> lock(r.rec.mu);
        EXPECT_TRUE(std::holds_alternative<eyeballs::Report>(r.rec.log.back().action))
            << "the report is the last action";
    }
    std::vector<std::uint32_t> closes;
    for (const auto& c : r.rec.all<eyeballs::Close>()) closes.push_back(c.attempt.number());
    std::sort(closes.begin(), closes.end());
    EXPECT_TRUE(std::adjacent_find(closes.begin(), closes.end()) == closes.end())
        << "an attempt was closed twice";
    std::vector<std::uint32_t> used;  // attempts whose socket was opened
    for (const auto& c : r.rec.all<eyeballs::Connect>()) used.push_back(c.attempt.number());
    for (const auto& b : r.rec.all<eyeballs::Bind>()) used.push_back(b.attempt.number());
    std::sort(used.begin(), used.end());
    used.erase(std::unique(used.begin(), used.end()), used.end());
    const auto winner = reports[0].outcome == eyeballs::Outcome::connected
                            ? reports[0].winner.number()
                            : 0u;
    for (std::uint32_t n : used) {
        const bool closed = std::binary_search(closes.begin(), closes.end(), n);
        if (n == winner) {
            EXPECT_FALSE(closed) << "the winner #" << n << " was closed";
        } else {
            EXPECT_TRUE(closed) << "attempt #" << n << " was opened and never closed";
        }
    }
    for (std::uint32_t n : closes) {
        EXPECT_TRUE(std::binary_search(used.begin(), used.end(), n) ||
                    n <= opens.size())
            << "closed #" << n << " that was never opened";
    }
}

inline tcp::endpoint to_tcp(const Endpoint& e) { return adapter::to_asio_endpoint(e); }

}  // namespace asio_test
