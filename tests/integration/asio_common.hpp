// SPDX-License-Identifier: BSL-1.0
// Helpers shared by the Asio adapter's integration tests.
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

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <gtest/gtest.h>

#include "eyeballs/asio.hpp"
#include "support.hpp"

namespace asio_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using tcp = ::asio::ip::tcp;
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
    std::error_code ec;
    std::optional<tcp::socket> socket;
    Clock::time_point started = Clock::now();
    Clock::time_point finished{};

    eyeballs::asio::connect_options options(eyeballs::Config config = {}) {
        eyeballs::asio::connect_options o;
        o.config = std::move(config);
        o.report = report;
        o.on_action = rec.observer();
        return o;
    }
    auto handler() {
        return [this](std::error_code e, tcp::socket s) {
            ++calls;
            ec = e;
            socket.emplace(std::move(s));
            finished = Clock::now();
        };
    }
    bool connected() const { return calls == 1 && !ec && socket && socket->is_open(); }
    /// The remote the winner is connected to.
    Endpoint peer() const { return eyeballs::asio::from_asio(socket->remote_endpoint()); }
    double elapsed_ms() const { return ms(finished - started); }
};

/// SPEC §1 rule 9 and §5, checked on the actions: one Report, last; every
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

inline tcp::endpoint to_tcp(const Endpoint& e) { return eyeballs::asio::to_asio_endpoint(e); }

}  // namespace asio_test
