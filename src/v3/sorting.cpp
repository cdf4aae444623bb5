// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: sorting within a group, with history (sorting.hpp).
//
// Implements v3 §5.3 (see sorting.hpp).
#include "v3/sorting.hpp"

#include <utility>

#include "eyeballs/history.hpp"
#include "eyeballs/sort.hpp"

namespace eyeballs::detail {

// ---- §5.3 Convergence --------------------------------------------------------------

bool history_explored(std::uint64_t seed, std::uint32_t per_mille) noexcept {
    if (per_mille == 0) return false;
    if (per_mille >= 1000) return true;
    // SplitMix64 (Steele, Lea, Flood 2014), one step from seed ^ a constant.
    std::uint64_t z = seed ^ 0x68697374'6f727921ull;  // "history!"
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return z % 1000u < per_mille;
}

// ---- §5.3 Sorting ---------------------------------------------------------------------

namespace {

const History* history_used(const Config& config) noexcept {
    if (config.history == nullptr) return nullptr;
    return history_explored(config.shuffle_seed, config.history_explore) ? nullptr
                                                                          : config.history;
}

}  // namespace

bool has_lookups(const Config& config) noexcept {
    return static_cast<bool>(config.source_info) || history_used(config) != nullptr;
}

void sort_with_history(std::vector<Endpoint>& endpoints, const Config& config) {
    if (endpoints.size() < 2) return;
    const History* history = history_used(config);
    std::vector<Destination> d;
    d.reserve(endpoints.size());
    for (const Endpoint& e : endpoints) {
        Destination x;
        x.address = e;
        if (config.source_info) x.source = config.source_info(e);
        if (history != nullptr) {
            x.rtt = history->rtt(config.network, e);
            x.used = history->used(config.network, e);
        }
        d.push_back(std::move(x));
    }
    sort_destinations(d);
    for (std::size_t i = 0; i < d.size(); ++i) endpoints[i] = d[i].address;
}

}  // namespace eyeballs::detail
