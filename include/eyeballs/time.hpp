// SPDX-License-Identifier: BSL-1.0
// eyeballs — the time types every input carries. The machine never reads a
// clock: the caller passes `now` on its own monotonic clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace eyeballs {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

namespace detail {

static_assert(std::is_same_v<TimePoint::duration, Duration>,
              "the saturating helpers assume a nanosecond steady_clock");

// Time arithmetic that cannot overflow (issue 14): every deadline the library
// computes ("start + timeout", "last start + delay") goes through these. Any
// origin of the caller's clock is allowed and a duration may be as long as
// Duration::max() ("never" in practice), so a plain `t + d` could pass the end
// of the representable range, which is undefined behaviour for signed
// integers. A sum past the end saturates to TimePoint::max() (a deadline past
// the end of representable time, which a real clock never reaches); one
// before the beginning to TimePoint::min().

/// t + d, clamped to [TimePoint::min(), TimePoint::max()].
constexpr TimePoint saturating_add(TimePoint t, Duration d) noexcept {
    using Rep = Duration::rep;
    const Rep a = t.time_since_epoch().count();
    const Rep b = d.count();
    if (b > 0 && a > std::numeric_limits<Rep>::max() - b) return TimePoint::max();
    if (b < 0 && a < std::numeric_limits<Rep>::min() - b) return TimePoint::min();
    return t + d;
}

/// to - from, clamped to [Duration::min(), Duration::max()].
constexpr Duration saturating_sub(TimePoint to, TimePoint from) noexcept {
    using Rep = Duration::rep;
    const Rep a = to.time_since_epoch().count();
    const Rep b = from.time_since_epoch().count();
    if (b < 0 && a > std::numeric_limits<Rep>::max() + b) return Duration::max();
    if (b > 0 && a < std::numeric_limits<Rep>::min() + b) return Duration::min();
    return to - from;
}

/// d × k for k ≥ 0, clamped to Duration::max() (and Duration::min() for d < 0).
constexpr Duration saturating_mul(Duration d, std::int64_t k) noexcept {
    using Rep = Duration::rep;
    const Rep a = d.count();
    if (k <= 0 || a == 0) return Duration::zero();
    if (a > 0 && a > std::numeric_limits<Rep>::max() / k) return Duration::max();
    if (a < 0 && a < std::numeric_limits<Rep>::min() / k) return Duration::min();
    return Duration(a * k);
}

}  // namespace detail
}  // namespace eyeballs
