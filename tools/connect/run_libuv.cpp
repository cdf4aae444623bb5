// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's libuv runner: ConnectJob → eyeballs::libuv::connect_fd
// on a private uv_loop_t, run until the race has ended and the loop drained.
#include <uv.h>

#include <cerrno>
#include <string>

#include "eyeballs/libuv.hpp"
#include "run.hpp"

namespace eyeballs::tool {

namespace {

ConnectResult failed(std::string message) {
    ConnectResult r;
    r.report.outcome = Outcome::failed;
    r.report.message = std::move(message);
    return r;
}

}  // namespace

ConnectResult run_libuv(const ConnectJob& job) {
    uv_loop_t loop;
    if (const int rc = uv_loop_init(&loop); rc != 0) {
        return failed(std::string("libuv: uv_loop_init: ") + uv_strerror(rc));
    }
    ConnectResult result;
    bool done = false;
    uv_poll_t cancel_poll;
    bool polling = false;
    {
        libuv::Options options;
        options.config = job.config;
        options.dns_server = job.dns_server;
        options.on_action = job.on_action;
        auto on_done = [&](uv_os_sock_t fd, const RaceReport& report) {
            result.fd = fd;
            result.report = report;
            done = true;
            if (polling) uv_close(reinterpret_cast<uv_handle_t*>(&cancel_poll), nullptr);
            polling = false;
        };
        libuv::Handle handle =
            job.addresses_mode ? libuv::connect_fd(&loop, job.addresses, options, on_done)
                               : libuv::connect_fd(&loop, job.host, job.port, options, on_done);
        if (!handle.status()) {
            uv_run(&loop, UV_RUN_DEFAULT);
            uv_loop_close(&loop);
            return failed(handle.status().message());
        }
        // SIGINT's self-pipe: readable → cancel. The fd is only watched, never read.
        if (job.cancel_fd >= 0 && !done &&
            uv_poll_init(&loop, &cancel_poll, job.cancel_fd) == 0) {
            polling = true;
            cancel_poll.data = &handle;
            uv_poll_start(&cancel_poll, UV_READABLE, [](uv_poll_t* p, int, int) {
                static_cast<libuv::Handle*>(p->data)->cancel();
            });
        }
        // Runs until the race has ended and every handle of it is closed (a
        // uv_getaddrinfo still on the thread pool included).
        uv_run(&loop, UV_RUN_DEFAULT);
        if (!done) handle.cancel();
        if (polling) uv_close(reinterpret_cast<uv_handle_t*>(&cancel_poll), nullptr);
    }
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    if (!done) return failed("libuv: the loop stopped before the race ended");
    return result;
}

}  // namespace eyeballs::tool
