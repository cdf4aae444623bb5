// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's libevent runner: ConnectJob → eyeballs::libevent::connect
// on a private event_base, dispatched until the race has ended.
#include <event2/event.h>

#include <cerrno>
#include <memory>

#include "eyeballs/libevent.hpp"
#include "run.hpp"

namespace eyeballs::tool {

namespace {

struct BaseDeleter {
    void operator()(event_base* b) const noexcept { event_base_free(b); }
};
struct EventDeleter {
    void operator()(event* e) const noexcept { event_free(e); }
};

ConnectResult failed(std::string message) {
    ConnectResult r;
    r.report.outcome = Outcome::failed;
    r.report.message = std::move(message);
    return r;
}

}  // namespace

ConnectResult run_libevent(const ConnectJob& job) {
    // A precise timer (CLOCK_MONOTONIC + timerfd) rather than libevent's
    // default coarse clock and whole-millisecond epoll timeouts: SPEC §7.
    event_config* cfg = event_config_new();
    if (cfg == nullptr) return failed("libevent: event_config_new failed");
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    std::unique_ptr<event_base, BaseDeleter> base(event_base_new_with_config(cfg));
    event_config_free(cfg);
    if (!base) return failed("libevent: event_base_new_with_config failed");

    libevent::Options options;
    options.config = job.config;
    options.dns_server = job.dns_server;
    options.on_action = job.on_action;

    ConnectResult result;
    bool done = false;
    std::unique_ptr<event, EventDeleter> cancel_ev;
    auto on_done = [&](evutil_socket_t fd, const RaceReport& report) {
        result.fd = fd;
        result.report = report;
        done = true;
        cancel_ev.reset();  // nothing else keeps the loop busy once DNS has wound down
    };

    libevent::Handle handle =
        job.addresses_mode ? libevent::connect(base.get(), job.addresses, options, on_done)
                           : libevent::connect(base.get(), job.host, job.port, options, on_done);
    if (!handle.status()) return failed(handle.status().message());

    // SIGINT's self-pipe: readable → cancel. The fd is only watched, never read.
    if (job.cancel_fd >= 0 && !done) {
        cancel_ev.reset(event_new(
            base.get(), job.cancel_fd, EV_READ,
            [](evutil_socket_t, short, void* arg) { static_cast<libevent::Handle*>(arg)->cancel(); },
            &handle));
        if (cancel_ev) event_add(cancel_ev.get(), nullptr);
    }

    while (!done) {
        // 1 = nothing left to wait for, which a running race never allows.
        if (event_base_loop(base.get(), EVLOOP_ONCE) != 0) {
            handle.cancel();
            break;
        }
    }
    // Let libevent deliver the cancellations of DNS queries still out: the
    // adapter-made evdns_base is freed once they are in (a turn or two).
    cancel_ev.reset();
    for (int turn = 0; turn < 8 && event_base_loop(base.get(), EVLOOP_NONBLOCK) == 0; ++turn) {
    }
    if (!done) return failed("libevent: the event loop stopped before the race ended");
    return result;
}

}  // namespace eyeballs::tool
