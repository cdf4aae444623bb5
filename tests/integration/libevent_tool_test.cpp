// SPDX-License-Identifier: BSL-1.0
// `eyeballs-connect --adapter libevent` end to end (docs/behaviour.md §6): the real binary,
// real sockets on loopback, the test DNS server. Checks what run_libevent.cpp
// adds to the adapter: the JSON trace through the observer, --dns-server,
// SIGINT cancelling through the self-pipe, and the exit codes.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "support.hpp"

extern char** environ;

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;

/// A running eyeballs-connect with its stdout and stderr on pipes.
class Tool {
public:
    explicit Tool(std::vector<std::string> args) {
        args.insert(args.begin(), {EYEBALLS_CONNECT_PATH, "--adapter", "libevent"});
        int out[2];
        int err[2];
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) {
            throw std::runtime_error("pipe2 failed");
        }
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, out[1], 1);
        posix_spawn_file_actions_adddup2(&fa, err[1], 2);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) {
            throw std::runtime_error("posix_spawn failed");
        }
        posix_spawn_file_actions_destroy(&fa);
        ::close(out[1]);
        ::close(err[1]);
        out_ = Fd(out[0]);
        err_ = Fd(err[0]);
    }
    ~Tool() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    /// Reads stderr (unbuffered, unlike a piped stdout) until it holds
    /// `needle` (true) or ends (false).
    bool wait_for_stderr(const std::string& needle) {
        while (stderr_.find(needle) == std::string::npos) {
            char buf[4096];
            ssize_t n = ::read(err_.get(), buf, sizeof buf);
            if (n <= 0) return false;
            stderr_.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }
    void interrupt() { ::kill(pid_, SIGINT); }
    /// Reads both pipes to the end and returns the exit status.
    int finish() {
        char buf[4096];
        ssize_t n;
        while ((n = ::read(out_.get(), buf, sizeof buf)) > 0) {
            stdout_.append(buf, static_cast<std::size_t>(n));
        }
        while ((n = ::read(err_.get(), buf, sizeof buf)) > 0) {
            stderr_.append(buf, static_cast<std::size_t>(n));
        }
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    const std::string& out() const { return stdout_; }
    const std::string& err() const { return stderr_; }
    std::vector<std::string> lines() const {
        std::vector<std::string> v;
        std::size_t pos = 0;
        while (pos < stdout_.size()) {
            std::size_t nl = stdout_.find('\n', pos);
            if (nl == std::string::npos) nl = stdout_.size();
            v.push_back(stdout_.substr(pos, nl - pos));
            pos = nl + 1;
        }
        return v;
    }

private:
    pid_t pid_ = -1;
    Fd out_;
    Fd err_;
    std::string stdout_;
    std::string stderr_;
};

/// The number after "t": in a JSON trace line.
double t_of(const std::string& line) {
    auto at = line.find("\"t\":");
    return at == std::string::npos ? -1 : std::strtod(line.c_str() + at + 4, nullptr);
}

bool has(const std::string& s, const std::string& needle) {
    return s.find(needle) != std::string::npos;
}

#define REQUIRE_IPV6()                                                           \
    do {                                                                         \
        if (!ipv6_loopback_available()) GTEST_SKIP() << "no [::1] on this host"; \
    } while (0)

TEST(LibeventTool, BlackholedIpv6LosesToIpv4InTheJsonTrace) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    const std::string port = std::to_string(pair.port);
    Tool tool({"--json", "--resolve", "demo:" + port + ":[::1],127.0.0.1", "demo", port});
    ASSERT_EQ(tool.finish(), 0) << tool.err();
    auto lines = tool.lines();
    ASSERT_EQ(lines.size(), 4u) << tool.out();
    EXPECT_TRUE(has(lines[0], "\"action\":\"connect\",\"attempt\":1,\"remote\":\"[::1]:" + port));
    EXPECT_EQ(t_of(lines[0]), 0);
    EXPECT_TRUE(has(lines[1], "\"attempt\":2,\"remote\":\"127.0.0.1:" + port)) << lines[1];
    EXPECT_GE(t_of(lines[1]), 250.0);
    EXPECT_LT(t_of(lines[1]), 1250.0);
    EXPECT_TRUE(has(lines[2], "\"action\":\"close\",\"attempt\":1")) << lines[2];
    EXPECT_TRUE(has(lines[3], "\"outcome\":\"connected\",\"attempt\":2")) << lines[3];
    open.accept_all();
}

TEST(LibeventTool, ResolvesThroughTheGivenDnsServer) {
    REQUIRE_IPV6();
    LoopbackPair pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    DnsServer dns;
    dns.set("tool.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("tool.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 20ms));
    Tool tool({"--json", "--dns-server", dns.endpoint().to_string(), "tool.test",
               std::to_string(pair.port)});
    ASSERT_EQ(tool.finish(), 0) << tool.err();
    auto lines = tool.lines();
    ASSERT_GE(lines.size(), 5u) << tool.out();
    EXPECT_TRUE(has(lines[0], "\"action\":\"resolve\",\"family\":\"AAAA\"")) << lines[0];
    EXPECT_TRUE(has(lines[1], "\"action\":\"resolve\",\"family\":\"A\"")) << lines[1];
    EXPECT_TRUE(has(lines.back(), "\"remote\":\"127.0.0.1:" + std::to_string(pair.port)))
        << tool.out();
    EXPECT_EQ(dns.wait_for_queries(2, std::chrono::milliseconds(200)).size(), 2u);
    open.accept_all();
}

TEST(LibeventTool, WinsWhileTheAQueryIsStillOut) {
    // The A answer is still out when IPv6 wins: its query is cancelled and the
    // tool's evdns_base freed after libevent delivers that (ASan/LSan builds
    // check that nothing is left behind).
    REQUIRE_IPV6();
    Listener open(loopback_v6());
    DnsServer dns;
    dns.set("v6wins.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("v6wins.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 2000ms));
    const auto t0 = std::chrono::steady_clock::now();
    Tool tool({"--json", "--dns-server", dns.endpoint().to_string(), "v6wins.test",
               std::to_string(open.endpoint().port())});
    ASSERT_EQ(tool.finish(), 0) << tool.err();
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms) << "waited for the A answer";
    EXPECT_TRUE(has(tool.lines().back(), "\"remote\":\"[::1]:")) << tool.out();
    open.accept_all();
}

TEST(LibeventTool, SigintCancelsTheRaceCleanly) {
    Blackhole hole(loopback_v4());
    const std::string port = std::to_string(hole.endpoint().port());
    // The same address twice, kept on purpose (the core drops repeats by
    // default): two attempts into one blackhole, both in flight at SIGINT.
    Tool tool({"--json", "-v", "--attempt-delay", "20", "--duplicates", "keep", "--resolve",
               "x:" + port + ":127.0.0.1,127.0.0.1", "x", port});
    // -v's timeline on stderr says when the race is under way.
    ASSERT_TRUE(tool.wait_for_stderr("#2")) << tool.err();
    tool.interrupt();
    EXPECT_EQ(tool.finish(), 1);
    auto lines = tool.lines();
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(has(lines.back(), "\"outcome\":\"cancelled\"")) << tool.out();
    std::size_t connects = 0;
    std::size_t closes = 0;
    for (const auto& l : lines) {
        connects += has(l, "\"action\":\"connect\"");
        closes += has(l, "\"action\":\"close\"");
    }
    EXPECT_GE(connects, 1u);
    EXPECT_EQ(closes, connects) << "every socket in flight is closed";
    EXPECT_TRUE(has(tool.err(), "cancelled")) << tool.err();
}

TEST(LibeventTool, AllRefusedExitsOneWithTheError) {
    RefusedPort refused(loopback_v4());
    Tool tool({"127.0.0.1", std::to_string(refused.endpoint().port())});
    EXPECT_EQ(tool.finish(), 1);
    EXPECT_TRUE(tool.out().empty()) << tool.out();
    EXPECT_TRUE(has(tool.err(), "ECONNREFUSED")) << tool.err();
}

}  // namespace
}  // namespace eyeballs::test
