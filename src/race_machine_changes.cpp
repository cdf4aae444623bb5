// SPDX-License-Identifier: BSL-1.0
// eyeballs — RaceMachine: answers that change during the race (Happy Eyeballs
// v3 §4.3, §4.4, §7). The rules — which input an answer is, what a change
// removes, the order of the complete list — are src/v3/changes.hpp's; this
// file applies them to the candidates. Only with config.https in DNS mode:
// an RFC 8305 race never gets here.
#include <algorithm>

#include "eyeballs/race_machine.hpp"
#include "v3/services.hpp"
#include "v3/changes.hpp"
#include "v3/planner.hpp"

namespace eyeballs {

namespace {
constexpr std::size_t idx(Family f) noexcept { return static_cast<std::size_t>(f); }
}  // namespace

InputStatus RaceMachine::handle_stale(TimePoint now, const Resolve& query,
                                      const Endpoint* addresses, std::size_t count) {
    return answer_change(now, query, addresses, count, true);
}

InputStatus RaceMachine::handle_dns_update(TimePoint now, const Resolve& query,
                                           const Endpoint* addresses, std::size_t count) {
    return answer_change(now, query, addresses, count, false);
}

InputStatus RaceMachine::answer_change(TimePoint now, const Resolve& query,
                                       const Endpoint* addresses, std::size_t count, bool stale) {
    now = enter(now);
    if (phase_ == Phase::done) return InputStatus::late;
    if (!config_.https || !dns_mode_ || query.https) return InputStatus::out_of_order;
    if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
    const std::uint32_t t = target_of(query);
    if (t == npos) return InputStatus::out_of_order;
    const Family f = query.family;
    const detail::AnswerRole role = detail::answer_role(v3().names[t], f, !stale);
    if (stale) {
        // §4.4: raced as the question's answer; the question stays open for
        // its fresh one (outstanding() counts it, so the race waits for it).
        if (role != detail::AnswerRole::first) return InputStatus::out_of_order;
        v3().names[t].stale[idx(f)] = true;
        const InputStatus s =
            t == 0 ? handle_resolved(now, f, addresses, count) : resolved(now, t, f, addresses, count);
        if (s != InputStatus::accepted) v3().names[t].stale[idx(f)] = false;
        return s;
    }
    if (role == detail::AnswerRole::refused) return InputStatus::out_of_order;
    return change_answer(now, t, f, addresses, count);
}

InputStatus RaceMachine::handle_stale_https(TimePoint now, const Resolve& query,
                                            const SvcbRecord* records, std::size_t count) {
    now = enter(now);
    if (phase_ == Phase::done) return InputStatus::late;
    if (!config_.https || !dns_mode_ || !query.https) return InputStatus::out_of_order;
    if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
    const std::uint32_t t = target_of(query);
    // A name never asked, or whose HTTPS question was answered already.
    if (t == npos || t != v3().names.https_target()) return InputStatus::out_of_order;
    const detail::HttpsAnswer answer = detail::sort_out(records, records != nullptr ? count : 0);
    // Nothing to race: no ServiceMode record to plan from, or an alias (whose
    // chain would be asked on old data). The question stays as it was, and
    // its answer comes as a first one (handle_https).
    if (answer.alias != nullptr || answer.service_mode.empty()) return InputStatus::accepted;
    note_answer(t, Family::v6, true, nullptr, 0, count);
    const detail::HttpsStep step = v3().on_stale_https(t, records, count, config_);
    for (const std::uint32_t name : step.ask_addresses) {
        push(QKind::resolve6, name);
        push(QKind::resolve4, name);
    }
    add_service_candidates(step);
    ech_https_settled(now);
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::fresh_https(TimePoint now, const SvcbRecord* records,
                                     std::size_t count) {
    // §4.4: the fresh answer to a stale HTTPS one. No records (no data, or the
    // query failed): the stale services stay, as a resolver serving stale
    // data keeps them (RFC 8767); HTTPS is optional, so no error either.
    if (records == nullptr || count == 0) {
        v3().keep_stale_https();
        advance(now, false);
        return InputStatus::accepted;
    }
    const detail::HttpsStep step = v3().on_fresh_https(records, count, config_);
    // §7: the untried endpoints of the services it no longer has leave (a
    // twin they shadowed comes back); attempts made from them go on.
    std::vector<std::uint32_t> gone;
    for (std::uint32_t i = 0; i < cands_.size(); ++i) {
        Candidate& c = cands_[i];
        if (c.attempt != 0 || c.service == no_service ||
            std::find(step.withdrawn.begin(), step.withdrawn.end(), c.service) ==
                step.withdrawn.end()) {
            continue;
        }
        if (!c.dropped) {
            --remaining_[idx(group_family(c.remote))];
            gone.push_back(i);
        }
        c.dropped = true;
        c.shadowed = false;
    }
    for (const std::uint32_t i : gone) revive(cands_[i]);
    if (step.ask_https != detail::no_target) push(QKind::resolve_https, step.ask_https);
    for (const std::uint32_t name : step.ask_addresses) {
        push(QKind::resolve6, name);
        push(QKind::resolve4, name);
    }
    // Services it has again may have moved (a new one at their priority
    // shuffles them anew): the list is sorted before the new ones join it,
    // and again with them (add_candidates does).
    resort_pending();
    add_service_candidates(step);
    resort_pending();
    ech_https_settled(now);
    advance(now, false);
    return InputStatus::accepted;
}

bool RaceMachine::changing(std::uint32_t target, Family family) const noexcept {
    return config_.https && dns_mode_ && v3_.peek() != nullptr && target < v3().names.size() &&
           detail::answer_role(v3().names[target], family, false) == detail::AnswerRole::fresh;
}

InputStatus RaceMachine::fresh_failed(TimePoint now, std::uint32_t target, Family family,
                                      int code, std::string_view detail) {
    // The fresh query for a stale answer failed. "No data" is an answer: the
    // name has no such addresses now. Any other failure leaves the stale
    // addresses in use (what a resolver serving stale data does, RFC 8767).
    if (code == 0 && detail.empty()) return change_answer(now, target, family, nullptr, 0);
    v3().names[target].stale[idx(family)] = false;
    record(Stage::resolve, 0, target == 0 ? npos : target, family, code, npos, detail);
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::change_answer(TimePoint now, std::uint32_t target, Family family,
                                       const Endpoint* addresses, std::size_t count) {
    detail::Target& tg = v3().names[target];
    const std::size_t f = idx(family);
    tg.stale[f] = false;
    tg.failed[f] = false;
    // §7: what the old answer gave the race (NAT64 and DNS64 applied) leaves
    // the list when not yet tried; attempts made from it go on untouched.
    std::vector<Endpoint> produced;
    for (const Endpoint& e : tg.answer[f]) {
        if (auto a = admit(e, family, true)) produced.push_back(*a);
    }
    std::vector<std::uint32_t> gone;
    for (std::uint32_t i = 0; i < cands_.size(); ++i) {
        Candidate& c = cands_[i];
        if (c.attempt != 0 || c.hint) continue;
        const bool from_target =
            c.service == no_service ? target == 0 : v3().service_target(c.service) == target;
        if (!from_target || !detail::came_from(c.remote, produced)) continue;
        if (!c.dropped) {
            --remaining_[idx(group_family(c.remote))];
            gone.push_back(i);
        }
        c.dropped = true;
        c.shadowed = false;
    }
    for (const std::uint32_t i : gone) revive(cands_[i]);
    // The new answer comes in as a first one would: the origin's fallback
    // group and every service naming this target; hints go (§7, RFC 9460
    // §7.3). What is still in the race from before is not counted again as a
    // duplicate (config.duplicates' count is for repeats within the answers).
    tg.answer[f].clear();
    const std::uint32_t duplicates = duplicates_dropped_;
    const std::vector<Endpoint>& kept = keep_answer(target, family, addresses, count);
    const bool positive = !kept.empty();
    tg.addr[f] = positive ? detail::DnsState::positive : detail::DnsState::negative;
    if (target == 0) {
        dns_[f] = positive ? DnsState::positive : DnsState::negative;
        add_candidates(family, true, kept.data(), kept.size(), false);
    }
    if (!positive) record(Stage::resolve, 0, target == 0 ? npos : target, family, 0, npos, {});
    target_answer(family, target, true);
    duplicates_dropped_ = duplicates;
    resort_pending();
    advance(now, false);
    return InputStatus::accepted;
}

void RaceMachine::resort_pending() {
    // §7 (issue #95 of the draft): every endpoint not yet attempted, in its
    // place among all of them. Each family's list is sorted again; the
    // interleaving of families happens as attempts are taken (pick_slot).
    if (!config_.https || !dns_mode_ || v3_.peek() == nullptr) return;
    std::vector<std::uint32_t> slots;
    std::vector<detail::Pending> pending;
    for (std::size_t g = 0; g < 2; ++g) {
        slots.clear();
        pending.clear();
        for (std::uint32_t s = fam_head_[g]; s != npos; s = cands_[s].next_in_family) {
            Candidate& c = cands_[s];
            if (c.dropped || c.attempt != 0) {
                c.off_family = true;  // revive() links it again if it comes back
                continue;
            }
            slots.push_back(s);
            pending.push_back(detail::Pending{rank_of(c), c.remote});
        }
        const std::vector<std::size_t> order =
            detail::resort(pending, config_, config_.sorting(dns_mode_));
        std::uint32_t prev = npos;
        fam_head_[g] = npos;
        for (const std::size_t k : order) {
            const std::uint32_t s = slots[k];
            if (prev == npos) {
                fam_head_[g] = s;
            } else {
                cands_[prev].next_in_family = s;
            }
            prev = s;
        }
        if (prev != npos) cands_[prev].next_in_family = npos;
        fam_tail_[g] = prev;
    }
}

}  // namespace eyeballs
