// SPDX-License-Identifier: BSL-1.0
// A deliberately simple reference model of docs/behaviour.md §1–§3, for the property tests.
//
// It is written from docs/behaviour.md alone, not from src/race_machine.cpp, and it is
// shaped differently on purpose: the machine is an event-driven state machine
// that derives its deadlines from its state; the model is a discrete-event
// simulation of a whole *world* (a parsed scenario: the address list or the
// DNS answers with their times, every remote's open/connect outcome and delay,
// every local's bind outcome, a cancel time, the configuration) that keeps an
// explicit table of timers and walks virtual time instant by instant:
//
//   at each instant: deliver the events due (in the order they were
//   scheduled); then fire the first due timer in docs/behaviour.md §1 rule 8's order
//   (overall, attempt timeouts in attempt order, resolution delay, next
//   attempt); deliver any event that timer created at this instant; fire the
//   next due timer; ... until nothing is due, then move to the next instant.
//
// The model's output is the trace of actions it expects (with OpenSocket and
// Bind, which the JSON trace does not show) and the report it expects.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "scenario.hpp"

namespace eyeballs::model {

/// One action at a virtual time (since the start of the race).
struct Step {
    Duration t{};
    Action action;
    friend bool operator==(const Step& a, const Step& b) { return a.t == b.t && a.action == b.action; }
};

/// What the model expects of one attempt at the end of the run.
struct AttemptEnd {
    enum class State : std::uint8_t { in_flight, connected, failed, closed };
    std::uint32_t number = 0;
    Endpoint remote;
    std::optional<Endpoint> local;
    Duration started{};
    std::optional<Duration> ended;
    State state = State::in_flight;
    friend bool operator==(const AttemptEnd& a, const AttemptEnd& b) {
        return a.number == b.number && a.remote == b.remote && a.local == b.local &&
               a.started == b.started && a.ended == b.ended && a.state == b.state;
    }
};

struct Expected {
    std::vector<Step> trace;
    /// A Report came out; otherwise the run can never finish (eyeballs-sim's exit 3).
    bool finished = false;
    Duration end{};  ///< when the report came out, or the last instant anything happened
    Outcome outcome = Outcome::failed;
    std::uint32_t winner = 0;
    bool overall_timeout = false;
    /// Every recorded error in report order (docs/behaviour.md §3). `detail` is not modelled.
    std::vector<Error> errors;
    /// The summary errno (docs/behaviour.md §3): the single error's, the one all share, or 0.
    int code = 0;
    std::vector<AttemptEnd> attempts;
};

/// Runs the world described by `world` through the model.
Expected run_model(const sim::Scenario& world);

}  // namespace eyeballs::model
