// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: when a handshake may start, and ECH (crypto.hpp).
#include "v3/crypto.hpp"

#include <algorithm>

#include "v3/planner.hpp"

namespace eyeballs::detail {

// ---- §6.3 Pending handshakes --------------------------------------------------

bool holds_handshakes(const Config& config) noexcept {
    if (config.ech == EchMode::off) return false;  // (2): no ECH support in use
    return config.dns_protected || config.ech == EchMode::required;
}

bool abandons_race(const Config& config, int code, std::string_view detail,
                   DnsError dns) noexcept {
    if (!config.dns_protected) return false;
    if (dns == DnsError::nodata || dns == DnsError::nxdomain) return false;
    return code != 0 || !detail.empty() || dns != DnsError::none;
}

// ---- §5.1 The ECH downgrade guard ---------------------------------------------

bool ech_admits(const Config& config, bool origin_ech, bool endpoint_ech) noexcept {
    if (endpoint_ech) return true;
    switch (config.ech) {
        case EchMode::off: return true;
        case EchMode::opportunistic: return !origin_ech || config.ech_fallback;
        case EchMode::required: return false;
    }
    return false;
}

bool any_ech(const std::deque<Service>& services) noexcept {
    return std::any_of(services.begin(), services.end(),
                       [](const Service& s) { return s.ech.has_value(); });
}

// ---- ECH retry ----------------------------------------------------------------------

bool EchState::first_retry(const Endpoint& remote, Protocol protocol) {
    const std::pair<Endpoint, Protocol> key{remote, protocol};
    if (std::find(retried_.begin(), retried_.end(), key) != retried_.end()) return false;
    retried_.push_back(key);
    return true;
}

// ---- The planner's part: a service for the retry ------------------------------------

std::uint16_t Planner::retry_service(std::uint16_t s, std::vector<std::uint8_t> configs) {
    if (services_.size() >= max_services) return no_service;
    Service svc = services_[s];
    svc.ech = std::move(configs);
    // First of all: the retry is tried before anything else waiting (it
    // skips the delays, as the endpoint was already chosen).
    Rank first{Rank::Tier::service, false, false, 0, 0};
    return add_service(std::move(svc), service_target_[s], first);
}

}  // namespace eyeballs::detail
