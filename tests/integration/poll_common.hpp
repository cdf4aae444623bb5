// SPDX-License-Identifier: BSL-1.0
// Helpers shared by the poll adapter's integration test files.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/poll.hpp"
#include "eyeballs/posix.hpp"
#include "support.hpp"

namespace eyeballs::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

/// Records every action the adapter performs, with its time.
struct Recorder {
    struct Entry {
        TimePoint t;
        Action action;
    };
    std::vector<Entry> log;

    ActionObserver observer() {
        return [this](TimePoint t, const Action& a, const RaceMachine&) { log.push_back({t, a}); };
    }
    template <class T>
    std::vector<T> all() const {
        std::vector<T> out;
        for (const Entry& e : log) {
            if (const T* x = std::get_if<T>(&e.action)) out.push_back(*x);
        }
        return out;
    }
    /// The time of the first action of type T for `attempt` (0 = any).
    template <class T>
    std::optional<TimePoint> time_of(std::uint32_t attempt = 0) const {
        for (const Entry& e : log) {
            if (const T* x = std::get_if<T>(&e.action)) {
                if constexpr (std::is_same_v<T, Resolve> || std::is_same_v<T, Report>) {
                    return e.t;
                } else {
                    if (attempt == 0 || x->attempt.number() == attempt) return e.t;
                }
            }
        }
        return std::nullopt;
    }
};

inline double ms(Clock::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

/// The peer of a connected socket.
inline std::optional<Endpoint> peer_of(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

inline std::optional<Endpoint> local_of(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
}

/// An RFC 5737 IPv4 address that is not assigned on this host (binding to it
/// fails with EADDRNOTAVAIL). Test hosts do use documentation ranges (a VM
/// with 192.0.2.2 on eth0), so this checks rather than assumes.
inline Endpoint non_local_v4(std::uint8_t last = 1) {
    const std::array<std::array<std::uint8_t, 3>, 3> nets = {
        {{203, 0, 113}, {198, 51, 100}, {192, 0, 2}}};
    for (const auto& n : nets) {
        Endpoint e = Endpoint::v4({n[0], n[1], n[2], last}, 0);
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_storage ss;
        socklen_t len = to_sockaddr(e, ss);
        bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
        int err = errno;
        ::close(fd);
        if (!bound && err == EADDRNOTAVAIL) return e;
    }
    ADD_FAILURE() << "every RFC 5737 network is assigned on this host";
    return Endpoint::v4({203, 0, 113, last}, 0);
}

/// Every opened socket got exactly one Close, except the winner (docs/behaviour.md §1 rule 9),
/// and nothing came after the Report.
inline void expect_clean_trace(const Recorder& rec, const poll::Result& r) {
    ASSERT_FALSE(rec.log.empty());
    EXPECT_TRUE(std::holds_alternative<Report>(rec.log.back().action)) << "the report is last";
    EXPECT_EQ(rec.all<Report>().size(), 1u);
    std::vector<std::uint32_t> closes;
    for (const Close& c : rec.all<Close>()) closes.push_back(c.attempt.number());
    std::sort(closes.begin(), closes.end());
    EXPECT_TRUE(std::adjacent_find(closes.begin(), closes.end()) == closes.end())
        << "an attempt was closed twice";
    if (r.report.outcome == Outcome::connected) {
        EXPECT_FALSE(std::binary_search(closes.begin(), closes.end(), r.report.winner.number()))
            << "the winner was closed";
    }
}

}  // namespace eyeballs::test
