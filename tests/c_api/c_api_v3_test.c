/* SPDX-License-Identifier: BSL-1.0 */
/* The C API's v3 (HTTPS mode) surface from a C99 program: a few v3 races
 * driven through the C API, their connect / crypto-ready / report lines
 * compared with the golden traces the C++ scenario runner made
 * (tests/scenarios/<name>.json, embedded at build time by golden.cmake so
 * nothing is read from disk at run time, under Wine too), plus the v3
 * config checks. Each case is its own ctest test: c_api_v3.<case>. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eyeballs/eyeballs.h"
#include "c_api_v3_golden.h"

static int failures = 0;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            ++failures;                                                    \
        }                                                                  \
    } while (0)

#define MS INT64_C(1000000)

/* One race and the trace lines it produced. */
typedef struct race {
    eyeballs_machine* m;
    int64_t now;
    char trace[4096];
    /* The queries the machine asked, to answer them by kind and name. */
    eyeballs_query queries[8];
    char names[8][64];
    char texts[8][256]; /* eyeballs_action_text() of each RESOLVE */
    size_t query_count;
} race;

static void append(race* r, const char* line) {
    size_t used = strlen(r->trace);
    if (used + strlen(line) + 1 < sizeof r->trace) strcat(r->trace, line);
}

/* Ends a connect or report line as golden.cmake does: " from=alt-svc" for
 * an Alt-Svc alternative's attempt (the trace's "from":"alt-svc"). */
static void append_from(race* r, const eyeballs_action_v3* v3) {
    CHECK(v3->has_service ? v3->service_source != EYEBALLS_SERVICE_SOURCE_NONE
                          : v3->service_source == EYEBALLS_SERVICE_SOURCE_NONE);
    if (v3->service_source == EYEBALLS_SERVICE_SOURCE_ALT_SVC) {
        append(r, " from=");
        append(r, eyeballs_service_source_name(v3->service_source));
    }
    append(r, "\n");
}

/* Takes every queued action: answers OPEN_SOCKET at once (success), keeps
 * RESOLVE queries, writes the lines the golden file is compared on. */
static void pump(race* r) {
    eyeballs_action a;
    while (eyeballs_machine_poll_action(r->m, &a)) {
        eyeballs_action_v3 v3;
        char line[256];
        char remote[EYEBALLS_ENDPOINT_TEXT_SIZE];
        char text[256];
        CHECK(eyeballs_machine_action_v3(r->m, &v3) == EYEBALLS_OK);
        CHECK(v3.kind == a.kind && v3.attempt == a.attempt);
        CHECK(eyeballs_action_text(r->m, text, sizeof text) > 0);
        switch (a.kind) {
            case EYEBALLS_ACTION_RESOLVE:
                CHECK(strstr(text, "resolve") != NULL);
                CHECK(!v3.query.https || strstr(text, "HTTPS") != NULL);
                if (r->query_count < 8) {
                    eyeballs_query* q = &r->queries[r->query_count];
                    *q = v3.query;
                    strncpy(r->names[r->query_count], v3.query.name, 63);
                    r->names[r->query_count][63] = '\0';
                    q->name = r->names[r->query_count];
                    memcpy(r->texts[r->query_count], text, sizeof text);
                    ++r->query_count;
                }
                break;
            case EYEBALLS_ACTION_OPEN_SOCKET:
                CHECK(eyeballs_machine_handle_opened(r->m, r->now, a.attempt, 0) == EYEBALLS_OK);
                break;
            case EYEBALLS_ACTION_CONNECT:
                eyeballs_endpoint_format(&a.remote, remote, sizeof remote);
                sprintf(line, "%ld connect #%lu %s %s", (long)(r->now / MS),
                        (unsigned long)a.attempt, remote, eyeballs_protocol_name(v3.protocol));
                append(r, line);
                append_from(r, &v3);
                CHECK(strstr(text, "connect") != NULL && strstr(text, remote) != NULL);
                if (getenv("EYEBALLS_C_API_V3_VERBOSE") != NULL) printf("%s\n", text);
                break;
            case EYEBALLS_ACTION_CRYPTO_READY:
                sprintf(line, "%ld crypto-ready #%lu\n", (long)(r->now / MS),
                        (unsigned long)a.attempt);
                append(r, line);
                break;
            case EYEBALLS_ACTION_REPORT:
                sprintf(line, "%ld report %s #%lu", (long)(r->now / MS),
                        a.outcome == EYEBALLS_OUTCOME_CONNECTED ? "connected"
                        : a.outcome == EYEBALLS_OUTCOME_FAILED  ? "failed"
                                                                : "cancelled",
                        (unsigned long)a.attempt);
                append(r, line);
                append_from(r, &v3);
                break;
            default:
                break;
        }
    }
}

/* Fires the timers due up to `t`, then sets the clock to `t`. */
static void run_until(race* r, int64_t t) {
    int64_t deadline;
    while (eyeballs_machine_next_timeout(r->m, &deadline) && deadline <= t) {
        r->now = deadline;
        CHECK(eyeballs_machine_handle_timeout(r->m, r->now) == EYEBALLS_OK);
        pump(r);
    }
    r->now = t;
}

/* The asked query of this type ("HTTPS", "AAAA", "A") and name ("" = origin). */
static const eyeballs_query* query(const race* r, const char* type, const char* name) {
    size_t i;
    for (i = 0; i < r->query_count; ++i) {
        const eyeballs_query* q = &r->queries[i];
        const char* qt = q->https ? "HTTPS" : q->family == EYEBALLS_FAMILY_V6 ? "AAAA" : "A";
        if (strcmp(qt, type) == 0 && strcmp(q->name, name) == 0) return q;
    }
    fprintf(stderr, "query %s %s was not asked\n", type, name);
    ++failures;
    return NULL;
}

static eyeballs_endpoint ep(const char* text) {
    eyeballs_endpoint e;
    char message[128];
    memset(&e, 0, sizeof e);
    CHECK(eyeballs_endpoint_parse(text, 443, &e, message, sizeof message) == EYEBALLS_OK);
    return e;
}

static void answer(race* r, const char* type, const char* name, const char* address) {
    const eyeballs_query* q = query(r, type, name);
    if (q == NULL) return;
    if (address == NULL) {
        CHECK(eyeballs_machine_handle_query_failed(r->m, r->now, q, 0, NULL) == EYEBALLS_OK);
    } else {
        eyeballs_endpoint e = ep(address);
        CHECK(eyeballs_machine_handle_query_resolved(r->m, r->now, q, &e, 1) == EYEBALLS_OK);
    }
    pump(r);
}

static void https(race* r, const char* record) {
    const eyeballs_query* q = query(r, "HTTPS", "");
    if (q == NULL) return;
    CHECK(eyeballs_machine_handle_https(r->m, r->now, q, &record, 1) == EYEBALLS_OK);
    pump(r);
}

static void begin(race* r, const eyeballs_config* config) {
    char message[256];
    memset(r, 0, sizeof *r);
    CHECK(eyeballs_machine_new(config, &r->m, message, sizeof message) == EYEBALLS_OK);
    CHECK(eyeballs_machine_start_resolving(r->m, 0) == EYEBALLS_OK);
    pump(r);
}

static void compare(race* r, const char* golden, const char* name) {
    if (strcmp(r->trace, golden) != 0) {
        fprintf(stderr, "%s: the C run differs from the C++ golden trace\n--- C:\n%s--- C++:\n%s",
                name, r->trace, golden);
        ++failures;
    }
}

/* tests/scenarios/v3_ech_retry_once.scn */
static void ech_retry_once(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    eyeballs_report_v3 v3;
    eyeballs_attempt_v3 attempt;
    const uint8_t retry[] = {0x00, 0x45, 0xfe, 0x0e, 0x00};
    eyeballs_config_init(&c);
    c.https = 1;
    c.success = EYEBALLS_SUCCESS_HANDSHAKE;
    c.ech = EYEBALLS_ECH_OPPORTUNISTIC;
    begin(&r, &c);
    CHECK(r.query_count == 3 && r.queries[0].https == 1);
    https(&r, "1 . alpn=h2 ech=AEX+DQ==");
    answer(&r, "AAAA", "", "2001:db8::1");
    answer(&r, "A", "", "192.0.2.1");
    run_until(&r, 5 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 1) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 15 * MS);
    CHECK(eyeballs_machine_handle_ech_retry(r.m, r.now, 1, retry, sizeof retry) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 20 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    {
        eyeballs_action_v3 last;
        CHECK(eyeballs_machine_action_v3(r.m, &last) == EYEBALLS_OK);
        CHECK(last.kind == EYEBALLS_ACTION_CRYPTO_READY && last.has_service);
        /* the retry configs replace the record's */
        CHECK(last.ech != NULL && last.ech_size == sizeof retry &&
              memcmp(last.ech, retry, sizeof retry) == 0);
    }
    run_until(&r, 30 * MS);
    CHECK(eyeballs_machine_handle_secured(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_ech_retry_once, "v3_ech_retry_once");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_CONNECTED && report.winner == 2);
    CHECK(eyeballs_machine_report_v3(r.m, &v3) == EYEBALLS_OK);
    CHECK(v3.protocol == EYEBALLS_PROTOCOL_TCP && strcmp(v3.alpn, "h2,http/1.1") == 0);
    CHECK(eyeballs_machine_report_attempt_v3(r.m, 0, &attempt) == EYEBALLS_OK);
    CHECK(attempt.ech == 1);
    eyeballs_machine_free(r.m);
}

/* tests/scenarios/v3_alt_svc_before_records.scn */
static void alt_svc_before_records(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    eyeballs_attempt_v3 attempt;
    eyeballs_config_init(&c);
    c.https = 1;
    c.alt_svc = "h2=\"alt.example.:8443\"; ma=3600";
    begin(&r, &c);
    CHECK(r.query_count == 5);
    https(&r, "1 . alpn=h2");
    answer(&r, "AAAA", "", "2001:db8::1");
    answer(&r, "A", "", NULL);
    run_until(&r, 5 * MS);
    answer(&r, "AAAA", "alt.example.", "2001:db8::a");
    answer(&r, "A", "alt.example.", NULL);
    run_until(&r, 6 * MS);
    CHECK(eyeballs_machine_handle_connect_failed(r.m, r.now, 1, ECONNREFUSED) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 16 * MS);
    CHECK(eyeballs_machine_handle_connect_failed(r.m, r.now, 2, ECONNREFUSED) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_alt_svc_before_records, "v3_alt_svc_before_records");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_FAILED && report.attempt_count == 2);
    CHECK(eyeballs_machine_report_attempt_v3(r.m, 0, &attempt) == EYEBALLS_OK);
    CHECK(attempt.service_source == EYEBALLS_SERVICE_SOURCE_ALT_SVC);
    CHECK(eyeballs_machine_report_attempt_v3(r.m, 1, &attempt) == EYEBALLS_OK);
    CHECK(attempt.service_source == EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD);
    eyeballs_machine_free(r.m);
}

/* tests/scenarios/v3_alt_svc_origin_quic.scn: an h3 Alt-Svc on the origin
 * races QUIC first; refused, the record's TCP endpoint wins. */
static void alt_svc_origin_quic(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    eyeballs_report_v3 v3;
    eyeballs_attempt_v3 first;
    eyeballs_config_init(&c);
    c.https = 1;
    c.quic = 1;
    c.alt_svc = "h3=\":443\"; ma=86400, h2=\":443\"";
    begin(&r, &c);
    https(&r, "1 . alpn=h2");
    answer(&r, "AAAA", "", "2001:db8::1");
    answer(&r, "A", "", NULL);
    run_until(&r, 1 * MS);
    CHECK(eyeballs_machine_handle_connect_failed(r.m, r.now, 1, ECONNREFUSED) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 15 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_alt_svc_origin_quic, "v3_alt_svc_origin_quic");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(eyeballs_machine_report_v3(r.m, &v3) == EYEBALLS_OK);
    CHECK(v3.protocol == EYEBALLS_PROTOCOL_TCP && strcmp(v3.alpn, "h2") == 0);
    /* the h2 alternative, not the record's h2 service: its twin, ranked first */
    CHECK(v3.service_source == EYEBALLS_SERVICE_SOURCE_ALT_SVC);
    CHECK(eyeballs_machine_report_attempt_v3(r.m, 0, &first) == EYEBALLS_OK);
    CHECK(first.protocol == EYEBALLS_PROTOCOL_QUIC && strcmp(first.alpn, "h3") == 0);
    CHECK(first.service_source == EYEBALLS_SERVICE_SOURCE_ALT_SVC);
    eyeballs_machine_free(r.m);
}

/* tests/scenarios/v3_alt_svc_and_record_race.scn: the alternative hangs, the
 * record's endpoint wins; only the alternative's attempt is marked. */
static void alt_svc_and_record_race(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    eyeballs_report_v3 v3;
    eyeballs_attempt_v3 attempt;
    eyeballs_config_init(&c);
    c.https = 1;
    c.alt_svc = "h2=\"alt.example.:8443\"; ma=3600";
    begin(&r, &c);
    https(&r, "1 . alpn=h2");
    answer(&r, "AAAA", "", "2001:db8::1");
    answer(&r, "A", "", NULL);
    answer(&r, "AAAA", "alt.example.", "2001:db8::a");
    answer(&r, "A", "alt.example.", NULL);
    run_until(&r, 270 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_alt_svc_and_record_race, "v3_alt_svc_and_record_race");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_CONNECTED && report.winner == 2);
    CHECK(eyeballs_machine_report_v3(r.m, &v3) == EYEBALLS_OK);
    CHECK(v3.service_source == EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD);
    CHECK(eyeballs_machine_report_attempt_v3(r.m, 0, &attempt) == EYEBALLS_OK);
    CHECK(attempt.service_source == EYEBALLS_SERVICE_SOURCE_ALT_SVC && strcmp(attempt.alpn, "h2") == 0);
    CHECK(eyeballs_machine_report_attempt_v3(r.m, 1, &attempt) == EYEBALLS_OK);
    CHECK(attempt.service_source == EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD);
    CHECK(strcmp(eyeballs_service_source_name(EYEBALLS_SERVICE_SOURCE_NONE), "none") == 0);
    CHECK(strcmp(eyeballs_service_source_name(EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD),
                 "https-record") == 0);
    CHECK(strcmp(eyeballs_service_source_name(EYEBALLS_SERVICE_SOURCE_ALT_SVC), "alt-svc") == 0);
    CHECK(strcmp(eyeballs_service_source_name(9), "?") == 0);
    eyeballs_machine_free(r.m);
}

/* An Alt-Svc cache (eyeballs_alt_svc_cache_*) keeps what an origin sent for
 * the next race: the field stored after one connection, looked up for the
 * next, races as tests/scenarios/v3_alt_svc_origin_quic.scn does; then ma
 * expiry, persist across a network change, and a value that does not parse. */
static void alt_svc_cache(void) {
    race r;
    eyeballs_config c;
    eyeballs_alt_svc_cache* cache = NULL;
    char field[256];
    char message[128];
    const int64_t hour = INT64_C(3600000000000);
    CHECK(eyeballs_alt_svc_cache_new(0, NULL) == EYEBALLS_ERR_ARGUMENT);
    CHECK(eyeballs_alt_svc_cache_new(8, &cache) == EYEBALLS_OK);
    CHECK(eyeballs_alt_svc_cache_attach(cache, "wlan0") == 0);
    CHECK(eyeballs_alt_svc_cache_store(cache, "https", "www.example", 443,
                                       "h3=\":443\"; ma=86400, h2=\":443\"; ma=3600; persist=1",
                                       0, message, sizeof message) == EYEBALLS_OK);
    CHECK(eyeballs_alt_svc_cache_size(cache) == 1);
    CHECK(eyeballs_alt_svc_cache_lookup(cache, "https", "WWW.example", 443, 0, field,
                                        sizeof field) == strlen(field));
    CHECK(strcmp(field, "h3=\":443\"; ma=86400, h2=\":443\"; ma=3600; persist=1") == 0);
    /* the next race takes the cached alternatives */
    eyeballs_config_init(&c);
    c.https = 1;
    c.quic = 1;
    c.alt_svc = field;
    begin(&r, &c);
    https(&r, "1 . alpn=h2");
    answer(&r, "AAAA", "", "2001:db8::1");
    answer(&r, "A", "", NULL);
    run_until(&r, 1 * MS);
    CHECK(eyeballs_machine_handle_connect_failed(r.m, r.now, 1, ECONNREFUSED) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 15 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_alt_svc_origin_quic, "v3_alt_svc_origin_quic (from the cache)");
    eyeballs_machine_free(r.m);
    /* eyeballs_alt_svc_cache_apply() makes the same race (the adapters' alt_svc_cache rule) */
    {
        char applied[256];
        eyeballs_config_init(&c);
        c.quic = 1;
        /* not for a race without https, an IP literal, port 0, or NULLs: config unchanged */
        CHECK(eyeballs_alt_svc_cache_apply(cache, &c, "www.example", 443, 0, applied,
                                           sizeof applied) == 0 && c.alt_svc == NULL);
        c.https = 1;
        CHECK(eyeballs_alt_svc_cache_apply(cache, &c, "192.0.2.1", 443, 0, applied,
                                           sizeof applied) == 0 && c.alt_svc == NULL);
        CHECK(eyeballs_alt_svc_cache_apply(cache, &c, "www.example", 0, 0, applied,
                                           sizeof applied) == 0 && c.alt_svc == NULL);
        CHECK(eyeballs_alt_svc_cache_apply(NULL, &c, "www.example", 443, 0, applied,
                                           sizeof applied) == 0 && c.alt_svc == NULL);
        CHECK(eyeballs_alt_svc_cache_apply(cache, &c, NULL, 443, 0, applied, sizeof applied) == 0);
        /* a buffer too short: the whole length, nothing applied */
        CHECK(eyeballs_alt_svc_cache_apply(cache, &c, "www.example", 443, 0, applied, 8) > 8);
        CHECK(c.alt_svc == NULL && applied[0] == '\0');
        /* the caller's own list wins */
        c.alt_svc = "h2=\":8443\"";
        CHECK(eyeballs_alt_svc_cache_apply(cache, &c, "www.example", 443, 0, applied,
                                           sizeof applied) == 0);
        CHECK(strcmp(c.alt_svc, "h2=\":8443\"") == 0);
        c.alt_svc = "";
        CHECK(eyeballs_alt_svc_cache_apply(cache, &c, "WWW.example", 443, 0, applied,
                                           sizeof applied) == strlen(applied));
        CHECK(c.alt_svc == applied);
        CHECK(strcmp(applied, "h3=\":443\"; ma=86400, h2=\":443\"; ma=3600; persist=1") == 0);
        begin(&r, &c);
        https(&r, "1 . alpn=h2");
        answer(&r, "AAAA", "", "2001:db8::1");
        answer(&r, "A", "", NULL);
        run_until(&r, 1 * MS);
        CHECK(eyeballs_machine_handle_connect_failed(r.m, r.now, 1, ECONNREFUSED) == EYEBALLS_OK);
        pump(&r);
        run_until(&r, 15 * MS);
        CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
        pump(&r);
        compare(&r, golden_v3_alt_svc_origin_quic, "v3_alt_svc_origin_quic (applied)");
        eyeballs_machine_free(r.m);
    }
    /* ma: at received + 3600 s exactly the h2 alternative has expired */
    CHECK(eyeballs_alt_svc_cache_lookup(cache, "https", "www.example", 443, hour - 1, field,
                                        sizeof field) > 0);
    CHECK(strstr(field, "h2=\":443\"; ma=1;") != NULL);
    eyeballs_alt_svc_cache_lookup(cache, "https", "www.example", 443, hour, field, sizeof field);
    CHECK(strcmp(field, "h3=\":443\"; ma=82800") == 0);
    /* another port is another origin; a short buffer is truncated, the length is whole */
    CHECK(eyeballs_alt_svc_cache_lookup(cache, "https", "www.example", 8443, 0, field,
                                        sizeof field) == 0 && field[0] == '\0');
    CHECK(eyeballs_alt_svc_cache_lookup(cache, "https", "www.example", 443, 0, field, 4) > 4);
    CHECK(strcmp(field, "h3=") == 0);
    /* a network change keeps only persist=1 */
    CHECK(eyeballs_alt_svc_cache_attach(cache, "cell") == 1);
    eyeballs_alt_svc_cache_lookup(cache, "https", "www.example", 443, 0, field, sizeof field);
    CHECK(strcmp(field, "h2=\":443\"; ma=3600; persist=1") == 0);
    /* bad input: named, and nothing changes */
    CHECK(eyeballs_alt_svc_cache_store(cache, "https", "www.example", 443, "h3=\":0\"", 0,
                                       message, sizeof message) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strstr(message, "Alt-Svc: alternative 1") != NULL);
    CHECK(eyeballs_alt_svc_cache_store(cache, NULL, "www.example", 443, "clear", 0, message,
                                       sizeof message) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strcmp(message, "scheme is NULL") == 0);
    CHECK(eyeballs_alt_svc_cache_size(cache) == 1);
    /* clear */
    CHECK(eyeballs_alt_svc_cache_store(cache, "https", "www.example", 443, "clear", 0, message,
                                       sizeof message) == EYEBALLS_OK);
    CHECK(eyeballs_alt_svc_cache_size(cache) == 0);
    CHECK(eyeballs_alt_svc_cache_store(cache, "https", "a.example", 443, "h2=\":443\"", 0, NULL,
                                       0) == EYEBALLS_OK);
    eyeballs_alt_svc_cache_clear(cache);
    CHECK(eyeballs_alt_svc_cache_size(cache) == 0 && eyeballs_alt_svc_cache_size(NULL) == 0);
    eyeballs_alt_svc_cache_free(cache);
    eyeballs_alt_svc_cache_free(NULL);
}

/* Addresses for a query of type/name ("" = origin) on `port`; fed as a
 * first answer, a stale one or an update (the C++ runner's `dns` line kinds). */
enum feed { FEED_ANSWER, FEED_STALE, FEED_UPDATE };
static void feed(race* r, enum feed how, const char* type, const char* name,
                 const char* const* addresses, size_t count, uint16_t port) {
    eyeballs_endpoint list[4];
    const eyeballs_query* q = query(r, type, name);
    size_t i;
    char message[128];
    if (q == NULL || count > 4) return;
    for (i = 0; i < count; ++i) {
        memset(&list[i], 0, sizeof list[i]);
        CHECK(eyeballs_endpoint_parse(addresses[i], port, &list[i], message, sizeof message) ==
              EYEBALLS_OK);
    }
    if (how == FEED_STALE) {
        CHECK(eyeballs_machine_handle_stale(r->m, r->now, q, list, count) == EYEBALLS_OK);
    } else if (how == FEED_UPDATE) {
        CHECK(eyeballs_machine_handle_dns_update(r->m, r->now, q, list, count) == EYEBALLS_OK);
    } else {
        CHECK(eyeballs_machine_handle_query_resolved(r->m, r->now, q, list, count) == EYEBALLS_OK);
    }
    pump(r);
}

static void no_https_records(race* r) {
    const eyeballs_query* q = query(r, "HTTPS", "");
    if (q == NULL) return;
    CHECK(eyeballs_machine_handle_https(r->m, r->now, q, NULL, 0) == EYEBALLS_OK);
    pump(r);
}

/* tests/scenarios/v3_stale_raced_then_replaced.scn: a stale AAAA answer races
 * at once (#1 to ::1); the fresh one at 100 ms replaces it (::2 dropped, ::3
 * joins), and #2 goes to ::3 at 250 ms. */
static void stale_raced_then_replaced(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    const char* stale[] = {"2001:db8::1", "2001:db8::2"};
    const char* fresh[] = {"2001:db8::3"};
    eyeballs_config_init(&c);
    c.https = 1;
    begin(&r, &c);
    no_https_records(&r);
    answer(&r, "A", "", NULL);
    feed(&r, FEED_STALE, "AAAA", "", stale, 2, 443);
    /* the stale answer does not close the question: a second stale is misuse */
    {
        const eyeballs_query* q = query(&r, "AAAA", "");
        eyeballs_endpoint e = ep("2001:db8::9");
        CHECK(q != NULL && eyeballs_machine_handle_stale(r.m, r.now, q, &e, 1) == EYEBALLS_ERR_STATE);
    }
    run_until(&r, 100 * MS);
    feed(&r, FEED_ANSWER, "AAAA", "", fresh, 1, 443);
    run_until(&r, 260 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_stale_raced_then_replaced, "v3_stale_raced_then_replaced");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_CONNECTED && report.winner == 2);
    CHECK(report.attempt_count == 2); /* ::2 left with the stale answer */
    eyeballs_machine_free(r.m);
}

/* The DNS cache on its own: store, lookup (fresh, stale, gone), the wire
 * name of a port-prefixed HTTPS query, forget, expire, clear, bad input. */
static void dns_cache(void) {
    const int64_t s = INT64_C(1000000000);
    eyeballs_dns_cache* cache = NULL;
    eyeballs_endpoint out[4];
    eyeballs_endpoint two[2];
    eyeballs_query q;
    size_t count = 9;
    int64_t expires = 0;
    char name[64];
    char message[128];
    const char* records[] = {"1 . alpn=h3,h2", "2 alt.example. alpn=h2"};
    const char* bad[] = {"1 . alpn=h2", "x"};
    two[0] = ep("[2001:db8::1]:8443");
    two[1] = ep("192.0.2.1:8443");
    CHECK(eyeballs_dns_cache_new(8, 0, NULL) == EYEBALLS_ERR_ARGUMENT);
    CHECK(eyeballs_dns_cache_new(8, 60 * s, &cache) == EYEBALLS_OK);
    /* an AAAA answer keeps its own family's addresses, without the port */
    CHECK(eyeballs_dns_cache_store(cache, "www.example.", EYEBALLS_FAMILY_V6, two, 2, 30, 0) ==
          EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_size(cache) == 1);
    CHECK(eyeballs_dns_cache_lookup(cache, "WWW.example", EYEBALLS_DNS_AAAA, 29 * s, out, 4,
                                    &count, &expires) == EYEBALLS_DNS_FRESH);
    CHECK(count == 1 && expires == 30 * s);
    CHECK(out[0].family == EYEBALLS_FAMILY_V6 && out[0].port == 0 &&
          memcmp(out[0].address, two[0].address, 16) == 0);
    CHECK(eyeballs_dns_cache_lookup(cache, "www.example", EYEBALLS_DNS_AAAA, 30 * s, NULL, 0,
                                    &count, NULL) == EYEBALLS_DNS_STALE);
    CHECK(count == 1);
    CHECK(eyeballs_dns_cache_lookup(cache, "www.example", EYEBALLS_DNS_AAAA, 90 * s, out, 4,
                                    &count, &expires) == EYEBALLS_DNS_MISSING);
    CHECK(count == 0 && expires == 0);
    CHECK(eyeballs_dns_cache_lookup(cache, "www.example", EYEBALLS_DNS_A, 0, out, 4, &count,
                                    NULL) == EYEBALLS_DNS_MISSING);
    /* the HTTPS query for port 8443 asks _8443._https.www.example */
    memset(&q, 0, sizeof q);
    q.family = EYEBALLS_FAMILY_V6;
    q.https = 1;
    q.port_prefix = 8443;
    q.name = "";
    CHECK(eyeballs_query_name(&q, "www.example", name, sizeof name) == strlen(name));
    CHECK(strcmp(name, "_8443._https.www.example") == 0);
    CHECK(eyeballs_query_name(NULL, "www.example", name, sizeof name) == 0 && name[0] == '\0');
    CHECK(eyeballs_dns_cache_store_https(cache, name, records, 2, 300, 0, message,
                                         sizeof message) == EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_lookup(cache, name, EYEBALLS_DNS_HTTPS, 0, NULL, 0, &count, NULL) ==
          EYEBALLS_DNS_FRESH);
    CHECK(count == 2);
    CHECK(eyeballs_dns_cache_size(cache) == 2);
    /* a record that does not parse stores nothing and is named */
    CHECK(eyeballs_dns_cache_store_https(cache, "b.example", bad, 2, 300, 0, message,
                                         sizeof message) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strncmp(message, "record 1: ", 10) == 0);
    CHECK(eyeballs_dns_cache_size(cache) == 2);
    /* TTL 0 and an empty answer forget */
    CHECK(eyeballs_dns_cache_store(cache, "www.example", EYEBALLS_FAMILY_V6, two, 1, 0, 0) ==
          EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_size(cache) == 1);
    CHECK(eyeballs_dns_cache_store(cache, "a.example", EYEBALLS_FAMILY_V4, two + 1, 1, 10, 0) ==
          EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_store(cache, "a.example", EYEBALLS_FAMILY_V4, NULL, 0, 10, 0) ==
          EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_size(cache) == 1);
    /* forget and expire */
    CHECK(eyeballs_dns_cache_store(cache, "a.example", EYEBALLS_FAMILY_V4, two + 1, 1, 10, 0) ==
          EYEBALLS_OK);
    eyeballs_dns_cache_forget(cache, "a.example", EYEBALLS_DNS_A);
    CHECK(eyeballs_dns_cache_size(cache) == 1);
    CHECK(eyeballs_dns_cache_expire(cache, 359 * s) == 0);
    CHECK(eyeballs_dns_cache_expire(cache, 360 * s) == 1); /* 300 s TTL + 60 s stale */
    CHECK(eyeballs_dns_cache_size(cache) == 0);
    /* bad input changes nothing */
    CHECK(eyeballs_dns_cache_store(cache, NULL, EYEBALLS_FAMILY_V4, two + 1, 1, 10, 0) ==
          EYEBALLS_ERR_ARGUMENT);
    CHECK(eyeballs_dns_cache_store(cache, "a.example", 7, two + 1, 1, 10, 0) ==
          EYEBALLS_ERR_ARGUMENT);
    CHECK(eyeballs_dns_cache_store(cache, "a.example", EYEBALLS_FAMILY_V4, NULL, 1, 10, 0) ==
          EYEBALLS_ERR_ARGUMENT);
    CHECK(eyeballs_dns_cache_lookup(cache, "a.example", 9, 0, NULL, 0, NULL, NULL) ==
          EYEBALLS_DNS_MISSING);
    CHECK(eyeballs_dns_cache_size(cache) == 0 && eyeballs_dns_cache_size(NULL) == 0);
    CHECK(eyeballs_dns_cache_store(cache, "a.example", EYEBALLS_FAMILY_V4, two + 1, 1, 10, 0) ==
          EYEBALLS_OK);
    eyeballs_dns_cache_clear(cache);
    CHECK(eyeballs_dns_cache_size(cache) == 0);
    eyeballs_dns_cache_free(cache);
    eyeballs_dns_cache_free(NULL);
    /* EYEBALLS_NONE: the C++ default max_stale, one day */
    CHECK(eyeballs_dns_cache_new(8, EYEBALLS_NONE, &cache) == EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_store(cache, "a.example", EYEBALLS_FAMILY_V4, two + 1, 1, 10, 0) ==
          EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_lookup(cache, "a.example", EYEBALLS_DNS_A, 86409 * s, NULL, 0, NULL,
                                    NULL) == EYEBALLS_DNS_STALE);
    CHECK(eyeballs_dns_cache_lookup(cache, "a.example", EYEBALLS_DNS_A, 86410 * s, NULL, 0, NULL,
                                    NULL) == EYEBALLS_DNS_MISSING);
    eyeballs_dns_cache_free(cache);
}

/* Asks the cache for query (type, name); returns *send. */
static int from_cache(race* r, const eyeballs_dns_cache* cache, const char* type,
                      const char* name) {
    int send = -1;
    const eyeballs_query* q = query(r, type, name);
    if (q == NULL) return -1;
    CHECK(eyeballs_machine_answer_from_cache(r->m, cache, r->now, q, "www.example", 443, &send) ==
          EYEBALLS_OK);
    pump(r);
    return send;
}

/* eyeballs_machine_answer_from_cache: v3_stale_raced_then_replaced with the
 * stale AAAA answer coming from the cache (the same golden trace); then a
 * race answered wholly from fresh entries sends nothing; an RFC 8305 race
 * does not race a stale answer. */
static void dns_cache_answers_the_race(void) {
    const int64_t s = INT64_C(1000000000);
    race r;
    eyeballs_config c;
    eyeballs_dns_cache* cache = NULL;
    eyeballs_endpoint stale[2];
    eyeballs_endpoint v4 = ep("192.0.2.1");
    const char* fresh[] = {"2001:db8::3"};
    const char* record = "1 . alpn=h2";
    char message[128];
    int send = -1;
    stale[0] = ep("2001:db8::1");
    stale[1] = ep("2001:db8::2");
    CHECK(eyeballs_dns_cache_new(8, EYEBALLS_NONE, &cache) == EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_store(cache, "www.example", EYEBALLS_FAMILY_V6, stale, 2, 1, -10 * s) ==
          EYEBALLS_OK);
    eyeballs_config_init(&c);
    c.https = 1;
    begin(&r, &c);
    CHECK(from_cache(&r, cache, "HTTPS", "") == 1);
    no_https_records(&r);
    CHECK(from_cache(&r, cache, "A", "") == 1);
    answer(&r, "A", "", NULL);
    CHECK(eyeballs_machine_attempts_started(r.m) == 0);
    CHECK(from_cache(&r, cache, "AAAA", "") == 1); /* stale: raced, and the query still goes */
    CHECK(eyeballs_machine_attempts_started(r.m) == 1);
    run_until(&r, 100 * MS);
    feed(&r, FEED_ANSWER, "AAAA", "", fresh, 1, 443);
    run_until(&r, 260 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_stale_raced_then_replaced, "v3_stale_raced_then_replaced (cache)");
    eyeballs_machine_free(r.m);

    /* fresh everywhere: every question answered, nothing to send */
    CHECK(eyeballs_dns_cache_store(cache, "www.example", EYEBALLS_FAMILY_V6, stale, 1, 60, 0) ==
          EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_store(cache, "www.example", EYEBALLS_FAMILY_V4, &v4, 1, 60, 0) ==
          EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_store_https(cache, "www.example", &record, 1, 60, 0, message,
                                         sizeof message) == EYEBALLS_OK);
    begin(&r, &c);
    CHECK(from_cache(&r, cache, "HTTPS", "") == 0);
    CHECK(from_cache(&r, cache, "AAAA", "") == 0);
    CHECK(from_cache(&r, cache, "A", "") == 0);
    CHECK(strstr(r.trace, "0 connect #1 [2001:db8::1]:443 tcp\n") == r.trace);
    /* misuse is named */
    CHECK(eyeballs_machine_answer_from_cache(r.m, NULL, 0, &r.queries[0], "www.example", 443,
                                             &send) == EYEBALLS_ERR_ARGUMENT);
    CHECK(send == 1);
    CHECK(strstr(eyeballs_machine_last_error(r.m), "cache is NULL") != NULL);
    eyeballs_machine_free(r.m);

    /* RFC 8305 mode takes one answer per question: a stale one is not raced */
    CHECK(eyeballs_dns_cache_store(cache, "www.example", EYEBALLS_FAMILY_V6, stale, 1, 1, -10 * s) ==
          EYEBALLS_OK);
    eyeballs_config_init(&c);
    begin(&r, &c);
    CHECK(from_cache(&r, cache, "AAAA", "") == 1);
    CHECK(eyeballs_machine_attempts_started(r.m) == 0);
    CHECK(from_cache(&r, cache, "A", "") == 0); /* still fresh */
    eyeballs_machine_free(r.m);
    eyeballs_dns_cache_free(cache);
}

/* A stale HTTPS answer from the cache (v3 §4.4): its service's hint is raced
 * at once while the HTTPS query still goes out; the fresh answer, without
 * that service, withdraws its untried ::2 and brings ::3 (§7). Fed directly,
 * eyeballs_machine_handle_stale_https names bad records and is refused in
 * an RFC 8305 race. */
static void dns_cache_races_stale_https(void) {
    const int64_t s = INT64_C(1000000000);
    race r;
    eyeballs_config c;
    eyeballs_dns_cache* cache = NULL;
    const char* stale = "1 old.example. alpn=h2 ipv6hint=2001:db8::1,2001:db8::2";
    const char* fresh = "1 new.example. alpn=h2 ipv6hint=2001:db8::3";
    const char* bad = "1 . alpn=";
    char message[128];
    CHECK(eyeballs_dns_cache_new(8, EYEBALLS_NONE, &cache) == EYEBALLS_OK);
    CHECK(eyeballs_dns_cache_store_https(cache, "www.example", &stale, 1, 1, -10 * s, message,
                                         sizeof message) == EYEBALLS_OK);
    eyeballs_config_init(&c);
    c.https = 1;
    begin(&r, &c);
    CHECK(from_cache(&r, cache, "HTTPS", "") == 1); /* stale: raced, and the query still goes */
    answer(&r, "AAAA", "", NULL);
    answer(&r, "A", "", NULL);
    CHECK(eyeballs_machine_attempts_started(r.m) == 1);
    CHECK(strstr(r.trace, "0 connect #1 [2001:db8::1]:443 tcp\n") == r.trace);
    run_until(&r, 100 * MS);
    https(&r, fresh);
    run_until(&r, 250 * MS);
    CHECK(strstr(r.trace, "250 connect #2 [2001:db8::3]:443 tcp\n") != NULL);
    CHECK(strstr(r.trace, "2001:db8::2") == NULL);
    eyeballs_machine_free(r.m);

    begin(&r, &c);
    CHECK(eyeballs_machine_handle_stale_https(r.m, 0, query(&r, "HTTPS", ""), &bad, 1) ==
          EYEBALLS_ERR_ARGUMENT);
    CHECK(strstr(eyeballs_machine_last_error(r.m), "eyeballs_machine_handle_stale_https: record 0") !=
          NULL);
    eyeballs_machine_free(r.m);

    /* RFC 8305 mode asks no HTTPS question: nothing is fed from the cache,
     * and a stale HTTPS answer fed anyway is refused. */
    eyeballs_config_init(&c);
    begin(&r, &c);
    {
        eyeballs_query q;
        memset(&q, 0, sizeof q);
        q.https = 1;
        q.family = EYEBALLS_FAMILY_V6;
        q.name = "";
        CHECK(eyeballs_machine_handle_stale_https(r.m, 0, &q, &stale, 1) == EYEBALLS_ERR_STATE);
    }
    CHECK(eyeballs_machine_attempts_started(r.m) == 0);
    eyeballs_machine_free(r.m);
    eyeballs_dns_cache_free(cache);
}

/* tests/scenarios/v3_update_aaaa_resorts_pending.scn: an update adds a
 * global address that sorts ahead of the untried ULA one (v3 §7). */
static void dns_update_resorts_pending(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    const char* first[] = {"fd00::1", "fd00::2"};
    const char* update[] = {"fd00::1", "fd00::2", "2001:db8::3"};
    eyeballs_config_init(&c);
    c.https = 1;
    begin(&r, &c);
    {
        /* an update before the first answer is misuse */
        const eyeballs_query* q = query(&r, "AAAA", "");
        eyeballs_endpoint e = ep("fd00::1");
        CHECK(q != NULL &&
              eyeballs_machine_handle_dns_update(r.m, r.now, q, &e, 1) == EYEBALLS_ERR_STATE);
    }
    no_https_records(&r);
    answer(&r, "A", "", NULL);
    feed(&r, FEED_ANSWER, "AAAA", "", first, 2, 443);
    run_until(&r, 100 * MS);
    feed(&r, FEED_UPDATE, "AAAA", "", update, 3, 443);
    run_until(&r, 510 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 3) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_update_aaaa_resorts_pending, "v3_update_aaaa_resorts_pending");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_CONNECTED && report.winner == 3);
    eyeballs_machine_free(r.m);
}

/* tests/scenarios/v3_tls_failure_is_recorded.scn: success = HANDSHAKE; a
 * failed handshake (eyeballs_machine_handle_secure_failed) fails the attempt
 * over at once, recorded with stage TLS. */
static void secure_failed_is_recorded(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    eyeballs_error e;
    const char* v6[] = {"2001:db8::1"};
    const char* v4[] = {"192.0.2.1"};
    eyeballs_config_init(&c);
    c.https = 1;
    c.success = EYEBALLS_SUCCESS_HANDSHAKE;
    begin(&r, &c);
    feed(&r, FEED_ANSWER, "AAAA", "", v6, 1, 443);
    feed(&r, FEED_ANSWER, "A", "", v4, 1, 443);
    https(&r, "1 . alpn=h2");
    run_until(&r, 20 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 1) == EYEBALLS_OK);
    pump(&r);
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(!report.finished); /* connected is not enough: the handshake decides */
    run_until(&r, 25 * MS);
    CHECK(eyeballs_machine_handle_secure_failed(r.m, r.now, 1, ECONNRESET, NULL) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 45 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 50 * MS);
    CHECK(eyeballs_machine_handle_secure_failed(r.m, r.now, 2, ECONNRESET, NULL) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_tls_failure_is_recorded, "v3_tls_failure_is_recorded");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_FAILED && report.code == ECONNRESET);
    CHECK(report.error_count == 2);
    CHECK(eyeballs_machine_report_error(r.m, 0, &e) == EYEBALLS_OK);
    CHECK(e.stage == EYEBALLS_STAGE_TLS && e.attempt == 1 && e.code == ECONNRESET);
    CHECK(strcmp(e.message, "TLS handshake with [2001:db8::1]:443: ECONNRESET") == 0);
    CHECK(eyeballs_machine_report_error(r.m, 1, &e) == EYEBALLS_OK);
    CHECK(e.stage == EYEBALLS_STAGE_TLS && e.attempt == 2);
    /* late (the race is over): taken as OK and ignored, nothing recorded */
    CHECK(eyeballs_machine_handle_secure_failed(r.m, r.now, 2, ECONNRESET, NULL) == EYEBALLS_OK);
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK && report.error_count == 2);
    eyeballs_machine_free(r.m);
}

/* tests/scenarios/v3_port_prefix_dot_is_the_origin.scn: on port 8443 the
 * origin's HTTPS query is _8443._https.HOST (RFC 9460 §9.1): the RESOLVE
 * carries port_prefix 8443 and its text names the prefix; TargetName "."
 * there means the origin's own addresses, on the origin's port. */
static void port_prefixed_https_query(void) {
    race r;
    eyeballs_config c;
    eyeballs_report report;
    const char* v6[] = {"2001:db8::1"};
    const char* v4[] = {"192.0.2.1"};
    size_t i;
    eyeballs_config_init(&c);
    c.https = 1;
    c.port = 8443;
    begin(&r, &c);
    CHECK(r.query_count == 3);
    CHECK(r.queries[0].https == 1 && r.queries[0].port_prefix == 8443);
    CHECK(strcmp(r.queries[0].name, "") == 0);
    CHECK(strstr(r.texts[0], "_8443._https") != NULL);
    for (i = 1; i < r.query_count; ++i) {
        CHECK(r.queries[i].https == 0 && r.queries[i].port_prefix == 0);
        CHECK(strstr(r.texts[i], "_https") == NULL);
    }
    https(&r, "1 . alpn=h2");
    run_until(&r, 2 * MS);
    feed(&r, FEED_ANSWER, "AAAA", "", v6, 1, 8443);
    feed(&r, FEED_ANSWER, "A", "", v4, 1, 8443);
    CHECK(r.query_count == 3); /* "." asks nothing more */
    run_until(&r, 7 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 1) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_port_prefix_dot_is_the_origin, "v3_port_prefix_dot_is_the_origin");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_CONNECTED && report.remote.port == 8443);
    eyeballs_machine_free(r.m);
}

/* tests/scenarios/v3_progress_reply_keeps_the_whole_delay.scn: the QUIC
 * attempt's reply (eyeballs_machine_handle_progress) keeps the whole 250 ms
 * delay before the TCP attempt. */
static void progress_keeps_whole_delay(void) {
    race r;
    eyeballs_config c;
    eyeballs_config_init(&c);
    c.https = 1;
    c.quic = 1;
    c.quic_progress = 1;
    begin(&r, &c);
    https(&r, "1 . alpn=h3,h2");
    answer(&r, "AAAA", "", "2001:db8::1");
    answer(&r, "A", "", NULL);
    run_until(&r, 30 * MS);
    CHECK(eyeballs_machine_handle_progress(r.m, r.now, 1) == EYEBALLS_OK);
    pump(&r);
    run_until(&r, 270 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 2) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_progress_reply_keeps_the_whole_delay,
            "v3_progress_reply_keeps_the_whole_delay");
    eyeballs_machine_free(r.m);
}

/* tests/scenarios/v3_alpn_service_left_out.scn: tcp_alpn "h2" leaves out
 * the record whose set is {http/1.1} (its target is never asked for) and
 * the kept service offers h2 alone. */
static void tcp_alpn_service_left_out(void) {
    race r;
    eyeballs_config c;
    eyeballs_machine* m = NULL;
    eyeballs_report report;
    eyeballs_report_v3 v3;
    char message[256];
    const char* records[2] = {"1 old.example. alpn=http/1.1", "2 svc.example. alpn=h2"};
    size_t i;
    eyeballs_config_init(&c);
    c.https = 1;
    c.tcp_alpn = "h2";
    begin(&r, &c);
    CHECK(r.query_count == 3);
    CHECK(eyeballs_machine_handle_https(r.m, r.now, query(&r, "HTTPS", ""), records, 2) ==
          EYEBALLS_OK);
    pump(&r);
    CHECK(r.query_count == 5); /* svc.example.'s AAAA and A, nothing for old.example. */
    for (i = 0; i < r.query_count; ++i) CHECK(strcmp(r.names[i], "old.example.") != 0);
    answer(&r, "AAAA", "", "2001:db8::1");
    answer(&r, "A", "", NULL);
    run_until(&r, 5 * MS);
    answer(&r, "AAAA", "svc.example.", "2001:db8::5");
    answer(&r, "A", "svc.example.", NULL);
    run_until(&r, 15 * MS);
    CHECK(eyeballs_machine_handle_connected(r.m, r.now, 1) == EYEBALLS_OK);
    pump(&r);
    compare(&r, golden_v3_alpn_service_left_out, "v3_alpn_service_left_out");
    CHECK(eyeballs_machine_report(r.m, &report) == EYEBALLS_OK);
    CHECK(report.outcome == EYEBALLS_OUTCOME_CONNECTED && report.winner == 1);
    CHECK(eyeballs_machine_report_v3(r.m, &v3) == EYEBALLS_OK);
    CHECK(v3.protocol == EYEBALLS_PROTOCOL_TCP && v3.alpn != NULL && strcmp(v3.alpn, "h2") == 0);
    eyeballs_machine_free(r.m);

    /* The C++ rules, named: h3 is QUIC; an empty id. */
    eyeballs_config_init(&c);
    c.tcp_alpn = "h2,h3";
    CHECK(eyeballs_machine_new(&c, &m, message, sizeof message) == EYEBALLS_ERR_CONFIG);
    CHECK(m == NULL && strstr(message, "\"h3\" is HTTP/3") != NULL);
    c.tcp_alpn = "h2,,http/1.1";
    CHECK(eyeballs_machine_new(&c, &m, message, sizeof message) == EYEBALLS_ERR_CONFIG);
    CHECK(m == NULL && strstr(message, "alpn id 2 has 0 bytes") != NULL);
}

/* A v3 enum out of range, a port past 65535 or Alt-Svc text that does not
 * parse is EYEBALLS_ERR_ARGUMENT (as the existing enums), a broken C++
 * Config rule EYEBALLS_ERR_CONFIG; each message names the setting. A bad
 * HTTPS record is EYEBALLS_ERR_ARGUMENT naming the record. */
static void config_errors(void) {
    eyeballs_config c;
    eyeballs_machine* m = NULL;
    char message[256];
    const char* bad = "1 . alpn=";
    race r;
    eyeballs_config_init(&c);
    c.ech = 7;
    CHECK(eyeballs_machine_new(&c, &m, message, sizeof message) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strstr(message, "ech 7") != NULL);
    eyeballs_config_init(&c);
    c.success = 2;
    CHECK(eyeballs_machine_new(&c, &m, message, sizeof message) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strstr(message, "success") != NULL);
    eyeballs_config_init(&c);
    c.port = 70000;
    CHECK(eyeballs_machine_new(&c, &m, message, sizeof message) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strstr(message, "port 70000") != NULL);
    eyeballs_config_init(&c);
    c.https = 1;
    c.alt_svc = "h2=\":99999\"";
    CHECK(eyeballs_machine_new(&c, &m, message, sizeof message) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strstr(message, "alt_svc") != NULL);
    /* A rule the C++ Config checks: quic_progress needs https and quic. */
    eyeballs_config_init(&c);
    c.quic_progress = 1;
    CHECK(eyeballs_machine_new(&c, &m, message, sizeof message) == EYEBALLS_ERR_CONFIG);
    CHECK(m == NULL);
    CHECK(strstr(message, "quic") != NULL);

    eyeballs_config_init(&c);
    c.https = 1;
    begin(&r, &c);
    CHECK(eyeballs_machine_handle_https(r.m, 0, query(&r, "HTTPS", ""), &bad, 1) ==
          EYEBALLS_ERR_ARGUMENT);
    CHECK(strstr(eyeballs_machine_last_error(r.m), "record 0") != NULL);
    CHECK(eyeballs_machine_handle_https(r.m, 0, NULL, NULL, 0) == EYEBALLS_ERR_ARGUMENT);
    CHECK(strcmp(eyeballs_protocol_name(EYEBALLS_PROTOCOL_QUIC), "quic") == 0);
    CHECK(strcmp(eyeballs_protocol_name(9), "?") == 0);
    eyeballs_machine_free(r.m);
}

static const struct {
    const char* name;
    void (*run)(void);
} cases[] = {
    {"ech_retry_once", ech_retry_once},
    {"alt_svc_before_records", alt_svc_before_records},
    {"alt_svc_origin_quic", alt_svc_origin_quic},
    {"alt_svc_and_record_race", alt_svc_and_record_race},
    {"progress_keeps_whole_delay", progress_keeps_whole_delay},
    {"config_errors", config_errors},
    {"alt_svc_cache", alt_svc_cache},
    {"stale_raced_then_replaced", stale_raced_then_replaced},
    {"dns_update_resorts_pending", dns_update_resorts_pending},
    {"secure_failed_is_recorded", secure_failed_is_recorded},
    {"port_prefixed_https_query", port_prefixed_https_query},
    {"tcp_alpn_service_left_out", tcp_alpn_service_left_out},
    {"dns_cache", dns_cache},
    {"dns_cache_answers_the_race", dns_cache_answers_the_race},
    {"dns_cache_races_stale_https", dns_cache_races_stale_https},
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
