// SPDX-License-Identifier: BSL-1.0
// eyeballs — Endpoint: parsing and RFC 5952 printing.
//
// Parsing follows glibc's inet_pton exactly (strict: no leading zeros in a
// dotted quad, no surrounding text; a zone, RFC 4007 §11 `fe80::1%2`, is split off first) but is written out here, so
// that every platform (Windows' inet_pton differs, and needs Winsock) accepts
// the same texts; tests/unit/endpoint_test.cpp compares it with the system's
// inet_pton on POSIX systems. Printing is written by hand too, because
// inet_ntop does not follow RFC 5952 everywhere: glibc prints the deprecated
// IPv4-compatible form `::192.0.2.1` for ::c000:201. Here only an
// IPv4-mapped address (::ffff:a.b.c.d, RFC 5952 §5) gets a dotted quad.
#include "eyeballs/endpoint.hpp"

#include <cstddef>
#include <cstring>
#include <string>

namespace eyeballs {

const char* family_name(Family f) noexcept { return f == Family::v6 ? "IPv6" : "IPv4"; }

const char* record_name(Family f) noexcept { return f == Family::v6 ? "AAAA" : "A"; }

Endpoint Endpoint::v4(std::array<std::uint8_t, 4> bytes, std::uint16_t port) noexcept {
    Endpoint e;
    e.family_ = Family::v4;
    for (std::size_t i = 0; i < 4; ++i) e.bytes_[i] = bytes[i];
    e.port_ = port;
    return e;
}

Endpoint Endpoint::v6(std::array<std::uint8_t, 16> bytes, std::uint16_t port,
                      std::uint32_t scope_id) noexcept {
    Endpoint e;
    e.family_ = Family::v6;
    e.bytes_ = bytes;
    e.port_ = port;
    e.scope_id_ = scope_id;
    return e;
}

bool Endpoint::is_v4_mapped() const noexcept {
    if (family_ != Family::v6) return false;
    for (std::size_t i = 0; i < 10; ++i) {
        if (bytes_[i] != 0) return false;
    }
    return bytes_[10] == 0xff && bytes_[11] == 0xff;
}

namespace {

void set_error(std::string* error, std::string message) {
    if (error != nullptr) *error = std::move(message);
}

std::string quoted(std::string_view text) {
    std::string s;
    s.reserve(text.size() + 2);
    s += '\'';
    s.append(text.data(), text.size());
    s += '\'';
    return s;
}

void append_dotted(std::string& out, const std::uint8_t* b) {
    for (std::size_t i = 0; i < 4; ++i) {
        if (i != 0) out += '.';
        out += std::to_string(static_cast<unsigned>(b[i]));
    }
}

void append_hex16(std::string& out, unsigned v) {
    static constexpr char digits[] = "0123456789abcdef";
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
        const unsigned nibble = (v >> shift) & 0xfu;
        if (nibble != 0 || started || shift == 0) {
            out += digits[nibble];
            started = true;
        }
    }
}

// A port: 1-5 decimal digits, at most 65535.
bool parse_port(std::string_view text, std::uint16_t& port) {
    if (text.empty() || text.size() > 5) return false;
    unsigned v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

std::string port_error(std::string_view port, std::string_view text) {
    if (port.empty()) return "missing port after ':' in " + quoted(text);
    return "bad port " + quoted(port) + " in " + quoted(text) + " (expected 0 … 65535)";
}

// A dotted quad as glibc's inet_pton4 takes it (RFC 791 text, four decimal
// octets 0-255, a leading zero only as the octet "0"), into out[0..3].
bool parse_dotted_quad(std::string_view text, std::uint8_t* out) {
    std::uint8_t tmp[4] = {0, 0, 0, 0};
    std::size_t octet = 0;
    bool saw_digit = false;
    int octets = 0;
    for (char c : text) {
        if (c >= '0' && c <= '9') {
            const unsigned v = tmp[octet] * 10u + static_cast<unsigned>(c - '0');
            if (saw_digit && tmp[octet] == 0) return false;
            if (v > 255) return false;
            tmp[octet] = static_cast<std::uint8_t>(v);
            if (!saw_digit) {
                if (++octets > 4) return false;
                saw_digit = true;
            }
        } else if (c == '.' && saw_digit) {
            if (octets == 4) return false;
            ++octet;
            saw_digit = false;
        } else {
            return false;
        }
    }
    if (octets < 4) return false;
    std::memcpy(out, tmp, 4);
    return true;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// An IPv6 address text (RFC 4291 §2.2) as glibc's inet_pton6 takes it:
// groups of 1-4 hex digits, one "::" standing for at least one zero group,
// an optional dotted quad in the last 32 bits.
bool parse_ipv6_text(std::string_view text, std::array<std::uint8_t, 16>& out) {
    std::array<std::uint8_t, 16> tmp{};
    std::size_t tp = 0;
    constexpr std::size_t end = 16;
    std::size_t colon = end;  // where "::" was seen; end when it was not
    std::size_t i = 0;
    const std::size_t n = text.size();
    if (n == 0) return false;
    if (text[0] == ':') {
        ++i;
        if (i == n || text[i] != ':') return false;
    }
    std::size_t token = i;
    std::size_t digits = 0;
    unsigned value = 0;
    while (i < n) {
        const char c = text[i++];
        const int d = hex_value(c);
        if (d >= 0) {
            if (digits == 4) return false;
            value = (value << 4) | static_cast<unsigned>(d);
            ++digits;
            continue;
        }
        if (c == ':') {
            token = i;
            if (digits == 0) {
                if (colon != end) return false;
                colon = tp;
                continue;
            }
            if (i == n) return false;
            if (tp + 2 > end) return false;
            tmp[tp++] = static_cast<std::uint8_t>(value >> 8);
            tmp[tp++] = static_cast<std::uint8_t>(value & 0xff);
            digits = 0;
            value = 0;
            continue;
        }
        if (c == '.' && tp + 4 <= end && parse_dotted_quad(text.substr(token), &tmp[tp])) {
            tp += 4;
            digits = 0;
            break;
        }
        return false;
    }
    if (digits > 0) {
        if (tp + 2 > end) return false;
        tmp[tp++] = static_cast<std::uint8_t>(value >> 8);
        tmp[tp++] = static_cast<std::uint8_t>(value & 0xff);
    }
    if (colon != end) {
        if (tp == end) return false;  // "::" must stand for at least one group
        const std::size_t moved = tp - colon;
        std::array<std::uint8_t, 16> shifted{};
        for (std::size_t k = 0; k < colon; ++k) shifted[k] = tmp[k];
        for (std::size_t k = 0; k < moved; ++k) shifted[end - moved + k] = tmp[colon + k];
        tmp = shifted;
        tp = end;
    }
    if (tp != end) return false;
    out = tmp;
    return true;
}

// What both parsers refuse before looking closer: empty text.
bool acceptable_text(std::string_view text, std::string* error) {
    if (text.empty()) {
        set_error(error, "empty address");
        return false;
    }
    return true;
}

// RFC 4007 §6: zones qualify addresses of smaller than global scope —
// link-local fe80::/10, site-local fec0::/10 (deprecated, RFC 3879) and
// multicast whose scope field (RFC 4291 §2.7) is below global (0xe).
bool scoped_v6(const std::array<std::uint8_t, 16>& b) {
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;
    if (b[0] == 0xff) return (b[1] & 0x0f) < 0x0e;
    return false;
}

// The zone after '%': a decimal interface index (at most 2^32 - 1), or a
// name that `zones` maps to one.
std::optional<std::uint32_t> parse_zone(std::string_view zone, std::string_view text,
                                        const ZoneLookup& zones, std::string* error) {
    if (zone.empty()) {
        set_error(error, "empty zone after '%' in " + quoted(text));
        return std::nullopt;
    }
    bool numeric = true;
    for (char c : zone) numeric = numeric && c >= '0' && c <= '9';
    if (numeric) {
        std::uint64_t v = 0;
        for (char c : zone) {
            v = v * 10 + static_cast<unsigned>(c - '0');
            if (v > 0xffffffffull) {
                set_error(error, "zone index " + quoted(zone) + " is too large in " + quoted(text));
                return std::nullopt;
            }
        }
        return static_cast<std::uint32_t>(v);
    }
    for (char c : zone) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f || c == '%' || c == '[' || c == ']' || c == '/') {
            set_error(error, "bad zone " + quoted(zone) + " in " + quoted(text));
            return std::nullopt;
        }
    }
    if (!zones) {
        set_error(error, "zone " + quoted(zone) + " is an interface name, and this parser " +
                             "takes numeric zones only (an interface index, e.g. '%2'): " +
                             quoted(text));
        return std::nullopt;
    }
    auto index = zones(std::string(zone));
    if (!index) {
        set_error(error, "no interface named " + quoted(zone) + " for the zone of " + quoted(text));
        return std::nullopt;
    }
    return index;
}


}  // namespace

std::optional<Endpoint> Endpoint::parse_address(std::string_view text, std::uint16_t port,
                                                std::string* error, const ZoneLookup& zones) {
    if (!acceptable_text(text, error)) return std::nullopt;
    if (const std::size_t pct = text.find('%'); pct != std::string_view::npos) {
        const std::string_view addr = text.substr(0, pct);
        if (addr.find(':') == std::string_view::npos) {
            set_error(error, "a zone goes with an IPv6 address only: " + quoted(text));
            return std::nullopt;
        }
        std::string inner;
        auto ep = parse_address(addr, port, &inner);
        if (!ep) {
            set_error(error, inner + " in " + quoted(text));
            return std::nullopt;
        }
        if (!scoped_v6(ep->bytes_)) {
            set_error(error, "a zone goes with a link-local (or other non-global) IPv6 address "
                             "only (RFC 4007 §6): " + quoted(text));
            return std::nullopt;
        }
        auto zone = parse_zone(text.substr(pct + 1), text, zones, error);
        if (!zone) return std::nullopt;
        ep->scope_id_ = *zone;
        return ep;
    }
    // An embedded NUL must not make bad input look good (the parsers below
    // would refuse it; the length bound keeps the messages short).
    if (text.find('\0') != std::string_view::npos || text.size() > 64) {
        const bool v6 = text.find(':') != std::string_view::npos;
        set_error(error, std::string(v6 ? "bad IPv6 address " : "bad IPv4 address ") +
                             quoted(text));
        return std::nullopt;
    }
    const std::string s(text);
    if (s.find(':') != std::string::npos) {
        std::array<std::uint8_t, 16> b{};
        if (!parse_ipv6_text(s, b)) {
            set_error(error, "bad IPv6 address " + quoted(text));
            return std::nullopt;
        }
        return Endpoint::v6(b, port);
    }
    std::array<std::uint8_t, 4> b{};
    if (!parse_dotted_quad(s, b.data())) {
        set_error(error, "bad IPv4 address " + quoted(text));
        return std::nullopt;
    }
    return Endpoint::v4(b, port);
}

std::optional<Endpoint> Endpoint::parse(std::string_view text, std::uint16_t default_port,
                                        std::string* error, const ZoneLookup& zones) {
    if (!acceptable_text(text, error)) return std::nullopt;
    std::string_view addr;
    std::uint16_t port = default_port;
    if (text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) {
            set_error(error, "missing ']' in " + quoted(text));
            return std::nullopt;
        }
        addr = text.substr(1, close - 1);
        if (addr.find(':') == std::string_view::npos) {
            set_error(error, "brackets are only for IPv6 addresses: " + quoted(text));
            return std::nullopt;
        }
        const std::string_view rest = text.substr(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') {
                set_error(error, "expected ':PORT' after ']' in " + quoted(text));
                return std::nullopt;
            }
            if (!parse_port(rest.substr(1), port)) {
                set_error(error, port_error(rest.substr(1), text));
                return std::nullopt;
            }
        }
    } else {
        const std::size_t first = text.substr(0, text.find('%')).find(':');
        if (first != std::string_view::npos && text.find(':', first + 1) == std::string_view::npos) {
            // Exactly one colon: an IPv4 address and a port. (An IPv6
            // address has at least two colons and needs brackets for a port.)
            addr = text.substr(0, first);
            const std::string_view p = text.substr(first + 1);
            if (!parse_port(p, port)) {
                set_error(error, port_error(p, text));
                return std::nullopt;
            }
        } else {
            addr = text;
        }
    }
    std::string inner;
    auto ep = parse_address(addr, port, &inner, zones);
    if (!ep) {
        if (addr.size() != text.size() && inner.find(quoted(text)) == std::string::npos) inner += " in " + quoted(text);
        set_error(error, std::move(inner));
    }
    return ep;
}

std::string Endpoint::address_string() const {
    std::string out;
    if (family_ == Family::v4) {
        out.reserve(15);
        append_dotted(out, bytes_.data());
        return out;
    }
    out.reserve(39);
    if (is_v4_mapped()) {
        out += "::ffff:";
        append_dotted(out, bytes_.data() + 12);
        if (scope_id_ != 0) out += '%' + std::to_string(scope_id_);
        return out;
    }
    unsigned fields[8];
    for (std::size_t i = 0; i < 8; ++i) {
        fields[i] = (static_cast<unsigned>(bytes_[2 * i]) << 8) | bytes_[2 * i + 1];
    }
    // RFC 5952 §4.2: compress the longest run of zero fields (the first on a
    // tie); a single zero field is not compressed (§4.2.2).
    int best_start = -1;
    int best_len = 0;
    for (int i = 0; i < 8;) {
        if (fields[i] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && fields[j] == 0) ++j;
        if (j - i > best_len) {
            best_start = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2) {
        best_start = -1;
        best_len = 0;
    }
    for (int i = 0; i < 8;) {
        if (i == best_start) {
            out += "::";
            i += best_len;
            continue;
        }
        if (i != 0 && i != best_start + best_len) out += ':';
        append_hex16(out, fields[i]);
        ++i;
    }
    if (scope_id_ != 0) out += '%' + std::to_string(scope_id_);  // RFC 4007 §11
    return out;
}

std::string Endpoint::to_string() const {
    std::string out;
    if (family_ == Family::v6) {
        out += '[';
        out += address_string();
        out += ']';
    } else {
        out = address_string();
    }
    out += ':';
    out += std::to_string(port_);
    return out;
}

bool operator<(const Endpoint& a, const Endpoint& b) noexcept {
    if (a.family_ != b.family_) return a.family_ < b.family_;
    if (a.bytes_ != b.bytes_) return a.bytes_ < b.bytes_;
    if (a.port_ != b.port_) return a.port_ < b.port_;
    return a.scope_id_ < b.scope_id_;
}

}  // namespace eyeballs

std::size_t std::hash<eyeballs::Endpoint>::operator()(const eyeballs::Endpoint& e) const noexcept {
    // FNV-1a over the meaningful bytes, the port, the scope id and the family.
    std::uint64_t h = 1469598103934665603ull;
    auto mix = [&h](std::uint8_t byte) {
        h ^= byte;
        h *= 1099511628211ull;
    };
    const std::size_t n = e.is_v4() ? 4 : 16;
    for (std::size_t i = 0; i < n; ++i) mix(e.bytes()[i]);
    mix(static_cast<std::uint8_t>(e.port() >> 8));
    mix(static_cast<std::uint8_t>(e.port() & 0xff));
    for (int shift = 0; shift < 32; shift += 8) {
        mix(static_cast<std::uint8_t>((e.scope_id() >> shift) & 0xff));
    }
    mix(static_cast<std::uint8_t>(e.family()));
    return static_cast<std::size_t>(h);
}
