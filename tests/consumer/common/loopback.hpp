// SPDX-License-Identifier: BSL-1.0
// Consumer tests: a loopback world for one race, and the checks every
// consumer program makes. Plain POSIX, C++17, no eyeballs header: it is the
// "server side" a user's program would talk to.
//
//   consumer::Loopback world;        // 127.0.0.1:P listens; [::1]:P refuses
//   ... race {[::1]:P, 127.0.0.1:P} with an adapter ...
//   world.check_peer(fd);            // the accepted peer talks to fd
//
// [::1]:P is bound but not listening, so a connect to it is refused at once
// (or fails at socket()/connect() on a host without IPv6): attempt 1 fails,
// attempt 2 (IPv4) wins. Either way the race ends quickly and deterministically.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace consumer {

[[noreturn]] inline void die(const std::string& what) {
    std::fprintf(stderr, "consumer test FAILED: %s\n", what.c_str());
    std::exit(1);
}

inline void expect(bool ok, const std::string& what) {
    if (!ok) die(what);
}

class Loopback {
public:
    Loopback() {
        for (int tries = 0; tries < 20; ++tries) {
            if (open_once()) return;
            close_all();
        }
        die("cannot set up the loopback listener");
    }
    ~Loopback() { close_all(); }
    Loopback(const Loopback&) = delete;
    Loopback& operator=(const Loopback&) = delete;

    std::uint16_t port() const { return port_; }

    // Accepts the connection `fd` made, then sends a byte each way.
    void check_peer(int fd) {
        pollfd p{listener_, POLLIN, 0};
        expect(::poll(&p, 1, 5000) == 1, "the listener saw no connection");
        const int peer = ::accept(listener_, nullptr, nullptr);
        expect(peer >= 0, std::string("accept: ") + std::strerror(errno));
        const int flags = ::fcntl(fd, F_GETFL);
        expect(flags >= 0 && ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0, "fcntl");
        char c = 'e';
        expect(::send(fd, &c, 1, MSG_NOSIGNAL) == 1, "send from the client");
        c = 0;
        expect(::recv(peer, &c, 1, 0) == 1 && c == 'e', "the server did not get the byte");
        c = 'y';
        expect(::send(peer, &c, 1, MSG_NOSIGNAL) == 1, "send from the server");
        c = 0;
        expect(::recv(fd, &c, 1, 0) == 1 && c == 'y', "the client did not get the byte");
        ::close(peer);
    }

private:
    bool open_once() {
        listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (listener_ < 0) return false;
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (::bind(listener_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::listen(listener_, 8) != 0 ||
            ::getsockname(listener_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            return false;
        }
        port_ = ntohs(a.sin_port);
        // Hold [::1]:P without listening, so nobody else can answer there.
        refuser_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (refuser_ < 0) return true;  // no IPv6 at all: attempt 1 fails at open
        sockaddr_in6 b{};
        b.sin6_family = AF_INET6;
        b.sin6_addr = in6addr_loopback;
        b.sin6_port = htons(port_);
        if (::bind(refuser_, reinterpret_cast<sockaddr*>(&b), sizeof b) == 0) return true;
        if (errno == EADDRINUSE) return false;  // someone has [::1]:P: pick another port
        return true;  // ::1 not configured: attempt 1 fails at connect
    }
    void close_all() {
        if (listener_ >= 0) ::close(listener_);
        if (refuser_ >= 0) ::close(refuser_);
        listener_ = refuser_ = -1;
    }

    int listener_ = -1;
    int refuser_ = -1;
    std::uint16_t port_ = 0;
};

}  // namespace consumer
