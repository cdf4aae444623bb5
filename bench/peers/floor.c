/* SPDX-License-Identifier: BSL-1.0 */
/* eyeballs-bench-floor — the floor of issue 7's comparison: N races done with
 * only the system calls a race needs, on raw epoll, in C. No state machine,
 * no allocation per race beyond one array, no error aggregation, no 10 ms
 * floor: every figure of the other clients reads as a ratio to this one,
 * which is mostly what the kernel itself costs.
 *
 *   eyeballs-bench-floor --port P --rtt-ns R --world blackhole6|refused6|both
 *                        --races N [--attempt-delay MS] [--json] [--samples FILE]
 *                        [--no-warmup]
 *
 * Against a world that eyeballs-bench-world (or scripts/bench) runs: P is its
 * port, R its loopback RTT. Each race:
 *   socket(AF_INET6) + connect([::1]:P) + epoll_ctl(ADD, EPOLLOUT|EPOLLONESHOT);
 *   after the attempt delay (the epoll_pwait2 timeout of the oldest race still
 *   waiting: races start in order, so their deadlines are a FIFO; timer slack
 *   1 ns and a two-step long wait, as the poll adapter) or at once
 *   when the IPv6 connect fails: the same for 127.0.0.1:P;
 *   on EPOLLOUT: getsockopt(SO_ERROR); the first success wins, the other
 *   socket is closed. The winners stay open until the measurement is over.
 * One warm-up race comes first, not counted (--no-warmup skips it).
 * Output: the same keys as eyeballs-bench --json (min_start_gap_ms 0: the
 * ideal for refused6 is two RTTs, the refusal then the IPv4 handshake). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum world { BLACKHOLE6, REFUSED6, BOTH };
static const char* const world_names[] = {"blackhole6", "refused6", "both"};

struct race {
    int fd[2];       /* [0] IPv6, [1] IPv4; -1 when closed or not started */
    int failed[2];   /* that attempt failed */
    int done;        /* 1 connected, 2 failed */
    double start, end;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int count_open_fds(void) {
    DIR* d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent* e;
    if (d == NULL) return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.') ++n;
    closedir(d);
    return n - 1;
}

/* VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork and execve, so a
 * process started by the Python harness would report the harness's peak. */
static long peak_rss_kib(void) {
    FILE* f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (f == NULL) return -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}

static int cmp_double(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return (x > y) - (x < y);
}

static double nearest_rank(const double* sorted, size_t n, double q) {
    size_t rank;
    if (n == 0) return NAN;
    rank = (size_t)ceil(q * (double)n);
    if (rank < 1) rank = 1;
    return sorted[rank - 1];
}

static void usage(const char* why) {
    if (why) fprintf(stderr, "eyeballs-bench-floor: %s\n", why);
    fprintf(stderr, "usage: eyeballs-bench-floor --port P --rtt-ns R --world blackhole6|refused6|both "
                    "--races N [--attempt-delay MS] [--json] [--samples FILE] [--no-warmup]\n");
    exit(2);
}

static struct sockaddr_in6 sa6;
static struct sockaddr_in sa4;
static int ep;
static struct race* races;

/* Starts attempt `fam` (0 IPv6, 1 IPv4) of race i. */
static void start_attempt(size_t i, int fam) {
    struct race* r = &races[i];
    struct epoll_event ev;
    int fd = socket(fam == 0 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        r->failed[fam] = 1;
        return;
    }
    r->fd[fam] = fd;
    if (connect(fd, fam == 0 ? (struct sockaddr*)&sa6 : (struct sockaddr*)&sa4,
                fam == 0 ? sizeof sa6 : sizeof sa4) != 0 && errno != EINPROGRESS) {
        close(fd);
        r->fd[fam] = -1;
        r->failed[fam] = 1;
        return;
    }
    ev.events = EPOLLOUT | EPOLLONESHOT;
    ev.data.u64 = ((unsigned long long)i << 1) | (unsigned)fam;
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Starts n races at once and returns when every one has ended; the winners'
 * sockets stay open (in races[i].fd). */
static void run_burst(size_t n, long delay_ms) {
    size_t i, k, head = 0, ended = 0;
    double woke;
    struct epoll_event events[256];
    for (i = 0; i < n; ++i) {
        memset(&races[i], 0, sizeof races[i]);
        races[i].fd[0] = races[i].fd[1] = -1;
    }
    for (i = 0; i < n; ++i) {
        races[i].start = now_s();
        start_attempt(i, 0);
        if (races[i].failed[0]) start_attempt(i, 1);
    }
    while (ended < n) {
        struct timespec ts, *tp = NULL;
        int got;
        /* The oldest race still waiting for its delay: its deadline. */
        while (head < n && (races[head].done || races[head].fd[1] >= 0 || races[head].failed[1])) ++head;
        if (head < n) {
            double left = races[head].start + (double)delay_ms / 1e3 - now_s();
            if (left < 0) left = 0;
            /* epoll_pwait2 may wake up to 0.1 % of a long timeout late
             * (select_estimate_accuracy: 250 us on 250 ms): stop short by
             * twice that, and the next, short wait lands on time (as the poll
             * adapter does). */
            if (left / 500 >= 20e-6) left -= left / 500;
            ts.tv_sec = (time_t)left;
            ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
            tp = &ts;
        }
        got = epoll_pwait2(ep, events, 256, tp, NULL);
        for (int e = 0; e < got; ++e) {
            size_t ri = (size_t)(events[e].data.u64 >> 1);
            int fam = (int)(events[e].data.u64 & 1);
            struct race* r = &races[ri];
            int err = 0;
            socklen_t len = sizeof err;
            if (r->done || r->fd[fam] < 0) continue;
            getsockopt(r->fd[fam], SOL_SOCKET, SO_ERROR, &err, &len);
            if (err == 0) {
                r->done = 1;
                r->end = now_s();
                ++ended;
                if (r->fd[!fam] >= 0) {
                    close(r->fd[!fam]);
                    r->fd[!fam] = -1;
                }
                continue;
            }
            close(r->fd[fam]);
            r->fd[fam] = -1;
            r->failed[fam] = 1;
            if (fam == 0 && r->fd[1] < 0 && !r->failed[1]) start_attempt(ri, 1); /* fail over at once */
            if (r->failed[0] && r->failed[1]) {
                r->done = 2;
                r->end = now_s();
                ++ended;
            }
        }
        /* Delays that had run out at this wake-up (later ones wait for the
         * next, after the connect results that came in meanwhile). */
        woke = now_s();
        for (k = head; k < n; ++k) {
            struct race* r = &races[k];
            if (r->done || r->fd[1] >= 0 || r->failed[1]) continue;
            if (r->start + (double)delay_ms / 1e3 > woke) break;
            start_attempt(k, 1);
            if (r->failed[0] && r->failed[1]) {
                r->done = 2;
                r->end = now_s();
                ++ended;
            }
        }
    }
}

int main(int argc, char** argv) {
    long port = -1, races_n = 0, delay_ms = 250;
    long long rtt_ns = -1;
    int json = 0, w = -1, warmup = 1;
    const char* samples = NULL;
    struct rlimit rl;
    size_t n, i, connected = 0, won_v6 = 0, won_v4 = 0, k;
    int fds_before, fds_after;
    long peak_rss;
    struct rusage ru0, ru1;
    double t0, last_start, ideal_ms, cpu_us, user_us, sys_us, last_end;
    double *conn, *late;

    for (int a = 1; a < argc; ++a) {
        const char* s = argv[a];
        const char* v = a + 1 < argc ? argv[a + 1] : NULL;
        if (strcmp(s, "--json") == 0) { json = 1; continue; }
        if (strcmp(s, "--no-warmup") == 0) { warmup = 0; continue; }
        if (v == NULL) usage("missing value");
        ++a;
        if (strcmp(s, "--port") == 0) port = atol(v);
        else if (strcmp(s, "--rtt-ns") == 0) rtt_ns = atoll(v);
        else if (strcmp(s, "--races") == 0) races_n = atol(v);
        else if (strcmp(s, "--attempt-delay") == 0) delay_ms = atol(v);
        else if (strcmp(s, "--samples") == 0) samples = v;
        else if (strcmp(s, "--world") == 0) {
            for (int x = 0; x < 3; ++x)
                if (strcmp(v, world_names[x]) == 0) w = x;
            if (w < 0) usage("--world: blackhole6, refused6 or both");
        } else usage("unknown option");
    }
    if (port <= 0 || port > 65535 || rtt_ns < 0 || races_n < 1 || w < 0 || delay_ms < 1)
        usage("--port, --rtt-ns, --world and --races are required");

    n = (size_t)races_n;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    getrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)(2 * n + 64) > rl.rlim_cur) {
        size_t fit = rl.rlim_cur > 64 ? (size_t)(rl.rlim_cur - 64) / 2 : 0;
        fprintf(stderr, "eyeballs-bench-floor: RLIMIT_NOFILE allows %llu fds; running %zu races, not %zu\n",
                (unsigned long long)rl.rlim_cur, fit, n);
        n = fit;
        if (n == 0) return 1;
    }

    memset(&sa6, 0, sizeof sa6);
    sa6.sin6_family = AF_INET6;
    sa6.sin6_addr = in6addr_loopback;
    sa6.sin6_port = htons((unsigned short)port);
    memset(&sa4, 0, sizeof sa4);
    sa4.sin_family = AF_INET;
    sa4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa4.sin_port = htons((unsigned short)port);

    races = calloc(n, sizeof *races);
    conn = calloc(n, sizeof *conn);
    late = calloc(n, sizeof *late);
    if (!races || !conn || !late) return 1;
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) return 1;
    prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0); /* no 50 us timer slack, as the poll adapter */

    if (warmup) { /* one race first, not counted, as every other client */
        run_burst(1, delay_ms);
        for (int fam = 0; fam < 2; ++fam)
            if (races[0].fd[fam] >= 0) close(races[0].fd[fam]);
    }
    fds_before = count_open_fds();
    getrusage(RUSAGE_SELF, &ru0);
    t0 = now_s();

    run_burst(n, delay_ms);
    getrusage(RUSAGE_SELF, &ru1);
    peak_rss = peak_rss_kib();

    ideal_ms = (double)rtt_ns / 1e6;
    if (w == BLACKHOLE6) ideal_ms += (double)delay_ms;
    if (w == REFUSED6) ideal_ms += (double)rtt_ns / 1e6;
    last_end = last_start = t0;
    for (i = 0; i < n; ++i) {
        struct race* r = &races[i];
        if (r->end > last_end) last_end = r->end;
        if (r->start > last_start) last_start = r->start;
        if (r->done != 1) continue;
        conn[connected] = (r->end - r->start) * 1e3;
        late[connected] = conn[connected] - ideal_ms;
        ++connected;
        for (int fam = 0; fam < 2; ++fam) {
            if (r->fd[fam] < 0) continue;
            if (fam == 0) ++won_v6; else ++won_v4;
            close(r->fd[fam]); /* the winner, after the measurement */
            r->fd[fam] = -1;
        }
    }
    fds_after = count_open_fds();
    close(ep);

    if (samples) {
        FILE* f = fopen(samples, "w");
        if (f) {
            for (k = 0; k < connected; ++k) fprintf(f, "%.4f %.4f\n", late[k], conn[k]);
            fclose(f);
        }
    }
    qsort(conn, connected, sizeof *conn, cmp_double);
    qsort(late, connected, sizeof *late, cmp_double);
    user_us = ((double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) * 1e6 +
               (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec)) / (double)n;
    sys_us = ((double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) * 1e6 +
              (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) / (double)n;
    cpu_us = user_us + sys_us;
    if (json) {
        printf("{\"client\":\"floor-epoll-c\",\"world\":\"%s\",\"races\":%zu,\"races_requested\":%ld,"
               "\"connected\":%zu,\"failed\":%zu,\"cpu_us_per_race\":%.2f,\"user_us_per_race\":%.2f,"
               "\"sys_us_per_race\":%.2f,\"connect_ms_p50\":%.3f,\"connect_ms_p99\":%.3f,"
               "\"lateness_ms_p50\":%.3f,\"lateness_ms_p99\":%.3f,\"lateness_ms_max\":%.3f,"
               "\"peak_rss_kib\":%ld,\"fds_left_open\":%d,\"ideal_ms\":%.3f,\"rtt_ms\":%.3f,"
               "\"attempt_delay_ms\":%ld,\"min_start_gap_ms\":0,\"makespan_ms\":%.3f,\"start_burst_ms\":%.3f,"
               "\"won_v6\":%zu,\"won_v4\":%zu,\"nofile_limit\":%llu,\"minflt_per_race\":%.3f}\n",
               world_names[w], n, races_n, connected, n - connected, cpu_us, user_us, sys_us,
               nearest_rank(conn, connected, 0.5), nearest_rank(conn, connected, 0.99),
               nearest_rank(late, connected, 0.5), nearest_rank(late, connected, 0.99),
               connected ? late[connected - 1] : NAN, peak_rss, fds_after - fds_before,
               ideal_ms, (double)rtt_ns / 1e6, delay_ms, (last_end - t0) * 1e3, (last_start - t0) * 1e3,
               won_v6, won_v4,
               (unsigned long long)rl.rlim_cur, (double)(ru1.ru_minflt - ru0.ru_minflt) / (double)n);
    } else {
        printf("floor (raw epoll, C), world %s, %zu races: connected %zu, failed %zu, fds left open %d\n"
               "  CPU %.1f us per race (user %.1f, sys %.1f), peak RSS %ld KiB\n"
               "  time to connect p50 %.3f ms p99 %.3f ms; lateness p50 %.3f ms p99 %.3f ms\n",
               world_names[w], n, connected, n - connected, fds_after - fds_before, cpu_us, user_us,
               sys_us, peak_rss, nearest_rank(conn, connected, 0.5),
               nearest_rank(conn, connected, 0.99), nearest_rank(late, connected, 0.5),
               nearest_rank(late, connected, 0.99));
    }
    return 0;
}
