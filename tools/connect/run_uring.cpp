// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's io_uring runner: ConnectJob → the blocking
// eyeballs::uring::connect (a private ring; SIGINT's self-pipe is the
// cancel fd, watched with IORING_OP_POLL_ADD on the same ring).
#include <string>

#include "eyeballs/uring.hpp"
#include "run.hpp"

namespace eyeballs::tool {

ConnectResult run_uring(const ConnectJob& job) {
    uring::Options options;
    options.config = job.config;
    options.dns_server = job.dns_server;
    options.on_action = job.on_action;
    options.cancel_fd = job.cancel_fd;
    uring::Result r = job.addresses_mode ? uring::connect(job.addresses, options)
                                         : uring::connect(job.host, job.port, options);
    ConnectResult result;
    result.report = std::move(r.report);
    result.fd = r.fd;
    if (!r.status.ok()) {
        result.report.outcome = Outcome::failed;
        result.report.message = "uring: " + r.status.message();
    }
    return result;
}

}  // namespace eyeballs::tool
