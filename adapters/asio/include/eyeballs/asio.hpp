// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — Happy Eyeballs (RFC 8305) for standalone Asio.
//
// asio::async_connect tries endpoints one after another, so a dual-stack
// client whose IPv6 path silently drops packets waits for the kernel's
// connect timeout (minutes) before it tries IPv4. eyeballs::asio::async_connect
// races them the RFC 8305 way — IPv6 first, IPv4 250 ms later, first success
// wins, every loser closed — in the form Asio users already know: a composed
// operation (asio::async_compose) that takes any completion token.
//
//   #include <eyeballs/asio.hpp>
//
//   asio::awaitable<void> run(std::string host) {
//       auto ex = co_await asio::this_coro::executor;
//       asio::ip::tcp::socket s =
//           co_await eyeballs::asio::async_connect(ex, host, 443, asio::use_awaitable);
//   }
//
// Needs standalone Asio 1.22 or later (`<asio.hpp>`, namespace ::asio) and
// C++17; the coroutine form needs C++20. Header-only; link eyeballs::asio
// (which brings eyeballs::core). Inside namespace eyeballs, `asio` names this
// namespace: write `::asio::` for Asio's own (or eyeballs::asio::net).
//
// The same API over Boost.Asio (Boost 1.81 or later), for Beast and other
// Boost.Asio programs: <eyeballs/boost_asio.hpp>, eyeballs::boost_asio. Both
// are compiled from one implementation (eyeballs/asio/detail/*.ipp; how:
// eyeballs/asio/detail/flavour.hpp) and may be used in the same program.
#pragma once

#include "eyeballs/dns_servers.hpp"
#include "eyeballs/pref64_discovery.hpp"
#include "eyeballs/asio/detail/flavour.hpp"
#include "eyeballs/asio/endpoint.hpp"
#include "eyeballs/asio/options.hpp"

namespace eyeballs::asio {
#define EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR 1
#include "eyeballs/asio/detail/error.ipp"
#include "eyeballs/asio/detail/resolv_conf.ipp"
#include "eyeballs/asio/detail/dns.ipp"
#include "eyeballs/asio/detail/race.ipp"
#include "eyeballs/asio/detail/connect.ipp"
#include "eyeballs/asio/detail/pref64.ipp"
#undef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR
}  // namespace eyeballs::asio
