// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench-tls — N concurrent TLS races with the poll adapter's TLS mode
// (issue 18 item 5), against tls_bench.py's world: [::1]:P blackholed,
// 127.0.0.1:P a TLS server whose certificate names bench.test.
//
//   eyeballs-bench-tls --port P --cacert FILE --races N [--only-v4] [--no-warmup]
//
// The poll adapter runs one blocking race per call, so N races are N threads,
// started together behind a barrier; each calls eyeballs::poll::connect with
// [::1]:P then 127.0.0.1:P, tls.enabled, SNI bench.test, the CA file. CPU is
// the whole process's (getrusage around the burst: the threads' own start-up
// is inside it, so it is an upper bound on the adapter's cost). --only-v4
// races 127.0.0.1 alone: the handshake on the winning path measured alone.
// Prints one JSON object (keys as eyeballs-bench --json where they apply).
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eyeballs/poll.hpp"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void usage(const char* why) {
    if (why != nullptr) std::fprintf(stderr, "eyeballs-bench-tls: %s\n", why);
    std::fprintf(stderr,
                 "usage: eyeballs-bench-tls --port P --cacert FILE --races N [--only-v4] "
                 "[--no-warmup]\n");
    std::exit(2);
}

long parse_long(const char* s, const char* what, long min, long max) {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        usage((std::string(what) + ": a whole number from " + std::to_string(min) + " to " +
               std::to_string(max) + " expected")
                  .c_str());
    }
    return v;
}

double seconds(const timeval& tv) { return double(tv.tv_sec) + double(tv.tv_usec) / 1e6; }

double nearest_rank(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return NAN;
    const auto rank = static_cast<std::size_t>(std::ceil(q * double(sorted.size())));
    return sorted[std::max<std::size_t>(rank, 1) - 1];
}

struct One {
    Clock::time_point start{}, end{};
    eyeballs::poll::Result result;
};

}  // namespace

int main(int argc, char** argv) {
    long port = 0, races = 0;
    std::string cacert;
    bool only_v4 = false, warmup = true;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage((std::string(a) + " needs a value").c_str());
            return argv[++i];
        };
        if (a == "--port") {
            port = parse_long(value(), "--port", 1, 65535);
        } else if (a == "--races") {
            races = parse_long(value(), "--races", 1, 100000);
        } else if (a == "--cacert") {
            cacert = value();
        } else if (a == "--only-v4") {
            only_v4 = true;
        } else if (a == "--no-warmup") {
            warmup = false;
        } else {
            usage(("unknown option " + std::string(a)).c_str());
        }
    }
    if (port == 0 || races == 0 || cacert.empty()) usage("--port, --cacert and --races are required");
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
    }

    std::array<std::uint8_t, 16> v6{};
    v6[15] = 1;
    const auto p = static_cast<std::uint16_t>(port);
    std::vector<eyeballs::Endpoint> to;
    if (!only_v4) to.push_back(eyeballs::Endpoint::v6(v6, p));
    to.push_back(eyeballs::Endpoint::v4({127, 0, 0, 1}, p));
    eyeballs::poll::Options options;
    options.config.attempt_delay = std::chrono::milliseconds(250);
    options.tls.enabled = true;
    options.tls.server_name = "bench.test";
    options.tls.ca_file = cacert;

    auto release = [](eyeballs::poll::Result& r) {
        if (r.ssl != nullptr) eyeballs::poll::free_tls(r.ssl);
        r.ssl = nullptr;
        if (r.fd >= 0) ::close(r.fd);
        r.fd = -1;
    };
    if (warmup) {  // lazy binding, OpenSSL's context and first page faults: not counted
        auto r = eyeballs::poll::connect(to, options);
        if (!r.connected()) std::fprintf(stderr, "eyeballs-bench-tls: the warm-up race failed\n");
        release(r);
    }

    const auto n = static_cast<std::size_t>(races);
    std::vector<One> all(n);
    std::barrier sync(static_cast<std::ptrdiff_t>(n + 1));
    std::vector<std::thread> threads;
    threads.reserve(n);
    rusage ru0{}, ru1{};
    ::getrusage(RUSAGE_SELF, &ru0);  // thread start-up counted: an upper bound
    for (std::size_t k = 0; k < n; ++k) {
        threads.emplace_back([&, k] {
            sync.arrive_and_wait();
            all[k].start = Clock::now();
            all[k].result = eyeballs::poll::connect(to, options);
            all[k].end = Clock::now();
        });
    }
    const auto t0 = Clock::now();
    sync.arrive_and_wait();
    for (auto& t : threads) t.join();
    ::getrusage(RUSAGE_SELF, &ru1);

    std::vector<double> connect;
    std::size_t won_v6 = 0, won_v4 = 0;
    Clock::time_point last = t0;
    std::string tls_version;
    for (One& o : all) {
        last = std::max(last, o.end);
        if (!o.result.connected()) continue;
        connect.push_back(std::chrono::duration<double, std::milli>(o.end - o.start).count());
        const auto& w = o.result.report.remote;
        (w && w->family() == eyeballs::Family::v6 ? won_v6 : won_v4) += 1;
        tls_version = o.result.report.tls_version;
        release(o.result);
    }
    std::sort(connect.begin(), connect.end());
    const double cpu_us = (seconds(ru1.ru_utime) - seconds(ru0.ru_utime) + seconds(ru1.ru_stime) -
                           seconds(ru0.ru_stime)) * 1e6 / double(n);
    std::printf("{\"client\":\"eyeballs-poll-tls\",\"races\":%zu,\"connected\":%zu,\"failed\":%zu,"
                "\"cpu_us_per_race\":%.2f,\"connect_ms_p50\":%.3f,\"connect_ms_p99\":%.3f,"
                "\"makespan_ms\":%.3f,\"won_v6\":%zu,\"won_v4\":%zu,\"tls_version\":\"%s\"}\n",
                n, connect.size(), n - connect.size(), cpu_us, nearest_rank(connect, 0.5),
                nearest_rank(connect, 0.99),
                std::chrono::duration<double, std::milli>(last - t0).count(), won_v6, won_v4,
                tls_version.c_str());
    return 0;
}
