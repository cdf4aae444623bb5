// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — the system's DNS servers, for HTTPS queries.
//
// Asio's resolver is getaddrinfo, which cannot ask for HTTPS records (type
// 65). Without connect_options::dns_server the adapter sends those queries
// itself to the `nameserver` lines of /etc/resolv.conf (port 53), IPv6 ones
// first (draft v3 §4.5: DNS over IPv6 first), each family in the file's
// order; a server that gives no answer leaves the query to the next one
// (udp_lookup). Options and search domains are not used; an IPv6 address
// with a zone ("fe80::1%eth0") is skipped, as are lines that do not parse.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

/// The nameservers to ask, port 53, in order: the file's IPv6 `nameserver`s,
/// then its IPv4 ones (v3 §4.5; eyeballs/dns_servers.hpp, resolv.conf(5)).
inline std::vector<net::ip::udp::endpoint> resolv_conf_nameservers(
    const char* path = "/etc/resolv.conf") {
    std::vector<net::ip::udp::endpoint> out;
    for (const ::eyeballs::Endpoint& server : ::eyeballs::preferred_dns_servers(path)) {
        error_code ec;
        const net::ip::address address = net::ip::make_address(server.address_string(), ec);
        if (!ec) out.emplace_back(address, server.port());
    }
    return out;
}

/// The first of resolv_conf_nameservers(path): the file's first IPv6
/// `nameserver`, else its first IPv4 one; nullopt when it names none.
inline std::optional<net::ip::udp::endpoint> resolv_conf_nameserver(
    const char* path = "/etc/resolv.conf") {
    std::vector<net::ip::udp::endpoint> servers = resolv_conf_nameservers(path);
    if (servers.empty()) return std::nullopt;
    return servers.front();
}

}  // namespace detail
