// SPDX-License-Identifier: BSL-1.0
// eyeballs integration-test support: loopback listeners, blackholes, refused
// ports, the fd counter. The DNS server is in dns_server.cpp.
#include "support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "eyeballs/posix.hpp"

namespace eyeballs::test {
namespace {

[[noreturn]] void fail(const std::string& what, int err) {
    throw std::runtime_error("test support: " + what + ": " + std::strerror(err));
}

Fd open_tcp(Family family, bool nonblocking) {
    int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0);
    int fd = ::socket(to_af(family), type, 0);
    if (fd < 0) fail("socket", errno);
    if (family == Family::v6) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    }
    return Fd(fd);
}

// Starts a non-blocking connect and waits up to `wait` for it to finish.
// Returns the client socket and whether the connect completed (either way).
std::pair<Fd, bool> probe_connect(const Endpoint& to, Millis wait) {
    Fd c = open_tcp(to.family(), true);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(to, ss);
    if (::connect(c.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) return {std::move(c), true};
    if (errno != EINPROGRESS) fail("connect to " + to.to_string(), errno);
    pollfd p{c.get(), POLLOUT, 0};
    int n = ::poll(&p, 1, static_cast<int>(wait.count()));
    return {std::move(c), n > 0};
}

}  // namespace

void Fd::reset(int fd) noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
}

Endpoint loopback_v6(std::uint16_t port) {
    std::array<std::uint8_t, 16> b{};
    b[15] = 1;
    return Endpoint::v6(b, port);
}

Endpoint loopback_v4(std::uint16_t port) { return Endpoint::v4({127, 0, 0, 1}, port); }

bool ipv6_loopback_available() {
    int fd = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(loopback_v6(0), ss);
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
    ::close(fd);
    return ok;
}

Fd bind_tcp(const Endpoint& at) {
    Fd fd = open_tcp(at.family(), false);
    sockaddr_storage ss;
    socklen_t len = to_sockaddr(at, ss);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) < 0) {
        fail("bind to " + at.to_string(), errno);
    }
    return fd;
}

Endpoint bound_endpoint(int fd) {
    sockaddr_storage ss;
    socklen_t len = sizeof ss;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) fail("getsockname", errno);
    auto ep = from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len);
    if (!ep) throw std::runtime_error("test support: getsockname: not an IP address");
    return *ep;
}

LoopbackPair bind_loopback_pair() {
    for (int i = 0; i < 200; ++i) {
        Fd v6 = bind_tcp(loopback_v6(0));
        std::uint16_t port = bound_endpoint(v6.get()).port();
        Fd v4 = open_tcp(Family::v4, false);
        sockaddr_storage ss;
        socklen_t len = to_sockaddr(loopback_v4(port), ss);
        if (::bind(v4.get(), reinterpret_cast<sockaddr*>(&ss), len) == 0) {
            return LoopbackPair{std::move(v6), std::move(v4), port};
        }
        if (errno != EADDRINUSE) fail("bind to 127.0.0.1", errno);
    }
    throw std::runtime_error("test support: no port free on both [::1] and 127.0.0.1");
}

// ---- Listener -------------------------------------------------------------

Listener::Listener(const Endpoint& at, int backlog) : Listener(bind_tcp(at), backlog) {}

Listener::Listener(Fd bound, int backlog) : fd_(std::move(bound)) {
    if (::listen(fd_.get(), backlog) < 0) fail("listen", errno);
    int fl = ::fcntl(fd_.get(), F_GETFL);
    ::fcntl(fd_.get(), F_SETFL, fl | O_NONBLOCK);
    endpoint_ = bound_endpoint(fd_.get());
}

int Listener::accept_all() {
    int n = 0;
    for (;;) {
        int c = ::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) break;
        ::close(c);
        ++n;
    }
    return n;
}

// ---- Blackhole ------------------------------------------------------------

Blackhole::Blackhole(const Endpoint& at) : Blackhole(bind_tcp(at)) {}

Blackhole::Blackhole(Fd bound) : fd_(std::move(bound)) {
    if (::listen(fd_.get(), 0) < 0) fail("listen", errno);
    endpoint_ = bound_endpoint(fd_.get());
    fill();
}

void Blackhole::fill() {
    // Connect our own clients until one stays pending: the accept queue is
    // then full and the kernel drops further SYNs. (Linux takes one
    // connection with listen(0); the loop does not depend on that.)
    for (int i = 0; i < 16; ++i) {
        auto [client, done] = probe_connect(endpoint_, Millis(100));
        if (!done) return;  // verified: this SYN was dropped; the probe closes
        fillers_.push_back(std::move(client));
    }
    throw std::runtime_error("test support: blackhole at " + endpoint_.to_string() +
                             " still accepts after 16 connections");
}

bool Blackhole::drops(Millis wait) const { return !probe_connect(endpoint_, wait).second; }

// ---- RefusedPort ----------------------------------------------------------

RefusedPort::RefusedPort(const Endpoint& at) : RefusedPort(bind_tcp(at)) {}

RefusedPort::RefusedPort(Fd bound) : fd_(std::move(bound)) {
    endpoint_ = bound_endpoint(fd_.get());
}

// ---- fd counter -----------------------------------------------------------

int open_fd_count() {
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) fail("opendir /proc/self/fd", errno);
    int n = 0;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    return n - 1;  // the directory's own fd
}

}  // namespace eyeballs::test
