// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: when a handshake may start, and ECH.
//
// Implements (draft-ietf-happy-happyeyeballs-v3-04 and the editor's copy):
//   §6.3  Dropping or Pending Connection Attempts: a handshake is held back
//         until the HTTPS answer is in when the client relies on an SVCB
//         parameter (here: `ech`) for it; a failed HTTPS query over
//         cryptographically protected DNS abandons the race (RFC 9460 §3.1).
//   §5.1  Grouping By ... Security Requirements: the ECH downgrade guard —
//         once a ServiceMode record of the origin offers ECH, endpoints
//         without it are not raced unless the configuration allows it.
// and the ECH retry: a server that rejects ECH may give retry configs
// (RFC 9849 §6.1.6); the endpoint is tried again once with them, never twice.
//
// Pure rules and a little bookkeeping: no attempts, sockets or actions. The
// RaceMachine asks these functions and acts on the answers.
#pragma once

#include <cstdint>
#include <deque>
#include <string_view>
#include <utility>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/error.hpp"

namespace eyeballs::detail {

// ---- §6.3 Pending handshakes --------------------------------------------------

/// Whether a handshake waits for the HTTPS answer (or its failure). §6.3 asks
/// it ("MUST pend") when all three hold: (1) DNS is protected, (2) the client
/// supports ECH, (3) it relies on the record to turn ECH on — which an ECH
/// client always does, ECH needing the record's config. With plain DNS the
/// record is opportunistic ("MAY wait"): ech=opportunistic does not wait,
/// ech=required (an SVCB-reliant client, RFC 9460 §3) does.
bool holds_handshakes(const Config& config) noexcept;

/// RFC 9460 §3.1, cited by §6.3: over protected DNS, an HTTPS query that
/// failed — SERVFAIL, a timeout, a transport or authentication error; not
/// "no data" and not NXDOMAIN, which are answers — abandons the race.
bool abandons_race(const Config& config, int code, std::string_view detail,
                   DnsError dns) noexcept;

// ---- §5.1 The ECH downgrade guard ---------------------------------------------

/// Whether an endpoint may be raced: `endpoint_ech`, its record offers ECH;
/// `origin_ech`, some ServiceMode record of the origin does. ech=required
/// races only ECH endpoints; ech=opportunistic drops the others once the
/// origin offers ECH, unless ech-fallback=on; ech=off races everything.
bool ech_admits(const Config& config, bool origin_ech, bool endpoint_ech) noexcept;

/// Some service offers ECH (the origin's records: services are only made from them).
bool any_ech(const std::deque<Service>& services) noexcept;

// ---- The ECH state of one race ----------------------------------------------------

class EchState {
public:
    /// A connected TCP attempt (its slot) waits for the HTTPS answer before its handshake.
    void hold(std::uint32_t slot) { held_.push_back(slot); }
    /// The attempts held so far, in the order they connected; none held after.
    std::vector<std::uint32_t> release() { return std::exchange(held_, {}); }
    /// The first ECH retry for this endpoint (true, and remembered), or a
    /// second one (false): retry configs are used once per endpoint.
    bool first_retry(const Endpoint& remote, Protocol protocol);
    /// Endpoints the downgrade guard kept out of the race (for the report).
    std::uint32_t refused = 0;
    std::size_t heap_bytes() const noexcept {
        return held_.capacity() * sizeof(std::uint32_t) +
               retried_.capacity() * sizeof(std::pair<Endpoint, Protocol>);
    }

private:
    std::vector<std::uint32_t> held_;
    std::vector<std::pair<Endpoint, Protocol>> retried_;
};

}  // namespace eyeballs::detail
