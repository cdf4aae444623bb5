// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::boost_asio::async_connect_tls
// (eyeballs::boost_asio_ssl) races to a TLS handshake with a server on
// 127.0.0.1 (ssl_connect.hpp).
#include <boost/asio/io_context.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "eyeballs/boost_asio_ssl.hpp"

#define EYEBALLS_SSL_FLAVOUR eyeballs::boost_asio
#include "ssl_connect.hpp"

int main() { return consumer::run_ssl_consumer("boost_asio_ssl"); }
