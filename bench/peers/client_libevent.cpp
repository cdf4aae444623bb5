// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench --adapter libevent: N eyeballs::libevent::connect races on one
// event_base, made with EVENT_BASE_FLAG_PRECISE_TIMER (CLOCK_MONOTONIC and a
// timerfd instead of the coarse clock and epoll's whole milliseconds: the
// adapter's header recommends it for sub-millisecond timers, and
// eyeballs-connect does the same). Each handle is detached: the race frees
// itself after its callback.
#include <event2/event.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "client.hpp"
#include "eyeballs/libevent.hpp"

namespace eyeballs::bench {
namespace {

class LibeventClient final : public Client {
public:
    LibeventClient() {
        event_config* cfg = event_config_new();
        event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
        base_ = event_base_new_with_config(cfg);
        event_config_free(cfg);
        if (base_ == nullptr) {
            std::fprintf(stderr, "eyeballs-bench: event_base_new_with_config failed\n");
            std::exit(1);
        }
    }
    ~LibeventClient() override {
        close_winners();
        event_base_free(base_);
    }

    void run(const RunSpec& spec, std::vector<RaceResult>& results) override {
        std::array<std::uint8_t, 16> v6{};
        v6[15] = 1;
        const std::vector<Endpoint> to = {Endpoint::v6(v6, spec.port),
                                          Endpoint::v4({127, 0, 0, 1}, spec.port)};
        winners_.reserve(spec.races);
        eyeballs::libevent::Options options;
        options.config.attempt_delay = spec.attempt_delay;
        for (std::size_t i = 0; i < spec.races; ++i) {
            RaceResult* r = &results[i];
            auto handle = eyeballs::libevent::connect(
                base_, to, options, [this, r](evutil_socket_t fd, const RaceReport& report) {
                    r->end = Clock::now();
                    r->start = report.started;
                    if (fd >= 0) {
                        r->connected = true;
                        winners_.push_back(fd);
                    }
                });
            if (!handle.status()) {
                std::fprintf(stderr, "eyeballs-bench: %s\n", handle.status().message().c_str());
                std::exit(1);
            }
            handle.detach();
        }
        event_base_dispatch(base_);
    }
    std::vector<int> winner_fds() const override { return winners_; }
    void close_winners() override {
        for (int fd : winners_) ::close(fd);
        winners_.clear();
    }
    std::string label(std::size_t) const override { return "eyeballs-libevent"; }

private:
    event_base* base_ = nullptr;
    std::vector<int> winners_;
};

}  // namespace

std::unique_ptr<Client> make_libevent_client() { return std::make_unique<LibeventClient>(); }

}  // namespace eyeballs::bench
