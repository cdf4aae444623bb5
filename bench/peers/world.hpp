// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench — the loopback "world" every benchmarked client races against.
//
// One port number P on [::1] and on 127.0.0.1, built as one of three worlds
// (issue 7):
//
//   blackhole6  [::1]:P drops every SYN (a listen(0) socket whose accept queue
//               the world itself has filled), 127.0.0.1:P accepts.
//   refused6    nothing listens on [::1]:P (the port is held by a bound,
//               non-listening socket, so connects get RST), 127.0.0.1:P accepts.
//   both        both accept.
//
// An accepting side is several SO_REUSEPORT listeners on the same address,
// each with the largest backlog the kernel allows (somaxconn, 4096 here): a
// burst of 9000 handshakes then fits in the accept queues instead of turning
// into dropped SYNs and 1 s retransmits. The world runs in its own process
// (a forked child of eyeballs-bench, or eyeballs-bench-world for the other
// clients), so the client's CPU figures are the client's alone. It accepts
// connections and keeps them open until it ends (no client sees an end of
// file to read and answer during the measurement).
//
// Before it reports ready, the world measures the loopback round trip: the
// median time of 21 non-blocking connects to the side the clients will win
// on (127.0.0.1, or [::1] in `both`). Clients add it to the ideal
// time-to-connect.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace eyeballs::bench {

enum class WorldKind { blackhole6, refused6, both };

/// "blackhole6", "refused6", "both".
const char* world_name(WorldKind kind) noexcept;
std::optional<WorldKind> parse_world(std::string_view name) noexcept;

struct WorldInfo {
    std::uint16_t port = 0;
    std::chrono::nanoseconds rtt{0};  ///< median connect time on the winning side
};

/// Builds the world for a burst of `races` races, calls `ready` once it is
/// verified (a blackhole really drops a probe SYN), then accepts (and keeps)
/// connections until `control_fd` (a pipe's read end) reaches end of file or
/// SIGTERM/SIGINT arrives. With `keep_accepted` false, accepted connections
/// are closed at once instead (for curl, which otherwise waits for an HTTP
/// answer). Returns 0, or 1 after printing why the world could not be built.
int serve_world(WorldKind kind, std::size_t races, int control_fd,
                const std::function<void(const WorldInfo&)>& ready, bool keep_accepted = true);

/// Raises RLIMIT_NOFILE's soft limit to the hard limit; returns the new soft
/// limit.
std::uint64_t raise_nofile_limit() noexcept;

}  // namespace eyeballs::bench
