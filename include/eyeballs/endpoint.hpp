// SPDX-License-Identifier: BSL-1.0
// eyeballs — Endpoint: an IP address and a port, the library's own value type.
//
// Public headers need only the standard library; adapters convert to sockaddr
// (eyeballs/posix.hpp) or to asio::ip::tcp::endpoint.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace eyeballs {

/// An address family. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is IPv6
/// everywhere (docs/behaviour.md §1 rule 1).
enum class Family : std::uint8_t { v6 = 0, v4 = 1 };

/// "IPv6" / "IPv4" (static strings).
const char* family_name(Family f) noexcept;
/// The DNS record type that carries the family: "AAAA" / "A" (static strings).
const char* record_name(Family f) noexcept;

/// Maps an interface name (the zone of `fe80::1%eth0`) to its index, or
/// nullopt when there is no such interface. The core never asks the system;
/// programs pass eyeballs::interface_index (eyeballs/zone.hpp, if_nametoindex)
/// or their own table.
using ZoneLookup = std::function<std::optional<std::uint32_t>(const std::string& name)>;

/// An IP endpoint: family, 16 address bytes (IPv4 uses the first 4), port, and
/// for IPv6 a zone (RFC 4007 §6), held as the interface index `scope_id` that
/// sockaddr_in6 carries (0: no zone).
class Endpoint {
public:
    /// 0.0.0.0:0.
    constexpr Endpoint() noexcept = default;

    /// An IPv4 endpoint: address bytes in network order (192.0.2.1 is
    /// {192, 0, 2, 1}), port in host order.
    static Endpoint v4(std::array<std::uint8_t, 4> bytes, std::uint16_t port) noexcept;
    /// An IPv6 endpoint: address bytes in network order, port in host order,
    /// and the kernel's scope id (0 for none).
    static Endpoint v6(std::array<std::uint8_t, 16> bytes, std::uint16_t port,
                       std::uint32_t scope_id = 0) noexcept;

    /// Parses `2001:db8::1`, `192.0.2.1`, `[2001:db8::1]:443`, `192.0.2.1:443`
    /// (and `[2001:db8::1]` without a port). Text without a port gets
    /// `default_port`. On failure returns nullopt and, when `error` is given,
    /// stores a message that says what is wrong ("bad IPv6 address 'x'", ...).
    ///
    /// Zones (RFC 4007 §11): `fe80::1%2`, `[fe80::1%2]:443` — a zone follows a
    /// '%' and only an IPv6 address of smaller than global scope may have one
    /// (link-local fe80::/10, site-local fec0::/10, multicast of scope below
    /// global; RFC 4007 §6). A numeric zone is the interface index. A zone
    /// that is an interface name (`fe80::1%eth0`) needs `zones`: without it
    /// the text is refused with a message saying so; the pure parser does no
    /// I/O. `%0` (RFC 4007 §6's default zone) parses as no zone.
    static std::optional<Endpoint> parse(std::string_view text, std::uint16_t default_port,
                                         std::string* error = nullptr,
                                         const ZoneLookup& zones = nullptr);
    /// Parses an address alone (no brackets, no port; a zone allowed) and
    /// gives it `port`. Fails like parse().
    static std::optional<Endpoint> parse_address(std::string_view text, std::uint16_t port,
                                                 std::string* error = nullptr,
                                                 const ZoneLookup& zones = nullptr);

    Family family() const noexcept { return family_; }
    bool is_v4() const noexcept { return family_ == Family::v4; }
    bool is_v6() const noexcept { return family_ == Family::v6; }
    /// True for ::ffff:a.b.c.d.
    bool is_v4_mapped() const noexcept;
    std::uint16_t port() const noexcept { return port_; }
    std::uint32_t scope_id() const noexcept { return scope_id_; }
    /// 4 (IPv4) or 16 (IPv6) meaningful bytes.
    const std::array<std::uint8_t, 16>& bytes() const noexcept { return bytes_; }
    /// A copy with another port.
    Endpoint with_port(std::uint16_t port) const noexcept {
        Endpoint e = *this;
        e.port_ = port;
        return e;
    }

    /// The address in RFC 5952 form: lower-case hex, the longest run (first on a
    /// tie, length ≥ 2) of zero fields compressed, no dotted quad except for
    /// IPv4-mapped addresses (`::ffff:192.0.2.1`); then, with a zone, RFC 4007
    /// §11's `%` and the numeric zone (`fe80::1%2`).
    std::string address_string() const;
    /// `192.0.2.1:443`, `[2001:db8::1]:443` or `[fe80::1%2]:443`.
    std::string to_string() const;

    friend bool operator==(const Endpoint& a, const Endpoint& b) noexcept {
        return a.family_ == b.family_ && a.port_ == b.port_ && a.scope_id_ == b.scope_id_ &&
               a.bytes_ == b.bytes_;
    }
    friend bool operator!=(const Endpoint& a, const Endpoint& b) noexcept { return !(a == b); }
    /// A total order for maps and sorting: IPv6 before IPv4, then address
    /// bytes, port, scope id. Not RFC 6724's preference (see sort.hpp).
    friend bool operator<(const Endpoint& a, const Endpoint& b) noexcept;

private:
    std::array<std::uint8_t, 16> bytes_{};
    std::uint32_t scope_id_ = 0;
    std::uint16_t port_ = 0;
    Family family_ = Family::v4;
};

}  // namespace eyeballs

template <>
struct std::hash<eyeballs::Endpoint> {
    std::size_t operator()(const eyeballs::Endpoint& e) const noexcept;
};
