// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's poll adapter runner: ConnectJob → eyeballs::poll::connect.
#include "eyeballs/poll.hpp"
#include "run.hpp"

namespace eyeballs::tool {

ConnectResult run_poll(const ConnectJob& job) {
    poll::Options options;
    options.config = job.config;
    options.cancel_fd = job.cancel_fd;
    options.on_action = job.on_action;
    options.dns.server = job.dns_server;
    poll::Result r = job.addresses_mode ? poll::connect(job.addresses, options)
                                        : poll::connect(job.host, job.port, options);
    return ConnectResult{std::move(r.report), r.fd};
}

}  // namespace eyeballs::tool
