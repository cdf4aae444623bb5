// SPDX-License-Identifier: BSL-1.0
// eyeballs — POSIX socket steps shared by the socket-level adapters.
#include "eyeballs/detail/socket_ops.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "eyeballs/posix.hpp"

namespace eyeballs::detail {

namespace {

// socket(2) of `type`, non-blocking and close-on-exec.
int open_socket(Family family, int type, int protocol, int* error) noexcept {
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = ::socket(to_af(family), type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0 && error != nullptr) *error = errno != 0 ? errno : EINVAL;
    return fd;
#else  // macOS: no socket type flags; set them after
    int fd = ::socket(to_af(family), type, protocol);
    if (fd < 0) {
        if (error != nullptr) *error = errno != 0 ? errno : EINVAL;
        return -1;
    }
    if (const int err = make_nonblocking_cloexec(fd); err != 0) {
        ::close(fd);
        if (error != nullptr) *error = err;
        return -1;
    }
    return fd;
#endif
}

}  // namespace

int open_stream_socket(Family family, int* error) noexcept {
    return open_socket(family, SOCK_STREAM, IPPROTO_TCP, error);
}

int send_to_first_server(const std::vector<Endpoint>& servers, std::size_t* index,
                         const std::vector<std::uint8_t>& message, int* error) noexcept {
    for (;; ++*index) {
        const Endpoint& server = servers[*index];
        int err = 0;
        const int fd = open_socket(server.family(), SOCK_DGRAM, IPPROTO_UDP, &err);
        if (fd >= 0) {
            sockaddr_storage ss{};
            const socklen_t len = to_sockaddr(server, ss);
            if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0 ||
                ::send(fd, message.data(), message.size(), 0) < 0) {
                err = errno;
            }
        }
        if (err == 0) return fd;
        if (fd >= 0) close_socket(fd);
        if (*index + 1 >= servers.size()) {  // no server took it
            *error = err;
            return -1;
        }
    }
}

int wait_for_events(pollfd* fds, std::size_t count, const timespec* timeout) noexcept {
#if defined(__linux__) || defined(__FreeBSD__) || defined(__OpenBSD__) || \
    defined(__NetBSD__) || defined(__DragonFly__)
    return ::ppoll(fds, static_cast<nfds_t>(count), timeout, nullptr);
#else
    int ms = -1;
    if (timeout != nullptr) {
        const long long total_ns =
            static_cast<long long>(timeout->tv_sec) * 1000000000LL + timeout->tv_nsec;
        const long long rounded = (total_ns + 999999) / 1000000;
        ms = rounded > 2147483647LL ? 2147483647 : static_cast<int>(rounded);
    }
    return ::poll(fds, static_cast<nfds_t>(count), ms);
#endif
}

int make_nonblocking_cloexec(int fd) noexcept {
    int fl = ::fcntl(fd, F_GETFL);
    if (fl < 0) return errno;
    if ((fl & O_NONBLOCK) == 0 && ::fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return errno;
    int fdfl = ::fcntl(fd, F_GETFD);
    if (fdfl < 0) return errno;
    if ((fdfl & FD_CLOEXEC) == 0 && ::fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return errno;
    return 0;
}

int bind_socket(int fd, const Endpoint& local) noexcept {
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(local, ss);
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) < 0) return errno;
    return 0;
}

int start_connect(int fd, const Endpoint& remote) noexcept {
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(remote, ss);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0) return 0;
    int err = errno;
    if (err == EINTR) return EINPROGRESS;
    return err;
}

int take_socket_error(int fd) noexcept {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
    return err;
}

std::optional<int> connect_result(int fd, short revents) noexcept {
    if ((revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL)) == 0) return std::nullopt;
    if ((revents & POLLNVAL) != 0) return EBADF;
    int err = take_socket_error(fd);
    if (err != 0) return err;
    if ((revents & POLLOUT) != 0 && (revents & POLLHUP) == 0) return 0;
    return ECONNRESET;
}

std::optional<Endpoint> local_endpoint(int fd) noexcept {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return std::nullopt;
    return from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
}

void close_socket(int fd) noexcept {
    if (fd >= 0) ::close(fd);
}

}  // namespace eyeballs::detail
