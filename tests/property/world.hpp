// SPDX-License-Identifier: BSL-1.0
// The property tests' harness: a world (a parsed scenario, sim::Scenario) is
// played against the real RaceMachine by a small virtual-time driver of our
// own (independent of eyeballs-sim's, so the two can check each other), and
// the machine's trace is compared with the reference model's.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/race_machine.hpp"
#include "model.hpp"
#include "scenario.hpp"

namespace eyeballs::prop {

using model::Step;

/// An input the driver fed the machine (for the invariants that need to know
/// what the world said).
struct Fed {
    enum class Kind : std::uint8_t { opened, bound, connected, connect_failed, resolved, resolve_failed, cancel, timeout };
    Kind kind = Kind::timeout;
    Duration t{};
    std::uint32_t attempt = 0;
    int code = 0;
    std::optional<Endpoint> local;  ///< bound: the local tried
};

struct Run {
    enum class End : std::uint8_t { finished, stuck, runaway, start_failed };
    End end = End::finished;
    std::vector<Step> trace;  ///< every action, with OpenSocket and Bind
    std::vector<Fed> fed;     ///< every real input, in order
    Duration last{};          ///< virtual time when the run stopped
    RaceReport report;        ///< machine.report() at the end
    std::uint32_t in_flight_at_end = 0;
    /// handle_timeout(t) left a deadline at or before t (the machine would spin).
    bool timer_stalled = false;
    /// next_timeout() named an instant that had already passed.
    bool deadline_in_past = false;
    std::string start_error;
};

/// Extra inputs that must change nothing (docs/behaviour.md §1 rule 10): duplicates of the
/// event just delivered, results for unknown or closed attempts, answers to
/// OpenSocket/Bind given twice, early or repeated handle_timeout calls, time
/// going backwards on ignored inputs, DNS answers in addresses mode.
struct Noise {
    bool enabled = false;
    std::uint64_t seed = 0;
    int percent = 50;  ///< chance of a burst of noise after each real input
};

/// The fixed time point that is t=0 of every run.
TimePoint origin();

/// Called when a run stops, with the machine and the run's time (since t=0).
using AtEnd = std::function<void(RaceMachine& machine, Duration now)>;

/// Plays `world` against a fresh RaceMachine (docs/behaviour.md §4's delivery order).
Run run_machine(const sim::Scenario& world, const Noise& noise = {}, const AtEnd& at_end = {});

/// The world as scenario text (docs/behaviour.md §4), so a counterexample can be replayed
/// with `eyeballs-sim`.
std::string to_text(const sim::Scenario& world);
/// True when two worlds say the same thing (line numbers aside).
bool same_world(const sim::Scenario& a, const sim::Scenario& b, std::string* why = nullptr);

/// The trace with the lines of each instant in a canonical order (docs/behaviour.md §5: the
/// order of lines at one instant is free): by attempt, then open, bind,
/// connect, close; resolves first and the report last.
std::vector<Step> canonical(const std::vector<Step>& trace);
/// One line per step: "12.5 connect #2 192.0.2.1:443".
std::string to_text(const std::vector<Step>& trace);

/// Compares the machine's run with the model's expectation; empty when they
/// agree, otherwise what differs (with both traces).
std::string compare(const model::Expected& expected, const Run& run);

/// The attempt number an action is about (0 for Resolve and a Report without winner).
std::uint32_t attempt_of(const Action& a);

}  // namespace eyeballs::prop

namespace eyeballs::sim {
/// RapidCheck prints counterexamples with this: the world as scenario text.
void showValue(const Scenario& world, std::ostream& os);
}  // namespace eyeballs::sim
