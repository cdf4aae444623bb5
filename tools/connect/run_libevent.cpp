// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's libevent runner: ConnectJob → eyeballs::libevent::connect
// on a private event_base, dispatched until the race has ended.
//
// libevent's own messages. libevent writes its warnings and errors to stderr
// ("[warn] epoll_create: Too many open files", "[err] evsig_init_: socketpair:
// ...") unless a log callback is installed, and on a fatal error it calls
// exit(1) itself. The tool speaks for itself (issue 14: one line of ours,
// naming the errno), so it installs, once per process:
//  - event_set_log_callback: libevent's messages are kept (the last warning or
//    error and the errno it was logged with), not printed: a warning is a
//    fallback libevent has already taken (another backend, a coarser timer),
//    and an error is reported by our own line when it ends the run;
//  - event_set_fatal_callback: prints that one line — "eyeballs-connect:
//    cannot create the event loop: EMFILE (Too many open files)" while the
//    event_base is being made (evsig_init_'s socketpair at a low `ulimit -n`
//    is fatal in libevent 2.1), "eyeballs-connect: libevent failed: ..."
//    otherwise — and exits 1, as libevent itself would, so the exit status
//    stays the tool's "failed" (docs/behaviour.md §6).
// The library (eyeballs::libevent) installs neither: the callbacks are
// process-wide and belong to the application.
//
// --tls: connect_bufferevent with Options::tls. The winner's SSL object is
// handed over to main (for --send's talk, through tls_channel.hpp) before its
// bufferevent_openssl is freed: the bufferevent is freed at once in the
// callback, before it has read anything (libevent made it in the open state
// with reading not yet started), so no decrypted byte stays behind in it. It
// was made with BEV_OPT_CLOSE_ON_FREE, so its destructor (which libevent 2.1
// may run later, from the loop, as a finalizer) frees the SSL object and
// closes the fd found in the SSL's BIO: the tool holds a reference of its own
// (SSL_up_ref) and a close-on-exec duplicate of the fd, and points the session
// at that duplicate (SSL_set_fd) only once the event_base is freed, when every
// finalizer has run.
// --http3: Options::quic as well (the adapter plans QUIC first with its
// synthetic `1 . alpn=h3,...` record); a QUIC winner's connection is closed
// here, before its UDP socket (a plain bufferevent) is freed.
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <unistd.h>
#ifdef EYEBALLS_CONNECT_LIBEVENT_TLS
#include <event2/bufferevent_ssl.h>
#include <openssl/ssl.h>
#endif

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "eyeballs/libevent.hpp"
#include "run.hpp"
#ifdef EYEBALLS_CONNECT_LIBEVENT_TLS
#include "tls_channel.hpp"
#endif

namespace eyeballs::tool {

namespace {

struct BaseDeleter {
    void operator()(event_base* b) const noexcept { event_base_free(b); }
};
struct EventDeleter {
    void operator()(event* e) const noexcept { event_free(e); }
};

// What libevent last logged (the tool runs one race on one thread).
char last_log[512] = "";
int last_log_errno = 0;
const char* doing = "libevent failed";  // what a fatal error interrupts

extern "C" void on_libevent_log(int severity, const char* message) {
    if (severity < EVENT_LOG_WARN) return;
    last_log_errno = errno;
    std::snprintf(last_log, sizeof last_log, "%s", message != nullptr ? message : "");
}

// What libevent's last message says went wrong: the errno it was logged with
// ("EMFILE (Too many open files)"), or its text.
std::string last_log_text() {
    if (last_log_errno != 0) return errno_text(last_log_errno);
    if (last_log[0] != '\0') return std::string("libevent: ") + last_log;
    return "libevent gave no reason";
}

extern "C" void on_libevent_fatal(int) {
    const std::string line = std::string("eyeballs-connect: ") + doing + ": " + last_log_text();
    std::fprintf(stderr, "%s\n", line.c_str());
    std::exit(1);  // libevent's own fatal path exits 1 too; must not return
}

void route_libevent_messages() {
    static const bool installed = [] {
        event_set_log_callback(on_libevent_log);
        event_set_fatal_callback(on_libevent_fatal);
        return true;
    }();
    (void)installed;
}

ConnectResult failed(std::string message, int code = 0) {
    return failed_run(std::move(message), code);
}

}  // namespace

ConnectResult run_libevent(const ConnectJob& job) {
    // A precise timer (CLOCK_MONOTONIC + timerfd) rather than libevent's
    // default coarse clock and whole-millisecond epoll timeouts: docs/behaviour.md §7.
    route_libevent_messages();
    last_log[0] = '\0';
    last_log_errno = 0;
    doing = "cannot create the event loop";
    event_config* cfg = event_config_new();
    if (cfg == nullptr) return failed("cannot create the event loop: " + errno_text(ENOMEM), ENOMEM);
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    std::unique_ptr<event_base, BaseDeleter> base(event_base_new_with_config(cfg));
    event_config_free(cfg);
    if (!base) return failed("cannot create the event loop: " + last_log_text(), last_log_errno);
    doing = "libevent failed";

    libevent::Options options;
    options.config = job.config;
    options.dns_server = job.dns_server;
    options.on_action = job.on_action;
    if (job.tls.enabled) {
        options.tls = tls_options_of(job);
        if (job.tls.http3) {
            // --http3: QUIC first for every address; the adapter answers the
            // HTTPS question itself with `1 . alpn=h3,<TCP ids>` (no record asked).
            options.quic.enabled = true;
            options.quic.ca_file = job.tls.cacert;
            options.quic.insecure = job.tls.insecure;
            options.quic.server_name = job.host;
        }
        if (job.on_tls) {
            options.on_tls = [&job](TimePoint now, const TlsEvent& e) { job.on_tls(now, to_tls_step(e)); };
        }
    }

    ConnectResult result;
    bool done = false;
    std::unique_ptr<event, EventDeleter> cancel_ev;
    auto on_done = [&](evutil_socket_t fd, const RaceReport& report) {
        result.fd = fd;
        result.report = report;
        done = true;
        cancel_ev.reset();  // nothing else keeps the loop busy once DNS has wound down
    };
    if (job.tls.http3) {
        options.quic.on_connection = [&result](std::shared_ptr<quic::Connection> connection) {
            result.quic = std::move(connection);
        };
    }
#ifdef EYEBALLS_CONNECT_LIBEVENT_TLS
    ::ssl_st* won_ssl = nullptr;  // the winner's session, with a reference of ours
    int won_fd = -1;              // a duplicate of its fd, for the session after the loop
#endif
    auto on_tls_done = [&](bufferevent* bev, const RaceReport& report) {
        result.quic.reset();  // a QUIC winner's connection (CONNECTION_CLOSE) before its socket
        RaceReport r = report;
#ifdef EYEBALLS_CONNECT_LIBEVENT_TLS
        ::ssl_st* ssl = bev != nullptr ? bufferevent_openssl_get_ssl(bev) : nullptr;
        if (ssl != nullptr) {
            won_fd = ::fcntl(static_cast<int>(bufferevent_getfd(bev)), F_DUPFD_CLOEXEC, 0);
            if (won_fd >= 0 && SSL_up_ref(ssl) == 1) {
                won_ssl = ssl;
            } else {
                const int err = won_fd < 0 ? errno : ENOMEM;
                if (won_fd >= 0) ::close(won_fd);
                won_fd = -1;
                r.outcome = Outcome::failed;
                r.code = err;
                r.message = std::string("cannot keep the winner's TLS session: ") + errno_text(err);
            }
        }
#endif
        if (bev != nullptr) bufferevent_free(bev);  // SSL_free and close: see the top
        on_done(-1, r);
    };

    libevent::Handle handle =
        job.tls.enabled
            ? (job.addresses_mode
                   ? libevent::connect_bufferevent(base.get(), job.addresses, options, on_tls_done)
                   : libevent::connect_bufferevent(base.get(), job.host, job.port, options,
                                                   on_tls_done))
        : job.addresses_mode ? libevent::connect(base.get(), job.addresses, options, on_done)
                             : libevent::connect(base.get(), job.host, job.port, options, on_done);
    if (!handle.status()) return failed(handle.status().message());

    // SIGINT's self-pipe: readable → cancel. The fd is only watched, never read.
    if (job.cancel_fd >= 0 && !done) {
        cancel_ev.reset(event_new(
            base.get(), job.cancel_fd, EV_READ,
            [](evutil_socket_t, short, void* arg) { static_cast<libevent::Handle*>(arg)->cancel(); },
            &handle));
        if (cancel_ev) event_add(cancel_ev.get(), nullptr);
    }

    while (!done) {
        // 1 = nothing left to wait for, which a running race never allows.
        if (event_base_loop(base.get(), EVLOOP_ONCE) != 0) {
            handle.cancel();
            break;
        }
    }
    // Let libevent deliver the cancellations of DNS queries still out: the
    // adapter-made evdns_base is freed once they are in (a turn or two).
    cancel_ev.reset();
    for (int turn = 0; turn < 8 && event_base_loop(base.get(), EVLOOP_NONBLOCK) == 0; ++turn) {
    }
    base.reset();  // runs the finalizers: the bufferevent has let go of the session
#ifdef EYEBALLS_CONNECT_LIBEVENT_TLS
    if (won_ssl != nullptr) {
        if (SSL_set_fd(won_ssl, won_fd) != 1) {
            SSL_free(won_ssl);
            ::close(won_fd);
            return failed("cannot keep the winner's TLS session: SSL_set_fd failed", EIO);
        }
        ::ssl_st* ssl = won_ssl;
        result.fd = won_fd;
        result.release_tls = [ssl] { SSL_free(ssl); };
        result.channel = std::make_shared<TlsChannel>(ssl);
    }
#endif
    if (!done) return failed("libevent: the event loop stopped before the race ended");
    return result;
}

}  // namespace eyeballs::tool
