// SPDX-License-Identifier: BSL-1.0
// beast_get — an HTTP/1.1 GET with Boost.Beast over a connection raced the
// Happy Eyeballs way by eyeballs::boost_asio::async_connect (C++17).
//
//   beast_get HOST PORT [TARGET]              resolve HOST (AAAA and A), race
//   beast_get ADDR,ADDR[,...] PORT [TARGET]   race these addresses, no DNS
//
// Prints the race as it happens on stderr; on stdout the winner, then the
// response's status line and body:
//
//   $ beast_get ::1,127.0.0.1 8080 /      # [::1]:8080 blackholed
//   connected to 127.0.0.1:8080 (IPv4) after 251.2 ms, attempt 2 of 2
//   HTTP/1.1 200 OK
//   ...
//
// The raced socket is an ordinary boost::asio::ip::tcp::socket: it becomes a
// boost::beast::tcp_stream, and Beast does the rest.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "eyeballs/boost_asio.hpp"
#include "eyeballs/trace.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// "2001:db8::1,192.0.2.1" → endpoints; empty when TEXT is not such a list.
std::vector<eyeballs::Endpoint> address_list(std::string_view text, std::uint16_t port) {
    std::vector<eyeballs::Endpoint> out;
    if (text.find(',') == std::string_view::npos) return out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        auto ep = eyeballs::Endpoint::parse(text.substr(0, comma), port);
        if (!ep) return {};
        out.push_back(*ep);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3 && argc != 4) {
        std::cerr << "usage: " << argv[0] << " HOST PORT [TARGET]\n       " << argv[0]
                  << " ADDR,ADDR[,...] PORT [TARGET]\n";
        return 2;
    }
    const long port_number = std::strtol(argv[2], nullptr, 10);
    if (port_number <= 0 || port_number > 65535) {
        std::cerr << argv[0] << ": bad port '" << argv[2] << "'\n";
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(port_number);
    const std::string target = argc == 4 ? argv[3] : "/";

    net::io_context io;

    eyeballs::boost_asio::connect_options options;
    options.config.overall_timeout = std::chrono::seconds(30);
    options.report = std::make_shared<eyeballs::RaceReport>();
    const auto origin = std::chrono::steady_clock::now();
    eyeballs::TraceWriter timeline(std::cerr, eyeballs::TraceWriter::Format::timeline, origin);
    options.on_action = [&timeline](eyeballs::TimePoint now, const eyeballs::Action& action,
                                    const eyeballs::RaceMachine& machine) {
        timeline.write(now, action, machine);
    };

    // The request: Host names the host as given (an address list: its first).
    const std::vector<eyeballs::Endpoint> addresses = address_list(argv[1], port);
    std::string host = argv[1];
    if (!addresses.empty()) host = addresses.front().to_string();  // "[::1]:P", "127.0.0.1:P"
    else if (port != 80) host += ":" + std::to_string(port);
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, host);
    request.set(http::field::user_agent, "eyeballs beast_get");

    std::optional<beast::tcp_stream> stream;
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    int status = 1;
    auto fail = [](const char* what, const beast::error_code& ec) {
        std::cerr << "failed to " << what << ": " << ec.message() << '\n';
    };

    auto on_read = [&](beast::error_code ec, std::size_t) {
        if (ec) return fail("read the response", ec);
        std::cout << "HTTP/" << response.version() / 10 << '.' << response.version() % 10 << ' '
                  << response.result_int() << ' ' << response.reason() << '\n'
                  << response.body();
        beast::error_code ignored;
        stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
        status = response.result() == http::status::ok ? 0 : 1;
    };
    auto on_write = [&](beast::error_code ec, std::size_t) {
        if (ec) return fail("send the request", ec);
        http::async_read(*stream, buffer, response, on_read);
    };
    auto on_connect = [&](boost::system::error_code ec, tcp::socket socket) {
        const eyeballs::RaceReport& report = *options.report;
        if (ec) {
            std::cerr << "failed to connect: " << ec.message() << " — " << report.message << '\n';
            return;
        }
        const std::chrono::duration<double, std::milli> took = report.finished - report.started;
        std::cout << "connected to " << socket.remote_endpoint() << " ("
                  << (socket.remote_endpoint().address().is_v6() ? "IPv6" : "IPv4") << ") after "
                  << took.count() << " ms, attempt " << report.winner.number() << " of "
                  << report.attempts.size() << std::endl;
        // The winner, connected and non-blocking, is all a tcp_stream needs.
        stream.emplace(std::move(socket));
        stream->expires_after(std::chrono::seconds(30));
        http::async_write(*stream, request, on_write);
    };

    if (!addresses.empty()) {
        eyeballs::boost_asio::async_connect(io.get_executor(), addresses, options, on_connect);
    } else {
        eyeballs::boost_asio::async_connect(io.get_executor(), argv[1], port, options, on_connect);
    }
    io.run();
    return status;
}
