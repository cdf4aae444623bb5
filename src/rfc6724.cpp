// SPDX-License-Identifier: BSL-1.0
// eyeballs — RFC 6724 destination address sorting (see eyeballs/sort.hpp).
//
// Theory of operation. RFC 6724 §6 is written as a pairwise comparison of
// DA and DB, rule after rule. Every rule there compares one attribute of DA
// with the same attribute of DB (is its source defined, does its scope match
// its source's, its precedence, its scope, ...). So each destination is
// turned once into a Key holding those attributes, in rule order, and the
// comparison is a lexicographic comparison of keys: a strict weak order by
// construction, which std::stable_sort needs, and which rule 10 ("leave the
// order unchanged") then completes into a total order.
//
// The only rule that is not a plain attribute is rule 9, which compares
// CommonPrefixLen only between destinations of one family. Reaching rule 9
// needs equal precedence (rule 6); in the default policy table IPv4 has 35
// and no IPv6 prefix has 35, so two destinations that reach rule 9 are always
// of one family and the condition never breaks the order (the unit tests
// check the order exhaustively over a fixed set).
#include "eyeballs/sort.hpp"

#include <algorithm>
#include <cstddef>
#include <numeric>

namespace eyeballs {

namespace {

using Bytes = std::array<std::uint8_t, 16>;

constexpr Bytes bytes_of(std::uint8_t b0, std::uint8_t b1 = 0, std::uint8_t b2 = 0,
                         std::uint8_t b3 = 0, std::uint8_t b10 = 0, std::uint8_t b11 = 0,
                         std::uint8_t b15 = 0) {
    Bytes b{};
    b[0] = b0;
    b[1] = b1;
    b[2] = b2;
    b[3] = b3;
    b[10] = b10;
    b[11] = b11;
    b[15] = b15;
    return b;
}

// RFC 6724 §2.1, in the RFC's order.
constexpr std::array<PolicyEntry, 9> policy_table{{
    {bytes_of(0, 0, 0, 0, 0, 0, 1), 128, 50, 0},          // ::1/128
    {bytes_of(0), 0, 40, 1},                              // ::/0
    {bytes_of(0, 0, 0, 0, 0xff, 0xff), 96, 35, 4},        // ::ffff:0:0/96
    {bytes_of(0x20, 0x02), 16, 30, 2},                    // 2002::/16
    {bytes_of(0x20, 0x01, 0, 0), 32, 5, 5},               // 2001::/32
    {bytes_of(0xfc), 7, 3, 13},                           // fc00::/7
    {bytes_of(0), 96, 1, 3},                              // ::/96
    {bytes_of(0xfe, 0xc0), 10, 1, 11},                    // fec0::/10
    {bytes_of(0x3f, 0xfe), 16, 1, 12},                    // 3ffe::/16
}};

// The 16 bytes RFC 6724 looks at: an IPv4 address as ::ffff:a.b.c.d.
Bytes as_v6(const Endpoint& e) noexcept {
    if (e.is_v6()) return e.bytes();
    Bytes b{};
    b[10] = 0xff;
    b[11] = 0xff;
    for (std::size_t i = 0; i < 4; ++i) b[12 + i] = e.bytes()[i];
    return b;
}

bool is_v4_like(const Endpoint& e) noexcept { return e.is_v4() || e.is_v4_mapped(); }

// The number of leading bits the two addresses share (0 … 128).
int common_bits(const Bytes& a, const Bytes& b) noexcept {
    int n = 0;
    for (std::size_t i = 0; i < 16; ++i) {
        const unsigned x = static_cast<unsigned>(a[i] ^ b[i]);
        if (x == 0) {
            n += 8;
            continue;
        }
        for (unsigned mask = 0x80; (x & mask) == 0; mask >>= 1) ++n;
        break;
    }
    return n;
}

bool in_prefix(const Bytes& address, const Bytes& prefix, int length) noexcept {
    // Whole bytes first, then the masked remainder; stops at the first
    // difference (the policy lookup runs for every address a race sorts).
    const auto whole = static_cast<std::size_t>(length / 8);
    for (std::size_t i = 0; i < whole; ++i) {
        if (address[i] != prefix[i]) return false;
    }
    const int rest = length % 8;
    if (rest == 0) return true;
    const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
    return (address[whole] & mask) == (prefix[whole] & mask);
}

const PolicyEntry& lookup(const Bytes& b) noexcept {
    const PolicyEntry* best = nullptr;
    for (const PolicyEntry& entry : policy_table) {
        if (!in_prefix(b, entry.prefix, entry.length)) continue;
        if (best == nullptr || entry.length > best->length) best = &entry;
    }
    return *best;  // ::/0 always matches
}

// CommonPrefixLen(S, D) (RFC 6724 §2.2): "the length of the longest prefix ...
// that the two addresses have in common, up to the length of S's prefix".
// Counted on the 128-bit form, so an IPv4 source's cap is 96 + its mask.
int common_prefix_len(const SourceInfo& info, const Endpoint& destination) noexcept {
    const Endpoint& s = *info.source;
    int cap;
    if (is_v4_like(s)) {
        cap = 96 + std::min<int>(info.prefix_length.value_or(0), 32);
    } else {
        cap = std::min<int>(info.prefix_length.value_or(64), 128);
    }
    return std::min(common_bits(as_v6(s), as_v6(destination)), cap);
}

int home_rank(const SourceInfo& info) noexcept {
    // Rule 4: home and care-of at once > just home > just care-of.
    if (info.home && info.care_of) return 2;
    if (info.home) return 1;
    return 0;
}

// Everything the rules compare, for one destination. Smaller sorts first in
// every field, so the comparison below reads the same for each rule.
struct Key {
    // Source rules (only meaningful when source information is used).
    int unusable = 0;        // rule 1: 1 when Source(D) is undefined
    int scope_mismatch = 0;  // rule 2
    int deprecated = 0;      // rule 3
    int home = 0;            // rule 4: minus the rank
    int label_mismatch = 0;  // rule 5
    int encapsulated = 0;    // rule 7
    int prefix = 0;          // rule 9: minus CommonPrefixLen
    // Rules that need nothing but the address.
    int precedence = 0;      // rule 6: minus Precedence(D)
    int scope = 0;           // rule 8
    bool v4 = false;         // rule 9's family condition
    // The RTT rule.
    bool unused = true;      // no RTT known
    Duration rtt{};
    // v3 §5.3's used-before rule.
    bool used = false;
};

Key make_key(const Endpoint& d, const std::optional<SourceInfo>& info, bool use_source,
             const std::optional<Duration>& rtt) noexcept {
    Key k;
    const PolicyEntry& entry = lookup(as_v6(d));
    k.precedence = -static_cast<int>(entry.precedence);
    k.scope = static_cast<int>(scope(d));
    k.v4 = is_v4_like(d);
    if (rtt) {
        k.unused = false;
        k.rtt = *rtt;
    }
    if (use_source && info) {
        if (!info->source) {
            // Unusable: rule 1 puts it after every usable destination, and
            // the other source rules, which need Source(D), stay neutral
            // among unusable ones.
            k.unusable = 1;
        } else {
            const Endpoint& s = *info->source;
            k.scope_mismatch = scope(s) == scope(d) ? 0 : 1;
            k.deprecated = info->deprecated ? 1 : 0;
            k.home = -home_rank(*info);
            k.label_mismatch = label(s) == static_cast<int>(entry.label) ? 0 : 1;
            k.encapsulated = info->native ? 0 : 1;
            k.prefix = -common_prefix_len(*info, d);
        }
    }
    return k;
}

Comparison decide(int a, int b, SortRule rule) noexcept {
    if (a < b) return {-1, rule};
    if (a > b) return {1, rule};
    return {0, SortRule::none};
}

Comparison compare_keys(const Key& a, const Key& b, bool use_source) noexcept {
    Comparison c;
    if (use_source) {
        if ((c = decide(a.unusable, b.unusable, SortRule::avoid_unusable)).order) return c;
        if ((c = decide(a.scope_mismatch, b.scope_mismatch, SortRule::prefer_matching_scope)).order)
            return c;
        if ((c = decide(a.deprecated, b.deprecated, SortRule::avoid_deprecated)).order) return c;
        if ((c = decide(a.home, b.home, SortRule::prefer_home)).order) return c;
        if ((c = decide(a.label_mismatch, b.label_mismatch, SortRule::prefer_matching_label)).order)
            return c;
    }
    if ((c = decide(a.precedence, b.precedence, SortRule::prefer_higher_precedence)).order)
        return c;
    if (use_source) {
        if ((c = decide(a.encapsulated, b.encapsulated, SortRule::prefer_native)).order) return c;
    }
    if ((c = decide(a.scope, b.scope, SortRule::prefer_smaller_scope)).order) return c;
    if (a.unused != b.unused) return {a.unused ? 1 : -1, SortRule::prefer_lower_rtt};
    if (!a.unused && a.rtt != b.rtt) return {a.rtt < b.rtt ? -1 : 1, SortRule::prefer_lower_rtt};
    if (a.used != b.used) return {a.used ? -1 : 1, SortRule::prefer_used};
    if (use_source && a.v4 == b.v4) {
        if ((c = decide(a.prefix, b.prefix, SortRule::prefer_longest_prefix)).order) return c;
    }
    return {0, SortRule::none};
}

// Sorts `items` by the keys, stably; keys[i] belongs to items[i].
template <typename T>
void sort_by_keys(std::vector<T>& items, const std::vector<Key>& keys, bool use_source) {
    std::vector<std::size_t> order(items.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return compare_keys(keys[x], keys[y], use_source).order < 0;
    });
    std::vector<T> sorted;
    sorted.reserve(items.size());
    for (std::size_t i : order) sorted.push_back(std::move(items[i]));
    items = std::move(sorted);
}

}  // namespace

const std::array<PolicyEntry, 9>& default_policy_table() noexcept { return policy_table; }

const PolicyEntry& policy_entry(const Endpoint& address) noexcept {
    return lookup(as_v6(address));
}

int precedence(const Endpoint& address) noexcept { return policy_entry(address).precedence; }

int label(const Endpoint& address) noexcept { return policy_entry(address).label; }

Scope scope(const Endpoint& address) noexcept {
    if (is_v4_like(address)) {
        const std::uint8_t* v4 = address.bytes().data() + (address.is_v4() ? 0 : 12);
        // RFC 6724 §3.2: loopback 127.0.0.0/8 and auto-configuration
        // 169.254.0.0/16 addresses are link-local; all others are global.
        if (v4[0] == 127) return Scope::link_local;
        if (v4[0] == 169 && v4[1] == 254) return Scope::link_local;
        return Scope::global;
    }
    const Bytes& b = address.bytes();
    if (b[0] == 0xff) return static_cast<Scope>(b[1] & 0x0f);  // RFC 4291 §2.7
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return Scope::link_local;  // fe80::/10
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return Scope::site_local;  // fec0::/10
    static constexpr Bytes loopback = bytes_of(0, 0, 0, 0, 0, 0, 1);
    if (b == loopback) return Scope::link_local;  // RFC 4291 §2.5.3
    return Scope::global;
}

const char* sort_rule_name(SortRule rule) noexcept {
    switch (rule) {
        case SortRule::none: return "rule 10 (leave the order unchanged)";
        case SortRule::avoid_unusable: return "rule 1 (avoid unusable destinations)";
        case SortRule::prefer_matching_scope: return "rule 2 (prefer matching scope)";
        case SortRule::avoid_deprecated: return "rule 3 (avoid deprecated addresses)";
        case SortRule::prefer_home: return "rule 4 (prefer home addresses)";
        case SortRule::prefer_matching_label: return "rule 5 (prefer matching label)";
        case SortRule::prefer_higher_precedence: return "rule 6 (prefer higher precedence)";
        case SortRule::prefer_native: return "rule 7 (prefer native transport)";
        case SortRule::prefer_smaller_scope: return "rule 8 (prefer smaller scope)";
        case SortRule::prefer_lower_rtt: return "RFC 8305 §4 (prefer lower RTT)";
        case SortRule::prefer_longest_prefix: return "rule 9 (use longest matching prefix)";
        case SortRule::prefer_used: return "v3 §5.3 (prefer used addresses)";
    }
    return "unknown rule";
}

Comparison compare_destinations(const Destination& a, const Destination& b) noexcept {
    const bool use_source = a.source.has_value() && b.source.has_value();
    Key ka = make_key(a.address, a.source, use_source, a.rtt);
    Key kb = make_key(b.address, b.source, use_source, b.rtt);
    ka.used = a.used;
    kb.used = b.used;
    return compare_keys(ka, kb, use_source);
}

void sort_destinations(std::vector<Endpoint>& destinations, const SortInputs& inputs) {
    if (destinations.size() < 2) return;
    std::vector<std::optional<SourceInfo>> sources(destinations.size());
    std::vector<std::optional<Duration>> rtts(destinations.size());
    bool use_source = static_cast<bool>(inputs.source);
    for (std::size_t i = 0; i < destinations.size(); ++i) {
        if (inputs.source) {
            sources[i] = inputs.source(destinations[i]);
            if (!sources[i]) use_source = false;
        }
        if (inputs.rtt) rtts[i] = inputs.rtt(destinations[i]);
    }
    std::vector<Key> keys;
    keys.reserve(destinations.size());
    for (std::size_t i = 0; i < destinations.size(); ++i) {
        keys.push_back(make_key(destinations[i], sources[i], use_source, rtts[i]));
    }
    sort_by_keys(destinations, keys, use_source);
}

void sort_destinations(std::vector<Destination>& destinations) {
    if (destinations.size() < 2) return;
    const bool use_source =
        std::all_of(destinations.begin(), destinations.end(),
                    [](const Destination& d) { return d.source.has_value(); });
    std::vector<Key> keys;
    keys.reserve(destinations.size());
    for (const Destination& d : destinations) {
        keys.push_back(make_key(d.address, d.source, use_source, d.rtt));
        keys.back().used = d.used;
    }
    sort_by_keys(destinations, keys, use_source);
}

}  // namespace eyeballs
