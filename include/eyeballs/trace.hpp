// SPDX-License-Identifier: BSL-1.0
// eyeballs — the trace printer shared by eyeballs-sim, eyeballs-connect and users:
// the JSON trace of SPEC §5 (one object a line) and a human timeline.
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

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
/// "dropped":N on any outcome when the race left N endpoints out (max_endpoints).
std::string trace_json(const std::string& t_ms, const Action& action, const RaceReport* report);

/// Writes a trace to a stream as actions happen.
class TraceWriter {
public:
    enum class Format { json, timeline };
    /// `verbose` adds open and bind lines to the timeline.
    TraceWriter(std::ostream& out, Format format, TimePoint origin, bool verbose = false);
    /// Writes the action taken at `now`. For a Report action, `machine` gives
    /// the report's details.
    void write(TimePoint now, const Action& action, const RaceMachine& machine);

private:
    std::ostream& out_;
    Format format_;
    TimePoint origin_;
    bool verbose_;
};

}  // namespace eyeballs
