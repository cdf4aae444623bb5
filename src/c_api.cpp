// SPDX-License-Identifier: BSL-1.0
// eyeballs — the C API (include/eyeballs/eyeballs.h) over RaceMachine.
//
// A thin translation layer: C values in, C++ values to the machine, C values
// out. Three rules hold at every entry point:
//   - no C++ exception crosses into C: each body runs inside guard(), which
//     turns std::bad_alloc into EYEBALLS_ERR_NO_MEMORY and anything else into
//     EYEBALLS_ERR_INTERNAL, with the message kept on the machine;
//   - every argument is checked before anything changes (NULL pointers,
//     families, enum values), so a rejected call leaves the machine as it was;
//   - pointers handed out point into storage the machine owns, with the
//     lifetime the header documents (the last error; the report snapshot).
#include "eyeballs/eyeballs.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/alt_svc.hpp"
#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/dns_cache.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/history.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/posix.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/sort.hpp"
#include "eyeballs/svcb.hpp"
#include "eyeballs/version.hpp"

struct eyeballs_machine {
    explicit eyeballs_machine(eyeballs::Config config) : machine(std::move(config)) {}

    eyeballs::RaceMachine machine;
    // The message of the latest failed call (eyeballs_machine_last_error).
    mutable std::string last_error;
    // The latest report snapshot and the texts its errors point into.
    std::optional<eyeballs::RaceReport> report;
    std::vector<std::string> error_messages;
    // The action most recently polled, for eyeballs_machine_action_v3 and
    // eyeballs_action_text, with copies of the texts and bytes it points to.
    std::optional<eyeballs::Action> last_action;
    std::string last_name;
    std::string last_target;
    std::vector<std::uint8_t> last_ech;
    std::string last_text;
    bool last_has_service = false;
    std::uint16_t last_service_port = 0;
    std::uint16_t last_service_priority = 0;
    eyeballs::ServiceSource last_service_source = eyeballs::ServiceSource::none;
    // The latest snapshot's ALPN lists, joined (eyeballs_machine_report_v3).
    std::string report_alpn;
    std::vector<std::string> attempt_alpn;
};

struct eyeballs_history {
    explicit eyeballs_history(std::size_t capacity) : history(capacity) {}
    eyeballs::History history;
};

struct eyeballs_dns_cache {
    eyeballs_dns_cache(std::size_t capacity, eyeballs::Duration max_stale)
        : cache(capacity, max_stale) {}
    eyeballs::DnsCache cache;
};

struct eyeballs_alt_svc_cache {
    explicit eyeballs_alt_svc_cache(std::size_t capacity) : cache(capacity) {}
    eyeballs::AltSvcCache cache;
};

namespace {

using eyeballs::Duration;
using eyeballs::Endpoint;
using eyeballs::Family;
using eyeballs::TimePoint;

// ---- small conversions -------------------------------------------------------

TimePoint to_time(std::int64_t ns) {
    return TimePoint(std::chrono::duration_cast<TimePoint::duration>(std::chrono::nanoseconds(ns)));
}

std::int64_t to_ns(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

bool valid_family(int family) { return family == EYEBALLS_FAMILY_V6 || family == EYEBALLS_FAMILY_V4; }

Family to_family(int family) { return family == EYEBALLS_FAMILY_V4 ? Family::v4 : Family::v6; }

int from_family(Family family) { return family == Family::v4 ? EYEBALLS_FAMILY_V4 : EYEBALLS_FAMILY_V6; }

// The caller has checked the family.
Endpoint to_endpoint(const eyeballs_endpoint& in) {
    if (in.family == EYEBALLS_FAMILY_V4) {
        std::array<std::uint8_t, 4> bytes{};
        std::memcpy(bytes.data(), in.address, bytes.size());
        return Endpoint::v4(bytes, in.port);
    }
    std::array<std::uint8_t, 16> bytes{};
    std::memcpy(bytes.data(), in.address, bytes.size());
    return Endpoint::v6(bytes, in.port, in.scope_id);
}

eyeballs_endpoint from_endpoint(const Endpoint& in) {
    eyeballs_endpoint out;
    std::memset(&out, 0, sizeof out);
    out.family = from_family(in.family());
    out.port = in.port();
    out.scope_id = in.scope_id();
    std::memcpy(out.address, in.bytes().data(), in.is_v4() ? 4 : 16);
    return out;
}

// Checks a C array of endpoints; on failure says which one is wrong.
std::optional<std::string> check_endpoints(const eyeballs_endpoint* eps, std::size_t count,
                                           const char* what) {
    if (eps == nullptr && count > 0) return std::string(what) + " is NULL but its count is not 0";
    for (std::size_t i = 0; i < count; ++i) {
        if (!valid_family(eps[i].family)) {
            return std::string(what) + "[" + std::to_string(i) + "] has family " +
                   std::to_string(eps[i].family) +
                   ", neither EYEBALLS_FAMILY_V6 (0) nor EYEBALLS_FAMILY_V4 (1)";
        }
    }
    return std::nullopt;
}

std::vector<Endpoint> to_endpoints(const eyeballs_endpoint* eps, std::size_t count) {
    std::vector<Endpoint> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) out.push_back(to_endpoint(eps[i]));
    return out;
}

// snprintf-like copy: writes at most `size` bytes, NUL-terminated when size > 0,
// never cutting a UTF-8 sequence in two; returns the full length.
std::size_t copy_text(std::string_view text, char* buffer, std::size_t size) {
    if (buffer != nullptr && size > 0) {
        std::size_t n = text.size() < size - 1 ? text.size() : size - 1;
        if (n < text.size()) {
            // Back off to the start of a code point (continuation bytes are 10xxxxxx).
            while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0u) == 0x80u) --n;
        }
        std::memcpy(buffer, text.data(), n);
        buffer[n] = '\0';
    }
    return text.size();
}

std::string_view network_name(const char* network) {
    return network != nullptr ? std::string_view(network) : std::string_view();
}

bool usable(const eyeballs_endpoint* address) {
    return address != nullptr && valid_family(address->family);
}

// ---- error plumbing ----------------------------------------------------------

eyeballs_status fail(const eyeballs_machine* m, eyeballs_status status, std::string message) {
    if (m != nullptr) {
        try {
            m->last_error = std::move(message);
        } catch (...) {
            m->last_error.clear();  // keep the old buffer's promise: a valid string
        }
    }
    return status;
}

// Runs `body` (which returns an eyeballs_status) and turns exceptions into codes.
template <typename Body>
eyeballs_status guard(const eyeballs_machine* m, Body&& body) noexcept {
    try {
        return body();
    } catch (const std::bad_alloc&) {
        return fail(m, EYEBALLS_ERR_NO_MEMORY, "out of memory");
    } catch (const std::exception& e) {
        return fail(m, EYEBALLS_ERR_INTERNAL, std::string("internal error: ") + e.what());
    } catch (...) {
        return fail(m, EYEBALLS_ERR_INTERNAL, "internal error: unknown exception");
    }
}

eyeballs_status null_machine() { return EYEBALLS_ERR_ARGUMENT; }

// ---- configuration -----------------------------------------------------------

std::optional<Duration> optional_duration(std::int64_t ns) {
    if (ns == EYEBALLS_NONE) return std::nullopt;
    return Duration(ns);
}

// A Pref64 as RFC 6052 §2.2 wants it, or a message saying what is wrong.
std::optional<std::string> to_pref64(const eyeballs_pref64& in, eyeballs::Pref64& out) {
    if (!eyeballs::is_valid_pref64_length(in.length)) {
        return "pref64 length " + std::to_string(in.length) +
               " is not one of 32, 40, 48, 56, 64, 96 (RFC 6052 §2.2)";
    }
    for (unsigned bit = in.length; bit < 128; ++bit) {
        if ((in.prefix[bit / 8] >> (7 - bit % 8)) & 1u) {
            return "pref64 has bits set past its length " + std::to_string(in.length);
        }
    }
    if (in.prefix[8] != 0) return "pref64 has a non-zero u octet (bits 64-71, RFC 6052 §2.2)";
    std::memcpy(out.prefix.data(), in.prefix, out.prefix.size());
    out.length = in.length;
    return std::nullopt;
}

// The C source lookup as the C++ one; the C struct starts at SourceInfo's defaults.
eyeballs::SourceLookup to_source_lookup(eyeballs_source_lookup fn, void* data) {
    return [fn, data](const Endpoint& destination) -> std::optional<eyeballs::SourceInfo> {
        const eyeballs::SourceInfo defaults;
        eyeballs_source_info info;
        std::memset(&info, 0, sizeof info);
        info.home = defaults.home ? 1 : 0;
        info.native = defaults.native ? 1 : 0;
        const eyeballs_endpoint d = from_endpoint(destination);
        if (fn(data, &d, &info) == 0) return std::nullopt;
        eyeballs::SourceInfo out;
        if (info.has_source && valid_family(info.source.family)) out.source = to_endpoint(info.source);
        out.deprecated = info.deprecated != 0;
        out.home = info.home != 0;
        out.care_of = info.care_of != 0;
        out.native = info.native != 0;
        if (info.has_prefix_length) out.prefix_length = info.prefix_length;
        return out;
    };
}

// Converts a C configuration; returns a message for what cannot be converted.
// The rules of the values themselves are eyeballs::validate()'s.
std::optional<std::string> to_config(const eyeballs_config& in, eyeballs::Config& out) {
    if (in.interleave != EYEBALLS_INTERLEAVE_AUTO && in.interleave != EYEBALLS_INTERLEAVE_OFF &&
        in.interleave != EYEBALLS_INTERLEAVE_ON) {
        return "interleave is " + std::to_string(in.interleave) +
               ", not EYEBALLS_INTERLEAVE_AUTO (-1), _OFF (0) or _ON (1)";
    }
    if (in.sort != EYEBALLS_SORT_AUTO && in.sort != EYEBALLS_SORT_OFF &&
        in.sort != EYEBALLS_SORT_RFC6724) {
        return "sort is " + std::to_string(in.sort) +
               ", not EYEBALLS_SORT_AUTO (0), _OFF (1) or _RFC6724 (2)";
    }
    if (auto problem = check_endpoints(in.local, in.local_count, "local")) return problem;
    if (in.has_pref64) {
        eyeballs::Pref64 p;
        if (auto problem = to_pref64(in.pref64, p)) return problem;
        out.pref64 = p;
    }
    out.attempt_delay = optional_duration(in.attempt_delay_ns);
    out.resolution_delay = Duration(in.resolution_delay_ns);
    out.min_start_gap = Duration(in.min_start_gap_ns);
    out.attempt_timeout = optional_duration(in.attempt_timeout_ns);
    out.overall_timeout = optional_duration(in.overall_timeout_ns);
    out.family_count = in.family_count;
    if (in.interleave == EYEBALLS_INTERLEAVE_AUTO) {
        out.interleave.reset();
    } else {
        out.interleave = in.interleave == EYEBALLS_INTERLEAVE_ON;
    }
    out.local = to_endpoints(in.local, in.local_count);
    out.sort = in.sort == EYEBALLS_SORT_OFF       ? eyeballs::SortMode::off
               : in.sort == EYEBALLS_SORT_RFC6724 ? eyeballs::SortMode::rfc6724
                                                  : eyeballs::SortMode::automatic;
    if (in.source_lookup != nullptr) {
        out.source_info = to_source_lookup(in.source_lookup, in.source_lookup_data);
    }
    out.auto_attempt_delay = in.auto_attempt_delay != 0;
    out.min_attempt_delay = Duration(in.min_attempt_delay_ns);
    out.max_attempt_delay = Duration(in.max_attempt_delay_ns);
    out.delay_multiplier = in.delay_multiplier;
    out.history = in.history != nullptr ? &in.history->history : nullptr;
    out.network = in.network != nullptr ? in.network : "";
    out.ipv4_unavailable = in.ipv4_unavailable != 0;
    out.ipv6_unavailable = in.ipv6_unavailable != 0;
    out.history_explore = in.history_explore;
    out.shuffle_seed = in.shuffle_seed;
    out.max_endpoints = in.max_endpoints;
    out.max_in_flight = in.max_in_flight;
    switch (in.only_family) {
        case EYEBALLS_ONLY_ANY: out.only_family = std::nullopt; break;
        case EYEBALLS_ONLY_V4: out.only_family = Family::v4; break;
        case EYEBALLS_ONLY_V6: out.only_family = Family::v6; break;
        default:
            return "only_family " + std::to_string(in.only_family) +
                   " is not EYEBALLS_ONLY_ANY, EYEBALLS_ONLY_V4 or EYEBALLS_ONLY_V6";
    }
    switch (in.duplicates) {
        case EYEBALLS_DUPLICATES_DROP: out.duplicates = eyeballs::Duplicates::drop; break;
        case EYEBALLS_DUPLICATES_KEEP: out.duplicates = eyeballs::Duplicates::keep; break;
        default:
            return "duplicates " + std::to_string(in.duplicates) +
                   " is not EYEBALLS_DUPLICATES_DROP or EYEBALLS_DUPLICATES_KEEP";
    }
    // ---- v3 (appended fields; zero keeps the defaults) ----
    out.https = in.https != 0;
    if (in.port > 65535) {
        return "port " + std::to_string(in.port) + " is outside 1-65535 (0 means 443)";
    }
    out.port = in.port == 0 ? std::uint16_t{443} : static_cast<std::uint16_t>(in.port);
    out.quic = in.quic != 0;
    if (in.alias_limit != 0) out.alias_limit = in.alias_limit;
    switch (in.success) {
        case EYEBALLS_SUCCESS_CONNECT: out.success = eyeballs::Success::connect; break;
        case EYEBALLS_SUCCESS_HANDSHAKE: out.success = eyeballs::Success::handshake; break;
        default:
            return "success " + std::to_string(in.success) +
                   " is not EYEBALLS_SUCCESS_CONNECT (0) or EYEBALLS_SUCCESS_HANDSHAKE (1)";
    }
    out.quic_progress = in.quic_progress != 0;
    switch (in.ech) {
        case EYEBALLS_ECH_OFF: out.ech = eyeballs::EchMode::off; break;
        case EYEBALLS_ECH_OPPORTUNISTIC: out.ech = eyeballs::EchMode::opportunistic; break;
        case EYEBALLS_ECH_REQUIRED: out.ech = eyeballs::EchMode::required; break;
        default:
            return "ech " + std::to_string(in.ech) +
                   " is not EYEBALLS_ECH_OFF (0), _OPPORTUNISTIC (1) or _REQUIRED (2)";
    }
    out.ech_fallback = in.ech_fallback != 0;
    out.dns_protected = in.dns_protected != 0;
    if (in.alt_svc != nullptr && in.alt_svc[0] != '\0') {
        std::string error;
        std::optional<eyeballs::AltSvcValue> value = eyeballs::parse_alt_svc(in.alt_svc, &error);
        if (!value) return "alt_svc: " + error;
        if (!value->clear) out.alt_svc = std::move(value->alternatives);
    }
    if (in.tcp_alpn != nullptr && in.tcp_alpn[0] != '\0') {
        // Split on commas; an empty id stays for validate() to name.
        const std::string_view list(in.tcp_alpn);
        out.tcp_alpn.clear();
        std::size_t from = 0;
        for (;;) {
            const std::size_t comma = list.find(',', from);
            out.tcp_alpn.emplace_back(
                list.substr(from, comma == std::string_view::npos ? std::string_view::npos : comma - from));
            if (comma == std::string_view::npos) break;
            from = comma + 1;
        }
    }
    return std::nullopt;
}

// ---- actions -------------------------------------------------------------------

eyeballs_action from_action(const eyeballs::Action& action) {
    eyeballs_action out;
    std::memset(&out, 0, sizeof out);
    std::visit(
        [&out](const auto& a) {
            using T = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<T, eyeballs::Resolve>) {
                out.kind = EYEBALLS_ACTION_RESOLVE;
                out.family = from_family(a.family);
            } else if constexpr (std::is_same_v<T, eyeballs::OpenSocket>) {
                out.kind = EYEBALLS_ACTION_OPEN_SOCKET;
                out.attempt = a.attempt.number();
                out.family = from_family(a.remote.family());
                out.has_remote = 1;
                out.remote = from_endpoint(a.remote);
            } else if constexpr (std::is_same_v<T, eyeballs::Bind>) {
                out.kind = EYEBALLS_ACTION_BIND;
                out.attempt = a.attempt.number();
                out.has_local = 1;
                out.local = from_endpoint(a.local);
            } else if constexpr (std::is_same_v<T, eyeballs::Connect>) {
                out.kind = EYEBALLS_ACTION_CONNECT;
                out.attempt = a.attempt.number();
                out.family = from_family(a.remote.family());
                out.has_remote = 1;
                out.remote = from_endpoint(a.remote);
                if (a.local) {
                    out.has_local = 1;
                    out.local = from_endpoint(*a.local);
                }
            } else if constexpr (std::is_same_v<T, eyeballs::Close>) {
                out.kind = EYEBALLS_ACTION_CLOSE;
                out.attempt = a.attempt.number();
            } else if constexpr (std::is_same_v<T, eyeballs::CryptoReady>) {
                out.kind = EYEBALLS_ACTION_CRYPTO_READY;
                out.attempt = a.attempt.number();
            } else {
                static_assert(std::is_same_v<T, eyeballs::Report>);
                out.kind = EYEBALLS_ACTION_REPORT;
                out.outcome = static_cast<int>(a.outcome);
                out.attempt = a.winner.number();
                if (a.remote) {
                    out.family = from_family(a.remote->family());
                    out.has_remote = 1;
                    out.remote = from_endpoint(*a.remote);
                }
            }
        },
        action);
    return out;
}

// The C action as a C++ one, for printing; nullopt when it is malformed.
std::optional<eyeballs::Action> to_action(const eyeballs_action& a) {
    const eyeballs::AttemptId id(a.attempt);
    auto remote_ok = [&a] { return a.has_remote && valid_family(a.remote.family); };
    auto local_ok = [&a] { return a.has_local && valid_family(a.local.family); };
    switch (a.kind) {
        case EYEBALLS_ACTION_RESOLVE:
            if (!valid_family(a.family)) return std::nullopt;
            return eyeballs::Resolve{to_family(a.family)};
        case EYEBALLS_ACTION_OPEN_SOCKET:
            if (!remote_ok()) return std::nullopt;
            return eyeballs::OpenSocket{id, to_endpoint(a.remote)};
        case EYEBALLS_ACTION_BIND:
            if (!local_ok()) return std::nullopt;
            return eyeballs::Bind{id, to_endpoint(a.local)};
        case EYEBALLS_ACTION_CONNECT: {
            if (!remote_ok() || (a.has_local && !local_ok())) return std::nullopt;
            eyeballs::Connect c{id, to_endpoint(a.remote), std::nullopt};
            if (a.has_local) c.local = to_endpoint(a.local);
            return c;
        }
        case EYEBALLS_ACTION_CLOSE:
            return eyeballs::Close{id};
        case EYEBALLS_ACTION_CRYPTO_READY:
            return eyeballs::CryptoReady{id, nullptr};
        case EYEBALLS_ACTION_REPORT: {
            if (a.outcome < EYEBALLS_OUTCOME_CONNECTED || a.outcome > EYEBALLS_OUTCOME_CANCELLED) {
                return std::nullopt;
            }
            if (a.has_remote && !valid_family(a.remote.family)) return std::nullopt;
            eyeballs::Report r;
            r.outcome = static_cast<eyeballs::Outcome>(a.outcome);
            r.winner = id;
            if (a.has_remote) r.remote = to_endpoint(a.remote);
            return r;
        }
        default:
            return std::nullopt;
    }
}

static_assert(static_cast<int>(eyeballs::Outcome::connected) == EYEBALLS_OUTCOME_CONNECTED);
static_assert(static_cast<int>(eyeballs::Outcome::failed) == EYEBALLS_OUTCOME_FAILED);
static_assert(static_cast<int>(eyeballs::Outcome::cancelled) == EYEBALLS_OUTCOME_CANCELLED);
static_assert(static_cast<int>(eyeballs::Stage::resolve) == EYEBALLS_STAGE_RESOLVE);
static_assert(static_cast<int>(eyeballs::Stage::open) == EYEBALLS_STAGE_OPEN);
static_assert(static_cast<int>(eyeballs::Stage::bind) == EYEBALLS_STAGE_BIND);
static_assert(static_cast<int>(eyeballs::Stage::connect) == EYEBALLS_STAGE_CONNECT);
static_assert(static_cast<int>(eyeballs::Stage::timeout) == EYEBALLS_STAGE_TIMEOUT);
static_assert(static_cast<int>(eyeballs::Stage::tls) == EYEBALLS_STAGE_TLS);
static_assert(static_cast<int>(eyeballs::AttemptRecord::State::in_flight) == EYEBALLS_ATTEMPT_IN_FLIGHT);
static_assert(static_cast<int>(eyeballs::AttemptRecord::State::connected) == EYEBALLS_ATTEMPT_CONNECTED);
static_assert(static_cast<int>(eyeballs::AttemptRecord::State::failed) == EYEBALLS_ATTEMPT_FAILED);
static_assert(static_cast<int>(eyeballs::AttemptRecord::State::closed) == EYEBALLS_ATTEMPT_CLOSED);

// An input's InputStatus as a C status: accepted and late (normal in an event
// loop) are EYEBALLS_OK; a misuse is EYEBALLS_ERR_STATE, naming the input.
eyeballs_status input_status(const eyeballs_machine* m, eyeballs::InputStatus s,
                             std::string_view input, std::string_view what) {
    if (!eyeballs::is_misuse(s)) return EYEBALLS_OK;
    std::string message(input);
    message += ": ";
    message += what;
    message += s == eyeballs::InputStatus::unknown_attempt
                   ? " was never issued by this machine (unknown_attempt)"
                   : " is not waiting for this input (out_of_order)";
    return fail(m, EYEBALLS_ERR_STATE, std::move(message));
}

std::string attempt_name(uint32_t attempt) { return "attempt " + std::to_string(attempt); }

std::string family_answer(int family) {
    return family == EYEBALLS_FAMILY_V6 ? "the AAAA query (family v6)" : "the A query (family v4)";
}

// The common shape of every input: check the machine, feed, map its InputStatus.
template <typename Feed>
eyeballs_status feed_input(eyeballs_machine* m, std::string_view input, const std::string& what,
                           Feed&& body) noexcept {
    if (m == nullptr) return null_machine();
    return guard(m, [&] { return input_status(m, body(m->machine), input, what); });
}

std::string join_alpn(const std::vector<std::string>& ids) {
    std::string out;
    for (const std::string& id : ids) {
        if (!out.empty()) out += ',';
        out += id;
    }
    return out;
}

eyeballs_status bad_family(eyeballs_machine* m, int family) {
    return fail(m, EYEBALLS_ERR_ARGUMENT,
                "family is " + std::to_string(family) +
                    ", neither EYEBALLS_FAMILY_V6 (0) nor EYEBALLS_FAMILY_V4 (1)");
}

}  // namespace

extern "C" {

// ---- configuration and lifetime ------------------------------------------------

void eyeballs_config_init(eyeballs_config* config) {
    if (config == nullptr) return;
    std::memset(config, 0, sizeof *config);
    const eyeballs::Config defaults;
    config->attempt_delay_ns = defaults.attempt_delay ? defaults.attempt_delay->count() : EYEBALLS_NONE;
    config->resolution_delay_ns = defaults.resolution_delay.count();
    config->min_start_gap_ns = defaults.min_start_gap.count();
    config->attempt_timeout_ns = EYEBALLS_NONE;
    config->overall_timeout_ns = EYEBALLS_NONE;
    config->family_count = defaults.family_count;
    config->interleave = EYEBALLS_INTERLEAVE_AUTO;
    config->local = nullptr;
    config->local_count = 0;
    config->sort = EYEBALLS_SORT_AUTO;
    config->source_lookup = nullptr;
    config->source_lookup_data = nullptr;
    config->auto_attempt_delay = defaults.auto_attempt_delay ? 1 : 0;
    config->min_attempt_delay_ns = defaults.min_attempt_delay.count();
    config->max_attempt_delay_ns = defaults.max_attempt_delay.count();
    config->delay_multiplier = defaults.delay_multiplier;
    config->history = nullptr;
    config->network = nullptr;
    config->ipv4_unavailable = defaults.ipv4_unavailable ? 1 : 0;
    config->has_pref64 = 0;
    config->max_endpoints = defaults.max_endpoints;
    config->max_in_flight = defaults.max_in_flight;
    config->only_family = EYEBALLS_ONLY_ANY;
    config->ipv6_unavailable = defaults.ipv6_unavailable ? 1 : 0;
    config->history_explore = defaults.history_explore;
    config->shuffle_seed = defaults.shuffle_seed;
    config->duplicates = EYEBALLS_DUPLICATES_DROP;
}

eyeballs_status eyeballs_machine_new(const eyeballs_config* config, eyeballs_machine** out,
                                     char* message, size_t message_size) {
    copy_text("", message, message_size);
    if (out == nullptr) {
        copy_text("out is NULL", message, message_size);
        return EYEBALLS_ERR_ARGUMENT;
    }
    *out = nullptr;
    try {
        eyeballs::Config cfg;
        if (config != nullptr) {
            if (auto problem = to_config(*config, cfg)) {
                copy_text(*problem, message, message_size);
                return EYEBALLS_ERR_ARGUMENT;
            }
        }
        if (auto problem = eyeballs::validate(cfg)) {
            copy_text(*problem, message, message_size);
            return EYEBALLS_ERR_CONFIG;
        }
        *out = new eyeballs_machine(std::move(cfg));
        return EYEBALLS_OK;
    } catch (const std::bad_alloc&) {
        copy_text("out of memory", message, message_size);
        return EYEBALLS_ERR_NO_MEMORY;
    } catch (const std::exception& e) {
        copy_text(std::string("internal error: ") + e.what(), message, message_size);
        return EYEBALLS_ERR_INTERNAL;
    } catch (...) {
        copy_text("internal error: unknown exception", message, message_size);
        return EYEBALLS_ERR_INTERNAL;
    }
}

void eyeballs_machine_free(eyeballs_machine* machine) { delete machine; }

const char* eyeballs_machine_last_error(const eyeballs_machine* machine) {
    return machine == nullptr ? "" : machine->last_error.c_str();
}

// ---- commands --------------------------------------------------------------------

eyeballs_status eyeballs_machine_start(eyeballs_machine* m, int64_t now_ns,
                                       const eyeballs_endpoint* remotes, size_t count) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (m->machine.started()) {
            return fail(m, EYEBALLS_ERR_STATE,
                        m->machine.finished() ? "the race has already finished"
                                              : "the race has already started");
        }
        if (auto problem = check_endpoints(remotes, count, "remotes")) {
            return fail(m, EYEBALLS_ERR_ARGUMENT, *problem);
        }
        const std::vector<Endpoint> eps = to_endpoints(remotes, count);
        eyeballs::Status s = m->machine.start(to_time(now_ns), eps);
        if (!s) return fail(m, EYEBALLS_ERR_ARGUMENT, s.message());
        return EYEBALLS_OK;
    });
}

eyeballs_status eyeballs_machine_start_resolving(eyeballs_machine* m, int64_t now_ns) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        eyeballs::Status s = m->machine.start_resolving(to_time(now_ns));
        if (!s) {
            return fail(m, m->machine.started() ? EYEBALLS_ERR_STATE : EYEBALLS_ERR_CONFIG,
                        s.message());
        }
        return EYEBALLS_OK;
    });
}

eyeballs_status eyeballs_machine_cancel(eyeballs_machine* m, int64_t now_ns) {
    return feed_input(m, "eyeballs_machine_cancel", "the race",
                      [&](eyeballs::RaceMachine& rm) { return rm.cancel(to_time(now_ns)); });
}

// ---- inputs ------------------------------------------------------------------------

eyeballs_status eyeballs_machine_handle_resolved(eyeballs_machine* m, int64_t now_ns, int family,
                                                 const eyeballs_endpoint* addresses, size_t count) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (!valid_family(family)) return bad_family(m, family);
        if (auto problem = check_endpoints(addresses, count, "addresses")) {
            return fail(m, EYEBALLS_ERR_ARGUMENT, *problem);
        }
        const std::vector<Endpoint> eps = to_endpoints(addresses, count);
        return input_status(m, m->machine.handle_resolved(to_time(now_ns), to_family(family), eps),
                            "eyeballs_machine_handle_resolved", family_answer(family));
    });
}

eyeballs_status eyeballs_machine_handle_resolve_failed(eyeballs_machine* m, int64_t now_ns,
                                                       int family, int code, const char* detail) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (!valid_family(family)) return bad_family(m, family);
        const eyeballs::InputStatus s = m->machine.handle_resolve_failed(
            to_time(now_ns), to_family(family), code,
            detail != nullptr ? std::string_view(detail) : std::string_view());
        return input_status(m, s, "eyeballs_machine_handle_resolve_failed", family_answer(family));
    });
}

eyeballs_status eyeballs_machine_handle_opened(eyeballs_machine* m, int64_t now_ns,
                                               uint32_t attempt, int code) {
    const eyeballs::AttemptId id(attempt);
    const auto body = [&](eyeballs::RaceMachine& rm) {
        return rm.handle_opened(to_time(now_ns), id, code);
    };
    return feed_input(m, "eyeballs_machine_handle_opened", attempt_name(attempt), body);
}

eyeballs_status eyeballs_machine_handle_bound(eyeballs_machine* m, int64_t now_ns,
                                              uint32_t attempt, int code) {
    const eyeballs::AttemptId id(attempt);
    const auto body = [&](eyeballs::RaceMachine& rm) {
        return rm.handle_bound(to_time(now_ns), id, code);
    };
    return feed_input(m, "eyeballs_machine_handle_bound", attempt_name(attempt), body);
}

eyeballs_status eyeballs_machine_handle_connected(eyeballs_machine* m, int64_t now_ns,
                                                  uint32_t attempt) {
    const eyeballs::AttemptId id(attempt);
    const auto body = [&](eyeballs::RaceMachine& rm) {
        return rm.handle_connected(to_time(now_ns), id);
    };
    return feed_input(m, "eyeballs_machine_handle_connected", attempt_name(attempt), body);
}

eyeballs_status eyeballs_machine_handle_connect_failed(eyeballs_machine* m, int64_t now_ns,
                                                       uint32_t attempt, int code) {
    const eyeballs::AttemptId id(attempt);
    const auto body = [&](eyeballs::RaceMachine& rm) {
        return rm.handle_connect_failed(to_time(now_ns), id, code);
    };
    return feed_input(m, "eyeballs_machine_handle_connect_failed", attempt_name(attempt), body);
}

eyeballs_status eyeballs_machine_handle_timeout(eyeballs_machine* m, int64_t now_ns) {
    return feed_input(m, "eyeballs_machine_handle_timeout", "the race (not started)",
                      [&](eyeballs::RaceMachine& rm) {
                          return rm.handle_timeout(to_time(now_ns));
                      });
}

// ---- outputs -------------------------------------------------------------------------

int eyeballs_machine_poll_action(eyeballs_machine* m, eyeballs_action* action) {
    if (m == nullptr || action == nullptr) return 0;
    try {
        std::optional<eyeballs::Action> next = m->machine.poll_action();
        if (!next) return 0;
        *action = from_action(*next);
        // Keep it for eyeballs_machine_action_v3 / eyeballs_action_text, with
        // copies of what it points to (the machine may reuse that storage).
        m->last_name.clear();
        m->last_target.clear();
        m->last_ech.clear();
        if (const auto* r = std::get_if<eyeballs::Resolve>(&*next)) m->last_name = r->name;
        const eyeballs::Service* service = nullptr;
        if (const auto* o = std::get_if<eyeballs::OpenSocket>(&*next)) service = o->service;
        if (const auto* c = std::get_if<eyeballs::Connect>(&*next)) service = c->service;
        if (const auto* c = std::get_if<eyeballs::CryptoReady>(&*next)) service = c->service;
        if (const auto* r = std::get_if<eyeballs::Report>(&*next)) service = r->service;
        m->last_has_service = service != nullptr;
        if (service != nullptr) {
            m->last_target = service->target;
            m->last_service_port = service->port;
            m->last_service_priority = service->priority;
            m->last_service_source = service->source;
            if (service->ech) m->last_ech = *service->ech;
        }
        // Printed now: the action's Service may not outlive the next input.
        m->last_text = eyeballs::to_string(*next);
        m->last_action = std::move(next);
        return 1;
    } catch (const std::bad_alloc&) {
        fail(m, EYEBALLS_ERR_NO_MEMORY, "out of memory");
    } catch (...) {
        fail(m, EYEBALLS_ERR_INTERNAL, "internal error while polling an action");
    }
    return 0;
}

int eyeballs_machine_next_timeout(const eyeballs_machine* m, int64_t* deadline_ns) {
    if (m == nullptr || deadline_ns == nullptr) return 0;
    const std::optional<TimePoint> at = m->machine.next_timeout();
    if (!at) return 0;
    *deadline_ns = to_ns(*at);
    return 1;
}

// ---- getters ---------------------------------------------------------------------------

int eyeballs_machine_started(const eyeballs_machine* m) {
    return m != nullptr && m->machine.started() ? 1 : 0;
}

int eyeballs_machine_finished(const eyeballs_machine* m) {
    return m != nullptr && m->machine.finished() ? 1 : 0;
}

uint32_t eyeballs_machine_attempts_started(const eyeballs_machine* m) {
    return m == nullptr ? 0 : m->machine.attempts_started();
}

uint32_t eyeballs_machine_attempts_in_flight(const eyeballs_machine* m) {
    return m == nullptr ? 0 : m->machine.attempts_in_flight();
}

size_t eyeballs_machine_candidates_left(const eyeballs_machine* m) {
    return m == nullptr ? 0 : m->machine.candidates_left();
}

// ---- report ------------------------------------------------------------------------------

eyeballs_status eyeballs_machine_report(eyeballs_machine* m, eyeballs_report* report) {
    if (m == nullptr) return null_machine();
    if (report == nullptr) return fail(m, EYEBALLS_ERR_ARGUMENT, "report is NULL");
    return guard(m, [&] {
        eyeballs::RaceReport r = m->machine.report();
        std::vector<std::string> messages;
        messages.reserve(r.errors.size());
        for (const eyeballs::Error& e : r.errors) messages.push_back(e.message());
        std::string report_alpn = join_alpn(r.alpn);
        std::vector<std::string> attempt_alpn;
        attempt_alpn.reserve(r.attempts.size());
        for (const eyeballs::AttemptRecord& a : r.attempts) attempt_alpn.push_back(join_alpn(a.alpn));
        // Commit only once everything is built: a failure leaves the old snapshot.
        m->report = std::move(r);
        m->error_messages = std::move(messages);
        m->report_alpn = std::move(report_alpn);
        m->attempt_alpn = std::move(attempt_alpn);

        const eyeballs::RaceReport& s = *m->report;
        eyeballs_report out;
        std::memset(&out, 0, sizeof out);
        out.finished = m->machine.finished() ? 1 : 0;
        out.outcome = static_cast<int>(s.outcome);
        out.winner = s.winner.number();
        if (s.remote) {
            out.has_remote = 1;
            out.remote = from_endpoint(*s.remote);
        }
        if (s.local) {
            out.has_local = 1;
            out.local = from_endpoint(*s.local);
        }
        out.code = s.code;
        out.message = s.message.c_str();
        out.overall_timeout = s.overall_timeout ? 1 : 0;
        out.error_count = s.errors.size();
        out.attempt_count = s.attempts.size();
        out.started_ns = to_ns(s.started);
        out.finished_ns = to_ns(s.finished);
        out.dropped = s.dropped;
        *report = out;
        return EYEBALLS_OK;
    });
}

namespace {

// The checks shared by the report's indexed accessors: an output pointer, a
// snapshot, an index inside it. EYEBALLS_OK (0) when all hold.
eyeballs_status check_report_entry(const eyeballs_machine* m, const void* out, const char* what,
                                   size_t index, size_t size) {
    if (out == nullptr) return fail(m, EYEBALLS_ERR_ARGUMENT, std::string(what) + " is NULL");
    if (!m->report) {
        return fail(m, EYEBALLS_ERR_STATE,
                    "no report snapshot yet: call eyeballs_machine_report() first");
    }
    if (index >= size) {
        return fail(m, EYEBALLS_ERR_ARGUMENT,
                    std::string(what) + " index " + std::to_string(index) +
                        " is past the end (" + std::to_string(size) + " " + what + "s)");
    }
    return EYEBALLS_OK;
}

}  // namespace

eyeballs_status eyeballs_machine_report_error(const eyeballs_machine* m, size_t index,
                                              eyeballs_error* error) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (eyeballs_status bad = check_report_entry(m, error, "error", index,
                                                     m->report ? m->report->errors.size() : 0)) {
            return bad;
        }
        const eyeballs::Error& e = m->report->errors[index];
        eyeballs_error out;
        std::memset(&out, 0, sizeof out);
        out.stage = static_cast<int>(e.stage);
        out.attempt = e.attempt;
        if (e.family) {
            out.has_family = 1;
            out.family = from_family(*e.family);
        }
        if (e.remote) {
            out.has_remote = 1;
            out.remote = from_endpoint(*e.remote);
        }
        if (e.local) {
            out.has_local = 1;
            out.local = from_endpoint(*e.local);
        }
        out.code = e.code;
        out.errno_name = e.code != 0 ? eyeballs::errno_name(e.code) : nullptr;
        out.detail = e.detail.c_str();
        out.message = m->error_messages[index].c_str();
        out.dns = eyeballs::dns_error_name(e.dns);
        *error = out;
        return EYEBALLS_OK;
    });
}

eyeballs_status eyeballs_machine_report_attempt(const eyeballs_machine* m, size_t index,
                                                eyeballs_attempt* attempt) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (eyeballs_status bad = check_report_entry(m, attempt, "attempt", index,
                                                     m->report ? m->report->attempts.size() : 0)) {
            return bad;
        }
        const eyeballs::AttemptRecord& a = m->report->attempts[index];
        eyeballs_attempt out;
        std::memset(&out, 0, sizeof out);
        out.attempt = a.id.number();
        out.state = static_cast<int>(a.state);
        out.remote = from_endpoint(a.remote);
        if (a.local) {
            out.has_local = 1;
            out.local = from_endpoint(*a.local);
        }
        out.started_ns = to_ns(a.started);
        if (a.ended) {
            out.has_ended = 1;
            out.ended_ns = to_ns(*a.ended);
        }
        *attempt = out;
        return EYEBALLS_OK;
    });
}

eyeballs_status eyeballs_machine_report_metrics(const eyeballs_machine* m,
                                                eyeballs_metrics* metrics) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (metrics == nullptr) return fail(m, EYEBALLS_ERR_ARGUMENT, "metrics is NULL");
        if (!m->report) {
            return fail(m, EYEBALLS_ERR_STATE,
                        "no report snapshot yet: call eyeballs_machine_report() first");
        }
        const eyeballs::RaceMetrics& in = m->report->metrics;
        auto ns = [](const std::optional<Duration>& d) -> std::int64_t {
            return d ? std::chrono::duration_cast<std::chrono::nanoseconds>(*d).count() : -1;
        };
        eyeballs_metrics out;
        std::memset(&out, 0, sizeof out);
        out.dns_aaaa_ns = ns(in.dns_aaaa);
        out.dns_a_ns = ns(in.dns_a);
        out.dns_https_ns = ns(in.dns_https);
        out.dns_queries = in.dns_queries;
        out.dns_max_ns = ns(in.dns_max);
        out.attempts_started = in.attempts_started;
        if (in.winner_family) {
            out.has_winner = 1;
            out.winner_family = from_family(*in.winner_family);
            out.winner_protocol = in.winner_protocol == eyeballs::Protocol::quic ? 1 : 0;
        }
        out.time_to_connect_ns = ns(in.time_to_connect);
        for (std::size_t i = 0; i < 6; ++i) out.errors_by_stage[i] = in.errors_by_stage[i];
        out.duplicates_dropped = in.duplicates_dropped;
        out.duration_ns = ns(in.duration);
        *metrics = out;
        return EYEBALLS_OK;
    });
}

// ---- endpoints ------------------------------------------------------------------------------

namespace {

eyeballs_status parse_endpoint_text(const char* text, uint16_t default_port,
                                    const eyeballs::ZoneLookup& zones, eyeballs_endpoint* out,
                                    char* message, size_t message_size) {
    copy_text("", message, message_size);
    if (text == nullptr || out == nullptr) {
        copy_text(text == nullptr ? "text is NULL" : "out is NULL", message, message_size);
        return EYEBALLS_ERR_ARGUMENT;
    }
    try {
        std::string error;
        std::optional<Endpoint> ep = Endpoint::parse(text, default_port, &error, zones);
        if (!ep) {
            copy_text(error, message, message_size);
            return EYEBALLS_ERR_ARGUMENT;
        }
        *out = from_endpoint(*ep);
        return EYEBALLS_OK;
    } catch (const std::bad_alloc&) {
        copy_text("out of memory", message, message_size);
        return EYEBALLS_ERR_NO_MEMORY;
    } catch (...) {
        copy_text("internal error while parsing an endpoint", message, message_size);
        return EYEBALLS_ERR_INTERNAL;
    }
}

}  // namespace

eyeballs_status eyeballs_endpoint_parse(const char* text, uint16_t default_port,
                                        eyeballs_endpoint* out, char* message,
                                        size_t message_size) {
    return parse_endpoint_text(text, default_port, nullptr, out, message, message_size);
}

eyeballs_status eyeballs_endpoint_parse_zoned(const char* text, uint16_t default_port,
                                              eyeballs_zone_lookup lookup, void* lookup_data,
                                              eyeballs_endpoint* out, char* message,
                                              size_t message_size) {
    eyeballs::ZoneLookup zones;
    if (lookup != nullptr) {
        zones = [lookup, lookup_data](const std::string& name) -> std::optional<std::uint32_t> {
            std::uint32_t index = 0;
            if (lookup(lookup_data, name.c_str(), &index) != 1) return std::nullopt;
            return index;
        };
    }
    return parse_endpoint_text(text, default_port, zones, out, message, message_size);
}

size_t eyeballs_endpoint_format(const eyeballs_endpoint* endpoint, char* buffer, size_t size) {
    copy_text("", buffer, size);
    if (endpoint == nullptr || !valid_family(endpoint->family)) return 0;
    try {
        return copy_text(to_endpoint(*endpoint).to_string(), buffer, size);
    } catch (...) {
        return 0;
    }
}

size_t eyeballs_endpoint_to_sockaddr(const eyeballs_endpoint* endpoint, void* storage,
                                     size_t size) {
    if (endpoint == nullptr || storage == nullptr || !valid_family(endpoint->family)) return 0;
    sockaddr_storage ss;
    const socklen_t len = eyeballs::to_sockaddr(to_endpoint(*endpoint), ss);
    if (size < static_cast<size_t>(len)) return 0;
    std::memcpy(storage, &ss, static_cast<size_t>(len));
    return static_cast<size_t>(len);
}

eyeballs_status eyeballs_endpoint_from_sockaddr(const void* sa, size_t length,
                                                eyeballs_endpoint* out) {
    if (sa == nullptr || out == nullptr) return EYEBALLS_ERR_ARGUMENT;
    sockaddr_storage ss;
    std::memset(&ss, 0, sizeof ss);
    const size_t n = length < sizeof ss ? length : sizeof ss;
    std::memcpy(&ss, sa, n);
    const std::optional<Endpoint> ep =
        eyeballs::from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), static_cast<socklen_t>(n));
    if (!ep) return EYEBALLS_ERR_ARGUMENT;
    *out = from_endpoint(*ep);
    return EYEBALLS_OK;
}

// ---- history and NAT64 prefixes ---------------------------------------------------------------------

eyeballs_status eyeballs_history_new(size_t capacity, eyeballs_history** out) {
    if (out == nullptr) return EYEBALLS_ERR_ARGUMENT;
    *out = nullptr;
    try {
        *out = new eyeballs_history(capacity);
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

void eyeballs_history_free(eyeballs_history* history) { delete history; }

eyeballs_status eyeballs_history_record_success(eyeballs_history* history, const char* network,
                                                const eyeballs_endpoint* address, int64_t rtt_ns,
                                                int64_t when_ns) {
    if (history == nullptr || !usable(address)) return EYEBALLS_ERR_ARGUMENT;
    try {
        history->history.record_success(network_name(network), to_endpoint(*address),
                                        Duration(rtt_ns), to_time(when_ns));
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

eyeballs_status eyeballs_history_record_failure(eyeballs_history* history, const char* network,
                                                const eyeballs_endpoint* address, int64_t when_ns) {
    if (history == nullptr || !usable(address)) return EYEBALLS_ERR_ARGUMENT;
    try {
        history->history.record_failure(network_name(network), to_endpoint(*address),
                                        to_time(when_ns));
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

int eyeballs_history_rtt(const eyeballs_history* history, const char* network,
                         const eyeballs_endpoint* address, int64_t* rtt_ns) {
    if (history == nullptr || !usable(address) || rtt_ns == nullptr) return 0;
    try {
        const std::optional<Duration> rtt =
            history->history.rtt(network_name(network), to_endpoint(*address));
        if (!rtt) return 0;
        *rtt_ns = rtt->count();
        return 1;
    } catch (...) {
        return 0;
    }
}

size_t eyeballs_history_size(const eyeballs_history* history) {
    return history == nullptr ? 0 : history->history.size();
}

void eyeballs_history_clear(eyeballs_history* history) {
    if (history != nullptr) history->history.clear();
}

void eyeballs_history_clear_network(eyeballs_history* history, const char* network) {
    if (history == nullptr) return;
    try {
        history->history.clear_network(network_name(network));
    } catch (...) {
        // clear_network only builds a key to erase; nothing to undo.
    }
}

int eyeballs_history_used(const eyeballs_history* history, const char* network,
                          const eyeballs_endpoint* address) {
    if (history == nullptr || !usable(address)) return 0;
    try {
        return history->history.used(network_name(network), to_endpoint(*address)) ? 1 : 0;
    } catch (...) {
        return 0;
    }
}

size_t eyeballs_history_attach(eyeballs_history* history, const char* network, int resume) {
    if (history == nullptr) return 0;
    try {
        return history->history.attach(network_name(network), resume != 0
                                                                  ? eyeballs::History::Attach::resume
                                                                  : eyeballs::History::Attach::flush);
    } catch (...) {
        return 0;  // only the network's name is copied; nothing was forgotten
    }
}

// ---- Alt-Svc cache --------------------------------------------------------------------------------

eyeballs_status eyeballs_alt_svc_cache_new(size_t capacity, eyeballs_alt_svc_cache** out) {
    if (out == nullptr) return EYEBALLS_ERR_ARGUMENT;
    *out = nullptr;
    try {
        *out = new eyeballs_alt_svc_cache(capacity);
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

void eyeballs_alt_svc_cache_free(eyeballs_alt_svc_cache* cache) { delete cache; }

eyeballs_status eyeballs_alt_svc_cache_store(eyeballs_alt_svc_cache* cache, const char* scheme,
                                             const char* host, uint16_t port, const char* value,
                                             int64_t received_ns, char* message,
                                             size_t message_size) {
    copy_text("", message, message_size);
    const char* missing = cache == nullptr    ? "cache is NULL"
                          : scheme == nullptr ? "scheme is NULL"
                          : host == nullptr   ? "host is NULL"
                          : value == nullptr  ? "value is NULL"
                                              : nullptr;
    if (missing != nullptr) {
        copy_text(missing, message, message_size);
        return EYEBALLS_ERR_ARGUMENT;
    }
    try {
        std::string error;
        if (!cache->cache.store({scheme, host, port}, value, to_time(received_ns), &error)) {
            copy_text("Alt-Svc: " + error, message, message_size);
            return EYEBALLS_ERR_ARGUMENT;
        }
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

size_t eyeballs_alt_svc_cache_lookup(const eyeballs_alt_svc_cache* cache, const char* scheme,
                                     const char* host, uint16_t port, int64_t now_ns,
                                     char* buffer, size_t size) {
    copy_text("", buffer, size);
    if (cache == nullptr || scheme == nullptr || host == nullptr) return 0;
    try {
        std::string field;
        for (const eyeballs::AltSvc& alt : cache->cache.lookup({scheme, host, port}, to_time(now_ns))) {
            if (!field.empty()) field += ", ";
            field += eyeballs::to_string(alt);
        }
        return copy_text(field, buffer, size);
    } catch (...) {
        return 0;
    }
}

size_t eyeballs_alt_svc_cache_apply(const eyeballs_alt_svc_cache* cache, eyeballs_config* config,
                                    const char* host, uint16_t port, int64_t now_ns,
                                    char* buffer, size_t size) {
    copy_text("", buffer, size);
    if (cache == nullptr || config == nullptr || host == nullptr) return 0;
    // The rule is the core's; a C config's alt_svc counts as given when it is
    // neither NULL nor "" (eyeballs_machine_new() reads it so).
    if (config->alt_svc != nullptr && config->alt_svc[0] != '\0') return 0;
    try {
        eyeballs::Config rule;
        rule.https = config->https != 0;
        std::string field;
        for (const eyeballs::AltSvc& alt :
             eyeballs::alternatives_for_race(cache->cache, host, port, rule, to_time(now_ns))) {
            if (!field.empty()) field += ", ";
            field += eyeballs::to_string(alt);
        }
        if (field.empty()) return 0;
        const std::size_t length = copy_text(field, buffer, size);
        if (length >= size) {
            copy_text("", buffer, size);  // a cut value would not parse: none at all
            return length;
        }
        config->alt_svc = buffer;
        return length;
    } catch (...) {
        return 0;
    }
}

size_t eyeballs_alt_svc_cache_attach(eyeballs_alt_svc_cache* cache, const char* network) {
    if (cache == nullptr) return 0;
    try {
        return cache->cache.attach(network_name(network));
    } catch (...) {
        return 0;  // only the network's name is copied; nothing was forgotten
    }
}

size_t eyeballs_alt_svc_cache_size(const eyeballs_alt_svc_cache* cache) {
    return cache == nullptr ? 0 : cache->cache.size();
}

void eyeballs_alt_svc_cache_clear(eyeballs_alt_svc_cache* cache) {
    if (cache != nullptr) cache->cache.clear();
}

// ---- DNS cache --------------------------------------------------------------------------------

namespace {

bool valid_dns_type(int type) {
    return type == EYEBALLS_DNS_AAAA || type == EYEBALLS_DNS_A || type == EYEBALLS_DNS_HTTPS;
}

eyeballs::DnsCache::Type to_dns_type(int type) {
    return type == EYEBALLS_DNS_HTTPS ? eyeballs::DnsCache::Type::https
           : type == EYEBALLS_DNS_A   ? eyeballs::DnsCache::Type::a
                                      : eyeballs::DnsCache::Type::aaaa;
}

int from_dns_state(eyeballs::DnsCache::State state) {
    switch (state) {
        case eyeballs::DnsCache::State::fresh: return EYEBALLS_DNS_FRESH;
        case eyeballs::DnsCache::State::stale: return EYEBALLS_DNS_STALE;
        case eyeballs::DnsCache::State::missing: break;
    }
    return EYEBALLS_DNS_MISSING;
}

}  // namespace

eyeballs_status eyeballs_dns_cache_new(size_t capacity, int64_t max_stale_ns,
                                       eyeballs_dns_cache** out) {
    if (out == nullptr) return EYEBALLS_ERR_ARGUMENT;
    *out = nullptr;
    const Duration max_stale = max_stale_ns == EYEBALLS_NONE
                                   ? eyeballs::DnsCache::default_max_stale
                                   : Duration(std::chrono::nanoseconds(max_stale_ns));
    try {
        *out = new eyeballs_dns_cache(capacity, max_stale);
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

void eyeballs_dns_cache_free(eyeballs_dns_cache* cache) { delete cache; }

eyeballs_status eyeballs_dns_cache_store(eyeballs_dns_cache* cache, const char* name, int family,
                                         const eyeballs_endpoint* addresses, size_t count,
                                         uint32_t ttl, int64_t now_ns) {
    if (cache == nullptr || name == nullptr || !valid_family(family) ||
        check_endpoints(addresses, count, "addresses")) {
        return EYEBALLS_ERR_ARGUMENT;
    }
    try {
        cache->cache.store(name, to_family(family), to_endpoints(addresses, count), ttl,
                           to_time(now_ns));
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

eyeballs_status eyeballs_dns_cache_store_https(eyeballs_dns_cache* cache, const char* name,
                                               const char* const* records, size_t count,
                                               uint32_t ttl, int64_t now_ns, char* message,
                                               size_t message_size) {
    copy_text("", message, message_size);
    const char* missing = cache == nullptr                     ? "cache is NULL"
                          : name == nullptr                    ? "name is NULL"
                          : records == nullptr && count > 0    ? "records is NULL"
                                                               : nullptr;
    if (missing != nullptr) {
        copy_text(missing, message, message_size);
        return EYEBALLS_ERR_ARGUMENT;
    }
    try {
        std::vector<eyeballs::SvcbRecord> parsed;
        parsed.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            std::string error = "is NULL";
            std::optional<eyeballs::SvcbRecord> r;
            if (records[i] != nullptr) r = eyeballs::parse_svcb_presentation(records[i], &error);
            if (!r) {
                copy_text("record " + std::to_string(i) + ": " + error, message, message_size);
                return EYEBALLS_ERR_ARGUMENT;
            }
            parsed.push_back(std::move(*r));
        }
        cache->cache.store_https(name, parsed, ttl, to_time(now_ns));
        return EYEBALLS_OK;
    } catch (...) {
        return EYEBALLS_ERR_NO_MEMORY;
    }
}

int eyeballs_dns_cache_lookup(const eyeballs_dns_cache* cache, const char* name, int type,
                              int64_t now_ns, eyeballs_endpoint* addresses, size_t capacity,
                              size_t* count, int64_t* expires_ns) {
    if (count != nullptr) *count = 0;
    if (expires_ns != nullptr) *expires_ns = 0;
    if (cache == nullptr || name == nullptr || !valid_dns_type(type)) return EYEBALLS_DNS_MISSING;
    try {
        const eyeballs::DnsCache::Answer hit =
            cache->cache.lookup(name, to_dns_type(type), to_time(now_ns));
        if (hit.state == eyeballs::DnsCache::State::missing) return EYEBALLS_DNS_MISSING;
        if (addresses != nullptr) {
            for (size_t i = 0; i < hit.addresses.size() && i < capacity; ++i) {
                addresses[i] = from_endpoint(hit.addresses[i]);
            }
        }
        if (count != nullptr) {
            *count = type == EYEBALLS_DNS_HTTPS ? hit.records.size() : hit.addresses.size();
        }
        if (expires_ns != nullptr) *expires_ns = to_ns(hit.expires);
        return from_dns_state(hit.state);
    } catch (...) {
        return EYEBALLS_DNS_MISSING;  // the copy of the answer failed: as if not cached
    }
}

void eyeballs_dns_cache_forget(eyeballs_dns_cache* cache, const char* name, int type) {
    if (cache == nullptr || name == nullptr || !valid_dns_type(type)) return;
    try {
        cache->cache.forget(name, to_dns_type(type));
    } catch (...) {
        // forget only builds a key to erase; nothing to undo.
    }
}

size_t eyeballs_dns_cache_expire(eyeballs_dns_cache* cache, int64_t now_ns) {
    return cache == nullptr ? 0 : cache->cache.expire(to_time(now_ns));
}

size_t eyeballs_dns_cache_size(const eyeballs_dns_cache* cache) {
    return cache == nullptr ? 0 : cache->cache.size();
}

void eyeballs_dns_cache_clear(eyeballs_dns_cache* cache) {
    if (cache != nullptr) cache->cache.clear();
}

eyeballs_status eyeballs_pref64_parse(const char* text, eyeballs_pref64* out, char* message,
                                      size_t message_size) {
    copy_text("", message, message_size);
    if (text == nullptr || out == nullptr) {
        copy_text(text == nullptr ? "text is NULL" : "out is NULL", message, message_size);
        return EYEBALLS_ERR_ARGUMENT;
    }
    try {
        std::string error;
        const std::optional<eyeballs::Pref64> p = eyeballs::Pref64::parse(text, &error);
        if (!p) {
            copy_text(error, message, message_size);
            return EYEBALLS_ERR_ARGUMENT;
        }
        std::memcpy(out->prefix, p->prefix.data(), sizeof out->prefix);
        out->length = p->length;
        return EYEBALLS_OK;
    } catch (const std::bad_alloc&) {
        copy_text("out of memory", message, message_size);
        return EYEBALLS_ERR_NO_MEMORY;
    } catch (...) {
        copy_text("internal error while parsing a NAT64 prefix", message, message_size);
        return EYEBALLS_ERR_INTERNAL;
    }
}

// ---- text and time ------------------------------------------------------------------------------

size_t eyeballs_action_format(const eyeballs_action* action, char* buffer, size_t size) {
    copy_text("", buffer, size);
    if (action == nullptr) return 0;
    try {
        const std::optional<eyeballs::Action> a = to_action(*action);
        if (!a) return 0;
        return copy_text(eyeballs::to_string(*a), buffer, size);
    } catch (...) {
        return 0;
    }
}

const char* eyeballs_status_name(eyeballs_status status) {
    switch (status) {
        case EYEBALLS_OK: return "ok";
        case EYEBALLS_ERR_ARGUMENT: return "invalid argument";
        case EYEBALLS_ERR_CONFIG: return "invalid configuration";
        case EYEBALLS_ERR_STATE: return "wrong state";
        case EYEBALLS_ERR_NO_MEMORY: return "out of memory";
        case EYEBALLS_ERR_INTERNAL: return "internal error";
    }
    return nullptr;
}

const char* eyeballs_family_name(int family) {
    return valid_family(family) ? eyeballs::family_name(to_family(family)) : nullptr;
}

const char* eyeballs_record_name(int family) {
    return valid_family(family) ? eyeballs::record_name(to_family(family)) : nullptr;
}

const char* eyeballs_outcome_name(int outcome) {
    if (outcome < EYEBALLS_OUTCOME_CONNECTED || outcome > EYEBALLS_OUTCOME_CANCELLED) return nullptr;
    return eyeballs::outcome_name(static_cast<eyeballs::Outcome>(outcome));
}

const char* eyeballs_stage_name(int stage) {
    if (stage < EYEBALLS_STAGE_RESOLVE || stage > EYEBALLS_STAGE_TIMEOUT) return nullptr;
    return eyeballs::stage_name(static_cast<eyeballs::Stage>(stage));
}

const char* eyeballs_errno_name(int code) { return eyeballs::errno_name(code); }

int eyeballs_errno_from_name(const char* name) {
    if (name == nullptr) return 0;
    return eyeballs::errno_from_name(name).value_or(0);
}

const char* eyeballs_version(void) { return EYEBALLS_VERSION_STRING; }

int64_t eyeballs_monotonic_ns(void) {
    return to_ns(std::chrono::steady_clock::now());
}

}  // extern "C"

// ---- Happy Eyeballs v3 -------------------------------------------------------------

namespace {

int from_protocol(eyeballs::Protocol p) { return p == eyeballs::Protocol::quic ? EYEBALLS_PROTOCOL_QUIC : EYEBALLS_PROTOCOL_TCP; }

int from_service_source(eyeballs::ServiceSource s) {
    switch (s) {
        case eyeballs::ServiceSource::https_record: return EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD;
        case eyeballs::ServiceSource::alt_svc: return EYEBALLS_SERVICE_SOURCE_ALT_SVC;
        case eyeballs::ServiceSource::none: break;
    }
    return EYEBALLS_SERVICE_SOURCE_NONE;
}

// The C query as the C++ one; its name views the caller's text for the call.
std::optional<std::string> to_query(const eyeballs_query* q, eyeballs::Resolve& out) {
    if (q == nullptr) return std::string("query is NULL");
    if (!valid_family(q->family)) {
        return "query family is " + std::to_string(q->family) +
               ", neither EYEBALLS_FAMILY_V6 (0) nor EYEBALLS_FAMILY_V4 (1)";
    }
    if (q->port_prefix > 65535) {
        return "query port_prefix " + std::to_string(q->port_prefix) + " is outside 0-65535";
    }
    out = eyeballs::Resolve(to_family(q->family), q->https != 0,
                            q->name != nullptr ? std::string_view(q->name) : std::string_view(),
                            static_cast<std::uint16_t>(q->port_prefix));
    return std::nullopt;
}

std::string query_what(const eyeballs::Resolve& q) {
    std::string what = "the ";
    what += q.https ? "HTTPS" : eyeballs::record_name(q.family);
    what += " query for ";
    what += q.name.empty() ? std::string("the origin") : "\"" + std::string(q.name) + "\"";
    return what;
}

// The shape of the query inputs: check the machine and query, feed, map the status.
template <typename Feed>
eyeballs_status feed_query(eyeballs_machine* m, const eyeballs_query* query, const char* input,
                           Feed&& body) noexcept {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        eyeballs::Resolve q;
        if (auto problem = to_query(query, q)) {
            return fail(m, EYEBALLS_ERR_ARGUMENT, std::string(input) + ": " + *problem);
        }
        return body(q, query_what(q));
    });
}

template <typename Input>
eyeballs_status feed_addresses(eyeballs_machine* m, const eyeballs_query* query, const char* input,
                               const eyeballs_endpoint* addresses, size_t count, Input&& call) noexcept {
    return feed_query(m, query, input, [&](const eyeballs::Resolve& q, const std::string& what) {
        if (auto problem = check_endpoints(addresses, count, "addresses")) {
            return fail(m, EYEBALLS_ERR_ARGUMENT, std::string(input) + ": " + *problem);
        }
        const std::vector<Endpoint> eps = to_endpoints(addresses, count);
        return input_status(m, call(q, eps), input, what);
    });
}

}  // namespace

eyeballs_status eyeballs_machine_action_v3(const eyeballs_machine* m, eyeballs_action_v3* action) {
    if (m == nullptr) return null_machine();
    if (action == nullptr) return fail(m, EYEBALLS_ERR_ARGUMENT, "action is NULL");
    eyeballs_action_v3 out;
    std::memset(&out, 0, sizeof out);
    out.query.name = "";
    out.service_target = "";
    if (m->last_action) {
        const eyeballs_action base = from_action(*m->last_action);
        out.kind = base.kind;
        out.attempt = base.attempt;
        std::visit(
            [&](const auto& a) {
                using T = std::decay_t<decltype(a)>;
                if constexpr (std::is_same_v<T, eyeballs::Resolve>) {
                    out.query.family = from_family(a.family);
                    out.query.https = a.https ? 1 : 0;
                    out.query.port_prefix = a.port_prefix;
                    out.query.name = m->last_name.c_str();
                } else if constexpr (std::is_same_v<T, eyeballs::OpenSocket> ||
                                     std::is_same_v<T, eyeballs::Connect> ||
                                     std::is_same_v<T, eyeballs::Report>) {
                    out.protocol = from_protocol(a.protocol);
                }
            },
            *m->last_action);
        if (m->last_has_service) {
            out.has_service = 1;
            out.service_target = m->last_target.c_str();
            out.service_port = m->last_service_port;
            out.service_priority = m->last_service_priority;
            out.service_source = from_service_source(m->last_service_source);
            if (!m->last_ech.empty()) {
                out.ech = m->last_ech.data();
                out.ech_size = m->last_ech.size();
            }
        }
    }
    *action = out;
    return EYEBALLS_OK;
}

size_t eyeballs_action_text(const eyeballs_machine* m, char* buffer, size_t size) {
    if (m == nullptr || !m->last_action) {
        if (buffer != nullptr && size > 0) buffer[0] = '\0';
        return 0;
    }
    return copy_text(m->last_text, buffer, size);
}

const char* eyeballs_protocol_name(int protocol) {
    switch (protocol) {
        case EYEBALLS_PROTOCOL_TCP: return eyeballs::protocol_name(eyeballs::Protocol::tcp);
        case EYEBALLS_PROTOCOL_QUIC: return eyeballs::protocol_name(eyeballs::Protocol::quic);
        default: return "?";
    }
}

const char* eyeballs_service_source_name(int source) {
    switch (source) {
        case EYEBALLS_SERVICE_SOURCE_NONE:
            return eyeballs::service_source_name(eyeballs::ServiceSource::none);
        case EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD:
            return eyeballs::service_source_name(eyeballs::ServiceSource::https_record);
        case EYEBALLS_SERVICE_SOURCE_ALT_SVC:
            return eyeballs::service_source_name(eyeballs::ServiceSource::alt_svc);
        default: return "?";
    }
}

namespace {
// The HTTPS inputs' records: RFC 9460 presentation texts, parsed; `take`
// feeds them (handle_https or handle_stale_https).
template <typename Take>
eyeballs_status feed_records(eyeballs_machine* m, const eyeballs_query* query, const char* input,
                             const char* const* records, size_t count, Take take) {
    return feed_query(m, query, input, [&](const eyeballs::Resolve& q, const std::string& what) {
        if (records == nullptr && count > 0) {
            return fail(m, EYEBALLS_ERR_ARGUMENT, std::string(input) + ": records is NULL");
        }
        std::vector<eyeballs::SvcbRecord> parsed;
        parsed.reserve(count);
        for (size_t i = 0; i < count; ++i) {
            if (records[i] == nullptr) {
                return fail(m, EYEBALLS_ERR_ARGUMENT,
                            std::string(input) + ": record " + std::to_string(i) + " is NULL");
            }
            std::string error;
            std::optional<eyeballs::SvcbRecord> r = eyeballs::parse_svcb_presentation(records[i], &error);
            if (!r) {
                return fail(m, EYEBALLS_ERR_ARGUMENT,
                            std::string(input) + ": record " + std::to_string(i) + " (\"" +
                                records[i] + "\"): " + error);
            }
            parsed.push_back(std::move(*r));
        }
        return input_status(m, take(q, parsed), input, what);
    });
}
}  // namespace

eyeballs_status eyeballs_machine_handle_https(eyeballs_machine* m, int64_t now_ns,
                                              const eyeballs_query* query,
                                              const char* const* records, size_t count) {
    return feed_records(m, query, "eyeballs_machine_handle_https", records, count,
                        [&](const eyeballs::Resolve& q, const std::vector<eyeballs::SvcbRecord>& r) {
                            return m->machine.handle_https(to_time(now_ns), q, r);
                        });
}

eyeballs_status eyeballs_machine_handle_stale_https(eyeballs_machine* m, int64_t now_ns,
                                                    const eyeballs_query* query,
                                                    const char* const* records, size_t count) {
    return feed_records(m, query, "eyeballs_machine_handle_stale_https", records, count,
                        [&](const eyeballs::Resolve& q, const std::vector<eyeballs::SvcbRecord>& r) {
                            return m->machine.handle_stale_https(to_time(now_ns), q, r);
                        });
}

eyeballs_status eyeballs_machine_handle_query_resolved(eyeballs_machine* m, int64_t now_ns,
                                                       const eyeballs_query* query,
                                                       const eyeballs_endpoint* addresses,
                                                       size_t count) {
    return feed_addresses(m, query, "eyeballs_machine_handle_query_resolved", addresses, count,
                          [&](const eyeballs::Resolve& q, const std::vector<Endpoint>& eps) {
                              return m->machine.handle_resolved(to_time(now_ns), q, eps);
                          });
}

eyeballs_status eyeballs_machine_handle_stale(eyeballs_machine* m, int64_t now_ns,
                                              const eyeballs_query* query,
                                              const eyeballs_endpoint* addresses, size_t count) {
    return feed_addresses(m, query, "eyeballs_machine_handle_stale", addresses, count,
                          [&](const eyeballs::Resolve& q, const std::vector<Endpoint>& eps) {
                              return m->machine.handle_stale(to_time(now_ns), q, eps);
                          });
}

eyeballs_status eyeballs_machine_handle_dns_update(eyeballs_machine* m, int64_t now_ns,
                                                   const eyeballs_query* query,
                                                   const eyeballs_endpoint* addresses,
                                                   size_t count) {
    return feed_addresses(m, query, "eyeballs_machine_handle_dns_update", addresses, count,
                          [&](const eyeballs::Resolve& q, const std::vector<Endpoint>& eps) {
                              return m->machine.handle_dns_update(to_time(now_ns), q, eps);
                          });
}

size_t eyeballs_query_name(const eyeballs_query* query, const char* host, char* buffer,
                           size_t size) {
    copy_text("", buffer, size);
    eyeballs::Resolve q;
    if (host == nullptr || to_query(query, q)) return 0;
    try {
        return copy_text(eyeballs::query_name(q, host), buffer, size);
    } catch (...) {
        return 0;
    }
}

eyeballs_status eyeballs_machine_answer_from_cache(eyeballs_machine* m,
                                                   const eyeballs_dns_cache* cache,
                                                   int64_t now_ns, const eyeballs_query* query,
                                                   const char* host, uint16_t port, int* send) {
    const char* input = "eyeballs_machine_answer_from_cache";
    if (send != nullptr) *send = 1;
    return feed_query(m, query, input, [&](const eyeballs::Resolve& q, const std::string& what) {
        const char* missing = cache == nullptr  ? "cache is NULL"
                              : host == nullptr ? "host is NULL"
                              : send == nullptr ? "send is NULL"
                                                : nullptr;
        if (missing != nullptr) {
            return fail(m, EYEBALLS_ERR_ARGUMENT, std::string(input) + ": " + missing);
        }
        using eyeballs::DnsCache;
        // The adapters' rule (DnsCache::lookup_for_race): stale answers are
        // raced in an HTTPS-mode race only, the HTTPS question's as records.
        DnsCache::Answer hit = cache->cache.lookup_for_race(
            eyeballs::query_name(q, host), q, m->machine.config().https, to_time(now_ns));
        if (hit.state == DnsCache::State::missing) return EYEBALLS_OK;
        const bool fresh = hit.state == DnsCache::State::fresh;
        const bool stale = !fresh;
        std::vector<Endpoint> eps;
        eps.reserve(hit.addresses.size());
        for (const Endpoint& e : hit.addresses) eps.push_back(e.with_port(port));
        const TimePoint now = to_time(now_ns);
        eyeballs::InputStatus fed;
        if (stale && q.https) {
            fed = m->machine.handle_stale_https(now, q, hit.records);
        } else if (stale) {
            fed = m->machine.handle_stale(now, q, eps);
        } else if (q.https) {
            fed = m->machine.handle_https(now, q, hit.records);
        } else {
            fed = m->machine.handle_resolved(now, q, eps);
        }
        const eyeballs_status status = input_status(m, fed, input, what);
        if (status == EYEBALLS_OK && fresh) *send = 0;
        return status;
    });
}

eyeballs_status eyeballs_machine_handle_query_failed(eyeballs_machine* m, int64_t now_ns,
                                                     const eyeballs_query* query, int code,
                                                     const char* detail) {
    const char* input = "eyeballs_machine_handle_query_failed";
    return feed_query(m, query, input, [&](const eyeballs::Resolve& q, const std::string& what) {
        return input_status(
            m,
            m->machine.handle_resolve_failed(to_time(now_ns), q, code,
                                             detail != nullptr ? std::string_view(detail)
                                                               : std::string_view()),
            input, what);
    });
}

eyeballs_status eyeballs_machine_handle_progress(eyeballs_machine* m, int64_t now_ns,
                                                 uint32_t attempt) {
    const eyeballs::AttemptId id(attempt);
    const auto body = [&](eyeballs::RaceMachine& rm) { return rm.handle_progress(to_time(now_ns), id); };
    return feed_input(m, "eyeballs_machine_handle_progress", attempt_name(attempt), body);
}

eyeballs_status eyeballs_machine_handle_secured(eyeballs_machine* m, int64_t now_ns,
                                                uint32_t attempt) {
    const eyeballs::AttemptId id(attempt);
    const auto body = [&](eyeballs::RaceMachine& rm) { return rm.handle_secured(to_time(now_ns), id); };
    return feed_input(m, "eyeballs_machine_handle_secured", attempt_name(attempt), body);
}

eyeballs_status eyeballs_machine_handle_secure_failed(eyeballs_machine* m, int64_t now_ns,
                                                      uint32_t attempt, int code,
                                                      const char* detail) {
    const eyeballs::AttemptId id(attempt);
    const auto body = [&](eyeballs::RaceMachine& rm) {
        return rm.handle_secure_failed(to_time(now_ns), id, code,
                                       detail != nullptr ? std::string_view(detail) : std::string_view());
    };
    return feed_input(m, "eyeballs_machine_handle_secure_failed", attempt_name(attempt), body);
}

eyeballs_status eyeballs_machine_handle_ech_retry(eyeballs_machine* m, int64_t now_ns,
                                                  uint32_t attempt, const uint8_t* retry_configs,
                                                  size_t size) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (retry_configs == nullptr && size > 0) {
            return fail(m, EYEBALLS_ERR_ARGUMENT,
                        "eyeballs_machine_handle_ech_retry: retry_configs is NULL");
        }
        std::vector<std::uint8_t> configs;
        if (size > 0) configs.assign(retry_configs, retry_configs + size);
        eyeballs::Status s =
            m->machine.handle_ech_retry(to_time(now_ns), eyeballs::AttemptId(attempt), std::move(configs));
        if (!s) {
            return fail(m, EYEBALLS_ERR_STATE,
                        "eyeballs_machine_handle_ech_retry: " + attempt_name(attempt) + ": " +
                            std::string(s.message()));
        }
        return EYEBALLS_OK;
    });
}

eyeballs_status eyeballs_machine_report_v3(const eyeballs_machine* m, eyeballs_report_v3* report) {
    if (m == nullptr) return null_machine();
    if (report == nullptr) return fail(m, EYEBALLS_ERR_ARGUMENT, "report is NULL");
    if (!m->report) {
        return fail(m, EYEBALLS_ERR_STATE, "no report snapshot yet: call eyeballs_machine_report() first");
    }
    eyeballs_report_v3 out;
    std::memset(&out, 0, sizeof out);
    out.protocol = from_protocol(m->report->protocol);
    out.alpn = m->report_alpn.c_str();
    out.tls_version = m->report->tls_version.c_str();
    out.alpn_selected = m->report->alpn_selected.c_str();
    out.service_source = from_service_source(m->report->source);
    *report = out;
    return EYEBALLS_OK;
}

eyeballs_status eyeballs_machine_report_attempt_v3(const eyeballs_machine* m, size_t index,
                                                   eyeballs_attempt_v3* attempt) {
    if (m == nullptr) return null_machine();
    return guard(m, [&] {
        if (eyeballs_status bad = check_report_entry(m, attempt, "attempt", index,
                                                     m->report ? m->report->attempts.size() : 0)) {
            return bad;
        }
        const eyeballs::AttemptRecord& a = m->report->attempts[index];
        eyeballs_attempt_v3 out;
        std::memset(&out, 0, sizeof out);
        out.protocol = from_protocol(a.protocol);
        out.alpn = m->attempt_alpn[index].c_str();
        out.ech = a.ech ? 1 : 0;
        out.service_source = from_service_source(a.source);
        *attempt = out;
        return EYEBALLS_OK;
    });
}
