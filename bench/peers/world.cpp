// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench — the loopback world (see world.hpp).
#include "world.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace eyeballs::bench {
namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;
extern "C" void on_stop_signal(int) { g_stop = 1; }

struct Failure {
    std::string what;
    int code;
};

[[noreturn]] void fail(const std::string& what, int code = errno) { throw Failure{what, code}; }

sockaddr_storage loopback(int family, std::uint16_t port, socklen_t& len) {
    sockaddr_storage ss{};
    if (family == AF_INET6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        a->sin6_port = htons(port);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a->sin_port = htons(port);
        len = sizeof *a;
    }
    return ss;
}

int tcp_socket(int family) {
    int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) fail("socket");
    int one = 1;
    if (family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    return fd;
}

// bind(2) to the loopback address of `family`; false when the port is taken.
bool bind_loopback(int fd, int family, std::uint16_t port, bool reuseport) {
    int one = 1;
    if (reuseport && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
        fail("setsockopt SO_REUSEPORT");
    }
    socklen_t len = 0;
    sockaddr_storage ss = loopback(family, port, len);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0) return true;
    if (errno == EADDRINUSE) return false;
    fail(family == AF_INET6 ? "bind [::1]" : "bind 127.0.0.1");
}

std::uint16_t bound_port(int fd) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail("getsockname");
    if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

// A non-blocking connect to the loopback address; returns the socket and how
// long the handshake took, or a negative duration when it did not complete
// within `wait_ms` (the socket is then closed).
std::pair<int, Clock::duration> probe(int family, std::uint16_t port, int wait_ms) {
    int fd = tcp_socket(family);
    socklen_t len = 0;
    sockaddr_storage ss = loopback(family, port, len);
    const auto t0 = Clock::now();
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        fail("probe connect");
    }
    pollfd p{fd, POLLOUT, 0};
    int n = ::poll(&p, 1, wait_ms);
    const auto took = Clock::now() - t0;
    if (n <= 0) {
        ::close(fd);
        return {-1, Clock::duration(-1)};
    }
    int err = 0;
    socklen_t elen = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen);
    if (err != 0) {
        errno = err;
        fail("probe connect");
    }
    return {fd, took};
}

// Accepts every pending connection and keeps it open (in `kept`) until the
// world ends: a client that reads (Python's and Node's streams do) then sees
// no end of file, so no client pays for reading and closing inside the
// measurement.
// (With keep false, each is closed at once: curl, which waits for an HTTP
// answer, then ends right after connecting.)
void accept_all(int listener, std::vector<int>& kept, bool keep = true) {
    for (;;) {
        int c = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
            if (keep) {
                kept.push_back(c);
            } else {
                ::close(c);
            }
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;  // EAGAIN, or EMFILE (the next wake-up retries)
    }
}

}  // namespace

const char* world_name(WorldKind kind) noexcept {
    switch (kind) {
        case WorldKind::blackhole6: return "blackhole6";
        case WorldKind::refused6: return "refused6";
        case WorldKind::both: return "both";
    }
    return "?";
}

std::optional<WorldKind> parse_world(std::string_view name) noexcept {
    if (name == "blackhole6") return WorldKind::blackhole6;
    if (name == "refused6") return WorldKind::refused6;
    if (name == "both") return WorldKind::both;
    return std::nullopt;
}

std::uint64_t raise_nofile_limit() noexcept {
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < rl.rlim_max) {
        rlimit want = rl;
        want.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    return rl.rlim_cur;
}

int serve_world(WorldKind kind, std::size_t races, int control_fd,
                const std::function<void(const WorldInfo&)>& ready, bool keep_accepted) {
    std::vector<int> fds;  // every socket of the world, closed on return
    try {
        raise_nofile_limit();
        // Enough listeners that a burst of `races` handshakes (plus the
        // probes) fits in their accept queues with room to spare; SO_REUSEPORT
        // spreads the connections over them by hash, not evenly.
        const std::size_t listeners = 1 + races / 2048;
        const bool v6_open = kind == WorldKind::both;

        // One port number for both addresses: the first [::1] socket picks
        // it, then every other socket binds the same number.
        std::uint16_t port = 0;
        std::vector<int> v6, v4;
        for (int tries = 0; tries < 100 && port == 0; ++tries) {
            for (int fd : v6) ::close(fd);
            for (int fd : v4) ::close(fd);
            v6.clear();
            v4.clear();
            int first = tcp_socket(AF_INET6);
            v6.push_back(first);
            bind_loopback(first, AF_INET6, 0, v6_open);
            const std::uint16_t p = bound_port(first);
            bool ok = true;
            for (std::size_t i = 1; ok && v6_open && i < listeners; ++i) {
                v6.push_back(tcp_socket(AF_INET6));
                ok = bind_loopback(v6.back(), AF_INET6, p, true);
            }
            for (std::size_t i = 0; ok && i < listeners; ++i) {
                v4.push_back(tcp_socket(AF_INET));
                ok = bind_loopback(v4.back(), AF_INET, p, true);
            }
            if (ok) port = p;
        }
        fds.insert(fds.end(), v6.begin(), v6.end());
        fds.insert(fds.end(), v4.begin(), v4.end());
        if (port == 0) fail("no port free on both [::1] and 127.0.0.1", 0);

        std::vector<int> open_listeners;
        for (int fd : v4) {
            if (::listen(fd, 65535) != 0) fail("listen 127.0.0.1");  // capped at somaxconn
            open_listeners.push_back(fd);
        }
        if (kind == WorldKind::both) {
            for (int fd : v6) {
                if (::listen(fd, 65535) != 0) fail("listen [::1]");
                open_listeners.push_back(fd);
            }
        } else if (kind == WorldKind::blackhole6) {
            // listen(0): the accept queue holds one connection; fill it with
            // our own connects until a probe's SYN is dropped.
            if (::listen(v6[0], 0) != 0) fail("listen [::1]");
            bool dropping = false;
            for (int i = 0; i < 16 && !dropping; ++i) {
                auto [fd, took] = probe(AF_INET6, port, 100);
                if (fd >= 0) {
                    fds.push_back(fd);
                } else {
                    dropping = true;
                }
            }
            if (!dropping) fail("the [::1] blackhole keeps accepting", 0);
        }
        // refused6: v6[0] stays bound and not listening: connects get RST.

        // The loopback round trip on the side the clients will win on.
        const int win_family = kind == WorldKind::both ? AF_INET6 : AF_INET;
        std::vector<Clock::duration> rtts;
        for (int i = 0; i < 21; ++i) {
            auto [fd, took] = probe(win_family, port, 1000);
            if (fd < 0) fail("the open side does not accept", 0);
            ::close(fd);
            rtts.push_back(took);
        }
        for (int fd : open_listeners) accept_all(fd, fds);
        std::sort(rtts.begin(), rtts.end());

        struct sigaction sa{};
        sa.sa_handler = on_stop_signal;
        ::sigaction(SIGINT, &sa, nullptr);
        ::sigaction(SIGTERM, &sa, nullptr);
        ::signal(SIGPIPE, SIG_IGN);

        int ep = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep < 0) fail("epoll_create1");
        fds.push_back(ep);
        for (int fd : open_listeners) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = fd;
            if (::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) fail("epoll_ctl");
        }
        if (control_fd >= 0) {
            epoll_event ev{};
            ev.events = EPOLLIN;
            ev.data.fd = control_fd;
            if (::epoll_ctl(ep, EPOLL_CTL_ADD, control_fd, &ev) != 0) fail("epoll_ctl");
        }

        ready(WorldInfo{port, std::chrono::duration_cast<std::chrono::nanoseconds>(rtts[rtts.size() / 2])});

        epoll_event events[64];
        while (g_stop == 0) {
            int n = ::epoll_wait(ep, events, 64, -1);
            if (n < 0) {
                if (errno == EINTR) continue;
                fail("epoll_wait");
            }
            for (int i = 0; i < n; ++i) {
                const int fd = events[i].data.fd;
                if (fd == control_fd) {
                    char buf[64];
                    ssize_t r = ::read(control_fd, buf, sizeof buf);
                    if (r <= 0 && !(r < 0 && errno == EINTR)) g_stop = 1;
                } else {
                    accept_all(fd, fds, keep_accepted);
                }
            }
        }
    } catch (const Failure& f) {
        std::fprintf(stderr, "eyeballs-bench world: %s%s%s\n", f.what.c_str(), f.code ? ": " : "",
                     f.code ? std::strerror(f.code) : "");
        for (int fd : fds) ::close(fd);
        return 1;
    }
    for (int fd : fds) ::close(fd);
    return 0;
}

}  // namespace eyeballs::bench
