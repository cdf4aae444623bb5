// SPDX-License-Identifier: BSL-1.0
// eyeballs — conversions between Endpoint and the POSIX socket address types,
// for adapters and programs that call the socket API themselves. On Windows
// the same types come from Winsock (<winsock2.h>, <ws2tcpip.h>; link ws2_32,
// which eyeballs::core does for you).
#pragma once

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include <array>
#include <cstdint>

#include <cstring>
#include <optional>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

/// Fills `storage` and returns the length to pass to connect/bind.
inline socklen_t to_sockaddr(const Endpoint& ep, sockaddr_storage& storage) noexcept {
    std::memset(&storage, 0, sizeof storage);
    if (ep.is_v4()) {
        auto* sa = reinterpret_cast<sockaddr_in*>(&storage);
        sa->sin_family = AF_INET;
        sa->sin_port = htons(ep.port());
        std::memcpy(&sa->sin_addr, ep.bytes().data(), 4);
        return sizeof(sockaddr_in);
    }
    auto* sa = reinterpret_cast<sockaddr_in6*>(&storage);
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(ep.port());
    sa->sin6_scope_id = ep.scope_id();
    std::memcpy(&sa->sin6_addr, ep.bytes().data(), 16);
    return sizeof(sockaddr_in6);
}

/// nullopt for a family other than AF_INET / AF_INET6 or a short length.
inline std::optional<Endpoint> from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
    if (sa == nullptr) return std::nullopt;
    if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
        sockaddr_in in;
        std::memcpy(&in, sa, sizeof in);
        std::array<std::uint8_t, 4> b{};
        std::memcpy(b.data(), &in.sin_addr, 4);
        return Endpoint::v4(b, ntohs(in.sin_port));
    }
    if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
        sockaddr_in6 in6;
        std::memcpy(&in6, sa, sizeof in6);
        std::array<std::uint8_t, 16> b{};
        std::memcpy(b.data(), &in6.sin6_addr, 16);
        return Endpoint::v6(b, ntohs(in6.sin6_port), in6.sin6_scope_id);
    }
    return std::nullopt;
}

/// AF_INET or AF_INET6.
inline int to_af(Family f) noexcept { return f == Family::v4 ? AF_INET : AF_INET6; }

}  // namespace eyeballs
