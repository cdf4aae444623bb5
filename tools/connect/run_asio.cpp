// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's Asio runner: ConnectJob → eyeballs::asio::async_connect on
// a one-thread io_context.
//
//  - SIGINT: main's self-pipe (job.cancel_fd) is watched with a
//    posix::stream_descriptor on a dup of it; readable → the operation's
//    cancellation signal is emitted (terminal), which closes every socket and
//    ends the race `cancelled`.
//  - --dns-server: Asio's resolver asks the system (getaddrinfo), which cannot
//    be pointed elsewhere, so the adapter's own UDP client asks that server
//    (connect_options::dns_server).
//  - The winner's fd leaves the socket with release(); it is non-blocking.
//  - Resource exhaustion (issue 14): Asio throws std::system_error when it
//    cannot make its reactor (epoll fd, eventfd, timerfd — EMFILE at a low
//    `ulimit -n`). The io_context and its reactor are made first, inside a
//    try block, so that failure is one line of ours ("cannot create the event
//    loop: EMFILE (Too many open files)", exit 1), never an abort.
//  - --tls: async_connect_tls (<eyeballs/asio_ssl.hpp>) with a context made
//    from connect_options::tls; the winner's ssl::stream is handed to main as
//    its fd plus a release_tls that frees the stream's SSL object.
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#ifdef EYEBALLS_HAVE_ASIO_SSL
#include "eyeballs/asio_ssl.hpp"
#else
#include "eyeballs/asio.hpp"
#endif
#include "run.hpp"

namespace eyeballs::tool {

ConnectResult run_asio(const ConnectJob& job) {
#ifndef EYEBALLS_HAVE_ASIO_SSL
    if (job.tls.enabled) return failed_run("--tls: this build's asio adapter has no OpenSSL (eyeballs::asio_ssl)");
#endif
    std::optional<::asio::io_context> loop;
    try {
        loop.emplace(1);
        // A timer makes the reactor (epoll, its eventfd and timerfd) now, so
        // that its failure is reported here rather than thrown from a socket.
        ::asio::steady_timer make_reactor(*loop);
    } catch (const std::system_error& e) {
        return failed_run("cannot create the event loop: " + errno_text(e.code().value()),
                          e.code().value());
    }
    ::asio::io_context& io = *loop;

    asio::connect_options options;
    options.config = job.config;
    options.on_action = job.on_action;
    options.report = std::make_shared<RaceReport>();
    if (job.dns_server) {
        options.dns_server =
            ::asio::ip::udp::endpoint(asio::to_asio_address(*job.dns_server), job.dns_server->port());
    }

    ::asio::cancellation_signal cancel;
    std::optional<::asio::posix::stream_descriptor> cancel_watch;
    if (job.cancel_fd >= 0) {
        const int fd = ::dup(job.cancel_fd);
        if (fd < 0) {
            const int err = errno;
            return failed_run("cannot watch for SIGINT: " + errno_text(err), err);
        }
        std::error_code ec;
        cancel_watch.emplace(io);
        cancel_watch->assign(fd, ec);  // registers with the reactor: may fail
        if (ec) {
            ::close(fd);
            return failed_run("cannot watch for SIGINT: " + errno_text(ec.value()), ec.value());
        }
        cancel_watch->async_wait(::asio::posix::stream_descriptor::wait_read,
                                 [&cancel](const std::error_code& wait_ec) {
                                     if (!wait_ec) cancel.emit(::asio::cancellation_type::terminal);
                                 });
    }

    ConnectResult result;
    auto on_done = [&](std::error_code ec, ::asio::ip::tcp::socket socket) {
        if (!ec && socket.is_open()) result.fd = socket.release();
        if (cancel_watch) cancel_watch->cancel();
    };
#ifdef EYEBALLS_HAVE_ASIO_SSL
    auto on_tls_done = [&](std::error_code ec, asio::ssl_stream stream) {
        if (!ec && stream.next_layer().is_open()) {
            // The SSL object leaves the stream (its destructor would free it)
            // and goes with the fd to main, which frees it before closing.
            SSL* ssl = stream.native_handle();
            SSL_up_ref(ssl);
            result.fd = stream.next_layer().release();
            result.release_tls = [ssl] { SSL_free(ssl); };
        }
        if (cancel_watch) cancel_watch->cancel();
    };
    if (job.tls.enabled) {
        options.tls = tls_options_of(job);
        if (job.on_tls) {
            options.on_tls = [&job](TimePoint now, const TlsEvent& e) { job.on_tls(now, to_tls_step(e)); };
        }
        if (job.addresses_mode) {
            asio::async_connect_tls(io.get_executor(), job.addresses, options,
                                    ::asio::bind_cancellation_slot(cancel.slot(), on_tls_done));
        } else {
            asio::async_connect_tls(io.get_executor(), job.host, job.port, options,
                                    ::asio::bind_cancellation_slot(cancel.slot(), on_tls_done));
        }
        io.run();
        result.report = std::move(*options.report);
        return result;
    }
#endif
    if (job.addresses_mode) {
        asio::async_connect(io.get_executor(), job.addresses, options,
                            ::asio::bind_cancellation_slot(cancel.slot(), on_done));
    } else {
        asio::async_connect(io.get_executor(), job.host, job.port, options,
                            ::asio::bind_cancellation_slot(cancel.slot(), on_done));
    }
    io.run();

    result.report = std::move(*options.report);
    return result;
}

}  // namespace eyeballs::tool
