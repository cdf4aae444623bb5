/* SPDX-License-Identifier: BSL-1.0 */
/* The C API (eyeballs/eyeballs.h) from a C99 program: races in virtual time,
 * driven exactly as a C event loop would drive them, asserting every action,
 * the deadlines, the report and its errors; then misuse and the helpers.
 *
 *   c_api_test            run every case
 *   c_api_test CASE       run one case (ctest runs each as its own test)
 *
 * Time is virtual: nanoseconds on a clock whose origin is far from 0, to show
 * that the machine takes the caller's clock as it is. */
#define _POSIX_C_SOURCE 200809L /* sockaddr_storage, ntohs under -std=c99 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <netinet/in.h>
#include <sys/socket.h>
#endif

#include "eyeballs/eyeballs.h"

static int failures = 0;

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                          \
        }                                                                        \
    } while (0)

#define CHECK_INT(actual, expected)                                                   \
    do {                                                                              \
        long long a_ = (long long)(actual), e_ = (long long)(expected);               \
        if (a_ != e_) {                                                               \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, \
                    #actual, a_, e_);                                                 \
            ++failures;                                                               \
        }                                                                             \
    } while (0)

#define CHECK_STR(actual, expected)                                                       \
    do {                                                                                  \
        const char* a_ = (actual);                                                        \
        const char* e_ = (expected);                                                      \
        if (a_ == NULL || strcmp(a_, e_) != 0) {                                          \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, \
                    #actual, a_ ? a_ : "(null)", e_);                                     \
            ++failures;                                                                   \
        }                                                                                 \
    } while (0)

/* Whether `text` contains `part`. */
#define CHECK_CONTAINS(text, part)                                                              \
    do {                                                                                        \
        const char* t_ = (text);                                                                \
        if (t_ == NULL || strstr(t_, (part)) == NULL) {                                         \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,      \
                    t_ ? t_ : "(null)", (part));                                                \
            ++failures;                                                                         \
        }                                                                                       \
    } while (0)

/* Virtual time: T(ms) is `ms` milliseconds after an arbitrary origin. */
#define ORIGIN INT64_C(7000000000000)
#define MS(x) ((int64_t)((x) * 1000000.0))
#define T(ms) (ORIGIN + MS(ms))

/* The next action, as its one-line text (eyeballs_action_format), or "none". */
static const char* next_text(eyeballs_machine* m, eyeballs_action* out) {
    static char text[128];
    eyeballs_action a;
    if (!eyeballs_machine_poll_action(m, &a)) {
        strcpy(text, "none");
        if (out) memset(out, 0, sizeof *out);
        return text;
    }
    if (out) *out = a;
    if (eyeballs_action_format(&a, text, sizeof text) == 0) strcpy(text, "(unprintable)");
    return text;
}

#define EXPECT_NEXT(m, expected) CHECK_STR(next_text((m), NULL), (expected))
#define EXPECT_NONE(m) CHECK_STR(next_text((m), NULL), "none")
#define CHECK_OK(call) CHECK_INT((call), EYEBALLS_OK)

static int64_t deadline(const eyeballs_machine* m) {
    int64_t at = 0;
    if (!eyeballs_machine_next_timeout(m, &at)) return -1;
    return at;
}

static eyeballs_endpoint ep(const char* text) {
    eyeballs_endpoint e;
    char message[128];
    memset(&e, 0, sizeof e);
    if (eyeballs_endpoint_parse(text, 443, &e, message, sizeof message) != EYEBALLS_OK) {
        fprintf(stderr, "cannot parse %s: %s\n", text, message);
        ++failures;
    }
    return e;
}

static eyeballs_machine* make(const eyeballs_config* config) {
    eyeballs_machine* m = NULL;
    char message[256];
    eyeballs_status s = eyeballs_machine_new(config, &m, message, sizeof message);
    if (s != EYEBALLS_OK) {
        fprintf(stderr, "eyeballs_machine_new: %s: %s\n", eyeballs_status_name(s), message);
        ++failures;
    }
    return m;
}

/* ---- races --------------------------------------------------------------- */

/* RFC 8305 §5: IPv6 first; IPv4 250 ms later; IPv4 wins, IPv6 is closed. */
static void success_race(void) {
    eyeballs_machine* m = make(NULL);
    eyeballs_endpoint remotes[2];
    eyeballs_action a;
    eyeballs_report r;
    eyeballs_attempt at;
    char text[EYEBALLS_ENDPOINT_TEXT_SIZE];
    if (!m) return;
    remotes[0] = ep("[2001:db8::1]:443");
    remotes[1] = ep("192.0.2.1:443");

    CHECK_INT(eyeballs_machine_started(m), 0);
    CHECK_INT(deadline(m), -1);
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    CHECK_INT(eyeballs_machine_started(m), 1);

    /* OPEN_SOCKET #1, checked field by field once. */
    CHECK_STR(next_text(m, &a), "open #1 [2001:db8::1]:443");
    CHECK_INT(a.kind, EYEBALLS_ACTION_OPEN_SOCKET);
    CHECK_INT(a.attempt, 1);
    CHECK_INT(a.family, EYEBALLS_FAMILY_V6);
    CHECK_INT(a.has_remote, 1);
    CHECK_INT(a.remote.port, 443);
    CHECK_INT(a.remote.address[0], 0x20);
    CHECK_INT(a.remote.address[15], 0x01);
    CHECK_INT(a.has_local, 0);
    EXPECT_NONE(m); /* nothing more until the socket is answered */
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    CHECK_STR(next_text(m, &a), "connect #1 [2001:db8::1]:443");
    CHECK_INT(a.kind, EYEBALLS_ACTION_CONNECT);
    EXPECT_NONE(m);
    CHECK_INT(eyeballs_machine_attempts_in_flight(m), 1);
    CHECK_INT(eyeballs_machine_candidates_left(m), 1);

    /* The Next Connection Attempt Timer: 250 ms after the first start. */
    CHECK_INT(deadline(m), T(250));
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(100))); /* early: nothing is due */
    EXPECT_NONE(m);
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(250)));
    EXPECT_NEXT(m, "open #2 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(250), 2, 0));
    CHECK_STR(next_text(m, &a), "connect #2 192.0.2.1:443");
    CHECK_INT(a.family, EYEBALLS_FAMILY_V4);
    EXPECT_NONE(m);
    CHECK_INT(deadline(m), -1); /* no candidate left: no timer */

    /* IPv4 connects 20 ms later: IPv6 is closed, the report names #2. */
    CHECK_OK(eyeballs_machine_handle_connected(m, T(270), 2));
    EXPECT_NEXT(m, "close #1");
    CHECK_STR(next_text(m, &a), "report connected #2 192.0.2.1:443");
    CHECK_INT(a.kind, EYEBALLS_ACTION_REPORT);
    CHECK_INT(a.outcome, EYEBALLS_OUTCOME_CONNECTED);
    CHECK_INT(a.attempt, 2);
    EXPECT_NONE(m);
    CHECK_INT(eyeballs_machine_finished(m), 1);

    /* A late success of the closed attempt changes nothing. */
    CHECK_OK(eyeballs_machine_handle_connected(m, T(280), 1));
    EXPECT_NONE(m);

    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.finished, 1);
    CHECK_INT(r.outcome, EYEBALLS_OUTCOME_CONNECTED);
    CHECK_INT(r.winner, 2);
    CHECK_INT(r.has_remote, 1);
    eyeballs_endpoint_format(&r.remote, text, sizeof text);
    CHECK_STR(text, "192.0.2.1:443");
    CHECK_INT(r.has_local, 0);
    CHECK_INT(r.code, 0);
    CHECK_STR(r.message, "");
    CHECK_INT(r.error_count, 0);
    CHECK_INT(r.attempt_count, 2);
    CHECK_INT(r.started_ns, T(0));
    CHECK_INT(r.finished_ns, T(270));

    /* Issue 16: the race's metrics, from the same snapshot. */
    {
        eyeballs_metrics mx;
        int stage;
        CHECK_OK(eyeballs_machine_report_metrics(m, &mx));
        CHECK_INT(mx.dns_aaaa_ns, -1); /* addresses mode: no DNS */
        CHECK_INT(mx.dns_a_ns, -1);
        CHECK_INT(mx.dns_queries, 0);
        CHECK_INT(mx.attempts_started, 2);
        CHECK_INT(mx.has_winner, 1);
        CHECK_INT(mx.winner_family, EYEBALLS_FAMILY_V4);
        CHECK_INT(mx.winner_protocol, 0);
        CHECK_INT(mx.time_to_connect_ns, T(270) - T(0));
        for (stage = 0; stage < 6; ++stage) CHECK_INT(mx.errors_by_stage[stage], 0);
        CHECK_INT(mx.duplicates_dropped, 0);
        CHECK_INT(mx.duration_ns, T(270) - T(0));
        CHECK_INT(eyeballs_machine_report_metrics(m, NULL), EYEBALLS_ERR_ARGUMENT);
    }

    CHECK_OK(eyeballs_machine_report_attempt(m, 0, &at));
    CHECK_INT(at.attempt, 1);
    CHECK_INT(at.state, EYEBALLS_ATTEMPT_CLOSED);
    CHECK_INT(at.started_ns, T(0));
    CHECK_INT(at.has_ended, 1);
    CHECK_INT(at.ended_ns, T(270));
    CHECK_OK(eyeballs_machine_report_attempt(m, 1, &at));
    CHECK_INT(at.attempt, 2);
    CHECK_INT(at.state, EYEBALLS_ATTEMPT_CONNECTED);
    CHECK_INT(at.started_ns, T(250));
    CHECK_INT(at.ended_ns, T(270));
    CHECK_INT(eyeballs_machine_report_attempt(m, 2, &at), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "past the end");

    eyeballs_machine_free(m);
}

/* Every attempt refused: fail fast (RFC 8305 §5) keeps the race moving, the
 * failure report lists every error and a summary with the shared errno. */
static void failed_race(void) {
    eyeballs_machine* m = make(NULL);
    eyeballs_endpoint remotes[3];
    eyeballs_report r;
    eyeballs_error e;
    if (!m) return;
    remotes[0] = ep("[2001:db8::1]:443");
    remotes[1] = ep("192.0.2.1:443");
    remotes[2] = ep("[2001:db8::2]:443");

    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 3));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 [2001:db8::1]:443");

    /* #1 refused at 100 ms: #2 starts at once, not at 250 ms. */
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(100), 1, ECONNREFUSED));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "open #2 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(100), 2, 0));
    EXPECT_NEXT(m, "connect #2 192.0.2.1:443");
    EXPECT_NONE(m);
    CHECK_INT(deadline(m), T(350));

    /* #2 refused 5 ms later: the 10 ms floor defers #3 to 110 ms. */
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(105), 2, ECONNREFUSED));
    EXPECT_NEXT(m, "close #2");
    EXPECT_NONE(m);
    CHECK_INT(deadline(m), T(110));
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(110)));
    EXPECT_NEXT(m, "open #3 [2001:db8::2]:443");

    /* #3's socket cannot even be created: no CLOSE for it; the race is lost. */
    CHECK_OK(eyeballs_machine_handle_opened(m, T(110), 3, EMFILE));
    EXPECT_NEXT(m, "report failed");
    EXPECT_NONE(m);

    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.outcome, EYEBALLS_OUTCOME_FAILED);
    CHECK_INT(r.winner, 0);
    CHECK_INT(r.has_remote, 0);
    CHECK_INT(r.code, 0); /* ECONNREFUSED, ECONNREFUSED, EMFILE: no shared errno */
    CHECK_STR(r.message,
              "multiple errors: connect to [2001:db8::1]:443: ECONNREFUSED, "
              "connect to 192.0.2.1:443: ECONNREFUSED, "
              "open socket for [2001:db8::2]:443: EMFILE");
    CHECK_INT(r.overall_timeout, 0);
    CHECK_INT(r.error_count, 3);
    CHECK_INT(r.attempt_count, 3);
    CHECK_INT(r.finished_ns, T(110));

    CHECK_OK(eyeballs_machine_report_error(m, 0, &e));
    CHECK_INT(e.stage, EYEBALLS_STAGE_CONNECT);
    CHECK_INT(e.attempt, 1);
    CHECK_INT(e.has_remote, 1);
    CHECK_INT(e.remote.family, EYEBALLS_FAMILY_V6);
    CHECK_INT(e.has_family, 0);
    CHECK_INT(e.has_local, 0);
    CHECK_INT(e.code, ECONNREFUSED);
    CHECK_STR(e.errno_name, "ECONNREFUSED");
    CHECK_STR(e.detail, "");
    CHECK_STR(e.message, "connect to [2001:db8::1]:443: ECONNREFUSED");
    CHECK_OK(eyeballs_machine_report_error(m, 1, &e));
    CHECK_INT(e.attempt, 2);
    CHECK_STR(e.message, "connect to 192.0.2.1:443: ECONNREFUSED");
    CHECK_OK(eyeballs_machine_report_error(m, 2, &e));
    CHECK_INT(e.stage, EYEBALLS_STAGE_OPEN);
    CHECK_INT(e.attempt, 3);
    CHECK_STR(e.errno_name, "EMFILE");
    CHECK_INT(eyeballs_machine_report_error(m, 3, &e), EYEBALLS_ERR_ARGUMENT);

    eyeballs_machine_free(m);
}

/* The same errno everywhere: the summary keeps it (aiohappyeyeballs). */
static void failed_race_shared_errno(void) {
    eyeballs_machine* m = make(NULL);
    eyeballs_endpoint remotes[2];
    eyeballs_report r;
    if (!m) return;
    remotes[0] = ep("192.0.2.1:80");
    remotes[1] = ep("198.51.100.1:80");
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 192.0.2.1:80");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 192.0.2.1:80");
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(20), 1, ENETUNREACH));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "open #2 198.51.100.1:80");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(20), 2, 0));
    EXPECT_NEXT(m, "connect #2 198.51.100.1:80");
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(40), 2, ENETUNREACH));
    EXPECT_NEXT(m, "close #2");
    EXPECT_NEXT(m, "report failed");
    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.code, ENETUNREACH);
    CHECK_STR(r.message, "multiple errors: connect to 192.0.2.1:80: ENETUNREACH, "
                         "connect to 198.51.100.1:80: ENETUNREACH");
    eyeballs_machine_free(m);
}

/* DNS mode (RFC 8305 §3): A answers first, the resolution delay waits for
 * AAAA, a negative AAAA ends the wait at once; the only attempt is refused,
 * and the report lists the resolve error first. */
static void dns_race(void) {
    eyeballs_machine* m = make(NULL);
    eyeballs_endpoint v4 = ep("192.0.2.7:443");
    eyeballs_action a;
    eyeballs_report r;
    eyeballs_error e;
    if (!m) return;

    CHECK_OK(eyeballs_machine_start_resolving(m, T(0)));
    CHECK_STR(next_text(m, &a), "resolve AAAA");
    CHECK_INT(a.kind, EYEBALLS_ACTION_RESOLVE);
    CHECK_INT(a.family, EYEBALLS_FAMILY_V6);
    CHECK_STR(next_text(m, &a), "resolve A");
    CHECK_INT(a.family, EYEBALLS_FAMILY_V4);
    EXPECT_NONE(m);

    CHECK_OK(eyeballs_machine_handle_resolved(m, T(10), EYEBALLS_FAMILY_V4, &v4, 1));
    EXPECT_NONE(m);                /* waiting for AAAA ... */
    CHECK_INT(deadline(m), T(60)); /* ... for 50 ms at most */
    CHECK_OK(eyeballs_machine_handle_resolve_failed(m, T(30), EYEBALLS_FAMILY_V6, 0, NULL));
    EXPECT_NEXT(m, "open #1 192.0.2.7:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(30), 1, 0));
    EXPECT_NEXT(m, "connect #1 192.0.2.7:443");
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(31), 1, ECONNREFUSED));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "report failed");
    EXPECT_NONE(m);

    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.code, ECONNREFUSED); /* the one attempt error is the summary */
    CHECK_STR(r.message, "connect to 192.0.2.7:443: ECONNREFUSED");
    CHECK_INT(r.error_count, 2);
    CHECK_OK(eyeballs_machine_report_error(m, 0, &e));
    CHECK_INT(e.stage, EYEBALLS_STAGE_RESOLVE);
    CHECK_INT(e.attempt, 0);
    CHECK_INT(e.has_family, 1);
    CHECK_INT(e.family, EYEBALLS_FAMILY_V6);
    CHECK_INT(e.has_remote, 0);
    CHECK_INT(e.code, 0);
    CHECK(e.errno_name == NULL);
    CHECK_STR(e.message, "resolve AAAA: no data");
    CHECK_OK(eyeballs_machine_report_error(m, 1, &e));
    CHECK_INT(e.stage, EYEBALLS_STAGE_CONNECT);
    CHECK_INT(e.attempt, 1);

    eyeballs_machine_free(m);
}

/* Both DNS families fail: the summary comes from the resolve errors, and the
 * resolver's text is kept. */
static void dns_both_fail(void) {
    eyeballs_machine* m = make(NULL);
    eyeballs_report r;
    eyeballs_error e;
    if (!m) return;
    CHECK_OK(eyeballs_machine_start_resolving(m, T(0)));
    EXPECT_NEXT(m, "resolve AAAA");
    EXPECT_NEXT(m, "resolve A");
    CHECK_OK(eyeballs_machine_handle_resolve_failed(m, T(5), EYEBALLS_FAMILY_V4, ETIMEDOUT,
                                                    "server timed out"));
    EXPECT_NONE(m);
    /* An empty positive answer counts as "no data". */
    CHECK_OK(eyeballs_machine_handle_resolved(m, T(8), EYEBALLS_FAMILY_V6, NULL, 0));
    EXPECT_NEXT(m, "report failed");
    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.error_count, 2);
    CHECK_INT(r.attempt_count, 0);
    CHECK_OK(eyeballs_machine_report_error(m, 0, &e));
    CHECK_INT(e.family, EYEBALLS_FAMILY_V4);
    CHECK_INT(e.code, ETIMEDOUT);
    CHECK_STR(e.detail, "server timed out");
    CHECK_CONTAINS(e.message, "resolve A");
    CHECK_CONTAINS(e.message, "server timed out");
    CHECK_OK(eyeballs_machine_report_error(m, 1, &e));
    CHECK_STR(e.message, "resolve AAAA: no data");
    CHECK_CONTAINS(r.message, "multiple errors: ");
    CHECK_INT(r.code, 0);
    eyeballs_machine_free(m);
}

/* Local bind candidates (docs/behaviour.md §1 rule 7): no IPv6 candidate fails attempt 1
 * before it opens a socket; attempt 2 binds the second IPv4 candidate after
 * the first fails, and wins. */
static void local_bind(void) {
    eyeballs_config config;
    eyeballs_endpoint locals[2];
    eyeballs_endpoint remotes[2];
    eyeballs_machine* m;
    eyeballs_action a;
    eyeballs_report r;
    eyeballs_error e;
    char text[EYEBALLS_ENDPOINT_TEXT_SIZE];

    locals[0] = ep("192.0.2.9:0");
    locals[1] = ep("192.0.2.10:0");
    eyeballs_config_init(&config);
    config.local = locals;
    config.local_count = 2;
    m = make(&config);
    if (!m) return;
    locals[0].port = 9; /* the machine copied the candidates */

    remotes[0] = ep("[2001:db8::1]:443");
    remotes[1] = ep("192.0.2.1:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    /* #1 fails at once (no socket, no CLOSE); fail fast, with the 10 ms floor. */
    EXPECT_NONE(m);
    CHECK_INT(eyeballs_machine_attempts_started(m), 1);
    CHECK_INT(deadline(m), T(10));
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(10)));
    EXPECT_NEXT(m, "open #2 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(10), 2, 0));
    CHECK_STR(next_text(m, &a), "bind #2 192.0.2.9:0");
    CHECK_INT(a.kind, EYEBALLS_ACTION_BIND);
    CHECK_INT(a.has_local, 1);
    CHECK_OK(eyeballs_machine_handle_bound(m, T(10), 2, EADDRINUSE));
    EXPECT_NEXT(m, "bind #2 192.0.2.10:0");
    CHECK_OK(eyeballs_machine_handle_bound(m, T(10), 2, 0));
    CHECK_STR(next_text(m, &a), "connect #2 192.0.2.1:443 from 192.0.2.10:0");
    CHECK_INT(a.has_local, 1);
    CHECK_OK(eyeballs_machine_handle_connected(m, T(15), 2));
    EXPECT_NEXT(m, "report connected #2 192.0.2.1:443");
    EXPECT_NONE(m);

    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.outcome, EYEBALLS_OUTCOME_CONNECTED);
    CHECK_INT(r.has_local, 1);
    eyeballs_endpoint_format(&r.local, text, sizeof text);
    CHECK_STR(text, "192.0.2.10:0");
    /* The errors are kept even though the race was won. */
    CHECK_INT(r.error_count, 2);
    CHECK_OK(eyeballs_machine_report_error(m, 0, &e));
    CHECK_INT(e.stage, EYEBALLS_STAGE_BIND);
    CHECK_INT(e.attempt, 1);
    CHECK_INT(e.code, 0);
    CHECK_STR(e.message, "no local address of family IPv6");
    CHECK_OK(eyeballs_machine_report_error(m, 1, &e));
    CHECK_INT(e.stage, EYEBALLS_STAGE_BIND);
    CHECK_INT(e.attempt, 2);
    CHECK_INT(e.has_local, 1);
    eyeballs_endpoint_format(&e.local, text, sizeof text);
    CHECK_STR(text, "192.0.2.9:0");
    CHECK_STR(e.message, "bind to 192.0.2.9:0 for 192.0.2.1:443: EADDRINUSE");
    eyeballs_machine_free(m);
}

/* Attempt and overall timeouts (docs/behaviour.md §1 rule 8). */
static void timeouts(void) {
    eyeballs_config config;
    eyeballs_endpoint remotes[2];
    eyeballs_machine* m;
    eyeballs_report r;
    eyeballs_error e;

    eyeballs_config_init(&config);
    config.attempt_delay_ns = EYEBALLS_NONE; /* sequential */
    config.attempt_timeout_ns = MS(100);
    config.overall_timeout_ns = MS(150);
    m = make(&config);
    if (!m) return;
    remotes[0] = ep("192.0.2.1:443");
    remotes[1] = ep("192.0.2.2:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 192.0.2.1:443");
    EXPECT_NONE(m); /* sequential: nothing starts while #1 is in flight */
    CHECK_INT(deadline(m), T(100));
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(100)));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "open #2 192.0.2.2:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(100), 2, 0));
    EXPECT_NEXT(m, "connect #2 192.0.2.2:443");
    CHECK_INT(deadline(m), T(150));
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(150)));
    EXPECT_NEXT(m, "close #2");
    EXPECT_NEXT(m, "report failed");
    EXPECT_NONE(m);

    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.overall_timeout, 1);
    CHECK_INT(r.code, ETIMEDOUT);
    CHECK_STR(r.message, "overall timeout after 150 ms");
    CHECK_INT(r.error_count, 1);
    CHECK_OK(eyeballs_machine_report_error(m, 0, &e));
    CHECK_INT(e.stage, EYEBALLS_STAGE_TIMEOUT);
    CHECK_INT(e.code, ETIMEDOUT);
    CHECK_STR(e.errno_name, "ETIMEDOUT");
    CHECK_CONTAINS(e.detail, "100");
    eyeballs_machine_free(m);
}

/* Issue 14: INT64_MAX as a timeout means "never" (the deadline saturates at
 * the end of representable time instead of wrapping round to the start), and
 * a start close to INT64_MAX works: its deadlines saturate too. */
static void huge_times(void) {
    eyeballs_config config;
    eyeballs_endpoint remotes[2];
    eyeballs_machine* m;
    eyeballs_report r;
    int64_t s;

    eyeballs_config_init(&config);
    config.attempt_timeout_ns = INT64_MAX;
    config.overall_timeout_ns = INT64_MAX;
    m = make(&config);
    if (!m) return;
    remotes[0] = ep("[2001:db8::1]:443");
    remotes[1] = ep("192.0.2.1:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 [2001:db8::1]:443");
    EXPECT_NONE(m);
    CHECK_INT(deadline(m), T(250)); /* the attempt delay, not a wrapped timeout */
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(1))); /* wrapped, this would end it */
    EXPECT_NONE(m);
    CHECK_INT(eyeballs_machine_finished(m), 0);
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(250)));
    EXPECT_NEXT(m, "open #2 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(250), 2, 0));
    EXPECT_NEXT(m, "connect #2 192.0.2.1:443");
    /* Only the timeouts are left: past the end of time, so INT64_MAX. */
    CHECK_INT(deadline(m), INT64_MAX);
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(3600000)));
    EXPECT_NONE(m);
    CHECK_INT(eyeballs_machine_finished(m), 0);
    CHECK_OK(eyeballs_machine_handle_connected(m, T(3600001), 2));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "report connected #2 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.outcome, EYEBALLS_OUTCOME_CONNECTED);
    CHECK_INT(r.overall_timeout, 0);
    eyeballs_machine_free(m);

    /* A start 100 ms before the end of time: the attempt timeout (50 ms)
     * still fires where it should; the attempt delay (250 ms) saturates. */
    eyeballs_config_init(&config);
    config.attempt_timeout_ns = MS(50);
    config.overall_timeout_ns = INT64_MAX;
    m = make(&config);
    if (!m) return;
    s = INT64_MAX - MS(100);
    CHECK_OK(eyeballs_machine_start(m, s, remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, s, 1, 0));
    EXPECT_NEXT(m, "connect #1 [2001:db8::1]:443");
    CHECK_INT(deadline(m), s + MS(50));
    CHECK_OK(eyeballs_machine_handle_timeout(m, s + MS(50)));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "open #2 192.0.2.1:443"); /* fail fast */
    CHECK_OK(eyeballs_machine_handle_opened(m, s + MS(50), 2, 0));
    EXPECT_NEXT(m, "connect #2 192.0.2.1:443");
    CHECK_INT(deadline(m), INT64_MAX); /* s + 100 ms: exactly the end */
    CHECK_OK(eyeballs_machine_handle_connected(m, s + MS(60), 2));
    EXPECT_NEXT(m, "report connected #2 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.outcome, EYEBALLS_OUTCOME_CONNECTED);
    CHECK_INT(r.started_ns, s);
    CHECK_INT(r.finished_ns, s + MS(60));
    eyeballs_machine_free(m);

    /* The most negative start and the longest timeouts, end to end. */
    eyeballs_config_init(&config);
    config.attempt_timeout_ns = INT64_MAX;
    config.overall_timeout_ns = INT64_MAX;
    m = make(&config);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, INT64_MIN, remotes, 1));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, INT64_MIN, 1, 0));
    EXPECT_NEXT(m, "connect #1 [2001:db8::1]:443");
    {
        int64_t at = 0;
        CHECK_INT(eyeballs_machine_next_timeout(m, &at), 1);
        CHECK_INT(at, -1); /* INT64_MIN + INT64_MAX */
    }
    CHECK_OK(eyeballs_machine_handle_timeout(m, -2));
    EXPECT_NONE(m);
    CHECK_OK(eyeballs_machine_handle_timeout(m, -1));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "report failed");
    eyeballs_machine_free(m);
}

/* Issue 14 item 9: a remote with port 0 is bad input: start fails with
 * EYEBALLS_ERR_ARGUMENT and a message that says so; an answer's port-0
 * address is left out. */
static void port_zero(void) {
    eyeballs_machine* m = make(NULL);
    eyeballs_endpoint remotes[2];
    if (!m) return;
    remotes[0] = ep("192.0.2.1:443");
    remotes[1] = ep("[2001:db8::1]:0");
    CHECK_INT(eyeballs_machine_start(m, T(0), remotes, 2), EYEBALLS_ERR_ARGUMENT);
    CHECK_STR(eyeballs_machine_last_error(m),
              "remote [2001:db8::1]:0 (address 2 of 2) has port 0, which is not a valid "
              "remote port");
    CHECK_INT(eyeballs_machine_started(m), 0);
    EXPECT_NONE(m);
    eyeballs_machine_free(m);

    m = make(NULL);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start_resolving(m, T(0)));
    EXPECT_NEXT(m, "resolve AAAA");
    EXPECT_NEXT(m, "resolve A");
    CHECK_OK(eyeballs_machine_handle_resolved(m, T(1), EYEBALLS_FAMILY_V6, remotes + 1, 1));
    EXPECT_NONE(m); /* the only address had port 0: as "no data" */
    CHECK_OK(eyeballs_machine_handle_resolved(m, T(2), EYEBALLS_FAMILY_V4, remotes, 1));
    EXPECT_NEXT(m, "open #1 192.0.2.1:443");
    eyeballs_machine_free(m);
}

/* Issue 14 item 8: max_endpoints caps the endpoints a race takes; the report
 * counts what was dropped; 0 is rejected naming the setting. */
static void max_endpoints(void) {
    eyeballs_config config;
    eyeballs_endpoint remotes[3];
    eyeballs_machine* m = NULL;
    eyeballs_report r;
    char message[256];

    eyeballs_config_init(&config);
    CHECK_INT(config.max_endpoints, 64);
    config.max_endpoints = 0;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "max-endpoints 0");
    CHECK(m == NULL);

    config.max_endpoints = 1;
    m = make(&config);
    if (!m) return;
    remotes[0] = ep("192.0.2.1:443");
    remotes[1] = ep("192.0.2.2:443");
    remotes[2] = ep("[2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 3));
    EXPECT_NEXT(m, "open #1 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 192.0.2.1:443");
    CHECK_INT(eyeballs_machine_candidates_left(m), 0);
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(1), 1, ECONNREFUSED));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "report failed");
    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.dropped, 2);
    CHECK_INT(r.attempt_count, 1);
    eyeballs_machine_free(m);
}

/* Cancel closes everything in flight and reports `cancelled`; inputs after
 * the end change nothing. */
static void cancel(void) {
    eyeballs_machine* m = make(NULL);
    eyeballs_endpoint remotes[2];
    eyeballs_report r;
    eyeballs_action a;
    if (!m) return;
    remotes[0] = ep("[2001:db8::1]:443");
    remotes[1] = ep("192.0.2.1:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(250)));
    EXPECT_NEXT(m, "open #2 192.0.2.1:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(250), 2, 0));
    EXPECT_NEXT(m, "connect #2 192.0.2.1:443");

    CHECK_OK(eyeballs_machine_cancel(m, T(300)));
    /* The order of CLOSE actions at one instant is free (docs/behaviour.md §5). */
    {
        int closed[3] = {0, 0, 0};
        int i;
        for (i = 0; i < 2; ++i) {
            CHECK(eyeballs_machine_poll_action(m, &a) == 1);
            CHECK_INT(a.kind, EYEBALLS_ACTION_CLOSE);
            if (a.attempt >= 1 && a.attempt <= 2) closed[a.attempt]++;
        }
        CHECK_INT(closed[1], 1);
        CHECK_INT(closed[2], 1);
    }
    CHECK_STR(next_text(m, &a), "report cancelled");
    CHECK_INT(a.outcome, EYEBALLS_OUTCOME_CANCELLED);
    EXPECT_NONE(m);
    CHECK_INT(deadline(m), -1);

    CHECK_OK(eyeballs_machine_handle_connected(m, T(301), 2));
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(900)));
    CHECK_OK(eyeballs_machine_cancel(m, T(901)));
    EXPECT_NONE(m);

    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.outcome, EYEBALLS_OUTCOME_CANCELLED);
    CHECK_INT(r.code, ECANCELED);
    CHECK_STR(r.message, "cancelled by the caller");
    CHECK_INT(r.finished_ns, T(300));
    eyeballs_machine_free(m);
}

/* ---- beyond RFC 8305's minimum: history, sorting, NAT64 -------------------- */

/* A race writes each attempt's outcome into the history; the next race with
 * attempt-delay=auto waits 3 × the recorded RTT before its second attempt. */
static void history(void) {
    eyeballs_history* h = NULL;
    eyeballs_config config;
    eyeballs_machine* m;
    eyeballs_endpoint remotes[2];
    int64_t rtt = 0;

    CHECK_OK(eyeballs_history_new(16, &h));
    if (!h) return;
    remotes[0] = ep("[2001:db8::1]:443");
    remotes[1] = ep("192.0.2.1:443");
    eyeballs_config_init(&config);
    config.history = h;
    config.network = "wlan0";

    m = make(&config);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_connected(m, T(40), 1));
    EXPECT_NEXT(m, "report connected #1 [2001:db8::1]:443");
    eyeballs_machine_free(m);

    CHECK_INT(eyeballs_history_size(h), 1);
    CHECK_INT(eyeballs_history_rtt(h, "wlan0", &remotes[0], &rtt), 1);
    CHECK_INT(rtt, MS(40));
    CHECK_INT(eyeballs_history_rtt(h, NULL, &remotes[0], &rtt), 0); /* other network */
    CHECK_INT(eyeballs_history_rtt(h, "wlan0", &remotes[1], &rtt), 0);

    /* attempt-delay=auto: 3 × 40 ms = 120 ms, inside [100 ms, 2 s]. */
    config.auto_attempt_delay = 1;
    m = make(&config);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(1000), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(1000), 1, 0));
    EXPECT_NEXT(m, "connect #1 [2001:db8::1]:443");
    CHECK_INT(deadline(m), T(1120));
    /* A failure is recorded too: the address no longer has an expected RTT. */
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(1010), 1, ECONNREFUSED));
    CHECK_INT(eyeballs_history_rtt(h, "wlan0", &remotes[0], &rtt), 0);
    eyeballs_machine_free(m);

    /* The caller can record what it learned elsewhere, and forget. */
    CHECK_OK(eyeballs_history_record_success(h, NULL, &remotes[1], MS(7), T(0)));
    CHECK_INT(eyeballs_history_rtt(h, "", &remotes[1], &rtt), 1);
    CHECK_INT(rtt, MS(7));
    CHECK_OK(eyeballs_history_record_failure(h, NULL, &remotes[1], T(1)));
    CHECK_INT(eyeballs_history_rtt(h, NULL, &remotes[1], &rtt), 0);
    CHECK_INT(eyeballs_history_size(h), 2);
    eyeballs_history_clear_network(h, "wlan0");
    CHECK_INT(eyeballs_history_size(h), 1);
    eyeballs_history_clear(h);
    CHECK_INT(eyeballs_history_size(h), 0);
    CHECK_INT(eyeballs_history_record_success(NULL, NULL, &remotes[1], 0, 0), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_history_new(1, NULL), EYEBALLS_ERR_ARGUMENT);
    eyeballs_history_free(h);
    eyeballs_history_free(NULL);
}

/* The source lookup: ::1 has no source (unusable, RFC 6724 rule 1). */
static int lookup_calls = 0;
static int lookup(void* data, const eyeballs_endpoint* destination, eyeballs_source_info* info) {
    CHECK(data == (void*)&lookup_calls);
    CHECK_INT(info->home, 1); /* the defaults */
    CHECK_INT(info->native, 1);
    CHECK_INT(info->has_source, 0);
    ++lookup_calls;
    if (destination->address[15] == 1 && destination->address[0] == 0) return 1; /* ::1: unusable */
    info->has_source = 1;
    info->source = ep("[2001:db8::99]:0");
    return 1;
}

/* RFC 6724 sorting through the C configuration. */
static void sorting(void) {
    eyeballs_config config;
    eyeballs_machine* m;
    eyeballs_endpoint remotes[2];
    remotes[0] = ep("[2001:db8::2]:443"); /* precedence 5 (2001::/32) */
    remotes[1] = ep("[::1]:443");         /* precedence 50 */

    /* Addresses mode keeps the given order by default ... */
    m = make(NULL);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::2]:443");
    eyeballs_machine_free(m);

    /* ... and sorts when asked: rule 6 puts ::1 first. */
    eyeballs_config_init(&config);
    config.sort = EYEBALLS_SORT_RFC6724;
    m = make(&config);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [::1]:443");
    eyeballs_machine_free(m);

    /* With source information, rule 1 (no source for ::1) decides first. */
    config.source_lookup = lookup;
    config.source_lookup_data = &lookup_calls;
    m = make(&config);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::2]:443");
    CHECK_INT(lookup_calls, 2);
    eyeballs_machine_free(m);
}

/* An IPv6-only network with a NAT64 prefix: IPv4 is synthesized (RFC 6052). */
static void nat64(void) {
    eyeballs_config config;
    eyeballs_machine* m;
    eyeballs_endpoint remote = ep("198.51.100.1:443");
    char message[160];

    eyeballs_config_init(&config);
    config.ipv4_unavailable = 1;
    config.has_pref64 = 1;
    CHECK_OK(eyeballs_pref64_parse("2001:db8:64::/96", &config.pref64, message, sizeof message));
    CHECK_INT(config.pref64.length, 96);
    m = make(&config);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), &remote, 1));
    EXPECT_NEXT(m, "open #1 [2001:db8:64::c633:6401]:443");
    eyeballs_machine_free(m);

    CHECK_INT(eyeballs_pref64_parse("2001:db8::/60", &config.pref64, message, sizeof message),
              EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "RFC 6052");
    CHECK_INT(config.pref64.length, 96); /* unchanged */
}

/* ---- misuse: returned errors with messages, nothing changed ---------------- */

static void misuse(void) {
    eyeballs_config config;
    eyeballs_machine* m = NULL;
    eyeballs_endpoint remotes[1];
    eyeballs_endpoint bad;
    eyeballs_report r;
    eyeballs_error e;
    char message[256];
    char tiny[8];

    /* Invalid configurations: rejected at creation, with the rule. */
    eyeballs_config_init(&config);
    config.attempt_delay_ns = MS(5);
    m = (eyeballs_machine*)&config; /* must be reset to NULL on failure */
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK(m == NULL);
    CHECK_CONTAINS(message, "attempt-delay");
    CHECK_CONTAINS(message, "10 ms");
    CHECK_CONTAINS(message, "2 s");

    eyeballs_config_init(&config);
    config.resolution_delay_ns = MS(2500);
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "resolution-delay");

    eyeballs_config_init(&config);
    config.family_count = 0;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "family-count");

    eyeballs_config_init(&config);
    config.attempt_timeout_ns = 0;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "attempt-timeout");

    eyeballs_config_init(&config);
    config.interleave = 7;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "interleave");

    eyeballs_config_init(&config);
    memset(&bad, 0, sizeof bad);
    bad.family = 9;
    config.local = &bad;
    config.local_count = 1;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "local[0]");
    config.local = NULL;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);

    eyeballs_config_init(&config);
    config.sort = 9;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "sort");

    eyeballs_config_init(&config);
    config.has_pref64 = 1;
    config.pref64.length = 60;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "pref64 length 60");
    config.pref64.length = 32;
    config.pref64.prefix[5] = 1; /* past the length */
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "past its length");

    eyeballs_config_init(&config);
    config.delay_multiplier = 0.5;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "delay-multiplier");

    eyeballs_config_init(&config);
    config.attempt_delay_ns = EYEBALLS_NONE;
    config.auto_attempt_delay = 1;
    CHECK_INT(eyeballs_machine_new(&config, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "attempt-delay=auto");

    /* Messages are truncated to the buffer, always NUL-terminated; no buffer is fine. */
    eyeballs_config_init(&config);
    config.attempt_delay_ns = MS(5);
    CHECK_INT(eyeballs_machine_new(&config, &m, tiny, sizeof tiny), EYEBALLS_ERR_CONFIG);
    CHECK_INT(strlen(tiny), sizeof tiny - 1);
    CHECK_INT(eyeballs_machine_new(&config, &m, NULL, 0), EYEBALLS_ERR_CONFIG);
    CHECK_INT(eyeballs_machine_new(&config, NULL, message, sizeof message), EYEBALLS_ERR_ARGUMENT);

    /* Calls on a machine: errors with a message from last_error. */
    m = make(NULL);
    if (!m) return;
    CHECK_STR(eyeballs_machine_last_error(m), "");
    CHECK_INT(eyeballs_machine_start(m, T(0), NULL, 0), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "empty");
    CHECK_INT(eyeballs_machine_started(m), 0); /* nothing changed */
    remotes[0] = bad;
    CHECK_INT(eyeballs_machine_start(m, T(0), remotes, 1), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "remotes[0]");
    CHECK_INT(eyeballs_machine_report_error(m, 0, &e), EYEBALLS_ERR_STATE);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "eyeballs_machine_report");
    {
        eyeballs_metrics mx;
        CHECK_INT(eyeballs_machine_report_metrics(m, &mx), EYEBALLS_ERR_STATE);
        CHECK_CONTAINS(eyeballs_machine_last_error(m), "eyeballs_machine_report");
    }

    remotes[0] = ep("192.0.2.1:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 1));
    CHECK_INT(eyeballs_machine_start(m, T(1), remotes, 1), EYEBALLS_ERR_STATE);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "already started");
    CHECK_INT(eyeballs_machine_start_resolving(m, T(1)), EYEBALLS_ERR_STATE);
    EXPECT_NEXT(m, "open #1 192.0.2.1:443"); /* the first start stands */
    EXPECT_NONE(m);
    CHECK_INT(eyeballs_machine_handle_resolved(m, T(1), 5, remotes, 1), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "family");
    CHECK_INT(eyeballs_machine_handle_resolve_failed(m, T(1), -1, 0, NULL), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_machine_report(m, NULL), EYEBALLS_ERR_ARGUMENT);
    /* An unfinished race's report is the state so far. */
    CHECK_OK(eyeballs_machine_report(m, &r));
    CHECK_INT(r.finished, 0);
    CHECK_INT(r.outcome, EYEBALLS_OUTCOME_FAILED);
    CHECK_STR(r.message, "the race has not finished");
    /* Unknown attempts are ignored and reported as misuse (ERR_STATE), like
     * the C++ InputStatus::unknown_attempt; out-of-order inputs too. */
    CHECK_INT(eyeballs_machine_handle_connected(m, T(2), 42), EYEBALLS_ERR_STATE);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "eyeballs_machine_handle_connected");
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "attempt 42");
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "unknown_attempt");
    CHECK_INT(eyeballs_machine_handle_opened(m, T(2), 0, 0), EYEBALLS_ERR_STATE);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "attempt 0");
    CHECK_INT(eyeballs_machine_handle_connected(m, T(2), 1), EYEBALLS_ERR_STATE);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "attempt 1");
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "out_of_order");
    CHECK_INT(eyeballs_machine_handle_bound(m, T(2), 1, 0), EYEBALLS_ERR_STATE);
    CHECK_INT(eyeballs_machine_handle_connect_failed(m, T(2), 1, ECONNREFUSED), EYEBALLS_ERR_STATE);
    CHECK_INT(eyeballs_machine_handle_resolved(m, T(2), EYEBALLS_FAMILY_V6, remotes, 1),
              EYEBALLS_ERR_STATE); /* address mode: no question was asked */
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "AAAA");
    CHECK_INT(eyeballs_machine_handle_resolve_failed(m, T(2), EYEBALLS_FAMILY_V4, 0, NULL),
              EYEBALLS_ERR_STATE);
    EXPECT_NONE(m);
    CHECK_OK(eyeballs_machine_cancel(m, T(3)));
    EXPECT_NEXT(m, "close #1");
    EXPECT_NEXT(m, "report cancelled");
    CHECK_INT(eyeballs_machine_start(m, T(4), remotes, 1), EYEBALLS_ERR_STATE);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "already finished");
    /* Late inputs after the end are fine: EYEBALLS_OK. */
    CHECK_OK(eyeballs_machine_handle_connected(m, T(4), 1));
    CHECK_OK(eyeballs_machine_handle_connect_failed(m, T(4), 1, ECONNRESET));
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(4)));
    CHECK_OK(eyeballs_machine_cancel(m, T(4)));
    CHECK_INT(eyeballs_machine_handle_opened(m, T(4), 9, 0), EYEBALLS_ERR_STATE); /* never issued */
    eyeballs_machine_free(m);

    /* NULL machine: every call refuses, none crashes. */
    CHECK_INT(eyeballs_machine_start(NULL, 0, remotes, 1), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_machine_start_resolving(NULL, 0), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_machine_cancel(NULL, 0), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_machine_handle_timeout(NULL, 0), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_machine_handle_connected(NULL, 0, 1), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_machine_report(NULL, &r), EYEBALLS_ERR_ARGUMENT);
    CHECK_INT(eyeballs_machine_poll_action(NULL, NULL), 0);
    CHECK_INT(eyeballs_machine_next_timeout(NULL, NULL), 0);
    CHECK_STR(eyeballs_machine_last_error(NULL), "");
    eyeballs_machine_free(NULL);
}

/* ---- helpers: endpoints, names, version, clock ---------------------------- */

static void helpers(void) {
    eyeballs_endpoint e;
    eyeballs_endpoint back;
    struct sockaddr_storage ss;
    char text[EYEBALLS_ENDPOINT_TEXT_SIZE];
    char message[128];
    size_t len;
    int64_t t1, t2;
    eyeballs_action a;

    /* Parse and print in RFC 5952 form. */
    CHECK_OK(eyeballs_endpoint_parse("[2001:DB8:0:0:0:0:0:1]:8443", 443, &e, message, sizeof message));
    CHECK_INT(e.family, EYEBALLS_FAMILY_V6);
    CHECK_INT(e.port, 8443);
    CHECK_INT(eyeballs_endpoint_format(&e, text, sizeof text), strlen("[2001:db8::1]:8443"));
    CHECK_STR(text, "[2001:db8::1]:8443");
    CHECK_OK(eyeballs_endpoint_parse("::192.0.2.1", 443, &e, NULL, 0));
    eyeballs_endpoint_format(&e, text, sizeof text);
    CHECK_STR(text, "[::c000:201]:443");
    CHECK_OK(eyeballs_endpoint_parse("192.0.2.1", 80, &e, NULL, 0));
    CHECK_INT(e.family, EYEBALLS_FAMILY_V4);
    CHECK_INT(e.address[0], 192);
    CHECK_INT(e.address[3], 1);
    CHECK_INT(e.port, 80);
    CHECK_INT(eyeballs_endpoint_parse("192.0.2.999", 80, &e, message, sizeof message),
              EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "192.0.2.999");
    CHECK_INT(e.address[3], 1); /* unchanged */

    /* snprintf-like truncation. */
    CHECK_INT(eyeballs_endpoint_format(&e, text, 5), strlen("192.0.2.1:80"));
    CHECK_STR(text, "192.");
    e.family = 3;
    CHECK_INT(eyeballs_endpoint_format(&e, text, sizeof text), 0);
    CHECK_STR(text, "");

    /* sockaddr round trips. */
    CHECK_OK(eyeballs_endpoint_parse("[2001:db8::5]:9000", 0, &e, NULL, 0));
    len = eyeballs_endpoint_to_sockaddr(&e, &ss, sizeof ss);
    CHECK_INT(len, sizeof(struct sockaddr_in6));
    CHECK_INT(((struct sockaddr_in6*)&ss)->sin6_family, AF_INET6);
    CHECK_INT(ntohs(((struct sockaddr_in6*)&ss)->sin6_port), 9000);
    CHECK_OK(eyeballs_endpoint_from_sockaddr(&ss, len, &back));
    CHECK(memcmp(&back, &e, sizeof e) == 0);
    CHECK_INT(eyeballs_endpoint_to_sockaddr(&e, &ss, 4), 0); /* too small */
    CHECK_OK(eyeballs_endpoint_parse("198.51.100.3:7", 0, &e, NULL, 0));
    len = eyeballs_endpoint_to_sockaddr(&e, &ss, sizeof ss);
    CHECK_INT(len, sizeof(struct sockaddr_in));
    CHECK_OK(eyeballs_endpoint_from_sockaddr(&ss, len, &back));
    eyeballs_endpoint_format(&back, text, sizeof text);
    CHECK_STR(text, "198.51.100.3:7");
    CHECK_INT(eyeballs_endpoint_from_sockaddr(&ss, 3, &back), EYEBALLS_ERR_ARGUMENT);

    /* Names. */
    CHECK_STR(eyeballs_errno_name(ECONNREFUSED), "ECONNREFUSED");
    CHECK(eyeballs_errno_name(0) == NULL);
    CHECK_INT(eyeballs_errno_from_name("EHOSTUNREACH"), EHOSTUNREACH);
    CHECK_INT(eyeballs_errno_from_name("ENOTANERRNO"), 0);
    CHECK_INT(eyeballs_errno_from_name(NULL), 0);
    CHECK_STR(eyeballs_status_name(EYEBALLS_OK), "ok");
    CHECK_STR(eyeballs_status_name(EYEBALLS_ERR_CONFIG), "invalid configuration");
    CHECK_STR(eyeballs_family_name(EYEBALLS_FAMILY_V6), "IPv6");
    CHECK_STR(eyeballs_record_name(EYEBALLS_FAMILY_V4), "A");
    CHECK(eyeballs_family_name(2) == NULL);
    CHECK_STR(eyeballs_outcome_name(EYEBALLS_OUTCOME_CANCELLED), "cancelled");
    CHECK(eyeballs_outcome_name(3) == NULL);
    CHECK_STR(eyeballs_stage_name(EYEBALLS_STAGE_TIMEOUT), "timeout");
    CHECK(eyeballs_stage_name(-1) == NULL);

    /* Actions print like the C++ printer; malformed ones print nothing. */
    memset(&a, 0, sizeof a);
    a.kind = EYEBALLS_ACTION_CLOSE;
    a.attempt = 3;
    CHECK_INT(eyeballs_action_format(&a, text, sizeof text), strlen("close #3"));
    CHECK_STR(text, "close #3");
    a.kind = EYEBALLS_ACTION_CRYPTO_READY; /* v3 §6.3: the handshake may start */
    CHECK_INT(eyeballs_action_format(&a, text, sizeof text), strlen("crypto-ready #3"));
    CHECK_STR(text, "crypto-ready #3");
    a.kind = EYEBALLS_ACTION_CONNECT; /* without a remote */
    CHECK_INT(eyeballs_action_format(&a, text, sizeof text), 0);
    a.kind = 99;
    CHECK_INT(eyeballs_action_format(&a, text, sizeof text), 0);

    /* Version: the library and the headers agree in this build. */
    CHECK_STR(eyeballs_version(), EYEBALLS_VERSION_STRING);
    CHECK_INT(EYEBALLS_VERSION_NUMBER, EYEBALLS_VERSION_MAJOR * 10000 +
                                           EYEBALLS_VERSION_MINOR * 100 + EYEBALLS_VERSION_PATCH);

    /* The convenience clock is monotonic. */
    t1 = eyeballs_monotonic_ns();
    t2 = eyeballs_monotonic_ns();
    CHECK(t1 > 0);
    CHECK(t2 >= t1);
}

/* ---- main ------------------------------------------------------------------ */

struct test_case {
    const char* name;
    void (*run)(void);
};

/* ---- zones (RFC 4007 §11) ----------------------------------------------- */

static int lookup_eth0(void* data, const char* name, uint32_t* index) {
    ++*(int*)data;
    if (strcmp(name, "eth0") != 0) return 0;
    *index = 5;
    return 1;
}

static void zones(void) {
    eyeballs_endpoint e;
    struct sockaddr_storage ss;
    char text[EYEBALLS_ENDPOINT_TEXT_SIZE];
    char message[160];
    int calls = 0;

    CHECK_OK(eyeballs_endpoint_parse("[fe80::1%2]:8443", 443, &e, message, sizeof message));
    CHECK_INT(e.scope_id, 2);
    eyeballs_endpoint_format(&e, text, sizeof text);
    CHECK_STR(text, "[fe80::1%2]:8443");
    CHECK_INT(eyeballs_endpoint_to_sockaddr(&e, &ss, sizeof ss), sizeof(struct sockaddr_in6));
    CHECK_INT(((struct sockaddr_in6*)&ss)->sin6_scope_id, 2);
    /* The longest text fits the documented buffer. */
    CHECK_OK(eyeballs_endpoint_parse("[fe80:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535",
                                     0, &e, message, sizeof message));
    CHECK(eyeballs_endpoint_format(&e, text, sizeof text) < sizeof text);
    /* Names need a lookup. */
    CHECK_INT(eyeballs_endpoint_parse("fe80::1%eth0", 443, &e, message, sizeof message),
              EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "interface name");
    CHECK_OK(eyeballs_endpoint_parse_zoned("fe80::1%eth0", 443, lookup_eth0, &calls, &e, message,
                                           sizeof message));
    CHECK_INT(e.scope_id, 5);
    CHECK_INT(calls, 1);
    CHECK_INT(eyeballs_endpoint_parse_zoned("fe80::1%eth9", 443, lookup_eth0, &calls, &e, message,
                                            sizeof message),
              EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "no interface named 'eth9'");
    CHECK_INT(eyeballs_endpoint_parse_zoned("2001:db8::1%eth0", 443, lookup_eth0, &calls, &e,
                                            message, sizeof message),
              EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "link-local");
}

/* curl's -4 / -6: one family only. */
static void only_family(void) {
    eyeballs_config c;
    eyeballs_machine* m;
    eyeballs_action a;
    eyeballs_endpoint both[2];
    char message[256];
    eyeballs_config_init(&c);
    CHECK_INT(c.only_family, EYEBALLS_ONLY_ANY);
    c.only_family = EYEBALLS_ONLY_V4;
    m = make(&c);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start_resolving(m, T(0)));
    CHECK_STR(next_text(m, &a), "resolve A"); /* no AAAA query */
    CHECK_INT(a.family, EYEBALLS_FAMILY_V4);
    EXPECT_NONE(m);
    eyeballs_machine_free(m);

    c.only_family = EYEBALLS_ONLY_V6;
    m = make(&c);
    if (!m) return;
    both[0] = ep("192.0.2.7:443");
    both[1] = ep("[2001:db8::7]:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), both, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::7]:443");
    eyeballs_machine_free(m);

    m = make(&c);
    if (!m) return;
    CHECK_INT(eyeballs_machine_start(m, T(0), both, 1), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "family=ipv6");
    eyeballs_machine_free(m);

    c.only_family = 7;
    m = NULL;
    CHECK_INT(eyeballs_machine_new(&c, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "only_family 7");
}

/* ipv6_unavailable: IPv6 addresses are not raced, the AAAA query not sent. */
static void ipv6_none(void) {
    eyeballs_config c;
    eyeballs_machine* m;
    eyeballs_action a;
    eyeballs_endpoint both[2];
    char message[256];
    eyeballs_config_init(&c);
    CHECK_INT(c.ipv6_unavailable, 0);
    c.ipv6_unavailable = 1;
    m = make(&c);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start_resolving(m, T(0)));
    CHECK_STR(next_text(m, &a), "resolve A"); /* no AAAA query */
    EXPECT_NONE(m);
    eyeballs_machine_free(m);

    m = make(&c);
    if (!m) return;
    both[0] = ep("[2001:db8::7]:443");
    both[1] = ep("192.0.2.7:443");
    CHECK_OK(eyeballs_machine_start(m, T(0), both, 2));
    EXPECT_NEXT(m, "open #1 192.0.2.7:443");
    eyeballs_machine_free(m);

    m = make(&c);
    if (!m) return;
    CHECK_INT(eyeballs_machine_start(m, T(0), both, 1), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(eyeballs_machine_last_error(m), "ipv6=none");
    eyeballs_machine_free(m);

    c.ipv4_unavailable = 1;
    m = NULL;
    CHECK_INT(eyeballs_machine_new(&c, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "ipv6=none contradicts ipv4=none");
}

/* v3 §5.3: the used-before rule, convergence (history_explore) and attach. */
static void history_v3(void) {
    eyeballs_history* h = NULL;
    eyeballs_config c;
    eyeballs_machine* m;
    eyeballs_endpoint remotes[2];
    char message[256];
    CHECK_OK(eyeballs_history_new(16, &h));
    if (!h) return;
    remotes[0] = ep("[2001:db8::1]:443");
    remotes[1] = ep("[2001:db8::2]:443");
    /* ::2 connected once, then failed: used, but no RTT to expect. */
    CHECK_OK(eyeballs_history_record_success(h, NULL, &remotes[1], MS(5), T(0)));
    CHECK_OK(eyeballs_history_record_failure(h, NULL, &remotes[1], T(1)));
    CHECK_INT(eyeballs_history_used(h, NULL, &remotes[1]), 1);
    CHECK_INT(eyeballs_history_used(h, NULL, &remotes[0]), 0);
    CHECK_INT(eyeballs_history_used(h, "wlan0", &remotes[1]), 0);
    CHECK_INT(eyeballs_history_used(NULL, NULL, &remotes[1]), 0);

    eyeballs_config_init(&c);
    CHECK_INT(c.history_explore, 20); /* one race in 50 explores; seed 0's first race does not */
    c.history = h;
    c.sort = EYEBALLS_SORT_RFC6724;
    m = make(&c);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::2]:443"); /* used first */
    eyeballs_machine_free(m);

    c.history_explore = 1000; /* every race explores: the history is not used */
    m = make(&c);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), remotes, 2));
    EXPECT_NEXT(m, "open #1 [2001:db8::1]:443");
    eyeballs_machine_free(m);

    c.history_explore = 1001;
    m = NULL;
    CHECK_INT(eyeballs_machine_new(&c, &m, message, sizeof message), EYEBALLS_ERR_CONFIG);
    CHECK_CONTAINS(message, "history-explore 1001");

    /* attach: the first network forgets nothing; a change flushes unless resumed. */
    CHECK_INT(eyeballs_history_attach(h, NULL, 0), 0);
    CHECK_INT(eyeballs_history_attach(h, NULL, 0), 0);
    CHECK_INT(eyeballs_history_attach(h, "wlan0", 1), 0);
    CHECK_INT(eyeballs_history_size(h), 1);
    CHECK_INT(eyeballs_history_attach(h, NULL, 0), 1);
    CHECK_INT(eyeballs_history_size(h), 0);
    CHECK_INT(eyeballs_history_attach(NULL, NULL, 0), 0);
    eyeballs_history_free(h);
}

/* Issue 16 item 4: repeated remotes are dropped by default (0 = drop, so a
 * zeroed config gets it too) and counted; EYEBALLS_DUPLICATES_KEEP keeps them. */
static void duplicates(void) {
    eyeballs_config c;
    eyeballs_machine* m;
    eyeballs_metrics mx;
    eyeballs_report r;
    eyeballs_endpoint list[3];
    char message[256];
    eyeballs_config_init(&c);
    CHECK_INT(c.duplicates, EYEBALLS_DUPLICATES_DROP);
    CHECK_INT(EYEBALLS_DUPLICATES_DROP, 0);
    c.attempt_delay_ns = 50000000;
    list[0] = ep("192.0.2.7:443");
    list[1] = ep("192.0.2.7:443");
    list[2] = ep("[2001:db8::7]:443");
    m = make(&c);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), list, 3));
    EXPECT_NEXT(m, "open #1 192.0.2.7:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 192.0.2.7:443");
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(50)));
    EXPECT_NEXT(m, "open #2 [2001:db8::7]:443"); /* not the repeat of #1 */
    CHECK_OK(eyeballs_machine_report(m, &r)); /* the snapshot the metrics come from */
    CHECK_OK(eyeballs_machine_report_metrics(m, &mx));
    CHECK_INT(mx.duplicates_dropped, 1);
    eyeballs_machine_free(m);

    c.duplicates = EYEBALLS_DUPLICATES_KEEP;
    m = make(&c);
    if (!m) return;
    CHECK_OK(eyeballs_machine_start(m, T(0), list, 3));
    EXPECT_NEXT(m, "open #1 192.0.2.7:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(0), 1, 0));
    EXPECT_NEXT(m, "connect #1 192.0.2.7:443");
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(50)));
    EXPECT_NEXT(m, "open #2 [2001:db8::7]:443");
    CHECK_OK(eyeballs_machine_handle_opened(m, T(50), 2, 0));
    EXPECT_NEXT(m, "connect #2 [2001:db8::7]:443");
    CHECK_OK(eyeballs_machine_handle_timeout(m, T(100)));
    EXPECT_NEXT(m, "open #3 192.0.2.7:443"); /* kept: tried again */
    CHECK_OK(eyeballs_machine_report(m, &r)); /* the snapshot the metrics come from */
    CHECK_OK(eyeballs_machine_report_metrics(m, &mx));
    CHECK_INT(mx.duplicates_dropped, 0);
    eyeballs_machine_free(m);

    c.duplicates = 2;
    m = NULL;
    CHECK_INT(eyeballs_machine_new(&c, &m, message, sizeof message), EYEBALLS_ERR_ARGUMENT);
    CHECK_CONTAINS(message, "duplicates 2");
}

static const struct test_case cases[] = {
    {"success_race", success_race},
    {"failed_race", failed_race},
    {"failed_race_shared_errno", failed_race_shared_errno},
    {"dns_race", dns_race},
    {"dns_both_fail", dns_both_fail},
    {"local_bind", local_bind},
    {"timeouts", timeouts},
    {"huge_times", huge_times},
    {"port_zero", port_zero},
    {"max_endpoints", max_endpoints},
    {"cancel", cancel},
    {"history", history},
    {"sorting", sorting},
    {"nat64", nat64},
    {"misuse", misuse},
    {"helpers", helpers},
    {"zones", zones},
    {"only_family", only_family},
    {"ipv6_none", ipv6_none},
    {"history_v3", history_v3},
    {"duplicates", duplicates},
};

int main(int argc, char** argv) {
    size_t i;
    int ran = 0;
    for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
        {
            const int before = failures;
            cases[i].run();
            printf("%s %s\n", failures == before ? "PASS" : "FAIL", cases[i].name);
            ++ran;
        }
    }
    if (ran == 0) {
        fprintf(stderr, "no test case named '%s'\n", argc > 1 ? argv[1] : "");
        return 2;
    }
    if (failures > 0) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    return 0;
}
