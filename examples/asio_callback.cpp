// SPDX-License-Identifier: BSL-1.0
// asio_callback — Happy Eyeballs with eyeballs::asio::async_connect and a plain
// callback (C++17).
//
//   asio_callback HOST PORT              resolve HOST (AAAA and A) and race
//   asio_callback ADDR,ADDR[,...] PORT   race these addresses, no DNS
//
// Prints the race as it happens on stderr and the winner on stdout:
//
//   $ asio_callback ::1,127.0.0.1 8080     # [::1]:8080 blackholed
//   ...
//   connected to 127.0.0.1:8080 (IPv4) after 251.2 ms, attempt 2 of 2
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "eyeballs/asio.hpp"
#include "eyeballs/trace.hpp"

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
    if (argc != 3) {
        std::cerr << "usage: " << argv[0] << " HOST PORT\n       " << argv[0]
                  << " ADDR,ADDR[,...] PORT\n";
        return 2;
    }
    const long port_number = std::strtol(argv[2], nullptr, 10);
    if (port_number <= 0 || port_number > 65535) {
        std::cerr << argv[0] << ": bad port '" << argv[2] << "'\n";
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(port_number);

    asio::io_context io;

    eyeballs::asio::connect_options options;
    options.report = std::make_shared<eyeballs::RaceReport>();
    const auto origin = std::chrono::steady_clock::now();
    eyeballs::TraceWriter timeline(std::cerr, eyeballs::TraceWriter::Format::timeline, origin);
    options.on_action = [&timeline](eyeballs::TimePoint now, const eyeballs::Action& action,
                                    const eyeballs::RaceMachine& machine) {
        timeline.write(now, action, machine);
    };

    int status = 1;
    auto on_connect = [&](std::error_code ec, asio::ip::tcp::socket socket) {
        const eyeballs::RaceReport& report = *options.report;
        if (ec) {
            std::cerr << "failed: " << ec.message() << " — " << report.message << '\n';
            return;
        }
        const std::chrono::duration<double, std::milli> took = report.finished - report.started;
        std::cout << "connected to " << socket.remote_endpoint() << " ("
                  << (socket.remote_endpoint().address().is_v6() ? "IPv6" : "IPv4") << ") after "
                  << took.count() << " ms, attempt " << report.winner.number() << " of "
                  << report.attempts.size() << '\n';
        status = 0;
    };

    const std::vector<eyeballs::Endpoint> addresses = address_list(argv[1], port);
    if (!addresses.empty()) {
        eyeballs::asio::async_connect(io.get_executor(), addresses, options, on_connect);
    } else {
        eyeballs::asio::async_connect(io.get_executor(), argv[1], port, options, on_connect);
    }
    io.run();
    return status;
}
