// SPDX-License-Identifier: BSL-1.0
// eyeballs — resolve overrides, as curl's CURLOPT_RESOLVE (--resolve) and
// CURLOPT_CONNECT_TO (--connect-to): the one place that matches them, for the
// adapters and the tools. Pure: no I/O (interface names of zones go through a
// ZoneLookup, see endpoint.hpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

/// One override. Host names compare without case.
///  - Pin (`--resolve HOST:PORT:ADDR[,ADDR...]`): `addresses` non-empty;
///    HOST:PORT is raced on those addresses, with no DNS.
///  - Redirect (`--connect-to HOST1:PORT1:HOST2:PORT2`): `addresses` empty;
///    asked for HOST1:PORT1, connect to HOST2:PORT2. An empty `host` matches
///    any host and port 0 any port; an empty `to_host` keeps the host and
///    `to_port` 0 keeps the port (curl's man page).
struct ResolveOverride {
    std::string host;
    std::uint16_t port = 0;
    std::vector<Endpoint> addresses;
    std::string to_host;
    std::uint16_t to_port = 0;
};

/// Where a race for host:port goes after the overrides.
struct OverrideTarget {
    std::string host;               ///< the name to resolve (or the pinned name)
    std::uint16_t port = 0;         ///< the port to connect to
    std::vector<Endpoint> addresses;  ///< non-empty: race these, no DNS
};

/// Applies `overrides` to host:port as curl does: the first redirect that
/// matches changes host and port (once), then the first pin that matches the
/// result gives its addresses (pinned addresses keep their own port when they
/// were written with one, else the resulting port).
OverrideTarget apply_overrides(const std::vector<ResolveOverride>& overrides,
                               std::string_view host, std::uint16_t port);

/// Parses `HOST:PORT:ADDR[,ADDR...]` (curl's --resolve; an ADDR is `v4`, `v6`,
/// `[v6]` or `[v6]:PORT`, a link-local one with a zone). nullopt and a message
/// in `error` on failure.
std::optional<ResolveOverride> parse_resolve_override(std::string_view text, std::string* error,
                                                      const ZoneLookup& zones = nullptr);

/// Parses `HOST1:PORT1:HOST2:PORT2` (curl's --connect-to; each field may be
/// empty; an IPv6 HOST in brackets). nullopt and a message on failure.
std::optional<ResolveOverride> parse_connect_to(std::string_view text, std::string* error);

}  // namespace eyeballs
