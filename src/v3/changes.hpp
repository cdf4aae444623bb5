// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: answers that change during the race.
//
// Implements (draft-ietf-happy-happyeyeballs-v3-04 and the editor's copy):
//   §4.3  Handling New Answers: endpoints that arrive while attempts are in
//         progress join the endpoints still to try.
//   §4.4  Handling Expired Answers: an answer past its TTL may be raced
//         ("optimistic DNS") while a fresh one is asked for; the fresh one
//         is then handled as a change (§7). Attempts are never cancelled.
//   §7    DNS Answer Changes During Happy Eyeballs Connection Setup: an
//         endpoint no longer in the answer leaves the list when it has not
//         been tried and is left alone when it has; an added endpoint takes
//         the place the sorting rules (§5) give it in the complete list, not
//         the end of it (the working group's issue #95); hints give way to
//         the target's own records (RFC 9460 §7.3).
//
// Pure: no machine, no clock. The RaceMachine (src/race_machine_changes.cpp)
// feeds it the endpoints not yet attempted and acts on what it returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "v3/names.hpp"
#include "v3/services.hpp"

namespace eyeballs::detail {

// ---- §4.4 Stale answers and §7 updates: which input an answer is ------------------

/// What an address answer for one question (a name and a family) is, given
/// where that question stands.
enum class AnswerRole : std::uint8_t {
    first,    ///< the question's first answer (a stale one or a fresh one)
    fresh,    ///< the fresh answer that replaces a stale one (§4.4): a change
    update,   ///< a changed answer for a question already answered (§7)
    refused,  ///< not acceptable: a second plain answer, or an update before any
};

/// How the race takes an answer to `target`'s `family` question. `update`:
/// the caller marked it as a changed answer (RaceMachine::handle_dns_update);
/// otherwise it is a plain answer (handle_resolved / handle_stale), which a
/// question takes once — twice only when its first answer was stale.
AnswerRole answer_role(const Target& target, Family family, bool update) noexcept;

// ---- §7 Removing what the new answer no longer has -----------------------------------

/// Whether `remote` (any port) is one of `produced`, the addresses an earlier
/// answer of this name and family gave the race (after NAT64 and DNS64): an
/// endpoint not yet tried that came from it is withdrawn when the answer changes
/// and comes back only if the new answer has it again.
bool came_from(const Endpoint& remote, const std::vector<Endpoint>& produced) noexcept;

// ---- §7 Sorting the complete list again -------------------------------------------------

/// One endpoint not yet attempted, in the order the race would try its family
/// now (ranks ascending; within a rank, the order the answers gave).
struct Pending {
    Rank rank;
    Endpoint remote;
};

/// §7: "its position SHOULD be determined by applying the sorting rules ... to
/// the complete list of endpoints, including those previously received". The
/// new order of `pending` as indices into it: by group (rank, §5.1/§5.2) first,
/// then, when `sort` is on, RFC 6724 with the caller's history (§5.3,
/// sort_with_history) over every endpoint of the group at once. Stable: ties
/// keep the order given.
std::vector<std::size_t> resort(const std::vector<Pending>& pending, const Config& config,
                                bool sort);

}  // namespace eyeballs::detail
