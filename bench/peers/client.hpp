// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench — one benchmarked client: N concurrent races in one thread.
//
// A client is built (its event loop made) before the measurement starts;
// run() starts every race as one burst and returns once each has ended; the
// winners' sockets stay open until close_winners(), after the measurement
// (the benchmark measures connecting, not closing what the caller keeps).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "world.hpp"

namespace eyeballs::bench {

using Clock = std::chrono::steady_clock;

struct RaceResult {
    /// When the race began to run: the machine's start time (the first
    /// OpenSocket's `now`, or RaceReport::started).
    Clock::time_point start{};
    /// When the caller learnt the outcome (its handler or callback ran, or the
    /// blocking call returned).
    Clock::time_point end{};
    bool connected = false;
};

struct RunSpec {
    WorldKind world = WorldKind::blackhole6;
    std::size_t races = 1;
    /// The size of the measured burst (a warm-up run has races = 1 but takes
    /// the same code path as the burst it warms up for).
    std::size_t burst = 1;
    std::uint16_t port = 0;
    std::chrono::milliseconds attempt_delay{250};
};

class Client {
public:
    virtual ~Client() = default;
    /// Starts spec.races races at once, against [::1]:port then
    /// 127.0.0.1:port, and returns when every one has ended. `results` has
    /// spec.races entries.
    virtual void run(const RunSpec& spec, std::vector<RaceResult>& results) = 0;
    /// The winners' sockets, still open.
    virtual std::vector<int> winner_fds() const = 0;
    /// Closes them.
    virtual void close_winners() = 0;
    /// How the client is labelled in the results ("eyeballs-asio", ...).
    virtual std::string label(std::size_t races) const = 0;
};

std::unique_ptr<Client> make_poll_client();
std::unique_ptr<Client> make_asio_client();
std::unique_ptr<Client> make_libevent_client();
/// Only when the libuv adapter was built (EYEBALLS_BENCH_HAVE_LIBUV).
std::unique_ptr<Client> make_libuv_client();

}  // namespace eyeballs::bench
