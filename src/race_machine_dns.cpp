// SPDX-License-Identifier: BSL-1.0
// eyeballs — RaceMachine: negative DNS answers with their class (Error::dns).
//
// Kept apart from race_machine.cpp: these only wrap handle_resolve_failed and
// mark the resolve errors it recorded with the class the adapter gave.
#include "eyeballs/race_machine.hpp"

namespace eyeballs {

void RaceMachine::classify_resolve_errors(std::size_t from, DnsError dns) {
    for (std::size_t i = from; i < errors_.size(); ++i) {
        if (errors_[i].stage == Stage::resolve) errors_[i].dns = dns;
    }
}

namespace {
// The text the machine is given for a class: empty for nodata (its "no data"
// rule), the class's name when the adapter gave none (so it counts as a
// failure, not as no data).
std::string_view machine_detail(DnsError dns, int code, std::string_view detail) {
    if (dns == DnsError::nodata) return {};
    if (detail.empty() && code == 0 && dns != DnsError::none) return dns_error_name(dns);
    return detail;
}
}  // namespace

InputStatus RaceMachine::handle_resolve_failed(TimePoint now, const Resolve& query, DnsError dns,
                                               int code, std::string_view detail) {
    const std::size_t before = errors_.size();
    incoming_dns_ = dns;
    const InputStatus status = handle_resolve_failed(
        now, query, dns == DnsError::nodata ? 0 : code, machine_detail(dns, code, detail));
    incoming_dns_ = DnsError::none;
    classify_resolve_errors(before, dns);
    return status;
}

InputStatus RaceMachine::handle_resolve_failed(TimePoint now, Family family, DnsError dns,
                                               int code, std::string_view detail) {
    const std::size_t before = errors_.size();
    incoming_dns_ = dns;
    const InputStatus status = handle_resolve_failed(
        now, family, dns == DnsError::nodata ? 0 : code, machine_detail(dns, code, detail));
    incoming_dns_ = DnsError::none;
    classify_resolve_errors(before, dns);
    return status;
}

}  // namespace eyeballs
