// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: where a service's endpoints come from (endpoints.hpp).
//
// Implements v3 §4.2.1, §7; RFC 9460 §7.3 (see endpoints.hpp).
#include "v3/endpoints.hpp"

namespace eyeballs::detail {

// ---- §4.2.1 Hints until the target answers ---------------------------------------

Source address_source(const Target& target, Family family) noexcept {
    const auto f = static_cast<std::size_t>(family);
    if (target.addr[f] == DnsState::positive) return Source::answer;
    // A failed query (not "no data") keeps the hints in use: they are all
    // the race knows of that name (RFC 9460 §7.3: hints are used "if A and
    // AAAA records for TargetName are not available").
    if (target.addr[f] == DnsState::pending || target.failed[f]) return Source::hints;
    return Source::none;
}

const std::vector<Endpoint>& hints_of(const SvcbRecord& record, Family family) noexcept {
    return family == Family::v6 ? record.ipv6hint : record.ipv4hint;
}

}  // namespace eyeballs::detail
