// SPDX-License-Identifier: BSL-1.0
// eyeballs — RaceMachine: RFC 8305 Happy Eyeballs as a sans-I/O state machine.
//
// Theory of operation
// ===================
//
// The race moves through four phases:
//
//     idle ──start()──────────────► racing ──(winner | all failed | overall
//       │                             ▲        timeout | cancel)──► done
//       └──start_resolving()──► resolving ──(first attempt starts)──┘
//
// Candidates. Every remote the race may try is a Candidate in `cands_`, kept
// in arrival order, and linked into two lists of *unused* candidates: one per
// family (for interleaving, docs/behaviour.md §1 rule 1) and one in arrival order (for
// interleave=off). Taking a candidate pops it from the head of its family list
// (and of the order list when that one is in use). A candidate is used by at
// most one attempt, so an attempt's state lives in its candidate's slot; its
// AttemptId carries the slot as a lookup hint.
//
// An attempt's life (one candidate's `state`):
//
//     unused ──start──► opening ──opened──► binding ──bound──► connecting
//                         │                   │  ▲ bind failed,    │   │
//                         │                   │  └─ next local ─┘  │   │
//                     open failed     all binds failed    failed/timeout  connected
//                         ▼                   ▼                  ▼       ▼
//                       failed ◄───────────────────────────────────     won
//     (opening/binding/connecting) ──race ends──► closed
//
// An attempt is *in flight* from its start until it fails, wins or is closed.
// Every socket handed out by OpenSocket gets exactly one Close unless it wins;
// a socket whose creation failed gets none.
//
// When does the next attempt start? After every input the machine asks
// `start_due()`. A start is *immediate* (it happens at this input, at `now`)
// when nothing is in flight (rule 3: the race never idles), when the newest
// attempt failed while a candidate was left (fail fast), or when the Next
// Connection Attempt Timer (previous start + attempt delay) has already
// passed. An immediate start still honours the floor (rule 4: previous start +
// min-start-gap); when the floor is still ahead, the start is deferred to it
// and that deferred start is the Next Connection Attempt Timer. Otherwise, when
// racing, the next start is due at max(previous start + delay, floor), and it
// only fires from handle_timeout(), so that every event of an instant is
// delivered before the timers of that instant (docs/behaviour.md §4). In sequential mode a
// start is only ever immediate.
//
// Timers are not stored as a queue: each deadline is derived from the state
// (overall: start + overall timeout; attempt timeouts: in-flight attempts'
// start + attempt timeout; resolution delay; next start), and next_timeout() is
// their minimum. handle_timeout(now) fires whatever is due, in docs/behaviour.md §1 rule 8's
// order: overall, attempt timeouts, resolution delay, next attempt.
//
// Happy Eyeballs v3 (config.https). The same candidates and lists, with three
// additions, planned by `v3()`, a detail::Planner (src/v3/: names.cpp for the
// names and queries of draft §4.1/§4.2.1 and RFC 9460 §2.4.2/§3/§9.1,
// services.cpp for records → services and their detail::Rank of draft §5.1/§5.2,
// endpoints.cpp for hints vs answers of §4.2.1/§7, planner.cpp the front;
// dns64.cpp for which address is raced — NAT64 synthesis, the editor's copy
// §8.2 de-synthesis, ipv6=none — and sorting.cpp for §5.3's history rules).
// (1) Names: the planner's `names` hold the origin ([0]) and every target or
// alias name an HTTPS record brought, each with its AAAA/A state and answers;
// Resolve actions name them. (2) Services: each ServiceMode record gives a
// Service per transport (QUIC for h3 ids when config.quic, TCP for the rest),
// with a Rank (QUIC before TCP, ECH before none, SvcPriority, the seeded
// shuffle); a candidate points at its service and takes its rank from it
// (plain A/AAAA answers rank last, as the SVCB-optional fallback). The family
// and arrival lists are kept sorted by rank (stable), and pick_slot() takes
// the best rank present, interleaving families within it. (3) Twins: one
// attempt per remote and transport. Of two unused twins the worse-ranked is
// `dropped` and `shadowed` (skipped lazily); it comes back when its better
// twin, a hint, is replaced by its target's own answer. The first attempt
// waits for v3 §4.2: some address (hints count) and the AAAA answer and the
// HTTPS answer — or the Resolution Delay after the first address. With
// Success::handshake an attempt is in flight until handle_secured(); its
// connect pushes the attempt timer back. Without https none of this runs: no
// service is set, no rank is looked at, and the planner is never made.
//
// Output. Actions wait in a small FIFO ring of (kind, slot) pairs and are
// turned into values when polled; closes are flags on the candidates, polled
// before the FIFO, so a race that ends with many attempts in flight queues
// nothing. The Report is the last action; after it every input is ignored.

#include "eyeballs/race_machine.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <string>
#include <utility>

#include "eyeballs/history.hpp"
#include "eyeballs/sort.hpp"
#include "v3/dns64.hpp"
#include "v3/crypto.hpp"
#include "v3/planner.hpp"
#include "v3/sorting.hpp"

namespace eyeballs {

namespace {

constexpr std::size_t idx(Family f) noexcept { return static_cast<std::size_t>(f); }
constexpr Family other(Family f) noexcept { return f == Family::v6 ? Family::v4 : Family::v6; }

detail::DnsState v3_state(bool positive) noexcept {
    return positive ? detail::DnsState::positive : detail::DnsState::negative;
}

}  // namespace

RaceMachine::RaceMachine(Config config) : config_(std::move(config)) {
    // v3 §5.3 convergence, decided once for the race: the sorting code reads
    // history_explore as 0 (use the history) or 1000 (sort without it).
    if (config_.history != nullptr && config_.history_explore > 0 &&
        config_.history_explore < 1000) {
        // The first race of a history keeps the seed's own decision.
        const std::uint64_t race = config_.history->next_race();
        const std::uint64_t seed = config_.shuffle_seed ^ (race * 0x9e3779b97f4a7c15ull);
        config_.history_explore = detail::history_explored(seed, config_.history_explore) ? 1000 : 0;
    }
}

// ---- helpers ---------------------------------------------------------------

TimePoint RaceMachine::clamp(TimePoint now) {
    // Time never goes backwards inside the machine (docs/behaviour.md §1 rule 10).
    if (now > now_) now_ = now;
    return now_;
}

TimePoint RaceMachine::enter(TimePoint now) {
    now = clamp(now);
    // Whether this event itself makes the next start immediate; see start_due().
    triggered_ = false;
    return now;
}

bool RaceMachine::dns_outstanding() const noexcept {
    if (!dns_mode_) return false;
    if (dns_[0] == DnsState::pending || dns_[1] == DnsState::pending) return true;
    if (!config_.https) return false;
    return v3().outstanding();
}

void RaceMachine::push(QKind kind, std::uint32_t slot) {
    if (kind == QKind::resolve6 || kind == QKind::resolve4 || kind == QKind::resolve_https) {
        // The query log (queries()): the query is asked now. One allocation
        // covers a plain race's two queries and v3's HTTPS one.
        if (queries_.empty()) {
            queries_.reserve(4);
            query_targets_.reserve(4);
        }
        DnsQuery q;
        const std::uint32_t target = slot == npos ? 0 : slot;
        if (target != 0) q.name = v3().names[target].name;
        q.family = kind == QKind::resolve4 ? Family::v4 : Family::v6;
        q.https = kind == QKind::resolve_https;
        q.asked = now_;
        queries_.push_back(std::move(q));
        query_targets_.push_back(target);
    }
    if (overflow_.empty() && ring_size_ < ring_capacity) {
        ring_[(ring_head_ + ring_size_) % ring_capacity] = QEntry{kind, slot};
        ++ring_size_;
        return;
    }
    overflow_.push_back(QEntry{kind, slot});  // the caller did not drain: keep order
}

bool RaceMachine::pop(QEntry& out) {
    if (ring_size_ > 0) {
        out = ring_[ring_head_];
        ring_head_ = static_cast<std::uint8_t>((ring_head_ + 1) % ring_capacity);
        --ring_size_;
        return true;
    }
    if (overflow_head_ < overflow_.size()) {
        out = overflow_[overflow_head_++];
        if (overflow_head_ == overflow_.size()) {
            overflow_.clear();
            overflow_head_ = 0;
        }
        return true;
    }
    return false;
}

void RaceMachine::mark_close(Candidate& c) {
    if (c.socket_open && !c.close_pending) {
        c.close_pending = true;
        ++pending_closes_;
    }
}

void RaceMachine::record(Stage stage, std::uint32_t attempt, std::uint32_t slot, Family family,
                         int code, std::uint32_t local, std::string_view detail) {
    std::uint32_t detail_index = npos;
    if (!detail.empty()) {
        detail_index = static_cast<std::uint32_t>(details_.size());
        details_.emplace_back(detail);
    }
    errors_.push_back(ErrorRec{attempt, slot, local, detail_index, code, stage, family});
}

std::uint32_t RaceMachine::attempt_in(AttemptId id, AState state) const {
    const std::uint32_t slot = lookup(id);
    return slot != npos && cands_[slot].state == state ? slot : npos;
}

InputStatus RaceMachine::refused(AttemptId id) const {
    // Why an attempt input was not taken: an id never issued, the race over
    // or the attempt ended (late: normal in an event loop), or an answer the
    // attempt's stage does not wait for.
    const std::uint32_t slot = lookup(id);
    if (slot == npos) return InputStatus::unknown_attempt;
    if (phase_ == Phase::done || !in_flight_state(cands_[slot].state)) return InputStatus::late;
    return InputStatus::out_of_order;
}

std::uint32_t RaceMachine::lookup(AttemptId id) const {
    if (id.number_ == 0 || id.number_ > started_count_) return npos;
    if (id.slot_ < cands_.size() && cands_[id.slot_].attempt == id.number_) return id.slot_;
    for (std::uint32_t i = 0; i < cands_.size(); ++i) {
        if (cands_[i].attempt == id.number_) return i;
    }
    return npos;
}

// ---- commands --------------------------------------------------------------

Status RaceMachine::check_startable() const {
    if (phase_ != Phase::idle) {
        return Status::failure(phase_ == Phase::done ? "the race has already finished"
                                                     : "the race has already started");
    }
    if (auto problem = validate(config_)) return Status::failure(*problem);
    return Status::success();
}

Status RaceMachine::start(TimePoint now, const Endpoint* remotes, std::size_t count) {
    Status s = check_startable();
    if (!s) return s;
    if (remotes == nullptr || count == 0) {
        return Status::failure("no addresses to race: the address list is empty");
    }
    for (std::size_t i = 0; i < count; ++i) {
        if (remotes[i].port() == 0) {
            // Issue 14: a connect to port 0 is never what the caller meant.
            return Status::failure("remote " + remotes[i].to_string() + " (address " +
                                   std::to_string(i + 1) + " of " + std::to_string(count) +
                                   ") has port 0, which is not a valid remote port");
        }
    }
    if (config_.only_family) {
        bool any = false;
        for (std::size_t i = 0; i < count && !any; ++i) any = admit(remotes[i], Family::v6, false).has_value();
        if (!any) {
            return Status::failure(std::string("no address can be raced: family=") +
                                   (*config_.only_family == Family::v4 ? "ipv4" : "ipv6") +
                                   " and none of the " + std::to_string(count) +
                                   " address(es) is " + family_name(*config_.only_family));
        }
    }
    now_ = now;
    start_time_ = now;
    triggered_ = true;  // the first attempt starts at once
    dns_mode_ = false;
    if (add_candidates(Family::v6, false, remotes, count, false) == 0) {
        if (config_.ipv6_unavailable) {
            return Status::failure("no address can be raced: ipv6=none and every one of the " +
                                   std::to_string(count) + " address(es) is IPv6");
        }
        return Status::failure(
            "no address can be raced: every IPv4 address needs NAT64 synthesis (ipv4=none) "
            "and none can be synthesized with prefix " +
            config_.pref64->to_string());
    }
    phase_ = Phase::racing;
    advance(now_, false);
    return Status::success();
}

Status RaceMachine::start_resolving(TimePoint now) {
    Status s = check_startable();
    if (!s) return s;
    now_ = now;
    start_time_ = now;
    dns_mode_ = true;
    dns_[0] = dns_[1] = DnsState::pending;
    phase_ = Phase::resolving;
    // With one family only (only_family), the other is never asked: it counts
    // as an answer without addresses, and no error is recorded for it.
    if (config_.only_family) {
        dns_[idx(*config_.only_family == Family::v4 ? Family::v6 : Family::v4)] = DnsState::negative;
    }
    // ipv6=none: no AAAA query, unless v3 may find IPv4 in it (DNS64, §8.2).
    if (config_.ipv6_unavailable && !(config_.https && config_.pref64)) {
        dns_[idx(Family::v6)] = DnsState::negative;
    }
    if (config_.https) {
        // v3 §4.1: "The order in which the queries are sent SHOULD be as
        // follows: 1. SVCB or HTTPS query 2. AAAA query 3. A query".
        v3().names.start();
        v3().quic_broken =
            config_.history != nullptr && config_.history->quic_broken(config_.network, now);
        push(QKind::resolve_https, 0);
    }
    // RFC 8305 §3: send the AAAA query first, then the A query.
    if (dns_[idx(Family::v6)] == DnsState::pending) push(QKind::resolve6, npos);
    if (dns_[idx(Family::v4)] == DnsState::pending) push(QKind::resolve4, npos);
    if (config_.https && !config_.alt_svc.empty()) {
        // RFC 7838 Alt-Svc: services before the records' (planner.cpp).
        const detail::HttpsStep step = v3().on_alt_svc(config_);
        for (const std::uint32_t name : step.ask_addresses) {
            push(QKind::resolve6, name);
            push(QKind::resolve4, name);
        }
        add_service_candidates(step);
    }
    return Status::success();
}

InputStatus RaceMachine::cancel(TimePoint now) {
    now = clamp(now);
    if (phase_ == Phase::done) return InputStatus::late;
    if (phase_ == Phase::idle) start_time_ = now;
    finish(now, Outcome::cancelled, npos);
    return InputStatus::accepted;
}

// ---- candidates ------------------------------------------------------------

std::optional<Endpoint> RaceMachine::admit(const Endpoint& e, Family only, bool filter) const {
    if (filter && e.family() != only) return std::nullopt;
    // An answer's address with port 0 cannot be connected to: left out (issue
    // 14). With https the service's port replaces it (checked there).
    const bool v3 = config_.https && dns_mode_;
    if (e.port() == 0 && !v3) return std::nullopt;
    // NAT64 synthesis, v3's DNS64 de-synthesis, the host's families (src/v3/dns64.cpp).
    return detail::admit_address(e, config_, v3);
}

Family RaceMachine::group_family(const Endpoint& e) const noexcept {
    return detail::sorts_as_ipv4(e, config_, config_.https && dns_mode_) ? Family::v4
                                                                        : e.family();
}

void RaceMachine::sort_batch(std::size_t first) {
    // RFC 6724 §6 within the batch (one address list or one DNS answer), before
    // interleaving. Stable (rule 10).
    const std::size_t last = cands_.size();
    if (last - first < 2) return;
    // The editor's copy §8.2: a synthesized address sorts as its IPv4 address
    // (v3 on an IPv6-only host), then is synthesized again to be connected.
    const bool v3 = config_.https && dns_mode_;
    if (v3 && config_.ipv4_unavailable && config_.pref64) {
        bool any = false;
        for (std::size_t i = first; i < last; ++i) {
            if (auto v4 = detail::sorts_as_ipv4(cands_[i].remote, config_, v3)) {
                cands_[i].remote = *v4;
                any = true;
            }
        }
        sort_batch_addresses(first);
        if (any) {
            for (std::size_t i = first; i < last; ++i) {
                if (!cands_[i].remote.is_v4()) continue;
                // admit_address() synthesized it once already, so it can be again.
                if (auto v6 = synthesize(cands_[i].remote, *config_.pref64)) cands_[i].remote = *v6;
            }
        }
        return;
    }
    sort_batch_addresses(first);
}

void RaceMachine::sort_batch_addresses(std::size_t first) {
    const std::size_t last = cands_.size();
    if (last - first < 2) return;
    if (detail::has_lookups(config_)) {
        // Source information or history (v3 §5.3's rules, src/v3/sorting.cpp).
        std::vector<Endpoint> d;
        d.reserve(last - first);
        for (std::size_t i = first; i < last; ++i) d.push_back(cands_[i].remote);
        detail::sort_with_history(d, config_);
        for (std::size_t i = first; i < last; ++i) cands_[i].remote = d[i - first];
        return;
    }
    // No lookups: only rules 6 (higher precedence first) and 8 (smaller scope
    // first) can decide, so each address reduces to one key. An insertion sort
    // in place (stable: rule 10), no allocation.
    auto key = [](const Endpoint& e) {
        return precedence(e) * 32 + (31 - static_cast<int>(scope(e)));
    };
    constexpr std::size_t small = 64;  // keys computed once per address when they fit
    int keys[small];
    const bool cached = last - first <= small;
    if (cached) {
        for (std::size_t i = first; i < last; ++i) keys[i - first] = key(cands_[i].remote);
    }
    for (std::size_t i = first + 1; i < last; ++i) {
        const Endpoint moving = cands_[i].remote;
        const int k = cached ? keys[i - first] : key(moving);
        std::size_t j = i;
        while (j > first && (cached ? keys[j - 1 - first] : key(cands_[j - 1].remote)) < k) {
            cands_[j].remote = cands_[j - 1].remote;
            if (cached) keys[j - first] = keys[j - 1 - first];
            --j;
        }
        cands_[j].remote = moving;
        if (cached) keys[j - first] = k;
    }
}

RaceMachine::Twin RaceMachine::supersede(const Endpoint& remote, Protocol protocol,
                                          const detail::Rank& rank, std::size_t limit) {
    // v3: one attempt per remote and transport. Live unused twins with a worse
    // rank are shadowed by the newcomer; a better (or equal) live twin shadows
    // the newcomer; an attempted twin means the newcomer is not needed at all.
    Twin result = Twin::none;
    for (std::size_t i = 0; i < limit; ++i) {
        Candidate& c = cands_[i];
        if (c.remote != remote || protocol_of(c) != protocol) continue;
        if (c.attempt != 0) return Twin::attempted;
        if (c.dropped) continue;
        if (rank_of(c) > rank) {
            c.dropped = true;
            c.shadowed = true;
            --remaining_[idx(group_family(c.remote))];
        } else {
            result = Twin::better;
        }
    }
    return result;
}

void RaceMachine::revive(const Candidate& c) {
    // `c` went (a hint its target's answer replaced): the best twin it
    // shadowed comes back, into its lists if it had left them.
    const Protocol protocol = protocol_of(c);
    std::uint32_t best = npos;
    for (std::uint32_t i = 0; i < cands_.size(); ++i) {
        const Candidate& t = cands_[i];
        if (!t.shadowed || t.attempt != 0 || t.remote != c.remote || protocol_of(t) != protocol) {
            continue;
        }
        if (best == npos || rank_of(t) < rank_of(cands_[best])) best = i;
    }
    if (best == npos) return;
    readmit(best);
}

void RaceMachine::readmit(std::uint32_t slot) {
    // A dropped, never tried candidate joins the race again, into its lists
    // if it had left them.
    Candidate& t = cands_[slot];
    t.dropped = false;
    t.shadowed = false;
    t.ech_refused = false;
    const std::size_t f = idx(group_family(t.remote));
    ++remaining_[f];
    if (t.off_family) {
        t.off_family = false;
        link_one(slot, slot, false, fam_head_[f], fam_tail_[f], &Candidate::next_in_family);
    }
    if (t.off_order) {
        t.off_order = false;
        link_one(slot, slot, false, order_head_, order_tail_, &Candidate::next_in_order);
    }
}

void RaceMachine::link_one(std::uint32_t slot, std::uint32_t batch_first, bool front,
                           std::uint32_t& head, std::uint32_t& tail,
                           std::uint32_t Candidate::*next) {
    // v3: insert after every node of a better rank (and, unless `front`, of an
    // equal one); nodes of this batch (slots from batch_first) stay ahead of
    // it, keeping the batch's order.
    const detail::Rank r = rank_of(cands_[slot]);
    std::uint32_t prev = npos;
    std::uint32_t cur = head;
    while (cur != npos && (rank_of(cands_[cur]) < r ||
                           (rank_of(cands_[cur]) == r && (!front || cur >= batch_first)))) {
        prev = cur;
        cur = cands_[cur].*next;
    }
    cands_[slot].*next = cur;
    if (prev == npos) {
        head = slot;
    } else {
        cands_[prev].*next = slot;
    }
    if (cur == npos) tail = slot;
}

void RaceMachine::link_sorted(std::uint32_t slot, std::uint32_t batch_first, bool front) {
    const std::size_t f = idx(group_family(cands_[slot].remote));
    link_one(slot, batch_first, front, fam_head_[f], fam_tail_[f], &Candidate::next_in_family);
    link_one(slot, batch_first, front, order_head_, order_tail_, &Candidate::next_in_order);
    if (!cands_[slot].dropped) ++remaining_[f];
}

void RaceMachine::new_addresses() {
    // docs/behaviour.md §2: a new address starts at once (with the floor) when nothing is in
    // flight or the attempt timer's instant has passed; at that very instant it
    // starts as the timer would, after the instant's events.
    if (in_flight_ == 0 ||
        (config_.racing() && started_count_ > 0 &&
         detail::saturating_add(last_start_, current_delay_) < now_)) {
        triggered_ = true;
    }
}

std::size_t RaceMachine::add_candidates(Family only, bool filter, const Endpoint* eps,
                                        std::size_t n, bool front, std::uint16_t service,
                                        bool hint) {
    if (config_.https && dns_mode_) {
        // v3: the service's port, one candidate per remote and transport.
        Candidate proto;  // what every candidate of this batch shares
        proto.service = service;
        proto.hint = hint;
        const detail::Rank rank = rank_of(proto);
        const Protocol protocol = protocol_of(proto);
        std::vector<Endpoint> keep;
        for (std::size_t i = 0; i < n; ++i) {
            auto e = admit(eps[i], only, filter);
            if (!e) continue;
            if (service != no_service) e = e->with_port(v3().service(service).port);
            if (e->port() == 0) continue;  // not a valid remote port (issue 14)
            if (std::find(keep.begin(), keep.end(), *e) == keep.end()) {
                keep.push_back(*e);
            } else {
                ++duplicates_dropped_;  // issue 16 item 4: a repeat within the answer
            }
        }
        if (keep.empty()) return 0;
        const std::size_t first = cands_.size();
        cands_.reserve(first + keep.size());
        for (const Endpoint& e : keep) {
            Candidate c = proto;
            c.remote = e;
            cands_.push_back(c);
        }
        if (config_.sorting(dns_mode_)) sort_batch(first);
        cap_batch(first);
        // Twins among the candidates before this batch decide each one's fate.
        std::size_t live = 0;
        for (std::size_t i = first; i < cands_.size(); ++i) {
            Candidate& c = cands_[i];
            if (has_twin(c.remote, protocol, first)) ++duplicates_dropped_;  // issue 16 item 4
            const Twin twin = supersede(c.remote, protocol, rank, first);
            c.dropped = twin != Twin::none;
            c.shadowed = twin == Twin::better;
            if (!c.dropped) ++live;
        }
        if (live > 0) new_addresses();
        for (std::size_t i = first; i < cands_.size(); ++i) {
            link_sorted(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(first), front);
        }
        resort_pending();  // v3 §7: the complete list, not just this batch
        return live;
    }
    std::size_t count = 0;
    for (std::size_t i = 0; i < n; ++i) {
        if (admit(eps[i], only, filter)) ++count;
    }
    if (count == 0) return 0;
    cands_.reserve(cands_.size() + count);  // one allocation per answer
    const std::size_t first = cands_.size();
    for (std::size_t i = 0; i < n; ++i) {
        if (auto e = admit(eps[i], only, filter)) {
            Candidate c;
            c.remote = *e;
            cands_.push_back(c);
        }
    }
    if (config_.duplicates == Duplicates::drop) {
        // Issue 16 item 4: repeats go before sorting and the cap, so they take
        // no room. All of them repeats: still an answer with data.
        duplicates_dropped_ += static_cast<std::uint32_t>(drop_repeats(first));
        if (cands_.size() == first) return count;
    }
    if (config_.sorting(dns_mode_)) sort_batch(first);
    // Over the cap, the answer still counts as one with data (not "no data").
    if (cap_batch(first) == 0) return count;
    new_addresses();

    // Link the batch into the per-family lists and the arrival-order list. An
    // AAAA answer that ends the resolution delay goes before the A answer that
    // started it (docs/behaviour.md §1: in the arrival order for interleave=off; in the
    // IPv6 list too, where synthesized NAT64 addresses from that A answer wait).
    std::uint32_t fam_chain_head[2] = {npos, npos};
    std::uint32_t fam_chain_tail[2] = {npos, npos};
    std::uint32_t chain_head = npos;
    std::uint32_t chain_tail = npos;
    for (std::size_t i = first; i < cands_.size(); ++i) {
        const auto slot = static_cast<std::uint32_t>(i);
        const std::size_t f = idx(group_family(cands_[i].remote));
        if (fam_chain_tail[f] == npos) {
            fam_chain_head[f] = slot;
        } else {
            cands_[fam_chain_tail[f]].next_in_family = slot;
        }
        fam_chain_tail[f] = slot;
        ++remaining_[f];
        if (chain_tail == npos) {
            chain_head = slot;
        } else {
            cands_[chain_tail].next_in_order = slot;
        }
        chain_tail = slot;
    }
    auto splice = [&](std::uint32_t& head, std::uint32_t& tail, std::uint32_t bh,
                      std::uint32_t bt, std::uint32_t Candidate::*next) {
        if (bh == npos) return;
        if (head == npos) {
            head = bh;
            tail = bt;
        } else if (front) {
            cands_[bt].*next = head;
            head = bh;
        } else {
            cands_[tail].*next = bh;
            tail = bt;
        }
    };
    for (std::size_t f = 0; f < 2; ++f) {
        splice(fam_head_[f], fam_tail_[f], fam_chain_head[f], fam_chain_tail[f],
               &Candidate::next_in_family);
    }
    splice(order_head_, order_tail_, chain_head, chain_tail, &Candidate::next_in_order);
    return count;
}

bool RaceMachine::has_twin(const Endpoint& remote, Protocol protocol, std::size_t limit) const {
    // v3: an earlier candidate of the same remote and transport that is still
    // in the race (waiting, shadowed or attempted; not a withdrawn hint).
    for (std::size_t i = 0; i < limit; ++i) {
        const Candidate& c = cands_[i];
        if (c.remote != remote || protocol_of(c) != protocol) continue;
        if (c.attempt != 0 || !c.dropped || c.shadowed) return true;
    }
    return false;
}

std::size_t RaceMachine::drop_repeats(std::size_t first) {
    // Issue 16 item 4 (RFC 8305 races): a remote of the new batch (slots from
    // `first`, not linked yet) equal to an earlier one — of an earlier batch,
    // waiting or tried, or earlier in this batch — is removed. Endpoint
    // equality includes the scope id and the port. A stable sort by remote
    // puts each run of equals in slot order, so its first slot is the one kept.
    const std::size_t n = cands_.size();
    if (n == first || n < 2) return 0;
    std::vector<std::uint32_t> by_remote(n);
    for (std::uint32_t i = 0; i < n; ++i) by_remote[i] = i;
    std::stable_sort(by_remote.begin(), by_remote.end(), [this](std::uint32_t a, std::uint32_t b) {
        return cands_[a].remote < cands_[b].remote;
    });
    std::vector<bool> repeat(n - first, false);
    std::size_t repeats = 0;
    for (std::size_t k = 1; k < n; ++k) {
        const std::uint32_t slot = by_remote[k];
        if (slot >= first && cands_[slot].remote == cands_[by_remote[k - 1]].remote) {
            repeat[slot - first] = true;
            ++repeats;
        }
    }
    if (repeats == 0) return 0;
    std::size_t out = first;
    for (std::size_t i = first; i < n; ++i) {
        if (!repeat[i - first]) cands_[out++] = cands_[i];
    }
    cands_.resize(out);
    return repeats;
}

std::size_t RaceMachine::cap_batch(std::size_t first) {
    // Issue 14: a race takes at most config.max_endpoints endpoints (attempted
    // or waiting). The batch is already sorted; its first ones are kept, the
    // rest dropped and counted. Earlier answers keep their place: first
    // arrived, first kept.
    const std::size_t live = std::size_t{started_count_} + remaining_[0] + remaining_[1];
    const std::size_t room = live >= config_.max_endpoints ? 0 : config_.max_endpoints - live;
    if (cands_.size() - first > room) {
        dropped_ += cands_.size() - first - room;
        cands_.resize(first + room);
    }
    return cands_.size() - first;
}

std::uint32_t RaceMachine::pick_slot() {
    // v3: skip superseded candidates, then take from the best rank present.
    detail::Rank best;
    if (config_.https) {
        for (std::size_t g = 0; g < 2; ++g) {
            while (fam_head_[g] != npos && cands_[fam_head_[g]].dropped) {
                cands_[fam_head_[g]].off_family = true;
                fam_head_[g] = cands_[fam_head_[g]].next_in_family;
                if (fam_head_[g] == npos) fam_tail_[g] = npos;
            }
        }
        while (order_head_ != npos &&
               (cands_[order_head_].attempt != 0 || cands_[order_head_].dropped)) {
            cands_[order_head_].off_order = true;
            order_head_ = cands_[order_head_].next_in_order;
            if (order_head_ == npos) order_tail_ = npos;
        }
        best = detail::Rank::last();
        for (std::size_t g = 0; g < 2; ++g) {
            if (fam_head_[g] != npos) best = std::min(best, rank_of(cands_[fam_head_[g]]));
        }
    }
    Family f;
    if (!config_.interleaving()) {
        f = group_family(cands_[order_head_].remote);
    } else {
        auto available = [&](Family g) {
            const std::uint32_t h = fam_head_[idx(g)];
            return h != npos && (!config_.https || rank_of(cands_[h]) == best);
        };
        if (started_count_ == 0) {
            // The first family: the first address's in addresses mode; in DNS
            // mode IPv6 when it has an address (RFC 8305 §3 prefers AAAA).
            first_family_ = dns_mode_ ? (available(Family::v6) ? Family::v6 : Family::v4)
                                      : group_family(cands_[order_head_].remote);
            if (!available(first_family_)) first_family_ = other(first_family_);
            f = first_family_;
        } else if (started_count_ < config_.family_count && available(first_family_)) {
            f = first_family_;
        } else if (available(other(last_family_))) {
            f = other(last_family_);
        } else if (available(last_family_)) {
            f = last_family_;
        } else {
            f = other(last_family_);
        }
        if (!available(f)) f = other(f);
    }
    const std::size_t fi = idx(f);
    const std::uint32_t slot = fam_head_[fi];
    fam_head_[fi] = cands_[slot].next_in_family;
    if (fam_head_[fi] == npos) fam_tail_[fi] = npos;
    --remaining_[fi];
    // Keep the arrival-order list free of taken candidates. With interleaving
    // off the taken candidate is the order head; with it on the order list is
    // consulted only for the first attempt of addresses mode, so unlink lazily.
    if (order_head_ == slot) {
        order_head_ = cands_[slot].next_in_order;
        if (order_head_ == npos) order_tail_ = npos;
    }
    while (order_head_ != npos &&
           (cands_[order_head_].attempt != 0 || cands_[order_head_].dropped)) {
        cands_[order_head_].off_order = true;
        order_head_ = cands_[order_head_].next_in_order;
        if (order_head_ == npos) order_tail_ = npos;
    }
    return slot;
}

// ---- starting attempts ----------------------------------------------------------

bool RaceMachine::start_due(TimePoint now, bool from_timer) const {
    if (phase_ != Phase::racing) return false;
    const std::optional<TimePoint> at = next_start_at();
    if (!at || *at > now) return false;
    // From an event, a start happens at once when the event itself made it
    // immediate (fail fast, nothing left in flight, a new address after the
    // timer's instant or with nothing in flight: docs/behaviour.md §1 rule 3, §2), or when
    // it is overdue. One merely due at this instant (the attempt timer, or a
    // start deferred to the floor) is the Next Connection Attempt Timer's: it
    // fires from handle_timeout, after every event of the instant (docs/behaviour.md §4).
    return from_timer || triggered_ || *at < now;
}

std::optional<TimePoint> RaceMachine::next_start_at() const {
    // When the next attempt may start: at once (now) for the first; the floor
    // (previous start + min-start-gap) when nothing is in flight or the newest
    // attempt failed (fail fast); otherwise, when racing, the Next Connection
    // Attempt Timer, never before the floor. Sequential mode waits (nullopt).
    // Sums saturate: a start past the end of representable time is due at
    // TimePoint::max() (issue 14), not wrapped round to the past.
    if (phase_ != Phase::racing || candidates_left() == 0) return std::nullopt;
    if (started_count_ == 0) return now_;
    // The cap on attempts in flight (Config::max_in_flight): a start waits
    // for one of them to end.
    if (config_.max_in_flight != 0 && in_flight_ >= config_.max_in_flight) return std::nullopt;
    const TimePoint floor = detail::saturating_add(last_start_, config_.min_start_gap);
    if (in_flight_ == 0 || fail_fast_) return floor;
    if (!config_.racing()) return std::nullopt;
    return std::max({floor, detail::saturating_add(last_start_, next_delay()), extended_until_});
}

void RaceMachine::start_attempt(TimePoint now) {
    const std::uint32_t slot = pick_slot();
    Candidate& c = cands_[slot];
    c.attempt = ++started_count_;
    c.started = now;
    last_start_ = now;
    last_family_ = group_family(c.remote);
    fail_fast_ = false;
    extended_until_ = TimePoint::min();
    if (config_.racing()) current_delay_ = delay_after(c);
    quic_started(c);

    if (!config_.local.empty()) {
        const bool has_family =
            std::any_of(config_.local.begin(), config_.local.end(),
                        [&](const Endpoint& l) { return l.family() == c.remote.family(); });
        if (!has_family) {
            // docs/behaviour.md §1 rule 7: fails before a socket is opened, stage bind, no errno.
            record(Stage::bind, c.attempt, slot, c.remote.family(), 0, npos, {});
            c.state = AState::failed;
            c.ended = now;
            fail_fast_ = candidates_left() > 0;
            triggered_ = true;
            return;
        }
    }
    c.state = AState::opening;
    ++in_flight_;
    push(QKind::open, slot);
}

Duration RaceMachine::delay_after(const Candidate& c) const {
    Duration d = *config_.attempt_delay;
    if (config_.auto_attempt_delay) {
        // 3 × RTT: RFC 6298's first RTO estimate (SRTT + 4 × RTTVAR with
        // RTTVAR = RTT/2), clamped; no history → the configured delay, clamped.
        if (config_.history) {
            if (auto rtt = config_.history->rtt(config_.network, c.remote)) {
                d = detail::saturating_mul(*rtt, 3);
            }
        }
        d = std::clamp(d, config_.min_attempt_delay, config_.max_attempt_delay);
    }
    if (config_.delay_multiplier != 1.0 && started_count_ > 1) {
        // The n-th delay is the base × M^(n-1), capped at max-attempt-delay.
        const double scaled = static_cast<double>(d.count()) *
                              std::pow(config_.delay_multiplier, started_count_ - 1);
        const auto cap = static_cast<double>(config_.max_attempt_delay.count());
        d = scaled >= cap ? config_.max_attempt_delay
                          : Duration(static_cast<Duration::rep>(std::llround(scaled)));
    }
    return d;
}

void RaceMachine::bind_next_or_connect(TimePoint now, std::uint32_t slot) {
    Candidate& c = cands_[slot];
    if (config_.local.empty()) {
        c.state = AState::connecting;
        push(QKind::connect, slot);
        return;
    }
    while (c.local_index < config_.local.size() &&
           config_.local[c.local_index].family() != c.remote.family()) {
        ++c.local_index;
    }
    if (c.local_index < config_.local.size()) {
        c.state = AState::binding;
        push(QKind::bind, slot);
        return;
    }
    // Every local candidate of the family failed: the attempt fails with just
    // those bind errors (already recorded); its socket was opened, so close it.
    fail_attempt(now, slot);
}

void RaceMachine::fail_attempt(TimePoint now, std::uint32_t slot) {
    Candidate& c = cands_[slot];
    c.state = AState::failed;
    c.ended = now;
    --in_flight_;
    mark_close(c);
    quic_failed(c);
    // Fail fast (rule 3) acts at the instant of the failure, and only for the
    // newest attempt; an older attempt's failure changes no timer -- unless it
    // leaves nothing in flight: the race never idles.
    if (c.attempt == started_count_ && candidates_left() > 0) {
        fail_fast_ = true;
        triggered_ = true;
    }
    if (in_flight_ == 0) triggered_ = true;
}

void RaceMachine::resolving_progress(TimePoint now, bool from_timer) {
    // docs/behaviour.md §2 / RFC 8305 §3: before the first attempt.
    if (phase_ != Phase::resolving) return;
    bool go = false;
    if (config_.https) {
        // v3 §4.2: some address (hints count) AND the preferred family's
        // (AAAA) answer AND the HTTPS answer; or the Resolution Delay since
        // the first address came.
        if (candidates_left() == 0) {
            // Nothing to race (yet, or any more: a target's answer replaced
            // the only hints): the delay counts from the next address.
            resolution_deadline_.reset();
            return;
        }
        // §4.2.1: "ipv6hint and ipv4hint ... SHOULD be considered as positive
        // non-empty answers": an IPv6 hint stands in for the AAAA answer
        // (§4.2's example "AAAA answers are delayed, but hints are available").
        if ((dns_[idx(Family::v6)] != DnsState::pending || live_hint(Family::v6)) &&
            !https_pending() && !service_waiting()) {
            go = true;
        } else if (!resolution_deadline_) {
            resolution_deadline_ = detail::saturating_add(now, config_.resolution_delay);
        } else if (now > *resolution_deadline_ ||
                   (from_timer && now >= *resolution_deadline_)) {
            go = true;
        }
    } else if (dns_[idx(Family::v6)] == DnsState::positive) {
        go = true;  // a positive AAAA: connect at once
    } else if (dns_[idx(Family::v4)] == DnsState::positive) {
        if (dns_[idx(Family::v6)] == DnsState::negative) {
            go = true;  // AAAA said no: no reason to wait
        } else if (!resolution_deadline_) {
            resolution_deadline_ = detail::saturating_add(now, config_.resolution_delay);
            // A zero delay still fires from handle_timeout, after this instant's events.
        } else if (now > *resolution_deadline_ ||
                   (from_timer && now >= *resolution_deadline_)) {
            go = true;
        }
    }
    if (go) {
        phase_ = Phase::racing;
        resolution_deadline_.reset();
        triggered_ = true;  // the first attempt starts at once
    }
}

void RaceMachine::check_all_failed(TimePoint now) {
    if (phase_ == Phase::done) return;
    if (phase_ == Phase::resolving) {
        if (config_.https) {
            if (!dns_outstanding() && candidates_left() == 0) finish(now, Outcome::failed, npos);
        } else if (dns_[0] == DnsState::negative && dns_[1] == DnsState::negative) {
            finish(now, Outcome::failed, npos);
        }
        return;
    }
    if (phase_ == Phase::racing && in_flight_ == 0 && candidates_left() == 0 &&
        !dns_outstanding()) {
        finish(now, Outcome::failed, npos);  // rule 6
    }
}

void RaceMachine::advance(TimePoint now, bool from_timer) {
    if (phase_ == Phase::done) return;
    ech_guard();  // v3 §5.1: candidates without ECH, once the origin offers it
    resolving_progress(now, from_timer);
    // Each start either puts an attempt in flight (which makes the next start
    // wait) or fails at once; candidates run out, so this ends.
    while (phase_ == Phase::racing && start_due(now, from_timer)) start_attempt(now);
    check_all_failed(now);
}

void RaceMachine::finish(TimePoint now, Outcome outcome, std::uint32_t winner_slot) {
    phase_ = Phase::done;
    outcome_ = outcome;
    finished_at_ = now;
    winner_slot_ = winner_slot;
    resolution_deadline_.reset();
    quic_verdict(now, winner_slot);
    for (std::uint32_t i = 0; i < cands_.size(); ++i) {
        Candidate& c = cands_[i];
        if (!in_flight_state(c.state)) continue;
        --in_flight_;
        c.ended = now;
        if (i == winner_slot) {
            c.state = AState::won;
            continue;
        }
        c.state = AState::closed;
        mark_close(c);
    }
    push(QKind::report, winner_slot);
}

// ---- inputs ------------------------------------------------------------------

InputStatus RaceMachine::handle_resolved(TimePoint now, Family family, const Endpoint* addresses,
                                         std::size_t count) {
    now = enter(now);
    if (phase_ == Phase::done) return InputStatus::late;
    if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
    if (changing(0, family)) return change_answer(now, 0, family, addresses, count);  // v3 §4.4
    // Not asked (address mode, a family left out) or answered already.
    if (!dns_mode_ || dns_[idx(family)] != DnsState::pending) return InputStatus::out_of_order;
    note_answer(0, family, false, addresses, count, 0);
    const bool ends_resolution_delay =
        family == Family::v6 && phase_ == Phase::resolving && resolution_deadline_.has_value();
    if (config_.https) {
        // v3: the origin's answer is the fallback group and feeds the services
        // whose target is the origin ("."); duplicates of better-ranked
        // candidates are not added, so count what the answer had.
        const std::vector<Endpoint>& kept = keep_answer(0, family, addresses, count);
        add_candidates(family, true, kept.data(), kept.size(), ends_resolution_delay);
        if (kept.empty()) {
            dns_[idx(family)] = DnsState::negative;
            record(Stage::resolve, 0, npos, family, 0, npos, {});
        } else {
            dns_[idx(family)] = DnsState::positive;
        }
        v3().names[0].addr[idx(family)] = v3_state(!kept.empty());
        target_answer(family, 0, true);
        advance(now, false);
        return InputStatus::accepted;
    }
    const std::size_t added =
        addresses == nullptr ? 0
                             : add_candidates(family, true, addresses, count, ends_resolution_delay);
    if (added == 0) {
        // An empty answer (or one with nothing usable) is "no data".
        dns_[idx(family)] = DnsState::negative;
        record(Stage::resolve, 0, npos, family, 0, npos, {});
    } else {
        dns_[idx(family)] = DnsState::positive;
    }
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_resolve_failed(TimePoint now, Family family, int code,
                                               std::string_view detail) {
    now = enter(now);
    if (phase_ == Phase::done) return InputStatus::late;
    if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
    if (changing(0, family)) return fresh_failed(now, 0, family, code, detail);  // v3 §4.4
    if (!dns_mode_ || dns_[idx(family)] != DnsState::pending) return InputStatus::out_of_order;
    note_failure(0, family, false, code, detail);
    dns_[idx(family)] = DnsState::negative;
    if (config_.https) {
        v3().names[0].addr[idx(family)] = eyeballs::detail::DnsState::negative;
        // A failure (not "no data": code 0 and no detail) keeps the hints in use.
        if (code != 0 || !detail.empty()) v3().names[0].failed[idx(family)] = true;
    }
    record(Stage::resolve, 0, npos, family, code, npos, detail);
    advance(now, false);
    return InputStatus::accepted;
}

// ---- Happy Eyeballs v3: the glue between the planner and the candidates -------
//
// The planner (src/v3/) owns the names, the services and their ranks; what is
// left here is what touches candidates: hints and answers becoming
// candidates of a service, hints replaced by their target's answer.

RaceMachine::V3Box::V3Box() noexcept = default;
RaceMachine::V3Box::V3Box(const V3Box& o)
    : p_(o.p_ ? std::make_unique<detail::Planner>(*o.p_) : nullptr) {}
RaceMachine::V3Box::V3Box(V3Box&& o) noexcept = default;
RaceMachine::V3Box& RaceMachine::V3Box::operator=(const V3Box& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<detail::Planner>(*o.p_) : nullptr;
    return *this;
}
RaceMachine::V3Box& RaceMachine::V3Box::operator=(V3Box&& o) noexcept = default;
RaceMachine::V3Box::~V3Box() = default;
detail::Planner& RaceMachine::V3Box::get() {
    if (!p_) p_ = std::make_unique<detail::Planner>();
    return *p_;
}

Protocol RaceMachine::protocol_of(const Candidate& c) const noexcept {
    return c.service == no_service ? Protocol::tcp : v3().service(c.service).protocol;
}

detail::Rank RaceMachine::rank_of(const Candidate& c) const noexcept {
    return c.service == no_service ? detail::Rank::fallback() : v3().rank(c.service);
}

const Service* RaceMachine::service_of(const Candidate& c) const noexcept {
    return c.service == no_service ? nullptr : &v3().service(c.service);
}

bool RaceMachine::https_pending() const noexcept {
    return v3_.peek() != nullptr && v3_.peek()->names.https_pending();
}

std::uint32_t RaceMachine::target_of(const Resolve& query) const {
    if (!config_.https || v3_.peek() == nullptr || v3().names.size() == 0) {
        return query.name.empty() ? 0 : npos;
    }
    const std::uint32_t t = v3().names.find(query.name);
    return t == detail::no_target ? npos : t;
}

const std::vector<Endpoint>& RaceMachine::keep_answer(std::uint32_t target, Family family,
                                                      const Endpoint* addresses,
                                                      std::size_t count) {
    // A name's answer, kept for the services that name it: what the race may
    // use of it (its family; NAT64 applies when they are added).
    std::vector<Endpoint>& kept = v3().names[target].answer[idx(family)];
    for (std::size_t i = 0; addresses != nullptr && i < count; ++i) {
        if (admit(addresses[i], family, true)) kept.push_back(addresses[i]);
    }
    return kept;
}

void RaceMachine::add_service_addresses(std::uint16_t service, Family family) {
    const std::uint32_t t = v3().service_target(service);
    const std::vector<Endpoint>& a = v3().names[t].answer[idx(family)];
    add_candidates(family, true, a.data(), a.size(), false, service, false);
}

void RaceMachine::target_answer(Family family, std::uint32_t target, bool replace_hints) {
    // v3 §7 / §4.2.1: the target's own answer replaces its hints of this
    // family, in every service that names it: first all of them go (shadowed
    // ones too, for good), then the twins they shadowed come back.
    if (replace_hints) {
        std::vector<std::uint32_t> gone;
        for (std::uint32_t i = 0; i < cands_.size(); ++i) {
            Candidate& c = cands_[i];
            if (!c.hint || c.attempt != 0 || group_family(c.remote) != family ||
                c.service == no_service || v3().service_target(c.service) != target) {
                continue;
            }
            if (!c.dropped) {
                --remaining_[idx(family)];
                gone.push_back(i);
            }
            c.dropped = true;
            c.shadowed = false;
        }
        for (const std::uint32_t i : gone) revive(cands_[i]);
    }
    for (std::uint16_t s = 0; s < v3().services().size(); ++s) {
        if (v3().service_target(s) == target && !v3().withdrawn(s)) add_service_addresses(s, family);
    }
}

bool RaceMachine::service_waiting() const {
    std::vector<bool> has(v3().services().size(), false);
    detail::Rank best = detail::Rank::last();
    for (const Candidate& c : cands_) {
        if (c.dropped || c.attempt != 0) continue;
        if (c.service != no_service) has[c.service] = true;
        best = std::min(best, rank_of(c));
    }
    return v3().service_waiting(has, best);
}

bool RaceMachine::live_hint(Family family) const noexcept {
    return std::any_of(cands_.begin(), cands_.end(), [&](const Candidate& c) {
        return c.hint && !c.dropped && c.attempt == 0 && group_family(c.remote) == family;
    });
}

InputStatus RaceMachine::handle_https(TimePoint now, const Resolve& query,
                                      const SvcbRecord* records, std::size_t count) {
    now = enter(now);
    if (phase_ == Phase::done) return InputStatus::late;
    if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
    if (!config_.https || !dns_mode_ || !query.https) return InputStatus::out_of_order;
    const std::uint32_t t = target_of(query);
    // v3 §4.4: the fresh answer for a stale one replaces it (§7).
    if (t != npos && t == v3().stale_https()) return fresh_https(now, records, count);
    // A name never asked, or whose HTTPS query was answered already.
    if (t == npos || t != v3().names.https_target()) return InputStatus::out_of_order;
    note_answer(t, Family::v6, true, nullptr, 0, records != nullptr ? count : 0);
    const detail::HttpsStep step = v3().on_https(t, records, count, config_);
    // The queries it needs, in v3 §4.1's order for each name: an alias
    // target's HTTPS query, then the AAAA and A queries of every new name.
    if (step.ask_https != detail::no_target) push(QKind::resolve_https, step.ask_https);
    for (const std::uint32_t name : step.ask_addresses) {
        push(QKind::resolve6, name);
        push(QKind::resolve4, name);
    }
    add_service_candidates(step);
    ech_https_settled(now);
    advance(now, false);
    return InputStatus::accepted;
}

void RaceMachine::add_service_candidates(const detail::HttpsStep& step) {
    // Each new service's addresses: its target's answer, or its hints until
    // that answer comes (v3 §4.2.1).
    for (const detail::NewService& made : step.services) {
        const detail::Target& target = v3().names[v3().service_target(made.index)];
        for (const Family f : {Family::v6, Family::v4}) {
            switch (detail::address_source(target, f)) {
                case detail::Source::answer:
                    add_service_addresses(made.index, f);
                    break;
                case detail::Source::hints:
                    if (made.record != nullptr) {
                        const std::vector<Endpoint>& h = detail::hints_of(*made.record, f);
                        add_candidates(f, true, h.data(), h.size(), false, made.index, true);
                    }
                    break;
                case detail::Source::none:
                    break;
            }
        }
    }
}

InputStatus RaceMachine::handle_resolved(TimePoint now, const Resolve& query,
                                         const Endpoint* addresses, std::size_t count) {
    if (query.https) {
        enter(now);  // addresses for an HTTPS query: handle_https's answer
        return phase_ == Phase::done ? InputStatus::late : InputStatus::out_of_order;
    }
    const std::uint32_t t = target_of(query);
    if (t == 0) return handle_resolved(now, query.family, addresses, count);
    now = enter(now);
    if (t == npos) return phase_ == Phase::done ? InputStatus::late : InputStatus::out_of_order;
    return resolved(now, t, query.family, addresses, count);
}

InputStatus RaceMachine::handle_resolve_failed(TimePoint now, const Resolve& query, int code,
                                               std::string_view detail) {
    const std::uint32_t t = target_of(query);
    if (query.https) {
        now = enter(now);
        if (phase_ == Phase::done) return InputStatus::late;
        if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
        if (!config_.https || !dns_mode_) return InputStatus::out_of_order;  // never asked
        if (t != npos && t == v3().stale_https()) {
            // v3 §4.4: the fresh query for a stale HTTPS answer failed; its
            // services stay (race_machine_changes.cpp).
            return fresh_https(now, nullptr, 0);
        }
        if (t == npos || t != v3().names.https_target()) return InputStatus::out_of_order;
        note_failure(t, Family::v6, true, code, detail);
        if (detail::abandons_race(config_, code, detail, incoming_dns_)) {
            // v3 §6.3 / RFC 9460 §3.1: over protected DNS, no downgrade.
            record(Stage::resolve, 0, t, Family::v6, code, npos,
                   "HTTPS query failed over protected DNS: race abandoned (RFC 9460 §3.1)");
            finish(now, Outcome::failed, npos);
            return InputStatus::accepted;
        }
        // HTTPS is optional: no error recorded. At the end of an alias chain
        // the final $QNAME is still an endpoint (RFC 9460 §3).
        const detail::HttpsStep step = v3().on_https_failed(t, config_);
        add_service_candidates(step);
        ech_https_settled(now);
        advance(now, false);
        return InputStatus::accepted;
    }
    if (t == 0) return handle_resolve_failed(now, query.family, code, detail);
    now = enter(now);
    if (t == npos) return phase_ == Phase::done ? InputStatus::late : InputStatus::out_of_order;
    if (code == 0 && detail.empty()) {
        return resolved(now, t, query.family, nullptr, 0);  // "no data", as for the origin
    }
    return resolve_failed(now, t, query.family, code, detail);
}

InputStatus RaceMachine::resolved(TimePoint now, std::uint32_t target, Family family,
                                  const Endpoint* addresses, std::size_t count) {
    if (phase_ == Phase::done) return InputStatus::late;
    if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
    if (changing(target, family)) return change_answer(now, target, family, addresses, count);
    detail::Target& t = v3().names[target];
    if (t.addr[idx(family)] != detail::DnsState::pending) return InputStatus::out_of_order;
    note_answer(target, family, false, addresses, count, 0);
    if (keep_answer(target, family, addresses, count).empty()) {
        t.addr[idx(family)] = detail::DnsState::negative;
        record(Stage::resolve, 0, target, family, 0, npos, {});
    } else {
        t.addr[idx(family)] = detail::DnsState::positive;
    }
    target_answer(family, target, true);
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::resolve_failed(TimePoint now, std::uint32_t target, Family family,
                                        int code, std::string_view detail) {
    if (phase_ == Phase::done) return InputStatus::late;
    if (phase_ != Phase::resolving && phase_ != Phase::racing) return InputStatus::out_of_order;
    if (changing(target, family)) return fresh_failed(now, target, family, code, detail);
    eyeballs::detail::Target& t = v3().names[target];
    if (t.addr[idx(family)] != eyeballs::detail::DnsState::pending) {
        return InputStatus::out_of_order;
    }
    note_failure(target, family, false, code, detail);
    t.addr[idx(family)] = eyeballs::detail::DnsState::negative;
    t.failed[idx(family)] = true;  // its hints stay in use
    record(Stage::resolve, 0, target, family, code, npos, detail);
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_opened(TimePoint now, AttemptId id, int code) {
    now = enter(now);
    if (phase_ == Phase::done) return refused(id);
    const std::uint32_t slot = attempt_in(id, AState::opening);
    if (slot == npos) return refused(id);
    Candidate& c = cands_[slot];
    if (code != 0) {
        // Creation failed: the socket was never opened, so it is never closed.
        c.socket_open = false;
        record(Stage::open, c.attempt, slot, c.remote.family(), code, npos, {});
        fail_attempt(now, slot);
    } else {
        bind_next_or_connect(now, slot);
    }
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_bound(TimePoint now, AttemptId id, int code) {
    now = enter(now);
    if (phase_ == Phase::done) return refused(id);
    const std::uint32_t slot = attempt_in(id, AState::binding);
    if (slot == npos) return refused(id);
    Candidate& c = cands_[slot];
    if (code != 0) {
        record(Stage::bind, c.attempt, slot, c.remote.family(), code, c.local_index, {});
        ++c.local_index;
        bind_next_or_connect(now, slot);
    } else {
        c.bound = true;
        c.state = AState::connecting;
        push(QKind::connect, slot);
    }
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_connected(TimePoint now, AttemptId id) {
    now = enter(now);
    if (phase_ == Phase::done) return refused(id);  // a success after the winner: already closed
    const std::uint32_t slot = attempt_in(id, AState::connecting);
    if (slot == npos) return refused(id);
    Candidate& c = cands_[slot];
    if (config_.history) {
        config_.history->record_success(config_.network, c.remote,
                                        detail::saturating_sub(now, c.started), now);
    }
    // v3 §6.1: "QUIC connections inherently include a secure handshake in
    // their main handshakes, and thus usually only need to wait for a single
    // handshake to complete": a QUIC attempt wins at its connect.
    if (config_.success == Success::handshake && protocol_of(c) != Protocol::quic) {
        // v3 §6.1: the attempt now waits for the caller's handshake; give it
        // one more attempt delay before the next attempt starts.
        c.state = AState::securing;
        if (config_.racing()) {
            extended_until_ =
                std::max(extended_until_, detail::saturating_add(now, current_delay_));
        }
        if (config_.ech != EchMode::off && ech_connected(now, slot)) advance(now, false);
        return InputStatus::accepted;
    }
    finish(now, Outcome::connected, slot);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_secured(TimePoint now, AttemptId id) {
    now = enter(now);
    if (phase_ == Phase::done) return refused(id);
    const std::uint32_t slot = attempt_in(id, AState::securing);
    if (slot == npos) return refused(id);
    finish(now, Outcome::connected, slot);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_secure_failed(TimePoint now, AttemptId id, int code,
                                              std::string_view detail) {
    now = enter(now);
    if (phase_ == Phase::done) return refused(id);
    std::uint32_t slot = attempt_in(id, AState::securing);
    if (slot == npos) {
        // A QUIC attempt's handshake is its connect (v3 §6.1): its TLS
        // failure comes while it is still connecting (docs/behaviour.md §9).
        slot = attempt_in(id, AState::connecting);
        if (slot == npos) return refused(id);
        if (protocol_of(cands_[slot]) != Protocol::quic) return InputStatus::out_of_order;
    }
    Candidate& c = cands_[slot];
    record(Stage::tls, c.attempt, slot, c.remote.family(), code, npos, detail);
    if (config_.history) config_.history->record_failure(config_.network, c.remote, now);
    fail_attempt(now, slot);
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_connect_failed(TimePoint now, AttemptId id, int code) {
    now = enter(now);
    if (phase_ == Phase::done) return refused(id);
    const std::uint32_t slot = attempt_in(id, AState::connecting);
    if (slot == npos) return refused(id);
    Candidate& c = cands_[slot];
    record(Stage::connect, c.attempt, slot, c.remote.family(), code, npos, {});
    if (config_.history) config_.history->record_failure(config_.network, c.remote, now);
    fail_attempt(now, slot);
    advance(now, false);
    return InputStatus::accepted;
}

InputStatus RaceMachine::handle_timeout(TimePoint now) {
    now = clamp(now);
    if (phase_ == Phase::done) return InputStatus::late;
    if (phase_ == Phase::idle) return InputStatus::out_of_order;  // no timer was ever armed
    // 1. The overall timeout ends the race.
    if (config_.overall_timeout &&
        now >= detail::saturating_add(start_time_, *config_.overall_timeout)) {
        overall_timed_out_ = true;
        finish(now, Outcome::failed, npos);
        return InputStatus::accepted;
    }
    // 2. Attempt timeouts, each a failure with ETIMEDOUT (counts for fail fast).
    if (config_.attempt_timeout) {
        for (std::uint32_t i = 0; i < cands_.size(); ++i) {
            Candidate& c = cands_[i];
            if (!in_flight_state(c.state) ||
                now < detail::saturating_add(c.started, *config_.attempt_timeout)) {
                continue;
            }
            record(Stage::timeout, c.attempt, i, c.remote.family(), ETIMEDOUT, npos, {});
            if (config_.history) config_.history->record_failure(config_.network, c.remote, now);
            fail_attempt(now, i);
        }
    }
    // 3. The resolution delay, then 4. the next attempt.
    advance(now, true);
    return InputStatus::accepted;
}

// ---- outputs -----------------------------------------------------------------

std::optional<Action> RaceMachine::poll_action() {
    if (pending_closes_ > 0) {
        for (std::uint32_t i = 0; i < cands_.size(); ++i) {
            Candidate& c = cands_[i];
            if (!c.close_pending) continue;
            c.close_pending = false;
            --pending_closes_;
            return Action{Close{AttemptId(c.attempt, i)}};
        }
        pending_closes_ = 0;  // unreachable: counts and flags agree
    }
    QEntry e{};
    while (pop(e)) {
        switch (e.kind) {
            case QKind::resolve6:
            case QKind::resolve4:
            case QKind::resolve_https: {
                Resolve r;
                r.family = e.kind == QKind::resolve4 ? Family::v4 : Family::v6;
                r.https = e.kind == QKind::resolve_https;
                if (e.slot != npos && e.slot < v3().names.size()) r.name = v3().names[e.slot].name;
                // RFC 9460 §9.1: the origin's HTTPS query is port-prefixed
                // for a port other than 443 (alias targets are asked
                // "without additional prefixes", §3).
                if (r.https && e.slot == 0) r.port_prefix = detail::https_prefix_port(config_.port);
                return Action{r};
            }
            case QKind::open: {
                Candidate& c = cands_[e.slot];
                if (c.state != AState::opening) break;  // the race ended first
                c.socket_open = true;
                return Action{
                    OpenSocket{AttemptId(c.attempt, e.slot), c.remote, protocol_of(c), service_of(c)}};
            }
            case QKind::bind: {
                const Candidate& c = cands_[e.slot];
                if (c.state != AState::binding) break;
                return Action{Bind{AttemptId(c.attempt, e.slot), config_.local[c.local_index]}};
            }
            case QKind::connect: {
                const Candidate& c = cands_[e.slot];
                if (c.state != AState::connecting) break;
                Connect a{AttemptId(c.attempt, e.slot), c.remote, std::nullopt, protocol_of(c),
                          service_of(c)};
                if (c.bound) a.local = config_.local[c.local_index];
                return Action{a};
            }
            case QKind::crypto_ready: {
                const Candidate& c = cands_[e.slot];
                if (c.state != AState::securing) break;  // it ended first
                return Action{CryptoReady{AttemptId(c.attempt, e.slot), service_of(c)}};
            }
            case QKind::report: {
                Report r{outcome_, AttemptId(), std::nullopt};
                if (e.slot != npos) {
                    r.winner = AttemptId(cands_[e.slot].attempt, e.slot);
                    r.remote = cands_[e.slot].remote;
                    r.protocol = protocol_of(cands_[e.slot]);
                    r.service = service_of(cands_[e.slot]);
                }
                return Action{r};
            }
        }
    }
    return std::nullopt;
}

std::optional<TimePoint> RaceMachine::next_timeout() const {
    if (phase_ == Phase::idle || phase_ == Phase::done) return std::nullopt;
    std::optional<TimePoint> best;
    auto consider = [&](TimePoint t) {
        if (!best || t < *best) best = t;
    };
    if (config_.overall_timeout) {
        consider(detail::saturating_add(start_time_, *config_.overall_timeout));
    }
    if (config_.attempt_timeout && in_flight_ > 0) {
        for (const Candidate& c : cands_) {
            if (in_flight_state(c.state)) {
                consider(detail::saturating_add(c.started, *config_.attempt_timeout));
            }
        }
    }
    if (resolution_deadline_) consider(*resolution_deadline_);
    if (const std::optional<TimePoint> t = next_start_at()) consider(*t);
    // A start held back for the timer of this instant is due now, not at the
    // (earlier) floor it was computed from: never name an instant already passed.
    if (best && *best < now_) best = now_;
    return best;
}

std::optional<Outcome> RaceMachine::outcome() const noexcept {
    if (phase_ != Phase::done) return std::nullopt;
    return outcome_;
}

const std::deque<Service>& RaceMachine::services() const noexcept {
    static const std::deque<Service> none;
    return v3_.peek() != nullptr ? v3_.peek()->services() : none;
}

std::vector<PlanEntry> RaceMachine::plan() const {
    std::vector<PlanEntry> out;
    auto entry = [&](const Candidate& c) {
        PlanEntry p;
        p.remote = c.remote;
        p.protocol = protocol_of(c);
        p.service = service_of(c);  // this machine's, not the copy's
        p.hint = c.hint;
        p.attempt = c.attempt;
        return p;
    };
    std::vector<const Candidate*> started;
    for (const Candidate& c : cands_) {
        if (c.attempt != 0) started.push_back(&c);
    }
    std::sort(started.begin(), started.end(),
              [](const Candidate* a, const Candidate* b) { return a->attempt < b->attempt; });
    for (const Candidate* c : started) out.push_back(entry(*c));
    // The rest: what pick_slot() would take, on a copy.
    RaceMachine copy(*this);
    copy.config_.history = nullptr;
    while (copy.candidates_left() > 0) {
        const std::uint32_t slot = copy.pick_slot();
        Candidate& c = copy.cands_[slot];
        c.attempt = ++copy.started_count_;
        copy.last_family_ = copy.group_family(c.remote);
        PlanEntry p = entry(cands_[slot]);
        p.attempt = 0;
        out.push_back(p);
    }
    return out;
}

std::size_t RaceMachine::heap_bytes() const noexcept {
    std::size_t n = cands_.capacity() * sizeof(Candidate) +
                    errors_.capacity() * sizeof(ErrorRec) +
                    details_.capacity() * sizeof(std::string) +
                    overflow_.capacity() * sizeof(QEntry) +
                    config_.local.capacity() * sizeof(Endpoint) +
                    queries_.capacity() * sizeof(DnsQuery) +
                    query_targets_.capacity() * sizeof(std::uint32_t);
    for (const DnsQuery& q : queries_) n += q.addresses.capacity() * sizeof(Endpoint);
    for (const std::string& d : details_) {
        if (d.capacity() > 15) n += d.capacity() + 1;
    }
    return n;
}

// ---- the query log, attempt records and the report -----------------------------

DnsQuery* RaceMachine::query_for(std::uint32_t target, Family family, bool https) {
    for (std::size_t i = queries_.size(); i-- > 0;) {
        DnsQuery& q = queries_[i];
        if (query_targets_[i] == target && q.https == https && (https || q.family == family) &&
            !q.answered) {
            return &q;
        }
    }
    return nullptr;
}

void RaceMachine::note_answer(std::uint32_t target, Family family, bool https,
                              const Endpoint* addresses, std::size_t count, std::size_t records) {
    DnsQuery* q = query_for(target, family, https);
    if (q == nullptr) return;
    q->answered = now_;
    q->records = records;
    if (addresses != nullptr && count > 0) q->addresses.assign(addresses, addresses + count);
    if (!https && q->addresses.empty()) {  // an empty answer is "no data"
        Error e;
        e.stage = Stage::resolve;
        e.family = family;
        e.name = q->name;
        q->error = std::move(e);
    }
}

void RaceMachine::note_failure(std::uint32_t target, Family family, bool https, int code,
                               std::string_view detail) {
    DnsQuery* q = query_for(target, family, https);
    if (q == nullptr) return;
    q->answered = now_;
    Error e;
    e.stage = Stage::resolve;
    e.family = family;
    e.name = q->name;
    e.code = code;
    e.detail = std::string(detail);
    e.dns = incoming_dns_;  // the class an adapter gave (race_machine_dns.cpp), or none
    q->error = std::move(e);
}

Error RaceMachine::make_error(const ErrorRec& e) const {
    Error out;
    out.stage = e.stage;
    out.attempt = e.attempt;
    out.code = e.code;
    if (e.stage == Stage::resolve) {
        out.family = e.family;
        out.dns = e.dns;
        if (e.slot != npos && e.slot < v3().names.size()) out.name = v3().names[e.slot].name;
    } else {
        out.remote = cands_[e.slot].remote;
    }
    if (e.local != npos) out.local = config_.local[e.local];
    if (e.detail != npos) out.detail = details_[e.detail];
    if (e.stage == Stage::timeout && config_.attempt_timeout) {
        out.detail = "attempt timeout after " + format_ms(*config_.attempt_timeout) + " ms";
    }
    return out;
}

AttemptRecord RaceMachine::make_record(std::uint32_t slot) const {
    const Candidate& c = cands_[slot];
    AttemptRecord a;
    a.id = AttemptId(c.attempt, slot);
    a.remote = c.remote;
    if (c.bound) a.local = config_.local[c.local_index];
    a.started = c.started;
    a.protocol = protocol_of(c);
    if (const Service* svc = service_of(c)) {
        a.alpn = svc->alpn;
        a.ech = svc->ech.has_value();
        a.source = svc->source;
    }
    switch (c.state) {
        case AState::won: a.state = AttemptRecord::State::connected; break;
        case AState::failed: a.state = AttemptRecord::State::failed; break;
        case AState::closed: a.state = AttemptRecord::State::closed; break;
        default: a.state = AttemptRecord::State::in_flight; break;
    }
    if (a.state != AttemptRecord::State::in_flight) a.ended = c.ended;
    if (a.state == AttemptRecord::State::failed) {
        // Its last recorded error is the one that ended it.
        for (std::size_t i = errors_.size(); i-- > 0;) {
            if (errors_[i].attempt == c.attempt && errors_[i].stage != Stage::resolve) {
                a.error = make_error(errors_[i]);
                break;
            }
        }
    }
    return a;
}

std::optional<AttemptRecord> RaceMachine::attempt_record(AttemptId id) const {
    const std::uint32_t slot = lookup(id);
    if (slot == npos) return std::nullopt;
    return make_record(slot);
}

RaceMetrics RaceMachine::metrics(const RaceReport& r) const {
    RaceMetrics m;
    for (std::size_t i = 0; i < queries_.size(); ++i) {
        const DnsQuery& q = queries_[i];
        if (!q.answered) continue;
        ++m.dns_queries;
        const Duration took = detail::saturating_sub(*q.answered, q.asked);
        if (!m.dns_max || took > *m.dns_max) m.dns_max = took;
        if (query_targets_[i] != 0) continue;
        const Duration since_start = detail::saturating_sub(*q.answered, start_time_);
        if (q.https) {
            m.dns_https = since_start;
        } else if (q.family == Family::v6) {
            m.dns_aaaa = since_start;
        } else {
            m.dns_a = since_start;
        }
    }
    m.attempts_started = started_count_;
    m.duplicates_dropped = duplicates_dropped_;
    if (r.outcome == Outcome::connected && r.remote) {
        m.winner_family = r.remote->family();
        m.winner_protocol = r.protocol;
        m.time_to_connect = detail::saturating_sub(r.finished, r.started);
    }
    for (const Error& e : r.errors) {
        const auto stage = static_cast<std::size_t>(e.stage);
        if (stage < 6) ++m.errors_by_stage[stage];
    }
    m.duration = detail::saturating_sub(r.finished, r.started);
    return m;
}

RaceReport RaceMachine::report() const {
    RaceReport r;
    r.outcome = phase_ == Phase::done ? outcome_ : Outcome::failed;
    r.started = start_time_;
    r.finished = phase_ == Phase::done ? finished_at_ : now_;
    r.overall_timeout = overall_timed_out_;
    r.dropped = dropped_;
    r.queries = queries_;

    // Errors: resolve errors in arrival order, then per attempt in start order
    // (bind errors, then the open/connect/timeout error: recording order).
    std::vector<const ErrorRec*> order;
    order.reserve(errors_.size());
    for (const ErrorRec& e : errors_) order.push_back(&e);
    std::stable_sort(order.begin(), order.end(), [](const ErrorRec* a, const ErrorRec* b) {
        return a->attempt < b->attempt;
    });
    r.errors.reserve(order.size());
    for (const ErrorRec* e : order) r.errors.push_back(make_error(*e));

    // Attempts in start order.
    for (std::uint32_t i = 0; i < cands_.size(); ++i) {
        if (cands_[i].attempt != 0) r.attempts.push_back(make_record(i));
    }
    std::sort(r.attempts.begin(), r.attempts.end(),
              [](const AttemptRecord& a, const AttemptRecord& b) { return a.id < b.id; });

    if (phase_ == Phase::done && outcome_ == Outcome::connected && winner_slot_ != npos) {
        const Candidate& w = cands_[winner_slot_];
        r.winner = AttemptId(w.attempt, winner_slot_);
        r.remote = w.remote;
        if (w.bound) r.local = config_.local[w.local_index];
        r.protocol = protocol_of(w);
        if (const Service* svc = service_of(w)) {
            r.alpn = svc->alpn;
            r.source = svc->source;
        }
        r.metrics = metrics(r);
        return r;
    }
    if (phase_ == Phase::done && outcome_ == Outcome::cancelled) {
        r.message = "cancelled by the caller";
        r.code = ECANCELED;
        r.metrics = metrics(r);
        return r;
    }
    if (overall_timed_out_) {
        r.code = ETIMEDOUT;
        r.message = "overall timeout after " + format_ms(*config_.overall_timeout) + " ms";
        r.metrics = metrics(r);
        return r;
    }
    // The summary (docs/behaviour.md §3): from the attempts' errors, or from the resolve
    // errors when no attempt was made.
    std::vector<const Error*> basis;
    for (const Error& e : r.errors) {
        if (e.attempt != 0) basis.push_back(&e);
    }
    if (basis.empty()) {
        for (const Error& e : r.errors) basis.push_back(&e);
    }
    if (basis.size() == 1) {
        r.code = basis.front()->code;
        r.message = basis.front()->message();
    } else if (basis.size() > 1) {
        r.message = "multiple errors: ";
        r.code = basis.front()->code;
        for (std::size_t i = 0; i < basis.size(); ++i) {
            if (i > 0) r.message += ", ";
            r.message += basis[i]->message();
            if (basis[i]->code != r.code) r.code = 0;
        }
    } else if (phase_ != Phase::done) {
        r.message = "the race has not finished";
    } else {
        r.message = ech_summary();
    }
    r.metrics = metrics(r);
    return r;
}

}  // namespace eyeballs
