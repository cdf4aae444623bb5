// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio::async_connect_tls — Happy Eyeballs raced to a completed TLS
// handshake (Happy Eyeballs v3 §6.1) for standalone Asio, handing back an
// asio::ssl::stream<asio::ip::tcp::socket>:
//
//   #include <eyeballs/asio_ssl.hpp>
//
//   eyeballs::asio::connect_options options;        // verification on, system store
//   auto stream = co_await eyeballs::asio::async_connect_tls(
//       ex, "example.com", 443, options, asio::use_awaitable);
//   // stream.handshake is done: read and write it.
//
// A middlebox that completes TCP and then stalls TLS no longer wins the race:
// the next address starts after the attempt delay and its handshake wins.
// A separate header from <eyeballs/asio.hpp> so that programs without TLS
// need no OpenSSL: link eyeballs::asio_ssl (pkg-config eyeballs-asio-ssl),
// which brings eyeballs::asio, eyeballs::tls_client and OpenSSL 3.
// Implementation and documentation: eyeballs/asio/detail/ssl.ipp (Boost.Asio:
// <eyeballs/boost_asio_ssl.hpp>).
#pragma once

#include <asio/ssl.hpp>
#include <openssl/ssl.h>

#include "eyeballs/asio.hpp"
#include "eyeballs/detail/tls_client.hpp"

namespace eyeballs::asio {
#define EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR 1
#include "eyeballs/asio/detail/ssl.ipp"
#undef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR
}  // namespace eyeballs::asio
