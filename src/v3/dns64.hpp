// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: synthesized answers and the families a host has.
//
// Implements (draft-ietf-happy-happyeyeballs-v3, the editor's copy):
//   §8.2  Handling Synthesized Answers: an IPv6 address that a DNS64 resolver
//         made from an IPv4 one is turned back into that IPv4 address before
//         the race groups, sorts and connects; a client that knows the PREF64
//         checks every AAAA address against it.
//   §8.3  Synthesizing IPv6 Addresses During Connection Establishment: with
//         no IPv4 route, an IPv4 address (from an A answer, a hint, a literal
//         or a de-synthesis) is synthesized again with the PREF64.
// and RFC 6052 §2.2 (the address format, bits 64-71 zero), §3.1 (the
// Well-Known Prefix never carries non-global IPv4 addresses).
//
// Pure functions: the RaceMachine asks admit_address() about every address it
// is given; nothing here knows about candidates or attempts.
#pragma once

#include <cstdint>
#include <optional>

#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/nat64.hpp"

namespace eyeballs::detail {

// ---- §8.2 Handling Synthesized Answers ---------------------------------------------

/// What an AAAA address is, seen through the known PREF64.
enum class Dns64 : std::uint8_t {
    native,         ///< outside the PREF64: a real IPv6 address, kept as it is
    desynthesized,  ///< inside it: the IPv4 address it carries (`address`)
    rejected,       ///< inside it, but no IPv4 address RFC 6052 could have put there
};

struct Dns64Check {
    Dns64 verdict = Dns64::native;
    Endpoint address;  ///< native: the address; desynthesized: the IPv4 one (same port)
};

/// Checks one AAAA address against `prefix`. Inside the prefix it is
/// `rejected` (our reading; the draft only says "MUST check") when:
/// - bits 64-71 are not zero (RFC 6052 §2.2 "MUST be set to zero"; for a /96
///   those bits are part of the prefix, so this rejects nothing there);
/// - the IPv4 address is one that is never synthesized (0/8, 127/8,
///   169.254/16, 255.255.255.255: the editor's copy §8.3 and nat64.hpp);
/// - the prefix is the Well-Known Prefix and the IPv4 address is not global
///   (RFC 6052 §3.1 "MUST NOT be used to represent non-global IPv4").
/// A translator's prefix holds no real IPv6 host, so such an address can
/// reach nothing: it is dropped rather than raced as IPv6. A non-zero suffix
/// (RFC 6052 "SHOULD be set to zero") is tolerated: the address is
/// de-synthesized. Addresses of another family are `native`.
Dns64Check desynthesize(const Endpoint& aaaa, const Pref64& prefix) noexcept;

// ---- §8.3 and the host's families: which address the race may try ----------------

/// What the race tries for one address it was given, or nullopt when it
/// tries nothing. In order:
/// 1. `desynthesis` (v3's DNS mode) with `config.pref64`: an IPv6 address
///    is de-synthesized (or dropped when rejected) — desynthesize().
/// 2. `config.ipv4_unavailable` with `config.pref64`: an IPv4 address is
///    synthesized (RFC 8305 §7.1, the editor's copy §8.3); one that cannot
///    be is dropped.
/// 3. `config.ipv6_unavailable`: an IPv6 address is dropped.
/// 4. `config.only_family`: an address of the other family is dropped.
std::optional<Endpoint> admit_address(const Endpoint& e, const Config& config,
                                      bool desynthesis) noexcept;

// ---- §8.2 "still using the IPv4 address for purposes of sorting" ------------------

/// The IPv4 address an admitted v3 address stands for, when the race groups
/// and sorts it as IPv4: on a host without IPv4 (`config.ipv4_unavailable`)
/// with a known PREF64, every IPv4 address was synthesized by admit_address(),
/// so an IPv6 address inside the PREF64 is one of those (or a DNS64 answer
/// de-synthesized and synthesized again). The race connects to the IPv6
/// address but interleaves, sorts (RFC 6724, history) and counts it as the
/// IPv4 one, as the editor's copy §8.2 asks. nullopt for any other address,
/// and always outside v3's DNS mode (`v3` false: RFC 8305 §7.1 sorts a
/// synthesized address as the IPv6 address it is, SPEC's base contract).
std::optional<Endpoint> sorts_as_ipv4(const Endpoint& e, const Config& config,
                                      bool v3) noexcept;

}  // namespace eyeballs::detail
