// SPDX-License-Identifier: BSL-1.0
// Configuration rules (RFC 8305 §3, §4, §5 bounds) and the millisecond text.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "eyeballs/config.hpp"

namespace eyeballs {
namespace {

using namespace std::chrono_literals;

std::string invalid(const Config& c) {
    auto msg = validate(c);
    EXPECT_TRUE(msg.has_value());
    return msg.value_or("<valid>");
}

TEST(Config, DefaultsAreRfc8305sAndValid) {
    const Config c;
    EXPECT_EQ(validate(c), std::nullopt);
    EXPECT_EQ(c.attempt_delay, Duration(250ms));      // §5 "recommended value of 250 milliseconds"
    EXPECT_EQ(c.resolution_delay, Duration(50ms));    // §3 "recommended ... 50 milliseconds"
    EXPECT_EQ(c.family_count, 1u);                    // §4 "First Address Family Count" of 1
    EXPECT_EQ(c.min_start_gap, Duration(10ms));       // §5 10 ms floor
    EXPECT_FALSE(c.attempt_timeout);
    EXPECT_FALSE(c.overall_timeout);
    EXPECT_TRUE(c.racing());
    EXPECT_TRUE(c.interleaving());
}

TEST(Config, SequentialInterleavesOffByDefault) {
    Config c;
    c.attempt_delay.reset();
    EXPECT_EQ(validate(c), std::nullopt);
    EXPECT_FALSE(c.racing());
    EXPECT_FALSE(c.interleaving());
    c.interleave = true;
    EXPECT_TRUE(c.interleaving());
}

// RFC 8305 §5: lower bound 10 ms (MUST), upper bound 2 s (SHOULD).
TEST(Config, AttemptDelayBounds) {
    Config c;
    c.attempt_delay = 10ms;
    EXPECT_EQ(validate(c), std::nullopt);
    c.attempt_delay = 2s;
    EXPECT_EQ(validate(c), std::nullopt);

    c.attempt_delay = 5ms;
    EXPECT_EQ(invalid(c), "attempt-delay 5 ms is outside 10 ms … 2 s (RFC 8305 §5)");
    c.attempt_delay = Duration(10ms) - 1ns;
    EXPECT_EQ(invalid(c), "attempt-delay 9.999999 ms is outside 10 ms … 2 s (RFC 8305 §5)");
    c.attempt_delay = Duration(2s) + 1ns;
    EXPECT_EQ(invalid(c), "attempt-delay 2000.000001 ms is outside 10 ms … 2 s (RFC 8305 §5)");
    c.attempt_delay = 0ms;
    EXPECT_EQ(invalid(c), "attempt-delay 0 ms is outside 10 ms … 2 s (RFC 8305 §5)");
    c.attempt_delay = -250ms;
    EXPECT_EQ(invalid(c), "attempt-delay -250 ms is outside 10 ms … 2 s (RFC 8305 §5)");
}

TEST(Config, AttemptDelayMessageWritesBothBoundsWithUnits) {
    Config c;
    c.attempt_delay = 3s;
    const std::string m = invalid(c);
    EXPECT_NE(m.find("10 ms"), std::string::npos) << m;
    EXPECT_NE(m.find("2 s"), std::string::npos) << m;
    EXPECT_EQ(m.rfind("attempt-delay 3000 ms", 0), 0u) << m;
}

// RFC 8305 §3: Resolution Delay, 0 … 2 s here.
TEST(Config, ResolutionDelayBounds) {
    Config c;
    c.resolution_delay = 0ms;
    EXPECT_EQ(validate(c), std::nullopt);
    c.resolution_delay = 2s;
    EXPECT_EQ(validate(c), std::nullopt);
    c.resolution_delay = 3000ms;
    EXPECT_EQ(invalid(c), "resolution-delay 3000 ms is outside 0 ms … 2 s (RFC 8305 §3)");
    c.resolution_delay = -1ms;
    EXPECT_EQ(invalid(c), "resolution-delay -1 ms is outside 0 ms … 2 s (RFC 8305 §3)");
    c.resolution_delay = -1ns;
    EXPECT_EQ(invalid(c), "resolution-delay -0.000001 ms is outside 0 ms … 2 s (RFC 8305 §3)");
}

TEST(Config, FamilyCountAtLeastOne) {
    Config c;
    c.family_count = 0;
    EXPECT_EQ(invalid(c), "family-count 0 must be at least 1 (RFC 8305 §4)");
    c.family_count = 2;
    EXPECT_EQ(validate(c), std::nullopt);
    c.family_count = UINT32_MAX;
    EXPECT_EQ(validate(c), std::nullopt);
}

TEST(Config, TimeoutsMustBePositive) {
    Config c;
    c.attempt_timeout = 0ms;
    EXPECT_EQ(invalid(c), "attempt-timeout 0 ms must be greater than 0 ms");
    c.attempt_timeout = -5ms;
    EXPECT_EQ(invalid(c), "attempt-timeout -5 ms must be greater than 0 ms");
    c.attempt_timeout = 1ns;
    EXPECT_EQ(validate(c), std::nullopt);

    c.overall_timeout = 0ms;
    EXPECT_EQ(invalid(c), "overall-timeout 0 ms must be greater than 0 ms");
    c.overall_timeout = -1s;
    EXPECT_EQ(invalid(c), "overall-timeout -1000 ms must be greater than 0 ms");
    c.overall_timeout = 700ms;
    EXPECT_EQ(validate(c), std::nullopt);
}

TEST(Config, MinStartGapBounds) {
    Config c;
    c.min_start_gap = 0ms;  // departs from RFC 8305 §5, but accepted
    EXPECT_EQ(validate(c), std::nullopt);
    c.min_start_gap = 100ms;
    EXPECT_EQ(validate(c), std::nullopt);
    c.min_start_gap = 101ms;
    EXPECT_EQ(invalid(c), "min-start-gap 101 ms is outside 0 ms … 100 ms");
    c.min_start_gap = -1ms;
    EXPECT_EQ(invalid(c), "min-start-gap -1 ms is outside 0 ms … 100 ms");
}

TEST(Config, LocalCandidatesAnyPort) {
    Config c;
    c.local.push_back(*Endpoint::parse("192.0.2.9:0", 0));
    c.local.push_back(*Endpoint::parse("[2001:db8::9]:5000", 0));
    EXPECT_EQ(validate(c), std::nullopt);
}

TEST(Config, FirstBrokenRuleIsNamed) {
    Config c;
    c.attempt_delay = 1ms;
    c.family_count = 0;
    EXPECT_EQ(invalid(c).rfind("attempt-delay", 0), 0u);
}

TEST(Config, TcpAlpnRules) {
    Config c;
    // Empty by default (no allocation when a race copies its Config), which
    // means default_tcp_alpn(): one list, the same object every call.
    EXPECT_TRUE(c.tcp_alpn.empty());
    EXPECT_EQ(validate(c), std::nullopt);
    EXPECT_EQ(default_tcp_alpn(), (std::vector<std::string>{"h2", "http/1.1"}));
    EXPECT_EQ(&default_tcp_alpn(), &default_tcp_alpn());
    c.tcp_alpn = {"http/1.1", "h2c-unusual"};
    EXPECT_EQ(validate(c), std::nullopt);
    c.tcp_alpn = {"h2", ""};
    EXPECT_NE(invalid(c).find("alpn id 2 has 0 bytes; an ALPN id has 1-255"), std::string::npos);
    c.tcp_alpn = {std::string(256, 'x')};
    EXPECT_NE(invalid(c).find("alpn id 1 has 256 bytes"), std::string::npos);
    c.tcp_alpn = {std::string(255, 'x')};
    EXPECT_EQ(validate(c), std::nullopt);
    for (const char* h3 : {"h3", "h3-29"}) {
        c.tcp_alpn = {"h2", h3};
        const std::string m = invalid(c);
        EXPECT_NE(m.find(std::string("alpn id 2 \"") + h3 + "\" is HTTP/3, which runs over QUIC"),
                  std::string::npos)
            << m;
    }
    c.tcp_alpn.assign(max_tcp_alpn, "h2");
    EXPECT_EQ(validate(c), std::nullopt);
    c.tcp_alpn.push_back("h2");
    EXPECT_NE(invalid(c).find("alpn has 33 ids; at most 32"), std::string::npos);
}

TEST(FormatMs, ExactMilliseconds) {
    EXPECT_EQ(format_ms(250ms), "250");
    EXPECT_EQ(format_ms(500us), "0.5");
    EXPECT_EQ(format_ms(1500ms), "1500");
    EXPECT_EQ(format_ms(1ns), "0.000001");
    EXPECT_EQ(format_ms(0ns), "0");
    EXPECT_EQ(format_ms(10ms), "10");
    EXPECT_EQ(format_ms(Duration(1ms) + 250us), "1.25");
    EXPECT_EQ(format_ms(Duration(2s) + 100ns), "2000.0001");
    EXPECT_EQ(format_ms(123456789ns), "123.456789");
    EXPECT_EQ(format_ms(-1500us), "-1.5");
    EXPECT_EQ(format_ms(-1ns), "-0.000001");
    EXPECT_EQ(format_ms(-250ms), "-250");
    EXPECT_EQ(format_ms(Duration::max()), "9223372036854.775807");
    EXPECT_EQ(format_ms(Duration::min()), "-9223372036854.775808");
}

}  // namespace
}  // namespace eyeballs
