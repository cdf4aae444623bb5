// SPDX-License-Identifier: BSL-1.0
// The harness: our own virtual-time driver for the machine, the scenario
// printer, and the trace comparison. See world.hpp.
#include "world.hpp"

#include <algorithm>
#include <cerrno>
#include <ostream>
#include <random>
#include <sstream>
#include <variant>

#include "eyeballs/error.hpp"
#include "eyeballs/history.hpp"

namespace eyeballs::prop {
namespace {

// ---- the driver ------------------------------------------------------------

struct Event {
    Duration at{};
    std::uint64_t seq = 0;
    bool from_file = true;
    std::size_t file_index = 0;
    AttemptId attempt;
    bool ok = false;
    int code = 0;
};

class Driver {
public:
    Driver(const sim::Scenario& world, const Noise& noise, const AtEnd& at_end)
        : w_(world), history_(preload(world)), m_(with_history(world)), noise_(noise), at_end_(at_end),
          rng_(noise.seed) {}

    Run run() {
        for (std::size_t i = 0; i < w_.events.size(); ++i) {
            Event e;
            e.at = w_.events[i].at;
            e.seq = seq_++;
            e.file_index = i;
            queue_.push_back(e);
        }
        const Status s = w_.dns_mode ? m_.start_resolving(origin()) : m_.start(origin(), w_.addresses);
        if (!s) {
            run_.end = Run::End::start_failed;
            run_.start_error = s.message();
            return finish();
        }
        drain();
        noise_burst(nullptr);
        int stalled = 0;
        while (!m_.finished()) {
            const std::optional<TimePoint> deadline = m_.next_timeout();
            if (deadline && *deadline < at()) run_.deadline_in_past = true;
            const Event* next = earliest();
            if (next != nullptr && (!deadline || origin() + next->at <= *deadline)) {
                const Event e = *next;
                queue_.erase(queue_.begin() + (next - queue_.data()));
                now_ = std::max(now_, e.at);
                deliver(e);
                drain();
                noise_burst(&e);
                stalled = 0;
                continue;
            }
            if (!deadline) {
                run_.end = Run::End::stuck;
                return finish();
            }
            now_ = std::max(now_, *deadline - origin());
            run_.fed.push_back(Fed{Fed::Kind::timeout, now_, 0, 0, std::nullopt});
            m_.handle_timeout(at());
            drain();
            const auto after = m_.next_timeout();
            if (!m_.finished() && after && *after <= at()) {
                run_.timer_stalled = true;
                if (++stalled > 100) {
                    run_.end = Run::End::runaway;
                    return finish();
                }
            } else {
                stalled = 0;
            }
            noise_burst(nullptr);
        }
        run_.end = Run::End::finished;
        return finish();
    }

private:
    TimePoint at() const { return origin() + now_; }

    // Issue 8: `history` lines preload a cache of the run's own (the machine
    // records into it, so two runs must not share one).
    static History preload(const sim::Scenario& w) {
        History h;
        for (const sim::HistoryLine& line : w.history) h.record_success(line.network, line.address, line.rtt, origin());
        return h;
    }
    Config with_history(const sim::Scenario& w) {
        Config c = w.config;
        if (!w.history.empty() || c.auto_attempt_delay) c.history = &history_;
        return c;
    }

    const Event* earliest() const {
        const Event* best = nullptr;
        for (const Event& e : queue_) {
            if (best == nullptr || e.at < best->at || (e.at == best->at && e.seq < best->seq)) best = &e;
        }
        return best;
    }

    Run finish() {
        run_.last = now_;
        run_.report = m_.report();
        run_.in_flight_at_end = m_.attempts_in_flight();
        if (at_end_) at_end_(m_, now_);
        return std::move(run_);
    }

    void deliver(const Event& e) {
        if (!e.from_file) {
            if (e.ok) {
                run_.fed.push_back(Fed{Fed::Kind::connected, now_, e.attempt.number(), 0, std::nullopt});
                m_.handle_connected(at(), e.attempt);
            } else {
                run_.fed.push_back(Fed{Fed::Kind::connect_failed, now_, e.attempt.number(), e.code, std::nullopt});
                m_.handle_connect_failed(at(), e.attempt, e.code);
            }
            return;
        }
        const sim::FileEvent& fe = w_.events[e.file_index];
        if (fe.kind == sim::FileEvent::Kind::cancel) {
            run_.fed.push_back(Fed{Fed::Kind::cancel, now_, 0, 0, std::nullopt});
            m_.cancel(at());
            return;
        }
        const sim::DnsAnswer& a = w_.dns[fe.dns_index];
        switch (a.kind) {
            case sim::DnsAnswer::Kind::addresses:
                run_.fed.push_back(Fed{Fed::Kind::resolved, now_, 0, 0, std::nullopt});
                m_.handle_resolved(at(), a.family, a.addresses);
                break;
            case sim::DnsAnswer::Kind::none:
                run_.fed.push_back(Fed{Fed::Kind::resolve_failed, now_, 0, 0, std::nullopt});
                m_.handle_resolve_failed(at(), a.family);
                break;
            case sim::DnsAnswer::Kind::error:
                run_.fed.push_back(Fed{Fed::Kind::resolve_failed, now_, 0, a.code, std::nullopt});
                m_.handle_resolve_failed(at(), a.family, a.code, a.code == 0 ? "resolution failed" : "");
                break;
            case sim::DnsAnswer::Kind::records:
                break;  // the generated worlds have no HTTPS answers
        }
    }

    void drain() {
        while (std::optional<Action> a = m_.poll_action()) {
            run_.trace.push_back(Step{now_, *a});
            if (const auto* open = std::get_if<OpenSocket>(&*a)) {
                auto it = w_.open_errors.find(open->remote);
                const int code = it != w_.open_errors.end() ? it->second : 0;
                run_.fed.push_back(Fed{Fed::Kind::opened, now_, open->attempt.number(), code, std::nullopt});
                m_.handle_opened(at(), open->attempt, code);
            } else if (const auto* bind = std::get_if<Bind>(&*a)) {
                auto it = w_.bind_errors.find(bind->local);
                const int code = it != w_.bind_errors.end() ? it->second : 0;
                run_.fed.push_back(Fed{Fed::Kind::bound, now_, bind->attempt.number(), code, bind->local});
                m_.handle_bound(at(), bind->attempt, code);
            } else if (const auto* connect = std::get_if<Connect>(&*a)) {
                auto it = w_.connects.find(connect->remote);
                if (it != w_.connects.end() && it->second.kind != sim::ConnectRule::Kind::hang) {
                    Event e;
                    e.at = now_ + it->second.after;
                    e.seq = seq_++;
                    e.from_file = false;
                    e.attempt = connect->attempt;
                    e.ok = it->second.kind == sim::ConnectRule::Kind::ok;
                    e.code = it->second.code;
                    queue_.push_back(e);
                }
            } else if (const auto* close = std::get_if<Close>(&*a)) {
                closed_.push_back(close->attempt.number());
            }
        }
    }

    // ---- noise: inputs that must change nothing -------------------------------

    std::uint32_t pick(std::uint32_t n) {  // 0 … n-1
        return n == 0 ? 0 : static_cast<std::uint32_t>(rng_() % n);
    }
    bool chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }

    void noise_burst(const Event* just_delivered) {
        if (!noise_.enabled || !chance(noise_.percent)) return;
        const int count = 1 + static_cast<int>(pick(4));
        for (int i = 0; i < count; ++i) noise_once(just_delivered);
        // Noise must produce no action: anything drained here is a finding, so
        // it goes into the trace (and the comparison with the quiet run fails).
        drain();
    }

    void noise_once(const Event* just_delivered) {
        const std::uint32_t started = m_.attempts_started();
        const Duration back = Duration(std::chrono::milliseconds(pick(30)));
        const TimePoint past = at() - back;
        switch (pick(9)) {
            case 0:  // the event just delivered, once more
                if (just_delivered != nullptr) deliver_again(*just_delivered);
                break;
            case 1:  // a result for an attempt that does not exist (yet)
                if (chance(50)) {
                    m_.handle_connected(at(), AttemptId(started + 1 + pick(3)));
                } else {
                    m_.handle_connect_failed(at(), AttemptId(chance(50) ? 0 : started + 1), ECONNREFUSED);
                }
                break;
            case 2:  // a result for an attempt that is already closed or failed
                if (!closed_.empty()) {
                    const AttemptId id(closed_[pick(static_cast<std::uint32_t>(closed_.size()))]);
                    if (chance(50)) {
                        m_.handle_connected(chance(50) ? at() : past, id);
                    } else {
                        m_.handle_connect_failed(chance(50) ? at() : past, id, ECONNRESET);
                    }
                }
                break;
            case 3:  // OpenSocket / Bind answered twice (every one was answered in drain)
                if (started > 0) {
                    const AttemptId id(1 + pick(started));
                    if (chance(50)) {
                        m_.handle_opened(at(), id, chance(50) ? 0 : EMFILE);
                    } else {
                        m_.handle_bound(at(), id, chance(50) ? 0 : EADDRINUSE);
                    }
                }
                break;
            case 4:  // handle_timeout early, twice, or with time going backwards
            case 5: {
                const auto deadline = m_.next_timeout();
                if (!deadline || *deadline > at()) m_.handle_timeout(chance(50) ? at() : past);
                break;
            }
            case 6:  // a DNS answer for a family that already answered / addresses mode
                if (!w_.dns_mode) {
                    const Endpoint ep = Endpoint::v4({192, 0, 2, 99}, 443);
                    m_.handle_resolved(at(), Family::v4, &ep, 1);
                } else {
                    for (const sim::DnsAnswer& a : w_.dns) {
                        if (answered(a.family)) {
                            m_.handle_resolve_failed(at(), a.family, EAI_LIKE);
                            break;
                        }
                    }
                }
                break;
            case 7:  // a success or failure for an attempt that already failed at open/bind
                for (const Fed& f : run_.fed) {
                    if ((f.kind == Fed::Kind::opened && f.code != 0) ||
                        (f.kind == Fed::Kind::connect_failed)) {
                        m_.handle_connected(at(), AttemptId(f.attempt));
                        break;
                    }
                }
                break;
            default:  // results for an attempt number that was never issued (0)
                m_.handle_connected(past, AttemptId(0));
                m_.handle_bound(at(), AttemptId(0), 0);
                m_.handle_opened(at(), AttemptId(0), 0);
                break;
        }
    }
    static constexpr int EAI_LIKE = EIO;

    bool answered(Family f) const {
        for (std::size_t i = 0; i < w_.events.size(); ++i) {
            const sim::FileEvent& fe = w_.events[i];
            if (fe.kind != sim::FileEvent::Kind::dns || w_.dns[fe.dns_index].family != f) continue;
            // answered when it is no longer queued
            const bool queued = std::any_of(queue_.begin(), queue_.end(), [&](const Event& e) {
                return e.from_file && e.file_index == i;
            });
            return !queued;
        }
        return false;
    }

    void deliver_again(const Event& e) {
        const std::size_t fed_before = run_.fed.size();
        if (!e.from_file) {
            if (e.ok) {
                m_.handle_connected(at(), e.attempt);
            } else {
                m_.handle_connect_failed(at(), e.attempt, e.code);
            }
        } else {
            const sim::FileEvent& fe = w_.events[e.file_index];
            if (fe.kind == sim::FileEvent::Kind::cancel) {
                m_.cancel(at());  // the race already ended at the first cancel
            } else {
                const sim::DnsAnswer& a = w_.dns[fe.dns_index];
                if (a.kind == sim::DnsAnswer::Kind::addresses) {
                    m_.handle_resolved(at(), a.family, a.addresses);
                } else {
                    m_.handle_resolve_failed(at(), a.family, a.code);
                }
            }
        }
        run_.fed.resize(fed_before);  // noise is not part of the world's inputs
    }

    const sim::Scenario& w_;
    History history_;
    RaceMachine m_;
    Noise noise_;
    const AtEnd& at_end_;
    std::mt19937_64 rng_;
    Run run_;
    Duration now_{0};
    std::vector<Event> queue_;
    std::uint64_t seq_ = 0;
    std::vector<std::uint32_t> closed_;
};

// ---- printing ----------------------------------------------------------------

std::string dur(Duration d) { return d == Duration::zero() ? "0" : format_ms(d) + "ms"; }

std::string errno_text(int code) {
    const char* n = errno_name(code);
    return n != nullptr ? n : "EIO";
}

int rank(const Action& a) {
    return std::visit(
        [](const auto& x) -> int {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Resolve>) return x.family == Family::v6 ? 0 : 1;
            if constexpr (std::is_same_v<T, OpenSocket>) return 2;
            if constexpr (std::is_same_v<T, Bind>) return 3;
            if constexpr (std::is_same_v<T, Connect>) return 4;
            if constexpr (std::is_same_v<T, Close>) return 5;
            return 6;
        },
        a);
}

std::string ms_text(Duration d) { return format_ms(d); }

std::string error_text(const Error& e) {
    std::ostringstream s;
    s << stage_name(e.stage) << " attempt=" << e.attempt;
    if (e.remote) s << " remote=" << e.remote->to_string();
    if (e.local) s << " local=" << e.local->to_string();
    if (e.family) s << " family=" << record_name(*e.family);
    s << " errno=" << (e.code == 0 ? "null" : errno_text(e.code));
    return s.str();
}

const char* state_text(model::AttemptEnd::State s) {
    switch (s) {
        case model::AttemptEnd::State::in_flight: return "in-flight";
        case model::AttemptEnd::State::connected: return "connected";
        case model::AttemptEnd::State::failed: return "failed";
        case model::AttemptEnd::State::closed: return "closed";
    }
    return "?";
}

std::string attempt_text(const model::AttemptEnd& a) {
    std::ostringstream s;
    s << "#" << a.number << " " << a.remote.to_string();
    if (a.local) s << " from " << a.local->to_string();
    s << " started " << ms_text(a.started) << " " << state_text(a.state);
    if (a.ended) s << " at " << ms_text(*a.ended);
    return s.str();
}

}  // namespace

TimePoint origin() { return TimePoint(std::chrono::hours(1)); }

Run run_machine(const sim::Scenario& world, const Noise& noise, const AtEnd& at_end) {
    return Driver(world, noise, at_end).run();
}

std::uint32_t attempt_of(const Action& a) {
    return std::visit(
        [](const auto& x) -> std::uint32_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, Resolve>) {
                return 0;
            } else if constexpr (std::is_same_v<T, Report>) {
                return x.winner.number();
            } else {
                return x.attempt.number();
            }
        },
        a);
}

std::vector<Step> canonical(const std::vector<Step>& trace) {
    std::vector<Step> out = trace;
    std::stable_sort(out.begin(), out.end(), [](const Step& a, const Step& b) {
        if (a.t != b.t) return a.t < b.t;
        const bool ra = std::holds_alternative<Report>(a.action);
        const bool rb = std::holds_alternative<Report>(b.action);
        if (ra != rb) return rb;  // the report is the last line
        const std::uint32_t na = attempt_of(a.action);
        const std::uint32_t nb = attempt_of(b.action);
        if (na != nb) return na < nb;
        return rank(a.action) < rank(b.action);
    });
    return out;
}

std::string to_text(const std::vector<Step>& trace) {
    std::string out;
    for (const Step& s : trace) out += "  " + ms_text(s.t) + "  " + to_string(s.action) + "\n";
    return out;
}

std::string to_text(const sim::Scenario& w) {
    std::ostringstream s;
    const Config& c = w.config;
    s << "config attempt-delay="
      << (c.auto_attempt_delay ? "auto" : c.attempt_delay ? dur(*c.attempt_delay) : "none")
      << " resolution-delay=" << dur(c.resolution_delay) << " family-count=" << c.family_count;
    if (c.interleave) s << " interleave=" << (*c.interleave ? "on" : "off");
    s << " attempt-timeout=" << (c.attempt_timeout ? dur(*c.attempt_timeout) : "none")
      << " overall-timeout=" << (c.overall_timeout ? dur(*c.overall_timeout) : "none")
      << " min-start-gap=" << dur(c.min_start_gap);
    if (c.sort != SortMode::automatic) s << " sort=" << (c.sort == SortMode::off ? "off" : "rfc6724");
    if (c.duplicates == Duplicates::keep) s << " duplicates=keep";
    const Config defaults;
    if (c.min_attempt_delay != defaults.min_attempt_delay) s << " min-attempt-delay=" << dur(c.min_attempt_delay);
    if (c.max_attempt_delay != defaults.max_attempt_delay) s << " max-attempt-delay=" << dur(c.max_attempt_delay);
    if (c.delay_multiplier != defaults.delay_multiplier) {
        std::ostringstream m;
        m << c.delay_multiplier;  // the generators use 1.5, 2, 3: exact in 6 digits
        s << " delay-multiplier=" << m.str();
    }
    if (!c.network.empty()) s << " network=" << c.network;
    if (c.ipv4_unavailable) s << " ipv4=none";
    s << "\n";
    if (c.pref64) s << "pref64 " << c.pref64->to_string() << "\n";
    for (const sim::HistoryLine& h : w.history) {
        s << "history " << h.address.to_string() << " rtt=" << dur(h.rtt);
        if (!h.network.empty()) s << " network=" << h.network;
        s << "\n";
    }
    if (w.port != 443) s << "port " << w.port << "\n";
    if (!w.dns_mode) {
        s << "addresses";
        for (const Endpoint& e : w.addresses) s << ' ' << e.to_string();
        s << "\n";
    }
    if (!c.local.empty()) {
        s << "local";
        for (const Endpoint& e : c.local) s << ' ' << e.to_string();
        s << "\n";
    }
    for (const auto& [remote, code] : w.open_errors) s << "open " << remote.to_string() << " error " << errno_text(code) << "\n";
    for (const auto& [local, code] : w.bind_errors) s << "bind " << local.to_string() << " error " << errno_text(code) << "\n";
    for (const auto& [remote, rule] : w.connects) {
        s << "connect " << remote.to_string();
        switch (rule.kind) {
            case sim::ConnectRule::Kind::ok: s << " ok after " << dur(rule.after); break;
            case sim::ConnectRule::Kind::error:
                s << " error " << errno_text(rule.code) << " after " << dur(rule.after);
                break;
            case sim::ConnectRule::Kind::hang: s << " hang"; break;
            case sim::ConnectRule::Kind::ech_retry: s << " hang"; break;  // tls lines only
        }
        s << "\n";
    }
    for (const sim::FileEvent& e : w.events) {
        if (e.kind == sim::FileEvent::Kind::cancel) {
            s << "cancel at " << dur(e.at) << "\n";
            continue;
        }
        const sim::DnsAnswer& a = w.dns[e.dns_index];
        s << "dns " << record_name(a.family) << " at " << dur(a.at) << ":";
        switch (a.kind) {
            case sim::DnsAnswer::Kind::addresses:
                for (const Endpoint& ep : a.addresses) s << ' ' << ep.to_string();
                break;
            case sim::DnsAnswer::Kind::none: s << " none"; break;
            case sim::DnsAnswer::Kind::error:
                s << " error";
                if (a.code != 0) s << ' ' << errno_text(a.code);
                break;
            case sim::DnsAnswer::Kind::records: break;  // not generated
        }
        s << "\n";
    }
    return s.str();
}

bool same_world(const sim::Scenario& a, const sim::Scenario& b, std::string* why) {
    auto differ = [&](const char* what) {
        if (why != nullptr) *why = what;
        return false;
    };
    const Config& x = a.config;
    const Config& y = b.config;
    if (x.attempt_delay != y.attempt_delay) return differ("attempt-delay");
    if (x.resolution_delay != y.resolution_delay) return differ("resolution-delay");
    if (x.family_count != y.family_count) return differ("family-count");
    if (x.interleave != y.interleave) return differ("interleave");
    if (x.attempt_timeout != y.attempt_timeout) return differ("attempt-timeout");
    if (x.overall_timeout != y.overall_timeout) return differ("overall-timeout");
    if (x.min_start_gap != y.min_start_gap) return differ("min-start-gap");
    if (x.sort != y.sort) return differ("sort");
    if (x.duplicates != y.duplicates) return differ("duplicates");
    if (x.auto_attempt_delay != y.auto_attempt_delay) return differ("attempt-delay=auto");
    if (x.min_attempt_delay != y.min_attempt_delay) return differ("min-attempt-delay");
    if (x.max_attempt_delay != y.max_attempt_delay) return differ("max-attempt-delay");
    if (x.delay_multiplier != y.delay_multiplier) return differ("delay-multiplier");
    if (x.network != y.network) return differ("network");
    if (x.ipv4_unavailable != y.ipv4_unavailable) return differ("ipv4");
    if (x.pref64 != y.pref64) return differ("pref64");
    if (a.history.size() != b.history.size()) return differ("history lines");
    for (std::size_t i = 0; i < a.history.size(); ++i) {
        if (a.history[i].address != b.history[i].address || a.history[i].rtt != b.history[i].rtt ||
            a.history[i].network != b.history[i].network) {
            return differ("history line");
        }
    }
    if (x.local != y.local) return differ("local");
    if (a.port != b.port) return differ("port");
    if (a.dns_mode != b.dns_mode) return differ("dns mode");
    if (a.addresses != b.addresses) return differ("addresses");
    if (a.open_errors != b.open_errors) return differ("open errors");
    if (a.bind_errors != b.bind_errors) return differ("bind errors");
    if (a.connects.size() != b.connects.size()) return differ("connect lines");
    for (const auto& [remote, rule] : a.connects) {
        auto it = b.connects.find(remote);
        if (it == b.connects.end() || it->second.kind != rule.kind || it->second.code != rule.code ||
            it->second.after != rule.after) {
            return differ("connect rule");
        }
    }
    if (a.events.size() != b.events.size()) return differ("events");
    for (std::size_t i = 0; i < a.events.size(); ++i) {
        const sim::FileEvent& e = a.events[i];
        const sim::FileEvent& f = b.events[i];
        if (e.kind != f.kind || e.at != f.at) return differ("event");
        if (e.kind != sim::FileEvent::Kind::dns) continue;
        const sim::DnsAnswer& p = a.dns[e.dns_index];
        const sim::DnsAnswer& q = b.dns[f.dns_index];
        if (p.family != q.family || p.at != q.at || p.kind != q.kind || p.code != q.code ||
            p.addresses != q.addresses) {
            return differ("dns answer");
        }
    }
    return true;
}

std::string compare(const model::Expected& ex, const Run& run) {
    std::ostringstream why;
    const std::vector<Step> want = canonical(ex.trace);
    const std::vector<Step> got = canonical(run.trace);
    if (run.end == Run::End::start_failed) why << "the machine refused to start: " << run.start_error << "\n";
    if (run.end == Run::End::runaway) why << "the machine kept asking for a timer that did nothing\n";
    if (ex.finished != (run.end == Run::End::finished)) {
        why << "model " << (ex.finished ? "finished" : "never finishes") << ", machine "
            << (run.end == Run::End::finished ? "finished" : "never finishes") << "\n";
    }
    if (want != got) {
        std::size_t i = 0;
        while (i < want.size() && i < got.size() && want[i] == got[i]) ++i;
        why << "traces differ at line " << i + 1 << "\n";
    }
    if (ex.finished && run.end == Run::End::finished) {
        const RaceReport& r = run.report;
        if (r.outcome != ex.outcome) why << "outcome: model " << outcome_name(ex.outcome) << ", machine " << outcome_name(r.outcome) << "\n";
        if (r.winner.number() != ex.winner) why << "winner: model #" << ex.winner << ", machine #" << r.winner.number() << "\n";
        if (r.overall_timeout != ex.overall_timeout) why << "overall-timeout flag differs\n";
        if (ex.outcome == Outcome::failed && r.code != ex.code) {
            why << "summary errno: model " << (ex.code ? errno_text(ex.code) : "null") << ", machine "
                << (r.code ? errno_text(r.code) : "null") << "\n";
        }
        if (r.finished - origin() != ex.end) why << "report time: model " << ms_text(ex.end) << ", machine " << ms_text(r.finished - origin()) << "\n";
    }
    // Errors (docs/behaviour.md §3), without the free-text detail.
    std::vector<Error> got_errors = run.report.errors;
    for (Error& e : got_errors) e.detail.clear();
    if (got_errors != ex.errors) {
        why << "errors differ:\n  model:\n";
        for (const Error& e : ex.errors) why << "    " << error_text(e) << "\n";
        why << "  machine:\n";
        for (const Error& e : got_errors) why << "    " << error_text(e) << "\n";
    }
    std::vector<model::AttemptEnd> got_attempts;
    for (const AttemptRecord& a : run.report.attempts) {
        model::AttemptEnd e;
        e.number = a.id.number();
        e.remote = a.remote;
        e.local = a.local;
        e.started = a.started - origin();
        if (a.ended) e.ended = *a.ended - origin();
        switch (a.state) {
            case AttemptRecord::State::in_flight: e.state = model::AttemptEnd::State::in_flight; break;
            case AttemptRecord::State::connected: e.state = model::AttemptEnd::State::connected; break;
            case AttemptRecord::State::failed: e.state = model::AttemptEnd::State::failed; break;
            case AttemptRecord::State::closed: e.state = model::AttemptEnd::State::closed; break;
        }
        got_attempts.push_back(e);
    }
    if (got_attempts != ex.attempts) {
        why << "attempt records differ:\n  model:\n";
        for (const auto& a : ex.attempts) why << "    " << attempt_text(a) << "\n";
        why << "  machine:\n";
        for (const auto& a : got_attempts) why << "    " << attempt_text(a) << "\n";
    }
    const std::string problems = why.str();
    if (problems.empty()) return problems;
    return problems + "model trace:\n" + to_text(want) + "machine trace:\n" + to_text(got);
}

}  // namespace eyeballs::prop

namespace eyeballs::sim {
void showValue(const Scenario& world, std::ostream& os) { os << "\n" << prop::to_text(world); }
}  // namespace eyeballs::sim
