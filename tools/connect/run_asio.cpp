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
//    from connect_options::tls. The winner's ssl::stream stays with its
//    io_context, and --send's talk runs in that loop through the stream
//    (ConnectResult::talk): the stream's SSL object talks to its socket through
//    a memory BIO pair that only the stream feeds, so the session cannot be
//    moved onto the bare fd as the poll, libevent and libuv runs do.
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <utility>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#ifdef EYEBALLS_HAVE_ASIO_SSL
#include <asio/write.hpp>

#include "eyeballs/asio_ssl.hpp"
#else
#include "eyeballs/asio.hpp"
#endif
#include "run.hpp"

namespace eyeballs::tool {

#ifdef EYEBALLS_HAVE_ASIO_SSL
namespace {

// The winner of a --tls race and the loop it lives in (the stream first: it
// must go before its io_context).
struct TlsWinner {
    std::shared_ptr<::asio::io_context> io;
    std::optional<asio::ssl_stream> stream;
    ~TlsWinner() { stream.reset(); }
};

// "read: ECONNRESET (Connection reset by peer)", "write: TLS: ...": talk()'s words.
std::string talk_error(const char* what, const std::error_code& ec) {
    if (ec.category() == std::system_category() || ec.category() == std::generic_category()) {
        return std::string(what) + ": " + errno_text(ec.value());
    }
    return std::string(what) + ": TLS: " + ec.message();
}

// talk() (talk.hpp) through the winner's ssl::stream, in its io_context: write
// everything, then read until EOF (close_notify, or a close without it as nc
// and curl take it), until nothing has come for `read_timeout`, or until
// `cancel_fd` is readable.
TalkResult talk_tls(TlsWinner& w, const std::string& data, std::optional<Duration> read_timeout,
                    int cancel_fd, std::ostream* out) {
    ::asio::io_context& io = *w.io;
    asio::ssl_stream& stream = *w.stream;
    io.restart();
    TalkResult r;
    bool over = false;
    ::asio::steady_timer timer(io);
    std::optional<::asio::posix::stream_descriptor> cancel_watch;
    auto finish = [&](const char* end, std::string error = {}) {
        if (over) return;
        over = true;
        r.end = end;
        r.error = std::move(error);
        timer.cancel();
        if (cancel_watch) cancel_watch->cancel();
        std::error_code ignored;
        stream.next_layer().cancel(ignored);
    };
    if (cancel_fd >= 0) {
        const int fd = ::dup(cancel_fd);
        std::error_code ec;
        if (fd >= 0) {
            cancel_watch.emplace(io);
            cancel_watch->assign(fd, ec);
            if (ec) ::close(fd);
        }
        if (fd < 0 || ec) {
            r.end = "error";
            r.error = "cannot watch for SIGINT: " + errno_text(fd < 0 ? errno : ec.value());
            return r;
        }
        cancel_watch->async_wait(::asio::posix::stream_descriptor::wait_read,
                                 [&](const std::error_code& wait_ec) {
                                     if (!wait_ec) finish("cancelled");
                                 });
    }
    auto arm = [&] {
        if (!read_timeout) return;
        timer.expires_after(std::chrono::duration_cast<::asio::steady_timer::duration>(*read_timeout));
        timer.async_wait([&](const std::error_code& ec) {
            if (!ec) finish("timeout");
        });
    };
    char buf[16384];
    std::function<void()> read_more = [&] {
        stream.async_read_some(::asio::buffer(buf), [&](const std::error_code& ec, std::size_t n) {
            if (over) return;
            if (n > 0) {
                r.received += n;
                if (out != nullptr) {
                    out->write(buf, static_cast<std::streamsize>(n));
                    out->flush();
                } else {
                    r.data.append(buf, n);
                }
            }
            if (ec == ::asio::error::eof || ec == ::asio::ssl::error::stream_truncated) {
                finish("eof");
            } else if (ec) {
                finish("error", talk_error("read", ec));
            } else {
                arm();
                read_more();
            }
        });
    };
    ::asio::async_write(stream, ::asio::buffer(data), [&](const std::error_code& ec, std::size_t n) {
        r.sent = n;
        if (over) return;
        if (ec) {
            finish("error", talk_error("write", ec));
            return;
        }
        arm();
        read_more();
    });
    io.run();
    return r;
}

}  // namespace
#endif

ConnectResult run_asio(const ConnectJob& job) {
#ifndef EYEBALLS_HAVE_ASIO_SSL
    if (job.tls.enabled) return failed_run("--tls: this build's asio adapter has no OpenSSL (eyeballs::asio_ssl)");
#endif
    std::shared_ptr<::asio::io_context> loop;
    try {
        loop = std::make_shared<::asio::io_context>(1);
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
    std::shared_ptr<TlsWinner> winner;
    auto on_tls_done = [&](std::error_code ec, asio::ssl_stream stream) {
        if (!ec && stream.next_layer().is_open()) {
            // The stream stays in its loop for --send (see the top); the
            // result owns both, and frees the stream (its SSL object and
            // socket) before the io_context.
            winner = std::make_shared<TlsWinner>();
            winner->io = loop;
            winner->stream.emplace(std::move(stream));
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
        cancel_watch.reset();
        if (winner) {
            result.talk = [winner](const std::string& data, std::optional<Duration> read_timeout,
                                   int cancel_fd, std::ostream* out) {
                return talk_tls(*winner, data, read_timeout, cancel_fd, out);
            };
        }
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
