// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: synthesized answers (dns64.hpp).
//
// Implements the editor's copy §8.2, §8.3; RFC 6052 §2.2, §3.1 (see dns64.hpp).
#include "v3/dns64.hpp"

#include <algorithm>

namespace eyeballs::detail {

namespace {

bool starts_with(const Endpoint& v6, const Pref64& prefix) noexcept {
    const auto bytes = v6.bytes();
    const std::size_t whole = prefix.length / 8u;  // every valid length is whole bytes
    return std::equal(prefix.prefix.begin(), prefix.prefix.begin() + static_cast<long>(whole),
                      bytes.begin());
}

}  // namespace

// ---- §8.2 Handling Synthesized Answers ---------------------------------------------

Dns64Check desynthesize(const Endpoint& aaaa, const Pref64& prefix) noexcept {
    Dns64Check out;
    out.address = aaaa;
    if (!aaaa.is_v6() || !is_valid_pref64_length(prefix.length) || !starts_with(aaaa, prefix)) {
        return out;
    }
    const std::optional<Endpoint> v4 = extract_v4(aaaa, prefix);
    if (!v4 || never_synthesized(*v4) || (prefix.is_well_known() && !is_global_v4(*v4))) {
        out.verdict = Dns64::rejected;
        return out;
    }
    out.verdict = Dns64::desynthesized;
    out.address = *v4;
    return out;
}

// ---- §8.3 and the host's families ---------------------------------------------------

std::optional<Endpoint> admit_address(const Endpoint& e, const Config& config,
                                      bool desynthesis) noexcept {
    std::optional<Endpoint> out = e;
    if (desynthesis && config.pref64 && e.is_v6()) {
        const Dns64Check check = desynthesize(e, *config.pref64);
        if (check.verdict == Dns64::rejected) return std::nullopt;
        out = check.address;
    }
    // RFC 8305 §7.1 / the editor's copy §8.3: no IPv4 route, so synthesize.
    if (out->is_v4() && config.ipv4_unavailable && config.pref64) {
        out = synthesize(*out, *config.pref64);
        if (!out) return std::nullopt;
    }
    if (config.ipv6_unavailable && out->is_v6()) return std::nullopt;
    if (config.only_family && out->family() != *config.only_family) return std::nullopt;
    return out;
}

// ---- §8.2: sorting a synthesized address as IPv4 ----------------------------------

std::optional<Endpoint> sorts_as_ipv4(const Endpoint& e, const Config& config,
                                      bool v3) noexcept {
    if (!v3 || !config.ipv4_unavailable || !config.pref64 || !e.is_v6() ||
        !is_valid_pref64_length(config.pref64->length) || !starts_with(e, *config.pref64)) {
        return std::nullopt;
    }
    return extract_v4(e, *config.pref64);
}

}  // namespace eyeballs::detail
