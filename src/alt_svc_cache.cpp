// SPDX-License-Identifier: BSL-1.0
// eyeballs — AltSvcCache (see eyeballs/alt_svc_cache.hpp).
//
// Two ordered maps, as History keeps them: origins_ from the origin to its
// alternatives and the stamp of its last store, and recency_ from stamp to
// origin, so recency_.begin() is the origin to evict. Each alternative keeps
// its expiry (received + ma) rather than its age: lookups compare with `now`.
#include "eyeballs/alt_svc_cache.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

}  // namespace

AltSvcCache::AltSvcCache(std::size_t capacity) : capacity_(capacity) {}

AltSvcCache::Key AltSvcCache::make_key(const AltSvcOrigin& origin) {
    return Key{lower(origin.scheme), lower(origin.host), origin.port};
}

void AltSvcCache::erase(std::map<Key, Slot>::iterator it) {
    recency_.erase(it->second.stamp);
    origins_.erase(it);
}

void AltSvcCache::store(const AltSvcOrigin& origin, const AltSvcValue& value,
                        TimePoint received) {
    Key key = make_key(origin);
    auto it = origins_.find(key);
    if (it != origins_.end()) erase(it);  // §3: a new value replaces the old
    if (value.clear || capacity_ == 0) return;

    std::vector<Stored> alts;
    for (const AltSvc& alt : value.alternatives) {
        if (alts.size() == max_alternatives) break;
        if (alt.max_age == 0) continue;  // never fresh
        alts.push_back(Stored{
            alt, detail::saturating_add(received, std::chrono::seconds(alt.max_age))});
    }
    if (alts.empty()) return;

    while (origins_.size() >= capacity_) erase(origins_.find(recency_.begin()->second));
    Slot slot;
    slot.alts = std::move(alts);
    slot.stamp = ++clock_;
    recency_.emplace(slot.stamp, key);
    origins_.emplace(std::move(key), std::move(slot));
}

bool AltSvcCache::store(const AltSvcOrigin& origin, std::string_view field, TimePoint received,
                        std::string* error) {
    const std::optional<AltSvcValue> value = parse_alt_svc(field, error);
    if (!value) return false;
    store(origin, *value, received);
    return true;
}

std::size_t AltSvcCache::attach(std::string_view network) {
    const bool changed = attached_ && *attached_ != network;
    attached_ = std::string(network);
    if (!changed) return 0;
    std::size_t forgotten = 0;
    for (auto it = origins_.begin(); it != origins_.end();) {
        auto& alts = it->second.alts;
        const auto keep = std::remove_if(alts.begin(), alts.end(),
                                         [](const Stored& s) { return !s.alt.persist; });
        forgotten += static_cast<std::size_t>(alts.end() - keep);
        alts.erase(keep, alts.end());
        auto next = std::next(it);
        if (alts.empty()) erase(it);
        it = next;
    }
    return forgotten;
}

std::vector<AltSvc> AltSvcCache::lookup(const AltSvcOrigin& origin, TimePoint now) const {
    std::vector<AltSvc> out;
    const auto it = origins_.find(make_key(origin));
    if (it == origins_.end()) return out;
    for (const Stored& s : it->second.alts) {
        if (!(now < s.expires)) continue;
        AltSvc alt = s.alt;
        // Whole seconds left, rounded up: 1 ns left is 1 s, never 0.
        const Duration left = detail::saturating_sub(s.expires, now);
        const auto secs = std::chrono::ceil<std::chrono::seconds>(left).count();
        alt.max_age = static_cast<std::uint32_t>(std::min<decltype(secs)>(secs, alt.max_age));
        out.push_back(std::move(alt));
    }
    return out;
}

std::size_t AltSvcCache::alternatives() const noexcept {
    std::size_t n = 0;
    for (const auto& [key, slot] : origins_) n += slot.alts.size();
    return n;
}

std::size_t AltSvcCache::expire(TimePoint now) {
    std::size_t forgotten = 0;
    for (auto it = origins_.begin(); it != origins_.end();) {
        auto& alts = it->second.alts;
        const auto keep = std::remove_if(alts.begin(), alts.end(),
                                         [now](const Stored& s) { return !(now < s.expires); });
        forgotten += static_cast<std::size_t>(alts.end() - keep);
        alts.erase(keep, alts.end());
        auto next = std::next(it);
        if (alts.empty()) erase(it);
        it = next;
    }
    return forgotten;
}

void AltSvcCache::clear(const AltSvcOrigin& origin) {
    const auto it = origins_.find(make_key(origin));
    if (it != origins_.end()) erase(it);
}

void AltSvcCache::clear() noexcept {
    origins_.clear();
    recency_.clear();
}

namespace {

// An IP literal as a host may be written: "192.0.2.1", "2001:db8::1",
// "[2001:db8::1]", "fe80::1%eth0". No DNS name has a ':' or a '[', so any
// host with one is taken as an IPv6 literal without parsing it (a zone's
// interface name need not exist here); an IPv4 literal is parsed.
bool ip_literal(std::string_view host) {
    if (host.find_first_of(":[") != std::string_view::npos) return true;
    return Endpoint::parse_address(host, 1).has_value();
}

}  // namespace

std::vector<AltSvc> alternatives_for_race(const AltSvcCache& cache, std::string_view host,
                                          std::uint16_t port, const Config& config,
                                          TimePoint now, const OverrideTarget* target) {
    if (!config.https || !config.alt_svc.empty()) return {};
    if (host.empty() || port == 0 || ip_literal(host)) return {};
    if (target != nullptr &&
        (!target->addresses.empty() || target->host != host || target->port != port)) {
        return {};
    }
    return cache.lookup(AltSvcOrigin{"https", std::string(host), port}, now);
}

}  // namespace eyeballs
