// SPDX-License-Identifier: BSL-1.0
// eyeballs — History: "QUIC is broken on this network", with a doubling
// backoff (see eyeballs/history.hpp; issue 17 item 8).
#include "eyeballs/history.hpp"

#include <algorithm>

namespace eyeballs {

void History::record_quic_broken(std::string_view network, TimePoint when) {
    auto it = quic_.find(network);
    if (it == quic_.end()) it = quic_.emplace(std::string(network), QuicMark{}).first;
    QuicMark& m = it->second;
    if (m.count < UINT32_MAX) ++m.count;
    const std::uint32_t shift = std::min(m.count - 1, quic_broken_max_shift);
    // 5 min × 2^9 is about 42.7 hours: no overflow; the end saturates.
    m.until = detail::saturating_add(when, quic_broken_base * (std::int64_t{1} << shift));
}

void History::record_quic_working(std::string_view network) {
    if (auto it = quic_.find(network); it != quic_.end()) quic_.erase(it);
}

bool History::quic_broken(std::string_view network, TimePoint now) const {
    const auto it = quic_.find(network);
    return it != quic_.end() && now < it->second.until;
}

std::optional<TimePoint> History::quic_broken_until(std::string_view network) const {
    const auto it = quic_.find(network);
    if (it == quic_.end()) return std::nullopt;
    return it->second.until;
}

std::uint32_t History::quic_broken_count(std::string_view network) const {
    const auto it = quic_.find(network);
    return it == quic_.end() ? 0 : it->second.count;
}

}  // namespace eyeballs
