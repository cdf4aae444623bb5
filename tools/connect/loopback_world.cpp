// SPDX-License-Identifier: BSL-1.0
// eyeballs-loopback-world — a two-address "server" on loopback for demos and
// the latency benchmark: one port number P bound on [::1] and on 127.0.0.1,
// each side open (accepts), refused (bound, not listening: RST) or blackhole
// (listen(0) with its accept queue filled by our own client: SYNs dropped).
//
//   eyeballs-loopback-world [--v6 open|refused|blackhole] [--v4 open|refused|blackhole]
//
// Prints P on stdout once everything is ready (a blackhole is verified to drop
// a probe SYN), then accepts and closes connections on open sides until it
// gets SIGINT/SIGTERM or, when stdin is a pipe, that pipe reaches end of file. Defaults: --v6
// blackhole --v4 open. Exit 2 on bad usage, 1 when the world cannot be built.
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/posix.hpp"

namespace {

using eyeballs::Endpoint;
using eyeballs::Family;

enum class Kind { open, refused, blackhole };

volatile sig_atomic_t stop = 0;
extern "C" void on_signal(int) { stop = 1; }

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "eyeballs-loopback-world: %s: %s\n", what.c_str(), std::strerror(errno));
    std::exit(1);
}

Endpoint loopback(Family f, std::uint16_t port) {
    if (f == Family::v4) return Endpoint::v4({127, 0, 0, 1}, port);
    std::array<std::uint8_t, 16> b{};
    b[15] = 1;
    return Endpoint::v6(b, port);
}

int tcp_socket(Family f, bool nonblocking) {
    int fd = ::socket(eyeballs::to_af(f), SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (fd < 0) die("socket");
    if (f == Family::v6) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    return fd;
}

bool bind_to(int fd, const Endpoint& ep) {
    sockaddr_storage ss;
    socklen_t len = eyeballs::to_sockaddr(ep, ss);
    return ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
}

// A non-blocking connect; true when it completed (either way) within `ms`.
bool probe(const Endpoint& to, int ms, int* keep) {
    int c = tcp_socket(to.family(), true);
    sockaddr_storage ss;
    socklen_t len = eyeballs::to_sockaddr(to, ss);
    if (::connect(c, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) die("connect");
    pollfd p{c, POLLOUT, 0};
    bool done = ::poll(&p, 1, ms) > 0;
    if (done && keep != nullptr) {
        *keep = c;
    } else {
        ::close(c);
    }
    return done;
}

std::optional<Kind> parse_kind(std::string_view s) {
    if (s == "open") return Kind::open;
    if (s == "refused") return Kind::refused;
    if (s == "blackhole") return Kind::blackhole;
    return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
    Kind kinds[2] = {Kind::blackhole, Kind::open};  // [v6, v4]
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if ((a == "--v6" || a == "--v4") && i + 1 < argc) {
            auto k = parse_kind(argv[++i]);
            if (!k) {
                std::fprintf(stderr, "eyeballs-loopback-world: %s: open, refused or blackhole\n", argv[i - 1]);
                return 2;
            }
            kinds[a == "--v6" ? 0 : 1] = *k;
        } else {
            std::fprintf(stderr,
                         "usage: eyeballs-loopback-world [--v6 open|refused|blackhole] "
                         "[--v4 open|refused|blackhole]\n");
            return 2;
        }
    }

    // One port number on both addresses.
    int fds[2] = {-1, -1};
    std::uint16_t port = 0;
    for (int tries = 0; tries < 200 && fds[1] < 0; ++tries) {
        fds[0] = tcp_socket(Family::v6, false);
        if (!bind_to(fds[0], loopback(Family::v6, 0))) die("bind [::1]");
        sockaddr_in6 sa{};
        socklen_t len = sizeof sa;
        ::getsockname(fds[0], reinterpret_cast<sockaddr*>(&sa), &len);
        port = ntohs(sa.sin6_port);
        fds[1] = tcp_socket(Family::v4, false);
        if (!bind_to(fds[1], loopback(Family::v4, port))) {
            ::close(fds[0]);
            ::close(fds[1]);
            fds[1] = -1;
        }
    }
    if (fds[1] < 0) die("no port free on both [::1] and 127.0.0.1");

    std::vector<int> keep;  // blackhole fillers
    for (int i = 0; i < 2; ++i) {
        Family f = i == 0 ? Family::v6 : Family::v4;
        if (kinds[i] == Kind::open) {
            if (::listen(fds[i], 128) != 0) die("listen");
            ::fcntl(fds[i], F_SETFL, ::fcntl(fds[i], F_GETFL) | O_NONBLOCK);
        } else if (kinds[i] == Kind::blackhole) {
            if (::listen(fds[i], 0) != 0) die("listen");
            bool dropping = false;
            for (int n = 0; n < 16 && !dropping; ++n) {
                int filler = -1;
                if (probe(loopback(f, port), 200, &filler)) {
                    keep.push_back(filler);
                } else {
                    dropping = true;
                }
            }
            if (!dropping) {
                errno = 0;
                die("the blackhole keeps accepting");
            }
        }
    }

    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);

    std::printf("%u\n", static_cast<unsigned>(port));
    std::fflush(stdout);

    struct stat st;
    bool watch_stdin = ::fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode);
    while (!stop) {
        pollfd p[3] = {{watch_stdin ? STDIN_FILENO : -1, POLLIN, 0},
                       {kinds[0] == Kind::open ? fds[0] : -1, POLLIN, 0},
                       {kinds[1] == Kind::open ? fds[1] : -1, POLLIN, 0}};
        if (::poll(p, 3, -1) < 0) continue;
        if ((p[0].revents & (POLLIN | POLLHUP)) != 0) {
            char buf[256];
            if (::read(STDIN_FILENO, buf, sizeof buf) <= 0) break;
        }
        for (int i = 1; i < 3; ++i) {
            if ((p[i].revents & POLLIN) == 0) continue;
            int c;
            while ((c = ::accept4(p[i].fd, nullptr, nullptr, SOCK_CLOEXEC)) >= 0) ::close(c);
        }
    }
    return 0;
}
