// SPDX-License-Identifier: BSL-1.0
// QuicServer: gtlsserver as a child process (quic_server.hpp).
#include "quic_server.hpp"

#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "eyeballs/posix.hpp"

namespace eyeballs::test {

bool udp_port_bound(const Endpoint& at) {
    char suffix[8];
    std::snprintf(suffix, sizeof suffix, ":%04X", static_cast<unsigned>(at.port()));
    std::ifstream f(at.is_v6() ? "/proc/net/udp6" : "/proc/net/udp");
    std::string line;
    std::getline(f, line);  // the header
    while (std::getline(f, line)) {
        std::istringstream in(line);
        std::string slot, local;
        in >> slot >> local;
        if (local.size() > 5 && local.compare(local.size() - 5, 5, suffix) == 0) return true;
    }
    return false;
}

Fd bind_tcp_with_free_udp_twin(const Endpoint& at) {
    for (int i = 0; i < 200; ++i) {
        Fd tcp = bind_tcp(at.with_port(0));
        const Endpoint bound = bound_endpoint(tcp.get());
        const int udp = ::socket(at.is_v6() ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (udp < 0) throw std::runtime_error("bind_tcp_with_free_udp_twin: socket failed");
        sockaddr_storage ss{};
        const socklen_t len = to_sockaddr(bound, ss);
        const bool free = ::bind(udp, reinterpret_cast<sockaddr*>(&ss), len) == 0;
        ::close(udp);
        if (free) return tcp;
    }
    throw std::runtime_error("test support: no port free for both TCP and UDP on " + at.to_string());
}

QuicServer::QuicServer(const std::string& program, const Endpoint& at, const std::string& key,
                       const std::string& cert, std::vector<std::string> extra)
    : at_(at) {
    std::vector<std::string> args{program, "-q"};
    for (std::string& e : extra) args.push_back(std::move(e));
    args.push_back(at.address_string());
    args.push_back(std::to_string(at.port()));
    args.push_back(key);
    args.push_back(cert);
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("QuicServer: fork failed");
    if (pid_ == 0) {
        // The child: quiet, in /tmp (gtlsserver serves files from its cwd).
        if (::chdir("/tmp") != 0) ::_exit(126);
        std::FILE* null = std::freopen("/dev/null", "w", stdout);
        (void)null;
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!udp_port_bound(at_)) {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            throw std::runtime_error("QuicServer: " + program + " exited before binding " +
                                     at_.to_string());
        }
        if (std::chrono::steady_clock::now() > deadline) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
            throw std::runtime_error("QuicServer: " + program + " did not bind " + at_.to_string());
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
}

QuicServer::~QuicServer() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
}

}  // namespace eyeballs::test
