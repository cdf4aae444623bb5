// SPDX-License-Identifier: BSL-1.0
// Root only: a private network and mount namespace whose /etc/resolv.conf
// lists `nameserver 127.0.0.1` first and `nameserver ::1` second, so the
// adapters' DNS clients see a system with both kinds of nameserver (draft v3
// §4.5: DNS over IPv6 first). The host's resolv.conf is not touched: the
// file is bind-mounted over it inside the new mount namespace only, as `ip
// netns exec` does with /etc/netns/NAME/resolv.conf.
#pragma once

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>

#include "support.hpp"

namespace eyeballs::test {

/// The two nameservers of the namespace's resolv.conf.
inline const Endpoint kNs4 = *Endpoint::parse("127.0.0.1:53", 0);
inline const Endpoint kNs6 = *Endpoint::parse("[::1]:53", 0);

/// The HTTPS query's name for dual.test on `port` (RFC 9460 §9.1).
inline std::string dual_https_name(std::uint16_t port) {
    return port == 443 ? std::string("dual.test") : "_" + std::to_string(port) + "._https.dual.test";
}

/// The zone both nameservers answer: an HTTPS record (h2) for `port`, and
/// dual.test's AAAA ::1 and A 127.0.0.1.
inline void serve_zone(DnsServer& dns, std::uint16_t port) {
    dns.set_https(dual_https_name(port), DnsServer::Answer::https_text({"1 . alpn=h2"}));
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
}

/// How many queries of RR type `type` (28 AAAA, 1 A, 65 HTTPS) `dns` has had.
inline std::size_t count_type(const DnsServer& dns, std::uint16_t type) {
    std::size_t n = 0;
    for (const auto& q : dns.queries()) n += q.type == type ? 1 : 0;
    return n;
}

/// The world of the "silent first nameserver" tests: dual.test's own port
/// refuses connections on both families, and its HTTPS record (`port=`) names
/// a listener on [::1], so a race connects only through the HTTPS answer.
/// [::1]:53 never answers the HTTPS query (nor, with `addresses_silent`, the
/// AAAA and A ones, which it answers otherwise); 127.0.0.1:53 answers them all.
struct SilentFirstNameserver {
    explicit SilentFirstNameserver(bool addresses_silent = false)
        : origin(bind_loopback_pair()),
          port(origin.port),
          refused6(std::move(origin.v6)),
          refused4(std::move(origin.v4)),
          service(loopback_v6()),
          ns6(kNs6),
          ns4(kNs4) {
        const std::string https_name = dual_https_name(port);
        const std::string record =
            "1 . alpn=h2 port=" + std::to_string(service.endpoint().port());
        ns6.set_https(https_name, DnsServer::Answer::silent());
        const auto v6 = addresses_silent ? DnsServer::Answer::silent()
                                         : DnsServer::Answer::with({loopback_v6()});
        const auto v4 = addresses_silent ? DnsServer::Answer::silent()
                                         : DnsServer::Answer::with({loopback_v4()});
        ns6.set("dual.test", Family::v6, v6);
        ns6.set("dual.test", Family::v4, v4);
        ns4.set_https(https_name, DnsServer::Answer::https_text({record}));
        ns4.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
        ns4.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    }

    LoopbackPair origin;  // bound, never listening: refused
    std::uint16_t port;
    RefusedPort refused6;
    RefusedPort refused4;
    Listener service;
    DnsServer ns6;
    DnsServer ns4;
};

/// The resolv.conf the namespace gets: IPv4 first in the file, so a client
/// that follows the file's order asks 127.0.0.1 and one that follows §4.5
/// asks ::1.
inline const char* const kBothFamiliesResolvConf =
    "# eyeballs dns_order netns test\nnameserver 127.0.0.1\nnameserver ::1\n";

/// Moves this process into a new network namespace (loopback up, and a veth
/// pair with 192.0.2.1/24 and 2001:db8:e7::1/64) and a new
/// private mount namespace with kBothFamiliesResolvConf over
/// /etc/resolv.conf. Done once per process, before any thread exists
/// (unshare(CLONE_NEWNS) needs a single-threaded caller); later calls return
/// the first call's result. Empty on success, else what failed.
inline std::string enter_dns_order_namespace() {
    static const std::string result = [] () -> std::string {
        auto fail = [](const std::string& what) { return what + ": " + std::strerror(errno); };
        if (::unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) return fail("unshare(CLONE_NEWNET|CLONE_NEWNS)");
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
            return fail("mount --make-rprivate /");
        }
        const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (s < 0) return fail("socket");
        ifreq ifr{};
        std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
        bool up = ::ioctl(s, SIOCGIFFLAGS, &ifr) == 0;
        if (up) {
            ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
            up = ::ioctl(s, SIOCSIFFLAGS, &ifr) == 0;
        }
        const int saved = errno;
        ::close(s);
        errno = saved;
        if (!up) return fail("ip link set lo up");
        // A veth pair with an address of each family: getaddrinfo with
        // AI_ADDRCONFIG (Asio's default) answers nothing when only loopback
        // addresses exist.
        const char* const link =
            "ip link add eb-ns0 type veth peer name eb-ns1 && "
            "ip addr add 192.0.2.1/24 dev eb-ns0 && "
            "ip addr add 2001:db8:e7::1/64 dev eb-ns0 nodad && "
            "ip link set eb-ns0 up && ip link set eb-ns1 up";
        if (std::system(link) != 0) return std::string("cannot set up a veth pair: ") + link;
        const std::string path = "/tmp/eyeballs_dns_order_resolv.conf." + std::to_string(::getpid());
        {
            std::ofstream out(path, std::ios::trunc);
            out << kBothFamiliesResolvConf;
            if (!out) return "cannot write " + path;
        }
        const int rc = ::mount(path.c_str(), "/etc/resolv.conf", nullptr, MS_BIND, nullptr);
        const int mount_errno = errno;
        // The bind mount holds the inode; the name is not needed any more.
        ::unlink(path.c_str());
        errno = mount_errno;
        if (rc != 0) return fail("mount --bind " + path + " /etc/resolv.conf");
        if (!ipv6_loopback_available()) return "no [::1] in the new network namespace";
        return {};
    }();
    return result;
}

}  // namespace eyeballs::test
