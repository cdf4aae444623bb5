// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::boost_asio::async_connect (callback token) races
// [::1]:P (refused) and 127.0.0.1:P (listening) on an io_context.
#include <chrono>
#include <cstdio>
#include <memory>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include "eyeballs/boost_asio.hpp"
#include "race_checks.hpp"

int main() {
    consumer::Loopback world;
    boost::asio::io_context io;
    eyeballs::boost_asio::connect_options options;
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang CI
    options.report = std::make_shared<eyeballs::RaceReport>();
    boost::system::error_code result = boost::asio::error::would_block;
    boost::asio::ip::tcp::socket socket(io);
    eyeballs::boost_asio::async_connect(
        io.get_executor(), consumer::remotes(world.port()), options,
        [&](boost::system::error_code ec, boost::asio::ip::tcp::socket s) {
            result = ec;
            socket = std::move(s);
        });
    io.run();
    consumer::expect(!result, "not connected: " + result.message());
    consumer::expect(socket.is_open(), "the handler got no open socket");
    consumer::expect_ipv4_won(*options.report, world.port());
    world.check_peer(socket.native_handle());
    std::printf("boost_asio: connected to %s\n", options.report->remote->to_string().c_str());
    return 0;
}
