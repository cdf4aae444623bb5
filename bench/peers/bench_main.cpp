// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench — N concurrent Happy Eyeballs races in one thread, against a
// loopback world in a separate process (issue 7).
//
//   eyeballs-bench --adapter poll|asio|libevent|libuv|uring --world blackhole6|refused6|both
//                  --races N [--attempt-delay MS] [--json] [--samples FILE]
//                  [--no-warmup] [--deadline S] [--threads T]
//
// What one run does:
//   1. raises RLIMIT_NOFILE's soft limit to the hard limit; when two sockets
//      per race do not fit, runs as many races as fit and says so;
//   2. forks the world (world.hpp): listeners and the accept loop live in the
//      child, so getrusage(RUSAGE_SELF) below counts the client alone (the
//      loopback's softirq work done inside the client's own syscalls
//      included: that is what connecting costs on this kernel);
//   3. builds the client (event loop), runs one warm-up race through the
//      same code path (not counted; --no-warmup skips it), counts the open
//      fds, reads rusage;
//   4. starts all N races as one burst and runs the loop until every race
//      has ended; reads rusage again (CPU per race = user+sys / N);
//   5. closes the winners (outside the measurement) and counts the fds again:
//      anything above the count of step 3 is an fd left open.
// Per race: time-to-connect = when the caller learnt the outcome − when the
// race began to run (its machine's start); lateness = time-to-connect − the
// ideal, which is the loopback RTT (measured by the world) plus, for
// blackhole6, the attempt delay and, for refused6, the 10 ms floor
// (min-start-gap, RFC 8305 §5) or the refusal's RTT if longer. p50/p99 are
// nearest-rank percentiles over the races that connected.
//
// --json prints one object: races, connected, failed, cpu_us_per_race,
// connect_ms_p50, connect_ms_p99, lateness_ms_p50, lateness_ms_p99,
// peak_rss_kib (VmHWM), fds_left_open, and more keys (readers ignore unknown
// keys), e.g. makespan_ms (from the burst's start to the last race's end) and
// start_burst_ms (to the last race's start), and minflt_per_race (minor page
// faults during the burst / N).
// --threads T spreads the burst over T threads, one client (one event loop:
// one io_context, event_base, uv_loop_t, ring or epoll set) each, with
// N/T races apiece (issue 19 item 4). Every thread builds its client and runs
// its warm-up itself, then all start together; CPU is the whole process's,
// and the JSON adds races_per_s (N / all done). Without --threads the burst
// runs in the main thread, as before. Every JSON object names the machine:
// nproc and cpu_model.
// --samples FILE writes "lateness_ms connect_ms" per connected race.
// Exit 0 when the run completed (whatever the failures), 1 when it could not
// run, 2 on bad usage. A watchdog ends a run that takes over --deadline
// seconds (default 120).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "client.hpp"
#include "world.hpp"

using namespace eyeballs::bench;

namespace {

constexpr std::chrono::milliseconds min_start_gap{10};  // eyeballs' default (RFC 8305 §5)
constexpr std::uint64_t spare_fds = 64;                 // stdio, the loop's own fds, ...

[[noreturn]] void usage(const char* why) {
    if (why != nullptr) std::fprintf(stderr, "eyeballs-bench: %s\n", why);
    std::fprintf(stderr,
                 "usage: eyeballs-bench --adapter poll|asio|libevent|libuv|uring "
                 "--world blackhole6|refused6|both --races N\n"
                 "                      [--attempt-delay MS] [--json] [--samples FILE] "
                 "[--no-warmup] [--deadline S] [--threads T]\n");
    std::exit(2);
}

long parse_long(const char* s, const char* what, long min, long max) {
    char* end = nullptr;
    errno = 0;
    long v = std::strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
        std::string msg = std::string(what) + ": a whole number from " + std::to_string(min) +
                          " to " + std::to_string(max) + " expected";
        usage(msg.c_str());
    }
    return v;
}

int count_open_fds() {
    DIR* d = ::opendir("/proc/self/fd");
    if (d == nullptr) return -1;
    int n = 0;
    while (dirent* e = ::readdir(d)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(d);
    return n - 1;  // the directory's own fd
}

// The peak resident set of this process (VmHWM). Not getrusage's
// ru_maxrss: Linux keeps that across fork and execve, so a benchmark started
// by a bigger process (the Python harness) would report its parent's peak.
long peak_rss_kib() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return -1;
    char line[256];
    long kib = -1;
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    }
    std::fclose(f);
    return kib;
}

// The CPU model, for the JSON (the machine a figure was measured on).
std::string cpu_model() {
    FILE* f = std::fopen("/proc/cpuinfo", "r");
    if (f == nullptr) return "unknown";
    char line[512];
    std::string model = "unknown";
    while (std::fgets(line, sizeof line, f) != nullptr) {
        if (std::strncmp(line, "model name", 10) != 0) continue;
        const char* colon = std::strchr(line, ':');
        if (colon == nullptr) continue;
        model = colon + 1;
        while (!model.empty() && (model.front() == ' ' || model.front() == '\t')) model.erase(0, 1);
        while (!model.empty() && (model.back() == '\n' || model.back() == ' ')) model.pop_back();
        break;
    }
    std::fclose(f);
    for (char& c : model) {
        if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = ' ';
    }
    return model;
}

double seconds(const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

double nearest_rank(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return NAN;
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    return sorted[std::max<std::size_t>(rank, 1) - 1];
}

double ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string num(double v, int decimals = 3) {
    if (std::isnan(v)) return "null";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

struct World {
    pid_t pid = -1;
    int control = -1;  // closing it ends the world
    WorldInfo info;
};

World fork_world(WorldKind kind, std::size_t races) {
    int ready[2], control[2];
    if (::pipe2(ready, O_CLOEXEC) != 0 || ::pipe2(control, O_CLOEXEC) != 0) {
        std::perror("eyeballs-bench: pipe");
        std::exit(1);
    }
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0) {
        std::perror("eyeballs-bench: fork");
        std::exit(1);
    }
    if (pid == 0) {
        ::close(ready[0]);
        ::close(control[1]);
        ::signal(SIGALRM, SIG_DFL);
        const int rc = serve_world(kind, races, control[0], [&](const WorldInfo& w) {
            char line[64];
            int len = std::snprintf(line, sizeof line, "%u %lld\n", static_cast<unsigned>(w.port),
                                    static_cast<long long>(w.rtt.count()));
            if (::write(ready[1], line, static_cast<std::size_t>(len)) != len) std::_Exit(1);
            ::close(ready[1]);
        });
        std::_Exit(rc);
    }
    ::close(ready[1]);
    ::close(control[0]);
    char line[64] = {};
    std::size_t got = 0;
    while (got < sizeof line - 1) {
        ssize_t r = ::read(ready[0], line + got, sizeof line - 1 - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += static_cast<std::size_t>(r);
        if (std::memchr(line, '\n', got) != nullptr) break;
    }
    ::close(ready[0]);
    unsigned port = 0;
    long long rtt = 0;
    if (std::sscanf(line, "%u %lld", &port, &rtt) != 2) {
        std::fprintf(stderr, "eyeballs-bench: the world did not start\n");
        ::waitpid(pid, nullptr, 0);
        std::exit(1);
    }
    World w;
    w.pid = pid;
    w.control = control[1];
    w.info.port = static_cast<std::uint16_t>(port);
    w.info.rtt = std::chrono::nanoseconds(rtt);
    return w;
}

void end_world(World& w) {
    ::close(w.control);
    int status = 0;
    ::waitpid(w.pid, &status, 0);
}

}  // namespace

int main(int argc, char** argv) {
    std::string adapter;
    std::optional<WorldKind> world;
    long races = 0;
    long delay_ms = 250;
    long deadline_s = 120;
    long threads = 0;  // 0: the burst in the main thread
    bool json = false;
    bool warmup = true;
    const char* samples_path = nullptr;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage((std::string(a) + " needs a value").c_str());
            return argv[++i];
        };
        if (a == "--adapter") {
            adapter = value();
            if (adapter != "poll" && adapter != "asio" && adapter != "libevent" &&
                adapter != "libuv" && adapter != "uring") {
                usage("--adapter: poll, asio, libevent, libuv or uring");
            }
#ifndef EYEBALLS_BENCH_HAVE_LIBUV
            if (adapter == "libuv") usage("--adapter libuv: the libuv adapter was not built");
#endif
#ifndef EYEBALLS_BENCH_HAVE_URING
            if (adapter == "uring") usage("--adapter uring: the io_uring adapter was not built");
#endif
        } else if (a == "--world") {
            world = parse_world(value());
            if (!world) usage("--world: blackhole6, refused6 or both");
        } else if (a == "--races") {
            races = parse_long(value(), "--races", 1, 1000000);
        } else if (a == "--attempt-delay") {
            delay_ms = parse_long(value(), "--attempt-delay", 10, 2000);
        } else if (a == "--deadline") {
            deadline_s = parse_long(value(), "--deadline", 1, 3600);
        } else if (a == "--threads") {
            threads = parse_long(value(), "--threads", 1, 1024);
        } else if (a == "--samples") {
            samples_path = value();
        } else if (a == "--json") {
            json = true;
        } else if (a == "--no-warmup") {
            warmup = false;
        } else if (a == "-h" || a == "--help") {
            usage(nullptr);
        } else {
            usage(("unknown option " + std::string(a)).c_str());
        }
    }
    if (adapter.empty() || !world || races == 0) usage("--adapter, --world and --races are required");
    if (threads > races) usage("--threads: at most --races (each thread runs at least one race)");

    // 1. File descriptors: two sockets per race at most.
    const std::uint64_t nofile = raise_nofile_limit();
    const auto requested = static_cast<std::size_t>(races);
    const std::uint64_t fit = nofile > spare_fds ? (nofile - spare_fds) / 2 : 0;
    std::size_t n = requested;
    if (fit < n) {
        n = static_cast<std::size_t>(fit);
        std::fprintf(stderr,
                     "eyeballs-bench: RLIMIT_NOFILE allows %llu fds (hard limit); %zu races need "
                     "up to %zu (two sockets each): running %zu races instead\n",
                     static_cast<unsigned long long>(nofile), requested,
                     requested * 2 + spare_fds, n);
        if (n == 0) return 1;
    }

    // 2. The world, in its own process.
    World w = fork_world(*world, n);
    ::alarm(static_cast<unsigned>(deadline_s));  // SIGALRM ends a stuck run

    // 3. The client, and what is open before the races.
    auto make_client = [&adapter]() -> std::unique_ptr<Client> {
        if (adapter == "poll") return make_poll_client();
        if (adapter == "asio") return make_asio_client();
        if (adapter == "libevent") return make_libevent_client();
#ifdef EYEBALLS_BENCH_HAVE_LIBUV
        if (adapter == "libuv") return make_libuv_client();
#endif
#ifdef EYEBALLS_BENCH_HAVE_URING
        if (adapter == "uring") return make_uring_client();
#endif
        return nullptr;
    };
    RunSpec spec;
    spec.world = *world;
    spec.races = n;
    spec.port = w.info.port;
    spec.burst = n;
    spec.attempt_delay = std::chrono::milliseconds(delay_ms);
    std::vector<RaceResult> results(n);
    int fds_before = 0, fds_after = 0;
    rusage ru0{}, ru1{};
    Clock::time_point t0{}, t1{};
    long peak_rss = 0;
    std::size_t won_v6 = 0, won_v4 = 0;
    std::string label;
    auto count_winners = [&](const Client& c) {
        for (int fd : c.winner_fds()) {
            sockaddr_storage ss{};
            socklen_t len = sizeof ss;
            if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) continue;
            (ss.ss_family == AF_INET6 ? won_v6 : won_v4) += 1;
        }
    };
    if (threads > 0) {
        // T threads, one client (loop) each; the phases are kept in step by
        // one barrier: built and warmed up | go | done | winners closed | fds counted.
        const auto t = static_cast<std::size_t>(threads);
        std::barrier sync(static_cast<std::ptrdiff_t>(t + 1));
        std::vector<std::vector<RaceResult>> parts(t);
        std::vector<std::size_t> won(2 * t, 0);
        std::vector<std::thread> workers;
        std::vector<std::string> labels(t);
        for (std::size_t k = 0; k < t; ++k) {
            workers.emplace_back([&, k] {
                RunSpec mine = spec;
                mine.races = n / t + (k < n % t ? 1 : 0);
                mine.burst = mine.races;
                parts[k].resize(mine.races);
                std::unique_ptr<Client> c = make_client();
                labels[k] = c->label(mine.races);
                if (warmup) {
                    RunSpec one = mine;
                    one.races = 1;
                    std::vector<RaceResult> r(1);
                    c->run(one, r);
                    c->close_winners();
                    if (!r[0].connected) std::fprintf(stderr, "eyeballs-bench: the warm-up race failed\n");
                }
                sync.arrive_and_wait();  // built and warmed up
                sync.arrive_and_wait();  // go
                c->run(mine, parts[k]);
                sync.arrive_and_wait();  // done
                for (int fd : c->winner_fds()) {
                    sockaddr_storage ss{};
                    socklen_t len = sizeof ss;
                    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) continue;
                    ++won[2 * k + (ss.ss_family == AF_INET6 ? 0 : 1)];
                }
                c->close_winners();
                sync.arrive_and_wait();  // winners closed
                sync.arrive_and_wait();  // fds counted: the client may go
            });
        }
        sync.arrive_and_wait();
        fds_before = count_open_fds();
        ::getrusage(RUSAGE_SELF, &ru0);
        t0 = Clock::now();
        sync.arrive_and_wait();
        sync.arrive_and_wait();
        t1 = Clock::now();
        ::getrusage(RUSAGE_SELF, &ru1);
        peak_rss = peak_rss_kib();
        sync.arrive_and_wait();
        fds_after = count_open_fds();
        sync.arrive_and_wait();
        for (auto& th : workers) th.join();
        results.clear();
        for (std::size_t k = 0; k < t; ++k) {
            results.insert(results.end(), parts[k].begin(), parts[k].end());
            won_v6 += won[2 * k];
            won_v4 += won[2 * k + 1];
        }
        label = labels[0];
    } else {
    std::unique_ptr<Client> client = make_client();
    if (warmup) {
        // One race against the same world, through the same code path, so
        // that one-time costs (lazy symbol binding, the loop's own fds and
        // services, first page faults) are not counted as the races' own.
        RunSpec one = spec;
        one.races = 1;
        std::vector<RaceResult> r(1);
        client->run(one, r);
        client->close_winners();
        if (!r[0].connected) std::fprintf(stderr, "eyeballs-bench: the warm-up race failed\n");
    }
    fds_before = count_open_fds();
    ::getrusage(RUSAGE_SELF, &ru0);
    t0 = Clock::now();

    // 4. The burst.
    client->run(spec, results);

    t1 = Clock::now();
    ::getrusage(RUSAGE_SELF, &ru1);
    peak_rss = peak_rss_kib();

    // 5. Winners: their family (a sanity check of the world), then closed.
    count_winners(*client);
    client->close_winners();
    fds_after = count_open_fds();
    label = client->label(n);
    }
    end_world(w);

    // Statistics.
    const Clock::duration rtt = w.info.rtt;
    Clock::duration ideal = rtt;
    if (*world == WorldKind::blackhole6) ideal += spec.attempt_delay;
    if (*world == WorldKind::refused6) ideal += std::max<Clock::duration>(min_start_gap, rtt);
    std::vector<double> connect, late;
    std::size_t connected = 0;
    Clock::time_point last_end = t0, last_start = t0;
    for (const RaceResult& r : results) {
        last_end = std::max(last_end, r.end);
        last_start = std::max(last_start, r.start);
        if (!r.connected) continue;
        ++connected;
        connect.push_back(ms(r.end - r.start));
        late.push_back(ms(r.end - r.start - ideal));
    }
    if (samples_path != nullptr) {
        if (FILE* f = std::fopen(samples_path, "w")) {
            for (std::size_t i = 0; i < connect.size(); ++i) {
                std::fprintf(f, "%.4f %.4f\n", late[i], connect[i]);
            }
            std::fclose(f);
        } else {
            std::perror(samples_path);
        }
    }
    std::sort(connect.begin(), connect.end());
    std::sort(late.begin(), late.end());
    const double user_s = seconds(ru1.ru_utime) - seconds(ru0.ru_utime);
    const double sys_s = seconds(ru1.ru_stime) - seconds(ru0.ru_stime);
    const double races_d = static_cast<double>(n);
    const double per_race_us = (user_s + sys_s) * 1e6 / races_d;
    // Minor page faults during the burst, per race (heap growth, first touch).
    const double minflt_per_race = static_cast<double>(ru1.ru_minflt - ru0.ru_minflt) / races_d;
    const std::size_t failed = n - connected;
    const int left_open = fds_after - fds_before;
    const double makespan_s = ms(last_end - t0) / 1e3;
    const double races_per_s = makespan_s > 0 ? races_d / makespan_s : NAN;
    const unsigned nproc = std::thread::hardware_concurrency();
    const std::string model = cpu_model();

    if (json) {
        std::printf(
            "{\"client\":\"%s\",\"adapter\":\"%s\",\"world\":\"%s\",\"races\":%zu,"
            "\"races_requested\":%zu,\"connected\":%zu,\"failed\":%zu,"
            "\"cpu_us_per_race\":%s,\"user_us_per_race\":%s,\"sys_us_per_race\":%s,"
            "\"connect_ms_p50\":%s,\"connect_ms_p99\":%s,"
            "\"lateness_ms_p50\":%s,\"lateness_ms_p99\":%s,\"lateness_ms_max\":%s,"
            "\"peak_rss_kib\":%ld,\"fds_left_open\":%d,"
            "\"ideal_ms\":%s,\"rtt_ms\":%s,\"attempt_delay_ms\":%ld,\"min_start_gap_ms\":%lld,"
            "\"makespan_ms\":%s,\"start_burst_ms\":%s,\"won_v6\":%zu,\"won_v4\":%zu,\"nofile_limit\":%llu,"
            "\"threads\":%ld,\"races_per_s\":%s,\"nproc\":%u,\"cpu_model\":\"%s\","
            "\"minflt_per_race\":%s}\n",
            label.c_str(), adapter.c_str(), world_name(*world), n, requested, connected, failed,
            num(per_race_us, 2).c_str(), num(user_s * 1e6 / races_d, 2).c_str(),
            num(sys_s * 1e6 / races_d, 2).c_str(), num(nearest_rank(connect, 0.5)).c_str(),
            num(nearest_rank(connect, 0.99)).c_str(), num(nearest_rank(late, 0.5)).c_str(),
            num(nearest_rank(late, 0.99)).c_str(), num(late.empty() ? NAN : late.back()).c_str(),
            peak_rss, left_open, num(ms(ideal)).c_str(), num(ms(rtt)).c_str(), delay_ms,
            static_cast<long long>(min_start_gap.count()), num(ms(last_end - t0)).c_str(),
            num(ms(last_start - t0)).c_str(), won_v6,
            won_v4, static_cast<unsigned long long>(nofile), std::max(threads, 1L),
            num(races_per_s, 0).c_str(), nproc, model.c_str(), num(minflt_per_race, 3).c_str());
    } else {
        std::printf("%s, world %s, %zu races (attempt delay %ld ms, loopback RTT %s ms)\n",
                    label.c_str(), world_name(*world), n, delay_ms, num(ms(rtt)).c_str());
        if (threads > 0) {
            std::printf("  %ld threads, one loop each; %s races/s; %u CPUs (%s)\n", threads,
                        num(races_per_s, 0).c_str(), nproc, model.c_str());
        }
        std::printf("  connected %zu (IPv6 %zu, IPv4 %zu), failed %zu, fds left open %d\n",
                    connected, won_v6, won_v4, failed, left_open);
        std::printf("  CPU %s us per race (user %s, sys %s), peak RSS %ld KiB\n",
                    num(per_race_us, 1).c_str(), num(user_s * 1e6 / races_d, 1).c_str(),
                    num(sys_s * 1e6 / races_d, 1).c_str(), peak_rss);
        std::printf("  time to connect p50 %s ms, p99 %s ms (ideal %s ms)\n",
                    num(nearest_rank(connect, 0.5)).c_str(),
                    num(nearest_rank(connect, 0.99)).c_str(), num(ms(ideal)).c_str());
        std::printf("  lateness p50 %s ms, p99 %s ms, max %s ms; all done after %s ms\n",
                    num(nearest_rank(late, 0.5)).c_str(), num(nearest_rank(late, 0.99)).c_str(),
                    num(late.empty() ? NAN : late.back()).c_str(), num(ms(last_end - t0)).c_str());
    }
    (void)t1;
    return 0;
}
