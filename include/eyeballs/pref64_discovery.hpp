// SPDX-License-Identifier: BSL-1.0
// eyeballs — what PREF64 discovery (RFC 7050) found, in one shape for every
// adapter.
//
// Each adapter asks the AAAA records of ipv4only.arpa in its own way (poll:
// c-ares, blocking; libevent: evdns; Asio: its resolver or its DNS client)
// and hands what came back to these functions, so the result and its words
// are the same whichever loop did the asking. Pure functions: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/nat64.hpp"

namespace eyeballs {

/// What a discover_pref64 found.
struct Pref64Discovery {
    /// The NAT64 prefixes the network synthesizes with (usually one), in the
    /// order the DNS answer gave them; empty when none was found.
    std::vector<Pref64> prefixes;
    /// Why none was found: no AAAA for ipv4only.arpa (no NAT64 on this
    /// network), a DNS failure with its reason, or an answer that embeds
    /// neither well-known address; empty on success.
    std::string error;

    bool found() const noexcept { return !prefixes.empty(); }
};

/// RFC 7050 §3 on the AAAA answer for ipv4only.arpa: its prefixes, or, when
/// it holds none, the error that says so (an empty answer: no NAT64 here).
Pref64Discovery pref64_discovery_from_answer(const std::vector<Endpoint>& aaaa);

/// The query for ipv4only.arpa got no AAAA records (NODATA or NXDOMAIN):
/// RFC 7050 §2's sign that the network has no DNS64, hence no NAT64 to find.
Pref64Discovery pref64_discovery_no_aaaa();

/// The query for ipv4only.arpa failed (timeout, SERVFAIL, no server, ...):
/// `reason` says how, and the error reads "resolving ipv4only.arpa: REASON".
Pref64Discovery pref64_discovery_failed(std::string_view reason);

/// The query for ipv4only.arpa failed as an adapter's own DNS client tells
/// it (a DNS class, an errno, a detail: what RaceMachine::handle_resolve_failed
/// takes): NODATA and NXDOMAIN are pref64_discovery_no_aaaa(); the rest a
/// failure in the words a race's report uses ("timed out (no answer within
/// 5000 ms)", "server failure (SERVFAIL)").
Pref64Discovery pref64_discovery_from_dns_error(DnsError dns, int code, std::string_view detail);

}  // namespace eyeballs
