// SPDX-License-Identifier: BSL-1.0
// eyeballs — which DNS server an adapter's own DNS client asks (issue 17
// item 10).
//
// draft-ietf-happy-happyeyeballs-v3 §4.5: a client with both IPv6 and IPv4
// nameservers should send its queries over IPv6 first. The adapters that
// send DNS queries themselves (HTTPS records, or every query with a
// `dns_server` option) read the system's nameservers with these functions
// and ask them in the order of order_dns_servers(): the IPv6 ones first,
// then the IPv4 ones. Within a family the file's order (the administrator's
// preference, resolv.conf(5)) is kept. A server that gives no answer (a
// timeout, an unreachable error) is left for the next one in that list, as
// a resolv.conf(5) resolver does.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

/// The `nameserver` lines of a resolv.conf(5) text, in file order, port 53.
/// Lines that do not parse, and IPv6 addresses with a zone ("fe80::1%eth0"),
/// are skipped; comments (`#`, `;`) and other keywords are ignored.
std::vector<Endpoint> parse_resolv_conf(std::string_view text);

/// The same servers, IPv6 first (v3 §4.5), each family in the given order.
std::vector<Endpoint> order_dns_servers(std::vector<Endpoint> servers);

/// The servers to ask, in the order to ask them:
/// order_dns_servers(parse_resolv_conf(the file at `path`)). Empty when the
/// file cannot be read or names none.
std::vector<Endpoint> preferred_dns_servers(const char* path = "/etc/resolv.conf");

/// The server to ask first: the front of preferred_dns_servers(path);
/// nullopt when that list is empty.
std::optional<Endpoint> preferred_dns_server(const char* path = "/etc/resolv.conf");

}  // namespace eyeballs
