// SPDX-License-Identifier: BSL-1.0
// eyeballs — RaceMachine: ECH and v3 §6.3 (pending handshakes, the downgrade
// guard, ECH retry). The rules are src/v3/crypto.hpp's; this file only applies
// them to the race's attempts and candidates.
#include <cerrno>

#include "eyeballs/race_machine.hpp"
#include "v3/crypto.hpp"
#include "v3/planner.hpp"

namespace eyeballs {

namespace {
bool offers_ech(const Service* s) noexcept { return s != nullptr && s->ech.has_value(); }
}  // namespace

// ---- §5.1 The ECH downgrade guard ------------------------------------------------

void RaceMachine::ech_guard() {
    // Unused candidates the guard refuses leave the race; attempts in flight
    // go on (one held before its handshake is failed when released). The
    // origin "offers ECH" by the services in force: when a fresh HTTPS answer
    // withdraws a stale answer's ECH services (§4.4, §7) and no other offers
    // it, what the guard refused comes back (unless withdrawn itself).
    if (config_.ech == EchMode::off || v3_.peek() == nullptr) return;
    const bool origin = v3().offers_ech();
    for (std::uint32_t i = 0; i < cands_.size(); ++i) {
        Candidate& c = cands_[i];
        if (c.attempt != 0) continue;
        const bool admitted = detail::ech_admits(config_, origin, offers_ech(service_of(c)));
        if (c.ech_refused) {
            if (admitted && (c.service == no_service || !v3().withdrawn(c.service))) {
                readmit(i);
                --v3().ech.refused;
            }
            continue;
        }
        if (c.dropped || admitted) continue;
        c.dropped = true;
        c.shadowed = false;
        c.ech_refused = true;
        --remaining_[group_family(c.remote) == Family::v6 ? 0 : 1];
        ++v3().ech.refused;
    }
}

std::string RaceMachine::ech_summary() const {
    // A race that failed with no error of its own: the guard left nothing.
    if (v3_.peek() == nullptr || v3().ech.refused == 0) return {};
    return std::to_string(v3().ech.refused) + " endpoint(s) without ECH not raced (" +
           (config_.ech == EchMode::required
                ? std::string("ech=required")
                : std::string("the origin offers ECH and ech-fallback=off")) +
           ")";
}

// ---- §6.3 Pending handshakes ---------------------------------------------------------

bool RaceMachine::ech_ready(TimePoint now, std::uint32_t slot) {
    Candidate& c = cands_[slot];
    if (c.state != AState::securing) return false;
    if (!detail::ech_admits(config_, v3().offers_ech(),
                            offers_ech(service_of(c)))) {
        record(Stage::tls, c.attempt, slot, c.remote.family(), ECONNABORTED, npos,
               "ECH downgrade guard: the origin offers ECH, this endpoint does not");
        fail_attempt(now, slot);
        return true;
    }
    push(QKind::crypto_ready, slot);
    return false;
}

bool RaceMachine::ech_connected(TimePoint now, std::uint32_t slot) {
    if (detail::holds_handshakes(config_) && https_pending()) {
        v3().ech.hold(slot);  // its CryptoReady comes with the HTTPS answer
        return false;
    }
    return ech_ready(now, slot);
}

void RaceMachine::ech_https_settled(TimePoint now) {
    if (config_.ech == EchMode::off || https_pending()) return;
    ech_guard();
    for (const std::uint32_t slot : v3().ech.release()) ech_ready(now, slot);
}

// ---- ECH retry ----------------------------------------------------------------------

Status RaceMachine::handle_ech_retry(TimePoint now, AttemptId id,
                                     std::vector<std::uint8_t> retry_configs) {
    now = enter(now);
    if (config_.ech == EchMode::off) {
        return Status::failure("ech is off: there is no ECH to retry");
    }
    if (phase_ == Phase::done) return Status::failure("the race has finished");
    const std::uint32_t slot = attempt_in(id, AState::securing);
    if (slot == npos) {
        return Status::failure("attempt #" + std::to_string(id.number()) +
                               " is not in its TLS handshake");
    }
    if (!offers_ech(service_of(cands_[slot]))) {
        return Status::failure("attempt #" + std::to_string(id.number()) +
                               " offered no ECH: retry configs do not apply");
    }
    if (retry_configs.empty()) return Status::failure("the retry configs are empty");
    const Endpoint remote = cands_[slot].remote;
    const Family family = remote.family();
    const std::uint16_t service = cands_[slot].service;
    if (!v3().ech.first_retry(remote, protocol_of(cands_[slot]))) {
        record(Stage::tls, cands_[slot].attempt, slot, family, EPROTO, npos,
               "ECH rejected again: retry configs are used once per endpoint");
        fail_attempt(now, slot);
        advance(now, false);
        return Status::failure("attempt #" + std::to_string(id.number()) + ": " +
                               remote.to_string() +
                               " was already retried with ECH retry configs (once per endpoint)");
    }
    record(Stage::tls, cands_[slot].attempt, slot, family, EPROTO, npos,
           "ECH rejected: retrying with the server's retry configs");
    fail_attempt(now, slot);
    const std::uint16_t retry = v3().retry_service(service, std::move(retry_configs));
    if (retry != detail::no_service) {
        Candidate c;
        c.remote = remote;
        c.service = retry;
        cands_.push_back(c);
        const auto at = static_cast<std::uint32_t>(cands_.size() - 1);
        link_sorted(at, at, true);
        fail_fast_ = true;  // at once, with the floor: the endpoint was already chosen
        triggered_ = true;
    }
    advance(now, false);
    return Status::success();
}

}  // namespace eyeballs
