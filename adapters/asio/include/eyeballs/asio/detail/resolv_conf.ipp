// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — the system's first DNS server, for HTTPS queries.
//
// Asio's resolver is getaddrinfo, which cannot ask for HTTPS records (type
// 65). Without connect_options::dns_server the adapter sends those queries
// itself to the first IPv6 `nameserver` line of /etc/resolv.conf (port 53),
// or the first IPv4 one when there is no IPv6 one (draft v3 §4.5: DNS over
// IPv6 first). Options, search domains and the other nameservers are not used; an IPv6 address with a zone ("fe80::1%eth0") is
// skipped, as are lines that do not parse.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

/// The nameserver to ask, port 53: the file's first IPv6 `nameserver`, else
/// its first IPv4 one (v3 §4.5; eyeballs/dns_servers.hpp, resolv.conf(5)).
inline std::optional<net::ip::udp::endpoint> resolv_conf_nameserver(
    const char* path = "/etc/resolv.conf") {
    const std::optional<::eyeballs::Endpoint> server = ::eyeballs::preferred_dns_server(path);
    if (!server) return std::nullopt;
    error_code ec;
    const net::ip::address address = net::ip::make_address(server->address_string(), ec);
    if (ec) return std::nullopt;
    return net::ip::udp::endpoint(address, server->port());
}

}  // namespace detail
