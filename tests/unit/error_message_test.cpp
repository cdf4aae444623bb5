// SPDX-License-Identifier: BSL-1.0
// Error texts (docs/behaviour.md §3): the golden traces in shared/scenarios use them.
#include <gtest/gtest.h>

#include <cerrno>
#include <string>

#include "eyeballs/error.hpp"

namespace eyeballs {
namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text, 443); }

Error attempt_error(Stage stage, const char* remote, int code, std::string detail = {}) {
    Error e;
    e.stage = stage;
    e.attempt = 1;
    e.remote = ep(remote);
    e.code = code;
    e.detail = std::move(detail);
    return e;
}

Error resolve_error(Family f, int code, std::string detail = {}) {
    Error e;
    e.stage = Stage::resolve;
    e.family = f;
    e.code = code;
    e.detail = std::move(detail);
    return e;
}

TEST(StageName, AllStages) {
    EXPECT_STREQ(stage_name(Stage::resolve), "resolve");
    EXPECT_STREQ(stage_name(Stage::open), "open");
    EXPECT_STREQ(stage_name(Stage::bind), "bind");
    EXPECT_STREQ(stage_name(Stage::connect), "connect");
    EXPECT_STREQ(stage_name(Stage::timeout), "timeout");
}

TEST(ErrorMessage, ConnectAsInTheGoldenTraces) {
    EXPECT_EQ(attempt_error(Stage::connect, "198.51.100.40", EHOSTUNREACH).message(),
              "connect to 198.51.100.40:443: EHOSTUNREACH");
    EXPECT_EQ(attempt_error(Stage::connect, "2001:db8:1::40", ENETUNREACH).message(),
              "connect to [2001:db8:1::40]:443: ENETUNREACH");
    EXPECT_EQ(attempt_error(Stage::connect, "::192.0.2.1", ECONNREFUSED).message(),
              "connect to [::c000:201]:443: ECONNREFUSED");
}

TEST(ErrorMessage, ConnectWithDetail) {
    EXPECT_EQ(attempt_error(Stage::connect, "192.0.2.1", ECONNRESET, "by peer").message(),
              "connect to 192.0.2.1:443: ECONNRESET (by peer)");
}

TEST(ErrorMessage, BindAsInTheGoldenTraces) {
    Error e = attempt_error(Stage::bind, "198.51.100.70", EADDRINUSE);
    e.local = ep("198.51.100.170:0");
    EXPECT_EQ(e.message(), "bind to 198.51.100.170:0 for 198.51.100.70:443: EADDRINUSE");
    e.detail = "port taken";
    EXPECT_EQ(e.message(), "bind to 198.51.100.170:0 for 198.51.100.70:443: EADDRINUSE (port taken)");
}

TEST(ErrorMessage, NoLocalAddressOfTheFamily) {
    EXPECT_EQ(attempt_error(Stage::bind, "2001:db8::1", 0).message(),
              "no local address of family IPv6");
    EXPECT_EQ(attempt_error(Stage::bind, "192.0.2.1", 0).message(),
              "no local address of family IPv4");
    // IPv4-mapped counts as IPv6 (docs/behaviour.md §1 rule 1).
    EXPECT_EQ(attempt_error(Stage::bind, "::ffff:192.0.2.1", 0).message(),
              "no local address of family IPv6");
}

TEST(ErrorMessage, Open) {
    EXPECT_EQ(attempt_error(Stage::open, "192.0.2.1", EMFILE).message(),
              "open socket for 192.0.2.1:443: EMFILE");
    EXPECT_EQ(attempt_error(Stage::open, "2001:db8::1", EAFNOSUPPORT, "no IPv6").message(),
              "open socket for [2001:db8::1]:443: EAFNOSUPPORT (no IPv6)");
}

TEST(ErrorMessage, AttemptTimeout) {
    EXPECT_EQ(attempt_error(Stage::timeout, "2001:db8::1", ETIMEDOUT).message(),
              "connect to [2001:db8::1]:443 timed out: ETIMEDOUT");
    EXPECT_EQ(attempt_error(Stage::timeout, "192.0.2.1", ETIMEDOUT, "attempt timeout 300 ms")
                  .message(),
              "connect to 192.0.2.1:443 timed out: ETIMEDOUT (attempt timeout 300 ms)");
}

TEST(ErrorMessage, Resolve) {
    EXPECT_EQ(resolve_error(Family::v6, 0).message(), "resolve AAAA: no data");
    EXPECT_EQ(resolve_error(Family::v4, 0).message(), "resolve A: no data");
    EXPECT_EQ(resolve_error(Family::v4, ETIMEDOUT).message(), "resolve A: ETIMEDOUT");
    EXPECT_EQ(resolve_error(Family::v4, 0, "Domain name not found").message(),
              "resolve A: Domain name not found");
    EXPECT_EQ(resolve_error(Family::v6, ECONNREFUSED, "Could not contact DNS servers").message(),
              "resolve AAAA: Could not contact DNS servers (ECONNREFUSED)");
}

// Issue 14 item 6: one message per DNS class, the same whichever adapter
// resolved; the class's name in the JSON trace ("dns") and the C API.
TEST(ErrorMessage, DnsClasses) {
    auto classified = [](Family f, DnsError dns, int code, std::string detail) {
        Error e = resolve_error(f, code, std::move(detail));
        e.dns = dns;
        return e;
    };
    EXPECT_EQ(classified(Family::v6, DnsError::nodata, 0, "").message(), "resolve AAAA: no data");
    EXPECT_EQ(classified(Family::v6, DnsError::nxdomain, 0, "NXDOMAIN").message(),
              "resolve AAAA: no such name (NXDOMAIN)");
    EXPECT_EQ(classified(Family::v4, DnsError::server_failure, 0, "REFUSED").message(),
              "resolve A: server failure (REFUSED)");
    EXPECT_EQ(classified(Family::v4, DnsError::server_failure, 0, "SERVFAIL").message(),
              "resolve A: server failure (SERVFAIL)");
    EXPECT_EQ(classified(Family::v4, DnsError::timeout, ETIMEDOUT, "no answer within 5000 ms").message(),
              "resolve A: timed out (no answer within 5000 ms)");
    EXPECT_EQ(classified(Family::v4, DnsError::malformed, 0, "A record of 16 octets").message(),
              "resolve A: malformed answer: A record of 16 octets");
    EXPECT_EQ(classified(Family::v4, DnsError::truncated, 0, "").message(),
              "resolve A: truncated answer");
    // No class: the texts of before (the golden traces).
    EXPECT_EQ(resolve_error(Family::v6, 0).message(), "resolve AAAA: no data");
    EXPECT_EQ(classified(Family::v6, DnsError::nxdomain, 0, "") ,
              classified(Family::v6, DnsError::nxdomain, 0, ""));
    EXPECT_NE(classified(Family::v6, DnsError::nxdomain, 0, ""),
              classified(Family::v6, DnsError::nodata, 0, ""));
    EXPECT_EQ(dns_error_name(DnsError::none), nullptr);
    EXPECT_STREQ(dns_error_name(DnsError::nxdomain), "NXDOMAIN");
    EXPECT_STREQ(dns_error_name(DnsError::nodata), "NODATA");
    EXPECT_STREQ(dns_error_name(DnsError::server_failure), "SERVFAIL");
    EXPECT_STREQ(dns_error_name(DnsError::timeout), "TIMEOUT");
    EXPECT_STREQ(dns_error_name(DnsError::malformed), "MALFORMED");
    EXPECT_STREQ(dns_error_name(DnsError::truncated), "TRUNCATED");
}

TEST(ErrorMessage, UnnamedCode) {
    EXPECT_EQ(attempt_error(Stage::connect, "192.0.2.1", 9999).message(),
              "connect to 192.0.2.1:443: errno 9999");
    EXPECT_EQ(resolve_error(Family::v6, -3).message(), "resolve AAAA: errno -3");
}

TEST(ErrorMessage, AliasesPrintCanonically) {
#if EWOULDBLOCK == EAGAIN
    EXPECT_EQ(attempt_error(Stage::connect, "192.0.2.1", EWOULDBLOCK).message(),
              "connect to 192.0.2.1:443: EAGAIN");
#else  // Windows' C runtime: two values, two names
    EXPECT_EQ(attempt_error(Stage::connect, "192.0.2.1", EWOULDBLOCK).message(),
              "connect to 192.0.2.1:443: EWOULDBLOCK");
#endif
}

TEST(ErrorEquality, ComparesEveryField) {
    const Error a = attempt_error(Stage::connect, "192.0.2.1", ECONNREFUSED);
    Error b = a;
    EXPECT_EQ(a, b);
    b.detail = "x";
    EXPECT_NE(a, b);
    b = a;
    b.attempt = 2;
    EXPECT_NE(a, b);
    b = a;
    b.stage = Stage::timeout;
    EXPECT_NE(a, b);
}

TEST(Status, SuccessAndFailure) {
    const Status ok = Status::success();
    EXPECT_TRUE(ok.ok());
    EXPECT_TRUE(static_cast<bool>(ok));
    EXPECT_TRUE(ok.message().empty());
    const Status bad = Status::failure("empty address list");
    EXPECT_FALSE(bad.ok());
    EXPECT_FALSE(static_cast<bool>(bad));
    EXPECT_EQ(bad.message(), "empty address list");
}

}  // namespace
}  // namespace eyeballs
