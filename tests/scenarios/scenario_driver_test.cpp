// SPDX-License-Identifier: BSL-1.0
// The virtual-time driver: event order, exit statuses, the observer, and every
// shared example replayed in-process.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "scenario.hpp"

namespace eyeballs::sim {
namespace {

using namespace std::chrono_literals;
using Format = TraceWriter::Format;

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

SimOutput run(const std::string& text, Format format = Format::json) {
    return simulate_text(text, "t.scn", format);
}

TEST(Simulate, FinishedRunPrintsTheTraceAndExitsZero) {
    SimOutput out = run(
        "config attempt-delay=150ms\n"
        "addresses 2001:db8:1::10 198.51.100.10\n"
        "connect 198.51.100.10 ok after 42ms\n");
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.err, "");
    EXPECT_EQ(out.out,
              "{\"t\":0,\"action\":\"connect\",\"attempt\":1,\"remote\":\"[2001:db8:1::10]:443\"}\n"
              "{\"t\":150,\"action\":\"connect\",\"attempt\":2,\"remote\":\"198.51.100.10:443\"}\n"
              "{\"t\":192,\"action\":\"close\",\"attempt\":1,\"reason\":\"lost\"}\n"
              "{\"t\":192,\"action\":\"report\",\"outcome\":\"connected\",\"attempt\":2,"
              "\"remote\":\"198.51.100.10:443\",\"errors\":[]}\n");
    ASSERT_TRUE(out.run.report.has_value());
    EXPECT_EQ(out.run.report->outcome, Outcome::connected);
    EXPECT_EQ(out.run.last_time - sim_origin(), Duration(192ms));
}

TEST(Simulate, BadScenarioExitsTwoWithFileLine) {
    SimOutput out = simulate_text("addresses 192.0.2.1\nport 80\nport 81\n", "x/y.scn",
                                  Format::json);
    EXPECT_EQ(out.exit_status, 2);
    EXPECT_EQ(out.out, "");
    EXPECT_EQ(out.err.rfind("x/y.scn:3: ", 0), 0u) << out.err;
}

TEST(Simulate, NeverFinishingRaceExitsThreeWithTheTraceSoFar) {
    SimOutput out = run(
        "dns A at 10ms: 198.51.100.219\n"
        "connect 198.51.100.219 error ECONNREFUSED after 5ms\n");
    EXPECT_EQ(out.exit_status, 3);
    EXPECT_EQ(out.run.end, RunResult::End::never_ends);
    const std::vector<std::string> lines = split_lines(out.out);
    ASSERT_EQ(lines.size(), 5u) << out.out;
    // The A answer shows when it is taken (issue 16), before what it starts.
    EXPECT_EQ(lines[2], R"({"t":10,"action":"answer","type":"A","addresses":["198.51.100.219"]})");
    EXPECT_EQ(lines[3], R"({"t":60,"action":"connect","attempt":1,"remote":"198.51.100.219:443"})");
    EXPECT_EQ(lines[4], R"({"t":65,"action":"close","attempt":1,"reason":"failed","stage":"connect",)"
                        R"("errno":"ECONNREFUSED","message":"connect to 198.51.100.219:443: ECONNREFUSED"})");
    EXPECT_EQ(out.out.find("report"), std::string::npos);
    EXPECT_NE(out.err.find("never finish"), std::string::npos) << out.err;
    EXPECT_FALSE(out.run.report.has_value());
}

TEST(Simulate, HangingAttemptsWithoutTimersNeverFinish) {
    SimOutput out = run("config attempt-delay=100ms\naddresses 2001:db8::1 192.0.2.1\n");
    EXPECT_EQ(out.exit_status, 3);
    EXPECT_EQ(out.run.attempts_started, 2u);
    EXPECT_EQ(out.run.attempts_in_flight, 2u);
    EXPECT_EQ(out.run.last_time - sim_origin(), Duration(100ms));
}

TEST(Simulate, EventsComeBeforeTimersAtOneInstant) {
    // The cancel at 250 is delivered before the attempt timer due at 250.
    SimOutput out = run("addresses 2001:db8::1 192.0.2.1\ncancel at 250ms\n");
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(out.out.find("\"attempt\":2"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find(R"({"t":250,"action":"report","outcome":"cancelled"})"),
              std::string::npos);
}

TEST(Simulate, FileEventsAtOneInstantKeepFileOrder) {
    // Both at 40: the cancel comes first in the file, so the success is never seen.
    SimOutput a = run("addresses 192.0.2.1\ncancel at 40ms\nconnect 192.0.2.1 ok after 40ms\n");
    EXPECT_NE(a.out.find("\"outcome\":\"cancelled\""), std::string::npos) << a.out;
}

TEST(Simulate, ObserverSeesEveryActionWithItsTimeAndOpenBindAreAnswered) {
    ParseResult parsed = parse_scenario(
        "addresses 198.51.100.1 2001:db8::1\n"
        "local 198.51.100.9 198.51.100.8\n"
        "bind 198.51.100.9 error EADDRINUSE\n"
        "open 2001:db8::1 error EAFNOSUPPORT\n"
        "connect 198.51.100.1 ok after 20ms\n",
        "t.scn");
    ASSERT_TRUE(parsed.ok()) << parsed.error.text();
    std::vector<std::pair<Duration, std::string>> seen;
    RunResult r = run_scenario(*parsed.scenario, [&](TimePoint now, const Action& a,
                                                      const RaceMachine&) {
        seen.emplace_back(now - sim_origin(), to_string(a));
    });
    EXPECT_EQ(r.end, RunResult::End::finished);
    ASSERT_GE(seen.size(), 5u);
    // open, bind .9 (fails), bind .8, connect — all at 0.
    EXPECT_TRUE(std::holds_alternative<Report>(Action(Report{})));
    EXPECT_EQ(seen.front().first, Duration(0));
    EXPECT_EQ(seen.back().first, Duration(20ms));
    int binds = 0;
    for (const auto& [t, text] : seen) {
        if (text.find("bind") == 0) ++binds;
    }
    EXPECT_EQ(binds, 2);
    ASSERT_TRUE(r.report.has_value());
    EXPECT_EQ(r.report->outcome, Outcome::connected);
    ASSERT_EQ(r.report->errors.size(), 1u);  // the failed bind is recorded
    EXPECT_EQ(r.report->errors[0].stage, Stage::bind);
    ASSERT_TRUE(r.report->local.has_value());
    EXPECT_EQ(r.report->local->to_string(), "198.51.100.8:0");
}

TEST(Simulate, SameInputSameTrace) {
    const std::string text =
        "config attempt-delay=80ms\naddresses 198.51.100.40 2001:db8:1::40 198.51.100.41\n"
        "connect 198.51.100.40 error EHOSTUNREACH after 95ms\n"
        "connect 2001:db8:1::40 error ENETUNREACH after 12ms\n";
    SimOutput a = run(text);
    SimOutput b = run(text);
    EXPECT_EQ(a.out, b.out);
    EXPECT_EQ(run(text, Format::timeline).out, run(text, Format::timeline).out);
}

TEST(Simulate, TimelineEndsWithTheOutcomeAndEachError) {
    SimOutput out = run(
        "addresses 198.51.100.40 2001:db8:1::40\n"
        "connect 198.51.100.40 error EHOSTUNREACH after 95ms\n"
        "connect 2001:db8:1::40 error ENETUNREACH after 12ms\n",
        Format::timeline);
    EXPECT_EQ(out.exit_status, 0);
    const std::vector<std::string> lines = split_lines(out.out);
    ASSERT_GE(lines.size(), 3u);
    EXPECT_NE(lines[lines.size() - 3].find("failed"), std::string::npos) << out.out;
    EXPECT_NE(lines[lines.size() - 3].find("multiple errors: "), std::string::npos);
    EXPECT_NE(lines[lines.size() - 2].find("#1"), std::string::npos);
    EXPECT_NE(lines[lines.size() - 2].find("EHOSTUNREACH"), std::string::npos);
    EXPECT_NE(lines[lines.size() - 1].find("ENETUNREACH"), std::string::npos);
}

TEST(Simulate, JsonWithVerboseAddsTheTimelineOnStderr) {
    SimOutput out = simulate_text("addresses 192.0.2.1\nconnect 192.0.2.1 ok after 1ms\n",
                                  "t.scn", Format::json, true);
    EXPECT_EQ(out.exit_status, 0);
    EXPECT_EQ(split_lines(out.out).size(), 2u);
    EXPECT_NE(out.err.find("open "), std::string::npos) << out.err;
    EXPECT_NE(out.err.find("connected"), std::string::npos) << out.err;
}

// Every shared example finishes (exit 0) in-process, ends with its report, and
// has the golden's line count. (The exact matching is compare_trace.py's job.)
TEST(SharedExamples, EachFinishesWithOneReportLast) {
    const std::filesystem::path dir = EYEBALLS_SHARED_SCENARIO_DIR;
    ASSERT_TRUE(std::filesystem::is_directory(dir)) << dir;
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".scn") continue;
        ++count;
        SCOPED_TRACE(entry.path().string());
        SimOutput out = simulate_text(read_file(entry.path()), entry.path().string(),
                                      Format::json);
        EXPECT_EQ(out.exit_status, 0) << out.err;
        std::vector<std::string> lines;
        for (std::string& l : split_lines(out.out)) {
            // The goldens have no answer lines (issue 16 added them; readers skip them).
            if (l.find("\"action\":\"answer\"") == std::string::npos) lines.push_back(std::move(l));
        }
        ASSERT_FALSE(lines.empty());
        EXPECT_NE(lines.back().find("\"action\":\"report\""), std::string::npos);
        int reports = 0;
        for (const auto& l : lines) reports += l.find("\"action\":\"report\"") != std::string::npos;
        EXPECT_EQ(reports, 1);
        std::filesystem::path golden = entry.path();
        golden.replace_extension(".json");
        EXPECT_EQ(lines.size(), split_lines(read_file(golden)).size());
    }
    EXPECT_GE(count, 10);
}

}  // namespace
}  // namespace eyeballs::sim
