// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: sorting endpoints within a group, with history.
//
// Implements (draft-ietf-happy-happyeyeballs-v3-04 and the editor's copy):
//   §5.3  Sorting Destination Endpoints Within Groups: RFC 6724 §6, the RTT
//         rule between rules 8 and 9, the used-before rule between the RTT
//         rule and rule 9; history kept per network (eyeballs::History, its
//         attach() flushes it when the host changes network); and
//         convergence: "clients can periodically ignore historical data to
//         ensure that fresh addresses are attempted" (history_explored()).
// The same sort serves RFC 8305 races (§4 there has the RTT rule only; the
// used-before rule orders nothing an RTT does not unless an address's latest
// connect failed, see sort.hpp).
//
// Pure: no clock, no machine. The RaceMachine hands one answer's endpoints in.
#pragma once

#include <cstdint>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"

namespace eyeballs::detail {

// ---- §5.3 Convergence --------------------------------------------------------------

/// True when a race with this seed sorts without its history: for
/// `per_mille` of the seeds in 1000 (0 never, 1000 always). A fixed hash
/// (SplitMix64 of the seed, mixed with a constant so that it is independent
/// of the SvcPriority shuffle drawn from the same seed), so the same seed
/// always decides the same way.
bool history_explored(std::uint64_t seed, std::uint32_t per_mille) noexcept;

// ---- §5.3 Sorting ---------------------------------------------------------------------

/// Sorts `endpoints` (one answer or address list) by RFC 6724 §6 with the
/// caller's source information (`config.source_info`) and, unless this race
/// explores (history_explored(config.shuffle_seed, config.history_explore)),
/// `config.history` on `config.network`: the RTT rule, then the used-before
/// rule. Stable (rule 10).
void sort_with_history(std::vector<Endpoint>& endpoints, const Config& config);

/// Whether `config` gives sort_with_history anything to look up (source
/// information or a history this race uses); without, RFC 6724 rules 6 and 8
/// alone decide and the caller may sort cheaper.
bool has_lookups(const Config& config) noexcept;

}  // namespace eyeballs::detail
