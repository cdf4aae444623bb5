// SPDX-License-Identifier: BSL-1.0
// eyeballs — RaceMachine: QUIC attempts' progress (issue 17 item 8).
//
// Kept apart from race_machine.cpp: the soft QUIC timer and the "QUIC is
// broken here" verdict live in detail::QuicProgress (src/v3/quic_progress.hpp);
// these members only hand it the race's events and read its answers back.
// Without config.https no attempt is QUIC and none of this touches the planner.
#include "eyeballs/history.hpp"
#include "eyeballs/race_machine.hpp"
#include "v3/planner.hpp"

namespace eyeballs {

Duration RaceMachine::next_delay() const noexcept {
    // curl's soft timer: half the delay after a QUIC attempt that is silent.
    if (!config_.quic_progress || v3_.peek() == nullptr) return current_delay_;
    return v3().quic_progress.delay(current_delay_, true);
}

void RaceMachine::quic_started(const Candidate& c) {
    if (!config_.https) return;
    v3().quic_progress.on_start(c.attempt, protocol_of(c) == Protocol::quic);
}

void RaceMachine::quic_failed(const Candidate& c) {
    if (config_.https && c.attempt != 0) v3().quic_progress.on_failed(c.attempt);
}

void RaceMachine::quic_verdict(TimePoint now, std::uint32_t winner_slot) {
    if (!config_.https || config_.history == nullptr || v3_.peek() == nullptr) return;
    const bool won = winner_slot != npos;
    const bool quic = won && protocol_of(cands_[winner_slot]) == Protocol::quic;
    switch (v3().quic_progress.verdict(won, quic)) {
        case detail::QuicProgress::Verdict::broken:
            // Chromium: a QUIC job that failed while TCP worked marks QUIC
            // broken (net/http/broken_alternative_services.cc's backoff).
            config_.history->record_quic_broken(config_.network, now);
            break;
        case detail::QuicProgress::Verdict::working:
            config_.history->record_quic_working(config_.network);
            break;
        case detail::QuicProgress::Verdict::none:
            break;
    }
}

InputStatus RaceMachine::handle_progress(TimePoint now, AttemptId id) {
    now = enter(now);
    // Attempts exist only while racing: otherwise the id is unknown, or late.
    if (phase_ != Phase::racing) return refused(id);
    const std::uint32_t slot = lookup(id);
    if (slot == npos || !in_flight_state(cands_[slot].state)) return refused(id);
    // Without https every attempt is TCP; progress is a QUIC attempt's.
    if (!config_.https || v3_.peek() == nullptr) return InputStatus::out_of_order;
    if (protocol_of(cands_[slot]) != Protocol::quic) return InputStatus::out_of_order;
    v3().quic_progress.on_progress(cands_[slot].attempt);
    // The Next Connection Attempt Timer may now be later; nothing starts.
    return InputStatus::accepted;
}

}  // namespace eyeballs
