/* SPDX-License-Identifier: BSL-1.0 */
/* eyeballs — the C API (C99) over the sans-I/O RaceMachine.
 *
 * Happy Eyeballs (RFC 8305) as a state machine you drive from C, or from any
 * language with a C FFI. The machine never reads a clock, never touches a
 * socket and never starts a thread: every input carries `now_ns`, a time on a
 * monotonic clock you own (nanoseconds, any origin — CLOCK_MONOTONIC is the
 * natural choice, see eyeballs_monotonic_ns()), and every output is an action
 * you perform. It behaves exactly as the C++ class eyeballs::RaceMachine
 * (eyeballs/race_machine.hpp), which it wraps; docs/behaviour.md states the rules.
 *
 * The run loop:
 *   1. Mutate: eyeballs_machine_start() (you have the addresses) or
 *      eyeballs_machine_start_resolving() (DNS mode), or feed one input with an
 *      eyeballs_machine_handle_*() call, or eyeballs_machine_cancel().
 *   2. Drain: call eyeballs_machine_poll_action() until it returns 0, and
 *      perform each action:
 *        RESOLVE      ask DNS for AAAA (family V6) or A (V4); answer later with
 *                     eyeballs_machine_handle_resolved / _handle_resolve_failed.
 *        OPEN_SOCKET  create a non-blocking TCP socket of remote.family; answer
 *                     AT ONCE with eyeballs_machine_handle_opened (0 or errno).
 *        BIND         bind the attempt's socket to `local`; answer AT ONCE with
 *                     eyeballs_machine_handle_bound (0 or errno).
 *        CONNECT      start connect() to `remote`; answer when it completes
 *                     with _handle_connected or _handle_connect_failed(errno).
 *        CLOSE        close the attempt's socket (exactly once per opened
 *                     socket that failed, lost or was cancelled).
 *        REPORT       the race is over; the last action. When connected, the
 *                     winner's socket is yours. eyeballs_machine_report() has
 *                     the summary, every error and every attempt.
 *      Answering OPEN_SOCKET and BIND while draining is allowed and expected:
 *      the answer queues the next actions, which the same drain loop picks up.
 *   3. Arm one timer at eyeballs_machine_next_timeout() (fire at once if it is
 *      already due).
 *   4. Wait for I/O or the timer (poll(2), epoll, your loop's timers...).
 *   5. Feed what happened: I/O results first, then
 *      eyeballs_machine_handle_timeout(now) if the timer is due. Go to 2.
 *
 * Errors. Functions that can be misused return an eyeballs_status: EYEBALLS_OK
 * (0) or a code saying what kind of misuse, with a message. Network failures
 * are never errors of the API: they are inputs (handle_connect_failed, ...)
 * and, at the end, the report. A result for an unknown or finished attempt, or
 * a timer after the end, is ignored, exactly as in C++.
 *
 * Time. `now_ns` may take any value, negative ones included, and time never
 * goes backwards inside the machine: an input whose `now_ns` is earlier than
 * the latest time the machine has been given is not ignored, it is processed
 * as if it happened at that latest time (the machine keeps the later one).
 * Deadlines (start + overall timeout, an attempt's start + attempt timeout,
 * the resolution delay, the next attempt's start) are computed with
 * saturating arithmetic: one that would fall past INT64_MAX ns, the end of
 * representable time, is INT64_MAX, and a clock that starts anywhere sane
 * never reaches it. So INT64_MAX is a natural "never" for overall_timeout_ns
 * and attempt_timeout_ns, and a `now_ns` close to INT64_MAX is as good an
 * origin as any other (a deadline it cannot hold saturates).
 *
 * Memory and threads. The machine is an opaque object you create and free; it
 * copies every endpoint and string it is given (a history and the source
 * lookup's data pointer are referenced, not copied). Pointers it hands out (the
 * message of the last error, strings in a report) live as long as the function
 * that returned them says. One machine must not be used from two threads at
 * once; distinct machines are independent. No function throws (C++ exceptions
 * never cross this API) and none calls abort() on bad input.
 *
 * Link with the eyeballs library (CMake: eyeballs::core; pkg-config: eyeballs).
 * It is written in C++, so a C program linking the static library also needs
 * the C++ runtime (pkg-config's `eyeballs.pc` and CMake add it for you).
 */
#ifndef EYEBALLS_EYEBALLS_H
#define EYEBALLS_EYEBALLS_H

#include <stddef.h>
#include <stdint.h>

/* EYEBALLS_VERSION_MAJOR/MINOR/PATCH and EYEBALLS_VERSION_STRING: the version
 * of the headers. Plain macros, valid C and C++. */
#include "eyeballs/version.hpp"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Values ------------------------------------------------------------- */

/* What a call returns. Every non-OK value comes with a message: from
 * eyeballs_machine_last_error() for calls on a machine, or in the caller's
 * message buffer for eyeballs_machine_new() and eyeballs_endpoint_parse(). */
typedef enum eyeballs_status {
    EYEBALLS_OK = 0,
    /* A NULL pointer where one is required, an enum value out of range, an
     * endpoint with a bad family, an empty address list, an index past the
     * end, text that does not parse. Nothing was changed. */
    EYEBALLS_ERR_ARGUMENT = 1,
    /* The configuration breaks a rule (attempt delay outside 10 ms … 2 s,
     * ...); the message names the setting and the rule. */
    EYEBALLS_ERR_CONFIG = 2,
    /* The call does not fit the machine's state: start twice, start after
     * cancel, read a report's errors before taking the report. */
    EYEBALLS_ERR_STATE = 3,
    /* Memory ran out. The machine is unchanged or, for an input, may have
     * taken it only in part; free it. */
    EYEBALLS_ERR_NO_MEMORY = 4,
    /* An unexpected failure inside the library (a bug); the message says
     * what. Please report it. */
    EYEBALLS_ERR_INTERNAL = 5
} eyeballs_status;

/* Address families. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is V6. */
enum {
    EYEBALLS_FAMILY_V6 = 0, /* IPv6; DNS record AAAA */
    EYEBALLS_FAMILY_V4 = 1  /* IPv4; DNS record A */
};

/* How a race ended (eyeballs_report.outcome, REPORT actions). */
enum {
    EYEBALLS_OUTCOME_CONNECTED = 0,
    EYEBALLS_OUTCOME_FAILED = 1,
    EYEBALLS_OUTCOME_CANCELLED = 2
};

/* Where in a race an error happened (eyeballs_error.stage; docs/behaviour.md §3). */
enum {
    EYEBALLS_STAGE_RESOLVE = 0,
    EYEBALLS_STAGE_OPEN = 1,
    EYEBALLS_STAGE_BIND = 2,
    EYEBALLS_STAGE_CONNECT = 3,
    EYEBALLS_STAGE_TIMEOUT = 4,
    EYEBALLS_STAGE_TLS = 5 /* the handshake after connect (eyeballs_config.success, handle_secure_failed) */
};

/* The kinds of eyeballs_action (see the run loop above). */
enum {
    EYEBALLS_ACTION_RESOLVE = 1,
    EYEBALLS_ACTION_OPEN_SOCKET = 2,
    EYEBALLS_ACTION_BIND = 3,
    EYEBALLS_ACTION_CONNECT = 4,
    EYEBALLS_ACTION_CLOSE = 5,
    EYEBALLS_ACTION_REPORT = 6,
    /* The attempt's TLS handshake may start (C++ CryptoReady, eyeballs_config.ech,
       v3 §6.3); eyeballs_machine_action_v3() gives its ECH config. */
    EYEBALLS_ACTION_CRYPTO_READY = 7
};

/* What became of one attempt (eyeballs_attempt.state). */
enum {
    EYEBALLS_ATTEMPT_IN_FLIGHT = 0,
    EYEBALLS_ATTEMPT_CONNECTED = 1, /* the winner */
    EYEBALLS_ATTEMPT_FAILED = 2,    /* open, bind, connect or timeout error */
    EYEBALLS_ATTEMPT_CLOSED = 3     /* closed by the end of the race */
};

/* eyeballs_config.interleave. */
enum {
    EYEBALLS_INTERLEAVE_AUTO = -1, /* on when racing, off when sequential */
    EYEBALLS_INTERLEAVE_OFF = 0,
    EYEBALLS_INTERLEAVE_ON = 1
};

/* eyeballs_config.sort: destination sorting (RFC 6724 §6, RFC 8305 §4). */
enum {
    EYEBALLS_SORT_AUTO = 0,   /* RFC 6724 in DNS mode; off in addresses mode */
    EYEBALLS_SORT_OFF = 1,    /* keep the order given / received */
    EYEBALLS_SORT_RFC6724 = 2 /* sort each address list before interleaving */
};

/* "No value" for the optional durations of eyeballs_config. */
#define EYEBALLS_NONE INT64_C(-1)

/* A buffer of this many bytes holds any endpoint's text with its NUL
 * ("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535" is 58
 * characters). */
#define EYEBALLS_ENDPOINT_TEXT_SIZE 64

/* An IP endpoint: family, address bytes in network order (IPv4 uses the first
 * 4 of 16), port in host order. `scope_id` is the zone of a link-local IPv6
 * address (RFC 4007), the interface index sockaddr_in6 carries; 0 for none.
 * The text forms write it after a '%': "[fe80::1%2]:443". */
typedef struct eyeballs_endpoint {
    int family; /* EYEBALLS_FAMILY_V6 or EYEBALLS_FAMILY_V4 */
    uint16_t port;
    uint32_t scope_id;
    uint8_t address[16];
} eyeballs_endpoint;

/* An RTT and outcome history kept across races (opaque; eyeballs_history_new). */
typedef struct eyeballs_history eyeballs_history;
/* Alt-Svc alternatives kept across races (opaque; eyeballs_alt_svc_cache_new). */
typedef struct eyeballs_alt_svc_cache eyeballs_alt_svc_cache;
/* DNS answers kept across races with their TTLs (opaque; eyeballs_dns_cache_new). */
typedef struct eyeballs_dns_cache eyeballs_dns_cache;

/* A NAT64 prefix (RFC 6052 §2.2 Pref64::/n): `length` is 32, 40, 48, 56, 64
 * or 96; bits past it and bits 64-71 are zero. eyeballs_pref64_parse() makes
 * one from "64:ff9b::/96". */
typedef struct eyeballs_pref64 {
    uint8_t prefix[16];
    uint8_t length;
} eyeballs_pref64;

/* What the caller knows of the source address the kernel would use for one
 * destination (RFC 6724 §6 Source(D)), for sorting rules 1-5, 7 and 9. */
typedef struct eyeballs_source_info {
    int has_source; /* 0: no source address, the destination is unusable (rule 1) */
    eyeballs_endpoint source;
    int deprecated;        /* rule 3 */
    int home;              /* rule 4; a node that is not mobile says 1 */
    int care_of;           /* rule 4 */
    int native;            /* rule 7; 0 when reached through a tunnel */
    int has_prefix_length; /* rule 9's cap; 0 = 64 for IPv6, 0 for IPv4 */
    uint8_t prefix_length;
} eyeballs_source_info;

/* Fills *info for `destination` and returns 1, or returns 0 when it does not
 * know (the source rules are then skipped for the whole list). Called from
 * inside the machine's start/handle_resolved calls, on the caller's thread;
 * it must not call into the machine. `info` arrives filled with the defaults
 * (home 1, native 1, everything else 0: set has_source and source). */
typedef int (*eyeballs_source_lookup)(void* data, const eyeballs_endpoint* destination,
                                      eyeballs_source_info* info);

/* Everything a race can be told (docs/behaviour.md §1, §2). Always start from
 * eyeballs_config_init(), which sets RFC 8305's defaults, then change fields:
 * later versions may add fields, and init keeps them at their defaults.
 * Durations are nanoseconds. */
typedef struct eyeballs_config {
    /* Connection Attempt Delay (RFC 8305 §5), 10 ms … 2 s. Default 250 ms.
     * EYEBALLS_NONE = sequential mode: one attempt at a time. */
    int64_t attempt_delay_ns;
    /* Resolution Delay (RFC 8305 §3), DNS mode only, 0 … 2 s. Default 50 ms. */
    int64_t resolution_delay_ns;
    /* No attempt starts within this of the previous start, 0 … 100 ms.
     * Default 10 ms (RFC 8305 §5's floor; below it departs from the RFC). */
    int64_t min_start_gap_ns;
    /* Fails an attempt with ETIMEDOUT this long after it starts; > 0.
     * Default EYEBALLS_NONE. Any positive value up to INT64_MAX is accepted;
     * a deadline past the end of representable time saturates (see "Time"
     * above), so INT64_MAX means "never" in practice. */
    int64_t attempt_timeout_ns;
    /* Ends the race (failed, ETIMEDOUT) this long after it starts; > 0.
     * Default EYEBALLS_NONE. Huge values saturate like attempt_timeout_ns. */
    int64_t overall_timeout_ns;
    /* First Address Family Count (RFC 8305 §4), >= 1. Default 1. */
    uint32_t family_count;
    /* EYEBALLS_INTERLEAVE_AUTO (default), _OFF or _ON. */
    int interleave;
    /* Local bind candidates (aiohappyeyeballs `local_addr_infos`): each
     * attempt binds to the first of its own family that works. Copied by
     * eyeballs_machine_new(); NULL with local_count 0 (default) for none. */
    const eyeballs_endpoint* local;
    size_t local_count;

    /* ---- Beyond RFC 8305's minimum (see eyeballs/config.hpp) ---- */
    /* EYEBALLS_SORT_AUTO (default), _OFF or _RFC6724. */
    int sort;
    /* Source information for sorting; NULL (default) skips the source rules.
     * `source_lookup_data` is passed back as its first argument. */
    eyeballs_source_lookup source_lookup;
    void* source_lookup_data;
    /* attempt-delay=auto: 1 makes each next delay 3 × the historical RTT of
     * the previous attempt's destination (attempt_delay_ns without one),
     * clamped to [min_attempt_delay_ns, max_attempt_delay_ns]. Racing mode
     * only. Default 0. */
    int auto_attempt_delay;
    int64_t min_attempt_delay_ns; /* 10 ms … 2 s, default 100 ms */
    int64_t max_attempt_delay_ns; /* 10 ms … 2 s, >= min, default 2 s */
    /* The n-th delay is the base delay × multiplier^(n-1), capped at
     * max_attempt_delay_ns. 1 … 16, default 1. */
    double delay_multiplier;
    /* RTT history, read for sorting and auto delays and written with each
     * attempt's outcome. Not owned: it must outlive the machine, and no other
     * thread may use it while the machine runs. NULL (default) for none. */
    eyeballs_history* history;
    /* The network this race runs on (history entries of other networks are
     * never used). Copied; NULL or "" (default) is the default network. */
    const char* network;
    /* An IPv6-only network: with has_pref64, IPv4 literals and A answers are
     * synthesized into IPv6 (RFC 8305 §7, RFC 6052); those that cannot be
     * are dropped. Defaults 0. */
    int ipv4_unavailable;
    int has_pref64;
    eyeballs_pref64 pref64;
    /* The most endpoints one race takes (from DNS answers or the given list),
     * 1 … 1024, default 64: each answer is sorted, then its first endpoints
     * fill the room left, first arrived first kept; the rest are dropped and
     * counted in eyeballs_report.dropped. Bounds how long a hostile answer
     * with hundreds of records can make a race. */
    uint32_t max_endpoints;
    /* At most this many attempts in flight at once (the next start waits for
     * one to end). 0 (default) = no cap, as RFC 8305. */
    uint32_t max_in_flight;
    /* One family only, as curl's -4 / -6: EYEBALLS_ONLY_ANY (default, both),
     * EYEBALLS_ONLY_V4 or EYEBALLS_ONLY_V6. DNS mode asks for that family
     * alone; addresses mode drops the other family's addresses. */
    int only_family;
    /* IPv6 is unavailable on this host: IPv6 addresses are not raced (the
     * AAAA query is not sent). Cannot go with ipv4_unavailable or
     * EYEBALLS_ONLY_V6. Default 0. */
    int ipv6_unavailable;
    /* Happy Eyeballs v3 §5.3 convergence: on this many races in 1000 the
     * history is not used for sorting (outcomes are still recorded), so
     * clients with different histories converge. 0 … 1000, default 20
     * (eyeballs_config_default). Which races: a fixed hash of shuffle_seed
     * and of the history's own race count decides, so races vary even with
     * one seed. */
    uint32_t history_explore;
    /* Seeds the race's random choices (history_explore). Default 0. */
    uint64_t shuffle_seed;
    /* A remote (address, scope id, port) that repeats one the race already
     * has: EYEBALLS_DUPLICATES_DROP (0, default: the first is kept, the rest
     * counted in eyeballs_metrics.duplicates_dropped) or
     * EYEBALLS_DUPLICATES_KEEP (each is a candidate; not in a v3 race). */
    int duplicates;

    /* ---- Happy Eyeballs v3: HTTPS records (C++ Config, issue 10/17) ----
     * Appended for ABI compatibility; zero is today's behaviour. */
    /* 1: DNS mode also asks the origin's HTTPS records (RFC 9460) and races
     * the services they describe (RESOLVE actions with https set, answered
     * with eyeballs_machine_handle_https()). Default 0: RFC 8305 exactly. */
    int https;
    /* The origin's port, 1-65535; 0 (default) means 443. */
    uint32_t port;
    /* 1: the caller can make QUIC attempts (h3 ALPN ids give QUIC endpoints). */
    int quic;
    /* AliasMode hops followed, 1-16; 0 (default) means the C++ default. */
    uint32_t alias_limit;
    /* EYEBALLS_SUCCESS_CONNECT (0, default) or EYEBALLS_SUCCESS_HANDSHAKE:
     * an attempt wins at eyeballs_machine_handle_secured(). */
    int success;
    /* 1: the soft QUIC timer (eyeballs_machine_handle_progress()). */
    int quic_progress;
    /* EYEBALLS_ECH_OFF (0, default), _OPPORTUNISTIC or _REQUIRED. */
    int ech;
    /* 1: with EYEBALLS_ECH_OPPORTUNISTIC, also race endpoints without ECH. */
    int ech_fallback;
    /* 1: the DNS answers are protected (DNSSEC, DoT, DoH, DoQ). */
    int dns_protected;
    /* An Alt-Svc field value (RFC 7838), e.g. "h3=\":443\"; ma=86400", parsed
     * by eyeballs_machine_new() (a parse error is EYEBALLS_ERR_ARGUMENT naming
     * alt_svc). Copied; NULL or "" (default) for none. */
    const char* alt_svc;
    /* The ALPN ids the caller speaks over TLS on TCP, comma-separated
     * ("h2,http/1.1"); C++ Config::tcp_alpn. A TCP service or Alt-Svc
     * alternative with no id in this list is not raced (RFC 9460 §7.1).
     * At most 32 ids of 1-255 bytes, no "h3"/"h3-*" (those are QUIC); a bad list
     * is EYEBALLS_ERR_CONFIG naming the rule. Copied; NULL or "" (default)
     * for "h2,http/1.1". */
    const char* tcp_alpn;
} eyeballs_config;

/* eyeballs_config.success. */
enum { EYEBALLS_SUCCESS_CONNECT = 0, EYEBALLS_SUCCESS_HANDSHAKE = 1 };

/* eyeballs_config.ech. */
enum { EYEBALLS_ECH_OFF = 0, EYEBALLS_ECH_OPPORTUNISTIC = 1, EYEBALLS_ECH_REQUIRED = 2 };

/* An attempt's transport (eyeballs_action_v3.protocol, eyeballs_report_v3). */
enum { EYEBALLS_PROTOCOL_TCP = 0, EYEBALLS_PROTOCOL_QUIC = 1 };

/* Where an attempt's service came from (C++ ServiceSource; the
 * service_source of eyeballs_action_v3, eyeballs_report_v3 and
 * eyeballs_attempt_v3): none (plain A/AAAA), an HTTPS record, or an Alt-Svc
 * alternative (eyeballs_config.alt_svc; the trace's "from":"alt-svc"). */
enum {
    EYEBALLS_SERVICE_SOURCE_NONE = 0,
    EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD = 1,
    EYEBALLS_SERVICE_SOURCE_ALT_SVC = 2
};

/* eyeballs_config.only_family. */
enum { EYEBALLS_ONLY_ANY = 0, EYEBALLS_ONLY_V4 = 1, EYEBALLS_ONLY_V6 = 2 };

/* eyeballs_config.duplicates. */
enum { EYEBALLS_DUPLICATES_DROP = 0, EYEBALLS_DUPLICATES_KEEP = 1 };

/* One action to perform. Which fields mean something depends on `kind`;
 * the others are zero. */
typedef struct eyeballs_action {
    int kind; /* EYEBALLS_ACTION_* */
    /* OPEN_SOCKET, BIND, CONNECT, CLOSE: the attempt (numbered from 1 in start
     * order). REPORT: the winning attempt when connected, else 0. */
    uint32_t attempt;
    /* RESOLVE: the family to ask for. OPEN_SOCKET, CONNECT, and REPORT when
     * connected: remote.family. */
    int family;
    /* REPORT: EYEBALLS_OUTCOME_*. */
    int outcome;
    /* OPEN_SOCKET, CONNECT, and REPORT when connected: 1, and `remote` is the
     * address to connect to / the winner's. */
    int has_remote;
    eyeballs_endpoint remote;
    /* BIND: 1, `local` is the address to bind. CONNECT: 1 when the socket was
     * bound, `local` is that address. */
    int has_local;
    eyeballs_endpoint local;
} eyeballs_action;

/* The race's result, from eyeballs_machine_report(). */
typedef struct eyeballs_report {
    /* 1 once the REPORT action was queued; before that the report is the state
     * so far with outcome FAILED and message "the race has not finished". */
    int finished;
    int outcome; /* EYEBALLS_OUTCOME_* */
    /* Connected: the winning attempt, its remote and, when it was bound, its
     * local address. */
    uint32_t winner;
    int has_remote;
    eyeballs_endpoint remote;
    int has_local;
    eyeballs_endpoint local;
    /* Failed: the errno every attempt error shares, or 0 when they differ
     * (ETIMEDOUT after an overall timeout); cancelled: ECANCELED; connected: 0. */
    int code;
    /* Failed: the single error's text, or "multiple errors: a, b, ...", or
     * "overall timeout after N ms"; cancelled: "cancelled by the caller";
     * connected: "". Valid until the next eyeballs_machine_report() call on
     * the machine or eyeballs_machine_free(). */
    const char* message;
    int overall_timeout; /* 1 when the overall timeout ended the race */
    /* How many errors and attempts eyeballs_machine_report_error() and
     * eyeballs_machine_report_attempt() can read from this snapshot. */
    size_t error_count;
    size_t attempt_count;
    /* When the race started and finished (or, unfinished, the latest input),
     * on the caller's clock. */
    int64_t started_ns;
    int64_t finished_ns;
    /* Endpoints left out because the race already held
     * eyeballs_config.max_endpoints; 0 when the cap was never reached. */
    size_t dropped;
} eyeballs_report;

/* One recorded error (docs/behaviour.md §3): negative DNS answers first in arrival order,
 * then per attempt in start order its bind errors, then its open, connect or
 * timeout error. Strings live as long as the report snapshot they came from. */
typedef struct eyeballs_error {
    int stage;        /* EYEBALLS_STAGE_* */
    uint32_t attempt; /* the attempt number; 0 for a resolve error */
    int has_family;   /* resolve errors: 1, `family` is the DNS family */
    int family;
    int has_remote; /* attempt errors: 1, `remote` is the attempt's remote */
    eyeballs_endpoint remote;
    int has_local; /* bind errors: 1, `local` is the address that failed */
    eyeballs_endpoint local;
    int code;               /* the errno value; 0 = none */
    const char* errno_name; /* "ECONNREFUSED", or NULL when code is 0 or has no name */
    const char* detail;     /* the resolver's text, the timeout's length, or "" */
    const char* message;    /* one line: "connect to 192.0.2.1:443: ECONNREFUSED" */
    const char* dns;        /* a resolve error's DNS class, when the resolver gave one:
                               "NODATA", "NXDOMAIN", "SERVFAIL" (REFUSED and other
                               RCODEs too; detail names it), "TIMEOUT", "MALFORMED",
                               "TRUNCATED"; NULL otherwise (eyeballs/error.hpp DnsError) */
} eyeballs_error;

/* What happened to one attempt, in start order. */
typedef struct eyeballs_attempt {
    uint32_t attempt; /* its number, from 1 */
    int state;        /* EYEBALLS_ATTEMPT_* */
    eyeballs_endpoint remote;
    int has_local; /* 1 when it bound `local` */
    eyeballs_endpoint local;
    int64_t started_ns;
    int has_ended; /* 1 once it connected, failed or was closed: `ended_ns` */
    int64_t ended_ns;
} eyeballs_attempt;

/* What an operator graphs about one race (C++ eyeballs::RaceMetrics), from
 * the latest report snapshot: plain numbers, no parsing of a trace. Times are
 * nanoseconds; -1 means "did not happen". */
typedef struct eyeballs_metrics {
    /* The origin's AAAA, A and HTTPS answers, from the race's start (DNS
     * mode; -1 in addresses mode or while unanswered). */
    int64_t dns_aaaa_ns;
    int64_t dns_a_ns;
    int64_t dns_https_ns;
    /* Queries answered (origin and target names), and the longest of their
     * times from being asked to being answered (-1: none). */
    uint32_t dns_queries;
    int64_t dns_max_ns;
    uint32_t attempts_started; /* attempts numbered, including ones that failed at once */
    /* Connected: has_winner 1, the winner's EYEBALLS_FAMILY_* and protocol
     * (0 TCP, 1 QUIC), and the time from the start to its connect. */
    int has_winner;
    int winner_family;
    int winner_protocol;
    int64_t time_to_connect_ns;
    /* The report's errors counted by stage, indexed by EYEBALLS_STAGE_*. */
    uint32_t errors_by_stage[6];
    /* Remotes dropped as repeats of earlier ones (eyeballs_config.duplicates). */
    uint32_t duplicates_dropped;
    int64_t duration_ns; /* start to end (unfinished: to the latest input) */
} eyeballs_metrics;

/* The machine: opaque, created by eyeballs_machine_new(). */
typedef struct eyeballs_machine eyeballs_machine;

/* ---- Configuration and lifetime ------------------------------------------ */

/* Sets every field to RFC 8305's defaults (see eyeballs_config). Does nothing
 * when `config` is NULL. */
void eyeballs_config_init(eyeballs_config* config);

/* Creates a machine for one race. `config` NULL means the defaults. The
 * configuration is checked here with the rules of docs/behaviour.md §1-§2, and the local
 * candidates are copied.
 * On success stores the machine in *out and returns EYEBALLS_OK; free it with
 * eyeballs_machine_free(). On failure stores NULL in *out (when `out` is not
 * NULL), writes the message into `message` (at most message_size bytes,
 * always NUL-terminated, truncated if needed; pass NULL/0 to skip) and returns
 *   EYEBALLS_ERR_ARGUMENT   `out` is NULL, `interleave` or `sort` is out of
 *                           range, a local candidate has a bad family, `local`
 *                           is NULL with local_count > 0, or `pref64` has a
 *                           length RFC 6052 does not define or stray bits;
 *   EYEBALLS_ERR_CONFIG     a rule is broken, e.g. "attempt-delay 5 ms is
 *                           outside 10 ms … 2 s (RFC 8305 §5)";
 *   EYEBALLS_ERR_NO_MEMORY. */
eyeballs_status eyeballs_machine_new(const eyeballs_config* config, eyeballs_machine** out,
                                     char* message, size_t message_size);

/* Frees the machine and everything it handed out (report strings, the last
 * error). NULL is ignored. It closes no socket: sockets belong to the caller,
 * so close those still in flight first (eyeballs_machine_cancel() and drain
 * gives a CLOSE for each). */
void eyeballs_machine_free(eyeballs_machine* machine);

/* The message of the most recent call on `machine` that returned an error, or
 * "" when none has. Valid until the next call on the machine that fails, or
 * eyeballs_machine_free(). Returns "" for NULL. */
const char* eyeballs_machine_last_error(const eyeballs_machine* machine);

/* ---- Commands: start the race (once) or cancel it ------------------------ */

/* Addresses mode (docs/behaviour.md §1): races these remotes (ports set), in this order,
 * interleaved by family as the configuration says. The endpoints are copied.
 * Actions that may follow at once: OPEN_SOCKET for attempt 1 (when the local
 * candidates have none of its family, attempt 1 fails at once with no action
 * and the next starts at the 10 ms floor: see eyeballs_machine_next_timeout).
 * Fails, changing nothing, with
 *   EYEBALLS_ERR_ARGUMENT   `machine` NULL, `remotes` NULL or count 0 ("no
 *                           addresses to race: the address list is empty"),
 *                           an endpoint with a bad family or with port 0
 *                           ("... has port 0, which is not a valid remote
 *                           port"), or no address left
 *                           after NAT64 synthesis (ipv4_unavailable + pref64)
 *                           or of the only family (only_family);
 *   EYEBALLS_ERR_STATE      the race has already started, finished or been
 *                           cancelled. */
eyeballs_status eyeballs_machine_start(eyeballs_machine* machine, int64_t now_ns,
                                       const eyeballs_endpoint* remotes, size_t count);

/* DNS mode (docs/behaviour.md §2): the actions that follow are RESOLVE V6 (AAAA), then
 * RESOLVE V4 (A) — only the one of only_family when it is set. Answer each family once, in any order, with
 * eyeballs_machine_handle_resolved() or eyeballs_machine_handle_resolve_failed().
 * Fails like eyeballs_machine_start() (ERR_ARGUMENT for NULL, ERR_STATE). */
eyeballs_status eyeballs_machine_start_resolving(eyeballs_machine* machine, int64_t now_ns);

/* Ends the race at once. Actions that follow: CLOSE for every socket in
 * flight, then REPORT cancelled (also before start: then only the REPORT).
 * Ignored (EYEBALLS_OK) after the race has finished. Fails only with
 * EYEBALLS_ERR_ARGUMENT for a NULL machine. */
eyeballs_status eyeballs_machine_cancel(eyeballs_machine* machine, int64_t now_ns);

/* ---- Inputs: what happened ---------------------------------------------- */
/* Each returns what the C++ input's InputStatus (eyeballs/input_status.hpp)
 * says, so both APIs judge the same mistakes alike:
 *   EYEBALLS_OK         the input was taken, or it came late and was ignored:
 *                       the race is over or the attempt already ended (normal
 *                       in an event loop: a connect completing after the
 *                       winner). An earlier `now_ns` than the latest is not
 *                       ignored but taken as that latest time.
 *   EYEBALLS_ERR_STATE  a misuse, ignored (nothing changed):
 *                       an attempt number this machine never issued (0 or
 *                       above the attempts started), or an input out of order
 *                       — an answer to an action the attempt was not given
 *                       (CONNECTED before CONNECT, BOUND without BIND) or given
 *                       twice, a DNS answer for a family never asked or
 *                       already answered, a timeout before start.
 *                       eyeballs_machine_last_error() names the function and
 *                       the attempt or query (docs/behaviour.md "Misuse").
 *   EYEBALLS_ERR_ARGUMENT only for a NULL machine or a bad family/endpoint, in
 *                       which case nothing is fed;
 *   EYEBALLS_ERR_NO_MEMORY if an allocation failed. */

/* A positive DNS answer for `family` (docs/behaviour.md §2). Addresses of the other family
 * are ignored, and so are addresses with port 0 (not a valid remote port: set
 * the port you connect to); an empty answer (count 0) counts as "no data".
 * Copied.
 * Actions that may follow: OPEN_SOCKET (at once, or after the resolution
 * delay / attempt delay — see next_timeout), or REPORT failed when this was
 * the last outstanding answer and nothing is left to try. */
eyeballs_status eyeballs_machine_handle_resolved(eyeballs_machine* machine, int64_t now_ns,
                                                 int family, const eyeballs_endpoint* addresses,
                                                 size_t count);

/* A negative DNS answer for `family`: `code` 0 and `detail` NULL or "" mean
 * "no data"; otherwise an errno value and/or the resolver's text (copied).
 * Actions that may follow: OPEN_SOCKET (a negative AAAA ends the resolution
 * delay), or REPORT failed with the resolve errors when both families failed. */
eyeballs_status eyeballs_machine_handle_resolve_failed(eyeballs_machine* machine, int64_t now_ns,
                                                       int family, int code, const char* detail);

/* The answer to OPEN_SOCKET: 0, or the errno of the failed socket creation
 * (the socket was then never opened and gets no CLOSE). Actions that may
 * follow: BIND or CONNECT for this attempt; on failure OPEN_SOCKET for the
 * next candidate (fail fast, at the 10 ms floor) or REPORT failed. */
eyeballs_status eyeballs_machine_handle_opened(eyeballs_machine* machine, int64_t now_ns,
                                               uint32_t attempt, int code);

/* The answer to BIND: 0, or the errno of the failed bind (recorded; the next
 * local candidate of the family is tried). Actions that may follow: CONNECT;
 * BIND with the next local candidate; or, when every candidate failed, CLOSE
 * for this attempt and what a failure brings (OPEN_SOCKET, REPORT). */
eyeballs_status eyeballs_machine_handle_bound(eyeballs_machine* machine, int64_t now_ns,
                                              uint32_t attempt, int code);

/* The attempt's connect completed. Actions that follow: CLOSE for every other
 * attempt in flight, then REPORT connected; the socket is now yours. A success
 * after the race ended is ignored, and that socket was already given a CLOSE. */
eyeballs_status eyeballs_machine_handle_connected(eyeballs_machine* machine, int64_t now_ns,
                                                  uint32_t attempt);

/* The attempt's connect failed with errno `code` (ECONNREFUSED, ...). Actions
 * that may follow: CLOSE for this attempt, OPEN_SOCKET for the next candidate
 * (fail fast when it was the newest attempt), REPORT failed when it was the
 * last hope. */
eyeballs_status eyeballs_machine_handle_connect_failed(eyeballs_machine* machine, int64_t now_ns,
                                                       uint32_t attempt, int code);

/* Fires whatever timers are due at `now_ns`, in docs/behaviour.md §1 rule 8's order:
 * overall timeout, attempt timeouts (in attempt order), resolution delay, next
 * attempt. May be called early, late or twice: it does what is due. Actions
 * that may follow: OPEN_SOCKET; CLOSE for attempts that timed out; CLOSE for
 * everything and REPORT failed on the overall timeout. */
eyeballs_status eyeballs_machine_handle_timeout(eyeballs_machine* machine, int64_t now_ns);

/* ---- Outputs -------------------------------------------------------------- */

/* Takes the next action: returns 1 and fills *action, or returns 0 when there
 * is none for now (or `machine` or `action` is NULL). After the REPORT action
 * it always returns 0. */
int eyeballs_machine_poll_action(eyeballs_machine* machine, eyeballs_action* action);

/* The one deadline to arm: returns 1 and stores it (caller's clock, ns) in
 * *deadline_ns when a timer is running, 0 when none is (or an argument is
 * NULL). The deadline may already have passed: then call
 * eyeballs_machine_handle_timeout() at once. It is INT64_MAX when the only
 * timer running lies past the end of representable time (a huge timeout):
 * arming it is harmless, it never fires on a real clock. */
int eyeballs_machine_next_timeout(const eyeballs_machine* machine, int64_t* deadline_ns);

/* ---- Happy Eyeballs v3 (HTTPS records) ------------------------------------ */

/* A DNS query, as a RESOLVE action names it (eyeballs_action_v3): its
 * family (A/AAAA; V6 for HTTPS), whether it is an HTTPS (type 65) query, the
 * port prefix labels' port (0: none) and the name ("" or NULL: the origin). */
typedef struct eyeballs_query {
    int family;
    int https;
    uint32_t port_prefix;
    const char* name;
} eyeballs_query;

/* The v3 view of the action most recently returned by
 * eyeballs_machine_poll_action(). `name` and `service_target` point into
 * the machine and stay valid until the next poll or free. */
typedef struct eyeballs_action_v3 {
    int kind;         /* as eyeballs_action.kind; 0 when no action was polled */
    uint32_t attempt; /* as eyeballs_action.attempt */
    /* RESOLVE: the query (pass it back to the query inputs below). */
    eyeballs_query query;
    /* OPEN_SOCKET, CONNECT, REPORT (connected): EYEBALLS_PROTOCOL_*. */
    int protocol;
    /* OPEN_SOCKET, CONNECT, CRYPTO_READY, REPORT: 1 when the attempt comes
     * from an HTTPS record or Alt-Svc: its target, port and ECH config. */
    int has_service;
    const char* service_target;
    uint32_t service_port;
    uint32_t service_priority;
    const uint8_t* ech;  /* the ECHConfigList, NULL when none */
    size_t ech_size;
    /* With has_service: EYEBALLS_SERVICE_SOURCE_HTTPS_RECORD or _ALT_SVC;
     * else _NONE. Appended for ABI compatibility. */
    int service_source;
} eyeballs_action_v3;

eyeballs_status eyeballs_machine_action_v3(const eyeballs_machine* machine,
                                           eyeballs_action_v3* action);

/* The most recently polled action as one line of text (the C++ trace form,
 * "resolve HTTPS", "connect #1 [2001:db8::1]:443 quic"). Writes at most
 * `size` bytes with the NUL, returns the text's full length (as snprintf).
 * 0 with no action polled. */
size_t eyeballs_action_text(const eyeballs_machine* machine, char* buffer, size_t size);

/* "tcp", "quic"; "?" for another value. */
const char* eyeballs_protocol_name(int protocol);
/* "none", "https-record", "alt-svc" (EYEBALLS_SERVICE_SOURCE_*); "?" for
 * another value. */
const char* eyeballs_service_source_name(int source);

/* The answer to an HTTPS RESOLVE: `records` are RFC 9460 presentation texts
 * ("1 . alpn=h3,h2 ipv4hint=192.0.2.1"), parsed by the library's SVCB parser
 * (a bad record is EYEBALLS_ERR_ARGUMENT naming its index and the rule);
 * count 0 means "no records". */
eyeballs_status eyeballs_machine_handle_https(eyeballs_machine* machine, int64_t now_ns,
                                              const eyeballs_query* query,
                                              const char* const* records, size_t count);
/* A positive A/AAAA answer for any query (origin or a target name). */
eyeballs_status eyeballs_machine_handle_query_resolved(eyeballs_machine* machine, int64_t now_ns,
                                                       const eyeballs_query* query,
                                                       const eyeballs_endpoint* addresses,
                                                       size_t count);
/* A negative answer for any query (HTTPS too). */
eyeballs_status eyeballs_machine_handle_query_failed(eyeballs_machine* machine, int64_t now_ns,
                                                     const eyeballs_query* query, int code,
                                                     const char* detail);
/* A stale (expired, cached) answer raced until the fresh one comes (C++
 * handle_stale), and a later changed answer (C++ handle_dns_update). */
eyeballs_status eyeballs_machine_handle_stale(eyeballs_machine* machine, int64_t now_ns,
                                              const eyeballs_query* query,
                                              const eyeballs_endpoint* addresses, size_t count);
eyeballs_status eyeballs_machine_handle_dns_update(eyeballs_machine* machine, int64_t now_ns,
                                                   const eyeballs_query* query,
                                                   const eyeballs_endpoint* addresses,
                                                   size_t count);
/* A stale (expired, cached) HTTPS answer (C++ handle_stale_https), records
 * as eyeballs_machine_handle_https() takes them: its services are raced
 * while the HTTPS query goes out, and the answer to that query
 * (eyeballs_machine_handle_https) replaces them: services it no longer has
 * lose their untried endpoints (attempts in flight go on), new ones join. A
 * fresh answer with no records, or a failed query
 * (eyeballs_machine_handle_query_failed), keeps the stale services. Needs
 * eyeballs_config.https (else EYEBALLS_ERR_STATE, like an HTTPS answer for a
 * query not asked). */
eyeballs_status eyeballs_machine_handle_stale_https(eyeballs_machine* machine, int64_t now_ns,
                                                    const eyeballs_query* query,
                                                    const char* const* records, size_t count);
/* The attempt heard from its server (the soft QUIC timer, quic_progress). */
eyeballs_status eyeballs_machine_handle_progress(eyeballs_machine* machine, int64_t now_ns,
                                                 uint32_t attempt);
/* The attempt's TLS handshake completed (success = HANDSHAKE: it wins) or
 * failed (errno-like `code`, recorded with stage TLS). */
eyeballs_status eyeballs_machine_handle_secured(eyeballs_machine* machine, int64_t now_ns,
                                                uint32_t attempt);
eyeballs_status eyeballs_machine_handle_secure_failed(eyeballs_machine* machine, int64_t now_ns,
                                                      uint32_t attempt, int code,
                                                      const char* detail);
/* The server rejected ECH and sent retry configs: the endpoint restarts once. */
eyeballs_status eyeballs_machine_handle_ech_retry(eyeballs_machine* machine, int64_t now_ns,
                                                  uint32_t attempt, const uint8_t* retry_configs,
                                                  size_t size);

/* The v3 part of the latest report snapshot (eyeballs_machine_report()
 * first, else EYEBALLS_ERR_STATE). Strings live until the next snapshot. */
typedef struct eyeballs_report_v3 {
    int protocol;              /* connected: the winner's EYEBALLS_PROTOCOL_* */
    const char* alpn;          /* the winner's ALPN ids, comma-separated; "" for none */
    const char* tls_version;   /* "" unless an adapter filled it in */
    const char* alpn_selected; /* "" unless an adapter filled it in */
    /* Connected: the winner's EYEBALLS_SERVICE_SOURCE_* (appended, ABI). */
    int service_source;
} eyeballs_report_v3;

eyeballs_status eyeballs_machine_report_v3(const eyeballs_machine* machine,
                                           eyeballs_report_v3* report);

/* Attempt `index`'s v3 fields (as eyeballs_machine_report_attempt()). */
typedef struct eyeballs_attempt_v3 {
    int protocol;     /* EYEBALLS_PROTOCOL_* */
    const char* alpn; /* comma-separated; "" for none */
    int ech;          /* 1 when its record carried an ECH config */
    int service_source; /* EYEBALLS_SERVICE_SOURCE_* (appended, ABI) */
} eyeballs_attempt_v3;

eyeballs_status eyeballs_machine_report_attempt_v3(const eyeballs_machine* machine, size_t index,
                                                   eyeballs_attempt_v3* attempt);

/* ---- Getters (0 for a NULL machine) -------------------------------------- */

int eyeballs_machine_started(const eyeballs_machine* machine);
/* 1 once the REPORT action has been queued. */
int eyeballs_machine_finished(const eyeballs_machine* machine);
/* Attempts numbered so far. */
uint32_t eyeballs_machine_attempts_started(const eyeballs_machine* machine);
/* Attempts whose socket is open (or about to be) and not yet closed or won. */
uint32_t eyeballs_machine_attempts_in_flight(const eyeballs_machine* machine);
/* Candidates not yet tried. */
size_t eyeballs_machine_candidates_left(const eyeballs_machine* machine);

/* ---- Report ----------------------------------------------------------------- */

/* Takes a snapshot of the report (complete once finished; before that, the
 * state so far) and fills *report. The snapshot's strings, errors and attempts
 * stay valid until the next eyeballs_machine_report() call on this machine or
 * eyeballs_machine_free(). Fails with EYEBALLS_ERR_ARGUMENT (NULL) or
 * EYEBALLS_ERR_NO_MEMORY. */
eyeballs_status eyeballs_machine_report(eyeballs_machine* machine, eyeballs_report* report);

/* Error `index` (0 … error_count - 1) of the latest snapshot. Fails with
 * EYEBALLS_ERR_STATE when no snapshot has been taken, EYEBALLS_ERR_ARGUMENT
 * for NULL or an index past the end. */
eyeballs_status eyeballs_machine_report_error(const eyeballs_machine* machine, size_t index,
                                              eyeballs_error* error);

/* Attempt `index` (0 … attempt_count - 1, start order) of the latest
 * snapshot. Fails like eyeballs_machine_report_error(). */
eyeballs_status eyeballs_machine_report_attempt(const eyeballs_machine* machine, size_t index,
                                                eyeballs_attempt* attempt);

/* The metrics of the latest snapshot (eyeballs_machine_report()). Fails with
 * EYEBALLS_ERR_STATE when no snapshot has been taken, EYEBALLS_ERR_ARGUMENT
 * for NULL. */
eyeballs_status eyeballs_machine_report_metrics(const eyeballs_machine* machine,
                                                eyeballs_metrics* metrics);

/* ---- Endpoints ------------------------------------------------------------ */

/* Parses "2001:db8::1", "192.0.2.1", "[2001:db8::1]:443", "192.0.2.1:443",
 * "[2001:db8::1]" or, with a numeric zone, "[fe80::1%2]:443"; text without a
 * port gets `default_port`. On failure returns
 * EYEBALLS_ERR_ARGUMENT, leaves *out unchanged and writes a message ("bad IPv6
 * address 'x'", ...) into `message` as eyeballs_machine_new() does. */
eyeballs_status eyeballs_endpoint_parse(const char* text, uint16_t default_port,
                                        eyeballs_endpoint* out, char* message,
                                        size_t message_size);

/* Maps an interface name to its index for a zone ("fe80::1%eth0"): stores
 * the index in *index and returns 1, or returns 0 when there is no such
 * interface. A POSIX program can wrap if_nametoindex(). */
typedef int (*eyeballs_zone_lookup)(void* data, const char* name, uint32_t* index);

/* Like eyeballs_endpoint_parse(), which takes numeric zones only ("fe80::1%2",
 * "[fe80::1%2]:443"; a zone goes with a non-global IPv6 address, RFC 4007
 * §6), but a zone that is an interface name is given to `lookup` (NULL:
 * names are refused, as eyeballs_endpoint_parse() does). */
eyeballs_status eyeballs_endpoint_parse_zoned(const char* text, uint16_t default_port,
                                              eyeballs_zone_lookup lookup, void* lookup_data,
                                              eyeballs_endpoint* out, char* message,
                                              size_t message_size);

/* Writes "192.0.2.1:443", "[2001:db8::1]:443" or "[fe80::1%2]:443" (RFC 5952 form) like
 * snprintf: at most `size` bytes, NUL-terminated when size > 0, and returns
 * the length of the whole text (without the NUL), so a return >= size means
 * it was truncated; EYEBALLS_ENDPOINT_TEXT_SIZE bytes always suffice. Returns
 * 0 and writes "" for a NULL endpoint or a bad family. */
size_t eyeballs_endpoint_format(const eyeballs_endpoint* endpoint, char* buffer, size_t size);

/* Fills a struct sockaddr_in or sockaddr_in6 in `storage` (pass a struct
 * sockaddr_storage and its size) and returns the length to give connect() or
 * bind(); returns 0 when the endpoint is NULL or bad or `size` is too small. */
size_t eyeballs_endpoint_to_sockaddr(const eyeballs_endpoint* endpoint, void* storage,
                                     size_t size);

/* Reads a struct sockaddr_in or sockaddr_in6 of `length` bytes. Fails with
 * EYEBALLS_ERR_ARGUMENT for NULL, another family or a short length. */
eyeballs_status eyeballs_endpoint_from_sockaddr(const void* sockaddr, size_t length,
                                                eyeballs_endpoint* out);

/* ---- History (RFC 8305 §4 RTT history) and NAT64 prefixes --------------------- */

/* Creates an empty history of at most `capacity` entries over all networks
 * (recording into a full one evicts the least recently recorded entry; 0
 * keeps nothing). Give it to races through eyeballs_config.history. Fails
 * with EYEBALLS_ERR_ARGUMENT (`out` NULL) or EYEBALLS_ERR_NO_MEMORY. */
eyeballs_status eyeballs_history_new(size_t capacity, eyeballs_history** out);
/* Frees it. NULL is ignored. No machine that uses it may still be alive. */
void eyeballs_history_free(eyeballs_history* history);
/* Records what a connect to `address` (its port is ignored) did on `network`
 * (NULL = the default network): success after `rtt_ns` (negative counts as
 * 0), or failure. `when_ns` is kept for the caller's use. Machines record
 * their own attempts; these are for what the caller learned elsewhere. Fail
 * with EYEBALLS_ERR_ARGUMENT for NULL or a bad endpoint. */
eyeballs_status eyeballs_history_record_success(eyeballs_history* history, const char* network,
                                                const eyeballs_endpoint* address, int64_t rtt_ns,
                                                int64_t when_ns);
eyeballs_status eyeballs_history_record_failure(eyeballs_history* history, const char* network,
                                                const eyeballs_endpoint* address, int64_t when_ns);
/* The RTT to expect for `address` on `network`: returns 1 and stores the
 * smoothed RTT (RFC 6298 SRTT) in *rtt_ns, or 0 when no connect to it has
 * succeeded, the latest one failed, or an argument is NULL or bad. */
int eyeballs_history_rtt(const eyeballs_history* history, const char* network,
                         const eyeballs_endpoint* address, int64_t* rtt_ns);
/* Entries over all networks (0 for NULL). */
size_t eyeballs_history_size(const eyeballs_history* history);
/* Forgets everything, or one network's entries (NULL = the default network). */
void eyeballs_history_clear(eyeballs_history* history);
void eyeballs_history_clear_network(eyeballs_history* history, const char* network);
/* 1 when a connect to `address` on `network` succeeded at least once (Happy
 * Eyeballs v3 §5.3's used-before sorting rule), even if a later one failed;
 * 0 otherwise or for a NULL or bad argument. */
int eyeballs_history_used(const eyeballs_history* history, const char* network,
                          const eyeballs_endpoint* address);
/* The host is now attached to `network` (NULL = the default network). When
 * it differs from the network of the previous call, every entry is forgotten
 * (v3 §5.3: flushed when the host changes network) unless `resume` is 1 (the
 * ids reliably name networks: each keeps its own entries). The first call,
 * and the same network again, forget nothing. Returns the entries forgotten
 * (0 for NULL). */
size_t eyeballs_history_attach(eyeballs_history* history, const char* network, int resume);

/* ---- Alt-Svc cache (RFC 7838; eyeballs/alt_svc_cache.hpp) ------------------- */

/* The alternative services origins advertised, kept from race to race
 * (opaque). Keyed by origin (scheme, host without regard to case, port); a
 * stored field value replaces the origin's alternatives and `clear` forgets
 * them (RFC 7838 §3); each stays fresh while now < received + ma seconds
 * (§3.1). At most `capacity` origins (storing into a full cache evicts the
 * origin stored least recently; 0 keeps nothing). Fails with
 * EYEBALLS_ERR_ARGUMENT (`out` NULL) or EYEBALLS_ERR_NO_MEMORY. */
eyeballs_status eyeballs_alt_svc_cache_new(size_t capacity, eyeballs_alt_svc_cache** out);
/* Frees it. NULL is ignored. */
void eyeballs_alt_svc_cache_free(eyeballs_alt_svc_cache* cache);
/* `scheme`://`host`:`port` sent an Alt-Svc field with `value`, generated at
 * `received_ns`. A value that does not parse changes nothing and fails with
 * EYEBALLS_ERR_ARGUMENT and the parser's message ("alternative 1: port 70000
 * is outside 1-65535") in `message` (written like eyeballs_machine_new());
 * so do NULL arguments. */
eyeballs_status eyeballs_alt_svc_cache_store(eyeballs_alt_svc_cache* cache, const char* scheme,
                                             const char* host, uint16_t port, const char* value,
                                             int64_t received_ns, char* message,
                                             size_t message_size);
/* The origin's alternatives still fresh at `now_ns`, as an Alt-Svc field
 * value ready for eyeballs_config.alt_svc ("h3=\":443\"; ma=3599"; each
 * ma the seconds left, rounded up), written like eyeballs_endpoint_format():
 * returns the whole length, so a return >= size means it was truncated.
 * Writes "" and returns 0 when there are none or an argument is NULL. */
size_t eyeballs_alt_svc_cache_lookup(const eyeballs_alt_svc_cache* cache, const char* scheme,
                                     const char* host, uint16_t port, int64_t now_ns,
                                     char* buffer, size_t size);
/* The host is now attached to `network` (NULL = the default network; the id
 * of eyeballs_config.network and eyeballs_history_attach). When it differs
 * from the previous call's, alternatives without persist=1 are forgotten
 * (RFC 7838 §3.1). Returns how many were forgotten (0 for NULL). */
size_t eyeballs_alt_svc_cache_attach(eyeballs_alt_svc_cache* cache, const char* network);
/* The adapters' alt_svc_cache option for a machine the caller drives: when
 * the race to `host`:`port` takes the cache's alternatives (C++
 * eyeballs::alternatives_for_race: config->https set, config->alt_svc NULL or
 * "" — a list the caller gave wins —, `host` a name, not an IP literal, and
 * `port` not 0), the ones of the origin https://host:port still fresh at
 * `now_ns` are written into `buffer` as an Alt-Svc field value and
 * config->alt_svc is pointed at it (keep `buffer` until
 * eyeballs_machine_new() has copied it). Returns the value's whole length,
 * like eyeballs_alt_svc_cache_lookup(): 0 when nothing applies or a pointer
 * is NULL (config unchanged); >= size when it did not fit (config unchanged,
 * "" in buffer: give a buffer that long plus one). Call it with the host and
 * port the caller asked for, before any override of where to connect (an
 * override is the caller's choice and wins: then do not call it). */
size_t eyeballs_alt_svc_cache_apply(const eyeballs_alt_svc_cache* cache, eyeballs_config* config,
                                    const char* host, uint16_t port, int64_t now_ns,
                                    char* buffer, size_t size);
/* Origins held (0 for NULL). */
size_t eyeballs_alt_svc_cache_size(const eyeballs_alt_svc_cache* cache);
/* Forgets everything. */
void eyeballs_alt_svc_cache_clear(eyeballs_alt_svc_cache* cache);

/* ---- DNS cache (v3 §4.3, §4.4, RFC 8767; eyeballs/dns_cache.hpp) ----------- */

/* DNS answers kept from race to race with their TTLs (opaque), for a caller
 * that sends its own queries. Keyed by the name asked on the wire
 * ("_8443._https.www.example" for a port-prefixed HTTPS query; without
 * regard to ASCII case or a trailing dot) and the type. An answer is fresh
 * while now < received + TTL, then stale for `max_stale_ns` more (it may be
 * raced while the query goes out again), then gone. TTL 0, or an empty
 * answer, forgets the entry; failures are not stored, so a stale answer
 * outlives an unreachable server. Not locked: one thread at a time.
 *
 * Per RESOLVE action: eyeballs_machine_answer_from_cache() first; send the
 * query only when it says so; store what comes back with
 * eyeballs_dns_cache_store() / _store_https() under the name
 * eyeballs_query_name() gives, with its TTL (the smallest of the records
 * used, CNAMEs included). */

/* eyeballs_dns_cache_lookup()'s result: nothing usable, fresh, stale. */
enum { EYEBALLS_DNS_MISSING = 0, EYEBALLS_DNS_FRESH = 1, EYEBALLS_DNS_STALE = 2 };
/* The question's type for lookup and forget. */
enum { EYEBALLS_DNS_AAAA = 0, EYEBALLS_DNS_A = 1, EYEBALLS_DNS_HTTPS = 2 };

/* Creates an empty cache of at most `capacity` answers (storing into a full
 * one evicts the one stored least recently; 0 keeps nothing) that serves an
 * answer stale up to `max_stale_ns` past its TTL (EYEBALLS_NONE: the C++
 * default, one day, the low end of RFC 8767 §4's 1 to 3 days; 0: never
 * stale; other negative values count as 0). Fails with EYEBALLS_ERR_ARGUMENT (`out` NULL) or
 * EYEBALLS_ERR_NO_MEMORY. */
eyeballs_status eyeballs_dns_cache_new(size_t capacity, int64_t max_stale_ns,
                                       eyeballs_dns_cache** out);
/* Frees it. NULL is ignored. */
void eyeballs_dns_cache_free(eyeballs_dns_cache* cache);
/* An AAAA (family V6) or A (V4) answer for `name`, received at `now_ns` with
 * `ttl` seconds. Addresses of the other family are left out, ports are set
 * to 0. Fails with EYEBALLS_ERR_ARGUMENT for NULLs, a bad family or a bad
 * endpoint, EYEBALLS_ERR_NO_MEMORY. */
eyeballs_status eyeballs_dns_cache_store(eyeballs_dns_cache* cache, const char* name, int family,
                                         const eyeballs_endpoint* addresses, size_t count,
                                         uint32_t ttl, int64_t now_ns);
/* An HTTPS answer for `name`: RFC 9460 presentation texts, as
 * eyeballs_machine_handle_https() takes them. A record that does not parse
 * stores nothing and fails with EYEBALLS_ERR_ARGUMENT and the parser's
 * message in `message` (written like eyeballs_machine_new()). */
eyeballs_status eyeballs_dns_cache_store_https(eyeballs_dns_cache* cache, const char* name,
                                               const char* const* records, size_t count,
                                               uint32_t ttl, int64_t now_ns, char* message,
                                               size_t message_size);
/* The state of (name, type) at `now_ns`: EYEBALLS_DNS_MISSING, _FRESH or
 * _STALE (MISSING for NULL or a bad type). For AAAA and A, up to `capacity`
 * of the addresses (port 0) go to `addresses` and their number (all of
 * them, maybe more than `capacity`) to *count; for HTTPS, *count is the
 * number of records. *expires_ns is received + TTL. Each out pointer may
 * be NULL. */
int eyeballs_dns_cache_lookup(const eyeballs_dns_cache* cache, const char* name, int type,
                              int64_t now_ns, eyeballs_endpoint* addresses, size_t capacity,
                              size_t* count, int64_t* expires_ns);
/* Forgets one question's answer. */
void eyeballs_dns_cache_forget(eyeballs_dns_cache* cache, const char* name, int type);
/* Forgets the answers that can no longer be served (stale for max_stale or
 * longer at `now_ns`); returns how many (0 for NULL). */
size_t eyeballs_dns_cache_expire(eyeballs_dns_cache* cache, int64_t now_ns);
/* Answers held (0 for NULL). */
size_t eyeballs_dns_cache_size(const eyeballs_dns_cache* cache);
/* Forgets everything (e.g. when the host changes network: answers can differ
 * by network, as split-horizon DNS and DNS64 make them). */
void eyeballs_dns_cache_clear(eyeballs_dns_cache* cache);

/* The name `query` (a RESOLVE action's, eyeballs_action_v3.query) asks on
 * the wire for origin `host`: its name, or `host` for the origin, with
 * "_PORT._https." in front when port_prefix is set (RFC 9460 §9.1). Written
 * like eyeballs_endpoint_format(); 0 and "" for NULL arguments. */
size_t eyeballs_query_name(const eyeballs_query* query, const char* host, char* buffer,
                           size_t size);

/* Answers a RESOLVE action from `cache`, as the C++ adapters do: a fresh
 * answer is fed to the machine (eyeballs_machine_handle_query_resolved or
 * _handle_https) and *send is set to 0: do not send the query. With
 * eyeballs_config.https, a stale answer is fed with
 * eyeballs_machine_handle_stale (addresses) or
 * eyeballs_machine_handle_stale_https (the HTTPS question's records) and
 * *send is 1: send the query, whose answer replaces it. Otherwise nothing
 * is fed and *send is 1. `host` is
 * the origin's name (the key is eyeballs_query_name()); the addresses fed
 * get `port` (the cache keeps none). Fails like the query inputs
 * (EYEBALLS_ERR_ARGUMENT for NULLs or a bad query, the machine's last error
 * saying which); *send is then 1. */
eyeballs_status eyeballs_machine_answer_from_cache(eyeballs_machine* machine,
                                                   const eyeballs_dns_cache* cache,
                                                   int64_t now_ns, const eyeballs_query* query,
                                                   const char* host, uint16_t port, int* send);

/* Parses "64:ff9b::/96" into *out. On failure returns EYEBALLS_ERR_ARGUMENT,
 * leaves *out unchanged and writes the message ("NAT64 prefix length 60 in
 * ... is not one of 32, 40, 48, 56, 64, 96 (RFC 6052 §2.2)") into `message`
 * as eyeballs_machine_new() does. */
eyeballs_status eyeballs_pref64_parse(const char* text, eyeballs_pref64* out, char* message,
                                      size_t message_size);

/* ---- Text and time -------------------------------------------------------- */

/* One line for an action, e.g. "connect #2 192.0.2.1:443 from 192.0.2.9:0",
 * written like eyeballs_endpoint_format(). 0 and "" for NULL or a bad kind. */
size_t eyeballs_action_format(const eyeballs_action* action, char* buffer, size_t size);

/* Static names; NULL for a value out of range. */
const char* eyeballs_status_name(eyeballs_status status); /* "ok", "invalid argument", ... */
const char* eyeballs_family_name(int family);             /* "IPv6", "IPv4" */
const char* eyeballs_record_name(int family);             /* "AAAA", "A" */
const char* eyeballs_outcome_name(int outcome);           /* "connected", ... */
const char* eyeballs_stage_name(int stage);               /* "resolve", "connect", ... */
/* The symbolic name of an errno value ("ECONNREFUSED"); NULL when it has none. */
const char* eyeballs_errno_name(int code);
/* The errno value for a symbolic name, aliases included; 0 when unknown. */
int eyeballs_errno_from_name(const char* name);

/* The library's version, e.g. "0.1.0" (may differ from EYEBALLS_VERSION_STRING
 * when the headers and the library come from different builds). */
const char* eyeballs_version(void);

/* Nanoseconds on the clock the C++ adapters use (std::chrono::steady_clock:
 * CLOCK_MONOTONIC on Linux). Any monotonic clock will do for the machine;
 * this one is here for convenience. */
int64_t eyeballs_monotonic_ns(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EYEBALLS_EYEBALLS_H */
