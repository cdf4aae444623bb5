// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — conversions between eyeballs::Endpoint and Asio's endpoints
// (eyeballs/asio/endpoint.hpp, eyeballs/boost_asio/endpoint.hpp).
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

/// The address of `ep` as an Asio address (IPv4 or IPv6, scope id kept).
inline net::ip::address to_asio_address(const Endpoint& ep) {
    if (ep.is_v4()) {
        const auto& b = ep.bytes();
        return net::ip::address_v4(net::ip::address_v4::bytes_type{b[0], b[1], b[2], b[3]});
    }
    net::ip::address_v6::bytes_type b{};
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = ep.bytes()[i];
    return net::ip::address_v6(b, ep.scope_id());
}

/// `ep` as a TCP endpoint.
inline net::ip::tcp::endpoint to_asio_endpoint(const Endpoint& ep) {
    return {to_asio_address(ep), ep.port()};
}

/// An Asio address and port as an eyeballs::Endpoint (an IPv4-mapped IPv6
/// address stays IPv6, as everywhere in eyeballs).
inline Endpoint from_asio(const net::ip::address& address, unsigned short port) {
    if (address.is_v4()) return Endpoint::v4(address.to_v4().to_bytes(), port);
    const net::ip::address_v6 v6 = address.to_v6();
    const auto b = v6.to_bytes();
    std::array<std::uint8_t, 16> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = b[i];
    return Endpoint::v6(bytes, port, static_cast<std::uint32_t>(v6.scope_id()));
}

/// A TCP (or UDP) endpoint as an eyeballs::Endpoint.
template <typename InternetProtocol>
Endpoint from_asio(const net::ip::basic_endpoint<InternetProtocol>& ep) {
    return from_asio(ep.address(), ep.port());
}

