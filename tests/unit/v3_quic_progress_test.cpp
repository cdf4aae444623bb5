// SPDX-License-Identifier: BSL-1.0
// Issue 17 item 8: QUIC attempts' progress — the soft QUIC timer (curl) and
// "QUIC is broken on this network" (Chromium's backoff) — unit by unit:
// detail::QuicProgress alone, History's marks alone, then the RaceMachine
// recording and reading them.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "eyeballs/history.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/svcb.hpp"
#include "v3/quic_progress.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;
using detail::QuicProgress;

namespace {

Endpoint ep(const char* text, std::uint16_t port = 443) { return *Endpoint::parse(text, port); }
SvcbRecord rec(const char* text) { return *parse_svcb_presentation(text); }
const TimePoint t0{std::chrono::seconds(100)};

// ---- detail::QuicProgress ----------------------------------------------------

TEST(QuicProgress, SilentQuicHalvesTheDelayOnlyWhenSoft) {
    QuicProgress q;
    q.on_start(1, true);
    EXPECT_EQ(q.delay(250ms, true), 125ms);
    EXPECT_EQ(q.delay(250ms, false), 250ms);
    EXPECT_TRUE(q.on_progress(1));
    EXPECT_TRUE(q.heard(1));
    EXPECT_EQ(q.delay(250ms, true), 250ms);
}

TEST(QuicProgress, TcpNewestKeepsTheWholeDelayAndIgnoresProgress) {
    QuicProgress q;
    q.on_start(1, true);
    q.on_start(2, false);
    EXPECT_EQ(q.delay(250ms, true), 250ms);
    EXPECT_FALSE(q.on_progress(2));  // not a QUIC attempt
    EXPECT_FALSE(q.on_progress(7));  // never started
    EXPECT_TRUE(q.on_progress(1));
}

TEST(QuicProgress, VerdictBrokenOnlyWhenSilentQuicFailedAndTcpWon) {
    QuicProgress silent;
    silent.on_start(1, true);
    silent.on_failed(1);
    EXPECT_EQ(silent.verdict(true, false), QuicProgress::Verdict::broken);
    EXPECT_EQ(silent.verdict(false, false), QuicProgress::Verdict::none);  // all failed

    QuicProgress heard;
    heard.on_start(1, true);
    heard.on_progress(1);
    heard.on_failed(1);  // it got a reply: the path carries QUIC
    EXPECT_EQ(heard.verdict(true, false), QuicProgress::Verdict::none);

    QuicProgress won;
    won.on_start(1, true);
    EXPECT_EQ(won.verdict(true, true), QuicProgress::Verdict::working);

    QuicProgress tcp_failed;
    tcp_failed.on_start(1, false);
    tcp_failed.on_failed(1);
    EXPECT_EQ(tcp_failed.verdict(true, false), QuicProgress::Verdict::none);
}

// ---- History: QUIC marks ---------------------------------------------------------

TEST(HistoryQuic, BackoffDoublesFromFiveMinutesAndStopsDoubling) {
    History h;
    EXPECT_FALSE(h.quic_broken("", t0));
    EXPECT_FALSE(h.quic_broken_until(""));
    h.record_quic_broken("", t0);
    EXPECT_EQ(h.quic_broken_until(""), t0 + 5min);
    EXPECT_TRUE(h.quic_broken("", t0 + 5min - 1ns));
    EXPECT_FALSE(h.quic_broken("", t0 + 5min));
    h.record_quic_broken("", t0);
    EXPECT_EQ(h.quic_broken_until(""), t0 + 10min);
    for (int i = 0; i < 20; ++i) h.record_quic_broken("", t0);
    EXPECT_EQ(h.quic_broken_count(""), 22u);
    // Shift capped at 9: 5 min × 512 = 2560 min (about 42.7 hours).
    EXPECT_EQ(h.quic_broken_until(""), t0 + 2560min);
}

TEST(HistoryQuic, PerNetworkAndForgottenByWorkingOrClear) {
    History h;
    h.record_quic_broken("cafe", t0);
    EXPECT_TRUE(h.quic_broken("cafe", t0));
    EXPECT_FALSE(h.quic_broken("", t0));
    h.record_quic_working("cafe");
    EXPECT_FALSE(h.quic_broken("cafe", t0));
    EXPECT_EQ(h.quic_broken_count("cafe"), 0u);
    h.record_quic_broken("cafe", t0);
    h.record_quic_broken("home", t0);
    h.clear_network("cafe");
    EXPECT_FALSE(h.quic_broken("cafe", t0));
    EXPECT_TRUE(h.quic_broken("home", t0));
    h.clear();
    EXPECT_FALSE(h.quic_broken("home", t0));
}

TEST(HistoryQuic, SaturatesNearTheEndOfTime) {
    History h;
    h.record_quic_broken("", TimePoint::max() - 1min);
    EXPECT_EQ(h.quic_broken_until(""), TimePoint::max());
}

// ---- RaceMachine ------------------------------------------------------------------

struct Race {
    explicit Race(Config c) : m(std::move(c)) {}
    RaceMachine m;
    std::vector<Connect> connects;
    void drain(TimePoint now) {
        while (auto a = m.poll_action()) {
            if (auto* o = std::get_if<OpenSocket>(&*a)) m.handle_opened(now, o->attempt);
            if (auto* c = std::get_if<Connect>(&*a)) connects.push_back(*c);
        }
    }
    // HTTPS "1 . alpn=h3,h2", AAAA 2001:db8::1, A none: QUIC first, then TCP.
    void answer(TimePoint now) {
        ASSERT_TRUE(m.start_resolving(now));
        drain(now);
        m.handle_https(now, Resolve(Family::v6, true), std::vector<SvcbRecord>{rec("1 . alpn=h3,h2")});
        m.handle_resolved(now, Family::v6, std::vector<Endpoint>{ep("2001:db8::1")});
        m.handle_resolve_failed(now, Family::v4);
        drain(now);
    }
};

Config quic_config(History* h = nullptr) {
    Config c;
    c.https = true;
    c.quic = true;
    c.history = h;
    return c;
}

TEST(RaceQuicProgress, ValidationNamesTheRule) {
    Config c;
    c.quic_progress = true;
    EXPECT_NE(validate(c)->find("quic-progress needs https=on and quic=on"), std::string::npos);
    c = quic_config();
    c.quic_progress = true;
    c.attempt_delay.reset();
    EXPECT_NE(validate(c)->find("quic-progress needs racing mode"), std::string::npos);
    c.attempt_delay = 250ms;
    EXPECT_FALSE(validate(c));
}

TEST(RaceQuicProgress, SoftTimerThenProgressPushesItBack) {
    Config c = quic_config();
    c.quic_progress = true;
    Race r(c);
    r.answer(t0);
    ASSERT_EQ(r.connects.size(), 1u);
    EXPECT_EQ(r.connects[0].protocol, Protocol::quic);
    EXPECT_EQ(r.m.next_timeout(), t0 + 125ms);
    r.m.handle_progress(t0 + 30ms, r.connects[0].attempt);
    r.drain(t0 + 30ms);
    EXPECT_EQ(r.connects.size(), 1u);  // no action from a reply
    EXPECT_EQ(r.m.next_timeout(), t0 + 250ms);
}

TEST(RaceQuicProgress, ProgressIgnoredForTcpAndWithoutTheOption) {
    Race r(quic_config());  // quic_progress off: the whole delay either way
    r.answer(t0);
    EXPECT_EQ(r.m.next_timeout(), t0 + 250ms);
    r.m.handle_timeout(t0 + 250ms);
    r.drain(t0 + 250ms);
    ASSERT_EQ(r.connects.size(), 2u);
    EXPECT_EQ(r.connects[1].protocol, Protocol::tcp);
    r.m.handle_progress(t0 + 260ms, r.connects[1].attempt);  // a TCP attempt: ignored
    r.m.handle_progress(t0 + 260ms, AttemptId{});            // unknown: ignored
    EXPECT_FALSE(r.m.finished());
}

TEST(RaceQuicBroken, SilentQuicFailureAndTcpWinMarksTheNetwork) {
    History h;
    Config c = quic_config(&h);
    c.network = "cafe";
    Race r(c);
    r.answer(t0);
    r.m.handle_connect_failed(t0 + 5ms, r.connects[0].attempt, ETIMEDOUT);
    r.drain(t0 + 10ms);
    r.m.handle_timeout(t0 + 10ms);
    r.drain(t0 + 10ms);
    ASSERT_EQ(r.connects.size(), 2u);
    r.m.handle_connected(t0 + 30ms, r.connects[1].attempt);
    r.drain(t0 + 30ms);
    ASSERT_TRUE(r.m.finished());
    EXPECT_TRUE(h.quic_broken("cafe", t0 + 30ms));
    EXPECT_EQ(h.quic_broken_until("cafe"), t0 + 30ms + 5min);
    EXPECT_FALSE(h.quic_broken("", t0 + 30ms));

    // The next race on that network puts TCP first.
    Race next(c);
    next.answer(t0 + 1min);
    ASSERT_EQ(next.connects.size(), 1u);
    EXPECT_EQ(next.connects[0].protocol, Protocol::tcp);
    // After the mark expires, QUIC is first again.
    Race later(c);
    later.answer(t0 + 30ms + 5min);
    ASSERT_EQ(later.connects.size(), 1u);
    EXPECT_EQ(later.connects[0].protocol, Protocol::quic);
}

TEST(RaceQuicBroken, QuicThatHeardBackOrWonDoesNotMark) {
    History h;
    Race r(quic_config(&h));
    r.answer(t0);
    r.m.handle_progress(t0 + 2ms, r.connects[0].attempt);
    r.m.handle_connect_failed(t0 + 5ms, r.connects[0].attempt, ECONNRESET);
    r.drain(t0 + 10ms);
    r.m.handle_timeout(t0 + 10ms);
    r.drain(t0 + 10ms);
    ASSERT_EQ(r.connects.size(), 2u);
    r.m.handle_connected(t0 + 30ms, r.connects[1].attempt);
    EXPECT_FALSE(h.quic_broken("", t0 + 30ms));

    h.record_quic_broken("", t0);
    Config c = quic_config(&h);
    Race tcp_first(c);
    tcp_first.answer(t0 + 1s);
    ASSERT_EQ(tcp_first.connects[0].protocol, Protocol::tcp);
    tcp_first.m.handle_timeout(t0 + 1s + 250ms);
    tcp_first.drain(t0 + 1s + 250ms);
    ASSERT_EQ(tcp_first.connects.size(), 2u);
    tcp_first.m.handle_connected(t0 + 1s + 260ms, tcp_first.connects[1].attempt);  // QUIC wins
    EXPECT_FALSE(h.quic_broken("", t0 + 1s + 260ms));
    EXPECT_EQ(h.quic_broken_count(""), 0u);
}

}  // namespace
