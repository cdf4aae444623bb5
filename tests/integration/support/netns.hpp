// SPDX-License-Identifier: BSL-1.0
// eyeballs integration-test support (root only): a real two-host topology.
//
// A second network namespace, the "server host", joined to the test's own
// namespace by two veth pairs, one per family, so each path can be broken on
// its own:
//
//     this host                              server host (netns)
//     2001:db8:e6:N::1/64  ── veth (IPv6) ──   2001:db8:e6:N::2/64
//     <net>.4N+1/30        ── veth (IPv4) ──   <net>.4N+2/30
//     fe80::e6:1/64 on the IPv6 veth ────────   fe80::e6:2/64 (link-local)
//
// <net> is an RFC 5737 /24 not already used on this host; N differs between
// topologies that may exist at once (other test processes). Tests using this
// should still run one at a time (ctest RESOURCE_LOCK eyeballs_netns). Listening
// sockets are created inside the server namespace with listen_in_server().
// Breaking a path:
//   blackhole(f)    the server host drops its replies (a blackhole route back
//                   to us): our SYNs go out, nothing comes back.
//   unreachable(f)  our route to the server is "unreachable": connect(2)
//                   fails at once with EHOSTUNREACH (or ENETUNREACH).
// Everything is removed by the destructor. Needs CAP_NET_ADMIN and `ip`;
// unavailable_reason() says why it cannot run, for GTEST_SKIP.
#pragma once

#include <string>

#include "support.hpp"

namespace eyeballs::test {

class TwoHostTopology {
public:
    /// Empty when the topology can be built here; otherwise why not.
    static std::string unavailable_reason();

    TwoHostTopology();  // throws std::runtime_error naming the failing command
    ~TwoHostTopology();
    TwoHostTopology(const TwoHostTopology&) = delete;
    TwoHostTopology& operator=(const TwoHostTopology&) = delete;

    /// The server host's address of a family, with a port.
    Endpoint server(Family family, std::uint16_t port) const;
    /// Our own address on that path.
    Endpoint client(Family family) const;
    /// Our end of a family's veth pair (an interface name, e.g. for a zone).
    const std::string& host_interface(Family family) const;
    /// The server's link-local address on the IPv6 path, fe80::e6:2, with the
    /// zone of our end of the link (RFC 4007: sin6_scope_id = its index).
    Endpoint server_link_local(std::uint16_t port) const;

    /// A listening TCP socket inside the server namespace.
    Fd listen_in_server(const Endpoint& at, int backlog = 64);

    void blackhole(Family family);
    void unreachable(Family family);

private:
    void run(const std::string& command);
    void cleanup() noexcept;
    std::string text(Family family, int host) const;  // an address as text
    std::string ns_;
    std::string if_host_[2];
    std::string if_server_[2];
    std::string v4_net_;  // "198.51.100"
    int v4_base_ = 0;     // 4N
    std::string v6_net_;  // "2001:db8:e6:N::"
    bool unreachable_[2] = {false, false};
};

}  // namespace eyeballs::test
