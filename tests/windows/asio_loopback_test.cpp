// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio on Windows (built by the mingw preset, run under Wine): a race
// on loopback connects, and a refused connection is reported as ECONNREFUSED
// (the <errno.h> value, mapped from WSAECONNREFUSED) and completes with
// asio::error::connection_refused.
#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "eyeballs/asio.hpp"
#include "eyeballs/error.hpp"

namespace {

using tcp = ::asio::ip::tcp;

struct Result {
    std::error_code ec;
    std::optional<tcp::socket> socket;
    std::shared_ptr<eyeballs::RaceReport> report = std::make_shared<eyeballs::RaceReport>();
    int calls = 0;
};

void race(::asio::io_context& io, std::uint16_t port, Result& r) {
    eyeballs::asio::connect_options o;
    o.report = r.report;
    const std::vector<eyeballs::Endpoint> eps{eyeballs::Endpoint::v4({127, 0, 0, 1}, port)};
    eyeballs::asio::async_connect(io.get_executor(), eps, o,
                                  [&r](std::error_code ec, tcp::socket s) {
                                      ++r.calls;
                                      r.ec = ec;
                                      r.socket.emplace(std::move(s));
                                  });
    io.run_for(std::chrono::seconds(20));
}

TEST(AsioWindows, ConnectsOnLoopback) {
    ::asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(::asio::ip::make_address_v4("127.0.0.1"), 0));
    Result r;
    race(io, acceptor.local_endpoint().port(), r);
    ASSERT_EQ(r.calls, 1);
    ASSERT_FALSE(r.ec) << r.ec.message() << " " << r.report->message;
    ASSERT_TRUE(r.socket && r.socket->is_open());
    EXPECT_EQ(r.report->outcome, eyeballs::Outcome::connected);
    EXPECT_EQ(r.socket->remote_endpoint().port(), acceptor.local_endpoint().port());
}

TEST(AsioWindows, RefusedIsNamedAndMapped) {
    ::asio::io_context io;
    std::uint16_t port = 0;
    {
        tcp::acceptor closed(io, tcp::endpoint(::asio::ip::make_address_v4("127.0.0.1"), 0));
        port = closed.local_endpoint().port();
    }  // nothing listens there now
    Result r;
    race(io, port, r);
    ASSERT_EQ(r.calls, 1);
    EXPECT_EQ(r.ec, ::asio::error::connection_refused) << r.ec.message();
    EXPECT_EQ(r.report->outcome, eyeballs::Outcome::failed);
    EXPECT_EQ(r.report->code, ECONNREFUSED);
    ASSERT_EQ(r.report->errors.size(), 1u);
    EXPECT_STREQ(eyeballs::errno_name(r.report->errors[0].code), "ECONNREFUSED");
    EXPECT_NE(r.report->message.find("ECONNREFUSED"), std::string::npos) << r.report->message;
}

TEST(AsioWindows, MappingBothWays) {
    using eyeballs::asio::detail::errno_from_native;
    using eyeballs::asio::detail::native_from_errno;
#ifdef _WIN32
    EXPECT_EQ(errno_from_native(WSAECONNREFUSED), ECONNREFUSED);
    EXPECT_EQ(errno_from_native(WSAETIMEDOUT), ETIMEDOUT);
    EXPECT_EQ(errno_from_native(WSAENETUNREACH), ENETUNREACH);
    EXPECT_EQ(native_from_errno(ECONNREFUSED), WSAECONNREFUSED);
    EXPECT_EQ(errno_from_native(WSAEDISCON), WSAEDISCON);  // no counterpart: kept
    EXPECT_STREQ(eyeballs::errno_name(WSAEDISCON), "WSAEDISCON");
#endif
    EXPECT_EQ(native_from_errno(errno_from_native(::asio::error::timed_out)),
              static_cast<int>(::asio::error::timed_out));
}

}  // namespace
