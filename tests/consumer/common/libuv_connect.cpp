// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::libuv::connect races [::1]:P (refused) and
// 127.0.0.1:P (listening) on a uv_loop_t and hands back a uv_tcp_t.
#include <uv.h>

#include <chrono>
#include <cstdio>
#include <string>

#include "eyeballs/libuv.hpp"
#include "race_checks.hpp"

int main() {
    consumer::Loopback world;
    uv_loop_t loop;
    consumer::expect(uv_loop_init(&loop) == 0, "uv_loop_init failed");
    eyeballs::libuv::Options options;
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang CI
    uv_tcp_t* tcp = nullptr;
    eyeballs::RaceReport report;
    int calls = 0;
    eyeballs::libuv::Handle handle = eyeballs::libuv::connect(
        &loop, consumer::remotes(world.port()), options,
        [&](uv_tcp_t* t, const eyeballs::RaceReport& r) {
            tcp = t;
            report = r;
            ++calls;
        });
    consumer::expect(handle.status().ok(), "misuse: " + handle.status().message());
    uv_run(&loop, UV_RUN_DEFAULT);
    consumer::expect(calls == 1, "the callback ran " + std::to_string(calls) + " times");
    consumer::expect(tcp != nullptr, "not connected: " + report.message);
    consumer::expect_ipv4_won(report, world.port());
    uv_os_fd_t fd = -1;
    consumer::expect(uv_fileno(reinterpret_cast<uv_handle_t*>(tcp), &fd) == 0, "uv_fileno failed");
    world.check_peer(fd);
    eyeballs::libuv::close_tcp(tcp);
    handle = eyeballs::libuv::Handle();
    consumer::expect(uv_run(&loop, UV_RUN_DEFAULT) == 0, "handles left on the loop");
    consumer::expect(uv_loop_close(&loop) == 0, "uv_loop_close: the loop is busy");
    std::printf("libuv: connected to %s\n", report.remote->to_string().c_str());
    return 0;
}
