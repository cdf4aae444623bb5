// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: QUIC attempts' progress (quic_progress.hpp).
#include "v3/quic_progress.hpp"

#include <algorithm>

namespace eyeballs::detail {

namespace {
bool contains(const std::vector<std::uint32_t>& v, std::uint32_t n) {
    return std::binary_search(v.begin(), v.end(), n);
}
}  // namespace

void QuicProgress::on_start(std::uint32_t attempt, bool quic) {
    newest_ = attempt;
    newest_quic_ = quic;
    if (quic) quic_.push_back(attempt);  // numbers only grow: stays sorted
}

bool QuicProgress::on_progress(std::uint32_t attempt) {
    if (!contains(quic_, attempt)) return false;
    if (!contains(heard_, attempt)) {
        heard_.insert(std::upper_bound(heard_.begin(), heard_.end(), attempt), attempt);
    }
    return true;
}

void QuicProgress::on_failed(std::uint32_t attempt) {
    if (contains(quic_, attempt) && !contains(heard_, attempt)) failed_silent_ = true;
}

bool QuicProgress::heard(std::uint32_t attempt) const noexcept {
    return contains(heard_, attempt);
}

Duration QuicProgress::delay(Duration full, bool soft) const noexcept {
    // curl's soft timeout: half the delay while the QUIC attempt is silent.
    if (soft && newest_quic_ && !contains(heard_, newest_)) return full / 2;
    return full;
}

QuicProgress::Verdict QuicProgress::verdict(bool won, bool winner_quic) const noexcept {
    if (!won) return Verdict::none;  // nothing worked: not QUIC's fault alone
    if (winner_quic) return Verdict::working;
    return failed_silent_ ? Verdict::broken : Verdict::none;
}

}  // namespace eyeballs::detail
