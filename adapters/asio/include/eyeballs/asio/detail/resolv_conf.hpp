// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — the system's first DNS server, for HTTPS queries.
//
// Asio's resolver is getaddrinfo, which cannot ask for HTTPS records (type
// 65). Without connect_options::dns_server the adapter sends those queries
// itself to the first `nameserver` line of /etc/resolv.conf (port 53), the
// server the system resolver asks first. Options, search domains and later
// nameservers are not used; an IPv6 address with a zone ("fe80::1%eth0") is
// skipped, as are lines that do not parse.
#pragma once

#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>

namespace eyeballs::asio::detail {

/// The first usable `nameserver` of the file (resolv.conf(5) syntax), port 53.
inline std::optional<::asio::ip::udp::endpoint> resolv_conf_nameserver(
    const char* path = "/etc/resolv.conf") {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string keyword;
        std::string value;
        if (!(words >> keyword >> value) || keyword != "nameserver") continue;
        if (value.find('%') != std::string::npos) continue;
        std::error_code ec;
        const ::asio::ip::address address = ::asio::ip::make_address(value, ec);
        if (!ec) return ::asio::ip::udp::endpoint(address, 53);
    }
    return std::nullopt;
}

}  // namespace eyeballs::asio::detail
