// eyeballs — the actions a RaceMachine asks its adapter to perform.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

class RaceMachine;

/// Names one connection attempt. Issued by the machine; attempts are numbered
/// from 1 in start order (SPEC §5), and two ids are equal when their numbers
/// are. A result for an unknown or finished id is ignored.
class AttemptId {
public:
    /// No attempt (number 0): false, and ignored by every input.
    constexpr AttemptId() noexcept = default;
    /// For tests and adapters that keep attempts by number. A number the
    /// machine never issued names no attempt: inputs with it are ignored.
    constexpr explicit AttemptId(std::uint32_t number) noexcept : number_(number) {}
    /// 1, 2, ... in start order; 0 for no attempt.
    constexpr std::uint32_t number() const noexcept { return number_; }
    /// True when it names an attempt (number != 0).
    constexpr explicit operator bool() const noexcept { return number_ != 0; }
    friend constexpr bool operator==(AttemptId a, AttemptId b) noexcept {
        return a.number_ == b.number_;
    }
    friend constexpr bool operator!=(AttemptId a, AttemptId b) noexcept { return !(a == b); }
    friend constexpr bool operator<(AttemptId a, AttemptId b) noexcept {
        return a.number_ < b.number_;
    }

private:
    friend class RaceMachine;
    constexpr AttemptId(std::uint32_t number, std::uint32_t slot) noexcept
        : number_(number), slot_(slot) {}
    std::uint32_t number_ = 0;
    std::uint32_t slot_ = UINT32_MAX;  // a lookup hint, not part of identity
};

/// Ask DNS for the family's addresses (AAAA for v6, A for v4). Answer with
/// handle_resolved or handle_resolve_failed.
struct Resolve {
    Family family = Family::v6;
    friend bool operator==(const Resolve& a, const Resolve& b) { return a.family == b.family; }
};

/// Create a socket for `remote`'s family. Answer at once with handle_opened
/// (an error code when socket creation failed). The attempt has started.
struct OpenSocket {
    AttemptId attempt;
    Endpoint remote;
    friend bool operator==(const OpenSocket& a, const OpenSocket& b) {
        return a.attempt == b.attempt && a.remote == b.remote;
    }
};

/// Bind the attempt's socket to `local`. Answer at once with handle_bound.
struct Bind {
    AttemptId attempt;
    Endpoint local;
    friend bool operator==(const Bind& a, const Bind& b) {
        return a.attempt == b.attempt && a.local == b.local;
    }
};

/// Start a non-blocking connect of the attempt's socket to `remote`; `local`
/// is the address it is bound to, if any. Answer with handle_connected or
/// handle_connect_failed, now or later.
struct Connect {
    AttemptId attempt;
    Endpoint remote;
    std::optional<Endpoint> local;
    friend bool operator==(const Connect& a, const Connect& b) {
        return a.attempt == b.attempt && a.remote == b.remote && a.local == b.local;
    }
};

/// Close the attempt's socket. Comes exactly once for every opened socket that
/// failed, lost or was cancelled; never for the winner.
struct Close {
    AttemptId attempt;
    friend bool operator==(const Close& a, const Close& b) { return a.attempt == b.attempt; }
};

enum class Outcome : std::uint8_t { connected, failed, cancelled };
/// "connected", "failed", "cancelled" (a static string; "unknown" for a
/// value outside the enum).
const char* outcome_name(Outcome o) noexcept;

/// The race is over; this is the last action. The winner's socket now belongs
/// to the caller. RaceMachine::report() has the details (errors, timings).
struct Report {
    Outcome outcome = Outcome::failed;
    AttemptId winner;                ///< connected only
    std::optional<Endpoint> remote;  ///< connected only
    friend bool operator==(const Report& a, const Report& b) {
        return a.outcome == b.outcome && a.winner == b.winner && a.remote == b.remote;
    }
};

using Action = std::variant<Resolve, OpenSocket, Bind, Connect, Close, Report>;

/// One line, e.g. "connect #2 192.0.2.1:443 from 192.0.2.9:0": "resolve
/// AAAA", "open #1 [2001:db8::1]:443", "bind #1 192.0.2.9:0", "close #1",
/// "report connected #2 192.0.2.1:443", "report failed".
std::string to_string(const Action& action);
/// Writes to_string(action).
std::ostream& operator<<(std::ostream& os, const Action& action);
/// Writes "#N".
std::ostream& operator<<(std::ostream& os, AttemptId id);

}  // namespace eyeballs
