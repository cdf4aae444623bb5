// SPDX-License-Identifier: BSL-1.0
// eyeballs — resolve overrides (curl's --resolve and --connect-to), pure.
#include "eyeballs/overrides.hpp"

#include <cctype>

namespace eyeballs {

namespace {

bool same_host(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i]))) {
            return false;
        }
    }
    return true;
}

// "" → 0 when `empty_ok`; otherwise 1-65535.
bool parse_port(std::string_view text, bool empty_ok, std::uint16_t& port) {
    if (text.empty()) {
        port = 0;
        return empty_ok;
    }
    if (text.size() > 5) return false;
    unsigned v = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v == 0 || v > 65535) return false;
    port = static_cast<std::uint16_t>(v);
    return true;
}

// A host field up to the next ':' — or a bracketed IPv6 literal, whose
// brackets are kept off. Advances `text` past the field and its ':'.
bool take_host(std::string_view& text, std::string& host, bool last) {
    std::size_t end = 0;
    if (!text.empty() && text.front() == '[') {
        const std::size_t close = text.find(']');
        if (close == std::string_view::npos) return false;
        host = std::string(text.substr(1, close - 1));
        end = close + 1;
        if (end < text.size() && text[end] != ':') return false;
    } else {
        end = text.find(':');
        if (end == std::string_view::npos) {
            if (!last) return false;
            end = text.size();
        }
        host = std::string(text.substr(0, end));
    }
    text = end < text.size() ? text.substr(end + 1) : std::string_view();
    return true;
}

void fail(std::string* error, std::string message) {
    if (error != nullptr) *error = std::move(message);
}

}  // namespace

OverrideTarget apply_overrides(const std::vector<ResolveOverride>& overrides,
                               std::string_view host, std::uint16_t port) {
    OverrideTarget out{std::string(host), port, {}};
    for (const ResolveOverride& o : overrides) {
        if (!o.addresses.empty()) continue;
        if (!o.host.empty() && !same_host(o.host, host)) continue;
        if (o.port != 0 && o.port != port) continue;
        if (!o.to_host.empty()) out.host = o.to_host;
        if (o.to_port != 0) out.port = o.to_port;
        break;  // curl: the first matching --connect-to wins
    }
    for (const ResolveOverride& o : overrides) {
        if (o.addresses.empty()) continue;
        if (!same_host(o.host, out.host) || o.port != out.port) continue;
        out.addresses = o.addresses;
        break;
    }
    return out;
}

std::optional<ResolveOverride> parse_resolve_override(std::string_view text, std::string* error,
                                                      const ZoneLookup& zones) {
    const std::string what = "'" + std::string(text) + "'";
    ResolveOverride o;
    std::string_view rest = text;
    if (!take_host(rest, o.host, false) || o.host.empty()) {
        fail(error, what + " is not HOST:PORT:ADDR[,ADDR...] (no HOST)");
        return std::nullopt;
    }
    const std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos || !parse_port(rest.substr(0, colon), false, o.port)) {
        fail(error, what + " has no PORT or a bad one (1 … 65535)");
        return std::nullopt;
    }
    std::string_view list = rest.substr(colon + 1);
    while (true) {
        const std::size_t comma = list.find(',');
        std::string inner;
        auto ep = Endpoint::parse(list.substr(0, comma), o.port, &inner, zones);
        if (!ep) {
            fail(error, what + ": " + (inner.empty() ? std::string("bad address") : inner));
            return std::nullopt;
        }
        o.addresses.push_back(*ep);
        if (comma == std::string_view::npos) break;
        list = list.substr(comma + 1);
    }
    return o;
}

std::optional<ResolveOverride> parse_connect_to(std::string_view text, std::string* error) {
    const std::string what = "'" + std::string(text) + "'";
    ResolveOverride o;
    std::string_view rest = text;
    std::string port1, port2;
    if (!take_host(rest, o.host, false) || !take_host(rest, port1, false) ||
        !take_host(rest, o.to_host, false) || !take_host(rest, port2, true) || !rest.empty()) {
        fail(error, what + " is not HOST1:PORT1:HOST2:PORT2 (fields may be empty)");
        return std::nullopt;
    }
    if (!parse_port(port1, true, o.port) || !parse_port(port2, true, o.to_port)) {
        fail(error, what + " has a bad port (1 … 65535, or empty)");
        return std::nullopt;
    }
    return o;
}

}  // namespace eyeballs
