// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: QUIC attempts' progress (issue 17 item 8).
//
// Two rules that only QUIC attempts bring, kept apart from the race:
//
// - The soft QUIC timer (Config::quic_progress). A QUIC attempt that has
//   heard nothing from its server when half the Connection Attempt Delay has
//   passed lets the next attempt start then; one that got a reply
//   (RaceMachine::handle_progress) keeps the whole delay. This is curl's
//   rule for HTTP/3 (lib/cf-https-connect.c: a "soft" eyeballs timeout of half
//   the "hard" one, after which the TCP attempt starts if the QUIC one has
//   received nothing). Draft v3 §6 sets no such rule; RFC 8305 §5's delay is
//   the hard one.
// - The "QUIC is broken here" verdict a race leaves in the History: a QUIC
//   attempt failed without ever hearing from its server, and a TCP attempt
//   won the race (Chromium marks an alternative service broken when its QUIC
//   job fails and the TCP job succeeds). A QUIC win is the opposite verdict.
//
// Calls go one way: the RaceMachine tells it of starts, replies, failures and
// the winner, and reads back a delay and a verdict. It never sees sockets,
// candidates or actions.
#pragma once

#include <cstdint>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/time.hpp"

namespace eyeballs::detail {

class QuicProgress {
public:
    enum class Verdict : std::uint8_t { none, broken, working };

    /// Attempt `attempt` (its number) started; `quic` says its transport.
    void on_start(std::uint32_t attempt, bool quic);
    /// A QUIC attempt got a reply from its server. Returns false when the
    /// attempt is not a QUIC attempt this race started (the input is ignored).
    bool on_progress(std::uint32_t attempt);
    /// An attempt failed (any stage); QUIC ones that heard nothing count
    /// toward the "broken" verdict.
    void on_failed(std::uint32_t attempt);

    /// The Next Connection Attempt Timer's length after the newest attempt:
    /// half of `full` while that attempt is QUIC and has heard nothing and
    /// `soft` (Config::quic_progress) is on; else `full`.
    Duration delay(Duration full, bool soft) const noexcept;

    /// What the race says of QUIC on its network, given how it ended:
    /// `winner_quic` is the winner's transport (nullopt: no winner).
    Verdict verdict(bool won, bool winner_quic) const noexcept;

    bool heard(std::uint32_t attempt) const noexcept;

private:
    std::vector<std::uint32_t> quic_;   // QUIC attempts started (numbers, ascending)
    std::vector<std::uint32_t> heard_;  // those that got a reply
    std::uint32_t newest_ = 0;          // the newest attempt's number
    bool newest_quic_ = false;
    bool failed_silent_ = false;  // a QUIC attempt failed before any reply
};

}  // namespace eyeballs::detail
