// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::asio::async_connect (callback token) races [::1]:P
// (refused) and 127.0.0.1:P (listening) on an io_context.
#include <chrono>
#include <cstdio>
#include <memory>
#include <system_error>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "eyeballs/asio.hpp"
#include "race_checks.hpp"

int main() {
    consumer::Loopback world;
    asio::io_context io;
    eyeballs::asio::connect_options options;
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang CI
    options.report = std::make_shared<eyeballs::RaceReport>();
    std::error_code result = asio::error::would_block;
    asio::ip::tcp::socket socket(io);
    eyeballs::asio::async_connect(io.get_executor(), consumer::remotes(world.port()), options,
                                  [&](std::error_code ec, asio::ip::tcp::socket s) {
                                      result = ec;
                                      socket = std::move(s);
                                  });
    io.run();
    consumer::expect(!result, "not connected: " + result.message());
    consumer::expect(socket.is_open(), "the handler got no open socket");
    consumer::expect_ipv4_won(*options.report, world.port());
    world.check_peer(socket.native_handle());
    std::printf("asio: connected to %s\n", options.report->remote->to_string().c_str());
    return 0;
}
