// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::poll::connect races [::1]:P (refused) and
// 127.0.0.1:P (listening) and hands back the connected socket.
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "eyeballs/poll.hpp"
#include "race_checks.hpp"

int main() {
    consumer::Loopback world;
    eyeballs::poll::Options options;
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang CI
    const eyeballs::poll::Result r = eyeballs::poll::connect(consumer::remotes(world.port()), options);
    consumer::expect(r.status.ok(), "misuse: " + r.status.message());
    consumer::expect(r.connected(), "not connected: " + r.report.message);
    consumer::expect_ipv4_won(r.report, world.port());
    world.check_peer(r.fd);
    ::close(r.fd);
    std::printf("poll: connected to %s (attempt 1 failed: %s)\n", r.report.remote->to_string().c_str(),
                r.report.errors[0].message().c_str());
    return 0;
}
