// SPDX-License-Identifier: BSL-1.0
// poll_connect HOST PORT — Happy Eyeballs in place of the getaddrinfo + connect loop.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <eyeballs/poll.hpp>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: %s HOST PORT\n", argv[0]);
        return 2;
    }
    eyeballs::poll::Options options;  // RFC 8305 defaults; every Config field is here
    options.config.attempt_timeout = std::chrono::seconds(5);
    auto port = static_cast<std::uint16_t>(std::atoi(argv[2]));
    eyeballs::poll::Result r = eyeballs::poll::connect(argv[1], port, options);
    if (!r.connected()) {  // the summary, then every attempt's error
        std::fprintf(stderr, "%s\n", r.report.message.c_str());
        for (const eyeballs::Error& e : r.report.errors) {
            std::fprintf(stderr, "  %s\n", e.message().c_str());
        }
        return 1;
    }
    std::printf("connected to %s\n", r.report.remote->to_string().c_str());
    ::close(r.fd);  // a connected, non-blocking TCP socket: yours
    return 0;
}
