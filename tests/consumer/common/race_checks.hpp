// SPDX-License-Identifier: BSL-1.0
// Consumer tests: what every C++ consumer asserts about its race against
// consumer::Loopback — attempt 1 ([::1]:P) failed, attempt 2 (127.0.0.1:P) won.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/report.hpp"
#include "loopback.hpp"

namespace consumer {

// The two remotes of the race, IPv6 first.
inline std::vector<eyeballs::Endpoint> remotes(std::uint16_t port) {
    return {*eyeballs::Endpoint::parse("[::1]", port), *eyeballs::Endpoint::parse("127.0.0.1", port)};
}

inline void expect_ipv4_won(const eyeballs::RaceReport& r, std::uint16_t port) {
    const eyeballs::Endpoint v4 = *eyeballs::Endpoint::parse("127.0.0.1", port);
    expect(r.outcome == eyeballs::Outcome::connected,
           std::string("the race did not connect: ") + r.message);
    expect(r.remote == v4, "the winner is not 127.0.0.1:" + std::to_string(port));
    expect(r.winner.number() == 2, "the winner is not attempt 2");
    expect(r.attempts.size() == 2, "expected 2 attempts, got " + std::to_string(r.attempts.size()));
    expect(r.attempts[0].state == eyeballs::AttemptRecord::State::failed,
           "attempt 1 ([::1]) did not fail");
    expect(!r.errors.empty() && r.errors[0].attempt == 1,
           "attempt 1's error is not in the report");
}

}  // namespace consumer
