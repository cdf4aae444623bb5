// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect --send / --send-file: talk over the winner's socket after
// the race, like nc: write the data, then print what comes back until EOF or
// until nothing has arrived for the read timeout.
#pragma once

#include <cstddef>
#include <optional>
#include <ostream>
#include <string>

#include "eyeballs/time.hpp"

namespace eyeballs::tool {

struct TalkResult {
    std::size_t sent = 0;
    std::size_t received = 0;
    /// "eof" (the peer closed), "timeout" (read timeout), "cancelled" (the
    /// cancel fd), or "error" (see `error`).
    std::string end;
    std::string error;     ///< "write: EPIPE (Broken pipe)", ...
    std::string data;      ///< what came back (kept only when asked)
};

/// How talk() moves bytes over the connected fd: plain send/recv (the
/// default), or a TLS session after a --tls race. Each call moves what it can
/// without blocking and returns the count (> 0), 0 for the end of the stream
/// (recv), `again` with `events` set to what poll() must wait for first
/// (POLLIN / POLLOUT: TLS may need to read while writing), or `failed` with
/// `error` set ("write: EPIPE (Broken pipe)", "read: ...").
class Channel {
public:
    static constexpr long again = -2;
    static constexpr long failed = -1;
    virtual ~Channel() = default;
    virtual long send(const char* data, std::size_t size, short& events, std::string& error) = 0;
    virtual long recv(char* data, std::size_t size, short& events, std::string& error) = 0;
    /// Bytes already decrypted and waiting: recv() before polling again.
    virtual bool buffered() const { return false; }
};

/// Writes `data` to the connected socket `fd`, then reads until EOF, until
/// `read_timeout` passes with nothing received (nullopt: no limit), or until
/// `cancel_fd` (if >= 0) is readable. Each chunk read goes to `out` as it
/// arrives when `out` is given, else it is kept in TalkResult::data. Never
/// closes `fd`. Works on blocking and non-blocking sockets (it polls).
/// With `channel`, the bytes go through it (--send over --tls); without, plain
/// send/recv on `fd`.
TalkResult talk(int fd, const std::string& data, std::optional<Duration> read_timeout,
                int cancel_fd, std::ostream* out, Channel* channel = nullptr);

/// Reads a whole file for --send-file; nullopt with `error` set when it fails.
std::optional<std::string> read_whole_file(const std::string& path, std::string& error);

}  // namespace eyeballs::tool
