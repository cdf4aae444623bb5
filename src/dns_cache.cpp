// SPDX-License-Identifier: BSL-1.0
// eyeballs — DnsCache (see eyeballs/dns_cache.hpp).
//
// The same shape as History and AltSvcCache: entries_ from (name, type) to
// the answer and the stamp of its store, recency_ from stamp to key so
// recency_.begin() is the entry to evict.
#include "eyeballs/dns_cache.hpp"

#include <iterator>

namespace eyeballs {

DnsCache::DnsCache(std::size_t capacity, Duration max_stale)
    : capacity_(capacity), max_stale_(max_stale < Duration::zero() ? Duration::zero() : max_stale) {}

DnsCache::Key DnsCache::make_key(std::string_view name, Type type) {
    if (!name.empty() && name.back() == '.') name.remove_suffix(1);
    std::string lower(name);
    for (char& c : lower) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return Key{std::move(lower), type};
}

void DnsCache::put(Key key, Answer answer) {
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        recency_.erase(it->second.stamp);
        entries_.erase(it);
    }
    if (capacity_ == 0) return;
    while (entries_.size() >= capacity_) {
        auto oldest = recency_.begin();
        entries_.erase(oldest->second);
        recency_.erase(oldest);
    }
    Slot slot;
    slot.answer = std::move(answer);
    slot.stamp = ++clock_;
    recency_.emplace(slot.stamp, key);
    entries_.emplace(std::move(key), std::move(slot));
}

void DnsCache::store(std::string_view name, Family family, const std::vector<Endpoint>& addresses,
                     std::uint32_t ttl, TimePoint now) {
    const Type type = family == Family::v6 ? Type::aaaa : Type::a;
    Answer answer;
    for (const Endpoint& e : addresses) {
        if (e.family() == family) answer.addresses.push_back(e.with_port(0));
    }
    if (answer.addresses.empty() || ttl == 0) {
        forget(name, type);
        return;
    }
    answer.expires = detail::saturating_add(now, std::chrono::seconds(ttl));
    put(make_key(name, type), std::move(answer));
}

void DnsCache::store_https(std::string_view name, const std::vector<SvcbRecord>& records,
                           std::uint32_t ttl, TimePoint now) {
    if (records.empty() || ttl == 0) {
        forget(name, Type::https);
        return;
    }
    Answer answer;
    answer.records = records;
    answer.expires = detail::saturating_add(now, std::chrono::seconds(ttl));
    put(make_key(name, Type::https), std::move(answer));
}

DnsCache::Answer DnsCache::lookup(std::string_view name, Type type, TimePoint now) const {
    const auto it = entries_.find(make_key(name, type));
    if (it == entries_.end()) return {};
    const Answer& stored = it->second.answer;
    State state = State::missing;
    if (now < stored.expires) {
        state = State::fresh;
    } else if (now < detail::saturating_add(stored.expires, max_stale_)) {
        state = State::stale;
    }
    if (state == State::missing) return {};
    Answer out = stored;
    out.state = state;
    return out;
}

DnsCache::Answer DnsCache::lookup_for_race(std::string_view name, const Resolve& question,
                                           bool https_race, TimePoint now) const {
    Answer hit = lookup(name, type_of(question), now);
    if (hit.state == State::stale && !https_race) return {};
    return hit;
}

void DnsCache::record_failure(std::string_view name, Type type, DnsError error) {
    if (error == DnsError::nodata || error == DnsError::nxdomain) forget(name, type);
}

std::size_t DnsCache::expire(TimePoint now) {
    std::size_t forgotten = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
        auto next = std::next(it);
        if (!(now < detail::saturating_add(it->second.answer.expires, max_stale_))) {
            recency_.erase(it->second.stamp);
            entries_.erase(it);
            ++forgotten;
        }
        it = next;
    }
    return forgotten;
}

void DnsCache::forget(std::string_view name, Type type) {
    const auto it = entries_.find(make_key(name, type));
    if (it == entries_.end()) return;
    recency_.erase(it->second.stamp);
    entries_.erase(it);
}

void DnsCache::clear() noexcept {
    entries_.clear();
    recency_.clear();
}

}  // namespace eyeballs
