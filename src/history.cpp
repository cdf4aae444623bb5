// SPDX-License-Identifier: BSL-1.0
// eyeballs — History: per-network, per-address RTT and outcome memory
// (see eyeballs/history.hpp).
//
// Two ordered maps: entries_ from (network, address) to the entry and the
// stamp of its last record, and recency_ from stamp to key. A record takes a
// new stamp (a counter of records, not a time), so recency_.begin() is always
// the least recently recorded entry, the one to evict. Ordered maps keep the
// structure plainly copyable and every operation O(log n).
#include "eyeballs/history.hpp"

#include <algorithm>
#include <cstdlib>

namespace eyeballs {

History::History(std::size_t capacity) : capacity_(capacity) {}

History::Key History::make_key(std::string_view network, const Endpoint& address) {
    return Key{std::string(network), address.with_port(0)};
}

History::Entry* History::touch(std::string_view network, const Endpoint& address) {
    if (capacity_ == 0) return nullptr;
    Key key = make_key(network, address);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
        recency_.erase(it->second.stamp);
    } else {
        while (entries_.size() >= capacity_) {
            // Evict the least recently recorded entry.
            auto oldest = recency_.begin();
            entries_.erase(oldest->second);
            recency_.erase(oldest);
        }
        it = entries_.emplace(key, Slot{}).first;
    }
    it->second.stamp = ++clock_;
    recency_.emplace(it->second.stamp, std::move(key));
    return &it->second.entry;
}

void History::record_success(std::string_view network, const Endpoint& address, Duration rtt,
                             TimePoint when) {
    Entry* e = touch(network, address);
    if (e == nullptr) return;
    const Duration r = std::max(rtt, Duration::zero());
    if (!e->srtt) {
        // RFC 6298 §2.2: "When the first RTT measurement R is made, the host
        // MUST set SRTT <- R, RTTVAR <- R/2".
        e->srtt = r;
        e->rttvar = r / 2;
    } else {
        // RFC 6298 §2.3: "RTTVAR <- (1 - beta) * RTTVAR + beta * |SRTT - R'|
        // SRTT <- (1 - alpha) * SRTT + alpha * R'" with alpha = 1/8 and
        // beta = 1/4, RTTVAR first, from the old SRTT. Both values are
        // non-negative, so the differences cannot overflow.
        const Duration srtt = *e->srtt;
        const Duration deviation = srtt > r ? srtt - r : r - srtt;
        e->rttvar = *e->rttvar + (deviation - *e->rttvar) / 4;
        e->srtt = srtt + (r - srtt) / 8;
    }
    e->latest_rtt = r;
    ++e->successes;
    e->consecutive_failures = 0;
    e->last_failed = false;
    e->last_success = when;
}

void History::record_failure(std::string_view network, const Endpoint& address, TimePoint when) {
    Entry* e = touch(network, address);
    if (e == nullptr) return;
    ++e->failures;
    ++e->consecutive_failures;
    e->last_failed = true;
    e->last_failure = when;
}

std::optional<History::Entry> History::lookup(std::string_view network,
                                              const Endpoint& address) const {
    const auto it = entries_.find(make_key(network, address));
    if (it == entries_.end()) return std::nullopt;
    return it->second.entry;
}

std::optional<Duration> History::rtt(std::string_view network, const Endpoint& address) const {
    const auto it = entries_.find(make_key(network, address));
    if (it == entries_.end() || it->second.entry.last_failed) return std::nullopt;
    return it->second.entry.srtt;
}

std::size_t History::size(std::string_view network) const {
    std::size_t n = 0;
    for (const auto& [key, slot] : entries_) {
        if (key.first == network) ++n;
    }
    return n;
}

void History::clear() noexcept {
    entries_.clear();
    recency_.clear();
    quic_.clear();
}

void History::clear_network(std::string_view network) {
    if (auto q = quic_.find(network); q != quic_.end()) quic_.erase(q);
    for (auto it = entries_.begin(); it != entries_.end();) {
        if (it->first.first == network) {
            recency_.erase(it->second.stamp);
            it = entries_.erase(it);
        } else {
            ++it;
        }
    }
}

// ---- v3 §5.3: used addresses and the attached network ------------------------------

bool History::used(std::string_view network, const Endpoint& address) const {
    const auto it = entries_.find(make_key(network, address));
    return it != entries_.end() && it->second.entry.successes > 0;
}

std::size_t History::attach(std::string_view network, Attach mode) {
    const bool changed = attached_.has_value() && *attached_ != network;
    attached_ = std::string(network);
    if (!changed || mode == Attach::resume) return 0;
    const std::size_t forgotten = entries_.size();
    clear();
    return forgotten;
}

}  // namespace eyeballs
