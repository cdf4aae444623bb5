// SPDX-License-Identifier: BSL-1.0
// Consumer test: eyeballs::asio::async_connect_tls (eyeballs::asio_ssl) races
// to a TLS handshake with a server on 127.0.0.1 (ssl_connect.hpp).
#include <asio/io_context.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "eyeballs/asio_ssl.hpp"

#define EYEBALLS_SSL_FLAVOUR eyeballs::asio
#include "ssl_connect.hpp"

int main() { return consumer::run_ssl_consumer("asio_ssl"); }
