// SPDX-License-Identifier: BSL-1.0
// eyeballs — the full report of a finished race.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/time.hpp"

namespace eyeballs {

/// What happened to one attempt.
struct AttemptRecord {
    enum class State : std::uint8_t { in_flight, connected, failed, closed };
    AttemptId id;
    Endpoint remote;
    std::optional<Endpoint> local;  ///< the address it bound, if any
    TimePoint started{};
    std::optional<TimePoint> ended;  ///< when it connected, failed or was closed
    State state = State::in_flight;
    /// With `config.https`: the endpoint's transport and ALPN ids, and
    /// whether its record carried an ECH config (plain A/AAAA: tcp, none).
    Protocol protocol = Protocol::tcp;
    std::vector<std::string> alpn;
    bool ech = false;
    /// Where its service came from: an HTTPS record, an Alt-Svc alternative,
    /// or none (plain A/AAAA).
    ServiceSource source = ServiceSource::none;
    /// The error that ended it (state failed): its open, connect, timeout or
    /// tls error, or the last bind error when no local candidate worked. None
    /// for an attempt that connected, is in flight, or was closed by the end
    /// of the race (lost to the winner, cancelled, or cut off by the overall
    /// timeout: see RaceReport::outcome and overall_timeout).
    std::optional<Error> error;
};

/// One DNS query of a race (DNS mode) and its answer, as the machine took it.
/// Answers the machine ignores (late, duplicate, after the end) are not here.
struct DnsQuery {
    /// The name asked: "" = the origin (the host the race is for), else a
    /// target or alias name from an HTTPS record.
    std::string name;
    Family family = Family::v6;  ///< AAAA (v6) or A (v4); v6 for an HTTPS query
    bool https = false;          ///< an HTTPS (type 65) query
    TimePoint asked{};           ///< when the Resolve action was issued
    std::optional<TimePoint> answered;  ///< when the answer was taken; none yet
    /// A positive address answer: the addresses as given to the machine.
    std::vector<Endpoint> addresses;
    /// An HTTPS answer: how many records it carried (0 = no data).
    std::size_t records = 0;
    /// A negative address answer: "no data" (code 0, no detail) or the
    /// resolver's failure, as recorded in RaceReport::errors (stage resolve).
    /// An HTTPS query that failed has one too (but records no race error).
    std::optional<Error> error;
    /// "AAAA", "A" or "HTTPS".
    const char* type() const noexcept { return https ? "HTTPS" : record_name(family); }
};

/// What an operator graphs about one race (issue 16): plain numbers, no
/// parsing of the trace needed; RaceMachine::report() fills it. Durations are
/// from the race's start unless said otherwise; nullopt = did not happen.
struct RaceMetrics {
    /// The origin's queries: from the race's start to the answer (positive or
    /// negative). Addresses mode: all nullopt.
    std::optional<Duration> dns_aaaa;
    std::optional<Duration> dns_a;
    std::optional<Duration> dns_https;  ///< only with config.https
    /// Every query answered (the origin's and target names'), and the longest
    /// of their times from being asked to being answered.
    std::uint32_t dns_queries = 0;
    std::optional<Duration> dns_max;
    /// Attempts numbered (started), including ones that failed at once.
    std::uint32_t attempts_started = 0;
    /// Connected: the winner's family and protocol, and the time from the
    /// race's start to its connect (or handshake, with Success::handshake).
    std::optional<Family> winner_family;
    Protocol winner_protocol = Protocol::tcp;
    std::optional<Duration> time_to_connect;
    /// RaceReport::errors counted by stage, indexed by Stage (resolve, open,
    /// bind, connect, timeout, tls).
    std::uint32_t errors_by_stage[6] = {0, 0, 0, 0, 0, 0};
    /// Remotes dropped because they repeated an earlier one of the race
    /// (Config::duplicates, issue 16 item 4); always 0 with duplicates=keep
    /// in an RFC 8305 race. Not counted in RaceReport::dropped (the cap).
    std::uint32_t duplicates_dropped = 0;
    /// The whole race, start to end (or to the latest input before the end).
    Duration duration{};
};

/// The race's result. Built by RaceMachine::report(); a value the caller owns.
struct RaceReport {
    Outcome outcome = Outcome::failed;
    /// Connected: the winner.
    AttemptId winner;
    std::optional<Endpoint> remote;
    std::optional<Endpoint> local;
    /// Connected: the winner's transport, ALPN ids and service source (see
    /// AttemptRecord).
    Protocol protocol = Protocol::tcp;
    std::vector<std::string> alpn;
    ServiceSource source = ServiceSource::none;
    /// Connected over TLS (an adapter that makes the handshake, e.g. poll's
    /// Options::tls): the negotiated protocol version ("TLSv1.3") and the
    /// ALPN id the server selected ("" when it selected none). Empty
    /// otherwise; the adapter fills them in, not the machine.
    std::string tls_version;
    std::string alpn_selected;
    /// Failed: the summary (docs/behaviour.md §3). `code` is the errno every attempt error
    /// shares, or 0 when they differ; `message` is the single error's text or
    /// "multiple errors: a, b, ..." (from the resolve errors when no attempt
    /// was made); an overall timeout gives ETIMEDOUT and "overall timeout
    /// after N ms". Cancelled: ECANCELED and "cancelled by the caller".
    /// Connected: 0 and empty.
    int code = 0;
    std::string message;
    /// True when the overall timeout ended the race.
    bool overall_timeout = false;
    /// Endpoints the race left out because it already held
    /// `config.max_endpoints` (from DNS answers, HTTPS records and hints, or
    /// the given list); 0 when the cap was never reached.
    std::size_t dropped = 0;
    /// Every recorded error: negative DNS answers first in arrival order, then
    /// per attempt in start order its bind errors, then its open, connect or
    /// timeout error.
    std::vector<Error> errors;
    /// Every attempt in start order, with its timings.
    std::vector<AttemptRecord> attempts;
    /// DNS mode: every query in the order asked, with its answer.
    std::vector<DnsQuery> queries;
    /// The race in numbers, for operators (see RaceMetrics).
    RaceMetrics metrics;
    /// When the race started, and when it finished (for a report taken
    /// before the end: the latest input), on the caller's clock.
    TimePoint started{};
    TimePoint finished{};
};

}  // namespace eyeballs
