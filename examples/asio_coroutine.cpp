// SPDX-License-Identifier: BSL-1.0
// asio_coroutine — Happy Eyeballs with eyeballs::asio::async_connect in a C++20
// coroutine (asio::use_awaitable), with an overall timeout.
//
//   asio_coroutine HOST PORT              resolve HOST (AAAA and A) and race
//   asio_coroutine ADDR,ADDR[,...] PORT   race these addresses, no DNS
//
//   $ asio_coroutine ::1,127.0.0.1 8080    # [::1]:8080 blackholed
//   connected to 127.0.0.1:8080 (IPv4) after 251.2 ms, attempt 2 of 2
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "eyeballs/asio.hpp"

namespace {

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

asio::awaitable<int> connect(std::string target, std::uint16_t port) {
    auto ex = co_await asio::this_coro::executor;

    eyeballs::asio::connect_options options;
    options.config.overall_timeout = std::chrono::seconds(10);
    options.report = std::make_shared<eyeballs::RaceReport>();

    try {
        const std::vector<eyeballs::Endpoint> addresses = address_list(target, port);
        asio::ip::tcp::socket socket(ex);
        if (addresses.empty()) {
            socket = co_await eyeballs::asio::async_connect(ex, target, port, options,
                                                            asio::use_awaitable);
        } else {
            socket = co_await eyeballs::asio::async_connect(ex, addresses, options,
                                                            asio::use_awaitable);
        }
        const eyeballs::RaceReport& report = *options.report;
        const std::chrono::duration<double, std::milli> took = report.finished - report.started;
        std::cout << "connected to " << socket.remote_endpoint() << " ("
                  << (socket.remote_endpoint().address().is_v6() ? "IPv6" : "IPv4") << ") after "
                  << took.count() << " ms, attempt " << report.winner.number() << " of "
                  << report.attempts.size() << '\n';
        co_return 0;
    } catch (const std::system_error& e) {
        std::cerr << "failed: " << e.code().message() << " — " << options.report->message << '\n';
        for (const eyeballs::Error& error : options.report->errors) {
            std::cerr << "  " << error.message() << '\n';
        }
        co_return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        std::cerr << "usage: " << argv[0] << " HOST PORT\n       " << argv[0]
                  << " ADDR,ADDR[,...] PORT\n";
        return 2;
    }
    const long port = std::strtol(argv[2], nullptr, 10);
    if (port <= 0 || port > 65535) {
        std::cerr << argv[0] << ": bad port '" << argv[2] << "'\n";
        return 2;
    }

    asio::io_context io;
    int status = 1;
    asio::co_spawn(io, connect(argv[1], static_cast<std::uint16_t>(port)),
                   [&status](std::exception_ptr e, int result) {
                       if (e) std::rethrow_exception(e);
                       status = result;
                   });
    io.run();
    return status;
}
