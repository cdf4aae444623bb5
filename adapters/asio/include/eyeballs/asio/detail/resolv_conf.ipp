// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — the system's first DNS server, for HTTPS queries.
//
// Asio's resolver is getaddrinfo, which cannot ask for HTTPS records (type
// 65). Without connect_options::dns_server the adapter sends those queries
// itself to the first `nameserver` line of /etc/resolv.conf (port 53), the
// server the system resolver asks first. Options, search domains and later
// nameservers are not used; an IPv6 address with a zone ("fe80::1%eth0") is
// skipped, as are lines that do not parse.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

/// The first usable `nameserver` of the file (resolv.conf(5) syntax), port 53.
inline std::optional<net::ip::udp::endpoint> resolv_conf_nameserver(
    const char* path = "/etc/resolv.conf") {
    std::ifstream in(path);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string keyword;
        std::string value;
        if (!(words >> keyword >> value) || keyword != "nameserver") continue;
        if (value.find('%') != std::string::npos) continue;
        error_code ec;
        const net::ip::address address = net::ip::make_address(value, ec);
        if (!ec) return net::ip::udp::endpoint(address, 53);
    }
    return std::nullopt;
}

}  // namespace detail
