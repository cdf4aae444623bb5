// SPDX-License-Identifier: BSL-1.0
// eyeballs — the trace printer shared by eyeballs-sim, eyeballs-connect and users:
// the JSON trace of docs/behaviour.md §5 (one object a line) and a human timeline.
#pragma once

#include <chrono>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/report.hpp"

namespace eyeballs {

class RaceMachine;

/// Milliseconds as a JSON number, exact for whole nanoseconds: "0", "250",
/// "0.5", "12.345678".
std::string format_trace_ms(std::chrono::nanoseconds since_origin);

/// One JSON object (no newline) for an action at `t_ms` (already formatted,
/// e.g. by format_trace_ms). Returns an empty string for actions the trace does
/// not show (OpenSocket, Bind). A Report action is written from `report`,
/// which must be the machine's report: outcome, attempt/remote when connected,
/// errno/message/errors when failed (plus "reason":"overall-timeout"), and
/// "dropped":N on any outcome when the race left N endpoints out (max_endpoints);
/// a connected report also carries "errors" (the losing attempts' errors, and
/// negative DNS answers). A Close action gives the bare close line (see
/// close_json for one with its cause).
std::string trace_json(const std::string& t_ms, const Action& action, const RaceReport* report);

/// Why the race closed an attempt's socket (issue 16), from its record:
/// "failed" (record.error says how), "lost" (another attempt won),
/// "cancelled", "overall-timeout" (the overall timeout cut it off); nullptr
/// while it is still in flight. `outcome` and `overall_timeout` are the
/// machine's (RaceMachine::outcome(), overall_timed_out()).
const char* close_reason(const AttemptRecord& record, std::optional<Outcome> outcome,
                         bool overall_timeout) noexcept;

/// A close line with its cause: {"t":T,"action":"close","attempt":N
/// [,"reason":R][,"stage":S,"errno":E|null,"message":M]} — the error keys when
/// `error` is given (a failed attempt), "reason" when `reason` is.
std::string close_json(const std::string& t_ms, AttemptId attempt, const char* reason,
                       const Error* error);

/// A DNS answer line (issue 16): {"t":T,"action":"answer"[,"name":N],
/// "type":"AAAA"|"A"|"HTTPS", then "addresses":[...] (addresses without
/// port), "records":K (HTTPS), "rcode":"NODATA" (an empty answer), or
/// "error":M,"errno":E|null (the resolver failed)}. `t_ms` is the answer's
/// time. "name" is the query's name, or `origin_name` for the origin
/// (omitted when that is empty).
std::string answer_json(const std::string& t_ms, const DnsQuery& query,
                        const std::string& origin_name = {});

/// The race's metrics (RaceMetrics) as one JSON object: {"dns_ms":{"aaaa":X|null,
/// "a":X|null,"https":X|null,"max":X|null},"dns_queries":N,"attempts":N,
/// "winner_family":"ipv6"|"ipv4"|null,"winner_protocol":"tcp"|"quic"|null,
/// "connect_ms":X|null,"errors":{"resolve":N,"open":N,"bind":N,"connect":N,
/// "timeout":N,"tls":N},"duplicates_dropped":N,"duration_ms":X} (milliseconds
/// as format_trace_ms writes them).
std::string metrics_json(const RaceMetrics& metrics);

/// Writes a trace to a stream as actions happen. Before each action it
/// writes the DNS answers the machine took since the previous one
/// (RaceMachine::queries(), each with the time it was taken), so answers
/// show in both formats without any hook in the adapters.
class TraceWriter {
public:
    enum class Format { json, timeline };
    /// `verbose` adds open and bind lines to the timeline.
    TraceWriter(std::ostream& out, Format format, TimePoint origin, bool verbose = false);
    /// The origin's name, shown on its answers' lines (empty: not shown).
    void set_host(std::string name) { host_ = std::move(name); }
    /// Times are cut to whole multiples of `unit` since the origin (e.g. 1 µs
    /// for real clocks, docs/behaviour.md §6); 0 (the default) keeps them exact.
    void set_resolution(std::chrono::nanoseconds unit) { unit_ = unit; }
    /// JSON: the report line gets a "metrics" object (metrics_json).
    void set_metrics(bool on) { metrics_ = on; }
    /// JSON: a connected report line always names the winner's "protocol"
    /// ("tcp" or "quic"), also when no HTTPS record drove it (issue 18;
    /// eyeballs-connect turns it on). Off by default: the line then carries
    /// "protocol" only for HTTPS-driven or QUIC winners, as trace_json writes it.
    void set_report_protocol(bool on) { report_protocol_ = on; }
    /// Writes the action taken at `now` (after any new DNS answers). A Close
    /// line says why (close_reason, and a failed attempt's error); a Report
    /// gets its details from `machine.report()`, and a connected report lists
    /// the losing attempts' errors.
    void write(TimePoint now, const Action& action, const RaceMachine& machine);

private:
    std::chrono::nanoseconds since_origin(TimePoint t) const;
    void write_answers(const RaceMachine& machine);

    std::ostream& out_;
    Format format_;
    TimePoint origin_;
    bool verbose_;
    std::string host_;
    std::chrono::nanoseconds unit_{0};
    bool metrics_ = false;
    bool report_protocol_ = false;
    std::vector<bool> answer_written_;  // per RaceMachine::queries() entry
};

}  // namespace eyeballs
