// SPDX-License-Identifier: BSL-1.0
// Fault suite (issue 14): every time and duration input of the C and C++ APIs
// fed its extreme values — INT64_MIN, INT64_MAX, just inside them, negative,
// zero — in races that run to their end. Built with the asan preset (ASan +
// UBSan, -fno-sanitize-recover=all), a signed overflow anywhere aborts the
// test; in any build, the assertions check that no deadline wrapped round (no
// timeout fires before start + timeout, saturated at the end of time).
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "eyeballs/eyeballs.h"
#include "eyeballs/history.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/trace.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;

namespace {

constexpr std::int64_t i64max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t i64min = std::numeric_limits<std::int64_t>::min();

// The values every input is fed.
const std::vector<std::int64_t> extremes = {
    i64min, i64min + 1, -1000000000000000000, -1, 0, 1, 10000000, 1000000000000000000,
    i64max - 1000000000, i64max - 1, i64max,
};

TimePoint tp(std::int64_t ns) { return TimePoint(Duration(ns)); }

Endpoint ep(const char* text) {
    auto e = Endpoint::parse(text, 443);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(Endpoint{});
}

const std::vector<Endpoint> remotes = {ep("[2001:db8::a]:443"), ep("192.0.2.1:443"),
                                       ep("[2001:db8::b]:443"), ep("192.0.2.2:443")};

// Runs a race to its end with the C++ API: every OpenSocket and Bind answered
// at once, DNS answered, odd attempts refused, even ones left in flight, and
// time moved to each next deadline, or to `jump` (an extreme) every few steps.
// Returns the machine's report; checks no timeout came early.
RaceReport run_cpp(const Config& config, TimePoint start, bool dns, TimePoint jump) {
    RaceMachine m(config);
    TimePoint latest = start;
    auto feed_time = [&](TimePoint t) {
        if (t > latest) latest = t;
        return t;
    };
    EXPECT_TRUE(dns ? m.start_resolving(start) : m.start(start, remotes));
    std::vector<AttemptId> in_flight;
    for (int step = 0; step < 64 && !m.finished(); ++step) {
        while (auto a = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*a)) {
                m.handle_opened(latest, o->attempt, 0);
            } else if (auto* b = std::get_if<Bind>(&*a)) {
                m.handle_bound(latest, b->attempt, 0);
            } else if (auto* r = std::get_if<Resolve>(&*a)) {
                if (r->https) {
                    m.handle_resolve_failed(latest, *r, 0, {});
                } else {
                    m.handle_resolved(latest, *r, remotes);
                }
            } else if (auto* c = std::get_if<Connect>(&*a)) {
                if (c->attempt.number() % 2 == 1) {
                    m.handle_connect_failed(latest, c->attempt, ECONNREFUSED);
                } else {
                    in_flight.push_back(c->attempt);
                }
            }
        }
        if (m.finished()) break;
        const std::optional<TimePoint> next = m.next_timeout();
        if (next) {
            EXPECT_GE(*next, latest) << "a deadline before the latest time seen";
        }
        if (step % 5 == 4) {
            m.handle_timeout(feed_time(jump));  // a jump, maybe backwards
        } else if (next) {
            m.handle_timeout(feed_time(*next));
        } else if (!in_flight.empty()) {
            m.handle_connected(feed_time(latest + 0ns), in_flight.back());
        } else {
            m.cancel(latest);
        }
    }
    if (!m.finished()) m.cancel(tp(i64max));
    while (m.poll_action()) {
    }
    EXPECT_TRUE(m.finished());
    RaceReport report = m.report();
    // No wrapped deadline: an overall timeout only at or after start + timeout.
    if (report.overall_timeout) {
        EXPECT_TRUE(config.overall_timeout.has_value());
        EXPECT_GE(report.finished, detail::saturating_add(start, *config.overall_timeout));
    }
    for (const AttemptRecord& a : report.attempts) {
        EXPECT_GE(a.started, start);
        if (a.ended) {
            EXPECT_GE(*a.ended, a.started);
        }
    }
    for (const Error& e : report.errors) {
        if (e.stage != Stage::timeout) continue;
        EXPECT_TRUE(config.attempt_timeout.has_value());
        if (!config.attempt_timeout) continue;
        for (const AttemptRecord& a : report.attempts) {
            if (a.id.number() != e.attempt) continue;
            EXPECT_TRUE(a.ended.has_value());
            if (!a.ended) continue;
            EXPECT_GE(*a.ended, detail::saturating_add(a.started, *config.attempt_timeout));
        }
    }
    return report;
}

std::string ns_text(std::int64_t v) { return std::to_string(v) + " ns"; }

}  // namespace

// ---- C++: Config durations -------------------------------------------------------

TEST(ExtremeConfig, EveryDurationIsValidatedOrRaced) {
    struct Field {
        const char* name;  // as validate() names it
        void (*set)(Config&, Duration);
    };
    const Field fields[] = {
        {"attempt-delay", [](Config& c, Duration d) { c.attempt_delay = d; }},
        {"resolution-delay", [](Config& c, Duration d) { c.resolution_delay = d; }},
        {"attempt-timeout", [](Config& c, Duration d) { c.attempt_timeout = d; }},
        {"overall-timeout", [](Config& c, Duration d) { c.overall_timeout = d; }},
        {"min-start-gap", [](Config& c, Duration d) { c.min_start_gap = d; }},
        {"min-attempt-delay", [](Config& c, Duration d) { c.min_attempt_delay = d; }},
        {"max-attempt-delay", [](Config& c, Duration d) { c.max_attempt_delay = d; }},
    };
    int raced = 0;
    for (const Field& f : fields) {
        for (std::int64_t v : extremes) {
            Config c;
            c.attempt_timeout = 1h;  // so that every race has both timeouts
            c.overall_timeout = 2h;
            f.set(c, Duration(v));
            const auto problem = validate(c);
            if (problem) {
                EXPECT_NE(problem->find(f.name), std::string::npos)
                    << f.name << "=" << ns_text(v) << ": " << *problem;
                RaceMachine m(c);
                EXPECT_FALSE(m.start(tp(0), remotes)) << f.name << "=" << ns_text(v);
                continue;
            }
            for (std::int64_t s : {i64min, std::int64_t{-1}, std::int64_t{0},
                                   i64max - 1000000000, i64max}) {
                for (bool dns : {false, true}) {
                    SCOPED_TRACE(std::string(f.name) + "=" + ns_text(v) + " start " +
                                 ns_text(s) + (dns ? " dns" : ""));
                    run_cpp(c, tp(s), dns, tp(i64max));
                    run_cpp(c, tp(s), dns, tp(i64min));
                    ++raced;
                }
            }
        }
    }
    EXPECT_GT(raced, 50);  // the valid values did race
}

TEST(ExtremeConfig, MaxTimeoutsWithEveryStart) {
    for (std::int64_t s : extremes) {
        for (std::int64_t timeout : {std::int64_t{1}, i64max - 1, i64max}) {
            Config c;
            c.attempt_timeout = Duration(timeout);
            c.overall_timeout = Duration(timeout);
            for (bool dns : {false, true}) {
                SCOPED_TRACE("start " + ns_text(s) + " timeouts " + ns_text(timeout));
                run_cpp(c, tp(s), dns, tp(i64max));
                run_cpp(c, tp(s), dns, tp(s));
            }
            // INT64_MAX never ends a race that started at 0 or later, before
            // the end of time (the saturated deadline): 1 ns later cannot time out.
            if (timeout == i64max && s >= 0 && s < i64max - 1) {
                RaceMachine m(c);
                ASSERT_TRUE(m.start(tp(s), remotes));
                m.handle_timeout(tp(s) + 1ns);
                EXPECT_FALSE(m.finished()) << "start " << s;
            }
        }
    }
}

TEST(ExtremeConfig, DelayMultiplierAndHandshakeAndHttps) {
    for (double mult : {1.0, 16.0, std::numeric_limits<double>::infinity(),
                        std::numeric_limits<double>::quiet_NaN(), -1.0, 1e308}) {
        Config c;
        c.delay_multiplier = mult;
        const auto problem = validate(c);
        if (problem) {
            EXPECT_NE(problem->find("delay-multiplier"), std::string::npos) << *problem;
            continue;
        }
        for (std::int64_t s : extremes) run_cpp(c, tp(s), false, tp(i64max));
    }
    Config c;
    c.success = Success::handshake;
    c.https = true;
    c.attempt_timeout = Duration::max();
    c.overall_timeout = Duration::max();
    for (std::int64_t s : extremes) {
        run_cpp(c, tp(s), true, tp(i64max));
        run_cpp(c, tp(s), true, tp(i64min));
    }
}

// ---- C++: history, auto delay, texts ---------------------------------------------

TEST(ExtremeHistory, RttsAndTimesOfEveryValue) {
    History h(64);
    const Endpoint a = remotes[0];
    for (std::int64_t rtt : extremes) {
        for (std::int64_t when : extremes) {
            h.record_success("", a, Duration(rtt), tp(when));
            ASSERT_TRUE(h.rtt("", a).has_value());
            EXPECT_GE(*h.rtt("", a), Duration::zero());
            h.record_failure("n", a, tp(when));
        }
    }
    // Auto attempt delay from a huge RTT: 3 × RTT saturates, then clamps.
    h.clear();
    h.record_success("", remotes[0], Duration::max(), tp(0));
    h.record_success("", remotes[1], Duration::max() / 2, tp(0));
    Config c;
    c.auto_attempt_delay = true;
    c.history = &h;
    for (std::int64_t s : extremes) {
        RaceReport r = run_cpp(c, tp(s), false, tp(i64max));
        (void)r;
    }
}

TEST(ExtremeText, MillisecondTextOfEveryValue) {
    EXPECT_EQ(format_ms(Duration::min()), "-9223372036854.775808");
    EXPECT_EQ(format_ms(Duration::max()), "9223372036854.775807");
    for (std::int64_t v : extremes) {
        EXPECT_FALSE(format_ms(Duration(v)).empty());
        EXPECT_FALSE(format_trace_ms(Duration(v)).empty());
    }
    // The trace writer's time since its origin saturates.
    for (std::int64_t origin : extremes) {
        for (std::int64_t now : extremes) {
            std::ostringstream out;
            TraceWriter w(out, TraceWriter::Format::json, tp(origin));
            RaceMachine m;
            w.write(tp(now), Action{Close{AttemptId(1)}}, m);
            const Duration expect = detail::saturating_sub(tp(now), tp(origin));
            EXPECT_EQ(out.str(), "{\"t\":" + format_trace_ms(expect) +
                                     ",\"action\":\"close\",\"attempt\":1}\n");
            std::ostringstream line;
            TraceWriter tl(line, TraceWriter::Format::timeline, tp(origin));
            tl.write(tp(now), Action{Close{AttemptId(1)}}, m);
            EXPECT_FALSE(line.str().empty());
        }
    }
}

// ---- C API -------------------------------------------------------------------------

namespace {

eyeballs_endpoint c_ep(const char* text) {
    eyeballs_endpoint e{};
    EXPECT_EQ(eyeballs_endpoint_parse(text, 443, &e, nullptr, 0), EYEBALLS_OK) << text;
    return e;
}

// The same race as run_cpp, through the C API. Returns whether it finished.
bool run_c(const eyeballs_config& config, std::int64_t start, bool dns, std::int64_t jump) {
    eyeballs_machine* m = nullptr;
    char message[256] = "";
    if (eyeballs_machine_new(&config, &m, message, sizeof message) != EYEBALLS_OK) {
        ADD_FAILURE() << "eyeballs_machine_new: " << message;
        return false;
    }
    const eyeballs_endpoint list[] = {c_ep("[2001:db8::a]:443"), c_ep("192.0.2.1:443"),
                                      c_ep("[2001:db8::b]:443")};
    std::int64_t latest = start;
    EXPECT_EQ(dns ? eyeballs_machine_start_resolving(m, start)
                  : eyeballs_machine_start(m, start, list, 3),
              EYEBALLS_OK);
    std::vector<std::uint32_t> in_flight;
    for (int step = 0; step < 64 && !eyeballs_machine_finished(m); ++step) {
        eyeballs_action a;
        while (eyeballs_machine_poll_action(m, &a)) {
            switch (a.kind) {
                case EYEBALLS_ACTION_OPEN_SOCKET:
                    eyeballs_machine_handle_opened(m, latest, a.attempt, 0);
                    break;
                case EYEBALLS_ACTION_BIND:
                    eyeballs_machine_handle_bound(m, latest, a.attempt, 0);
                    break;
                case EYEBALLS_ACTION_RESOLVE:
                    if (a.family == EYEBALLS_FAMILY_V6) {
                        eyeballs_machine_handle_resolved(m, latest, a.family, list, 3);
                    } else {
                        eyeballs_machine_handle_resolve_failed(m, latest, a.family, 0,
                                                               "no");
                    }
                    break;
                case EYEBALLS_ACTION_CONNECT:
                    if (a.attempt % 2 == 1) {
                        eyeballs_machine_handle_connect_failed(m, latest, a.attempt, ECONNREFUSED);
                    } else {
                        in_flight.push_back(a.attempt);
                    }
                    break;
                default:
                    break;
            }
        }
        if (eyeballs_machine_finished(m)) break;
        std::int64_t next = 0;
        const bool has_next = eyeballs_machine_next_timeout(m, &next) != 0;
        if (has_next) {
            EXPECT_GE(next, latest);
        }
        if (step % 5 == 4) {
            eyeballs_machine_handle_timeout(m, jump);
            latest = std::max(latest, jump);
        } else if (has_next) {
            eyeballs_machine_handle_timeout(m, next);
            latest = std::max(latest, next);
        } else if (!in_flight.empty()) {
            eyeballs_machine_handle_connected(m, latest, in_flight.back());
        } else {
            eyeballs_machine_cancel(m, latest);
        }
    }
    if (!eyeballs_machine_finished(m)) eyeballs_machine_cancel(m, i64max);
    eyeballs_action a;
    while (eyeballs_machine_poll_action(m, &a)) {
    }
    const bool finished = eyeballs_machine_finished(m) != 0;
    eyeballs_report r;
    EXPECT_EQ(eyeballs_machine_report(m, &r), EYEBALLS_OK);
    EXPECT_EQ(r.started_ns, start);
    if (r.overall_timeout) {
        const TimePoint due = detail::saturating_add(tp(start), Duration(config.overall_timeout_ns));
        EXPECT_GE(r.finished_ns, due.time_since_epoch().count());
    }
    for (std::size_t i = 0; i < r.attempt_count; ++i) {
        eyeballs_attempt at;
        EXPECT_EQ(eyeballs_machine_report_attempt(m, i, &at), EYEBALLS_OK);
        if (at.has_ended) {
            EXPECT_GE(at.ended_ns, at.started_ns);
        }
    }
    eyeballs_machine_free(m);
    return finished;
}

}  // namespace

TEST(ExtremeCApi, EveryDurationFieldAndEveryNow) {
    struct Field {
        const char* name;
        std::int64_t eyeballs_config::*field;
    };
    const Field fields[] = {
        {"attempt-delay", &eyeballs_config::attempt_delay_ns},
        {"resolution-delay", &eyeballs_config::resolution_delay_ns},
        {"min-start-gap", &eyeballs_config::min_start_gap_ns},
        {"attempt-timeout", &eyeballs_config::attempt_timeout_ns},
        {"overall-timeout", &eyeballs_config::overall_timeout_ns},
        {"min-attempt-delay", &eyeballs_config::min_attempt_delay_ns},
        {"max-attempt-delay", &eyeballs_config::max_attempt_delay_ns},
    };
    int raced = 0;
    for (const Field& f : fields) {
        for (std::int64_t v : extremes) {
            eyeballs_config c;
            eyeballs_config_init(&c);
            c.attempt_timeout_ns = INT64_C(3600000000000);
            c.overall_timeout_ns = INT64_C(7200000000000);
            c.*f.field = v;
            eyeballs_machine* m = nullptr;
            char message[256] = "";
            const eyeballs_status s = eyeballs_machine_new(&c, &m, message, sizeof message);
            if (s != EYEBALLS_OK) {
                EXPECT_EQ(s, EYEBALLS_ERR_CONFIG) << f.name << "=" << v;
                EXPECT_NE(std::string(message).find(f.name), std::string::npos) << message;
                EXPECT_EQ(m, nullptr);
                continue;
            }
            eyeballs_machine_free(m);
            for (std::int64_t start : extremes) {
                for (bool dns : {false, true}) {
                    SCOPED_TRACE(std::string(f.name) + "=" + ns_text(v) + " start " +
                                 ns_text(start));
                    EXPECT_TRUE(run_c(c, start, dns, i64max));
                    EXPECT_TRUE(run_c(c, start, dns, i64min));
                    ++raced;
                }
            }
        }
    }
    EXPECT_GT(raced, 100);
}

TEST(ExtremeCApi, HistoryAndInputsOnAFinishedOrIdleMachine) {
    eyeballs_history* h = nullptr;
    ASSERT_EQ(eyeballs_history_new(16, &h), EYEBALLS_OK);
    const eyeballs_endpoint a = c_ep("192.0.2.1:443");
    for (std::int64_t rtt : extremes) {
        for (std::int64_t when : extremes) {
            EXPECT_EQ(eyeballs_history_record_success(h, nullptr, &a, rtt, when), EYEBALLS_OK);
            EXPECT_EQ(eyeballs_history_record_failure(h, "n", &a, when), EYEBALLS_OK);
            EXPECT_EQ(eyeballs_history_record_success(h, "n", &a, rtt, when), EYEBALLS_OK);
            std::int64_t got = -1;
            ASSERT_EQ(eyeballs_history_rtt(h, "n", &a, &got), 1);
            EXPECT_GE(got, 0);
        }
    }
    eyeballs_config c;
    eyeballs_config_init(&c);
    c.history = h;
    c.auto_attempt_delay = 1;
    c.attempt_timeout_ns = i64max;
    c.overall_timeout_ns = i64max;
    for (std::int64_t start : extremes) EXPECT_TRUE(run_c(c, start, false, i64max));
    eyeballs_history_free(h);

    // Every input of an idle, then a finished machine, at every time. An idle
    // machine issued no attempt and asked no question: each input is a misuse
    // (EYEBALLS_ERR_STATE, nothing changes); a finished one takes them as late.
    eyeballs_machine* m = nullptr;
    ASSERT_EQ(eyeballs_machine_new(nullptr, &m, nullptr, 0), EYEBALLS_OK);
    for (std::int64_t t : extremes) {
        EXPECT_EQ(eyeballs_machine_handle_timeout(m, t), EYEBALLS_ERR_STATE);
        EXPECT_EQ(eyeballs_machine_handle_connected(m, t, 1), EYEBALLS_ERR_STATE);
        EXPECT_EQ(eyeballs_machine_handle_connect_failed(m, t, 1, ECONNREFUSED),
                  EYEBALLS_ERR_STATE);
        EXPECT_EQ(eyeballs_machine_handle_opened(m, t, 1, 0), EYEBALLS_ERR_STATE);
        EXPECT_EQ(eyeballs_machine_handle_bound(m, t, 1, 0), EYEBALLS_ERR_STATE);
        EXPECT_EQ(eyeballs_machine_handle_resolve_failed(m, t, EYEBALLS_FAMILY_V4, 0, nullptr),
                  EYEBALLS_ERR_STATE);
        std::int64_t next = 0;
        EXPECT_EQ(eyeballs_machine_next_timeout(m, &next), 0);
    }
    EXPECT_EQ(eyeballs_machine_cancel(m, i64min), EYEBALLS_OK);
    for (std::int64_t t : extremes) {
        EXPECT_EQ(eyeballs_machine_handle_timeout(m, t), EYEBALLS_OK);
        EXPECT_EQ(eyeballs_machine_cancel(m, t), EYEBALLS_OK);
        EXPECT_EQ(eyeballs_machine_handle_connected(m, t, 1), EYEBALLS_ERR_STATE);
    }
    eyeballs_machine_free(m);
    EXPECT_GT(eyeballs_monotonic_ns(), 0);
}
