// SPDX-License-Identifier: BSL-1.0
// Issue 15 item 2, done when "a Beast program includes both headers and
// fetches a page over the raced socket": eyeballs::boost_asio::async_connect
// races a dual-stack loopback server whose IPv6 side is blackholed, the
// winning socket becomes a boost::beast::tcp_stream, and an HTTP/1.1 GET is
// written and its response read over it. The server is a tiny Beast server on
// 127.0.0.1 on the same io_context; [::1] on the same port drops every SYN.
//
// This translation unit includes the standalone adapter and the Boost one
// together (the point: with Boost 1.74 <boost/beast/core.hpp> could
// not even be included beside <eyeballs/asio.hpp>), and when standalone Asio
// is there races once with each.
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#ifdef EYEBALLS_TEST_HAVE_STANDALONE_ASIO
#include <asio.hpp>

#include "eyeballs/asio.hpp"
#endif
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "eyeballs/boost_asio.hpp"
// asio_common.hpp: `adapter` = eyeballs::boost_asio, `net` = boost::asio here.
#include "asio_common.hpp"

namespace {

using namespace asio_test;
namespace beast = boost::beast;
namespace http = beast::http;
using eyeballs::Outcome;
using eyeballs::test::Blackhole;
using eyeballs::test::bind_loopback_pair;
using eyeballs::test::Fd;
using eyeballs::test::Listener;
using eyeballs::test::loopback_v4;
using eyeballs::test::loopback_v6;
using eyeballs::test::RefusedPort;

static_assert(std::is_same_v<adapter::error_code, boost::system::error_code>,
              "beast_test.cpp is compiled for the Boost flavour");

class Beast : public eyeballs::test::FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (!eyeballs::test::ipv6_loopback_available()) {
            GTEST_SKIP() << "needs [::1]: IPv6 loopback is disabled here";
        }
    }
};

/// What the server saw of the one request it answers.
struct Seen {
    std::string method;
    std::string target;
    std::string host;
    unsigned version = 0;
    std::optional<tcp::endpoint> client;
};

/// A tiny HTTP/1.1 server: accepts one connection on `acceptor`, reads one
/// request, answers 200 with a text body naming the target, closes.
net::awaitable<void> serve_one(tcp::acceptor& acceptor, Seen& seen) {
    tcp::socket peer = co_await acceptor.async_accept(net::use_awaitable);
    seen.client = peer.remote_endpoint();
    beast::tcp_stream stream(std::move(peer));
    stream.expires_after(std::chrono::seconds(10));
    beast::flat_buffer buffer;
    http::request<http::string_body> request;
    co_await http::async_read(stream, buffer, request, net::use_awaitable);
    seen.method = std::string(request.method_string());
    seen.target = std::string(request.target());
    seen.host = std::string(request[http::field::host]);
    seen.version = request.version();
    http::response<http::string_body> response{http::status::ok, request.version()};
    response.set(http::field::server, "eyeballs-beast-test");
    response.set(http::field::content_type, "text/plain");
    response.body() = "hello from 127.0.0.1, you asked for " + seen.target + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(stream, response, net::use_awaitable);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

/// The client: races, wraps the winner in a tcp_stream, GETs `target`.
net::awaitable<http::response<http::string_body>> fetch(std::vector<Endpoint> endpoints,
                                                        adapter::connect_options options,
                                                        std::string host, std::string target) {
    auto ex = co_await net::this_coro::executor;
    tcp::socket socket =
        co_await adapter::async_connect(ex, endpoints, options, net::use_awaitable);
    beast::tcp_stream stream(std::move(socket));
    stream.expires_after(std::chrono::seconds(10));
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    request.set(http::field::user_agent, "eyeballs beast_test");
    co_await http::async_write(stream, request, net::use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, net::use_awaitable);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return response;
}

TEST_F(Beast, GetOverTheRacedSocketWithIpv6Blackholed) {
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    ASSERT_TRUE(hole.drops(std::chrono::milliseconds(100))) << "[::1] must drop SYNs";

    net::io_context io;
    // The IPv4 side of the dual-stack server: the bound 127.0.0.1:P socket,
    // listening, owned by a Beast/Asio acceptor.
    Fd v4 = std::move(pair.v4);
    ASSERT_EQ(::listen(v4.get(), 16), 0);
    tcp::acceptor acceptor(io);
    acceptor.assign(tcp::v4(), v4.release());
    Seen seen;
    std::exception_ptr server_error;
    net::co_spawn(io, serve_one(acceptor, seen),
                  [&](std::exception_ptr e) { server_error = e; });

    Race r;  // the report and every action, with its time (asio_common.hpp)
    auto options = r.options();
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang
    const std::string host = "localhost:" + std::to_string(pair.port);
    std::optional<http::response<http::string_body>> response;
    std::exception_ptr client_error;
    net::co_spawn(io, fetch({loopback_v6(pair.port), loopback_v4(pair.port)}, options, host, "/page"),
                  [&](std::exception_ptr e, http::response<http::string_body> res) {
                      client_error = e;
                      if (!e) response = std::move(res);
                      error_code ignored;
                      acceptor.close(ignored);  // the server is done either way
                  });
    io.run();

    ASSERT_FALSE(client_error) << "the client failed; " << r.report->message;
    ASSERT_FALSE(server_error) << "the server failed";
    ASSERT_TRUE(response);
    EXPECT_EQ(response->result(), http::status::ok);
    EXPECT_EQ(response->version(), 11u);
    EXPECT_EQ(response->body(), "hello from 127.0.0.1, you asked for /page\n");
    EXPECT_EQ((*response)[http::field::server], "eyeballs-beast-test");
    EXPECT_EQ(seen.method, "GET");
    EXPECT_EQ(seen.target, "/page");
    EXPECT_EQ(seen.version, 11u);
    EXPECT_EQ(seen.host, host);

    // The race: IPv6 first, blackholed; IPv4 after the attempt delay wins.
    EXPECT_EQ(r.report->outcome, Outcome::connected);
    ASSERT_TRUE(r.report->remote);
    EXPECT_EQ(*r.report->remote, loopback_v4(pair.port));
    EXPECT_EQ(r.report->winner.number(), 2u);
    ASSERT_EQ(r.report->attempts.size(), 2u);
    EXPECT_TRUE(r.report->attempts[0].remote.is_v6());
    const auto t1 = r.rec.time_of<eyeballs::Connect>(1);
    const auto t2 = r.rec.time_of<eyeballs::Connect>(2);
    ASSERT_TRUE(t1 && t2);
    EXPECT_GE(ms(*t2 - *t1), 250.0) << "IPv4 must wait the Connection Attempt Delay";
    EXPECT_LT(ms(*t2 - *t1), 2250.0);
    ASSERT_TRUE(seen.client);
    EXPECT_TRUE(seen.client->address().is_v4()) << "the request came over IPv4";
    expect_clean_trace(r);
}

#ifdef EYEBALLS_TEST_HAVE_STANDALONE_ASIO
// Both adapters in one translation unit (and one program): each races the
// same blackholed/open pair, and each reports a refused port with its own
// Asio's error code.
TEST_F(Beast, BothFlavoursInOneTranslationUnit) {
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    const std::vector<Endpoint> endpoints{loopback_v6(pair.port), loopback_v4(pair.port)};
    RefusedPort refused(loopback_v4(0));
    const std::vector<Endpoint> refused_only{refused.endpoint()};

    ::asio::io_context standalone;
    auto standalone_report = std::make_shared<eyeballs::RaceReport>();
    eyeballs::asio::connect_options standalone_options;
    standalone_options.report = standalone_report;
    std::optional<::asio::ip::tcp::socket> standalone_socket;
    std::error_code standalone_ec = ::asio::error::would_block;
    std::error_code standalone_refused;
    eyeballs::asio::async_connect(standalone.get_executor(), endpoints, standalone_options,
                                  [&](std::error_code ec, ::asio::ip::tcp::socket s) {
                                      standalone_ec = ec;
                                      standalone_socket.emplace(std::move(s));
                                  });
    eyeballs::asio::async_connect(standalone.get_executor(), refused_only,
                                  [&](std::error_code ec, ::asio::ip::tcp::socket) {
                                      standalone_refused = ec;
                                  });

    boost::asio::io_context boost_io;
    auto boost_report = std::make_shared<eyeballs::RaceReport>();
    eyeballs::boost_asio::connect_options boost_options;
    boost_options.report = boost_report;
    std::optional<boost::asio::ip::tcp::socket> boost_socket;
    boost::system::error_code boost_ec = boost::asio::error::would_block;
    boost::system::error_code boost_refused;
    eyeballs::boost_asio::async_connect(
        boost_io.get_executor(), endpoints, boost_options,
        [&](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
            boost_ec = ec;
            boost_socket.emplace(std::move(s));
        });
    eyeballs::boost_asio::async_connect(
        boost_io.get_executor(), refused_only,
        [&](boost::system::error_code ec, boost::asio::ip::tcp::socket) { boost_refused = ec; });

    std::thread other([&] { standalone.run(); });
    boost_io.run();
    other.join();

    ASSERT_FALSE(standalone_ec) << standalone_ec.message();
    ASSERT_FALSE(boost_ec) << boost_ec.message();
    EXPECT_EQ(eyeballs::asio::from_asio(standalone_socket->remote_endpoint()),
              loopback_v4(pair.port));
    EXPECT_EQ(eyeballs::boost_asio::from_asio(boost_socket->remote_endpoint()),
              loopback_v4(pair.port));
    EXPECT_EQ(standalone_report->winner.number(), 2u);
    EXPECT_EQ(boost_report->winner.number(), 2u);
    EXPECT_EQ(standalone_refused, ::asio::error::connection_refused);
    EXPECT_EQ(boost_refused, boost::asio::error::connection_refused);
    EXPECT_EQ(boost_refused.value(), ECONNREFUSED);
    EXPECT_EQ(&boost_refused.category(), &boost::system::system_category());
    standalone_socket.reset();
    boost_socket.reset();
    open.accept_all();
}
#endif

}  // namespace
