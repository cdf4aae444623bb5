// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench-world — the loopback world of eyeballs-bench as its own
// process, for the clients that are not eyeballs (Python, Node, curl, the
// raw-epoll floor): scripts/bench starts one per run.
//
//   eyeballs-bench-world --world blackhole6|refused6|both [--races N] [--close-accepted]
//
// Prints "PORT RTT_NS" on stdout once the world is ready (RTT_NS: the median
// loopback connect time on the side the clients will win on), then accepts
// connections (keeping them open; --close-accepted closes each at once, for
// curl) until its stdin reaches end of file (or SIGTERM).
// Exit 2 on bad usage, 1 when the world cannot be built.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "world.hpp"

using namespace eyeballs::bench;

int main(int argc, char** argv) {
    std::optional<WorldKind> kind;
    long races = 1;
    bool keep = true;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--world" && i + 1 < argc) {
            kind = parse_world(argv[++i]);
            if (!kind) {
                std::fprintf(stderr, "eyeballs-bench-world: --world: blackhole6, refused6 or both\n");
                return 2;
            }
        } else if (a == "--close-accepted") {
            keep = false;
        } else if (a == "--races" && i + 1 < argc) {
            races = std::strtol(argv[++i], nullptr, 10);
            if (races < 1) {
                std::fprintf(stderr, "eyeballs-bench-world: --races must be >= 1\n");
                return 2;
            }
        } else {
            std::fprintf(stderr,
                         "usage: eyeballs-bench-world --world blackhole6|refused6|both [--races N] "
                         "[--close-accepted]\n");
            return 2;
        }
    }
    if (!kind) {
        std::fprintf(stderr, "eyeballs-bench-world: --world is required\n");
        return 2;
    }
    struct stat st{};
    const int control = ::fstat(STDIN_FILENO, &st) == 0 && S_ISFIFO(st.st_mode) ? STDIN_FILENO : -1;
    return serve_world(*kind, static_cast<std::size_t>(races), control, [](const WorldInfo& w) {
        std::printf("%u %lld\n", static_cast<unsigned>(w.port), static_cast<long long>(w.rtt.count()));
        std::fflush(stdout);
    }, keep);
}
