// SPDX-License-Identifier: BSL-1.0
// eyeballs — the time types every input carries. The machine never reads a
// clock: the caller passes `now` on its own monotonic clock.
#pragma once

#include <chrono>

namespace eyeballs {

using Duration = std::chrono::nanoseconds;
using TimePoint = std::chrono::steady_clock::time_point;

}  // namespace eyeballs
