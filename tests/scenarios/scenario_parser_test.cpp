// SPDX-License-Identifier: BSL-1.0
// The scenario language (docs/behaviour.md §4): durations, ports, conflicts and where errors
// are reported.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <string>

#include "scenario.hpp"

namespace eyeballs::sim {
namespace {

using namespace std::chrono_literals;

Scenario parse_ok(const std::string& text) {
    ParseResult r = parse_scenario(text, "t.scn");
    EXPECT_TRUE(r.ok()) << r.error.text();
    return r.ok() ? *r.scenario : Scenario{};
}

// The line the first error is reported at (-1 when the text parses).
int error_line(const std::string& text) {
    ParseResult r = parse_scenario(text, "t.scn");
    return r.ok() ? -1 : r.error.line;
}

std::string error_text(const std::string& text) {
    ParseResult r = parse_scenario(text, "t.scn");
    return r.ok() ? std::string("(parsed)") : r.error.text();
}

Endpoint ep(const char* text, std::uint16_t port) {
    return Endpoint::parse(text, port).value_or(Endpoint{});
}

TEST(ParseDuration, AcceptsZeroAndLowerCaseUnitsExactly) {
    EXPECT_EQ(parse_duration("0"), Duration(0));
    EXPECT_EQ(parse_duration("0ms"), Duration(0));
    EXPECT_EQ(parse_duration("0s"), Duration(0));
    EXPECT_EQ(parse_duration("250ms"), Duration(250ms));
    EXPECT_EQ(parse_duration("0.5ms"), Duration(500us));
    EXPECT_EQ(parse_duration("1.5s"), Duration(1500ms));
    EXPECT_EQ(parse_duration("0.000001ms"), Duration(1ns));
    EXPECT_EQ(parse_duration("0.000000001s"), Duration(1ns));
    EXPECT_EQ(parse_duration("12.345678ms"), Duration(12345678ns));
    EXPECT_EQ(parse_duration("1.0000000000s"), Duration(1s));  // zeros are not finer
    EXPECT_EQ(parse_duration("007ms"), Duration(7ms));
    EXPECT_EQ(parse_duration("1000000s"), Duration(1000000s));  // the largest
    EXPECT_EQ(parse_duration("1000000000ms"), Duration(1000000s));
    EXPECT_EQ(parse_duration("1000000.000s"), Duration(1000000s));
}

TEST(ParseDuration, RejectsEverythingElse) {
    for (const char* bad : {"", "10", "00", "0.5", "10MS", "10Ms", "1.5S", "ms", "s", ".5ms",
                            "5.ms", "-1ms", "+1ms", "1e3ms", "1 ms", "10us", "10ns", "0x10ms",
                            "0.0000001ms", "0.0000000001s", "99999999999s", "1000001s",
                            "1000000.5s", "1000000000.000001ms"}) {
        std::string error;
        EXPECT_FALSE(parse_duration(bad, &error).has_value()) << "'" << bad << "'";
        EXPECT_FALSE(error.empty()) << bad;
    }
    std::string error;
    (void)parse_duration("0.0000001ms", &error);
    EXPECT_NE(error.find("1 ns"), std::string::npos) << error;
}

TEST(ParseScenario, ErrorTextIsFileLineMessage) {
    ParseResult r = parse_scenario("addresses 192.0.2.1\nconnect 192.0.2.1 ok after 10\n",
                                   "dir/x.scn");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error.line, 2);
    EXPECT_EQ(r.error.text().rfind("dir/x.scn:2: ", 0), 0u) << r.error.text();
}

TEST(ParseScenario, AddressesModeDefaults) {
    Scenario s = parse_ok("addresses 2001:db8::1 192.0.2.1 192.0.2.1\n");
    EXPECT_FALSE(s.dns_mode);
    ASSERT_EQ(s.addresses.size(), 3u);  // duplicates are kept
    EXPECT_EQ(s.addresses[0], ep("2001:db8::1", 443));
    EXPECT_EQ(s.addresses[2], ep("192.0.2.1", 443));
    EXPECT_EQ(s.config.attempt_delay, std::optional<Duration>(250ms));
    EXPECT_EQ(s.config.min_start_gap, Duration(10ms));
}

TEST(ParseScenario, PortLineAppliesToTheWholeFileExplicitPortsStay) {
    Scenario s = parse_ok(
        "addresses 2001:db8::1 192.0.2.1:8080\n"
        "connect 2001:db8::1 ok after 1ms\n"
        "open 192.0.2.2 error EMFILE\n"
        "local 192.0.2.9 [2001:db8::9]:7000\n"
        "bind 192.0.2.9 error EADDRINUSE\n"
        "port 80  # applies to the lines above too\n");
    EXPECT_EQ(s.port, 80);
    ASSERT_EQ(s.addresses.size(), 2u);
    EXPECT_EQ(s.addresses[0], ep("2001:db8::1", 80));
    EXPECT_EQ(s.addresses[1], ep("192.0.2.1", 8080));
    EXPECT_EQ(s.connects.count(ep("2001:db8::1", 80)), 1u);
    EXPECT_EQ(s.open_errors.at(ep("192.0.2.2", 80)), EMFILE);
    ASSERT_EQ(s.config.local.size(), 2u);
    EXPECT_EQ(s.config.local[0], ep("192.0.2.9", 0));  // local: port 0, not the port line
    EXPECT_EQ(s.config.local[1], ep("2001:db8::9", 7000));
    EXPECT_EQ(s.bind_errors.at(ep("192.0.2.9", 0)), EADDRINUSE);
}

TEST(ParseScenario, ConfigKeysAndLastWins) {
    Scenario s = parse_ok(
        "config attempt-delay=100ms family-count=2 interleave=off\n"
        "config attempt-timeout=1s overall-timeout=2.5s min-start-gap=0 resolution-delay=0\n"
        "config attempt-delay=150ms\n"
        "addresses 192.0.2.1\n");
    EXPECT_EQ(s.config.attempt_delay, std::optional<Duration>(150ms));
    EXPECT_EQ(s.config.family_count, 2u);
    EXPECT_EQ(s.config.interleave, std::optional<bool>(false));
    EXPECT_EQ(s.config.attempt_timeout, std::optional<Duration>(1s));
    EXPECT_EQ(s.config.overall_timeout, std::optional<Duration>(2500ms));
    EXPECT_EQ(s.config.min_start_gap, Duration(0));
    EXPECT_EQ(s.config.resolution_delay, Duration(0));

    s = parse_ok("config attempt-delay=none attempt-timeout=none\naddresses 192.0.2.1\n");
    EXPECT_FALSE(s.config.attempt_delay.has_value());
    EXPECT_FALSE(s.config.racing());
}

TEST(ParseScenario, ConfigValuesAreValidatedAtTheirLine) {
    const std::string tail = "addresses 192.0.2.1\n";
    EXPECT_EQ(error_line("# c\nconfig attempt-delay=5ms\n" + tail), 2);
    const std::string msg = error_text("config attempt-delay=2001ms\n" + tail);
    EXPECT_NE(msg.find("10 ms"), std::string::npos) << msg;
    EXPECT_NE(msg.find("2 s"), std::string::npos) << msg;
    EXPECT_EQ(error_line("config attempt-delay=10ms\nconfig attempt-delay=2s\n" + tail), -1);
    EXPECT_EQ(error_line(tail + "config resolution-delay=2.1s\n"), 2);
    EXPECT_EQ(error_line(tail + "config min-start-gap=100.000001ms\n"), 2);
    EXPECT_EQ(error_line(tail + "config min-start-gap=100ms\n"), -1);
    EXPECT_EQ(error_line(tail + "config family-count=0\n"), 2);
    EXPECT_EQ(error_line(tail + "config family-count=-1\n"), 2);
    EXPECT_EQ(error_line(tail + "config attempt-timeout=0\n"), 2);
    EXPECT_EQ(error_line(tail + "config overall-timeout=0s\n"), 2);
    EXPECT_EQ(error_line(tail + "config interleave=1\n"), 2);
    EXPECT_EQ(error_line(tail + "config happy=yes\n"), 2);
    EXPECT_EQ(error_line(tail + "config attempt-delay\n"), 2);
    EXPECT_EQ(error_line(tail + "config\n"), 2);
}

TEST(ParseScenario, EveryConflictIsReportedAtTheLaterLine) {
    EXPECT_EQ(error_line("port 80\naddresses 192.0.2.1\nport 80\n"), 3);
    EXPECT_EQ(error_line("addresses 192.0.2.1\naddresses 192.0.2.2\n"), 2);
    EXPECT_EQ(error_line("addresses 192.0.2.1\ndns A at 1ms: 192.0.2.2\n"), 2);
    EXPECT_EQ(error_line("dns A at 1ms: 192.0.2.2\naddresses 192.0.2.1\n"), 2);
    EXPECT_EQ(error_line("dns A at 1ms: none\ndns AAAA at 1ms: none\ndns A at 2ms: none\n"),
              3);
    EXPECT_EQ(error_line("addresses 192.0.2.1\nlocal 192.0.2.9\nlocal 192.0.2.8\n"), 3);
    EXPECT_EQ(error_line("addresses 192.0.2.1\nconnect 192.0.2.1 hang\n"
                         "connect 192.0.2.1:443 ok after 1ms\n"),
              3);
    EXPECT_EQ(error_line("addresses 2001:db8::1\nconnect [2001:db8::1]:443 hang\n"
                         "connect 2001:0db8:0:0:0:0:0:1 hang\n"),
              3);
    EXPECT_EQ(error_line("addresses 192.0.2.1\nopen 192.0.2.1 error EMFILE\n"
                         "open 192.0.2.1 error EMFILE\n"),
              3);
    EXPECT_EQ(error_line("addresses 192.0.2.1\nbind 192.0.2.9:0 error EMFILE\n"
                         "bind 192.0.2.9 error EMFILE\n"),
              3);
    // Different ports are different remotes: no conflict.
    EXPECT_EQ(error_line("addresses 192.0.2.1\nconnect 192.0.2.1 hang\n"
                         "connect 192.0.2.1:80 hang\nbind 192.0.2.9 error EMFILE\n"
                         "bind 192.0.2.9:1 error EMFILE\n"),
              -1);
    // The port line makes two spellings one remote, even when it comes last.
    EXPECT_EQ(error_line("addresses 192.0.2.1\nconnect 192.0.2.1 hang\n"
                         "connect 192.0.2.1:80 hang\nport 80\n"),
              3);
}

TEST(ParseScenario, WholeFileErrorsAreLineZero) {
    EXPECT_EQ(error_line(""), 0);
    EXPECT_EQ(error_line("# only a comment\n\n"), 0);
    EXPECT_EQ(error_line("config attempt-delay=100ms\nconnect 192.0.2.1 hang\n"), 0);
    EXPECT_EQ(error_text(""), std::string("t.scn:0: ") +
                                  "the scenario has neither an `addresses` nor a `dns` line");
}

TEST(ParseScenario, DnsAnswers) {
    Scenario s = parse_ok(
        "dns A at 12ms: 192.0.2.1 192.0.2.2\n"
        "cancel at 30ms\n"
        "dns AAAA at 44ms : error ETIMEDOUT\n");
    EXPECT_TRUE(s.dns_mode);
    ASSERT_EQ(s.dns.size(), 2u);
    EXPECT_EQ(s.dns[0].family, Family::v4);
    EXPECT_EQ(s.dns[0].at, Duration(12ms));
    EXPECT_EQ(s.dns[0].kind, DnsAnswer::Kind::addresses);
    EXPECT_EQ(s.dns[0].addresses.size(), 2u);
    EXPECT_EQ(s.dns[1].kind, DnsAnswer::Kind::error);
    EXPECT_EQ(s.dns[1].code, ETIMEDOUT);
    // File events in file order: dns, cancel, dns.
    ASSERT_EQ(s.events.size(), 3u);
    EXPECT_EQ(s.events[0].kind, FileEvent::Kind::dns);
    EXPECT_EQ(s.events[1].kind, FileEvent::Kind::cancel);
    EXPECT_EQ(s.events[1].at, Duration(30ms));
    EXPECT_EQ(s.events[2].dns_index, 1u);

    s = parse_ok("dns AAAA at 0: none\ndns A at 1s: error\n");
    EXPECT_EQ(s.dns[0].kind, DnsAnswer::Kind::none);
    EXPECT_EQ(s.dns[1].kind, DnsAnswer::Kind::error);
    EXPECT_EQ(s.dns[1].code, 0);

    EXPECT_EQ(error_line("dns AAAA at 5ms:\n"), 1);                 // empty answer
    EXPECT_EQ(error_line("dns A at 5ms: 2001:db8::1\n"), 1);         // wrong family
    EXPECT_EQ(error_line("dns AAAA at 5ms: 192.0.2.1\n"), 1);        // wrong family
    EXPECT_EQ(error_line("dns A at 5ms: ::ffff:192.0.2.1\n"), 1);    // mapped is IPv6
    EXPECT_EQ(error_line("dns AAAA at 5ms: ::ffff:192.0.2.1\n"), -1);
    EXPECT_EQ(error_line("dns MX at 5ms: none\n"), 1);
    EXPECT_EQ(error_line("dns A at 5: none\n"), 1);
    EXPECT_EQ(error_line("dns A at 5ms none\n"), 1);
    EXPECT_EQ(error_line("dns A at 5ms: none none\n"), 1);
    EXPECT_EQ(error_line("dns A at 5ms: error EFOO\n"), 1);
    EXPECT_EQ(error_line("dns A at 5ms: error ETIMEDOUT EIO\n"), 1);
}

TEST(ParseScenario, ConnectOpenBindCancelLines) {
    Scenario s = parse_ok(
        "addresses 192.0.2.1\n"
        "connect 192.0.2.1 error ECONNREFUSED after 1.5ms\n"
        "connect 192.0.2.2 ok after 0\n"
        "connect 192.0.2.3 hang\r\n"  // CRLF is fine
        "cancel at 2s\n");
    const ConnectRule& r1 = s.connects.at(ep("192.0.2.1", 443));
    EXPECT_EQ(r1.kind, ConnectRule::Kind::error);
    EXPECT_EQ(r1.code, ECONNREFUSED);
    EXPECT_EQ(r1.after, Duration(1500us));
    EXPECT_EQ(r1.line, 2);
    EXPECT_EQ(s.connects.at(ep("192.0.2.2", 443)).kind, ConnectRule::Kind::ok);
    EXPECT_EQ(s.connects.at(ep("192.0.2.3", 443)).kind, ConnectRule::Kind::hang);
    EXPECT_EQ(s.events.at(0).at, Duration(2s));

    const std::string a = "addresses 192.0.2.1\n";
    EXPECT_EQ(error_line(a + "connect 192.0.2.1 ok\n"), 2);
    EXPECT_EQ(error_line(a + "connect 192.0.2.1 ok after\n"), 2);
    EXPECT_EQ(error_line(a + "connect 192.0.2.1 hang now\n"), 2);
    EXPECT_EQ(error_line(a + "connect 192.0.2.1 error after 1ms\n"), 2);
    EXPECT_EQ(error_line(a + "connect 192.0.2.1 error ECONNREFUSED\n"), 2);
    EXPECT_EQ(error_line(a + "open 192.0.2.1 error\n"), 2);
    EXPECT_EQ(error_line(a + "open 192.0.2.1 fail EMFILE\n"), 2);
    EXPECT_EQ(error_line(a + "bind 192.0.2.1 error Eaddrinuse\n"), 2);
    EXPECT_EQ(error_line(a + "cancel 5ms\n"), 2);
    EXPECT_EQ(error_line(a + "cancel at 5\n"), 2);
    EXPECT_EQ(error_line(a + "local\n"), 2);
    EXPECT_EQ(error_line(a + "local 192.0.2.300\n"), 2);
    EXPECT_EQ(error_line(a + "port 0\n"), 2);
    EXPECT_EQ(error_line(a + "port 65536\n"), 2);
    EXPECT_EQ(error_line(a + "port 80 81\n"), 2);
    EXPECT_EQ(error_line("addresses\n"), 1);
    EXPECT_EQ(error_line("addresses 192.0.2.1 nope\n"), 1);
    EXPECT_EQ(error_line("Addresses 192.0.2.1\n"), 1);  // directives are lower case
}

TEST(ParseScenario, ErrnoNamesIncludeAliases) {
    Scenario s = parse_ok("addresses 192.0.2.1\nopen 192.0.2.1 error EWOULDBLOCK\n");
    EXPECT_EQ(s.open_errors.at(ep("192.0.2.1", 443)), EWOULDBLOCK);
}

}  // namespace
}  // namespace eyeballs::sim
