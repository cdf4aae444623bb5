// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect --send / --send-file: plain poll/read/write on the winner's
// socket (every adapter hands the tool a connected fd).
#include "talk.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "eyeballs/error.hpp"

namespace eyeballs::tool {
namespace {

std::string errno_text(const char* what, int code) {
    const char* name = errno_name(code);
    return std::string(what) + ": " + (name != nullptr ? name : "errno " + std::to_string(code)) +
           " (" + std::strerror(code) + ")";
}

int poll_ms(std::chrono::steady_clock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return 0;
    return left.count() > 60000 ? 60000 : static_cast<int>(left.count());
}

}  // namespace

TalkResult talk(int fd, const std::string& data, std::optional<Duration> read_timeout,
                int cancel_fd, std::ostream* out) {
    TalkResult r;
    pollfd fds[2] = {{fd, 0, 0}, {cancel_fd, POLLIN, 0}};
    const nfds_t nfds = cancel_fd >= 0 ? 2 : 1;
    // Write everything (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
    while (r.sent < data.size()) {
        fds[0].events = POLLOUT;
        if (::poll(fds, nfds, -1) < 0) {
            if (errno == EINTR) continue;
            r.end = "error";
            r.error = errno_text("poll", errno);
            return r;
        }
        if (nfds == 2 && (fds[1].revents & POLLIN) != 0) {
            r.end = "cancelled";
            return r;
        }
        const ssize_t n = ::send(fd, data.data() + r.sent, data.size() - r.sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            r.end = "error";
            r.error = errno_text("write", errno);
            return r;
        }
        r.sent += static_cast<std::size_t>(n);
    }
    // Read until EOF, the read timeout (time since the last data), or cancel.
    char buf[16384];
    auto deadline = std::chrono::steady_clock::time_point::max();
    auto arm = [&] {
        if (read_timeout) {
            deadline = std::chrono::steady_clock::now() +
                       std::chrono::duration_cast<std::chrono::steady_clock::duration>(*read_timeout);
        }
    };
    arm();
    while (true) {
        fds[0].events = POLLIN;
        const int wait = read_timeout ? poll_ms(deadline) : -1;
        if (read_timeout && wait == 0) {
            r.end = "timeout";
            return r;
        }
        const int ready = ::poll(fds, nfds, wait);
        if (ready < 0) {
            if (errno == EINTR) continue;
            r.end = "error";
            r.error = errno_text("poll", errno);
            return r;
        }
        if (ready == 0) continue;  // the deadline check above ends it
        if (nfds == 2 && (fds[1].revents & POLLIN) != 0) {
            r.end = "cancelled";
            return r;
        }
        if (fds[0].revents == 0) continue;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
            r.end = "error";
            r.error = errno_text("read", errno);
            return r;
        }
        if (n == 0) {
            r.end = "eof";
            return r;
        }
        r.received += static_cast<std::size_t>(n);
        if (out != nullptr) {
            out->write(buf, n);
            out->flush();
        } else {
            r.data.append(buf, static_cast<std::size_t>(n));
        }
        arm();
    }
}

std::optional<std::string> read_whole_file(const std::string& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot open '" + path + "': " + std::strerror(errno);
        return std::nullopt;
    }
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) {
        error = "cannot read '" + path + "'";
        return std::nullopt;
    }
    return s.str();
}

}  // namespace eyeballs::tool
