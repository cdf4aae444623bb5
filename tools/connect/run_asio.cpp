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
#include <unistd.h>

#include <memory>
#include <optional>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "eyeballs/asio.hpp"
#include "run.hpp"

namespace eyeballs::tool {

ConnectResult run_asio(const ConnectJob& job) {
    ::asio::io_context io(1);

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
        if (fd >= 0) {
            cancel_watch.emplace(io, fd);
            cancel_watch->async_wait(::asio::posix::stream_descriptor::wait_read,
                                     [&cancel](const std::error_code& ec) {
                                         if (!ec) cancel.emit(::asio::cancellation_type::terminal);
                                     });
        }
    }

    ConnectResult result;
    auto on_done = [&](std::error_code ec, ::asio::ip::tcp::socket socket) {
        if (!ec && socket.is_open()) result.fd = socket.release();
        if (cancel_watch) cancel_watch->cancel();
    };
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
