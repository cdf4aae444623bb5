// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::libevent::connect races [::1]:P (refused) and
// 127.0.0.1:P (listening) on an event_base.
#include <event2/event.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "eyeballs/libevent.hpp"
#include "race_checks.hpp"

int main() {
    consumer::Loopback world;
    event_base* base = event_base_new();
    consumer::expect(base != nullptr, "event_base_new failed");
    eyeballs::libevent::Options options;
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang CI
    evutil_socket_t fd = -1;
    eyeballs::RaceReport report;
    int calls = 0;
    eyeballs::libevent::Handle handle = eyeballs::libevent::connect(
        base, consumer::remotes(world.port()), options,
        [&](evutil_socket_t s, const eyeballs::RaceReport& r) {
            fd = s;
            report = r;
            ++calls;
        });
    consumer::expect(handle.status().ok(), "misuse: " + handle.status().message());
    event_base_dispatch(base);
    consumer::expect(calls == 1, "the callback ran " + std::to_string(calls) + " times");
    consumer::expect(fd >= 0, "not connected: " + report.message);
    consumer::expect_ipv4_won(report, world.port());
    world.check_peer(fd);
    ::close(fd);
    handle = eyeballs::libevent::Handle();  // the race is over; drop it before its base
    event_base_free(base);
    std::printf("libevent: connected to %s\n", report.remote->to_string().c_str());
    return 0;
}
