// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::uring::connect races [::1]:P (refused) and
// 127.0.0.1:P (listening) on an io_uring ring and hands back the fd. Where
// the kernel or a sandbox refuses io_uring it says so and exits 77 (a ctest
// skip).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "eyeballs/uring.hpp"
#include "race_checks.hpp"

int main() {
    eyeballs::uring::Loop loop;
    if (!loop.status()) {
        std::printf("uring: skipped: %s\n", loop.status().message().c_str());
        return 77;
    }
    consumer::Loopback world;
    eyeballs::uring::Options options;
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang CI
    int fd = -1;
    eyeballs::RaceReport report;
    int calls = 0;
    eyeballs::uring::Handle handle = eyeballs::uring::connect(
        loop, consumer::remotes(world.port()), options, [&](int f, const eyeballs::RaceReport& r) {
            fd = f;
            report = r;
            ++calls;
        });
    consumer::expect(handle.status().ok(), "misuse: " + handle.status().message());
    consumer::expect(loop.run().ok(), "Loop::run failed");
    consumer::expect(calls == 1, "the callback ran " + std::to_string(calls) + " times");
    consumer::expect(fd >= 0, "not connected: " + report.message);
    consumer::expect_ipv4_won(report, world.port());
    world.check_peer(fd);
    ::close(fd);
    consumer::expect(loop.races() == 0, "races left on the ring");
    std::printf("uring: connected to %s\n", report.remote->to_string().c_str());
    return 0;
}
