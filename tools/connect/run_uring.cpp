// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's io_uring runner: ConnectJob → the blocking
// eyeballs::uring::connect (a private ring; SIGINT's self-pipe is the
// cancel fd, watched with IORING_OP_POLL_ADD on the same ring).
// --tls: the blocking eyeballs::uring::connect_tls, whose handshakes wait on
// IORING_OP_POLL_ADD on that ring; the winner's SSL* on its fd is handed to
// --send (tls_channel.hpp) and freed by release_tls.
#include <string>

#include "eyeballs/uring.hpp"
#include "run.hpp"
#include "tls_channel.hpp"

namespace eyeballs::tool {

ConnectResult run_uring(const ConnectJob& job) {
    uring::Options options;
    options.config = job.config;
    options.dns_server = job.dns_server;
    options.on_action = job.on_action;
    options.cancel_fd = job.cancel_fd;
    if (job.tls.enabled) {
        options.tls = tls_options_of(job);
        if (job.on_tls) {
            options.on_tls = [&job](TimePoint now, const TlsEvent& e) { job.on_tls(now, to_tls_step(e)); };
        }
    }
    uring::Result r = job.tls.enabled
                          ? (job.addresses_mode ? uring::connect_tls(job.addresses, options)
                                                : uring::connect_tls(job.host, job.port, options))
                          : (job.addresses_mode ? uring::connect(job.addresses, options)
                                                : uring::connect(job.host, job.port, options));
    ConnectResult result;
    result.report = std::move(r.report);
    result.fd = r.fd;
    if (r.ssl != nullptr) {
        ::ssl_st* ssl = r.ssl;
        result.release_tls = [ssl] { uring::free_tls(ssl); };
        result.channel = std::make_shared<TlsChannel>(ssl);
    }
    if (!r.status.ok()) {
        result.report.outcome = Outcome::failed;
        result.report.message = "uring: " + r.status.message();
    }
    return result;
}

}  // namespace eyeballs::tool
