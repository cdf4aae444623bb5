// SPDX-License-Identifier: BSL-1.0
// A QUIC server for the integration tests (issue 18): ngtcp2's example server
// `gtlsserver ADDR PORT KEY CERT` (Debian ngtcp2-server) run as a child
// process, started and stopped by the test. Its `--rx-loss=1.0` drops every
// datagram it receives: a UDP blackhole that still holds the port.
//
//   QuicServer q(gtlsserver_path, loopback_v4(port), pki.leaf_key(), pki.leaf_cert());
//   QuicServer hole(path, loopback_v4(port), key, cert, {"--rx-loss=1.0"});
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "support.hpp"

namespace eyeballs::test {

class QuicServer {
public:
    /// Starts the child on `at` (a non-zero port) and returns once the UDP
    /// port is bound (read from /proc/net/udp, /proc/net/udp6); throws
    /// std::runtime_error when the program cannot run or does not bind
    /// within 10 s.
    QuicServer(const std::string& program, const Endpoint& at, const std::string& key,
               const std::string& cert, std::vector<std::string> extra = {});
    /// Kills the child and waits for it.
    ~QuicServer();
    QuicServer(const QuicServer&) = delete;
    QuicServer& operator=(const QuicServer&) = delete;
    Endpoint endpoint() const { return at_; }

private:
    Endpoint at_;
    pid_t pid_ = -1;
};

/// A TCP socket bound (not listening) on `at`'s address, on a port whose UDP
/// twin is free right now: a world that serves QUIC and TCP+TLS on one port
/// number keeps the TCP half from the start, so that a parallel test's
/// outgoing connection cannot take it between the choice and the listen
/// (a UDP port chosen alone says nothing of the TCP one). A connect to it before a
/// server listens on it is refused, as to a port nobody has.
Fd bind_tcp_with_free_udp_twin(const Endpoint& at);

/// True when a socket is bound to UDP port `port` of `at`'s family.
bool udp_port_bound(const Endpoint& at);

}  // namespace eyeballs::test
