// SPDX-License-Identifier: BSL-1.0
// eyeballs — NAT64: RFC 6052 address synthesis and RFC 7050 PREF64 discovery
// (see eyeballs/nat64.hpp).
//
// RFC 6052 §2.2 puts the 32 IPv4 bits right after the prefix, in whole
// octets, and never in bits 64-71 (the "u" octet, kept zero for the IPv6
// addressing architecture's interface identifier format). So for a prefix of
// L bits the IPv4 octets land, in order, in the address octets L/8, L/8+1, ...
// skipping octet 8:
//     /32: 4 5 6 7    /40: 5 6 7 9    /48: 6 7 9 10
//     /56: 7 9 10 11  /64: 9 10 11 12 /96: 12 13 14 15
// Every other octet after the prefix (the suffix) is zero.
#include "eyeballs/nat64.hpp"

#include <cstddef>

namespace eyeballs {

namespace {

using Bytes = std::array<std::uint8_t, 16>;

constexpr std::size_t u_octet = 8;  // bits 64-71

// The octets of the address that hold the IPv4 octets, for a valid length.
std::array<std::size_t, 4> v4_positions(std::uint8_t length) noexcept {
    std::array<std::size_t, 4> pos{};
    std::size_t at = length / 8u;
    for (std::size_t i = 0; i < 4; ++i) {
        if (at == u_octet) ++at;
        pos[i] = at++;
    }
    return pos;
}

std::uint32_t v4_value(const Endpoint& v4) noexcept {
    const Bytes& b = v4.bytes();
    return (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) |
           std::uint32_t{b[3]};
}

// True when the 32-bit address is in a.b.c.d/len.
constexpr bool in_v4(std::uint32_t address, std::uint32_t network, unsigned len) noexcept {
    const std::uint32_t mask = len == 0 ? 0u : ~std::uint32_t{0} << (32u - len);
    return (address & mask) == (network & mask);
}

constexpr std::uint32_t v4(unsigned a, unsigned b, unsigned c, unsigned d) noexcept {
    return (std::uint32_t{a} << 24) | (std::uint32_t{b} << 16) | (std::uint32_t{c} << 8) |
           std::uint32_t{d};
}

struct V4Block {
    std::uint32_t network;
    unsigned length;
};

// RFC 5735 §3, the special-use blocks RFC 6052 §3.1 points at, plus RFC 6598's
// shared address space (not globally reachable in RFC 6890's registry).
constexpr V4Block non_global_blocks[] = {
    {v4(0, 0, 0, 0), 8},          // "this" network (RFC 1122)
    {v4(10, 0, 0, 0), 8},         // private use (RFC 1918)
    {v4(100, 64, 0, 0), 10},      // shared address space (RFC 6598)
    {v4(127, 0, 0, 0), 8},        // loopback (RFC 1122)
    {v4(169, 254, 0, 0), 16},     // link local (RFC 3927)
    {v4(172, 16, 0, 0), 12},      // private use (RFC 1918)
    {v4(192, 0, 0, 0), 24},       // IETF protocol assignments (RFC 5736)
    {v4(192, 0, 2, 0), 24},       // TEST-NET-1 (RFC 5737)
    {v4(192, 88, 99, 0), 24},     // 6to4 relay anycast (RFC 3068)
    {v4(192, 168, 0, 0), 16},     // private use (RFC 1918)
    {v4(198, 18, 0, 0), 15},      // benchmarking (RFC 2544)
    {v4(198, 51, 100, 0), 24},    // TEST-NET-2 (RFC 5737)
    {v4(203, 0, 113, 0), 24},     // TEST-NET-3 (RFC 5737)
    {v4(224, 0, 0, 0), 4},        // multicast (RFC 3171)
    {v4(240, 0, 0, 0), 4},        // reserved for future use (RFC 1112), and
                                  // 255.255.255.255, limited broadcast (RFC 919)
};

// Inside 192.0.0.0/24 but globally reachable in RFC 6890's registry.
constexpr std::uint32_t global_exceptions[] = {
    v4(192, 0, 0, 9),   // Port Control Protocol anycast (RFC 7723)
    v4(192, 0, 0, 10),  // Traversal Using Relays around NAT anycast (RFC 8155)
};

// RFC 7050's well-known IPv4 addresses (WKAs).
constexpr std::uint32_t wka_primary = v4(192, 0, 0, 170);
constexpr std::uint32_t wka_secondary = v4(192, 0, 0, 171);

constexpr std::uint8_t valid_lengths[] = {32, 40, 48, 56, 64, 96};

bool prefix_matches(const Bytes& address, const Pref64& p) noexcept {
    const std::size_t n = p.length / 8u;  // every valid length is whole octets
    for (std::size_t i = 0; i < n; ++i) {
        if (address[i] != p.prefix[i]) return false;
    }
    return true;
}

std::string quoted(std::string_view text) {
    std::string s;
    s.reserve(text.size() + 2);
    s += '\'';
    s.append(text.data(), text.size());
    s += '\'';
    return s;
}

void set_error(std::string* error, std::string message) {
    if (error != nullptr) *error = std::move(message);
}

}  // namespace

bool is_valid_pref64_length(unsigned length) noexcept {
    for (std::uint8_t l : valid_lengths) {
        if (l == length) return true;
    }
    return false;
}

Pref64 well_known_pref64() noexcept {
    Pref64 p;
    p.prefix[0] = 0x00;
    p.prefix[1] = 0x64;
    p.prefix[2] = 0xff;
    p.prefix[3] = 0x9b;
    p.length = 96;
    return p;
}

bool Pref64::is_well_known() const noexcept { return *this == well_known_pref64(); }

std::string Pref64::to_string() const {
    return Endpoint::v6(prefix, 0).address_string() + "/" + std::to_string(length);
}

std::optional<Pref64> Pref64::parse(std::string_view text, std::string* error) {
    const std::size_t slash = text.find('/');
    if (slash == std::string_view::npos) {
        set_error(error, "missing '/LENGTH' in NAT64 prefix " + quoted(text) +
                             " (e.g. 64:ff9b::/96)");
        return std::nullopt;
    }
    const std::string_view address = text.substr(0, slash);
    const std::string_view len_text = text.substr(slash + 1);
    unsigned length = 0;
    bool digits = !len_text.empty() && len_text.size() <= 3;
    for (char c : len_text) {
        if (c < '0' || c > '9') {
            digits = false;
            break;
        }
        length = length * 10 + static_cast<unsigned>(c - '0');
    }
    if (!digits) {
        set_error(error, "bad prefix length " + quoted(len_text) + " in NAT64 prefix " +
                             quoted(text) + " (expected one of 32, 40, 48, 56, 64, 96)");
        return std::nullopt;
    }
    std::string inner;
    const auto ep = Endpoint::parse_address(address, 0, &inner);
    if (!ep) {
        set_error(error, inner + " in NAT64 prefix " + quoted(text));
        return std::nullopt;
    }
    if (!ep->is_v6()) {
        set_error(error, "NAT64 prefix " + quoted(text) + " is not an IPv6 prefix");
        return std::nullopt;
    }
    if (!is_valid_pref64_length(length)) {
        set_error(error, "NAT64 prefix length " + std::to_string(length) + " in " + quoted(text) +
                             " is not one of 32, 40, 48, 56, 64, 96 (RFC 6052 §2.2)");
        return std::nullopt;
    }
    const Bytes& b = ep->bytes();
    for (std::size_t i = length / 8u; i < 16; ++i) {
        if (b[i] != 0) {
            set_error(error, "NAT64 prefix " + quoted(text) + " has bits set after its first " +
                                 std::to_string(length) + " (the address must end in zeros)");
            return std::nullopt;
        }
    }
    if (b[u_octet] != 0) {
        set_error(error, "NAT64 prefix " + quoted(text) +
                             " has bits 64-71 set; they must be zero (RFC 6052 §2.2)");
        return std::nullopt;
    }
    Pref64 p;
    p.prefix = b;
    p.length = static_cast<std::uint8_t>(length);
    return p;
}

bool never_synthesized(const Endpoint& v4addr) noexcept {
    if (!v4addr.is_v4()) return false;
    const std::uint32_t a = v4_value(v4addr);
    return in_v4(a, v4(0, 0, 0, 0), 8) || in_v4(a, v4(127, 0, 0, 0), 8) ||
           in_v4(a, v4(169, 254, 0, 0), 16) || a == v4(255, 255, 255, 255);
}

bool is_global_v4(const Endpoint& v4addr) noexcept {
    if (!v4addr.is_v4()) return false;
    const std::uint32_t a = v4_value(v4addr);
    for (std::uint32_t g : global_exceptions) {
        if (a == g) return true;
    }
    for (const V4Block& block : non_global_blocks) {
        if (in_v4(a, block.network, block.length)) return false;
    }
    return true;
}

std::optional<Endpoint> synthesize(const Endpoint& v4addr, const Pref64& prefix) noexcept {
    if (!v4addr.is_v4() || !is_valid_pref64_length(prefix.length)) return std::nullopt;
    if (never_synthesized(v4addr)) return std::nullopt;
    // RFC 6052 §3.1: "The Well-Known Prefix MUST NOT be used to represent
    // non-global IPv4 addresses".
    if (prefix.is_well_known() && !is_global_v4(v4addr)) return std::nullopt;
    Bytes out{};
    const std::size_t n = prefix.length / 8u;
    for (std::size_t i = 0; i < n; ++i) out[i] = prefix.prefix[i];
    out[u_octet] = 0;  // "These bits MUST be set to zero" (RFC 6052 §2.2)
    const auto pos = v4_positions(prefix.length);
    for (std::size_t i = 0; i < 4; ++i) out[pos[i]] = v4addr.bytes()[i];
    return Endpoint::v6(out, v4addr.port());
}

std::optional<Endpoint> extract_v4(const Endpoint& v6, const Pref64& prefix) noexcept {
    if (!v6.is_v6() || !is_valid_pref64_length(prefix.length)) return std::nullopt;
    const Bytes& b = v6.bytes();
    if (!prefix_matches(b, prefix)) return std::nullopt;
    if (b[u_octet] != 0) return std::nullopt;
    const auto pos = v4_positions(prefix.length);
    std::array<std::uint8_t, 4> out{};
    for (std::size_t i = 0; i < 4; ++i) out[i] = b[pos[i]];
    return Endpoint::v4(out, v6.port());
}

std::vector<Pref64> pref64_from_ipv4only_answer(const std::vector<Endpoint>& aaaa) {
    struct Candidate {
        Pref64 prefix;
        std::uint32_t wka;
    };
    // The (prefix, WKA) pairs each answer address could be.
    std::vector<std::vector<Candidate>> found(aaaa.size());
    for (std::size_t i = 0; i < aaaa.size(); ++i) {
        const Endpoint& a = aaaa[i];
        if (!a.is_v6()) continue;
        for (std::uint8_t length : valid_lengths) {
            Pref64 p;
            p.length = length;
            for (std::size_t k = 0; k < length / 8u; ++k) p.prefix[k] = a.bytes()[k];
            if (p.prefix[u_octet] != 0) continue;  // not a valid /96 prefix
            const auto embedded = extract_v4(a, p);
            if (!embedded) continue;
            const std::uint32_t value = v4_value(*embedded);
            if (value == wka_primary || value == wka_secondary) found[i].push_back({p, value});
        }
    }
    std::vector<Pref64> result;
    auto add = [&result](const Pref64& p) {
        for (const Pref64& q : result) {
            if (q == p) return;
        }
        result.push_back(p);
    };
    for (std::size_t i = 0; i < found.size(); ++i) {
        if (found[i].size() == 1) {
            add(found[i][0].prefix);
            continue;
        }
        // Several lengths hold a WKA: keep the one another answer address
        // confirms through the other WKA (RFC 7050 §3).
        const Candidate* confirmed = nullptr;
        std::size_t confirmations = 0;
        for (const Candidate& c : found[i]) {
            const std::uint32_t other = c.wka == wka_primary ? wka_secondary : wka_primary;
            bool seen = false;
            for (std::size_t j = 0; j < found.size() && !seen; ++j) {
                if (j == i) continue;
                for (const Candidate& d : found[j]) {
                    if (d.wka == other && d.prefix == c.prefix) {
                        seen = true;
                        break;
                    }
                }
            }
            if (seen) {
                confirmed = &c;
                ++confirmations;
            }
        }
        if (confirmations == 1) add(confirmed->prefix);
    }
    return result;
}

}  // namespace eyeballs
