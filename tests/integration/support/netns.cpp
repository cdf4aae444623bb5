// SPDX-License-Identifier: BSL-1.0
// eyeballs integration-test support: the two-host topology (see netns.hpp).
#include "netns.hpp"

#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "eyeballs/posix.hpp"

namespace eyeballs::test {
namespace {

int index(Family f) { return f == Family::v6 ? 0 : 1; }

bool quiet(const std::string& command) {
    return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

// An RFC 5737 /24 with no address of this host in it.
std::string free_v4_net_24() {
    for (const char* net : {"198.51.100", "203.0.113", "192.0.2"}) {
        Endpoint probe = *Endpoint::parse_address(std::string(net) + ".1", 0);
        int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_storage ss;
        socklen_t len = to_sockaddr(probe, ss);
        bool local = ::bind(fd, reinterpret_cast<sockaddr*>(&ss), len) == 0;
        ::close(fd);
        // Also refuse a network some route already covers more specifically
        // than the default route (e.g. the VM's own 192.0.2.0/24 on eth0).
        if (!local && !quiet("ip -4 route show " + std::string(net) + ".0/24 | grep -q .") &&
            !quiet("ip -4 addr show | grep -q 'inet " + std::string(net) + ".'")) {
            return net;
        }
    }
    throw std::runtime_error("netns: every RFC 5737 network is in use on this host");
}

}  // namespace

std::string TwoHostTopology::unavailable_reason() {
    if (::geteuid() != 0) return "needs root (network namespaces and veth); run as root or in CI";
    if (!quiet("ip -V")) return "needs iproute2's `ip` command";
    std::string ns = "eyeballs-probe-" + std::to_string(::getpid());
    if (!quiet("ip netns add " + ns)) return "`ip netns add` fails here (no CAP_SYS_ADMIN?)";
    quiet("ip netns del " + ns);
    return {};
}

TwoHostTopology::TwoHostTopology() {
    static std::atomic<int> counter{0};
    std::string id = std::to_string(::getpid() % 100000) + "x" + std::to_string(counter);
    ns_ = "eyeballs-test-" + id;
    // Interface names: at most 15 characters.
    if_host_[0] = "eb6h" + id;
    if_server_[0] = "eb6s" + id;
    if_host_[1] = "eb4h" + id;
    if_server_[1] = "eb4s" + id;
    // Each topology gets its own /30 and /64, so that two of them (two test
    // processes) never put one address on two interfaces.
    const int slot = static_cast<int>((::getpid() * 7 + counter.load()) % 63);
    v4_net_ = free_v4_net_24();
    v4_base_ = 4 * slot;
    char v6[32];
    std::snprintf(v6, sizeof v6, "2001:db8:e6:%x::", slot);
    v6_net_ = v6;
    try {
        run("ip netns add " + ns_);
        run("ip -n " + ns_ + " link set lo up");
        for (int i = 0; i < 2; ++i) {
            run("ip link add " + if_host_[i] + " type veth peer name " + if_server_[i]);
            run("ip link set " + if_server_[i] + " netns " + ns_);
        }
        run("ip addr add " + text(Family::v6, 1) + "/64 dev " + if_host_[0] + " nodad");
        run("ip -n " + ns_ + " addr add " + text(Family::v6, 2) + "/64 dev " + if_server_[0] +
            " nodad");
        // Link-local addresses of our own (no DAD: usable at once), for zones.
        run("ip addr add fe80::e6:1/64 dev " + if_host_[0] + " nodad");
        run("ip -n " + ns_ + " addr add fe80::e6:2/64 dev " + if_server_[0] + " nodad");
        run("ip addr add " + text(Family::v4, 1) + "/30 dev " + if_host_[1]);
        run("ip -n " + ns_ + " addr add " + text(Family::v4, 2) + "/30 dev " + if_server_[1]);
        for (int i = 0; i < 2; ++i) {
            run("ip link set " + if_host_[i] + " up");
            run("ip -n " + ns_ + " link set " + if_server_[i] + " up");
        }
    } catch (...) {
        cleanup();
        throw;
    }
    ++counter;
}

TwoHostTopology::~TwoHostTopology() { cleanup(); }

void TwoHostTopology::cleanup() noexcept {
    if (unreachable_[0]) quiet("ip -6 route del unreachable " + text(Family::v6, 2) + "/128");
    if (unreachable_[1]) quiet("ip -4 route del unreachable " + text(Family::v4, 2) + "/32");
    for (const std::string& i : if_host_) {
        if (!i.empty()) quiet("ip link del " + i);
    }
    if (!ns_.empty()) quiet("ip netns del " + ns_);
}

void TwoHostTopology::run(const std::string& command) {
    std::string full = command + " 2>&1";
    if (std::system((full + " >/dev/null").c_str()) != 0) {
        throw std::runtime_error("netns: `" + command + "` failed");
    }
}

std::string TwoHostTopology::text(Family family, int host) const {
    if (family == Family::v6) return v6_net_ + std::to_string(host);
    return v4_net_ + "." + std::to_string(v4_base_ + host);
}

Endpoint TwoHostTopology::server(Family family, std::uint16_t port) const {
    return *Endpoint::parse_address(text(family, 2), port);
}

Endpoint TwoHostTopology::client(Family family) const {
    return *Endpoint::parse_address(text(family, 1), 0);
}

const std::string& TwoHostTopology::host_interface(Family family) const {
    return if_host_[index(family)];
}

Endpoint TwoHostTopology::server_link_local(std::uint16_t port) const {
    const unsigned zone = ::if_nametoindex(if_host_[0].c_str());
    if (zone == 0) throw std::runtime_error("netns: no interface " + if_host_[0]);
    return Endpoint::parse_address("fe80::e6:2%" + std::to_string(zone), port).value();
}

Fd TwoHostTopology::listen_in_server(const Endpoint& at, int backlog) {
    Fd home(::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC));
    Fd there(::open(("/run/netns/" + ns_).c_str(), O_RDONLY | O_CLOEXEC));
    if (!home || !there) throw std::runtime_error("netns: cannot open namespace files");
    if (::setns(there.get(), CLONE_NEWNET) != 0) {
        throw std::runtime_error(std::string("netns: setns: ") + std::strerror(errno));
    }
    Fd sock;
    std::string error;
    try {
        sock = bind_tcp(at);
        if (::listen(sock.get(), backlog) != 0) error = std::strerror(errno);
    } catch (const std::exception& e) {
        error = e.what();
    }
    if (::setns(home.get(), CLONE_NEWNET) != 0) std::abort();  // cannot continue elsewhere
    if (!error.empty()) throw std::runtime_error("netns: listen in server: " + error);
    return sock;
}

void TwoHostTopology::blackhole(Family family) {
    run("ip -n " + ns_ + (family == Family::v6 ? " -6" : " -4") + " route add blackhole " +
        text(family, 1) + (family == Family::v6 ? "/128" : "/32"));
}

void TwoHostTopology::unreachable(Family family) {
    run(std::string(family == Family::v6 ? "ip -6" : "ip -4") + " route add unreachable " +
        text(family, 2) + (family == Family::v6 ? "/128" : "/32"));
    unreachable_[index(family)] = true;
}

}  // namespace eyeballs::test
