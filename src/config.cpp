// SPDX-License-Identifier: BSL-1.0
// eyeballs — configuration rules (RFC 8305 bounds) and the millisecond text
// that messages and traces share.
#include <cstdint>
#include <string>
#include <vector>

#include "eyeballs/config.hpp"

namespace eyeballs {

std::string format_ms(Duration d) {
    const std::int64_t ns = d.count();
    // Work in unsigned so that the most negative value has a magnitude too.
    std::uint64_t mag = ns < 0 ? std::uint64_t{0} - static_cast<std::uint64_t>(ns)
                               : static_cast<std::uint64_t>(ns);
    std::string out;
    if (ns < 0) out += '-';
    out += std::to_string(mag / 1000000u);
    std::uint64_t frac = mag % 1000000u;
    if (frac != 0) {
        std::string digits = std::to_string(frac);
        digits.insert(0, 6 - digits.size(), '0');
        while (!digits.empty() && digits.back() == '0') digits.pop_back();
        out += '.';
        out += digits;
    }
    return out;
}

namespace {

std::string ms(Duration d) { return format_ms(d) + " ms"; }

// "NAME D ms is outside LO … HI (WHY)"
std::string outside(const char* name, Duration d, const char* range, const char* why) {
    std::string s = name;
    s += ' ';
    s += ms(d);
    s += " is outside ";
    s += range;
    if (why != nullptr) {
        s += " (";
        s += why;
        s += ')';
    }
    return s;
}

std::string not_positive(const char* name, Duration d) {
    return std::string(name) + ' ' + ms(d) + " must be greater than 0 ms";
}

}  // namespace

const std::vector<std::string>& default_tcp_alpn() {
    static const std::vector<std::string> ids{"h2", "http/1.1"};
    return ids;
}

std::optional<std::string> validate(const Config& config) {
    if (config.attempt_delay) {
        const Duration d = *config.attempt_delay;
        if (d < min_attempt_delay_bound || d > max_attempt_delay_bound) {
            return outside("attempt-delay", d, "10 ms … 2 s", "RFC 8305 §5");
        }
    }
    if (config.resolution_delay < Duration::zero() ||
        config.resolution_delay > max_resolution_delay) {
        return outside("resolution-delay", config.resolution_delay, "0 ms … 2 s", "RFC 8305 §3");
    }
    if (config.family_count < 1) {
        return "family-count " + std::to_string(config.family_count) +
               " must be at least 1 (RFC 8305 §4)";
    }
    if (config.attempt_timeout && *config.attempt_timeout <= Duration::zero()) {
        return not_positive("attempt-timeout", *config.attempt_timeout);
    }
    if (config.overall_timeout && *config.overall_timeout <= Duration::zero()) {
        return not_positive("overall-timeout", *config.overall_timeout);
    }
    if (config.min_start_gap < Duration::zero() || config.min_start_gap > max_min_start_gap) {
        return outside("min-start-gap", config.min_start_gap, "0 ms … 100 ms", nullptr);
    }
    if (config.min_attempt_delay < min_attempt_delay_bound ||
        config.min_attempt_delay > max_attempt_delay_bound) {
        return outside("min-attempt-delay", config.min_attempt_delay, "10 ms … 2 s",
                       "RFC 8305 §5");
    }
    if (config.max_attempt_delay < min_attempt_delay_bound ||
        config.max_attempt_delay > max_attempt_delay_bound) {
        return outside("max-attempt-delay", config.max_attempt_delay, "10 ms … 2 s",
                       "RFC 8305 §5");
    }
    if (config.min_attempt_delay > config.max_attempt_delay) {
        return "min-attempt-delay " + ms(config.min_attempt_delay) +
               " is greater than max-attempt-delay " + ms(config.max_attempt_delay);
    }
    if (!(config.delay_multiplier >= 1.0 && config.delay_multiplier <= 16.0)) {
        return "delay-multiplier " + std::to_string(config.delay_multiplier) +
               " is outside 1 … 16";
    }
    if (config.auto_attempt_delay && !config.attempt_delay) {
        return "attempt-delay=auto needs racing mode: sequential mode (attempt-delay=none) "
               "has no attempt delay";
    }
    if (config.https && config.port == 0) {
        return std::string("port 0 is not a port: the origin's port must be 1-65535");
    }
    if (config.max_endpoints < 1 || config.max_endpoints > max_max_endpoints) {
        return "max-endpoints " + std::to_string(config.max_endpoints) +
               " is outside 1 … " + std::to_string(max_max_endpoints);
    }
    if (config.only_family == Family::v4 && config.ipv4_unavailable) {
        return std::string("family=ipv4 contradicts ipv4=none: an IPv6-only network has no IPv4");
    }
    if (config.ipv6_unavailable && config.ipv4_unavailable) {
        return std::string("ipv6=none contradicts ipv4=none: a host needs one family to race");
    }
    if (config.only_family == Family::v6 && config.ipv6_unavailable) {
        return std::string("family=ipv6 contradicts ipv6=none: this host has no IPv6");
    }
    if (config.history_explore > 1000) {
        return "history-explore " + std::to_string(config.history_explore) +
               " is outside 0 … 1000 (races in 1000 that ignore the history, v3 §5.3)";
    }
    if (config.alias_limit < 1 || config.alias_limit > max_alias_limit) {
        return "alias-limit " + std::to_string(config.alias_limit) +
               " is outside 1 … 16 (RFC 9460 §3: alias chains must be bounded)";
    }
    if (!config.alt_svc.empty() && !config.https) {
        return std::string("alt-svc needs https=on: Alt-Svc alternatives race as services");
    }
    if (config.alt_svc.size() > 64) {
        return "alt-svc has " + std::to_string(config.alt_svc.size()) +
               " alternatives; at most 64 are taken";
    }
    for (std::size_t i = 0; i < config.alt_svc.size(); ++i) {
        if (config.alt_svc[i].alpn.empty() || config.alt_svc[i].port == 0) {
            return "alt-svc alternative " + std::to_string(i + 1) +
                   " needs an ALPN id and a port 1-65535";
        }
    }
    if (config.tcp_alpn.size() > max_tcp_alpn) {
        return "alpn has " + std::to_string(config.tcp_alpn.size()) + " ids; at most " +
               std::to_string(max_tcp_alpn) + " are taken";
    }
    for (std::size_t i = 0; i < config.tcp_alpn.size(); ++i) {
        const std::string& id = config.tcp_alpn[i];
        if (id.empty() || id.size() > 255) {
            return "alpn id " + std::to_string(i + 1) + " has " + std::to_string(id.size()) +
                   " bytes; an ALPN id has 1-255 (RFC 7301 §3.1)";
        }
        if (id == "h3" || id.compare(0, 3, "h3-") == 0) {
            return "alpn id " + std::to_string(i + 1) + " \"" + id +
                   "\" is HTTP/3, which runs over QUIC, not TCP: leave it out (quic=on "
                   "races h3)";
        }
    }
    if (config.quic_progress && !(config.https && config.quic)) {
        return std::string("quic-progress needs https=on and quic=on: only HTTPS records "
                           "give QUIC attempts");
    }
    if (config.quic_progress && !config.attempt_delay) {
        return std::string("quic-progress needs racing mode: sequential mode "
                           "(attempt-delay=none) has no attempt delay to halve");
    }
    if (config.ech != EchMode::off && !config.https) {
        return std::string("ech needs https=on: ECH configurations come from HTTPS records");
    }
    if (config.ech != EchMode::off && config.success != Success::handshake) {
        return std::string("ech needs success=tls: the machine says when a TLS handshake may "
                           "start (v3 §6.3)");
    }
    if (config.ech_fallback && config.ech != EchMode::opportunistic) {
        return std::string("ech-fallback=on needs ech=opportunistic (ech=required never races "
                           "an endpoint without ECH; ech=off has nothing to fall back from)");
    }
    if (config.dns_protected && !config.https) {
        return std::string("dns=protected needs https=on: it changes how HTTPS answers are "
                           "used (v3 §6.3)");
    }
    return std::nullopt;
}

}  // namespace eyeballs
