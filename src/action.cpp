// SPDX-License-Identifier: BSL-1.0
// eyeballs — one readable line per action, for tests and logs.
#include <ostream>
#include <string>
#include <type_traits>

#include "eyeballs/action.hpp"

namespace eyeballs {

const char* outcome_name(Outcome o) noexcept {
    switch (o) {
        case Outcome::connected: return "connected";
        case Outcome::failed: return "failed";
        case Outcome::cancelled: return "cancelled";
    }
    return "unknown";
}

const char* protocol_name(Protocol p) noexcept {
    switch (p) {
        case Protocol::tcp: return "tcp";
        case Protocol::quic: return "quic";
    }
    return "unknown";
}

const char* service_source_name(ServiceSource s) noexcept {
    switch (s) {
        case ServiceSource::none: return "none";
        case ServiceSource::https_record: return "https-record";
        case ServiceSource::alt_svc: return "alt-svc";
    }
    return "unknown";
}

namespace {

// " quic alpn=h3" for an HTTPS-driven endpoint (" tcp alpn=h2 alt-svc" for an
// Alt-Svc alternative's); nothing for a plain one.
std::string service_text(Protocol protocol, const Service* service) {
    if (service == nullptr && protocol == Protocol::tcp) return {};
    std::string s = " ";
    s += protocol_name(protocol);
    if (service != nullptr && !service->alpn.empty()) {
        s += " alpn=";
        for (std::size_t i = 0; i < service->alpn.size(); ++i) {
            if (i > 0) s += ',';
            s += service->alpn[i];
        }
    }
    if (service != nullptr && service->source == ServiceSource::alt_svc) s += " alt-svc";
    if (service != nullptr && service->ech) s += " ech";
    return s;
}

std::string id_text(AttemptId id) { return "#" + std::to_string(id.number()); }

}  // namespace

std::string port_prefix_labels(const Resolve& resolve) {
    if (!resolve.https || resolve.port_prefix == 0) return {};
    return "_" + std::to_string(resolve.port_prefix) + "._https";
}

std::string query_name(const Resolve& resolve, std::string_view host) {
    std::string base(resolve.name.empty() ? host : resolve.name);
    const std::string prefix = port_prefix_labels(resolve);
    if (prefix.empty()) return base;
    return prefix + "." + base;
}

std::string to_string(const Action& action) {
    return std::visit(
        [](const auto& a) -> std::string {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, Resolve>) {
                std::string s = std::string("resolve ") + (a.https ? "HTTPS" : record_name(a.family));
                if (a.port_prefix != 0) {
                    s += ' ';
                    s += port_prefix_labels(a);
                    s += a.name.empty() ? std::string(".(origin)") : "." + std::string(a.name);
                } else if (!a.name.empty()) {
                    s += ' ';
                    s += a.name;
                }
                return s;
            } else if constexpr (std::is_same_v<T, OpenSocket>) {
                return "open " + id_text(a.attempt) + " " + a.remote.to_string() +
                       service_text(a.protocol, a.service);
            } else if constexpr (std::is_same_v<T, Bind>) {
                return "bind " + id_text(a.attempt) + " " + a.local.to_string();
            } else if constexpr (std::is_same_v<T, Connect>) {
                std::string s = "connect " + id_text(a.attempt) + " " + a.remote.to_string();
                if (a.local) s += " from " + a.local->to_string();
                return s + service_text(a.protocol, a.service);
            } else if constexpr (std::is_same_v<T, Close>) {
                return "close " + id_text(a.attempt);
            } else if constexpr (std::is_same_v<T, CryptoReady>) {
                return "crypto-ready " + id_text(a.attempt) + (a.ech() != nullptr ? " ech" : "");
            } else {
                static_assert(std::is_same_v<T, Report>);
                std::string s = std::string("report ") + outcome_name(a.outcome);
                if (a.winner) s += " " + id_text(a.winner);
                if (a.remote) s += " " + a.remote->to_string();
                return s;
            }
        },
        action);
}

std::ostream& operator<<(std::ostream& os, const Action& action) {
    return os << to_string(action);
}

std::ostream& operator<<(std::ostream& os, AttemptId id) { return os << id_text(id); }

}  // namespace eyeballs
