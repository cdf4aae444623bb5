// SPDX-License-Identifier: BSL-1.0
// The reference model: docs/behaviour.md §1–§3 as a discrete-event simulation of a world.
// See model.hpp for the shape. Each rule is tagged with the docs/behaviour.md rule it
// implements; nothing here was taken from src/race_machine.cpp.
#include "model.hpp"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <limits>

#include "eyeballs/sort.hpp"

namespace eyeballs::model {
namespace {

constexpr std::size_t fi(Family f) { return f == Family::v6 ? 0 : 1; }
constexpr Family other(Family f) { return f == Family::v6 ? Family::v4 : Family::v6; }

struct Attempt {
    std::uint32_t number = 0;
    Endpoint remote;
    std::optional<Endpoint> local;
    Duration start{};
    std::optional<Duration> end;
    AttemptEnd::State state = AttemptEnd::State::in_flight;
    bool socket = false;
    std::vector<Error> errors;  // its bind errors, then its open/connect/timeout error
};

struct Candidate {
    Endpoint remote;
    bool used = false;
};

struct Event {
    Duration at{};
    std::uint64_t seq = 0;
    bool from_file = true;
    std::size_t file_index = 0;  // world.events
    std::size_t attempt = 0;     // index into attempts (connect results)
    bool ok = false;
    int code = 0;
};

enum class Dns : std::uint8_t { pending, positive, negative };

class Simulation {
public:
    explicit Simulation(const sim::Scenario& world) : w_(world), cfg_(world.config) {}

    Expected run() {
        for (std::size_t i = 0; i < w_.events.size(); ++i) {
            Event e;
            e.at = w_.events[i].at;
            e.seq = seq_++;
            e.from_file = true;
            e.file_index = i;
            queue_.push_back(e);
        }
        // docs/behaviour.md §4: the race starts at t=0, before any event due at 0.
        if (w_.dns_mode) {
            // docs/behaviour.md §2: `resolve AAAA`, then `resolve A`, both at start.
            emit(Resolve{Family::v6});
            emit(Resolve{Family::v4});
            resolving_ = true;
            dns_[0] = dns_[1] = Dns::pending;
        } else {
            for (const Endpoint& e : sorted(w_.addresses)) cands_.push_back(Candidate{e});
            start_attempt();  // rule 2: the first attempt starts at once
        }
        last_instant_ = now_;
        while (!done_) {
            const std::optional<Duration> next = next_instant();
            if (!next) break;  // nothing can ever happen again: the run never ends
            now_ = *next;
            last_instant_ = now_;
            run_instant();
        }
        return result();
    }

private:
    // Issue 8: each address list (the `addresses` line, one DNS answer) is
    // sorted by RFC 6724 before rule 1 interleaves it — by default in DNS mode
    // only. The model reuses the library's sort (it has tests of its own); the
    // worlds here carry no source information, history or NAT64.
    // Issue 16 item 4 (docs/behaviour.md §1 rule 1): with duplicates=drop, a
    // remote already among the candidates, or earlier in the batch, is left
    // out before sorting.
    std::vector<Endpoint> sorted(std::vector<Endpoint> given) const {
        std::vector<Endpoint> batch;
        for (const Endpoint& e : given) {
            const bool seen =
                std::find(batch.begin(), batch.end(), e) != batch.end() ||
                std::any_of(cands_.begin(), cands_.end(), [&](const Candidate& c) { return c.remote == e; });
            if (!seen || cfg_.duplicates == Duplicates::keep) batch.push_back(e);
        }
        if (cfg_.sorting(w_.dns_mode)) sort_destinations(batch);
        return batch;
    }

    // ---- the clock -----------------------------------------------------------

    std::optional<Duration> next_instant() const {
        std::optional<Duration> best;
        auto consider = [&](std::optional<Duration> t) {
            if (t && (!best || *t < *best)) best = t;
        };
        for (const Event& e : queue_) consider(e.at);
        for (const Duration t : timer_deadlines()) consider(t);
        return best;
    }

    std::vector<Duration> timer_deadlines() const {
        std::vector<Duration> out;
        if (cfg_.overall_timeout) out.push_back(*cfg_.overall_timeout);
        if (cfg_.attempt_timeout) {
            for (const Attempt& a : attempts_) {
                if (a.state == AttemptEnd::State::in_flight) out.push_back(a.start + *cfg_.attempt_timeout);
            }
        }
        if (resolution_timer_) out.push_back(*resolution_timer_);
        if (start_timer_) out.push_back(*start_timer_);
        return out;
    }

    // docs/behaviour.md §4: at one instant, the events (in the order they were scheduled)
    // before any timer; an event created at the instant before the timers not
    // yet fired. docs/behaviour.md §1 rule 8: the timers' order.
    void run_instant() {
        while (!done_) {
            if (deliver_one_event()) continue;
            if (fire_one_timer()) continue;
            break;
        }
    }

    bool deliver_one_event() {
        std::size_t best = queue_.size();
        for (std::size_t i = 0; i < queue_.size(); ++i) {
            if (queue_[i].at != now_) continue;
            if (best == queue_.size() || queue_[i].seq < queue_[best].seq) best = i;
        }
        if (best == queue_.size()) return false;
        const Event e = queue_[best];
        queue_.erase(queue_.begin() + static_cast<std::ptrdiff_t>(best));
        deliver(e);
        return true;
    }

    bool fire_one_timer() {
        // 1. The overall timeout (rule 8) ends the race.
        if (cfg_.overall_timeout && *cfg_.overall_timeout <= now_) {
            overall_timed_out_ = true;
            finish(Outcome::failed, nullptr);
            return true;
        }
        // 2. Attempt timeouts, in attempt order: an ETIMEDOUT failure (stage timeout).
        if (cfg_.attempt_timeout) {
            for (std::size_t i = 0; i < attempts_.size(); ++i) {
                Attempt& a = attempts_[i];
                if (a.state != AttemptEnd::State::in_flight) continue;
                if (a.start + *cfg_.attempt_timeout > now_) continue;
                a.errors.push_back(attempt_error(a, Stage::timeout, ETIMEDOUT));
                fail(i);
                after_failure(i);
                return true;
            }
        }
        // 3. The resolution delay expired: IPv4 starts (docs/behaviour.md §2).
        if (resolution_timer_ && *resolution_timer_ <= now_) {
            resolution_timer_.reset();
            resolving_ = false;
            start_attempt();
            return true;
        }
        // 4. The Next Connection Attempt Timer (or a start the floor deferred).
        if (start_timer_ && *start_timer_ <= now_) {
            start_timer_.reset();
            if (candidates_left() > 0) start_attempt();
            return true;
        }
        return false;
    }

    // ---- events ----------------------------------------------------------------

    void deliver(const Event& e) {
        if (done_) return;  // rule 10: nothing changes a finished race
        if (!e.from_file) {
            Attempt& a = attempts_[e.attempt];
            if (a.state != AttemptEnd::State::in_flight) return;  // late: already closed
            if (e.ok) {
                finish(Outcome::connected, &a);  // rule 5: first success wins
            } else {
                a.errors.push_back(attempt_error(a, Stage::connect, e.code));
                fail(e.attempt);
                after_failure(e.attempt);
            }
            return;
        }
        const sim::FileEvent& fe = w_.events[e.file_index];
        if (fe.kind == sim::FileEvent::Kind::cancel) {
            finish(Outcome::cancelled, nullptr);  // rule 9
            return;
        }
        on_dns(w_.dns[fe.dns_index]);
    }

    void on_dns(const sim::DnsAnswer& answer) {
        const Family f = answer.family;
        if (dns_[fi(f)] != Dns::pending) return;
        if (answer.kind != sim::DnsAnswer::Kind::addresses) {
            dns_[fi(f)] = Dns::negative;
            Error e;
            e.stage = Stage::resolve;
            e.family = f;
            e.code = answer.kind == sim::DnsAnswer::Kind::error ? answer.code : 0;
            resolve_errors_.push_back(e);
            if (resolving_) {
                // docs/behaviour.md §2: a negative AAAA ends the wait for it at once.
                if (f == Family::v6 && dns_[fi(Family::v4)] == Dns::positive) {
                    resolution_timer_.reset();
                    resolving_ = false;
                    start_attempt();
                    return;
                }
            }
            check_all_failed();
            return;
        }
        dns_[fi(f)] = Dns::positive;
        if (resolving_) {
            if (f == Family::v6) {
                // docs/behaviour.md §1 rule 1 (interleave=off): an AAAA answer that ends the
                // resolution delay goes before the A answer that started it.
                auto at = std::find_if(cands_.begin(), cands_.end(), [](const Candidate& c) {
                    return c.remote.family() == Family::v4;
                });
                std::vector<Candidate> fresh;
                for (const Endpoint& ep : sorted(answer.addresses)) fresh.push_back(Candidate{ep});
                cands_.insert(at, fresh.begin(), fresh.end());
                // docs/behaviour.md §2: a positive AAAA (first, or within the window) connects at once.
                resolution_timer_.reset();
                resolving_ = false;
                start_attempt();
                return;
            }
            for (const Endpoint& ep : sorted(answer.addresses)) cands_.push_back(Candidate{ep});
            if (dns_[fi(Family::v6)] == Dns::negative) {
                // docs/behaviour.md §2: a positive A after a negative AAAA starts IPv4 at once.
                resolving_ = false;
                start_attempt();
            } else {
                // docs/behaviour.md §2: A first: wait `resolution-delay` for AAAA.
                resolution_timer_ = now_ + cfg_.resolution_delay;
            }
            return;
        }
        for (const Endpoint& ep : sorted(answer.addresses)) cands_.push_back(Candidate{ep});
        on_new_candidates();
    }

    // docs/behaviour.md §2: a new address during the race.
    void on_new_candidates() {
        if (in_flight() == 0) {
            start_asap();  // nothing in flight: at once (rule 3, floor of rule 4)
            return;
        }
        if (!cfg_.attempt_delay) return;  // sequential: waits until nothing is in flight
        const Duration would_fire = last_start_ + *cfg_.attempt_delay;
        if (now_ > would_fire) {
            start_asap();  // that instant has passed: at once
            return;
        }
        // Not before the Next Connection Attempt Timer would have fired: at that
        // instant, as the timer would (after that instant's events).
        const Duration at = std::max(would_fire, last_start_ + cfg_.min_start_gap);
        if (!start_timer_ || at < *start_timer_) start_timer_ = at;
    }

    // ---- attempts ----------------------------------------------------------------

    std::size_t candidates_left() const {
        return static_cast<std::size_t>(
            std::count_if(cands_.begin(), cands_.end(), [](const Candidate& c) { return !c.used; }));
    }
    bool has_candidate(Family f) const {
        return std::any_of(cands_.begin(), cands_.end(), [&](const Candidate& c) {
            return !c.used && c.remote.family() == f;
        });
    }
    std::size_t in_flight() const {
        return static_cast<std::size_t>(std::count_if(attempts_.begin(), attempts_.end(), [](const Attempt& a) {
            return a.state == AttemptEnd::State::in_flight;
        }));
    }
    bool dns_outstanding() const {
        return w_.dns_mode && (dns_[0] == Dns::pending || dns_[1] == Dns::pending);
    }
    bool interleaving() const { return cfg_.interleave.value_or(cfg_.attempt_delay.has_value()); }

    // docs/behaviour.md §1 rule 1, decided at the instant the attempt starts.
    Endpoint take_candidate() {
        std::optional<Family> family;
        if (interleaving()) {
            const std::size_t made = attempts_.size();
            if (made == 0) {
                if (w_.dns_mode) {
                    first_family_ = has_candidate(Family::v6) ? Family::v6 : Family::v4;
                } else {
                    first_family_ = std::find_if(cands_.begin(), cands_.end(), [](const Candidate& c) {
                                        return !c.used;
                                    })->remote.family();
                }
                family = first_family_;
            } else if (made < cfg_.family_count && has_candidate(first_family_)) {
                family = first_family_;
            } else if (has_candidate(other(last_family_))) {
                family = other(last_family_);
            } else {
                family = last_family_;
            }
        }
        for (Candidate& c : cands_) {
            if (c.used || (family && c.remote.family() != *family)) continue;
            c.used = true;
            return c.remote;
        }
        return Endpoint{};  // unreachable: callers check candidates_left()
    }

    Error attempt_error(const Attempt& a, Stage stage, int code) const {
        Error e;
        e.stage = stage;
        e.attempt = a.number;
        e.remote = a.remote;
        e.code = code;
        return e;
    }

    void start_attempt() {
        if (done_ || candidates_left() == 0) return;
        Attempt a;
        a.remote = take_candidate();
        a.number = static_cast<std::uint32_t>(attempts_.size() + 1);
        a.start = now_;
        last_start_ = now_;
        last_family_ = a.remote.family();
        start_timer_.reset();  // rule 2: the timer restarts at every start
        const AttemptId id(a.number);
        const std::size_t index = attempts_.size();

        bool failed = false;
        if (!cfg_.local.empty() &&
            std::none_of(cfg_.local.begin(), cfg_.local.end(),
                         [&](const Endpoint& l) { return l.family() == a.remote.family(); })) {
            // Rule 7: fails before a socket is opened, stage bind, no errno.
            a.errors.push_back(attempt_error(a, Stage::bind, 0));
            failed = true;
        } else {
            emit(OpenSocket{id, a.remote});
            if (auto it = w_.open_errors.find(a.remote); it != w_.open_errors.end()) {
                a.errors.push_back(attempt_error(a, Stage::open, it->second));
                failed = true;  // never opened: never closed (rule 9)
            } else {
                a.socket = true;
                if (!cfg_.local.empty()) {
                    for (const Endpoint& l : cfg_.local) {
                        if (l.family() != a.remote.family()) continue;
                        emit(Bind{id, l});
                        if (auto b = w_.bind_errors.find(l); b != w_.bind_errors.end()) {
                            Error e = attempt_error(a, Stage::bind, b->second);
                            e.local = l;
                            a.errors.push_back(e);  // every failed bind is recorded
                            continue;
                        }
                        a.local = l;
                        break;
                    }
                    failed = !a.local;  // all binds failed: just those errors
                }
                if (!failed) {
                    emit(Connect{id, a.remote, a.local});
                    if (auto c = w_.connects.find(a.remote);
                        c != w_.connects.end() && c->second.kind != sim::ConnectRule::Kind::hang) {
                        Event e;
                        e.at = now_ + c->second.after;
                        e.seq = seq_++;
                        e.from_file = false;
                        e.attempt = index;
                        e.ok = c->second.kind == sim::ConnectRule::Kind::ok;
                        e.code = c->second.code;
                        queue_.push_back(e);
                    }
                }
            }
        }
        attempts_.push_back(a);
        // Rule 2: the Next Connection Attempt Timer, while a candidate is left;
        // rule 4: never within min-start-gap of this start.
        if (cfg_.attempt_delay && candidates_left() > 0) {
            start_timer_ = std::max(now_ + *cfg_.attempt_delay, now_ + cfg_.min_start_gap);
        }
        if (failed) {
            fail(index);
            after_failure(index);
        }
    }

    void fail(std::size_t i) {
        Attempt& a = attempts_[i];
        a.state = AttemptEnd::State::failed;
        a.end = now_;
        if (a.socket) emit(Close{AttemptId(a.number)});
    }

    // Rule 3: when the newest attempt fails (or nothing is left in flight), the
    // next starts at once; an older attempt's failure changes no timer.
    void after_failure(std::size_t i) {
        if (done_) return;
        const bool newest = i + 1 == attempts_.size();
        if (candidates_left() > 0 && (newest || in_flight() == 0)) start_asap();
        check_all_failed();
    }

    // "At once", with rule 4's floor: a start within min-start-gap of the previous
    // one happens at previous start + gap, as the Next Connection Attempt Timer.
    void start_asap() {
        if (attempts_.empty() || now_ >= last_start_ + cfg_.min_start_gap) {
            start_attempt();
            return;
        }
        const Duration floor = last_start_ + cfg_.min_start_gap;
        if (!start_timer_ || floor < *start_timer_) start_timer_ = floor;
    }

    // Rule 6, and docs/behaviour.md §2's "both families negative".
    void check_all_failed() {
        if (done_) return;
        if (in_flight() == 0 && candidates_left() == 0 && !dns_outstanding()) {
            finish(Outcome::failed, nullptr);
        }
    }

    void finish(Outcome outcome, Attempt* winner) {
        done_ = true;
        outcome_ = outcome;
        for (Attempt& a : attempts_) {
            if (a.state != AttemptEnd::State::in_flight) continue;
            a.end = now_;
            if (&a == winner) {
                a.state = AttemptEnd::State::connected;
                continue;
            }
            a.state = AttemptEnd::State::closed;
            emit(Close{AttemptId(a.number)});
        }
        Report r;
        r.outcome = outcome;
        if (winner != nullptr) {
            winner_ = winner->number;
            r.winner = AttemptId(winner->number);
            r.remote = winner->remote;
        }
        emit(r);
        resolution_timer_.reset();
        start_timer_.reset();
    }

    void emit(Action a) { out_.trace.push_back(Step{now_, std::move(a)}); }

    Expected result() {
        out_.finished = done_;
        out_.end = last_instant_;
        out_.outcome = done_ ? outcome_ : Outcome::failed;
        out_.winner = winner_;
        out_.overall_timeout = overall_timed_out_;
        // docs/behaviour.md §3: negative DNS answers first, in arrival order; then per attempt
        // in start order its bind errors, then its open, connect or timeout error.
        out_.errors = resolve_errors_;
        std::vector<const Error*> of_attempts;
        for (const Attempt& a : attempts_) {
            for (const Error& e : a.errors) {
                out_.errors.push_back(e);
                of_attempts.push_back(&e);
            }
        }
        if (done_ && outcome_ == Outcome::failed) {
            if (overall_timed_out_) {
                out_.code = ETIMEDOUT;
            } else {
                std::vector<const Error*> basis = of_attempts;
                if (basis.empty()) {
                    for (const Error& e : resolve_errors_) basis.push_back(&e);
                }
                // One error: its errno. Several: the one they all share, or none.
                out_.code = basis.empty() ? 0 : basis.front()->code;
                for (const Error* e : basis) {
                    if (e->code != out_.code) out_.code = 0;
                }
            }
        }
        for (const Attempt& a : attempts_) {
            AttemptEnd end;
            end.number = a.number;
            end.remote = a.remote;
            end.local = a.local;
            end.started = a.start;
            end.ended = a.end;
            end.state = a.state;
            out_.attempts.push_back(end);
        }
        return out_;
    }

    const sim::Scenario& w_;
    const Config& cfg_;
    Expected out_;
    Duration now_{0};
    Duration last_instant_{0};
    bool done_ = false;
    bool resolving_ = false;
    bool overall_timed_out_ = false;
    Outcome outcome_ = Outcome::failed;
    std::uint32_t winner_ = 0;
    Dns dns_[2] = {Dns::positive, Dns::positive};
    std::vector<Candidate> cands_;
    std::vector<Attempt> attempts_;
    std::vector<Error> resolve_errors_;
    std::vector<Event> queue_;
    std::uint64_t seq_ = 0;
    std::optional<Duration> resolution_timer_;
    std::optional<Duration> start_timer_;
    Duration last_start_{0};
    Family first_family_ = Family::v6;
    Family last_family_ = Family::v6;
};

}  // namespace

Expected run_model(const sim::Scenario& world) { return Simulation(world).run(); }

}  // namespace eyeballs::model
