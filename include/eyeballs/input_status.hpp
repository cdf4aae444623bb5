// SPDX-License-Identifier: BSL-1.0
// eyeballs — InputStatus: what RaceMachine made of one input (handle_*, cancel).
//
// Every input of the machine returns one. The machine's behaviour does not
// depend on whether the caller looks at it: an input that is not `accepted`
// changes nothing (its `now` still moves the machine's clock forward,
// docs/behaviour.md §1 rule 10). The C API maps it to a status code
// (eyeballs.h): accepted and late are EYEBALLS_OK, the two misuses
// EYEBALLS_ERR_STATE.
//
// The inputs are deliberately not [[nodiscard]]: late completions are normal
// in an event loop (a connect finishing after the race was won, a timer
// firing after the end), and callers that only feed the machine have nothing
// to do with the value. Callers that want to catch their own bugs check
// is_misuse(). docs/behaviour.md "Misuse" lists which input gives which value.
#pragma once

#include <cstdint>
#include <string_view>

namespace eyeballs {

enum class InputStatus : std::uint8_t {
    /// The machine took the input: it was waiting for it (for handle_timeout:
    /// it did whatever was due at `now`, possibly nothing; for cancel: the
    /// race ended).
    accepted,
    /// Benign and expected in an event loop: the race is over, or the attempt
    /// already ended (failed, timed out, closed or won). Nothing changed.
    late,
    /// An attempt id this machine never issued (0, or a number above the
    /// attempts it started). Nothing changed. A misuse.
    unknown_attempt,
    /// An input the machine cannot take in its current stage: an attempt's
    /// answer to an action it was not given (handle_connected before Connect,
    /// handle_bound without Bind, an answer given twice), a DNS answer to a
    /// question never asked or already answered, an HTTPS answer with
    /// `config.https` off or to an address query, a timer before start.
    /// Nothing changed. A misuse.
    out_of_order,
};

/// True for the statuses that mean the caller did something wrong.
constexpr bool is_misuse(InputStatus s) noexcept {
    return s == InputStatus::unknown_attempt || s == InputStatus::out_of_order;
}

/// The status's name, as spelled in the enum ("accepted", "late", ...).
constexpr std::string_view to_string(InputStatus s) noexcept {
    switch (s) {
        case InputStatus::accepted: return "accepted";
        case InputStatus::late: return "late";
        case InputStatus::unknown_attempt: return "unknown_attempt";
        case InputStatus::out_of_order: return "out_of_order";
    }
    return "?";
}

}  // namespace eyeballs
