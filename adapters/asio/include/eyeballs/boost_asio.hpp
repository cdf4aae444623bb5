// SPDX-License-Identifier: BSL-1.0
// eyeballs::boost_asio — Happy Eyeballs (RFC 8305) for Boost.Asio (and Beast).
//
// boost::asio::async_connect tries endpoints one after another, so a
// dual-stack client whose IPv6 path silently drops packets waits for the
// kernel's connect timeout (minutes) before it tries IPv4.
// eyeballs::boost_asio::async_connect races them the RFC 8305 way — IPv6
// first, IPv4 250 ms later, first success wins, every loser closed — as a
// composed operation that takes any completion token, and hands back a
// connected boost::asio::ip::tcp::socket, ready for a boost::beast::tcp_stream:
//
//   #include <boost/beast/core.hpp>
//   #include <eyeballs/boost_asio.hpp>
//   namespace net = boost::asio;
//
//   net::awaitable<void> run(std::string host) {
//       auto ex = co_await net::this_coro::executor;
//       boost::beast::tcp_stream stream(
//           co_await eyeballs::boost_asio::async_connect(ex, host, 80, net::use_awaitable));
//       ...
//   }
//
// This is eyeballs::asio (<eyeballs/asio.hpp>) over boost::asio instead of
// standalone Asio, compiled from the same implementation
// (eyeballs/asio/detail/*.ipp; how: eyeballs/asio/detail/flavour.hpp): the
// same entry points, connect_options, completion tokens, cancellation and
// error mapping, documented in eyeballs/asio/detail/connect.ipp and
// options.ipp in standalone terms. Read boost::asio for asio and
// boost::system::error_code for std::error_code: the completion signature is
//
//   void(boost::system::error_code, boost::asio::ip::tcp::socket)
//
// and a failed race completes with boost::asio::error::* codes (timed_out,
// host_not_found, operation_aborted, connection_refused, ...), socket errors
// in Boost.System's system category with the errno value. Both flavours can
// be used in one program, and one translation unit.
//
// Needs Boost 1.81 or later (header-only: Boost.Asio, Boost.System) and
// C++17; the coroutine form needs C++20. Header-only; link
// eyeballs::boost_asio (which brings eyeballs::core and Boost's headers).
#pragma once

#include "eyeballs/dns_servers.hpp"
#include "eyeballs/pref64_discovery.hpp"
#include "eyeballs/boost_asio/detail/flavour.hpp"
#include "eyeballs/boost_asio/endpoint.hpp"
#include "eyeballs/boost_asio/options.hpp"

namespace eyeballs::boost_asio {
#define EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR 1
#include "eyeballs/asio/detail/error.ipp"
#include "eyeballs/asio/detail/resolv_conf.ipp"
#include "eyeballs/asio/detail/dns.ipp"
#include "eyeballs/asio/detail/race.ipp"
#include "eyeballs/asio/detail/connect.ipp"
#include "eyeballs/asio/detail/pref64.ipp"
#undef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR
}  // namespace eyeballs::boost_asio
