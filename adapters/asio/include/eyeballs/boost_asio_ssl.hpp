// SPDX-License-Identifier: BSL-1.0
// eyeballs::boost_asio::async_connect_tls — Happy Eyeballs raced to a
// completed TLS handshake (Happy Eyeballs v3 §6.1) for Boost.Asio (and
// Beast), handing back a boost::asio::ssl::stream<boost::asio::ip::tcp::socket>
// (ready for boost::beast::ssl_stream's next layer, or used as is). The same
// implementation as <eyeballs/asio_ssl.hpp> (eyeballs/asio/detail/ssl.ipp),
// read in Boost.Asio's names. A separate header from <eyeballs/boost_asio.hpp>
// so that programs without TLS need no OpenSSL: link eyeballs::boost_asio_ssl
// (pkg-config eyeballs-boost-asio-ssl), which brings eyeballs::boost_asio,
// eyeballs::tls_client and OpenSSL 3.
#pragma once

#include <boost/asio/ssl.hpp>
#include <openssl/ssl.h>

#include "eyeballs/boost_asio.hpp"
#include "eyeballs/detail/tls_client.hpp"

namespace eyeballs::boost_asio {
#define EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR 1
#include "eyeballs/asio/detail/ssl.ipp"
#undef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR
}  // namespace eyeballs::boost_asio
