// SPDX-License-Identifier: BSL-1.0
// Consumer test body shared by asio_ssl_connect.cpp and
// boost_asio_ssl_connect.cpp: async_connect_tls against a TLS server on
// 127.0.0.1 in the same io_context, with a key and a self-signed certificate
// made at run time (never a committed key). The client runs insecure (no CA
// to trust), so what is checked is the race to the handshake: connected,
// TLS version and ALPN id in the report, and the stream carries a byte.
// Include after defining EYEBALLS_SSL_FLAVOUR (eyeballs::asio or
// eyeballs::boost_asio) and including that flavour's _ssl header.
#pragma once

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "race_checks.hpp"

namespace consumer {

namespace flavour = EYEBALLS_SSL_FLAVOUR;
namespace net = flavour::net;

// The server's ALPN choice: h2 when offered.
inline int select_h2(SSL*, const unsigned char** out, unsigned char* outlen,
                     const unsigned char* in, unsigned int inlen, void*) {
    static const unsigned char h2[] = {'h', '2'};
    for (unsigned int i = 0; i < inlen;) {
        const unsigned int n = in[i];
        if (n == 2 && i + 1 + n <= inlen && std::memcmp(in + i + 1, h2, 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

// A P-256 key and a self-signed certificate for localhost, set on `ctx`.
inline void make_identity(SSL_CTX* ctx) {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    expect(key != nullptr, "EVP_EC_gen failed");
    X509* cert = X509_new();
    expect(cert != nullptr, "X509_new failed");
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    expect(X509_sign(cert, key, EVP_sha256()) > 0, "X509_sign failed");
    expect(SSL_CTX_use_certificate(ctx, cert) == 1, "SSL_CTX_use_certificate failed");
    expect(SSL_CTX_use_PrivateKey(ctx, key) == 1, "SSL_CTX_use_PrivateKey failed");
    X509_free(cert);
    EVP_PKEY_free(key);
    SSL_CTX_set_alpn_select_cb(ctx, select_h2, nullptr);
}

inline int run_ssl_consumer(const char* label) {
    net::io_context io;
    net::ssl::context server_ctx(net::ssl::context::tls_server);
    make_identity(server_ctx.native_handle());
    net::ip::tcp::acceptor acceptor(
        io, net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    const std::uint16_t port = acceptor.local_endpoint().port();
    net::ssl::stream<net::ip::tcp::socket> server(io, server_ctx);
    char got = 0;
    acceptor.async_accept(server.next_layer(), [&](const auto& ec) {
        expect(!ec, "accept failed");
        server.async_handshake(net::ssl::stream_base::server, [&](const auto& hec) {
            expect(!hec, "the server's handshake failed: " + hec.message());
            net::async_read(server, net::buffer(&got, 1), [](const auto&, std::size_t) {});
        });
    });

    flavour::connect_options options;
    options.config.overall_timeout = std::chrono::seconds(10);  // never hang CI
    options.tls.insecure = true;  // a self-signed server
    options.report = std::make_shared<eyeballs::RaceReport>();
    std::vector<eyeballs::Endpoint> remotes{
        eyeballs::Endpoint::parse_address("127.0.0.1", port).value()};
    bool connected = false;
    flavour::async_connect_tls(io.get_executor(), remotes, options,
                               [&](const auto& ec, flavour::ssl_stream stream) {
                                   expect(!ec, "not connected: " + ec.message() + ": " +
                                                   options.report->message);
                                   connected = true;
                                   static const char byte = 'x';
                                   net::write(stream, net::buffer(&byte, 1));
                               });
    io.run();
    expect(connected, "the handler did not run");
    expect(got == 'x', "the server did not read the byte over TLS");
    expect(!options.report->tls_version.empty(), "no TLS version in the report");
    expect(options.report->alpn_selected == "h2",
           "ALPN '" + options.report->alpn_selected + "', not h2");
    std::printf("%s: TLS (%s, ALPN %s) to %s\n", label, options.report->tls_version.c_str(),
                options.report->alpn_selected.c_str(),
                options.report->remote->to_string().c_str());
    return 0;
}

}  // namespace consumer
