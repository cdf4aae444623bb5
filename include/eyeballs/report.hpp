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
};

/// The race's result. Built by RaceMachine::report(); a value the caller owns.
struct RaceReport {
    Outcome outcome = Outcome::failed;
    /// Connected: the winner.
    AttemptId winner;
    std::optional<Endpoint> remote;
    std::optional<Endpoint> local;
    /// Connected: the winner's transport and ALPN ids (see AttemptRecord).
    Protocol protocol = Protocol::tcp;
    std::vector<std::string> alpn;
    /// Connected over TLS (an adapter that makes the handshake, e.g. poll's
    /// Options::tls): the negotiated protocol version ("TLSv1.3") and the
    /// ALPN id the server selected ("" when it selected none). Empty
    /// otherwise; the adapter fills them in, not the machine.
    std::string tls_version;
    std::string alpn_selected;
    /// Failed: the summary (SPEC §3). `code` is the errno every attempt error
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
    /// When the race started, and when it finished (for a report taken
    /// before the end: the latest input), on the caller's clock.
    TimePoint started{};
    TimePoint finished{};
};

}  // namespace eyeballs
