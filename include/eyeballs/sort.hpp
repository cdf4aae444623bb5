// SPDX-License-Identifier: BSL-1.0
// eyeballs — RFC 6724 destination address sorting, with RFC 8305's RTT rule.
//
// What goes in: a list of destination addresses and, optionally, what the
// caller knows about them — the source address the kernel would use for each
// (RFC 6724 §6 "Source(D)"; learned e.g. by a UDP connect + getsockname) and
// a historical round-trip time (RFC 8305 §4). What comes out: the same list,
// reordered by RFC 6724 §6's ten rules. Pure functions: no I/O, no clock, no
// global state; the same input always gives the same order.
//
// The rules (RFC 6724 §6, "MUST be applied in order. If a rule determines a
// result, then the remaining rules are not relevant"):
//   1  Avoid unusable destinations      (needs source information)
//   2  Prefer matching scope            (needs source information)
//   3  Avoid deprecated addresses       (needs source information)
//   4  Prefer home addresses            (needs source information)
//   5  Prefer matching label            (needs source information)
//   6  Prefer higher precedence         (always: the §2.1 policy table)
//   7  Prefer native transport          (needs source information)
//   8  Prefer smaller scope             (always)
//   -  Prefer lower historical RTT      (RFC 8305 §4; when RTTs are given)
//   9  Use longest matching prefix      (needs source information)
//   10 Otherwise, leave the order unchanged (always: the sort is stable)
//
// Source information is all or nothing: the source rules apply only when it is
// known for every destination in the list (otherwise a pair with information
// and a pair without could disagree, and the order would not be a strict weak
// order). Every rule compares one value computed per destination, so the
// comparison is a strict weak order and the sort a stable total order.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "eyeballs/time.hpp"
#include "eyeballs/endpoint.hpp"

namespace eyeballs {

// ---- The policy table (RFC 6724 §2.1) --------------------------------------

/// One row of the policy table: a prefix and its precedence and label.
struct PolicyEntry {
    std::array<std::uint8_t, 16> prefix;
    std::uint8_t length;
    std::uint8_t precedence;
    std::uint8_t label;
};

/// RFC 6724 §2.1's default policy table:
///
///     Prefix        Precedence Label
///     ::1/128               50     0
///     ::/0                  40     1
///     ::ffff:0:0/96         35     4
///     2002::/16             30     2
///     2001::/32              5     5
///     fc00::/7               3    13
///     ::/96                  1     3
///     fec0::/10              1    11
///     3ffe::/16              1    12
const std::array<PolicyEntry, 9>& default_policy_table() noexcept;

/// The row of the default policy table whose prefix is the longest match for
/// the address (RFC 6724 §2.1: "the longest matching prefix"). An IPv4 address
/// is looked up as the IPv4-mapped address ::ffff:a.b.c.d (RFC 6724 §2.1, §6:
/// "the IPv4 address MUST be represented as an IPv4-mapped address").
const PolicyEntry& policy_entry(const Endpoint& address) noexcept;
/// Precedence(A) (RFC 6724 §2.1): 50 for ::1, 35 for every IPv4 address, ...
int precedence(const Endpoint& address) noexcept;
/// Label(A) (RFC 6724 §2.1): 0 for ::1, 4 for every IPv4 address, ...
int label(const Endpoint& address) noexcept;

// ---- Scope (RFC 6724 §3.1, §3.2; RFC 4291 §2.5.3, §2.5.6, §2.7) -------------

/// The scope of an address, valued as RFC 4291 §2.7's multicast scope field,
/// to which RFC 6724 §3.1 maps unicast scopes ("We map unicast link-local to
/// multicast link-local, unicast site-local to multicast site-local, and
/// unicast global scope to multicast global scope"). Smaller is narrower.
/// Multicast scopes without a name here (reserved/unassigned values) keep
/// their 4-bit value.
enum class Scope : std::uint8_t {
    interface_local = 0x1,
    link_local = 0x2,
    admin_local = 0x4,
    site_local = 0x5,
    organization_local = 0x8,
    global = 0xe,
};

/// Scope(A):
/// - IPv6 multicast ff00::/8: its scope field (the low 4 bits of the second
///   byte, RFC 4291 §2.7), e.g. ff02::1 is link-local.
/// - ::1 is link-local (RFC 4291 §2.5.3: "It is treated as having Link-Local
///   scope"); fe80::/10 is link-local (§2.5.6); fec0::/10 is site-local
///   (RFC 6724 §3.1 keeps the deprecated site-local scope).
/// - IPv4 (and IPv4-mapped): 127.0.0.0/8 and 169.254.0.0/16 are link-local,
///   every other IPv4 address is global (RFC 6724 §3.2).
/// - Everything else, unique local fc00::/7 included (RFC 4193 §3.3), is global.
Scope scope(const Endpoint& address) noexcept;

// ---- What the caller knows about a destination ------------------------------

/// What the caller learned about the source address the kernel would use for
/// one destination (RFC 6724 §6 "Source(D)").
struct SourceInfo {
    /// Source(D); empty means "undefined": no source address, the destination
    /// is unusable (rule 1).
    std::optional<Endpoint> source;
    /// The source address is deprecated in the RFC 4862 sense (rule 3).
    bool deprecated = false;
    /// The source is a Mobile IPv6 home address (rule 4). A node that is not
    /// mobile leaves the default: every source is then a home address and
    /// rule 4 decides nothing.
    bool home = true;
    /// The source is (also) a Mobile IPv6 care-of address (rule 4: "If
    /// Source(DA) is simultaneously a home address and care-of address and
    /// Source(DB) is not, then prefer DA").
    bool care_of = false;
    /// False when the destination is reached through an encapsulating
    /// transition mechanism, e.g. IPv6 in IPv4 (rule 7).
    bool native = true;
    /// The length of the source address's prefix, the cap of rule 9's
    /// CommonPrefixLen (RFC 6724 §2.2: "up to the length of S's prefix").
    /// Empty: 64 for an IPv6 source (RFC 4291 §2.5.1's 64-bit interface
    /// identifiers), and 0 for an IPv4 source, whose mask getsockname does not
    /// tell: rule 9 then never orders IPv4 destinations (see rule 9 below).
    /// For an IPv4 source, the length counts IPv4 bits (0 … 32).
    std::optional<std::uint8_t> prefix_length;
};

/// A destination with everything the rules may use.
struct Destination {
    Endpoint address;
    /// Source information; empty when unknown (then no source rule applies to
    /// a pair that includes this destination).
    std::optional<SourceInfo> source;
    /// Historical RTT to this address (RFC 8305 §4); empty when none.
    std::optional<Duration> rtt;
    /// A connect to this address succeeded before on this network (v3 §5.3's
    /// used-before rule, after the RTT rule and before rule 9).
    bool used = false;
};

/// Which rule decided a comparison.
enum class SortRule : std::uint8_t {
    none,                      ///< rule 10: no rule decided; the order is kept
    avoid_unusable,            ///< rule 1
    prefer_matching_scope,     ///< rule 2
    avoid_deprecated,          ///< rule 3
    prefer_home,               ///< rule 4
    prefer_matching_label,     ///< rule 5
    prefer_higher_precedence,  ///< rule 6
    prefer_native,             ///< rule 7
    prefer_smaller_scope,      ///< rule 8
    prefer_lower_rtt,          ///< RFC 8305 §4, between rules 8 and 9
    prefer_longest_prefix,     ///< rule 9
    prefer_used,               ///< v3 §5.3, between the RTT rule and rule 9
};

/// "rule 6 (prefer higher precedence)", "RFC 8305 §4 (prefer lower RTT)", ...
const char* sort_rule_name(SortRule rule) noexcept;

/// The outcome of comparing DA with DB: `order` < 0 when DA goes first, > 0
/// when DB goes first, 0 when no rule decides (rule 10 keeps the original
/// order); `rule` is the rule that decided.
struct Comparison {
    int order = 0;
    SortRule rule = SortRule::none;
};

/// Compares two destinations by RFC 6724 §6 rules 1-9 and the RTT rule.
/// - Rules 1, 2, 3, 4, 5, 7 and 9 apply when both have source information.
/// - Rules 6 and 8 always apply.
/// - The RTT rule (RFC 8305 §4: "it SHOULD add a Destination Address Selection
///   rule between rules 8 and 9 that prefers addresses with lower RTTs", and
///   "another ... that prefers used addresses over unused ones"): both RTTs
///   known → the lower goes first; only one known → that one, the used
///   address, goes first; neither → no decision.
/// - The used-before rule (v3 §5.3: "another Destination Address Selection
///   rule between the RTT rule and rule 9, which prefers used addresses over
///   unused ones"): `used` first. It decides where the RTT rule cannot: an
///   address that connected before but whose latest attempt failed (no RTT
///   to expect) still goes before one never used.
/// - Rule 9 applies only when both are IPv6 or both are IPv4 (RFC 6724 §6:
///   "When DA and DB belong to the same address family (both are IPv6 or both
///   are IPv4)"; an IPv4-mapped address counts as IPv4 here, as it does in the
///   policy table). CommonPrefixLen is capped at SourceInfo::prefix_length.
///   With the default table a pair reaches rule 9 only with equal precedence,
///   and IPv4 (35) never shares a precedence with IPv6, so the family
///   condition never breaks the strict weak order.
Comparison compare_destinations(const Destination& a, const Destination& b) noexcept;

/// Looks up the source information of one destination; empty = unknown.
using SourceLookup = std::function<std::optional<SourceInfo>(const Endpoint&)>;
/// Looks up the historical RTT of one destination; empty = none.
using RttLookup = std::function<std::optional<Duration>(const Endpoint&)>;

/// What sort_destinations may ask about the destinations. Each lookup is
/// optional; each is called exactly once per destination, in list order.
struct SortInputs {
    SourceLookup source;
    RttLookup rtt;
};

/// Sorts destinations by RFC 6724 §6 (stable: rule 10). Source rules apply
/// only when `inputs.source` is set and returns information for every
/// destination; the RTT rule applies when `inputs.rtt` is set.
void sort_destinations(std::vector<Endpoint>& destinations, const SortInputs& inputs = {});

/// The same, for destinations whose information is already filled in. When
/// any destination lacks source information, the source rules are skipped for
/// all of them.
void sort_destinations(std::vector<Destination>& destinations);

}  // namespace eyeballs
