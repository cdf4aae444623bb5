// eyeballs — race configuration (SPEC §1, §2, §4 `config`).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

using Duration = std::chrono::nanoseconds;

/// RFC 8305 §5: "a recommended value of 250 milliseconds".
inline constexpr Duration default_attempt_delay = std::chrono::milliseconds(250);
/// RFC 8305 §5: "the Connection Attempt Delay MUST have a lower bound ... of 10
/// milliseconds" and "SHOULD have an upper bound ... of 2 seconds".
inline constexpr Duration min_attempt_delay_bound = std::chrono::milliseconds(10);
inline constexpr Duration max_attempt_delay_bound = std::chrono::seconds(2);
/// RFC 8305 §3: "The recommended value for the Resolution Delay is 50 milliseconds."
inline constexpr Duration default_resolution_delay = std::chrono::milliseconds(50);
inline constexpr Duration max_resolution_delay = std::chrono::seconds(2);
/// RFC 8305 §5: "a subsequent connection MUST NOT be started within 10
/// milliseconds of the previous attempt". Values below it depart from the RFC
/// (curl, Go and aiohappyeyeballs fail over at once); up to 100 ms is accepted.
inline constexpr Duration default_min_start_gap = std::chrono::milliseconds(10);
inline constexpr Duration max_min_start_gap = std::chrono::milliseconds(100);

/// Everything a race can be told. The defaults are RFC 8305's.
struct Config {
    /// Connection Attempt Delay (RFC 8305 §5). nullopt = sequential mode
    /// (`attempt-delay=none`): one attempt at a time.
    std::optional<Duration> attempt_delay = default_attempt_delay;
    /// Resolution Delay (RFC 8305 §3), DNS mode only. 0 … 2 s.
    Duration resolution_delay = default_resolution_delay;
    /// First Address Family Count (RFC 8305 §4), ≥ 1.
    std::uint32_t family_count = 1;
    /// Interleave families (RFC 8305 §4). nullopt = on when racing, off when
    /// sequential, as aiohappyeyeballs does.
    std::optional<bool> interleave;
    /// Fails an attempt with ETIMEDOUT this long after it starts. > 0.
    std::optional<Duration> attempt_timeout;
    /// Ends the race this long after it starts. > 0.
    std::optional<Duration> overall_timeout;
    /// No attempt starts within this of the previous start. 0 … 100 ms.
    Duration min_start_gap = default_min_start_gap;
    /// Local bind candidates (aiohappyeyeballs `local_addr_infos`): each attempt
    /// binds to the first of its own family that works.
    std::vector<Endpoint> local;

    bool racing() const noexcept { return attempt_delay.has_value(); }
    bool interleaving() const noexcept { return interleave.value_or(racing()); }
};

/// Checks every rule above. Returns nullopt when valid, otherwise a message that
/// names the setting and the rule it breaks, e.g. "attempt-delay 5 ms is outside
/// 10 ms … 2 s (RFC 8305 §5)".
std::optional<std::string> validate(const Config& config);

/// Formats a duration in milliseconds the way messages and traces write it:
/// "250", "0.5", "1500" (exact; trailing zeros dropped).
std::string format_ms(Duration d);

}  // namespace eyeballs
