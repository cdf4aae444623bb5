/* SPDX-License-Identifier: BSL-1.0 */
/* Consumer test: the C API driving a real race on loopback with ppoll(2) and
 * non-blocking sockets — the run loop of eyeballs.h, written out in C99.
 * Races [::1]:P (refused) and 127.0.0.1:P (listening); IPv4 must win. */
#define _GNU_SOURCE /* ppoll, SOCK_NONBLOCK, SOCK_CLOEXEC */

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "eyeballs/eyeballs.h"

#define MAX_ATTEMPTS 16

static void die(const char* what, const char* why) {
    fprintf(stderr, "consumer test FAILED: %s: %s\n", what, why);
    exit(1);
}

/* The loopback world: 127.0.0.1:P listens, [::1]:P is bound but not listening. */
static int listener = -1, refuser = -1;
static uint16_t port;

static void open_world(void) {
    struct sockaddr_in a;
    struct sockaddr_in6 b;
    socklen_t len = sizeof a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (listener < 0 || bind(listener, (struct sockaddr*)&a, sizeof a) != 0 ||
        listen(listener, 8) != 0 || getsockname(listener, (struct sockaddr*)&a, &len) != 0) {
        die("listener", strerror(errno));
    }
    port = ntohs(a.sin_port);
    refuser = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (refuser >= 0) {
        memset(&b, 0, sizeof b);
        b.sin6_family = AF_INET6;
        b.sin6_addr = in6addr_loopback;
        b.sin6_port = htons(port);
        if (bind(refuser, (struct sockaddr*)&b, sizeof b) != 0 && errno == EADDRINUSE) {
            die("[::1] port is taken", "rerun");
        }
    }
}

int main(void) {
    int fds[MAX_ATTEMPTS + 1];
    int connecting[MAX_ATTEMPTS + 1];
    eyeballs_config config;
    eyeballs_machine* m = NULL;
    eyeballs_endpoint remotes[2];
    eyeballs_report report;
    eyeballs_error error;
    char message[256];
    char text[EYEBALLS_ENDPOINT_TEXT_SIZE];
    int winner = -1, finished = 0, i, peer;
    char c;

    for (i = 0; i <= MAX_ATTEMPTS; ++i) fds[i] = -1, connecting[i] = 0;
    open_world();

    eyeballs_config_init(&config);
    config.overall_timeout_ns = INT64_C(10000000000); /* never hang CI */
    if (eyeballs_machine_new(&config, &m, message, sizeof message) != EYEBALLS_OK) {
        die("eyeballs_machine_new", message);
    }
    if (eyeballs_endpoint_parse("::1", port, &remotes[0], message, sizeof message) != EYEBALLS_OK ||
        eyeballs_endpoint_parse("127.0.0.1", port, &remotes[1], message, sizeof message) != EYEBALLS_OK) {
        die("eyeballs_endpoint_parse", message);
    }

    /* 1. Mutate: start the race. */
    if (eyeballs_machine_start(m, eyeballs_monotonic_ns(), remotes, 2) != EYEBALLS_OK) {
        die("eyeballs_machine_start", eyeballs_machine_last_error(m));
    }
    while (!finished) {
        struct pollfd pfds[MAX_ATTEMPTS];
        uint32_t ids[MAX_ATTEMPTS];
        nfds_t n = 0;
        int64_t deadline, now;
        struct timespec wait, *waitp = NULL;
        eyeballs_action a;

        /* 2. Drain: perform every action. */
        while (eyeballs_machine_poll_action(m, &a)) {
            struct sockaddr_storage ss;
            size_t sslen;
            now = eyeballs_monotonic_ns();
            if (a.attempt > MAX_ATTEMPTS) die("too many attempts", "");
            switch (a.kind) {
                case EYEBALLS_ACTION_OPEN_SOCKET:
                    fds[a.attempt] = socket(a.family == EYEBALLS_FAMILY_V6 ? AF_INET6 : AF_INET,
                                            SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                    eyeballs_machine_handle_opened(m, now, a.attempt, fds[a.attempt] < 0 ? errno : 0);
                    break;
                case EYEBALLS_ACTION_BIND:
                    sslen = eyeballs_endpoint_to_sockaddr(&a.local, &ss, sizeof ss);
                    eyeballs_machine_handle_bound(
                        m, now, a.attempt,
                        bind(fds[a.attempt], (struct sockaddr*)&ss, (socklen_t)sslen) == 0 ? 0 : errno);
                    break;
                case EYEBALLS_ACTION_CONNECT:
                    sslen = eyeballs_endpoint_to_sockaddr(&a.remote, &ss, sizeof ss);
                    if (connect(fds[a.attempt], (struct sockaddr*)&ss, (socklen_t)sslen) == 0) {
                        eyeballs_machine_handle_connected(m, now, a.attempt);
                    } else if (errno == EINPROGRESS) {
                        connecting[a.attempt] = 1; /* the answer comes from ppoll */
                    } else {
                        eyeballs_machine_handle_connect_failed(m, now, a.attempt, errno);
                    }
                    break;
                case EYEBALLS_ACTION_CLOSE:
                    close(fds[a.attempt]);
                    fds[a.attempt] = -1;
                    connecting[a.attempt] = 0;
                    break;
                case EYEBALLS_ACTION_REPORT:
                    finished = 1;
                    if (a.outcome == EYEBALLS_OUTCOME_CONNECTED) {
                        winner = fds[a.attempt]; /* it is ours now */
                        fds[a.attempt] = -1;
                        connecting[a.attempt] = 0;
                    }
                    break;
                default: /* RESOLVE does not happen in addresses mode */
                    break;
            }
        }
        if (finished) break;

        /* 3. Arm one timer at the machine's deadline. */
        if (eyeballs_machine_next_timeout(m, &deadline)) {
            int64_t left = deadline - eyeballs_monotonic_ns();
            if (left < 0) left = 0;
            wait.tv_sec = (time_t)(left / 1000000000);
            wait.tv_nsec = (long)(left % 1000000000);
            waitp = &wait;
        }
        /* 4. Wait for a connect to finish or the timer. */
        for (i = 1; i <= MAX_ATTEMPTS; ++i) {
            if (!connecting[i]) continue;
            pfds[n].fd = fds[i];
            pfds[n].events = POLLOUT;
            pfds[n].revents = 0;
            ids[n++] = (uint32_t)i;
        }
        if (ppoll(pfds, n, waitp, NULL) < 0 && errno != EINTR) die("ppoll", strerror(errno));

        /* 5. Feed back: I/O results first, then the timer. */
        now = eyeballs_monotonic_ns();
        for (i = 0; i < (int)n; ++i) {
            int err = 0;
            socklen_t errlen = sizeof err;
            if (pfds[i].revents == 0 || !connecting[ids[i]]) continue;
            connecting[ids[i]] = 0;
            getsockopt(pfds[i].fd, SOL_SOCKET, SO_ERROR, &err, &errlen);
            if (err == 0) {
                eyeballs_machine_handle_connected(m, now, ids[i]);
            } else {
                eyeballs_machine_handle_connect_failed(m, now, ids[i], err);
            }
        }
        if (eyeballs_machine_next_timeout(m, &deadline) && deadline <= now) {
            eyeballs_machine_handle_timeout(m, now);
        }
    }

    /* The report: IPv4 won, attempt 1's error is recorded. */
    if (eyeballs_machine_report(m, &report) != EYEBALLS_OK) die("report", eyeballs_machine_last_error(m));
    if (report.outcome != EYEBALLS_OUTCOME_CONNECTED || winner < 0) die("not connected", report.message);
    eyeballs_endpoint_format(&report.remote, text, sizeof text);
    if (report.winner != 2 || strncmp(text, "127.0.0.1:", 10) != 0) die("wrong winner", text);
    if (report.attempt_count != 2 || report.error_count < 1) die("wrong report", "attempts/errors");
    if (eyeballs_machine_report_error(m, 0, &error) != EYEBALLS_OK || error.attempt != 1) {
        die("attempt 1's error is missing", eyeballs_machine_last_error(m));
    }
    for (i = 0; i <= MAX_ATTEMPTS; ++i) {
        if (fds[i] >= 0) die("a socket was left open", "");
    }

    /* The socket works: one byte each way. */
    peer = accept(listener, NULL, NULL);
    if (peer < 0) die("accept", strerror(errno));
    c = 'e';
    if (send(winner, &c, 1, MSG_NOSIGNAL) != 1) die("send", strerror(errno));
    while (recv(peer, &c, 1, 0) != 1) {
        if (errno != EINTR) die("recv", strerror(errno));
    }
    if (c != 'e') die("wrong byte", "");

    printf("c api: connected to %s (attempt 1 failed: %s)\n", text, error.message);
    close(peer);
    close(winner);
    eyeballs_machine_free(m);
    close(listener);
    if (refuser >= 0) close(refuser);
    return 0;
}
