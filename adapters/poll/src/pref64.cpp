// SPDX-License-Identifier: BSL-1.0
// eyeballs::poll — PREF64 discovery through ipv4only.arpa (RFC 7050 §2-§3):
// ask AAAA for the well-known name over the same c-ares resolver the races
// use, and read the NAT64 prefix out of the synthesized answer.
#include <poll.h>

#include <cerrno>
#include <ctime>
#include <vector>

#include "dns.hpp"
#include "eyeballs/detail/socket_ops.hpp"
#include "eyeballs/poll.hpp"
#include "eyeballs/pref64_discovery.hpp"

namespace eyeballs::poll {

Pref64Discovery discover_pref64(const DnsOptions& dns) {
    Pref64Discovery out;
    if (dns.total_timeout <= Duration::zero()) {
        out.error = "dns.total_timeout must be > 0";
        return out;
    }
    detail::Resolver resolver(dns, std::string(ipv4only_arpa), 0);
    resolver.query(Family::v6, std::chrono::steady_clock::now());
    std::vector<pollfd> fds;
    while (resolver.busy()) {
        fds.clear();
        const std::size_t count = resolver.add_pollfds(fds);
        const TimePoint now = std::chrono::steady_clock::now();
        timespec ts{0, 0};
        timespec* timeout = nullptr;
        if (auto deadline = resolver.next_timeout(now)) {
            const auto left = std::max(Duration::zero(), *deadline - now);
            ts.tv_sec = static_cast<time_t>(left.count() / 1000000000);
            ts.tv_nsec = static_cast<long>(left.count() % 1000000000);
            timeout = &ts;
        }
        if (eyeballs::detail::wait_for_events(fds.data(), fds.size(), timeout) < 0 &&
            errno != EINTR) {
            return pref64_discovery_failed("ppoll failed");
        }
        resolver.process(fds.data(), count, std::chrono::steady_clock::now());
    }
    for (detail::DnsAnswer& a : resolver.take_answers()) {
        if (a.negative()) {
            out = a.detail.empty() ? pref64_discovery_no_aaaa() : pref64_discovery_failed(a.detail);
            continue;
        }
        out = pref64_discovery_from_answer(a.addresses);
    }
    return out;
}

}  // namespace eyeballs::poll
