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

// Plain bytes on the socket (MSG_NOSIGNAL: a closed peer is an error, not SIGPIPE).
class PlainChannel final : public Channel {
public:
    explicit PlainChannel(int fd) : fd_(fd) {}
    long send(const char* data, std::size_t size, short& events, std::string& error) override {
        const ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
        return result(n, POLLOUT, "write", events, error);
    }
    long recv(char* data, std::size_t size, short& events, std::string& error) override {
        const ssize_t n = ::recv(fd_, data, size, 0);
        return result(n, POLLIN, "read", events, error);
    }

private:
    static long result(ssize_t n, short wait, const char* what, short& events, std::string& error) {
        if (n >= 0) return static_cast<long>(n);
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) {
            events = wait;
            return again;
        }
        error = errno_text(what, errno);
        return failed;
    }
    int fd_;
};

}  // namespace

TalkResult talk(int fd, const std::string& data, std::optional<Duration> read_timeout,
                int cancel_fd, std::ostream* out, Channel* channel) {
    PlainChannel plain(fd);
    Channel& ch = channel != nullptr ? *channel : plain;
    TalkResult r;
    pollfd fds[2] = {{fd, 0, 0}, {cancel_fd, POLLIN, 0}};
    const nfds_t nfds = cancel_fd >= 0 ? 2 : 1;
    // Write everything.
    short want = POLLOUT;
    while (r.sent < data.size()) {
        fds[0].events = want;
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
        want = POLLOUT;
        const long n = ch.send(data.data() + r.sent, data.size() - r.sent, want, r.error);
        if (n == Channel::again) continue;
        if (n < 0) {
            r.end = "error";
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
    want = POLLIN;
    while (true) {
        if (!ch.buffered()) {
            fds[0].events = want;
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
        }
        want = POLLIN;
        const long n = ch.recv(buf, sizeof buf, want, r.error);
        if (n == Channel::again) continue;
        if (n < 0) {
            r.end = "error";
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
