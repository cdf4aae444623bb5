// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's libuv runner: ConnectJob → eyeballs::libuv::connect_fd
// on a private uv_loop_t, run until the race has ended and the loop drained.
// --tls: eyeballs::libuv::connect_tls; the winner's SSL* is moved onto a
// close-on-exec duplicate of its fd (SSL_set_fd) before its uv_tcp_t is
// closed, so that --send talks through the session after the loop is gone.
#include <fcntl.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <string>

#include "eyeballs/libuv.hpp"
#include "run.hpp"
#include "tls_channel.hpp"

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
        if (job.tls.enabled) {
            options.tls = tls_options_of(job);
            if (job.on_tls) {
                options.on_tls = [&job](TimePoint now, const TlsEvent& e) { job.on_tls(now, to_tls_step(e)); };
            }
        }
        auto on_done = [&](uv_os_sock_t fd, const RaceReport& report) {
            result.fd = fd;
            result.report = report;
            done = true;
            if (polling) uv_close(reinterpret_cast<uv_handle_t*>(&cancel_poll), nullptr);
            polling = false;
        };
        auto on_tls_done = [&](uv_tcp_t* tcp, ::ssl_st* ssl, const RaceReport& report) {
            int fd = -1;
            RaceReport r = report;
            if (tcp != nullptr && ssl != nullptr) {
                fd = ::fcntl(SSL_get_fd(ssl), F_DUPFD_CLOEXEC, 0);
                if (fd < 0 || SSL_set_fd(ssl, fd) != 1) {
                    const int err = fd < 0 ? errno : EIO;
                    if (fd >= 0) ::close(fd);
                    fd = -1;
                    r.outcome = Outcome::failed;
                    r.code = err;
                    r.message = std::string("cannot duplicate the winner's fd: ") + errno_text(err);
                    libuv::free_tls(ssl);
                    ssl = nullptr;
                }
            } else {
                libuv::free_tls(ssl);
                ssl = nullptr;
            }
            libuv::close_tcp(tcp);
            if (ssl != nullptr) {
                result.release_tls = [ssl] { libuv::free_tls(ssl); };
                result.channel = std::make_shared<TlsChannel>(ssl);
            }
            on_done(fd, r);
        };
        libuv::Handle handle =
            job.tls.enabled
                ? (job.addresses_mode ? libuv::connect_tls(&loop, job.addresses, options, on_tls_done)
                                      : libuv::connect_tls(&loop, job.host, job.port, options, on_tls_done))
                : (job.addresses_mode ? libuv::connect_fd(&loop, job.addresses, options, on_done)
                                      : libuv::connect_fd(&loop, job.host, job.port, options, on_done));
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
