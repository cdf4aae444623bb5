// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: answers that change during the race (changes.hpp).
//
// Implements v3 §4.3, §4.4, §7 (see changes.hpp).
#include "v3/changes.hpp"

#include <algorithm>
#include <numeric>

#include "eyeballs/sort.hpp"
#include "v3/sorting.hpp"

namespace eyeballs::detail {

// ---- §4.4 Stale answers and §7 updates --------------------------------------------------

AnswerRole answer_role(const Target& target, Family family, bool update) noexcept {
    const auto f = static_cast<std::size_t>(family);
    const bool answered = target.addr[f] != DnsState::pending;
    // A stale answer leaves its question open for one more answer: the fresh
    // one, which replaces it as a change would (§4.4: "Addition of any new
    // answers is handled as described in ... {{changes}}").
    if (answered && target.stale[f]) return AnswerRole::fresh;
    if (update) return answered ? AnswerRole::update : AnswerRole::refused;
    return answered ? AnswerRole::refused : AnswerRole::first;
}

// ---- §7 Removing what the new answer no longer has --------------------------------------

bool came_from(const Endpoint& remote, const std::vector<Endpoint>& produced) noexcept {
    // Ports differ by service (each takes its own), so the address decides.
    const Endpoint bare = remote.with_port(0);
    return std::any_of(produced.begin(), produced.end(),
                       [&](const Endpoint& e) { return e.with_port(0) == bare; });
}

// ---- §7 Sorting the complete list again -------------------------------------------------

std::vector<std::size_t> resort(const std::vector<Pending>& pending, const Config& config,
                                bool sort) {
    std::vector<std::size_t> order(pending.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (sort && pending.size() > 1) {
        // RFC 6724 over the whole list at once (stable, rule 10).
        const auto key = [](const Endpoint& e) {
            return precedence(e) * 32 + (31 - static_cast<int>(scope(e)));
        };
        if (!has_lookups(config)) {
            // Only rules 6 and 8 can decide: one key per address.
            std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                return key(pending[a].remote) > key(pending[b].remote);
            });
        } else {
            // The sort works on addresses; equal ones (a remote offered over
            // two transports) keep their given order, so the i-th copy of an
            // address in the sorted list is its i-th copy in `pending`.
            std::vector<Endpoint> sorted;
            sorted.reserve(pending.size());
            for (const Pending& p : pending) sorted.push_back(p.remote);
            sort_with_history(sorted, config);
            std::vector<std::size_t> by_remote = order;
            std::stable_sort(by_remote.begin(), by_remote.end(), [&](std::size_t a, std::size_t b) {
                return pending[a].remote < pending[b].remote;
            });
            std::vector<bool> used(pending.size(), false);
            for (std::size_t k = 0; k < sorted.size(); ++k) {
                auto it = std::lower_bound(
                    by_remote.begin(), by_remote.end(), sorted[k],
                    [&](std::size_t i, const Endpoint& e) { return pending[i].remote < e; });
                while (used[*it]) ++it;
                used[*it] = true;
                order[k] = *it;
            }
        }
    }
    // §5: groups first; within a group the order just made stands.
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        return pending[a].rank < pending[b].rank;
    });
    return order;
}

}  // namespace eyeballs::detail
