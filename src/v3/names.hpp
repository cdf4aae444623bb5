// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: the names a race asks about.
//
// Implements (draft-ietf-happy-happyeyeballs-v3-04 and the editor's copy):
//   §4.1    Sending DNS Queries: which queries, and their order (HTTPS, AAAA, A).
//   §4.2.1  Resolving SVCB/HTTPS Aliases and Targets: every target name is asked
//           for its AAAA and A records.
// and RFC 9460:
//   §2.4.2  AliasMode: followed, one HTTPS query per hop.
//   §3      Client behavior: $QNAME, chain limits and loop detection.
//   §9.1    Query names for HTTPS RRs: Port Prefix Naming (`_PORT._https.HOST`
//           for a port other than 443).
//
// Private to the core (eyeballs::detail): the RaceMachine reaches it through
// the Planner (planner.hpp) only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs::detail {

inline constexpr std::uint32_t no_target = UINT32_MAX;

/// One address query's state (per name and family).
enum class DnsState : std::uint8_t { pending, positive, negative };

/// A name whose addresses the race asks for: [0] is the origin.
struct Target {
    std::string name;  ///< "" for the origin; else as written in the record
    std::string key;   ///< lower case, fully qualified: for comparisons
    DnsState addr[2] = {DnsState::pending, DnsState::pending};
    std::vector<Endpoint> answer[2];  ///< what the race may use of each answer
    bool failed[2] = {false, false};  ///< the query failed (not "no data"): hints stay
    /// v3 §4.4: the answer in use is stale (past its TTL); the fresh one is
    /// awaited and will replace it (changes.hpp).
    bool stale[2] = {false, false};
    bool https_asked = false;
};

/// Lower case, fully qualified: names compare case-insensitively (RFC 4343).
std::string name_key(std::string_view name);

// ---- §4.1 Sending DNS Queries --------------------------------------------------

/// RFC 9460 §9.1: the origin's HTTPS query goes to `_PORT._https.HOST` when
/// the port is not 443; 0 when no prefix is needed (port 443).
constexpr std::uint16_t https_prefix_port(std::uint16_t port) noexcept {
    return port == 443 ? std::uint16_t{0} : port;
}

/// The names of one race: the origin and every target or alias name an HTTPS
/// record brought, each with its AAAA/A state, and where the HTTPS answer
/// stands (which name's answer is awaited; the alias hops taken).
class Names {
public:
    /// The race starts resolving: the origin, its HTTPS query asked.
    void start();

    std::size_t size() const noexcept { return targets_.size(); }
    Target& operator[](std::uint32_t t) { return targets_[t]; }
    const Target& operator[](std::uint32_t t) const { return targets_[t]; }

    /// The target with this name ("" = the origin), or no_target.
    std::uint32_t find(std::string_view name) const;
    /// The target with this name, made when new (`made` says so: its AAAA and
    /// A queries are then to be sent, RFC 9460 §3 / v3 §4.2.1).
    std::uint32_t intern(std::string_view name, bool& made);

    // ---- RFC 9460 §2.4.2, §3: the HTTPS answer and AliasMode --------------------

    /// Whose HTTPS answer is awaited; no_target once settled.
    std::uint32_t https_target() const noexcept { return https_target_; }
    bool https_pending() const noexcept { return https_target_ != no_target; }
    void settle_https() noexcept { https_target_ = no_target; }
    /// An AliasMode record at the awaited name: the next name to ask HTTPS
    /// for (made when new: `made`), or no_target when the chain ends here —
    /// "." (service not available, §2.5.1), a loop, or past `limit` hops.
    std::uint32_t follow_alias(std::string_view alias_target, std::uint32_t limit, bool& made);
    /// The last name the chain reached (the origin when no alias was followed):
    /// RFC 9460 §3's final $QNAME.
    std::uint32_t final_qname() const noexcept { return final_qname_; }

    /// Some target name (not the origin) still waits for an address answer.
    bool targets_outstanding() const noexcept;
    /// Some name (the origin too) races a stale answer while its fresh one is
    /// awaited (v3 §4.4).
    bool fresh_awaited() const noexcept;

private:
    std::deque<Target> targets_;  // stable: Resolve::name views into it
    std::uint32_t https_target_ = no_target;
    std::uint32_t final_qname_ = 0;
    std::uint32_t alias_hops_ = 0;
};

}  // namespace eyeballs::detail
