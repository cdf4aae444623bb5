// SPDX-License-Identifier: BSL-1.0
// eyeballs — NAT64 address synthesis (RFC 6052) and PREF64 discovery (RFC 7050).
//
// On an IPv6-only network with a NAT64, an IPv4 destination is reached through
// an IPv6 address made of the network's PREF64 and the IPv4 address (RFC 8305
// §7.1: "the client SHOULD synthesize IPv6 addresses ... using the PREF64").
// Pure functions: no I/O, no clock; the caller discovers the PREF64 (by an
// AAAA query for ipv4only.arpa, RFC 7050, or a router advertisement, RFC 8781)
// and hands it in.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

/// A NAT64 prefix (RFC 6052 §2.2 "Pref64::/n"): a prefix and its length,
/// which is one of 32, 40, 48, 56, 64, 96. Bits past `length` are zero, and
/// so are bits 64-71 (the "u" octet: "These bits MUST be set to zero", RFC
/// 6052 §2.2) — parse() enforces both; a Pref64 built by hand must keep them.
struct Pref64 {
    std::array<std::uint8_t, 16> prefix{};
    std::uint8_t length = 96;

    /// Parses "64:ff9b::/96" or "2001:db8:122:300::/56". On failure returns
    /// nullopt and, when `error` is given, a message that says what is wrong,
    /// e.g. "NAT64 prefix length 60 in '2001:db8::/60' is not one of 32, 40,
    /// 48, 56, 64, 96 (RFC 6052 §2.2)".
    static std::optional<Pref64> parse(std::string_view text, std::string* error = nullptr);

    /// "64:ff9b::/96" (RFC 5952 form, as Endpoint prints).
    std::string to_string() const;

    /// True for the Well-Known Prefix 64:ff9b::/96 (RFC 6052 §2.1).
    bool is_well_known() const noexcept;

    friend bool operator==(const Pref64& a, const Pref64& b) noexcept {
        return a.length == b.length && a.prefix == b.prefix;
    }
    friend bool operator!=(const Pref64& a, const Pref64& b) noexcept { return !(a == b); }
};

/// The Well-Known Prefix 64:ff9b::/96 (RFC 6052 §2.1).
Pref64 well_known_pref64() noexcept;

/// True for 32, 40, 48, 56, 64 and 96, the lengths RFC 6052 §2.2 defines.
bool is_valid_pref64_length(unsigned length) noexcept;

/// True when the IPv4 address is never synthesized, whatever the prefix:
/// 0.0.0.0/8 ("this network"), 127.0.0.0/8 (loopback), 169.254.0.0/16 (link
/// local) and 255.255.255.255 (limited broadcast): addresses that mean
/// something only on the node or its link, never through a translator.
bool never_synthesized(const Endpoint& v4) noexcept;

/// True when the IPv4 address is global in the sense of RFC 6052 §3.1 ("The
/// Well-Known Prefix MUST NOT be used to represent non-global IPv4 addresses,
/// such as those defined in [RFC1918] or listed in Section 3 of [RFC5735]"):
/// false for every block RFC 5735 §3 lists — 0/8, 10/8, 127/8, 169.254/16,
/// 172.16/12, 192.0.0/24, 192.0.2/24, 192.88.99/24, 192.168/16, 198.18/15,
/// 198.51.100/24, 203.0.113/24, 224/4, 240/4 (255.255.255.255 included) — and
/// for 100.64/10 (RFC 6598 shared address space, "not globally reachable" in
/// RFC 6890's registry); true for everything else, and for 192.0.0.9 and
/// 192.0.0.10, the two anycast addresses the registry marks globally
/// reachable (PCP anycast, RFC 7723; TURN anycast, RFC 8155).
bool is_global_v4(const Endpoint& v4) noexcept;

/// The IPv4-embedded IPv6 address of RFC 6052 §2.2 for `v4` under `prefix`,
/// with v4's port (scope id 0). The 32 IPv4 bits go right after the prefix,
/// skipping bits 64-71 (u), and the suffix is zero:
///
///     |PL| 0-------------32--40--48--56--64--72--80--88--96--104---------|
///     |32|     prefix    |v4(32)         | u | suffix                    |
///     |40|     prefix        |v4(24)     | u |(8)| suffix                |
///     |48|     prefix            |v4(16) | u | (16)  | suffix            |
///     |56|     prefix                |(8)| u |  v4(24)   | suffix        |
///     |64|     prefix                    | u |   v4(32)      | suffix    |
///     |96|     prefix                                    |    v4(32)     |
///
/// Returns nullopt when `v4` is not an IPv4 endpoint (an IPv4-mapped IPv6
/// address included), when it is never synthesized (never_synthesized), when
/// `prefix` is the Well-Known Prefix and the address is not global (RFC 6052
/// §3.1), or when the prefix length is not valid.
std::optional<Endpoint> synthesize(const Endpoint& v4, const Pref64& prefix) noexcept;

/// The inverse of synthesize: the IPv4 address embedded in `v6` under
/// `prefix`, with v6's port. Returns nullopt when `v6` is not IPv6, does not
/// start with the prefix, has a non-zero u octet (RFC 6052 §2.2), or the
/// length is not valid. The suffix is not checked ("SHOULD be set to zero"),
/// and no address is refused for what it is: extract_v4 only reads.
std::optional<Endpoint> extract_v4(const Endpoint& v6, const Pref64& prefix) noexcept;

/// The name whose AAAA answer reveals the PREF64 (RFC 7050, RFC 8880).
inline constexpr std::string_view ipv4only_arpa = "ipv4only.arpa";

/// RFC 7050 §3: the PREF64s an AAAA answer for ipv4only.arpa reveals. Each
/// answer address is searched at every RFC 6052 length for the well-known
/// IPv4 addresses (WKAs) 192.0.0.170 and 192.0.0.171, with a zero u
/// octet. An address that holds one at exactly one length gives that prefix.
/// One that holds it at several lengths (a prefix can contain the value by
/// chance) is settled by the answer's other well-known address, as RFC 7050
/// §3 intends the second address for: a length is kept only when another
/// answer address gives the same prefix through the other well-known address;
/// otherwise the address gives nothing. Returns each prefix once, in the
/// order of the answer; empty when there is no NAT64.
std::vector<Pref64> pref64_from_ipv4only_answer(const std::vector<Endpoint>& aaaa);

}  // namespace eyeballs
