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
#include <utility>
#include <vector>

#ifdef EYEBALLS_TEST_HAVE_STANDALONE_ASIO
#include <asio.hpp>

#include "eyeballs/asio.hpp"
#endif
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/beast.hpp"
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
using eyeballs::test::DnsServer;
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
/// request, answers 200 with a text body naming the target (and an Alt-Svc
/// field line per element of `alt_svc`), closes.
net::awaitable<void> serve_one(tcp::acceptor& acceptor, Seen& seen,
                               std::vector<std::string> alt_svc) {
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
    for (const std::string& value : alt_svc) response.insert(http::field::alt_svc, value);
    response.body() = "hello from 127.0.0.1, you asked for " + seen.target + "\n";
    response.keep_alive(false);
    response.prepare_payload();
    co_await http::async_write(stream, response, net::use_awaitable);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

/// GETs `target` over a connected socket, wrapped in a tcp_stream.
net::awaitable<http::response<http::string_body>> get_page(tcp::socket socket, std::string host,
                                                           std::string target) {
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

/// The client: races, wraps the winner in a tcp_stream, GETs `target`.
net::awaitable<http::response<http::string_body>> fetch(std::vector<Endpoint> endpoints,
                                                        adapter::connect_options options,
                                                        std::string host, std::string target) {
    auto ex = co_await net::this_coro::executor;
    tcp::socket socket =
        co_await adapter::async_connect(ex, endpoints, options, net::use_awaitable);
    co_return co_await get_page(std::move(socket), std::move(host), std::move(target));
}

/// The same for a host name: DNS (options.dns_server), then the race.
net::awaitable<http::response<http::string_body>> fetch_name(std::string name, std::uint16_t port,
                                                             adapter::connect_options options,
                                                             std::string target) {
    auto ex = co_await net::this_coro::executor;
    tcp::socket socket =
        co_await adapter::async_connect(ex, name, port, options, net::use_awaitable);
    co_return co_await get_page(std::move(socket), name + ":" + std::to_string(port),
                           std::move(target));
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
    net::co_spawn(io, serve_one(acceptor, seen, {}),
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

// ---- Alt-Svc from Beast responses (eyeballs/beast.hpp; RFC 7838 §3) -------

using eyeballs::AltSvcCache;
using eyeballs::AltSvcOrigin;
using adapter::alt_svc_update;
using adapter::store_alt_svc;

// Responses (headers, messages) and bare fields are taken; requests are not.
template <class M, class = void>
struct can_store : std::false_type {};
template <class M>
struct can_store<M, std::void_t<decltype(store_alt_svc(std::declval<AltSvcCache&>(),
                                                       std::declval<const AltSvcOrigin&>(),
                                                       std::declval<const M&>()))>>
    : std::true_type {};
static_assert(can_store<http::response<http::string_body>>::value);
static_assert(can_store<http::response_header<>>::value);
static_assert(can_store<http::fields>::value);
static_assert(!can_store<http::request<http::empty_body>>::value,
              "a request's Alt-Svc is not the server's word");

class BeastAltSvc : public eyeballs::test::FdLeakTest {};

/// One exchange against a loopback Beast server: the server on `acceptor`
/// answers with `alt_svc` lines; the client resolves origin.test by `dns`
/// and races with `options`.
struct Exchange {
    Seen seen;
    std::optional<http::response<http::string_body>> response;
    std::exception_ptr client_error;
    std::exception_ptr server_error;
    Race race;
};

void exchange(net::io_context& io, tcp::acceptor& acceptor, std::vector<std::string> alt_svc,
              const DnsServer& dns, std::uint16_t origin_port, eyeballs::Config config,
              Exchange& x) {
    net::co_spawn(io, serve_one(acceptor, x.seen, std::move(alt_svc)),
                  [&x](std::exception_ptr e) { x.server_error = e; });
    auto options = x.race.options(std::move(config));
    options.dns_server = net::ip::udp::endpoint(adapter::to_asio_address(dns.endpoint()),
                                                dns.endpoint().port());
    net::co_spawn(io, fetch_name("origin.test", origin_port, options, "/"),
                  [&x, &acceptor](std::exception_ptr e, http::response<http::string_body> res) {
                      x.client_error = e;
                      if (!e) x.response = std::move(res);
                      // A server still waiting was not reached: stop it.
                      error_code ignored;
                      acceptor.cancel(ignored);
                  });
    io.restart();
    io.run();
}

/// True when a connection waits on `acceptor` (it was not accepted).
bool has_pending(tcp::acceptor& acceptor) {
    acceptor.non_blocking(true);
    error_code ec;
    tcp::socket s = acceptor.accept(ec);
    return !ec;
}

// The loop a Beast client runs: race the origin, read the response, store
// its Alt-Svc; race again with the cache's alternatives. Two listeners on
// 127.0.0.1: P1, the origin's port, answers `Alt-Svc: h2=":P2"`; the second
// race goes to P2's listener (the alternative, ranked before the origin's
// own address), whose answer `Alt-Svc: clear` empties the cache, and the
// third race is back on P1.
TEST_F(BeastAltSvc, AResponsesAltSvcSendsTheNextRaceToTheAlternative) {
    net::io_context io;
    tcp::acceptor origin(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    tcp::acceptor alternative(io, tcp::endpoint(net::ip::address_v4::loopback(), 0));
    const std::uint16_t p1 = origin.local_endpoint().port();
    const std::uint16_t p2 = alternative.local_endpoint().port();
    DnsServer dns;
    dns.set("origin.test", eyeballs::Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set("origin.test", eyeballs::Family::v6, DnsServer::Answer::nodata());
    dns.set_https("_" + std::to_string(p1) + "._https.origin.test",  // RFC 9460 §9.1
                  DnsServer::Answer::nodata());
    AltSvcCache cache;
    const AltSvcOrigin key{"http", "origin.test", p1};
    eyeballs::Config config;
    config.https = true;  // Config::alt_svc needs it
    config.overall_timeout = std::chrono::seconds(10);  // never hang

    // 1: nothing cached: the origin's own address, P1.
    Exchange first;
    exchange(io, origin, {"h2=\":" + std::to_string(p2) + "\"; ma=600"}, dns, p1, config, first);
    ASSERT_FALSE(first.client_error) << first.race.report->message;
    ASSERT_FALSE(first.server_error);
    ASSERT_TRUE(first.response && first.seen.client);
    EXPECT_EQ(first.race.report->remote, loopback_v4(p1));
    const alt_svc_update stored = store_alt_svc(cache, key, *first.response);
    EXPECT_EQ(stored.result, alt_svc_update::status::stored) << stored.error;
    EXPECT_EQ(stored.fields, 1u);
    ASSERT_EQ(stored.value.alternatives.size(), 1u);
    EXPECT_EQ(stored.value.alternatives[0].port, p2);
    auto alternatives = cache.lookup(key, Clock::now());
    ASSERT_EQ(alternatives.size(), 1u);
    EXPECT_EQ(alternatives[0].alpn, "h2");
    EXPECT_EQ(alternatives[0].host, "");
    EXPECT_EQ(alternatives[0].port, p2);

    // 2: the alternative first: P2's listener accepts, P1's sees nothing.
    Exchange second;
    config.alt_svc = alternatives;
    exchange(io, alternative, {"clear"}, dns, p1, config, second);
    ASSERT_FALSE(second.client_error) << second.race.report->message;
    ASSERT_FALSE(second.server_error);
    ASSERT_TRUE(second.response);
    ASSERT_TRUE(second.seen.client) << "P2's listener accepted the connection";
    const eyeballs::RaceReport& report = *second.race.report;
    EXPECT_EQ(report.remote, loopback_v4(p2));
    EXPECT_EQ(report.source, eyeballs::ServiceSource::alt_svc);
    ASSERT_FALSE(report.attempts.empty());
    EXPECT_EQ(report.attempts[0].remote, loopback_v4(p2)) << "the first attempt is the alternative";
    EXPECT_FALSE(has_pending(origin)) << "nothing reached the origin's listener";
    // `clear` forgets the origin's alternatives.
    const alt_svc_update cleared = store_alt_svc(cache, key, *second.response);
    EXPECT_EQ(cleared.result, alt_svc_update::status::stored) << cleared.error;
    EXPECT_TRUE(cleared.value.clear);
    EXPECT_TRUE(cache.lookup(key, Clock::now()).empty());
    EXPECT_EQ(cache.size(), 0u);

    // 3: back to the origin, whose answer has no Alt-Svc: nothing changes.
    Exchange third;
    config.alt_svc = cache.lookup(key, Clock::now());
    exchange(io, origin, {}, dns, p1, config, third);
    ASSERT_FALSE(third.client_error) << third.race.report->message;
    ASSERT_TRUE(third.response && third.seen.client);
    EXPECT_EQ(third.race.report->remote, loopback_v4(p1));
    EXPECT_EQ(store_alt_svc(cache, key, *third.response).result, alt_svc_update::status::absent);
    EXPECT_EQ(cache.size(), 0u);
    EXPECT_FALSE(has_pending(alternative));
}

http::response<http::empty_body> response_with(std::vector<std::string> alt_svc) {
    http::response<http::empty_body> res{http::status::ok, 11};
    for (const std::string& value : alt_svc) res.insert(http::field::alt_svc, value);
    return res;
}

// RFC 7838 §3 on the header's side: several field lines make one value; a
// value that does not parse (a bad port, `clear` beside alternatives, only
// empty lines) leaves the cache as it was and says why; no field changes
// nothing; the Age field moves the freshness back (§3.1).
TEST(BeastAltSvcFields, CombinedInvalidAbsentAndAged) {
    AltSvcCache cache;
    const AltSvcOrigin key{"https", "example.test", 443};
    const auto t0 = Clock::now();
    const auto two = store_alt_svc(
        cache, key, response_with({"h3=\":443\"", "h2=\"alt.example.test:8443\"; ma=60"}), t0);
    ASSERT_EQ(two.result, alt_svc_update::status::stored) << two.error;
    EXPECT_TRUE(two);
    EXPECT_EQ(two.fields, 2u);
    const auto before = cache.lookup(key, t0);
    ASSERT_EQ(before.size(), 2u);
    EXPECT_EQ(before[0].alpn, "h3");
    EXPECT_EQ(before[1].host, "alt.example.test");
    EXPECT_EQ(before[1].port, 8443);

    for (const auto& lines : std::vector<std::vector<std::string>>{
             {"h2=\":70000\""}, {"clear", "h2=\":8443\""}, {"h2=:8443"}, {"", " "}}) {
        const auto bad = store_alt_svc(cache, key, response_with(lines), t0);
        EXPECT_EQ(bad.result, alt_svc_update::status::invalid) << lines.front();
        EXPECT_FALSE(bad);
        EXPECT_FALSE(bad.error.empty());
        EXPECT_EQ(bad.fields, lines.size());
        EXPECT_EQ(cache.lookup(key, t0), before) << "an invalid value touches nothing";
    }
    EXPECT_NE(store_alt_svc(cache, key, response_with({"h2=\":70000\""}), t0).error.find("70000"),
              std::string::npos);

    const auto none = store_alt_svc(cache, key, response_with({}), t0);
    EXPECT_EQ(none.result, alt_svc_update::status::absent);
    EXPECT_EQ(none.fields, 0u);
    EXPECT_EQ(cache.lookup(key, t0), before);

    // Bare fields work too; `Age: 60` with `ma=100`: fresh for 40 s more.
    http::fields aged;
    aged.insert(http::field::alt_svc, "h2=\":8443\"; ma=100");
    aged.insert(http::field::age, "60");
    ASSERT_EQ(store_alt_svc(cache, key, aged, t0).result, alt_svc_update::status::stored);
    EXPECT_EQ(cache.lookup(key, t0 + std::chrono::seconds(39)).size(), 1u);
    EXPECT_TRUE(cache.lookup(key, t0 + std::chrono::seconds(40)).empty());
    // An invalid Age counts as 0.
    aged.set(http::field::age, "soon");
    ASSERT_EQ(store_alt_svc(cache, key, aged, t0).result, alt_svc_update::status::stored);
    EXPECT_EQ(cache.lookup(key, t0 + std::chrono::seconds(99)).size(), 1u);
}

}  // namespace
