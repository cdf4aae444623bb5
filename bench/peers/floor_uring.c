/* SPDX-License-Identifier: BSL-1.0 */
/* eyeballs-bench-floor-uring — the io_uring floor beside the epoll one
 * (floor.c; issue 19): N races done with only the requests a race needs, on
 * one io_uring ring, in C. No state machine, no allocation per race beyond
 * one array, no error aggregation, no 10 ms floor.
 *
 *   eyeballs-bench-floor-uring --port P --rtt-ns R --world blackhole6|refused6|both
 *                              --races N [--attempt-delay MS] [--json] [--samples FILE]
 *                              [--no-warmup]
 *
 * Each race, every step a submission on the one ring (IORING_SETUP_SINGLE_ISSUER
 * | DEFER_TASKRUN where the kernel has them):
 *   IORING_OP_SOCKET(AF_INET6), then IORING_OP_CONNECT([::1]:P);
 *   after the attempt delay (the io_uring_enter timeout of the oldest race
 *   still waiting: races start in order, so their deadlines are a FIFO, as in
 *   floor.c) or at once when the IPv6 connect fails: the same for 127.0.0.1:P;
 *   the first connect to succeed wins; the other attempt gets
 *   IORING_OP_ASYNC_CANCEL and IORING_OP_CLOSE (a failed one IORING_OP_CLOSE).
 * Completions are reaped in batches (io_uring_peek_batch_cqe). The winners
 * stay open until the measurement is over. One warm-up race comes first, not
 * counted (--no-warmup skips it). Output: the same keys as floor.c's, client
 * "floor-uring-c". Where io_uring is refused (ENOSYS, EPERM) it says so and
 * exits with status 77 (a ctest skip). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <liburing.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum world { BLACKHOLE6, REFUSED6, BOTH };
static const char* const world_names[] = {"blackhole6", "refused6", "both"};

struct race {
    int fd[2];       /* [0] IPv6, [1] IPv4; -1 when closed or not started */
    int failed[2];   /* that attempt failed */
    int state[2];    /* 0 not started, 1 socket requested, 2 connecting, 3 over */
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
    if (why) fprintf(stderr, "eyeballs-bench-floor-uring: %s\n", why);
    fprintf(stderr, "usage: eyeballs-bench-floor-uring --port P --rtt-ns R --world blackhole6|refused6|both "
                    "--races N [--attempt-delay MS] [--json] [--samples FILE] [--no-warmup]\n");
    exit(2);
}

static struct sockaddr_in6 sa6;
static struct sockaddr_in sa4;
static struct io_uring ring;
static struct race* races;

enum { OP_SOCKET = 0, OP_CONNECT = 1, OP_IGNORE = 2 };

static unsigned long long ud(size_t i, int fam, int op) {
    return ((unsigned long long)i << 3) | ((unsigned long long)fam << 2) | (unsigned long long)op;
}

static struct io_uring_sqe* get_sqe(void) {
    struct io_uring_sqe* s;
    while ((s = io_uring_get_sqe(&ring)) == NULL) io_uring_submit(&ring);
    return s;
}

/* Requests attempt `fam` (0 IPv6, 1 IPv4) of race i: its socket first. */
static void start_attempt(size_t i, int fam) {
    struct io_uring_sqe* s = get_sqe();
    io_uring_prep_socket(s, fam == 0 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, 0);
    io_uring_sqe_set_data64(s, ud(i, fam, OP_SOCKET));
    races[i].state[fam] = 1;
}

static void close_fd(int fd) {
    struct io_uring_sqe* s = get_sqe();
    io_uring_prep_close(s, fd);
    io_uring_sqe_set_data64(s, OP_IGNORE);
}

/* Ends attempt fam of race i: cancels its connect, closes its socket. */
static void drop(size_t i, int fam) {
    struct race* r = &races[i];
    if (r->state[fam] == 2) {
        struct io_uring_sqe* s = get_sqe();
        io_uring_prep_cancel64(s, ud(i, fam, OP_CONNECT), 0);
        io_uring_sqe_set_data64(s, OP_IGNORE);
    }
    if (r->fd[fam] >= 0) close_fd(r->fd[fam]);
    r->fd[fam] = -1;
    if (r->state[fam] != 1) r->state[fam] = 3; /* a socket still coming is closed when it comes */
}

static size_t ended;

static void end_race(struct race* r, int how) {
    r->done = how;
    r->end = now_s();
    ++ended;
}

static void complete(unsigned long long data, int res) {
    size_t i = (size_t)(data >> 3);
    int fam = (int)((data >> 2) & 1);
    int op = (int)(data & 3);
    struct race* r;
    if (op == OP_IGNORE) return;
    r = &races[i];
    if (op == OP_SOCKET) {
        if (r->done || r->state[fam] != 1) { /* the race ended meanwhile */
            if (res >= 0) close_fd(res);
            r->state[fam] = 3;
            return;
        }
        if (res < 0) {
            r->state[fam] = 3;
            r->failed[fam] = 1;
        } else {
            struct io_uring_sqe* s = get_sqe();
            r->fd[fam] = res;
            r->state[fam] = 2;
            if (fam == 0) io_uring_prep_connect(s, res, (struct sockaddr*)&sa6, sizeof sa6);
            else io_uring_prep_connect(s, res, (struct sockaddr*)&sa4, sizeof sa4);
            io_uring_sqe_set_data64(s, ud(i, fam, OP_CONNECT));
            return;
        }
    } else { /* OP_CONNECT */
        if (r->done || r->state[fam] != 2) return; /* cancelled */
        r->state[fam] = 3;
        if (res == 0) {
            end_race(r, 1);
            if (r->state[!fam] != 0) drop(i, !fam);
            return;
        }
        close_fd(r->fd[fam]);
        r->fd[fam] = -1;
        r->failed[fam] = 1;
    }
    if (fam == 0 && r->state[1] == 0) start_attempt(i, 1); /* fail over at once */
    if (r->failed[0] && r->failed[1]) end_race(r, 2);
}

/* Starts n races at once and returns when every one has ended; the winners'
 * sockets stay open (in races[i].fd). The losers' closes complete too. */
static void run_burst(size_t n, long delay_ms) {
    size_t i, k, head = 0;
    struct io_uring_cqe* cqes[256];
    unsigned long long data[256];
    int res[256];
    ended = 0;
    for (i = 0; i < n; ++i) {
        memset(&races[i], 0, sizeof races[i]);
        races[i].fd[0] = races[i].fd[1] = -1;
    }
    for (i = 0; i < n; ++i) {
        races[i].start = now_s();
        start_attempt(i, 0);
    }
    for (;;) {
        struct __kernel_timespec ts, *tp = NULL;
        struct io_uring_cqe* first = NULL;
        unsigned got, e;
        double woke;
        while (head < n && (races[head].done || races[head].state[1] != 0)) ++head;
        if (ended == n) break; /* the closes still queued are pushed out below */
        if (head < n) {
            double left = races[head].start + (double)delay_ms / 1e3 - now_s();
            if (left < 0) left = 0;
            ts.tv_sec = (long long)left;
            ts.tv_nsec = (long long)((left - (double)ts.tv_sec) * 1e9);
            tp = &ts;
        }
        io_uring_submit_and_wait_timeout(&ring, &first, 1, tp, NULL);
        while ((got = io_uring_peek_batch_cqe(&ring, cqes, 256)) > 0) {
            for (e = 0; e < got; ++e) {
                data[e] = cqes[e]->user_data;
                res[e] = cqes[e]->res;
            }
            io_uring_cq_advance(&ring, got);
            for (e = 0; e < got; ++e) complete(data[e], res[e]);
            if (got < 256) break;
        }
        /* Delays that had run out at this wake-up. */
        woke = now_s();
        for (k = head; k < n; ++k) {
            struct race* r = &races[k];
            if (r->done || r->state[1] != 0) continue;
            if (r->start + (double)delay_ms / 1e3 > woke) break;
            start_attempt(k, 1);
        }
    }
    /* Push out the last closes and wait until nothing is in flight: a
     * final no-op request completes after everything queued before it. */
    {
        struct io_uring_sqe* s = get_sqe();
        struct io_uring_cqe* c;
        io_uring_prep_nop(s);
        io_uring_sqe_set_data64(s, ~0ULL);
        s->flags |= IOSQE_IO_DRAIN;
        io_uring_submit(&ring);
        for (;;) {
            if (io_uring_wait_cqe(&ring, &c) != 0) break;
            data[0] = c->user_data;
            res[0] = c->res;
            io_uring_cqe_seen(&ring, c);
            if (data[0] == ~0ULL) break;
            complete(data[0], res[0]);
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
        fprintf(stderr, "eyeballs-bench-floor-uring: RLIMIT_NOFILE allows %llu fds; running %zu races, not %zu\n",
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
    {
        struct io_uring_params p;
        int rc;
        memset(&p, 0, sizeof p);
        p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
                  IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
        p.cq_entries = 16384;
        rc = io_uring_queue_init_params(4096, &ring, &p);
        if (rc == -EINVAL) {
            memset(&p, 0, sizeof p);
            p.flags = IORING_SETUP_CQSIZE;
            p.cq_entries = 16384;
            rc = io_uring_queue_init_params(4096, &ring, &p);
        }
        if (rc < 0) {
            fprintf(stderr, "eyeballs-bench-floor-uring: io_uring is not available here: "
                            "io_uring_queue_init: %s\n", strerror(-rc));
            return 77;
        }
    }

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
    io_uring_queue_exit(&ring);

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
        printf("{\"client\":\"floor-uring-c\",\"world\":\"%s\",\"races\":%zu,\"races_requested\":%ld,"
               "\"connected\":%zu,\"failed\":%zu,\"cpu_us_per_race\":%.2f,\"user_us_per_race\":%.2f,"
               "\"sys_us_per_race\":%.2f,\"connect_ms_p50\":%.3f,\"connect_ms_p99\":%.3f,"
               "\"lateness_ms_p50\":%.3f,\"lateness_ms_p99\":%.3f,\"lateness_ms_max\":%.3f,"
               "\"peak_rss_kib\":%ld,\"fds_left_open\":%d,\"ideal_ms\":%.3f,\"rtt_ms\":%.3f,"
               "\"attempt_delay_ms\":%ld,\"min_start_gap_ms\":0,\"makespan_ms\":%.3f,\"start_burst_ms\":%.3f,"
               "\"won_v6\":%zu,\"won_v4\":%zu,\"nofile_limit\":%llu}\n",
               world_names[w], n, races_n, connected, n - connected, cpu_us, user_us, sys_us,
               nearest_rank(conn, connected, 0.5), nearest_rank(conn, connected, 0.99),
               nearest_rank(late, connected, 0.5), nearest_rank(late, connected, 0.99),
               connected ? late[connected - 1] : NAN, peak_rss, fds_after - fds_before,
               ideal_ms, (double)rtt_ns / 1e6, delay_ms, (last_end - t0) * 1e3, (last_start - t0) * 1e3,
               won_v6, won_v4,
               (unsigned long long)rl.rlim_cur);
    } else {
        printf("floor (raw io_uring, C), world %s, %zu races: connected %zu, failed %zu, fds left open %d\n"
               "  CPU %.1f us per race (user %.1f, sys %.1f), peak RSS %ld KiB\n"
               "  time to connect p50 %.3f ms p99 %.3f ms; lateness p50 %.3f ms p99 %.3f ms\n",
               world_names[w], n, connected, n - connected, fds_after - fds_before, cpu_us, user_us,
               sys_us, peak_rss, nearest_rank(conn, connected, 0.5),
               nearest_rank(conn, connected, 0.99), nearest_rank(late, connected, 0.5),
               nearest_rank(late, connected, 0.99));
    }
    return 0;
}
