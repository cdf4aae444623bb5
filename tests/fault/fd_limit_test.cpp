// SPDX-License-Identifier: BSL-1.0
// Fault suite (issue 14 item 3): every adapter's entry points with the fd limit
// (RLIMIT_NOFILE) a few descriptors above what the process already has open —
// 0, 1, 2, ... spare — in addresses mode and in DNS mode (the test DNS server).
// At every limit the call must return (no exception, no abort), the race must
// end (the callback once, or a refused start whose status says why), a failure
// must say what went wrong, and no fd may be left open once the limit is back.
//
// The event loop itself (asio's reactor, the event_base) is made before the
// limit is lowered: making it is the application's step (eyeballs-connect's
// is covered by tools_fd_limit_test.py); what is under test is what the
// adapter opens — sockets, DNS sockets, resolver channels, events.
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "support.hpp"
#ifdef EYEBALLS_HAVE_POLL
#include "eyeballs/poll.hpp"
#endif
#ifdef EYEBALLS_HAVE_ASIO
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "eyeballs/asio.hpp"
#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
#include <event2/event.h>

#include "eyeballs/libevent.hpp"
#endif

namespace eyeballs::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* host = "ok.test";
constexpr int max_spare = 8;

/// The highest fd open now.
int highest_fd() {
    int highest = 2;
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) throw std::runtime_error("cannot list /proc/self/fd");
    while (dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') highest = std::max(highest, std::atoi(e->d_name));
    }
    ::closedir(dir);
    return highest;
}

/// Lowers the soft RLIMIT_NOFILE so that only `spare` new fds can be opened;
/// puts it back when destroyed.
class LowFdLimit {
public:
    explicit LowFdLimit(int spare) {
        if (::getrlimit(RLIMIT_NOFILE, &saved_) != 0) throw std::runtime_error("getrlimit");
        // New fds take the lowest free number: fill the holes below the
        // highest open fd, so that exactly `spare` numbers are left.
        const int highest = highest_fd();
        for (;;) {
            Fd filler(::open("/dev/null", O_RDONLY | O_CLOEXEC));
            if (!filler) throw std::runtime_error("cannot open /dev/null");
            if (filler.get() > highest) break;
            fillers_.push_back(std::move(filler));
        }
        rlimit low = saved_;
        low.rlim_cur = static_cast<rlim_t>(highest + 1 + spare);
        if (::setrlimit(RLIMIT_NOFILE, &low) != 0) throw std::runtime_error("setrlimit");
    }
    ~LowFdLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }
    LowFdLimit(const LowFdLimit&) = delete;
    LowFdLimit& operator=(const LowFdLimit&) = delete;

private:
    rlimit saved_{};
    std::vector<Fd> fillers_;
};

/// A refused port, then a listener: two attempts when fds allow; the DNS
/// server answers ok.test with the listener's address.
struct Targets {
    Targets() {
        dns.set(host, Family::v4, DnsServer::Answer::with({listener.endpoint()}));
        dns.set(host, Family::v6, DnsServer::Answer::nodata());
    }
    std::vector<Endpoint> addresses() const { return {refused.endpoint(), listener.endpoint()}; }
    std::uint16_t port() const { return listener.endpoint().port(); }

    RefusedPort refused{loopback_v4()};
    Listener listener{loopback_v4()};
    DnsServer dns;
};

/// What every run must show, whatever the limit.
void expect_sane(const RaceReport& report, int fd, const std::string& where) {
    if (report.outcome == Outcome::connected) {
        EXPECT_GE(fd, 0) << where;
    } else {
        EXPECT_LT(fd, 0) << where;
        EXPECT_EQ(report.outcome, Outcome::failed) << where;
        EXPECT_FALSE(report.message.empty()) << where << ": a failure says why";
    }
}

/// No fd to spare: the race fails, and in addresses mode (our own sockets) the
/// failure names EMFILE. (In DNS mode the resolver's words are its own: c-ares
/// says "Could not contact DNS servers"; issue 14 item 6 is about those.)
void expect_emfile(const RaceReport& report, bool dns_mode, const std::string& where) {
    EXPECT_EQ(report.outcome, Outcome::failed) << where;
    if (!dns_mode) {
        EXPECT_NE(report.message.find("EMFILE"), std::string::npos) << where << ": " << report.message;
    }
}

Config bounded() {
    Config c;
    c.overall_timeout = Duration(3s);  // nothing may hang, whatever fails
    return c;
}

#ifdef EYEBALLS_HAVE_POLL
TEST(FdLimit, PollConnectNeverAbortsAndLeaksNothing) {
    for (bool dns_mode : {false, true}) {
        for (int spare = 0; spare <= max_spare; ++spare) {
            const std::string where = std::string(dns_mode ? "dns" : "addresses") +
                                      " mode, spare fds " + std::to_string(spare);
            Targets t;
            const int before = open_fd_count();
            poll::Options options;
            options.config = bounded();
            options.dns.server = t.dns.endpoint();
            poll::Result r;
            {
                LowFdLimit limit(spare);
                r = dns_mode ? poll::connect(host, t.port(), options)
                             : poll::connect(t.addresses(), options);
            }
            Fd winner(r.fd);
            EXPECT_TRUE(r.status.ok()) << where << ": " << r.status.message();
            expect_sane(r.report, r.fd, where);
            if (spare == 0) expect_emfile(r.report, dns_mode, where);
            winner.reset();
            EXPECT_EQ(open_fd_count(), before) << where;
        }
    }
}
#endif

#ifdef EYEBALLS_HAVE_ASIO
TEST(FdLimit, AsioAsyncConnectNeverThrowsFromTheLoopAndLeaksNothing) {
    for (bool dns_mode : {false, true}) {
        for (int spare = 0; spare <= max_spare; ++spare) {
            const std::string where = std::string(dns_mode ? "dns" : "addresses") +
                                      " mode, spare fds " + std::to_string(spare);
            Targets t;
            const int before = open_fd_count();
            int calls = 0;
            int fd = -1;
            asio::connect_options options;
            options.config = bounded();
            options.report = std::make_shared<RaceReport>();
            options.dns_server = ::asio::ip::udp::endpoint(
                asio::to_asio_address(t.dns.endpoint()), t.dns.endpoint().port());
            {
                ::asio::io_context io(1);
                ::asio::steady_timer reactor_made_now(io);
                LowFdLimit limit(spare);
                auto handler = [&](std::error_code, ::asio::ip::tcp::socket s) {
                    ++calls;
                    if (s.is_open()) fd = s.release();
                };
                try {
                    if (dns_mode) {
                        asio::async_connect(io.get_executor(), host, t.port(), options, handler);
                    } else {
                        asio::async_connect(io.get_executor(), t.addresses(), options, handler);
                    }
                    io.run();
                } catch (const std::exception& e) {
                    ADD_FAILURE() << where << ": threw " << e.what();
                }
            }
            Fd winner(fd);
            EXPECT_EQ(calls, 1) << where;
            expect_sane(*options.report, fd, where);
            if (spare == 0) expect_emfile(*options.report, dns_mode, where);
            winner.reset();
            EXPECT_EQ(open_fd_count(), before) << where;
        }
    }
}

// An io_context whose reactor was never made, with no fd to spare: Asio's own
// objects throw std::system_error when they cannot make it, and so does
// async_connect's initiation (asio.hpp says so); nothing is started, nothing
// leaks, and nothing throws later from run().
TEST(FdLimit, AsioFreshContextFailsAtInitiationOnly) {
    Targets t;
    const int before = open_fd_count();
    int calls = 0;
    bool threw_at_start = false;
    {
        std::optional<::asio::io_context> io(std::in_place, 1);  // its reactor is made lazily
        LowFdLimit limit(0);
        try {
            asio::async_connect(io->get_executor(), t.addresses(), asio::connect_options{},
                                [&](std::error_code, ::asio::ip::tcp::socket) { ++calls; });
        } catch (const std::system_error& e) {
            threw_at_start = true;
            EXPECT_EQ(e.code().value(), EMFILE) << e.what();
        }
        {
            try {
                io->run();
            } catch (const std::exception& e) {
                ADD_FAILURE() << "threw from run(): " << e.what();
            }
        }
    }
    EXPECT_TRUE(threw_at_start) << "with no fd the reactor cannot be made";
    // (Asio 1.2x makes the reactor with the first I/O object, not in the
    // io_context's constructor; were it made there, the race would run and
    // fail with EMFILE, and this test would say so.)
    EXPECT_EQ(calls, 0);
    EXPECT_EQ(open_fd_count(), before);
}
#endif

#ifdef EYEBALLS_HAVE_LIBEVENT
TEST(FdLimit, LibeventConnectNeverAbortsAndLeaksNothing) {
    for (bool dns_mode : {false, true}) {
        for (int spare = 0; spare <= max_spare; ++spare) {
            const std::string where = std::string(dns_mode ? "dns" : "addresses") +
                                      " mode, spare fds " + std::to_string(spare);
            Targets t;
            const int before = open_fd_count();
            event_base* base = event_base_new();
            ASSERT_NE(base, nullptr);
            int calls = 0;
            int fd = -1;
            RaceReport report;
            libevent::Options options;
            options.config = bounded();
            options.dns_server = t.dns.endpoint();
            {
                LowFdLimit limit(spare);
                auto callback = [&](evutil_socket_t s, const RaceReport& r) {
                    ++calls;
                    fd = s;
                    report = r;
                };
                libevent::Handle h = dns_mode
                                         ? libevent::connect(base, host, t.port(), options, callback)
                                         : libevent::connect(base, t.addresses(), options, callback);
                if (!h.status()) {
                    // A refused start (evdns_base_new or its server socket
                    // failed): it must say why, naming the errno.
                    EXPECT_TRUE(dns_mode) << where << ": " << h.status().message();
                    EXPECT_NE(h.status().message().find("EMFILE"), std::string::npos)
                        << where << ": " << h.status().message();
                    calls = 1;
                    report.outcome = Outcome::failed;
                    report.message = h.status().message();
                } else {
                    const auto limit_at = std::chrono::steady_clock::now() + 10s;
                    while (calls == 0 && std::chrono::steady_clock::now() < limit_at) {
                        event_base_loop(base, EVLOOP_ONCE);
                    }
                }
                for (int turn = 0; turn < 8 && event_base_loop(base, EVLOOP_NONBLOCK) == 0;
                     ++turn) {
                }
            }
            event_base_free(base);
            Fd winner(fd);
            EXPECT_EQ(calls, 1) << where;
            expect_sane(report, fd, where);
            if (spare == 0) expect_emfile(report, dns_mode, where);
            winner.reset();
            EXPECT_EQ(open_fd_count(), before) << where;
        }
    }
}
#endif

}  // namespace
}  // namespace eyeballs::test
