// SPDX-License-Identifier: BSL-1.0
// Invariants of the race that hold in every world, whatever the model says.
// Each property runs ≥ 1000 random worlds (see main.cpp); a failure prints the
// world as scenario text for eyeballs-sim.
#include <gtest/gtest.h>
// rapidcheck/gtest.h needs gtest first.
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <set>
#include <string>

#include "eyeballs/nat64.hpp"
#include "eyeballs/sort.hpp"
#include "generators.hpp"
#include "world.hpp"

using namespace eyeballs;
using namespace eyeballs::prop;

namespace {

std::string why(const sim::Scenario& world, const Run& run, const std::string& what) {
    return what + "\nworld:\n" + to_text(world) + "machine trace:\n" + to_text(run.trace);
}

/// check(condition, what): fails the property with the world and the trace.
struct Check {
    const sim::Scenario& world;
    const Run& run;
    void operator()(bool ok, const std::string& what) const {
        if (!ok) RC_FAIL(why(world, run, what));
    }
};

bool is_report(const Step& s) { return std::holds_alternative<Report>(s.action); }

template <typename T>
std::vector<std::pair<Duration, T>> all_of_kind(const Run& run) {
    std::vector<std::pair<Duration, T>> out;
    for (const Step& s : run.trace) {
        if (const T* a = std::get_if<T>(&s.action)) out.emplace_back(s.t, *a);
    }
    return out;
}

/// Attempts whose socket the machine opened (OpenSocket answered with 0).
std::set<std::uint32_t> opened_sockets(const Run& run) {
    std::set<std::uint32_t> out;
    for (const Fed& f : run.fed) {
        if (f.kind == Fed::Kind::opened && f.code == 0) out.insert(f.attempt);
    }
    return out;
}

const AttemptRecord* record_of(const Run& run, std::uint32_t n) {
    for (const AttemptRecord& a : run.report.attempts) {
        if (a.id.number() == n) return &a;
    }
    return nullptr;
}

/// The address list as the race takes it (docs/behaviour.md §1 rule 1): with
/// duplicates=drop, each remote's first occurrence only.
std::vector<Endpoint> first_occurrences(const std::vector<Endpoint>& list, const Config& c) {
    if (c.duplicates == Duplicates::keep) return list;
    std::vector<Endpoint> out;
    for (const Endpoint& e : list) {
        if (std::find(out.begin(), out.end(), e) == out.end()) out.push_back(e);
    }
    return out;
}

/// docs/behaviour.md §1 rule 1 computed from the whole address list at once (addresses
/// mode knows every candidate from the start).
std::vector<Endpoint> interleaved(const std::vector<Endpoint>& list, const Config& c) {
    if (!c.interleaving()) return list;
    std::vector<Endpoint> by_family[2];
    for (const Endpoint& e : list) by_family[e.is_v6() ? 0 : 1].push_back(e);
    std::size_t next[2] = {0, 0};
    auto left = [&](int f) { return next[f] < by_family[f].size(); };
    const int first = list.front().is_v6() ? 0 : 1;
    std::vector<Endpoint> out;
    int previous = first;
    while (out.size() < list.size()) {
        int f;
        if (out.size() < c.family_count && left(first)) {
            f = first;
        } else if (left(1 - previous)) {
            f = 1 - previous;
        } else {
            f = previous;
        }
        out.push_back(by_family[f][next[f]++]);
        previous = f;
    }
    return out;
}

}  // namespace

// 1. At most one winner; it was connecting, it is never closed, and it is the
//    report's winner.
RC_GTEST_PROP(Invariants, AtMostOneWinner, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const Run run = run_machine(world);
    const Check check{world, run};
    const auto reports = all_of_kind<Report>(run);
    int winners = 0;
    for (const auto& [t, r] : reports) winners += r.outcome == Outcome::connected ? 1 : 0;
    check(winners <= 1, "more than one winner");
    if (winners == 0) return;
    const Report& r = reports.front().second;
    check(run.report.outcome == Outcome::connected && run.report.winner == r.winner,
                    "the report() winner is not the Report action's");
    bool connected = false;
    for (const auto& [t, c] : all_of_kind<Connect>(run)) connected = connected || (c.attempt == r.winner && r.remote == c.remote);
    check(connected, "the winner never got a Connect to its remote");
    for (const auto& [t, c] : all_of_kind<Close>(run)) check(c.attempt != r.winner, "the winner was closed");
    for (const AttemptRecord& a : run.report.attempts) {
        check(a.state != AttemptRecord::State::in_flight, "an attempt is still in flight after the win");
        check((a.state == AttemptRecord::State::connected) == (a.id == r.winner),
                        "an attempt other than the winner is marked connected");
    }
}

// 2. A finished race has exactly one Report, the last action, and nothing comes
//    after it whatever is fed afterwards; a race that never ends has none.
RC_GTEST_PROP(Invariants, ExactlyOneReportAndNothingAfterIt, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const int extra = *rc::gen::inRange(0, 12);
    std::string after_problem;
    const Run run = run_machine(world, {}, [&](RaceMachine& m, Duration now) {
        if (!m.finished()) return;
        const RaceReport before = m.report();
        const TimePoint t = origin() + now;
        const AttemptId any(1 + static_cast<std::uint32_t>(extra % 3));
        const Endpoint ep = Endpoint::v4({192, 0, 2, 1}, 443);
        for (int i = 0; i < extra; ++i) {
            const TimePoint when = t + std::chrono::milliseconds(i * 37 % 500) - std::chrono::milliseconds(i % 2 ? 20 : 0);
            switch (i % 8) {
                case 0: m.handle_timeout(when); break;
                case 1: m.handle_connected(when, any); break;
                case 2: m.handle_connect_failed(when, any, ECONNREFUSED); break;
                case 3: m.cancel(when); break;
                case 4: m.handle_resolved(when, Family::v4, &ep, 1); break;
                case 5: m.handle_resolve_failed(when, Family::v6, EIO); break;
                case 6: m.handle_opened(when, any, 0); break;
                default: m.handle_bound(when, any, 0); break;
            }
            if (auto a = m.poll_action()) after_problem = "an action after the report: " + to_string(*a);
        }
        if (m.next_timeout()) after_problem = "a timer after the report";
        if (!m.start(t, &ep, 1).message().size()) after_problem = "start() accepted after the race ended";
        const RaceReport again = m.report();
        if (again.outcome != before.outcome || again.errors != before.errors || again.code != before.code ||
            again.message != before.message || again.finished != before.finished ||
            again.attempts.size() != before.attempts.size()) {
            after_problem = "report() changed after the race ended";
        }
    });
    const Check check{world, run};
    const auto reports = all_of_kind<Report>(run);
    if (run.end == Run::End::finished) {
        check(reports.size() == 1, "a finished race has " + std::to_string(reports.size()) + " reports");
        check(is_report(run.trace.back()), "the report is not the last action");
        check(reports.front().second.outcome == run.report.outcome, "Report action and report() disagree");
    } else {
        check(reports.empty(), "a report from a race that has not finished");
    }
    check(after_problem.empty(), after_problem);
}

// 3. Every opened socket is closed exactly once unless it won; a socket whose
//    creation failed is never closed; nothing is closed that was never opened.
RC_GTEST_PROP(Invariants, EveryOpenedSocketClosedExactlyOnce, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const Run run = run_machine(world);
    const Check check{world, run};
    const std::set<std::uint32_t> opened = opened_sockets(run);
    std::map<std::uint32_t, int> closes;
    for (const auto& [t, c] : all_of_kind<Close>(run)) {
        check(opened.count(c.attempt.number()) == 1,
                        "close #" + std::to_string(c.attempt.number()) + " of a socket never opened");
        ++closes[c.attempt.number()];
    }
    for (const auto& [n, count] : closes) check(count == 1, "socket #" + std::to_string(n) + " closed twice");
    for (std::uint32_t n : opened) {
        const AttemptRecord* a = record_of(run, n);
        check(a != nullptr, "an opened attempt missing from the report");
        const bool won = a->state == AttemptRecord::State::connected;
        const bool in_flight = a->state == AttemptRecord::State::in_flight;
        if (won) check(closes.count(n) == 0, "the winner's socket was closed");
        if (in_flight) check(run.end != Run::End::finished && closes.count(n) == 0, "in flight but closed, or after the end");
        if (!won && !in_flight) check(closes[n] == 1, "socket #" + std::to_string(n) + " leaked");
    }
}

// 4 + 5. Starts happen exactly when rules 2–4 say, in addresses mode: attempt
//    k+1 starts at max(start_k + min-start-gap, min(start_k + attempt-delay,
//    the failure of attempt k)) — sequential: max(start_k + gap, failure of k) —
//    unless the race ended first. So never within the gap, never later than
//    the delay allows, never earlier than the delay or the failure allows.
RC_GTEST_PROP(Invariants, StartsAtTheInstantTheRulesSay, ()) {
    WorldShape shape;
    shape.mode = WorldShape::Mode::addresses;
    const sim::Scenario world = *gen_world(shape);
    const Run run = run_machine(world);
    const Check check{world, run};
    const Config& c = world.config;
    const auto& attempts = run.report.attempts;
    const Duration end = run.end == Run::End::finished ? run.report.finished - origin() : Duration::max();
    for (std::size_t k = 0; k < attempts.size(); ++k) {
        const Duration start = attempts[k].started - origin();
        const Duration failed = attempts[k].state == AttemptRecord::State::failed ? *attempts[k].ended - origin()
                                                                                  : Duration::max();
        Duration due = c.attempt_delay ? std::min(start + *c.attempt_delay, failed) : failed;
        due = std::max(due, start + c.min_start_gap);
        if (k + 1 < attempts.size()) {
            const Duration next = attempts[k + 1].started - origin();
            check(next >= start + c.min_start_gap,
                            "attempt " + std::to_string(k + 2) + " starts within min-start-gap of the previous");
            check(next == due, "attempt " + std::to_string(k + 2) + " starts at " + format_ms(next) +
                                             " ms, the rules say " + (due == Duration::max() ? std::string("never") : format_ms(due)));
        } else if (k + 1 < first_occurrences(world.addresses, c).size()) {
            check(end <= due, "a candidate was left at " + format_ms(due) + " ms but no attempt started");
        }
    }
}

// 6. In addresses mode the attempts follow the interleaved order of docs/behaviour.md §1
//    rule 1, computed here from the whole list; nothing is dropped or
//    duplicated (a failed race has tried every address once).
RC_GTEST_PROP(Invariants, AttemptsFollowTheInterleavedOrder, ()) {
    WorldShape shape;
    shape.mode = WorldShape::Mode::addresses;
    const sim::Scenario world = *gen_world(shape);
    const Run run = run_machine(world);
    const Check check{world, run};
    std::vector<Endpoint> list = first_occurrences(world.addresses, world.config);
    if (world.config.sorting(false)) sort_destinations(list);  // issue 8: RFC 6724 first, when asked
    const std::vector<Endpoint> order = interleaved(list, world.config);
    const auto& attempts = run.report.attempts;
    check(attempts.size() <= order.size(), "more attempts than addresses");
    for (std::size_t i = 0; i < attempts.size(); ++i) {
        check(attempts[i].id.number() == i + 1, "attempts are not numbered 1, 2, ...");
        check(attempts[i].remote == order[i], "attempt " + std::to_string(i + 1) + " races " +
                                                            attempts[i].remote.to_string() + ", rule 1 says " +
                                                            order[i].to_string());
    }
    if (run.end == Run::End::finished && run.report.outcome == Outcome::failed && !run.report.overall_timeout) {
        check(attempts.size() == order.size(), "the race failed before trying every address");
    }
}

// 7. The race always ends when the world ends: when every connect answers and
//    every DNS family answers, the race finishes; in any world, a race that
//    cannot finish is waiting for something that never comes (a hanging
//    connect, a DNS family that never answers) and no timer is left.
RC_GTEST_PROP(Invariants, TheRaceEndsWhenTheWorldEnds, ()) {
    WorldShape shape = any_world();
    const bool complete_world = *rc::gen::arbitrary<bool>();
    if (complete_world) {
        shape.allow_hang = false;
        shape.dns_always_answers = true;
    }
    const sim::Scenario world = *gen_world(shape);
    const Run run = run_machine(world);
    const Check check{world, run};
    check(run.end != Run::End::runaway, "the machine keeps asking for a timer that does nothing");
    if (run.end == Run::End::start_failed) {
        // Only an address list that NAT64 empties entirely (issue 8: IPv4
        // literals that cannot be synthesized are dropped) is refused.
        const Config& c = world.config;
        const bool all_dropped = !world.dns_mode && c.ipv4_unavailable && c.pref64 &&
                                 std::all_of(world.addresses.begin(), world.addresses.end(), [&](const Endpoint& e) {
                                     return e.is_v4() && !synthesize(e, *c.pref64);
                                 });
        check(all_dropped, "the machine refused a valid world: " + run.start_error);
        return;
    }
    if (complete_world) check(run.end == Run::End::finished, "the race hangs although the world has ended");
    if (run.end != Run::End::stuck) return;
    check(!world.config.overall_timeout, "stuck although an overall timeout is set");
    bool waiting_dns = false;
    if (world.dns_mode) {
        for (Family f : {Family::v6, Family::v4}) {
            waiting_dns = waiting_dns || std::none_of(world.dns.begin(), world.dns.end(),
                                                      [&](const sim::DnsAnswer& a) { return a.family == f; });
        }
    }
    bool hanging = false;
    for (const AttemptRecord& a : run.report.attempts) {
        if (a.state != AttemptRecord::State::in_flight) continue;
        auto it = world.connects.find(a.remote);
        hanging = hanging || it == world.connects.end() || it->second.kind == sim::ConnectRule::Kind::hang;
        check(!world.config.attempt_timeout, "stuck with an attempt in flight and an attempt timeout set");
    }
    check(waiting_dns || hanging, "stuck with nothing outstanding");
    check(hanging == (run.in_flight_at_end > 0), "attempts_in_flight() disagrees with the report");
}

// 8. The same inputs give the same trace and the same report, to the letter.
RC_GTEST_PROP(Invariants, SameInputsSameTrace, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const Run run = run_machine(world);
    const Check check{world, run};
    const Run again = run_machine(world);
    check(run.trace == again.trace, "a second run gave a different trace:\n" + to_text(again.trace));
    check(run.report.errors == again.report.errors && run.report.message == again.report.message &&
                        run.report.code == again.report.code && run.report.finished == again.report.finished,
                    "a second run gave a different report");
}

// 9. Late and duplicate events change nothing (docs/behaviour.md §1 rule 10): duplicates of
//    each event, results for unknown and closed attempts, OpenSocket/Bind
//    answered twice, early and repeated handle_timeout, time going backwards
//    on ignored inputs, DNS answers after the family answered.
RC_GTEST_PROP(Invariants, LateAndDuplicateEventsChangeNothing, ()) {
    const sim::Scenario world = *gen_world(any_world());
    Noise noise;
    noise.enabled = true;
    noise.seed = *rc::gen::arbitrary<std::uint64_t>();
    noise.percent = *rc::gen::inRange(20, 101);
    const Run run = run_machine(world);
    const Check check{world, run};
    const Run noisy = run_machine(world, noise);
    check(run.trace == noisy.trace, "noise changed the trace; with noise:\n" + to_text(noisy.trace));
    check(run.end == noisy.end, "noise changed how the run ended");
    check(run.report.errors == noisy.report.errors && run.report.code == noisy.report.code &&
                        run.report.message == noisy.report.message,
                    "noise changed the report");
}

// 10. Failure reports carry every error in start order (docs/behaviour.md §3): negative DNS
//     answers first in arrival order, then per attempt in start order its bind
//     errors, then its open, connect or timeout error; and the summary.
RC_GTEST_PROP(Invariants, FailureReportsCarryEveryErrorInStartOrder, ()) {
    const sim::Scenario world = *gen_world();
    const Run run = run_machine(world);
    const Check check{world, run};
    const RaceReport& r = run.report;
    std::vector<Error> want;
    for (const Fed& f : run.fed) {
        if (f.kind != Fed::Kind::resolve_failed) continue;
        Error e;
        e.stage = Stage::resolve;
        e.code = f.code;
        want.push_back(e);
    }
    // Resolve errors also come from empty answers; the world has none (it
    // writes `none`), so every resolve error was fed as resolve_failed.
    const std::size_t resolve_count = want.size();
    for (const AttemptRecord& a : r.attempts) {
        const std::uint32_t n = a.id.number();
        bool opened = false;
        std::optional<Error> final;
        for (const Fed& f : run.fed) {
            if (f.attempt != n) continue;
            Error e;
            e.attempt = n;
            e.remote = a.remote;
            e.code = f.code;
            if (f.kind == Fed::Kind::opened) {
                opened = true;
                if (f.code != 0) {
                    e.stage = Stage::open;
                    final = e;
                }
            } else if (f.kind == Fed::Kind::bound && f.code != 0) {
                e.stage = Stage::bind;
                e.local = f.local;
                want.push_back(e);
            } else if (f.kind == Fed::Kind::connect_failed && a.state == AttemptRecord::State::failed &&
                       a.ended && *a.ended - origin() == f.t && !final) {
                e.stage = Stage::connect;
                final = e;
            }
        }
        if (!opened && a.state == AttemptRecord::State::failed) {
            Error e;  // rule 7: no local address of its family
            e.stage = Stage::bind;
            e.attempt = n;
            e.remote = a.remote;
            final = e;
        }
        if (!final && a.state == AttemptRecord::State::failed) {
            const bool bind_failures = std::any_of(want.begin() + static_cast<std::ptrdiff_t>(resolve_count), want.end(),
                                                   [&](const Error& e) { return e.attempt == n; });
            const bool timed_out = world.config.attempt_timeout && a.ended && *a.ended == a.started + *world.config.attempt_timeout;
            if (!bind_failures || timed_out) {
                Error e;
                e.stage = Stage::timeout;
                e.attempt = n;
                e.remote = a.remote;
                e.code = ETIMEDOUT;
                final = e;
            }
        }
        if (final) want.push_back(*final);
    }
    check(r.errors.size() == want.size(), "the report has " + std::to_string(r.errors.size()) +
                                                        " errors, the world caused " + std::to_string(want.size()));
    for (std::size_t i = 0; i < want.size(); ++i) {
        const Error& got = r.errors[i];
        const Error& w = want[i];
        check(got.stage == w.stage && got.attempt == w.attempt && got.code == w.code &&
                            (w.stage == Stage::resolve || (got.remote == w.remote && got.local == w.local)),
                        "error " + std::to_string(i + 1) + " is '" + got.message() + "', expected stage " +
                            stage_name(w.stage) + " of attempt " + std::to_string(w.attempt));
    }
    if (run.end != Run::End::finished || r.outcome != Outcome::failed) return;
    if (r.overall_timeout) {
        check(r.code == ETIMEDOUT, "an overall timeout's summary errno is not ETIMEDOUT");
        check(r.message.find("timeout") != std::string::npos || r.message.find("timed out") != std::string::npos,
                        "an overall timeout's message does not say so: " + r.message);
        return;
    }
    std::vector<const Error*> basis;
    for (const Error& e : r.errors) {
        if (e.attempt != 0) basis.push_back(&e);
    }
    if (basis.empty()) {
        for (const Error& e : r.errors) basis.push_back(&e);
    }
    check(!basis.empty(), "a failed race with no error");
    if (basis.size() == 1) {
        check(r.code == basis[0]->code && r.message == basis[0]->message(), "one error: the summary is not that error");
        return;
    }
    std::string message = "multiple errors: ";
    int code = basis[0]->code;
    for (std::size_t i = 0; i < basis.size(); ++i) {
        if (i > 0) message += ", ";
        message += basis[i]->message();
        if (basis[i]->code != code) code = 0;
    }
    check(r.message == message, "summary message '" + r.message + "', expected '" + message + "'");
    check(r.code == code, "summary errno is not the shared one (or null)");
}

// 11. Timers never stall or lag: after handle_timeout(t) the next deadline is
//     later than t, and a deadline is never already in the past when asked.
RC_GTEST_PROP(Invariants, TimersNeverStallOrLag, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const Run run = run_machine(world);
    const Check check{world, run};
    check(!run.timer_stalled, "handle_timeout(t) left a deadline at or before t");
    check(!run.deadline_in_past, "next_timeout() named an instant already passed");
}

// 12. Every attempt follows the action protocol: OpenSocket (unless it failed
//     before a socket, rule 7), then Bind over the locals of its family in
//     order until one works, then Connect (from the bound local) — or a Close
//     when creation worked but every bind failed. DNS mode begins with
//     resolve AAAA, then resolve A; addresses mode never resolves.
RC_GTEST_PROP(Invariants, ActionsFollowTheProtocol, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const Run run = run_machine(world);
    const Check check{world, run};
    const auto resolves = all_of_kind<Resolve>(run);
    if (world.dns_mode) {
        check(run.trace.size() >= 2 && run.trace[0].action == Action{Resolve{Family::v6}} &&
                            run.trace[1].action == Action{Resolve{Family::v4}} && resolves.size() == 2,
                        "DNS mode does not begin with resolve AAAA, resolve A");
    } else {
        check(resolves.empty(), "addresses mode resolved");
    }
    const Config& c = world.config;
    for (const AttemptRecord& a : run.report.attempts) {
        const std::uint32_t n = a.id.number();
        std::vector<Action> mine;
        for (const Step& s : run.trace) {
            if (!std::holds_alternative<Report>(s.action) && !std::holds_alternative<Resolve>(s.action) &&
                attempt_of(s.action) == n) {
                mine.push_back(s.action);
            }
        }
        const bool has_family = c.local.empty() || std::any_of(c.local.begin(), c.local.end(), [&](const Endpoint& l) {
                                    return l.family() == a.remote.family();
                                });
        if (!has_family) {
            check(mine.empty(), "an attempt with no local of its family got actions");
            continue;
        }
        check(!mine.empty() && mine[0] == Action{OpenSocket{a.id, a.remote}},
                        "attempt " + std::to_string(n) + " does not begin with OpenSocket");
        if (mine.size() == 1) continue;  // open failed, or the race ended at once
        std::size_t i = 1;
        std::optional<Endpoint> bound;
        for (const Endpoint& l : c.local) {
            if (l.family() != a.remote.family()) continue;
            if (i >= mine.size() || !std::holds_alternative<Bind>(mine[i])) break;
            check(std::get<Bind>(mine[i]).local == l, "binds out of order for attempt " + std::to_string(n));
            ++i;
            if (world.bind_errors.count(l) == 0) {
                bound = l;
                break;
            }
        }
        if (i < mine.size() && std::holds_alternative<Connect>(mine[i])) {
            check(c.local.empty() || bound, "a Connect without a successful bind");
            check(mine[i] == Action{Connect{a.id, a.remote, bound}}, "Connect names the wrong remote or local");
            check(a.local == bound, "the report's local is not the bound one");
            ++i;
        }
        if (i < mine.size()) {
            check(std::holds_alternative<Close>(mine[i]), "unexpected action " + to_string(mine[i]));
            ++i;
        }
        check(i == mine.size(), "attempt " + std::to_string(n) + " has extra actions");
    }
}

// 13. Cancel (rule 9) ends the race at once: the report is `cancelled` at the
//     cancel's instant and every attempt in flight is closed then.
RC_GTEST_PROP(Invariants, CancelClosesEverythingInFlight, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const Run run = run_machine(world);
    const Check check{world, run};
    if (run.end != Run::End::finished || run.report.outcome != Outcome::cancelled) return;
    const Duration at = run.report.finished - origin();
    bool had_cancel = false;
    for (const Fed& f : run.fed) had_cancel = had_cancel || (f.kind == Fed::Kind::cancel && f.t == at);
    check(had_cancel, "cancelled, but not at a cancel's instant");
    for (const AttemptRecord& a : run.report.attempts) {
        check(a.state != AttemptRecord::State::in_flight && a.state != AttemptRecord::State::connected,
                        "an attempt left in flight or connected by a cancel");
        if (a.state == AttemptRecord::State::closed) check(a.ended && *a.ended - origin() == at, "closed at another time");
    }
}

// Issue 14: a race never takes more than config.max_endpoints endpoints, and
// with the cap high enough for the whole world it drops nothing.
RC_GTEST_PROP(Invariants, NeverMoreEndpointsThanTheCap, ()) {
    sim::Scenario world = *gen_world(any_world());
    const auto cap = static_cast<std::uint32_t>(*rc::gen::inRange(1, 5));
    world.config.max_endpoints = cap;
    const Run run = run_machine(world);
    const Check check{world, run};
    check(run.report.attempts.size() <= cap,
          std::to_string(run.report.attempts.size()) + " attempts over max-endpoints " +
              std::to_string(cap));
    std::set<std::string> remotes;
    for (const auto& [t, c] : all_of_kind<Connect>(run)) remotes.insert(c.remote.to_string());
    check(remotes.size() <= cap, "more remotes connected than max-endpoints");
    world.config.max_endpoints = max_max_endpoints;
    const Run uncapped = run_machine(world);
    const Check check_uncapped{world, uncapped};
    check_uncapped(uncapped.report.dropped == 0, "dropped endpoints under a cap of 1024");
}

// Issue 16 item 4 (docs/behaviour.md §1 rule 1): with duplicates=drop no two
// attempts share a remote (address, zone, port; RFC 8305 races are TCP only),
// every remote attempted was given, the first occurrence keeps its place (the
// list without repeats is what the race takes, so a failed race tries each
// once), and the report counts exactly the repeats the world gave. With
// duplicates=keep nothing is dropped and nothing is counted.
RC_GTEST_PROP(Invariants, DuplicatesDroppedFirstKeptAndCounted, ()) {
    sim::Scenario world = *gen_world(any_world());
    world.config.ipv4_unavailable = false;  // no NAT64: every remote is one the world gave
    world.config.pref64.reset();
    const bool keep = world.config.duplicates == Duplicates::keep;
    const Run run = run_machine(world);
    const Check check{world, run};
    std::vector<Endpoint> given = world.addresses;
    // DNS mode: the answers the machine took, as given to it.
    for (const DnsQuery& q : run.report.queries) given.insert(given.end(), q.addresses.begin(), q.addresses.end());
    const std::size_t repeats = given.size() - first_occurrences(given, Config{}).size();
    std::vector<Endpoint> attempted;
    for (const AttemptRecord& a : run.report.attempts) {
        check(std::find(given.begin(), given.end(), a.remote) != given.end(),
              "attempt " + a.remote.to_string() + " was never given");
        if (!keep) {
            check(std::find(attempted.begin(), attempted.end(), a.remote) == attempted.end(),
                  "two attempts race " + a.remote.to_string() + " with duplicates=drop");
        }
        attempted.push_back(a.remote);
    }
    const std::uint32_t counted = run.report.metrics.duplicates_dropped;
    if (keep) {
        check(counted == 0, "duplicates=keep counted " + std::to_string(counted) + " repeats");
    } else if (run.end != Run::End::start_failed) {
        check(counted == repeats, "counted " + std::to_string(counted) + " repeats, the world gave " +
                                      std::to_string(repeats));
    }
}
