// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect: the one interface each adapter implements for the tool.
// main.cpp (owned with the poll adapter) parses SPEC §6's command line, builds a
// ConnectJob and calls run_poll / run_asio / run_libevent / run_libuv (each in its own
// run_<adapter>.cpp, built only when that adapter is).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"

namespace eyeballs::tool {

struct ConnectJob {
    std::string host;                    ///< for DNS mode
    std::uint16_t port = 0;
    bool addresses_mode = false;         ///< true: race `addresses`, no DNS
    std::vector<Endpoint> addresses;     ///< ports already set
    Config config;                       ///< includes local bind candidates
    std::optional<Endpoint> dns_server;  ///< --dns-server (port 53 unless given)
    ActionObserver on_action;            ///< prints the trace / timeline
    int cancel_fd = -1;                  ///< readable → cancel (SIGINT self-pipe)
};

struct ConnectResult {
    RaceReport report;
    int fd = -1;  ///< the connected socket when report.outcome == connected
};

ConnectResult run_poll(const ConnectJob& job);
ConnectResult run_asio(const ConnectJob& job);
ConnectResult run_libevent(const ConnectJob& job);
ConnectResult run_libuv(const ConnectJob& job);

}  // namespace eyeballs::tool
