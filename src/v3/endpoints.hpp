// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: where a service's endpoints come from.
//
// Implements (draft-ietf-happy-happyeyeballs-v3-04 and the editor's copy):
//   §4.2.1 Resolving SVCB/HTTPS Aliases and Targets: "ipv6hint and ipv4hint
//          ... SHOULD be considered as positive non-empty answers ... when A
//          and AAAA records corresponding to the TargetName are not available
//          yet"; "When those records are received, they replace the hints".
//   §7     DNS Answer Changes: hints absent from the target's answer are
//          removed (the RaceMachine drops the unused ones, see
//          RaceMachine::target_answer).
// and RFC 9460 §7.3 (ipv4hint/ipv6hint).
#pragma once

#include <cstdint>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/svcb.hpp"
#include "v3/names.hpp"

namespace eyeballs::detail {

// ---- §4.2.1 Hints until the target answers ---------------------------------------

/// Where a service's addresses of one family come from now.
enum class Source : std::uint8_t {
    answer,  ///< the target's own positive answer
    hints,   ///< the record's hints: the answer is not in yet, or its query failed
    none,    ///< the target said "no data": neither
};
Source address_source(const Target& target, Family family) noexcept;

/// The record's ipv6hint (v6) or ipv4hint (v4) addresses (port 0).
const std::vector<Endpoint>& hints_of(const SvcbRecord& record, Family family) noexcept;

}  // namespace eyeballs::detail
