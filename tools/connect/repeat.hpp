// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect --repeat N: what each race gave, and the summary printed
// after the last one (a dual-stack "ping").
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/report.hpp"

namespace eyeballs::tool {

/// One race of a --repeat run.
struct RaceSample {
    Outcome outcome = Outcome::failed;
    std::optional<Family> winner;         ///< connected: the winner's family
    std::optional<Family> first_attempt;  ///< the family of attempt #1, if any
    std::optional<Duration> connect;      ///< connected: start to connect
    /// Failed: how, as a key for counting: the errno name of the report's code
    /// ("ECONNREFUSED"), or its message when the attempts' errnos differ.
    std::string failure;
};

/// With --history: what the RTT history holds for one address at the end.
struct HistoryNote {
    Endpoint address;
    std::optional<Duration> srtt;  ///< RFC 6298 smoothed RTT; none before a success
    std::uint32_t successes = 0;
    std::uint32_t failures = 0;
};

/// Takes what --repeat needs from a race's report.
RaceSample sample_of(const RaceReport& report);

/// Nearest-rank percentile (p in 0..100) of `values` (sorted or not);
/// nullopt when empty. p50 of {1,2,3,4} is 2, p90 is 4.
std::optional<Duration> percentile(std::vector<Duration> values, int p);

/// The summary as text (several lines) and as the final JSON line:
/// {"summary":{"races":N,"connected":C,"failed":F,"cancelled":X,
///  "wins":{"ipv6":a,"ipv4":b},"connect_ms":{"p50":..,"p90":..,"max":..},
///  "connect_ms_by_family":{"ipv6":{"p50":..,"p90":..,"max":..}|null,"ipv4":...},
///  "failures":{"ECONNREFUSED":k,...},
///  "winners":["ipv6","ipv4",null,...],"first_attempts":["ipv6",...]}}
/// (connect_ms values are null when no race connected). `history` says
/// whether the RTT history was carried from race to race (text only).
/// With --history, `notes` (one per address raced) add a "history" line per
/// address to the text and "rtt_history":[{"address":"::1","srtt_ms":X|null,
/// "successes":N,"failures":N},...] to the JSON.
void print_summary_text(std::ostream& out, const std::vector<RaceSample>& races, bool history,
                        const std::vector<HistoryNote>& notes = {});
std::string summary_json(const std::vector<RaceSample>& races, bool history,
                         const std::vector<HistoryNote>& notes = {});

}  // namespace eyeballs::tool
