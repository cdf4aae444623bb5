// SPDX-License-Identifier: BSL-1.0
// eyeballs — the DNS servers an adapter asks, IPv6 first (dns_servers.hpp).
#include "eyeballs/dns_servers.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace eyeballs {

std::vector<Endpoint> parse_resolv_conf(std::string_view text) {
    std::vector<Endpoint> out;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string keyword;
        std::string value;
        if (!(words >> keyword >> value) || keyword != "nameserver") continue;
        if (value.find('%') != std::string::npos) continue;  // a zone: skipped
        if (auto ep = Endpoint::parse_address(value, 53)) out.push_back(*ep);
    }
    return out;
}

std::vector<Endpoint> order_dns_servers(std::vector<Endpoint> servers) {
    // v3 §4.5: IPv6 nameservers first; a stable partition keeps each family's order.
    std::stable_partition(servers.begin(), servers.end(),
                          [](const Endpoint& e) { return e.family() == Family::v6; });
    return servers;
}

std::vector<Endpoint> preferred_dns_servers(const char* path) {
    std::ifstream in(path);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    return order_dns_servers(parse_resolv_conf(text.str()));
}

std::optional<Endpoint> preferred_dns_server(const char* path) {
    const std::vector<Endpoint> servers = preferred_dns_servers(path);
    if (servers.empty()) return std::nullopt;
    return servers.front();
}

}  // namespace eyeballs
