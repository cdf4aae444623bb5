// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect's poll adapter runner: ConnectJob → eyeballs::poll::connect.
#include "eyeballs/poll.hpp"
#include "run.hpp"
#include "tls_channel.hpp"

namespace eyeballs::tool {

ConnectResult run_poll(const ConnectJob& job) {
    poll::Options options;
    options.config = job.config;
    options.cancel_fd = job.cancel_fd;
    options.on_action = job.on_action;
    options.dns.server = job.dns_server;
    if (job.tls.enabled) {
        options.tls.enabled = true;
        options.tls.ca_file = job.tls.cacert;
        options.tls.insecure = job.tls.insecure;
        options.tls.alpn = job.tls.alpn;
        options.quic.enabled = job.tls.http3;
        // The name checked and sent as SNI: the origin (HOST), also with --resolve.
        options.tls.server_name = job.host;
        if (job.on_tls) {
            options.on_tls = [&job](TimePoint now, const poll::TlsEvent& e) {
                TlsStep s;
                s.attempt = e.attempt.number();
                s.protocol = eyeballs::protocol_name(e.protocol);
                s.remote = e.remote.to_string();
                switch (e.kind) {
                    case poll::TlsEvent::Kind::started:
                        s.kind = "tls-start";
                        s.alpn = e.alpn_offered;
                        break;
                    case poll::TlsEvent::Kind::secured:
                        s.kind = "tls-done";
                        if (!e.alpn_selected.empty()) s.alpn.push_back(e.alpn_selected);
                        s.version = e.version;
                        break;
                    case poll::TlsEvent::Kind::failed:
                        s.kind = "tls-failed";
                        s.error = e.error;
                        break;
                }
                job.on_tls(now, s);
            };
        }
    }
    poll::Result r = job.addresses_mode ? poll::connect(job.addresses, options)
                                        : poll::connect(job.host, job.port, options);
    ConnectResult out;
    out.report = std::move(r.report);
    out.fd = r.fd;
    out.quic = std::move(r.quic);
    if (r.ssl != nullptr) {
        ::ssl_st* ssl = r.ssl;
        out.release_tls = [ssl] { poll::free_tls(ssl); };
        out.channel = std::make_shared<TlsChannel>(ssl);
    }
    return out;
}

}  // namespace eyeballs::tool
