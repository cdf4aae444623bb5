// SPDX-License-Identifier: BSL-1.0
// eyeballs — the result of PREF64 discovery (RFC 7050), shared by the adapters.
#include "eyeballs/pref64_discovery.hpp"

#include <string>

namespace eyeballs {

Pref64Discovery pref64_discovery_from_answer(const std::vector<Endpoint>& aaaa) {
    if (aaaa.empty()) return pref64_discovery_no_aaaa();
    Pref64Discovery out;
    out.prefixes = pref64_from_ipv4only_answer(aaaa);
    if (out.prefixes.empty()) {
        out.error = "the AAAA answer for ipv4only.arpa embeds neither 192.0.0.170 nor "
                    "192.0.0.171 (RFC 7050 §3): no NAT64 prefix found";
    }
    return out;
}

Pref64Discovery pref64_discovery_no_aaaa() {
    Pref64Discovery out;
    out.error = "ipv4only.arpa has no AAAA record: no NAT64 here";
    return out;
}

Pref64Discovery pref64_discovery_failed(std::string_view reason) {
    Pref64Discovery out;
    out.error = "resolving ipv4only.arpa: ";
    out.error += reason;
    return out;
}

Pref64Discovery pref64_discovery_from_dns_error(DnsError dns, int code, std::string_view detail) {
    if (dns == DnsError::nodata || dns == DnsError::nxdomain) return pref64_discovery_no_aaaa();
    // Error::message() words every class; only its "resolve AAAA: " is ours to say.
    Error e;
    e.stage = Stage::resolve;
    e.family = Family::v6;
    e.code = code;
    e.detail = std::string(detail);
    e.dns = dns;
    std::string text = e.message();
    const std::string_view prefix = "resolve AAAA: ";
    if (text.compare(0, prefix.size(), prefix) == 0) text.erase(0, prefix.size());
    return pref64_discovery_failed(text);
}

}  // namespace eyeballs
