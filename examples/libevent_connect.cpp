// SPDX-License-Identifier: BSL-1.0
// libevent_connect — Happy Eyeballs in a libevent program.
//
//   libevent_connect HOST PORT                resolve HOST (evdns) and race its addresses
//   libevent_connect HOST PORT ADDR [ADDR...] race these addresses (HOST is just a label)
//
// Prints each step of the race as it happens, then the winner, then sends one
// line through the bufferevent it was handed. Ctrl-C cancels the race.
//
// Try it against a broken IPv6 path (a blackholed [::1] and an open 127.0.0.1
// on one port, from the eyeballs-loopback-world tool):
//
//   port=$(eyeballs-loopback-world --v6 blackhole --v4 open &)
//   libevent_connect demo "$port" ::1 127.0.0.1
//   #   0.000 ms  connect #1 [::1]:P
//   # 250.1   ms  connect #2 127.0.0.1:P
//   # 250.4   ms  close #1
//   # connected to 127.0.0.1:P after 250.4 ms
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "eyeballs/libevent.hpp"

namespace {

double ms_since(eyeballs::TimePoint origin, eyeballs::TimePoint t) {
    return std::chrono::duration<double, std::milli>(t - origin).count();
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s HOST PORT [ADDRESS...]\n", argv[0]);
        return 2;
    }
    const std::string host = argv[1];
    const long port = std::strtol(argv[2], nullptr, 10);
    if (port <= 0 || port > 65535) {
        std::fprintf(stderr, "bad port '%s'\n", argv[2]);
        return 2;
    }
    std::vector<eyeballs::Endpoint> addresses;
    for (int i = 3; i < argc; ++i) {
        std::string error;
        auto ep = eyeballs::Endpoint::parse(argv[i], static_cast<std::uint16_t>(port), &error);
        if (!ep) {
            std::fprintf(stderr, "%s\n", error.c_str());
            return 2;
        }
        addresses.push_back(*ep);
    }

    // EVENT_BASE_FLAG_PRECISE_TIMER: sub-millisecond timers (CLOCK_MONOTONIC
    // and a timerfd) instead of libevent's coarse default.
    event_config* cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    event_base* base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (base == nullptr) {
        std::fprintf(stderr, "cannot make an event_base\n");
        return 1;
    }

    eyeballs::libevent::Options options;  // RFC 8305 defaults: 250 ms attempt delay, ...
    const auto origin = std::chrono::steady_clock::now();
    options.on_action = [origin](eyeballs::TimePoint now, const eyeballs::Action& action,
                                 const eyeballs::RaceMachine&) {
        std::printf("%9.3f ms  %s\n", ms_since(origin, now), eyeballs::to_string(action).c_str());
    };

    int status = 1;
    auto on_connected = [&](bufferevent* bev, const eyeballs::RaceReport& report) {
        if (bev == nullptr) {
            std::printf("%s: %s\n", eyeballs::outcome_name(report.outcome),
                        report.message.c_str());
            return;
        }
        std::printf("connected to %s after %.3f ms\n", report.remote->to_string().c_str(),
                    ms_since(report.started, report.finished));
        status = 0;
        // The bufferevent is ours (BEV_OPT_CLOSE_ON_FREE): say hello, then hang up.
        const std::string line = "hello from eyeballs over libevent\r\n";
        bufferevent_write(bev, line.data(), line.size());
        bufferevent_setcb(
            bev, nullptr,
            [](bufferevent* b, void*) {  // output drained
                bufferevent_free(b);
            },
            [](bufferevent* b, short, void*) { bufferevent_free(b); }, nullptr);
        bufferevent_enable(bev, EV_WRITE);
    };

    eyeballs::libevent::Handle race =
        addresses.empty()
            ? eyeballs::libevent::connect_bufferevent(base, host,
                                                      static_cast<std::uint16_t>(port), options,
                                                      on_connected)
            : eyeballs::libevent::connect_bufferevent(base, addresses, options, on_connected);
    if (!race.status()) {
        std::fprintf(stderr, "%s\n", race.status().message().c_str());
        event_base_free(base);
        return 2;
    }

    // Ctrl-C cancels the race: its callback runs with outcome "cancelled".
    event* sigint = evsignal_new(
        base, SIGINT,
        [](evutil_socket_t, short, void* arg) {
            static_cast<eyeballs::libevent::Handle*>(arg)->cancel();
        },
        &race);
    event_add(sigint, nullptr);

    // Run until the race is over, then until its bufferevent is done.
    while (race.running()) event_base_loop(base, EVLOOP_ONCE);
    event_free(sigint);
    event_base_dispatch(base);

    event_base_free(base);
    return status;
}
