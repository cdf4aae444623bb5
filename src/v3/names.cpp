// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: the names a race asks about (names.hpp).
//
// Implements v3 §4.1, §4.2.1; RFC 9460 §2.4.2, §3, §9.1 (see names.hpp).
#include "v3/names.hpp"

namespace eyeballs::detail {

std::string name_key(std::string_view name) {
    std::string k(name);
    for (char& ch : k) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    }
    if (k.empty() || k.back() != '.') k += '.';
    return k;
}

// ---- §4.1 Sending DNS Queries --------------------------------------------------

void Names::start() {
    targets_.emplace_back();
    targets_[0].https_asked = true;
    https_target_ = 0;
    final_qname_ = 0;
}

std::uint32_t Names::find(std::string_view name) const {
    if (name.empty()) return targets_.empty() ? no_target : 0;
    const std::string key = name_key(name);
    for (std::uint32_t t = 1; t < targets_.size(); ++t) {
        if (targets_[t].key == key) return t;
    }
    return no_target;
}

std::uint32_t Names::intern(std::string_view name, bool& made) {
    made = false;
    if (const std::uint32_t t = find(name); t != no_target) return t;
    Target t;
    t.name = std::string(name);
    t.key = name_key(name);
    targets_.push_back(std::move(t));
    made = true;
    return static_cast<std::uint32_t>(targets_.size() - 1);
}

bool Names::targets_outstanding() const noexcept {
    for (std::size_t t = 1; t < targets_.size(); ++t) {
        if (targets_[t].addr[0] == DnsState::pending || targets_[t].addr[1] == DnsState::pending) {
            return true;
        }
    }
    return false;
}

// ---- RFC 9460 §2.4.2, §3 AliasMode ---------------------------------------------

std::uint32_t Names::follow_alias(std::string_view alias_target, std::uint32_t limit,
                                  bool& made) {
    made = false;
    // "." means the service is not available here (§2.5.1); a loop or a chain
    // past the limit ends the chain too (§3: "chain length limits and loop
    // detection"). The alias target is asked "without additional prefixes"
    // (§3 step 3): no port prefix past the origin.
    if (alias_target == "." || alias_hops_ >= limit) return no_target;
    const std::uint32_t next = intern(alias_target, made);
    if (next == 0 || targets_[next].https_asked) return no_target;
    ++alias_hops_;
    targets_[next].https_asked = true;
    https_target_ = next;
    final_qname_ = next;
    return next;
}

bool Names::fresh_awaited() const noexcept {
    for (const Target& t : targets_) {
        if (t.stale[0] || t.stale[1]) return true;
    }
    return false;
}

}  // namespace eyeballs::detail
