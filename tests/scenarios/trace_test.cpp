// SPDX-License-Identifier: BSL-1.0
// The trace printer (docs/behaviour.md §5): exact milliseconds, the JSON line shapes, string
// escaping, and the timeline.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

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

// README row 6.2: an Alt-Svc alternative's endpoint gets "from":"alt-svc"
// right after its alpn (before ech); an HTTPS record's line is as it was.
TEST(TraceJson, AltSvcAlternativeIsMarkedAfterItsAlpn) {
    Service record;
    record.alpn = {"h2", "http/1.1"};
    record.ech = std::vector<std::uint8_t>{0};
    Service alternative;
    alternative.alpn = {"h2"};
    alternative.source = ServiceSource::alt_svc;
    EXPECT_EQ(trace_json("0", Connect{AttemptId(1), ep("[2001:db8::1]:8443"), std::nullopt,
                                      Protocol::tcp, &alternative},
                         nullptr),
              R"({"t":0,"action":"connect","attempt":1,"remote":"[2001:db8::1]:8443",)"
              R"("protocol":"tcp","alpn":["h2"],"from":"alt-svc"})");
    EXPECT_EQ(trace_json("5", Connect{AttemptId(2), ep("2001:db8::1"), std::nullopt,
                                      Protocol::tcp, &record},
                         nullptr),
              R"({"t":5,"action":"connect","attempt":2,"remote":"[2001:db8::1]:443",)"
              R"("protocol":"tcp","alpn":["h2","http/1.1"],"ech":true})");
    alternative.ech = record.ech;  // not from an Alt-Svc header; the key order, still
    EXPECT_EQ(trace_json("0", Connect{AttemptId(1), ep("[2001:db8::1]:8443"), std::nullopt,
                                      Protocol::tcp, &alternative},
                         nullptr),
              R"({"t":0,"action":"connect","attempt":1,"remote":"[2001:db8::1]:8443",)"
              R"("protocol":"tcp","alpn":["h2"],"from":"alt-svc","ech":true})");
    RaceReport r;
    r.outcome = Outcome::connected;
    r.winner = AttemptId(1);
    r.remote = ep("[2001:db8::1]:8443");
    const Report won{Outcome::connected, AttemptId(1), ep("[2001:db8::1]:8443"), Protocol::tcp,
                     &alternative};
    EXPECT_EQ(trace_json("9", won, &r),
              R"({"t":9,"action":"report","outcome":"connected","attempt":1,)"
              R"("remote":"[2001:db8::1]:8443","protocol":"tcp","alpn":["h2"],"from":"alt-svc",)"
              R"("ech":true,"errors":[]})");
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
              R"({"t":270,"action":"report","outcome":"connected","attempt":2,"remote":"192.0.2.1:443",)"
              R"("errors":[]})");
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

// ---- issue 16: causes on close lines, DNS answers, errors on success -------------

// Drives `m` like an adapter, writing every action to both writers; answers
// OpenSocket at once and fails connects to `refuse` with ECONNREFUSED.
void drain(RaceMachine& m, TimePoint now, std::vector<TraceWriter*> writers,
           std::vector<Connect>* connects = nullptr) {
    while (auto a = m.poll_action()) {
        for (TraceWriter* w : writers) w->write(now, *a, m);
        if (const auto* o = std::get_if<OpenSocket>(&*a)) m.handle_opened(now, o->attempt);
        if (const auto* c = std::get_if<Connect>(&*a); c != nullptr && connects != nullptr) {
            connects->push_back(*c);
        }
    }
}

TEST(TraceCauses, RefusedIpv6ThenIpv4WinsShowsAnswersErrorAndLosersErrors) {
    const TimePoint t0{std::chrono::seconds(1)};
    RaceMachine m;
    std::ostringstream json;
    std::ostringstream text;
    TraceWriter j(json, TraceWriter::Format::json, t0);
    TraceWriter v(text, TraceWriter::Format::timeline, t0, true);
    j.set_host("dual.test");
    std::vector<Connect> connects;
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m, t0, {&j, &v}, &connects);
    m.handle_resolved(t0 + 2ms, Family::v6, {ep("[::1]:9")});
    drain(m, t0 + 2ms, {&j, &v}, &connects);
    m.handle_resolved(t0 + 3ms, Family::v4, {ep("127.0.0.1:9")});
    drain(m, t0 + 3ms, {&j, &v}, &connects);
    ASSERT_EQ(connects.size(), 1u);
    m.handle_connect_failed(t0 + 4ms, connects[0].attempt, ECONNREFUSED);
    drain(m, t0 + 4ms, {&j, &v}, &connects);
    m.handle_timeout(t0 + 12ms);  // the 10 ms floor after a failure
    drain(m, t0 + 12ms, {&j, &v}, &connects);
    ASSERT_EQ(connects.size(), 2u);
    m.handle_connected(t0 + 13ms, connects[1].attempt);
    drain(m, t0 + 13ms, {&j, &v}, &connects);

    const std::string out = json.str();
    EXPECT_NE(out.find(R"({"t":2,"action":"answer","name":"dual.test","type":"AAAA","addresses":["::1"]})"),
              std::string::npos) << out;
    EXPECT_NE(out.find(R"({"t":3,"action":"answer","name":"dual.test","type":"A","addresses":["127.0.0.1"]})"),
              std::string::npos) << out;
    EXPECT_NE(out.find(R"({"t":4,"action":"close","attempt":1,"reason":"failed","stage":"connect",)"
                       R"("errno":"ECONNREFUSED","message":"connect to [::1]:9: ECONNREFUSED"})"),
              std::string::npos) << out;
    EXPECT_NE(out.find(R"("outcome":"connected","attempt":2,"remote":"127.0.0.1:9","errors":[)"
                       R"({"attempt":1,"remote":"[::1]:9","stage":"connect","errno":"ECONNREFUSED",)"
                       R"("message":"connect to [::1]:9: ECONNREFUSED"}]})"),
              std::string::npos) << out;
    // The answer comes before the connect it starts.
    EXPECT_LT(out.find("\"type\":\"AAAA\",\"addresses\""), out.find("\"action\":\"connect\""));

    const std::string tl = text.str();
    EXPECT_NE(tl.find("     2.000 ms  answer   AAAA ::1\n"), std::string::npos) << tl;
    EXPECT_NE(tl.find("     4.000 ms  close    #1 failed: connect to [::1]:9: ECONNREFUSED\n"),
              std::string::npos) << tl;
    EXPECT_NE(tl.find("    13.000 ms  report   connected #2 127.0.0.1:9\n"
                      "               error    #1 connect to [::1]:9: ECONNREFUSED\n"),
              std::string::npos) << tl;
}

TEST(TraceCauses, NegativeAnswersReadNodataOrTheError) {
    const TimePoint t0{};
    RaceMachine m;
    std::ostringstream json;
    std::ostringstream text;
    TraceWriter j(json, TraceWriter::Format::json, t0);
    TraceWriter v(text, TraceWriter::Format::timeline, t0);
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m, t0, {&j, &v});
    m.handle_resolve_failed(t0 + 1ms, Family::v6);  // no data
    m.handle_resolve_failed(t0 + 2ms, Family::v4, 0, "Domain name not found");
    drain(m, t0 + 2ms, {&j, &v});
    const std::string out = json.str();
    EXPECT_NE(out.find(R"({"t":1,"action":"answer","type":"AAAA","rcode":"NODATA"})"),
              std::string::npos) << out;
    EXPECT_NE(out.find(R"({"t":2,"action":"answer","type":"A","error":"resolve A: Domain name not found","errno":null})"),
              std::string::npos) << out;
    const std::string tl = text.str();
    EXPECT_NE(tl.find("answer   AAAA no data\n"), std::string::npos) << tl;
    EXPECT_NE(tl.find("answer   A error: resolve A: Domain name not found\n"), std::string::npos)
        << tl;
    // The answers precede the report (printed at the report's instant).
    EXPECT_LT(out.find("\"action\":\"answer\""), out.find("\"action\":\"report\""));
}

TEST(TraceCauses, OverallTimeoutSaysSoOnTheCloseLinesButNotInErrors) {
    const TimePoint t0{};
    Config c;
    c.overall_timeout = 100ms;
    RaceMachine m(c);
    std::ostringstream json;
    std::ostringstream text;
    TraceWriter j(json, TraceWriter::Format::json, t0);
    TraceWriter v(text, TraceWriter::Format::timeline, t0);
    ASSERT_TRUE(m.start(t0, {ep("192.0.2.1"), ep("192.0.2.2")}));
    drain(m, t0, {&j, &v});
    m.handle_timeout(t0 + 100ms);  // the overall timeout, while #1 is in flight
    drain(m, t0 + 100ms, {&j, &v});
    const std::string out = json.str();
    EXPECT_NE(out.find(R"({"t":100,"action":"close","attempt":1,"reason":"overall-timeout"})"),
              std::string::npos) << out;
    EXPECT_NE(out.find(R"("errors":[],"reason":"overall-timeout"})"), std::string::npos) << out;
    EXPECT_NE(text.str().find("close    #1 overall timeout\n"), std::string::npos) << text.str();
}

TEST(TraceCauses, CloseReasonAndCloseJson) {
    AttemptRecord r;
    r.state = AttemptRecord::State::closed;
    EXPECT_STREQ(close_reason(r, Outcome::connected, false), "lost");
    EXPECT_STREQ(close_reason(r, Outcome::cancelled, false), "cancelled");
    EXPECT_STREQ(close_reason(r, Outcome::failed, true), "overall-timeout");
    r.state = AttemptRecord::State::failed;
    EXPECT_STREQ(close_reason(r, Outcome::connected, false), "failed");
    r.state = AttemptRecord::State::in_flight;
    EXPECT_EQ(close_reason(r, std::nullopt, false), nullptr);
    Error e;
    e.stage = Stage::timeout;
    e.attempt = 3;
    e.remote = ep("192.0.2.1");
    e.code = ETIMEDOUT;
    EXPECT_EQ(close_json("7.5", AttemptId(3), "failed", &e),
              R"({"t":7.5,"action":"close","attempt":3,"reason":"failed","stage":"timeout",)"
              R"("errno":"ETIMEDOUT","message":")" + e.message() + R"("})");
    EXPECT_EQ(close_json("1", AttemptId(2), nullptr, nullptr),
              R"({"t":1,"action":"close","attempt":2})");
}

TEST(TraceCauses, HttpsAnswerCountsRecords) {
    DnsQuery q;
    q.https = true;
    q.records = 2;
    EXPECT_EQ(answer_json("0", q, "example.test"),
              R"({"t":0,"action":"answer","name":"example.test","type":"HTTPS","records":2})");
    q.records = 0;
    EXPECT_EQ(answer_json("0", q), R"({"t":0,"action":"answer","type":"HTTPS","rcode":"NODATA"})");
    q.https = false;
    q.name = "svc.example.net.";
    q.family = Family::v4;
    q.addresses = {ep("192.0.2.7"), ep("192.0.2.8")};
    EXPECT_EQ(answer_json("3", q, "origin.test"),
              R"({"t":3,"action":"answer","name":"svc.example.net.","type":"A",)"
              R"("addresses":["192.0.2.7","192.0.2.8"]})");
}

}  // namespace
}  // namespace eyeballs
