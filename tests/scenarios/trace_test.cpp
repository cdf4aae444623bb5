// SPDX-License-Identifier: BSL-1.0
// The trace printer (SPEC §5): exact milliseconds, the JSON line shapes, string
// escaping, and the timeline.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <string>

#include "eyeballs/eyeballs.hpp"

namespace eyeballs {
namespace {

using namespace std::chrono_literals;

Endpoint ep(const char* text) {
    auto e = Endpoint::parse(text, 443);
    EXPECT_TRUE(e.has_value()) << text;
    return e.value_or(Endpoint{});
}

TEST(FormatTraceMs, IsExactAndDropsTrailingZeros) {
    EXPECT_EQ(format_trace_ms(0ns), "0");
    EXPECT_EQ(format_trace_ms(250ms), "250");
    EXPECT_EQ(format_trace_ms(500us), "0.5");
    EXPECT_EQ(format_trace_ms(12345678ns), "12.345678");
    EXPECT_EQ(format_trace_ms(1ns), "0.000001");
    EXPECT_EQ(format_trace_ms(1500ms), "1500");
    EXPECT_EQ(format_trace_ms(100500us), "100.5");
    EXPECT_EQ(format_trace_ms(-500us), "-0.5");
    EXPECT_EQ(format_trace_ms(std::chrono::hours(1)), "3600000");
}

TEST(TraceJson, ResolveConnectClose) {
    EXPECT_EQ(trace_json("0", Resolve{Family::v6}, nullptr),
              R"({"t":0,"action":"resolve","family":"AAAA"})");
    EXPECT_EQ(trace_json("0", Resolve{Family::v4}, nullptr),
              R"({"t":0,"action":"resolve","family":"A"})");
    EXPECT_EQ(trace_json("0", Connect{AttemptId(1), ep("2001:db8::1"), std::nullopt}, nullptr),
              R"({"t":0,"action":"connect","attempt":1,"remote":"[2001:db8::1]:443"})");
    EXPECT_EQ(trace_json("250", Connect{AttemptId(2), ep("192.0.2.1"), ep("192.0.2.9:0")},
                         nullptr),
              R"({"t":250,"action":"connect","attempt":2,"remote":"192.0.2.1:443","local":"192.0.2.9:0"})");
    EXPECT_EQ(trace_json("270", Close{AttemptId(1)}, nullptr),
              R"({"t":270,"action":"close","attempt":1})");
}

TEST(TraceJson, OpenAndBindAreNotTraced) {
    EXPECT_EQ(trace_json("0", OpenSocket{AttemptId(1), ep("192.0.2.1")}, nullptr), "");
    EXPECT_EQ(trace_json("0", Bind{AttemptId(1), ep("192.0.2.9:0")}, nullptr), "");
}

TEST(TraceJson, ConnectedAndCancelledReports) {
    RaceReport r;
    r.outcome = Outcome::connected;
    r.winner = AttemptId(2);
    r.remote = ep("192.0.2.1");
    const Report action{Outcome::connected, AttemptId(2), ep("192.0.2.1")};
    EXPECT_EQ(trace_json("270", action, &r),
              R"({"t":270,"action":"report","outcome":"connected","attempt":2,"remote":"192.0.2.1:443"})");
    RaceReport c;
    c.outcome = Outcome::cancelled;
    EXPECT_EQ(trace_json("40", Report{Outcome::cancelled, {}, {}}, &c),
              R"({"t":40,"action":"report","outcome":"cancelled"})");
}

TEST(TraceJson, FailedReportListsEveryErrorWithNullsAndReason) {
    RaceReport r;
    r.outcome = Outcome::failed;
    r.code = ETIMEDOUT;
    r.message = "overall timeout after 700 ms";
    r.overall_timeout = true;
    Error dns;
    dns.stage = Stage::resolve;
    dns.family = Family::v6;
    r.errors.push_back(dns);
    Error conn;
    conn.stage = Stage::connect;
    conn.attempt = 1;
    conn.remote = ep("198.51.100.90");
    conn.code = ECONNRESET;
    r.errors.push_back(conn);
    const std::string line = trace_json("700", Report{Outcome::failed, {}, {}}, &r);
    EXPECT_EQ(line,
              "{\"t\":700,\"action\":\"report\",\"outcome\":\"failed\",\"errno\":\"ETIMEDOUT\","
              "\"message\":\"overall timeout after 700 ms\",\"errors\":["
              "{\"attempt\":null,\"remote\":null,\"stage\":\"resolve\",\"family\":\"AAAA\","
              "\"errno\":null,\"message\":\"" + dns.message() + "\"},"
              "{\"attempt\":1,\"remote\":\"198.51.100.90:443\",\"stage\":\"connect\","
              "\"errno\":\"ECONNRESET\",\"message\":\"" + conn.message() + "\"}],"
              "\"reason\":\"overall-timeout\"}");
}

TEST(TraceJson, FailedWithoutSharedErrnoIsNullAndNoReason) {
    RaceReport r;
    r.outcome = Outcome::failed;
    r.message = "multiple errors: a, b";
    const std::string line = trace_json("95", Report{Outcome::failed, {}, {}}, &r);
    EXPECT_EQ(line, R"({"t":95,"action":"report","outcome":"failed","errno":null,)"
                    R"("message":"multiple errors: a, b","errors":[]})");
}

TEST(TraceJson, EscapesStringsExactly) {
    RaceReport r;
    r.outcome = Outcome::failed;
    r.message = std::string("say \"hi\"\\ \n\t\x01 caf\xc3\xa9");
    const std::string line = trace_json("1", Report{Outcome::failed, {}, {}}, &r);
    EXPECT_NE(line.find(R"("message":"say \"hi\"\\ \n\t\u0001 café")"), std::string::npos)
        << line;
}

TEST(TraceJson, UnnamedErrnoIsNullWithTheNumber) {
    RaceReport r;
    r.outcome = Outcome::failed;
    r.code = 99999;
    const std::string line = trace_json("1", Report{Outcome::failed, {}, {}}, &r);
    EXPECT_NE(line.find(R"("errno":null,"code":99999)"), std::string::npos) << line;
}

TEST(TraceWriter, JsonLinesCountFromTheOrigin) {
    std::ostringstream out;
    const TimePoint origin{std::chrono::seconds(5)};
    TraceWriter w(out, TraceWriter::Format::json, origin);
    RaceMachine m;
    w.write(origin + 150ms, Connect{AttemptId(2), ep("198.51.100.10"), std::nullopt}, m);
    w.write(origin + 150ms, OpenSocket{AttemptId(3), ep("198.51.100.11")}, m);
    w.write(origin + 192500us, Close{AttemptId(1)}, m);
    EXPECT_EQ(out.str(),
              "{\"t\":150,\"action\":\"connect\",\"attempt\":2,\"remote\":\"198.51.100.10:443\"}\n"
              "{\"t\":192.5,\"action\":\"close\",\"attempt\":1}\n");
}

TEST(TraceWriter, TimelineIsAlignedAndVerboseAddsOpenAndBind) {
    const TimePoint origin{};
    RaceMachine m;
    std::ostringstream quiet;
    std::ostringstream verbose;
    TraceWriter q(quiet, TraceWriter::Format::timeline, origin);
    TraceWriter v(verbose, TraceWriter::Format::timeline, origin, true);
    for (TraceWriter* w : {&q, &v}) {
        w->write(origin + 150ms, OpenSocket{AttemptId(2), ep("198.51.100.10")}, m);
        w->write(origin + 150ms, Bind{AttemptId(2), ep("192.0.2.9:0")}, m);
        w->write(origin + 150ms,
                 Connect{AttemptId(2), ep("198.51.100.10"), ep("192.0.2.9:0")}, m);
        w->write(origin + 1500ms, Close{AttemptId(1)}, m);
    }
    EXPECT_EQ(quiet.str(),
              "   150.000 ms  connect  #2 198.51.100.10:443 from 192.0.2.9:0\n"
              "  1500.000 ms  close    #1\n");
    EXPECT_NE(verbose.str().find("   150.000 ms  open     #2 198.51.100.10:443\n"),
              std::string::npos)
        << verbose.str();
    EXPECT_NE(verbose.str().find("   150.000 ms  bind     #2 192.0.2.9:0\n"),
              std::string::npos)
        << verbose.str();
}

}  // namespace
}  // namespace eyeballs
