// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench --adapter libuv: N eyeballs::libuv::connect races on one
// uv_loop_t, run with uv_run(UV_RUN_DEFAULT) until every race has ended and
// closed its handles. Each handle is detached: the race frees itself after its
// callback. The winners are the uv_tcp_t the adapter hands over (no dup);
// closing them (close_tcp, then a loop turn for uv_close's callbacks) is
// outside the measurement.
#include <uv.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "client.hpp"
#include "eyeballs/libuv.hpp"

namespace eyeballs::bench {
namespace {

class LibuvClient final : public Client {
public:
    LibuvClient() {
        if (uv_loop_init(&loop_) != 0) {
            std::fprintf(stderr, "eyeballs-bench: uv_loop_init failed\n");
            std::exit(1);
        }
    }
    ~LibuvClient() override {
        close_winners();
        uv_run(&loop_, UV_RUN_DEFAULT);
        uv_loop_close(&loop_);
    }

    void run(const RunSpec& spec, std::vector<RaceResult>& results) override {
        std::array<std::uint8_t, 16> v6{};
        v6[15] = 1;
        const std::vector<Endpoint> to = {Endpoint::v6(v6, spec.port),
                                          Endpoint::v4({127, 0, 0, 1}, spec.port)};
        winners_.reserve(spec.races);
        eyeballs::libuv::Options options;
        options.config.attempt_delay = spec.attempt_delay;
        for (std::size_t i = 0; i < spec.races; ++i) {
            RaceResult* r = &results[i];
            auto handle = eyeballs::libuv::connect(
                &loop_, to, options, [this, r](uv_tcp_t* tcp, const RaceReport& report) {
                    r->end = Clock::now();
                    r->start = report.started;
                    if (tcp != nullptr) {
                        r->connected = true;
                        winners_.push_back(tcp);
                    }
                });
            if (!handle.status()) {
                std::fprintf(stderr, "eyeballs-bench: %s\n", handle.status().message().c_str());
                std::exit(1);
            }
            handle.detach();
        }
        uv_run(&loop_, UV_RUN_DEFAULT);
    }
    std::vector<int> winner_fds() const override {
        std::vector<int> fds;
        for (uv_tcp_t* tcp : winners_) {
            uv_os_fd_t fd = -1;
            if (uv_fileno(reinterpret_cast<const uv_handle_t*>(tcp), &fd) == 0) fds.push_back(fd);
        }
        return fds;
    }
    void close_winners() override {
        for (uv_tcp_t* tcp : winners_) eyeballs::libuv::close_tcp(tcp);  // closes the fd now
        winners_.clear();
        uv_run(&loop_, UV_RUN_NOWAIT);  // uv_close's callbacks free the handles
    }
    std::string label(std::size_t) const override { return "eyeballs-libuv"; }

private:
    uv_loop_t loop_{};
    std::vector<uv_tcp_t*> winners_;
};

}  // namespace

std::unique_ptr<Client> make_libuv_client() { return std::make_unique<LibuvClient>(); }

}  // namespace eyeballs::bench
