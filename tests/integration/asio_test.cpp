// SPDX-License-Identifier: BSL-1.0
// async_connect of eyeballs::asio and of eyeballs::boost_asio (this file is
// compiled once per flavour: asio_common.hpp) on real loopback sockets: the
// race (blackhole, refused, both open, all fail), local bind, timeouts, the
// socket factory, DNS (system resolver and the UDP client against the test
// DNS server), cancellation at every stage, every completion token, the
// handler's executor and work tracking, many races on one io_context. Every
// test runs inside FdLeakTest: a socket left open anywhere fails it.
//
// Timing assertions are lower bounds (the RFC's delays must be respected) and
// generous upper bounds (a busy 2-core box can be slow, never early).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <future>
#include <string>
#include <thread>

#ifdef EYEBALLS_TEST_BOOST_ASIO
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/deferred.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#else
#include <asio/bind_cancellation_slot.hpp>
#include <asio/bind_executor.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/use_future.hpp>
#endif

#include "asio_common.hpp"

#if defined(__linux__)
#include <dlfcn.h>

// Counts poll(2) calls made by this program (Asio's connect operation makes
// one per completed connect; the adapter's own connect makes none), then
// forwards them to the C library.
namespace {
std::atomic<int> poll_calls{0};
}
extern "C" int poll(struct pollfd* fds, nfds_t n, int timeout) {
    using fn = int (*)(struct pollfd*, nfds_t, int);
    static const fn next = reinterpret_cast<fn>(::dlsym(RTLD_NEXT, "poll"));
    poll_calls.fetch_add(1, std::memory_order_relaxed);
    return next(fds, n, timeout);
}
#endif

namespace {

using namespace asio_test;
using eyeballs::Config;
using eyeballs::Family;
using eyeballs::Outcome;
using eyeballs::Stage;
using eyeballs::test::Blackhole;
using eyeballs::test::bind_loopback_pair;
using eyeballs::test::DnsServer;
using eyeballs::test::Listener;
using eyeballs::test::loopback_v4;
using eyeballs::test::loopback_v6;
using eyeballs::test::RefusedPort;

class AsioRace : public eyeballs::test::FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (!eyeballs::test::ipv6_loopback_available()) {
            GTEST_SKIP() << "needs [::1]: IPv6 loopback is disabled here";
        }
    }
};

std::vector<Endpoint> pair_endpoints(std::uint16_t port) {
    return {loopback_v6(port), loopback_v4(port)};
}

/// A 127.0.0.0/8 address other than 127.0.0.1 (bindable on Linux's lo).
Endpoint loopback_alias(std::uint8_t last) { return Endpoint::v4({127, 0, 0, last}, 0); }

/// An RFC 5737 address not assigned here: binding to it fails (EADDRNOTAVAIL).
Endpoint unassigned_v4() {
    for (auto block : {std::array<std::uint8_t, 3>{203, 0, 113}, {198, 51, 100}, {192, 0, 2}}) {
        Endpoint e = Endpoint::v4({block[0], block[1], block[2], 77}, 0);
        int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        tcp::endpoint ep = to_tcp(e);
        const bool bound = ::bind(fd, ep.data(), static_cast<socklen_t>(ep.size())) == 0;
        const int err = errno;
        ::close(fd);
        if (!bound && err == EADDRNOTAVAIL) return e;
    }
    ADD_FAILURE() << "every RFC 5737 network is assigned on this host";
    return Endpoint::v4({203, 0, 113, 77}, 0);
}

// ---- The race (RFC 8305 §5) --------------------------------------------------

TEST_F(AsioRace, BlackholedIpv6LosesToIpv4AfterTheAttemptDelay) {
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(),
                                  r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message() << " " << r.report->message;
    EXPECT_EQ(r.peer(), loopback_v4(pair.port));
    EXPECT_EQ(r.report->outcome, Outcome::connected);
    EXPECT_EQ(r.report->winner.number(), 2u);
    const auto t1 = r.rec.time_of<eyeballs::Connect>(1);
    const auto t2 = r.rec.time_of<eyeballs::Connect>(2);
    ASSERT_TRUE(t1 && t2);
    EXPECT_GE(ms(*t2 - *t1), 250.0) << "IPv4 must wait the Connection Attempt Delay";
    EXPECT_LT(ms(*t2 - *t1), 2250.0);
    EXPECT_EQ(r.rec.all<eyeballs::Close>().size(), 1u) << "the blackholed attempt is closed";
    expect_clean_trace(r);
}

TEST_F(AsioRace, RefusedIpv6FailsOverToIpv4AtOnce) {
    auto pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(),
                                  r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message();
    EXPECT_EQ(r.peer(), loopback_v4(pair.port));
    const auto t1 = r.rec.time_of<eyeballs::Connect>(1);
    const auto t2 = r.rec.time_of<eyeballs::Connect>(2);
    ASSERT_TRUE(t1 && t2);
    EXPECT_GE(ms(*t2 - *t1), 10.0) << "the 10 ms floor (RFC 8305 §5)";
    EXPECT_LT(ms(*t2 - *t1), 200.0) << "fail fast: no waiting for the attempt delay";
    ASSERT_EQ(r.report->errors.size(), 1u);
    EXPECT_EQ(r.report->errors[0].stage, Stage::connect);
    EXPECT_EQ(r.report->errors[0].code, ECONNREFUSED);
    expect_clean_trace(r);
}

TEST_F(AsioRace, BothOpenIpv6Wins) {
    auto pair = bind_loopback_pair();
    Listener open6(std::move(pair.v6));
    Listener open4(std::move(pair.v4));
    net::io_context io;
    Race r;
    // Given IPv4 first: interleaving keeps the order, so sort IPv6 first ourselves
    // as a resolver would (RFC 6724); here the list is IPv6 first.
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(),
                                  r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message();
    EXPECT_EQ(r.peer(), loopback_v6(pair.port));
    EXPECT_EQ(r.report->winner.number(), 1u);
    EXPECT_EQ(r.report->attempts.size(), 1u) << "no second attempt once the first connected";
    EXPECT_TRUE(r.rec.all<eyeballs::Close>().empty());
    EXPECT_LT(r.elapsed_ms(), 200.0);
    expect_clean_trace(r);
}

TEST_F(AsioRace, AllRefusedFailsWithEconnrefused) {
    auto pair = bind_loopback_pair();
    RefusedPort r6(std::move(pair.v6));
    RefusedPort r4(std::move(pair.v4));
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(),
                                  r.handler());
    io.run();

    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.ec, net::error::connection_refused);
    EXPECT_EQ(r.ec.value(), ECONNREFUSED);
    ASSERT_TRUE(r.socket);
    EXPECT_FALSE(r.socket->is_open());
    EXPECT_EQ(r.report->outcome, Outcome::failed);
    EXPECT_EQ(r.report->code, ECONNREFUSED);
    ASSERT_EQ(r.report->errors.size(), 2u);
    EXPECT_EQ(r.report->errors[0].remote, loopback_v6(pair.port));
    EXPECT_EQ(r.report->errors[1].remote, loopback_v4(pair.port));
    EXPECT_NE(r.report->message.find("multiple errors"), std::string::npos) << r.report->message;
    expect_clean_trace(r);
}

TEST_F(AsioRace, MixedErrorsCompleteWithTheLastAttemptsError) {
    auto pair = bind_loopback_pair();
    RefusedPort r6(std::move(pair.v6));
    Blackhole h4(std::move(pair.v4));
    Config c;
    c.attempt_timeout = 100ms;
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(c),
                                  r.handler());
    io.run();

    EXPECT_EQ(r.report->outcome, Outcome::failed);
    EXPECT_EQ(r.report->code, 0) << "the errors differ: no shared errno";
    EXPECT_EQ(r.ec, net::error::timed_out) << "the last attempt (IPv4) timed out";
    expect_clean_trace(r);
}

// ---- Local bind (docs/behaviour.md §1 rule 7) ---------------------------------------------

TEST_F(AsioRace, BindsToTheLocalCandidateOfItsFamily) {
    Listener open(loopback_v4(0));
    Config c;
    c.local = {loopback_v6(0), loopback_alias(2)};
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                  r.options(c), r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message() << " " << r.report->message;
    EXPECT_EQ(r.socket->local_endpoint().address(), net::ip::make_address("127.0.0.2"));
    ASSERT_EQ(r.rec.all<eyeballs::Bind>().size(), 1u);
    EXPECT_EQ(r.rec.all<eyeballs::Bind>()[0].local, loopback_alias(2));
    EXPECT_EQ(r.report->local, loopback_alias(2));
    expect_clean_trace(r);
}

TEST_F(AsioRace, AFailingBindIsRecordedAndTheNextCandidateIsUsed) {
    Listener open(loopback_v4(0));
    const Endpoint bad = unassigned_v4();
    Config c;
    c.local = {bad, loopback_alias(3)};
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                  r.options(c), r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message() << " " << r.report->message;
    EXPECT_EQ(r.socket->local_endpoint().address(), net::ip::make_address("127.0.0.3"));
    EXPECT_EQ(r.rec.all<eyeballs::Bind>().size(), 2u);
    ASSERT_EQ(r.report->errors.size(), 1u);
    EXPECT_EQ(r.report->errors[0].stage, Stage::bind);
    EXPECT_EQ(r.report->errors[0].code, EADDRNOTAVAIL);
    EXPECT_EQ(r.report->errors[0].local, bad);
    expect_clean_trace(r);
}

TEST_F(AsioRace, NoLocalCandidateOfTheFamilyFailsTheAttemptBeforeItsSocket) {
    auto pair = bind_loopback_pair();
    Listener open6(std::move(pair.v6));
    Listener open4(std::move(pair.v4));
    Config c;
    c.local = {loopback_alias(4)};  // IPv4 only
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(c),
                                  r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message();
    EXPECT_EQ(r.peer(), loopback_v4(pair.port)) << "IPv6 had no local address";
    ASSERT_GE(r.report->errors.size(), 1u);
    EXPECT_EQ(r.report->errors[0].stage, Stage::bind);
    EXPECT_EQ(r.report->errors[0].message(), "no local address of family IPv6");
    expect_clean_trace(r);

    // With only the IPv6 remote, the race fails without an errno.
    net::io_context io2;
    Race r2;
    adapter::async_connect(io2.get_executor(),
                                  std::vector<Endpoint>{loopback_v6(pair.port)}, r2.options(c),
                                  r2.handler());
    io2.run();
    EXPECT_EQ(r2.ec, net::error::address_family_not_supported);
    EXPECT_TRUE(r2.rec.all<eyeballs::Connect>().empty());
    expect_clean_trace(r2);
}

TEST_F(AsioRace, AllBindsFailingFailTheAttemptWithThoseErrors) {
    Listener open(loopback_v4(0));
    const Endpoint bad = unassigned_v4();
    Config c;
    c.local = {bad};
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                  r.options(c), r.handler());
    io.run();
    EXPECT_EQ(r.ec, error_code(EADDRNOTAVAIL, net::error::get_system_category()));
    EXPECT_EQ(r.rec.all<eyeballs::Close>().size(), 1u) << "its socket was opened, so it is closed";
    expect_clean_trace(r);
}

// ---- Timeouts (docs/behaviour.md §1 rule 8) -----------------------------------------------

TEST_F(AsioRace, AttemptTimeoutFailsEachAttemptAndMovesOn) {
    auto pair = bind_loopback_pair();
    Blackhole h6(std::move(pair.v6));
    Blackhole h4(std::move(pair.v4));
    Config c;
    c.attempt_timeout = 100ms;
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(c),
                                  r.handler());
    io.run();

    EXPECT_EQ(r.ec, net::error::timed_out);
    EXPECT_FALSE(r.report->overall_timeout);
    ASSERT_EQ(r.report->errors.size(), 2u);
    EXPECT_EQ(r.report->errors[0].stage, Stage::timeout);
    EXPECT_EQ(r.report->errors[1].stage, Stage::timeout);
    const auto t1 = r.rec.time_of<eyeballs::Connect>(1);
    const auto t2 = r.rec.time_of<eyeballs::Connect>(2);
    ASSERT_TRUE(t1 && t2);
    EXPECT_GE(ms(*t2 - *t1), 100.0) << "IPv4 starts when IPv6 times out";
    EXPECT_LT(ms(*t2 - *t1), 250.0 + 1000.0);
    EXPECT_GE(r.elapsed_ms(), 200.0);
    expect_clean_trace(r);
}

TEST_F(AsioRace, OverallTimeoutEndsTheRace) {
    auto pair = bind_loopback_pair();
    Blackhole h6(std::move(pair.v6));
    Blackhole h4(std::move(pair.v4));
    Config c;
    c.overall_timeout = 400ms;
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(c),
                                  r.handler());
    io.run();

    EXPECT_EQ(r.ec, net::error::timed_out);
    EXPECT_TRUE(r.report->overall_timeout);
    EXPECT_EQ(r.report->code, ETIMEDOUT);
    EXPECT_EQ(r.rec.all<eyeballs::Close>().size(), 2u) << "both attempts in flight are closed";
    EXPECT_GE(r.elapsed_ms(), 400.0);
    EXPECT_LT(r.elapsed_ms(), 2400.0);
    expect_clean_trace(r);
}

// ---- Socket factory ----------------------------------------------------------

TEST_F(AsioRace, SocketFactoryConfiguresEverySocket) {
    auto pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    int calls = 0;
    net::io_context io;
    Race r;
    auto options = r.options();
    options.open_socket = [&calls](tcp::socket& s, const tcp::endpoint& remote) {
        ++calls;
        error_code ec;
        s.open(remote.protocol(), ec);
        if (!ec) s.set_option(tcp::no_delay(true), ec);
        return ec;
    };
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), options,
                                  r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message();
    EXPECT_EQ(calls, 2);
    tcp::no_delay nd;
    r.socket->get_option(nd);
    EXPECT_TRUE(nd.value()) << "the winner is the factory's socket";
    expect_clean_trace(r);
}

TEST_F(AsioRace, DefaultSocketIsNonBlockingCloseOnExecAndStillActsBlocking) {
    // The default opener creates the socket SOCK_NONBLOCK | SOCK_CLOEXEC and
    // tells Asio so (no FIONBIO, no epoll_ctl DEL): the fd is non-blocking,
    // yet the socket's user-visible mode stays blocking, as after Asio's open().
    auto pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(), r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message();
    const int fd = r.socket->native_handle();
    EXPECT_NE(::fcntl(fd, F_GETFL) & O_NONBLOCK, 0) << "created non-blocking";
    EXPECT_NE(::fcntl(fd, F_GETFD) & FD_CLOEXEC, 0) << "created close-on-exec";
    EXPECT_FALSE(r.socket->non_blocking()) << "synchronous operations still block";
    error_code ec;
    EXPECT_EQ(net::write(*r.socket, net::buffer("ping", 4), ec), 4u) << ec.message();
    r.socket->close(ec);
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(::fcntl(fd, F_GETFD), -1) << "closed";
}

#if defined(__linux__)
TEST_F(AsioRace, DefaultSocketsConnectWithoutAPollPerConnect) {
    // Asio's async_connect checks every completed connect with a poll(2);
    // the default opener's sockets are connected by the adapter itself
    // (connect(2), a wait for writability, TCP_INFO), which needs none.
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    net::io_context io;
    Race r;
    auto options = r.options();
    options.config.attempt_delay = 20ms;
    const int before = poll_calls.load();
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), options, r.handler());
    io.run();
    const int polls = poll_calls.load() - before;
    ASSERT_TRUE(r.connected()) << r.ec.message();
    EXPECT_EQ(r.peer(), loopback_v4(pair.port));
    EXPECT_EQ(polls, 0) << "poll(2) calls during the race";
    expect_clean_trace(r);
}

TEST_F(AsioRace, ConnectStateTellsPendingFromConnectedFromRefused) {
    // The default opener's sockets are connected by connect(2) and a wait for
    // writability; Asio may complete that wait spuriously (a stale EPOLLHUP
    // of the fresh socket, seen by another thread), so the adapter asks
    // TCP_INFO where the connect stands: still pending means wait again.
    namespace ad = eyeballs::asio_detail;
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    auto other = bind_loopback_pair();
    RefusedPort refused(std::move(other.v4));
    auto start = [](const Endpoint& to) {
        const tcp::endpoint ep = to_tcp(to);
        eyeballs::test::Fd fd(
            ::socket(ep.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
        const int rc = ::connect(fd.get(), ep.data(), static_cast<socklen_t>(ep.size()));
        EXPECT_TRUE(rc == 0 || errno == EINPROGRESS) << std::strerror(errno);
        return fd;
    };
    auto settle = [](const eyeballs::test::Fd& fd) {
        pollfd p{fd.get(), POLLOUT, 0};
        EXPECT_EQ(::poll(&p, 1, 5000), 1) << "the connect did not end";
    };
    int err = -1;
    auto pending = start(hole.endpoint());
    EXPECT_EQ(ad::connect_state(pending.get(), err), ad::connect_progress::in_progress);
    EXPECT_EQ(err, 0);
    auto connected = start(open.endpoint());
    settle(connected);
    EXPECT_EQ(ad::connect_state(connected.get(), err), ad::connect_progress::connected);
    EXPECT_EQ(err, 0);
    auto failed = start(refused.endpoint());
    settle(failed);
    EXPECT_EQ(ad::connect_state(failed.get(), err), ad::connect_progress::failed);
    EXPECT_EQ(err, ECONNREFUSED);
}
#endif

TEST_F(AsioRace, FactoryAssigningABlockingDupStillConnects) {
    // A factory's fd is not assumed to be the default opener's: a blocking
    // fd, and a dup, race as before (Asio sets non-blocking itself and
    // removes it from its epoll set at close).
    auto pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    std::vector<int> originals;
    net::io_context io;
    Race r;
    auto options = r.options();
    options.open_socket = [&originals](tcp::socket& s, const tcp::endpoint& remote) {
        const int fd = ::socket(remote.protocol().family(), SOCK_STREAM, 0);
        const int copy = ::dup(fd);
        originals.push_back(fd);
        error_code ec;
        s.assign(remote.protocol(), copy, ec);
        if (ec) ::close(copy);
        return ec;
    };
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), options, r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message();
    EXPECT_EQ(originals.size(), 2u);
    EXPECT_EQ(r.peer(), loopback_v4(pair.port));
    error_code ec;
    EXPECT_EQ(net::write(*r.socket, net::buffer("ping", 4), ec), 4u) << ec.message();
    for (int fd : originals) EXPECT_EQ(::close(fd), 0) << "the factory's own fd is still open";
    expect_clean_trace(r);
}

TEST_F(AsioRace, AFailingFactoryFailsTheAttemptAtOpen) {
    auto pair = bind_loopback_pair();
    Listener open6(std::move(pair.v6));
    Listener open4(std::move(pair.v4));
    net::io_context io;
    Race r;
    auto options = r.options();
    options.open_socket = [](tcp::socket& s, const tcp::endpoint& remote) -> error_code {
        if (remote.address().is_v6()) {
            s.open(remote.protocol());  // opened, then refused: the adapter closes it
            return net::error::address_family_not_supported;
        }
        error_code ec;
        s.open(remote.protocol(), ec);
        return ec;
    };
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), options,
                                  r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message();
    EXPECT_EQ(r.peer(), loopback_v4(pair.port));
    ASSERT_EQ(r.report->errors.size(), 1u);
    EXPECT_EQ(r.report->errors[0].stage, Stage::open);
    EXPECT_EQ(r.report->errors[0].code, EAFNOSUPPORT);
    EXPECT_TRUE(r.rec.all<eyeballs::Close>().empty()) << "a failed open is never closed";
    expect_clean_trace(r);
}

// ---- Misuse: an error, never inline ------------------------------------------

TEST_F(AsioRace, EmptyListCompletesWithNotFoundAndNotInline) {
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), std::vector<tcp::endpoint>{}, r.options(),
                                  r.handler());
    EXPECT_EQ(r.calls, 0) << "the handler must not run inside async_connect";
    io.run();
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.ec, net::error::not_found);
    EXPECT_EQ(r.report->outcome, Outcome::failed);
    EXPECT_FALSE(r.report->message.empty());
}

TEST_F(AsioRace, InvalidConfigCompletesWithInvalidArgumentAndTheReason) {
    net::io_context io;
    Race r;
    Config c;
    c.attempt_delay = 5ms;
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{loopback_v4(9)},
                                  r.options(c), r.handler());
    EXPECT_EQ(r.calls, 0);
    io.run();
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.ec, net::error::invalid_argument);
    EXPECT_NE(r.report->message.find("10 ms"), std::string::npos) << r.report->message;
    EXPECT_TRUE(r.rec.log.empty()) << "no action for a race that never started";
}

TEST_F(AsioRace, ImmediateSuccessIsNotInline) {
    Listener open(loopback_v4(0));
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                  r.options(), r.handler());
    EXPECT_EQ(r.calls, 0);
    io.run();
    EXPECT_TRUE(r.connected());
}

// ---- Completion tokens -------------------------------------------------------

TEST_F(AsioRace, UseFuture) {
    Listener open(loopback_v4(0));
    RefusedPort refused(loopback_v4(0));
    net::io_context io;
    std::future<tcp::socket> ok = adapter::async_connect(
        io.get_executor(), std::vector<tcp::endpoint>{to_tcp(open.endpoint())}, net::use_future);
    std::future<tcp::socket> bad = adapter::async_connect(
        io.get_executor(), std::vector<tcp::endpoint>{to_tcp(refused.endpoint())},
        net::use_future);
    io.run();
    tcp::socket s = ok.get();
    EXPECT_EQ(adapter::from_asio(s.remote_endpoint()), open.endpoint());
    try {
        bad.get();
        ADD_FAILURE() << "a refused race must throw from the future";
    } catch (const system_error& e) {
        EXPECT_EQ(e.code(), net::error::connection_refused);
    }
}

TEST_F(AsioRace, UseAwaitable) {
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    net::io_context io;
    std::optional<Endpoint> peer;
    error_code error;
    auto report = std::make_shared<eyeballs::RaceReport>();
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            auto ex = co_await net::this_coro::executor;
            adapter::connect_options o;
            o.report = report;
            tcp::socket s = co_await adapter::async_connect(ex, pair_endpoints(pair.port),
                                                                   o, net::use_awaitable);
            peer = adapter::from_asio(s.remote_endpoint());
            try {
                RefusedPort refused(loopback_v4(0));
                // (A braced list inside a co_await expression trips g++ 12.)
                std::vector<Endpoint> refused_only(1, refused.endpoint());
                co_await adapter::async_connect(ex, refused_only, net::use_awaitable);
            } catch (const system_error& e) {
                error = e.code();
            }
        },
        net::detached);
    io.run();
    EXPECT_EQ(peer, loopback_v4(pair.port));
    EXPECT_EQ(report->winner.number(), 2u);
    EXPECT_EQ(error, net::error::connection_refused);
}

TEST_F(AsioRace, AwaitableOperatorCancelsTheLosingRace) {
    // `race || timer`: when the timer wins, the coroutine machinery emits a
    // terminal cancellation into the race's slot; every socket is closed.
    auto pair = bind_loopback_pair();
    Blackhole h6(std::move(pair.v6));
    Blackhole h4(std::move(pair.v4));
    net::io_context io;
    std::size_t winner = 99;
    auto report = std::make_shared<eyeballs::RaceReport>();
    const auto started = Clock::now();
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            using namespace net::experimental::awaitable_operators;
            auto ex = co_await net::this_coro::executor;
            adapter::connect_options o;
            o.report = report;
            net::steady_timer timer(ex, 300ms);
            auto result = co_await (
                adapter::async_connect(ex, pair_endpoints(pair.port), o,
                                              net::use_awaitable) ||
                timer.async_wait(net::use_awaitable));
            winner = result.index();
        },
        net::detached);
    io.run();
    EXPECT_EQ(winner, 1u) << "the timer wins against two blackholes";
    EXPECT_EQ(report->outcome, Outcome::cancelled);
    EXPECT_EQ(report->attempts.size(), 2u);
    EXPECT_LT(ms(Clock::now() - started), 2000.0);
}

TEST_F(AsioRace, ExperimentalDeferred) {
    Listener open(loopback_v4(0));
    net::io_context io;
    auto op = adapter::async_connect(io.get_executor(),
                                            std::vector<Endpoint>{open.endpoint()},
                                            net::experimental::deferred);
    io.run();
    EXPECT_EQ(open.accept_all(), 0) << "a deferred operation does nothing until it is launched";
    io.restart();
    int calls = 0;
    std::optional<Endpoint> peer;
    std::move(op)([&](error_code ec, tcp::socket s) {
        ++calls;
        ASSERT_FALSE(ec) << ec.message();
        peer = adapter::from_asio(s.remote_endpoint());
    });
    io.run();
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(peer, open.endpoint());
}

// ---- The handler's executor, work tracking -----------------------------------

TEST_F(AsioRace, HandlerRunsOnItsAssociatedExecutor) {
    Listener open(loopback_v4(0));
    net::io_context io;
    auto strand = net::make_strand(io);
    bool in_strand = false;
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                  net::bind_executor(strand, [&](error_code ec, tcp::socket) {
                                      EXPECT_FALSE(ec);
                                      in_strand = strand.running_in_this_thread();
                                  }));
    io.run();
    EXPECT_TRUE(in_strand);
}

TEST_F(AsioRace, WorkIsTrackedOnTheHandlersExecutor) {
    // The race runs on `racing` (its own thread); the handler belongs to `app`.
    // app.run() must not return before the handler has run there.
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    net::io_context racing;
    net::io_context app;
    std::atomic<bool> called{false};
    std::thread::id handler_thread;
    adapter::async_connect(racing.get_executor(), pair_endpoints(pair.port),
                                  net::bind_executor(app, [&](error_code ec, tcp::socket) {
                                      EXPECT_FALSE(ec) << ec.message();
                                      handler_thread = std::this_thread::get_id();
                                      called = true;
                                  }));
    std::thread racing_thread([&racing] { racing.run(); });
    app.run();  // returns only when no work is left on app: after the handler
    EXPECT_TRUE(called);
    EXPECT_EQ(handler_thread, std::this_thread::get_id());
    racing_thread.join();
}

// ---- Cancellation at every stage (docs/behaviour.md §1 rule 9) -----------------------------

TEST_F(AsioRace, CancelDuringDnsWithTheSystemResolver) {
    net::io_context io;
    net::cancellation_signal cancel;
    Race r;
    adapter::async_connect(io.get_executor(), "localhost", 9, r.options(),
                                  net::bind_cancellation_slot(cancel.slot(), r.handler()));
    cancel.emit(net::cancellation_type::terminal);
    EXPECT_EQ(r.calls, 0) << "not from inside emit()";
    io.run();
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.ec, net::error::operation_aborted);
    EXPECT_EQ(r.report->outcome, Outcome::cancelled);
    EXPECT_EQ(r.rec.all<eyeballs::Resolve>().size(), 2u) << "the race was resolving";
    EXPECT_TRUE(r.rec.all<eyeballs::OpenSocket>().empty());
    expect_clean_trace(r);
}

TEST_F(AsioRace, CancelDuringDnsWithTheUdpClient) {
    DnsServer dns;
    dns.set("slow.test", Family::v6, DnsServer::Answer::silent());
    dns.set("slow.test", Family::v4, DnsServer::Answer::silent());
    net::io_context io;
    net::cancellation_signal cancel;
    Race r;
    auto options = r.options();
    options.dns_server = net::ip::udp::endpoint(
        adapter::to_asio_address(dns.endpoint()), dns.endpoint().port());
    adapter::async_connect(io.get_executor(), "slow.test", 443, options,
                                  net::bind_cancellation_slot(cancel.slot(), r.handler()));
    net::steady_timer t(io, 100ms);
    t.async_wait([&](error_code) { cancel.emit(net::cancellation_type::terminal); });
    io.run();
    EXPECT_EQ(r.ec, net::error::operation_aborted);
    EXPECT_GE(r.elapsed_ms(), 100.0);
    EXPECT_LT(r.elapsed_ms(), 900.0) << "before the first resend";
    EXPECT_EQ(dns.wait_for_queries(2, std::chrono::milliseconds(200)).size(), 2u)
        << "one AAAA and one A query";
    expect_clean_trace(r);
}

TEST_F(AsioRace, CancelBetweenAttemptsClosesTheOneInFlight) {
    auto pair = bind_loopback_pair();
    Blackhole h6(std::move(pair.v6));
    Blackhole h4(std::move(pair.v4));
    net::io_context io;
    net::cancellation_signal cancel;
    Race r;
    adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(),
                                  net::bind_cancellation_slot(cancel.slot(), r.handler()));
    net::steady_timer t(io, 100ms);  // attempt 1 at 0, attempt 2 due at 250 ms
    t.async_wait([&](error_code) { cancel.emit(net::cancellation_type::terminal); });
    io.run();
    EXPECT_EQ(r.ec, net::error::operation_aborted);
    EXPECT_EQ(r.report->outcome, Outcome::cancelled);
    EXPECT_EQ(r.report->attempts.size(), 1u);
    EXPECT_EQ(r.rec.all<eyeballs::Close>().size(), 1u);
    EXPECT_LT(r.elapsed_ms(), 250.0 + 1000.0);
    expect_clean_trace(r);
}

TEST_F(AsioRace, PartialAndTotalCancellationEndTheRaceToo) {
    for (auto type : {net::cancellation_type::partial, net::cancellation_type::total}) {
        auto pair = bind_loopback_pair();
        Blackhole h6(std::move(pair.v6));
        Blackhole h4(std::move(pair.v4));
        net::io_context io;
        net::cancellation_signal cancel;
        Race r;
        adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(),
                                      net::bind_cancellation_slot(cancel.slot(), r.handler()));
        net::steady_timer t(io, 300ms);  // both attempts in flight
        t.async_wait([&](error_code) { cancel.emit(type); });
        io.run();
        EXPECT_EQ(r.ec, net::error::operation_aborted);
        EXPECT_EQ(r.rec.all<eyeballs::Close>().size(), 2u);
        expect_clean_trace(r);
    }
}

TEST_F(AsioRace, CancelWhenTheConnectIsIssuedWins) {
    // Emitted as the Connect action is performed: the cancellation is queued
    // before the connect can complete, so the race is cancelled, and the
    // socket whose handshake the kernel may well finish is closed.
    Listener open(loopback_v4(0));
    net::io_context io;
    net::cancellation_signal cancel;
    Race r;
    auto options = r.options();
    auto record = options.on_action;
    options.on_action = [&](eyeballs::TimePoint t, const Action& a, const eyeballs::RaceMachine& m) {
        record(t, a, m);
        if (std::holds_alternative<eyeballs::Connect>(a)) {
            cancel.emit(net::cancellation_type::terminal);
        }
    };
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                  options, net::bind_cancellation_slot(cancel.slot(), r.handler()));
    io.run();
    EXPECT_EQ(r.calls, 1);
    EXPECT_EQ(r.ec, net::error::operation_aborted);
    EXPECT_FALSE(r.socket->is_open());
    EXPECT_EQ(r.rec.all<eyeballs::Close>().size(), 1u);
    expect_clean_trace(r);
}

TEST_F(AsioRace, CancelAfterTheReportIsIgnored) {
    Listener open(loopback_v4(0));
    net::io_context io;
    net::cancellation_signal cancel;
    Race r;
    auto options = r.options();
    auto record = options.on_action;
    options.on_action = [&](eyeballs::TimePoint t, const Action& a, const eyeballs::RaceMachine& m) {
        record(t, a, m);
        if (std::holds_alternative<eyeballs::Report>(a)) {
            cancel.emit(net::cancellation_type::terminal);
        }
    };
    adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                  options, net::bind_cancellation_slot(cancel.slot(), r.handler()));
    io.run();
    EXPECT_TRUE(r.connected()) << "the race was over: the winner stands";
    EXPECT_EQ(r.report->outcome, Outcome::connected);
    expect_clean_trace(r);
}

TEST_F(AsioRace, CancelAtTheInstantOfSuccess) {
    // The kernel has completed the handshake, the connect's completion is on
    // its way, and the cancellation arrives: either may win, but there is
    // exactly one completion, it is consistent, and no socket is leaked.
    int connected = 0, cancelled = 0;
    for (int i = 0; i < 40; ++i) {
        Listener open(loopback_v4(0));
        net::io_context io;
        net::cancellation_signal cancel;
        Race r;
        adapter::async_connect(io.get_executor(), std::vector<Endpoint>{open.endpoint()},
                                      r.options(),
                                      net::bind_cancellation_slot(cancel.slot(), r.handler()));
        io.poll_one();  // begin: the connect is issued
        ASSERT_EQ(r.rec.all<eyeballs::Connect>().size(), 1u);
        switch (i % 3) {
            case 0:  // before the reactor has seen the handshake: cancel first
                cancel.emit(net::cancellation_type::terminal);
                break;
            case 1:  // the reactor has queued the connect's completion: it first
                std::this_thread::sleep_for(2ms);
                io.poll_one();
                cancel.emit(net::cancellation_type::terminal);
                break;
            default:  // from a handler queued behind it
                std::this_thread::sleep_for(2ms);
                net::post(io, [&] { cancel.emit(net::cancellation_type::terminal); });
                break;
        }
        io.run();
        ASSERT_EQ(r.calls, 1);
        if (!r.ec) {
            ++connected;
            EXPECT_TRUE(r.socket->is_open());
            EXPECT_EQ(r.report->outcome, Outcome::connected);
        } else {
            ++cancelled;
            EXPECT_EQ(r.ec, net::error::operation_aborted);
            EXPECT_FALSE(r.socket->is_open());
            EXPECT_EQ(r.report->outcome, Outcome::cancelled);
        }
        expect_clean_trace(r);
        open.accept_all();
    }
    EXPECT_EQ(connected + cancelled, 40);
    EXPECT_GT(connected, 0) << "the success-first order was never exercised";
    EXPECT_GT(cancelled, 0) << "the cancel-first order was never exercised";
    RecordProperty("connected", connected);
    RecordProperty("cancelled", cancelled);
}

TEST_F(AsioRace, DestroyingTheIoContextMidRaceLeaksNothing) {
    auto pair = bind_loopback_pair();
    Blackhole h6(std::move(pair.v6));
    Blackhole h4(std::move(pair.v4));
    int calls = 0;
    {
        net::io_context io;
        adapter::async_connect(io.get_executor(), pair_endpoints(pair.port),
                                      [&](error_code, tcp::socket) { ++calls; });
        io.run_for(300ms);  // both attempts in flight
    }
    EXPECT_EQ(calls, 0) << "an abandoned operation's handler is destroyed, never invoked";
}

// ---- DNS mode (docs/behaviour.md §2) ------------------------------------------------------

net::ip::udp::endpoint udp_of(const DnsServer& dns) {
    return {adapter::to_asio_address(dns.endpoint()), dns.endpoint().port()};
}

TEST_F(AsioRace, SystemResolverRacesLocalhost) {
    Listener open(loopback_v4(0));
    net::io_context io;
    Race r;
    auto options = r.options();
    options.resolve_flags = {};  // loopback only: no AI_ADDRCONFIG
    adapter::async_connect(io.get_executor(), "localhost", open.endpoint().port(), options,
                                  r.handler());
    io.run();
    ASSERT_EQ(r.rec.all<eyeballs::Resolve>().size(), 2u);
    EXPECT_EQ(r.rec.all<eyeballs::Resolve>()[0].family, Family::v6) << "AAAA first";
    EXPECT_EQ(r.rec.all<eyeballs::Resolve>()[1].family, Family::v4);
    ASSERT_TRUE(r.connected()) << r.ec.message() << " " << r.report->message;
    EXPECT_EQ(r.socket->remote_endpoint().port(), open.endpoint().port());
    expect_clean_trace(r);
}

// Resolve overrides (issue 16, eyeballs/overrides.hpp): a pinned name and a
// --connect-to redirect race loopback with no DNS question.
TEST_F(AsioRace, OverridesPinAndConnectToSkipDns) {
    Listener open(loopback_v4(0));
    const std::uint16_t port = open.endpoint().port();
    for (int variant = 0; variant < 2; ++variant) {
        net::io_context io;
        Race r;
        auto options = r.options();
        if (variant == 0) {
            options.overrides.push_back(*eyeballs::parse_resolve_override(
                "pinned.invalid:" + std::to_string(port) + ":127.0.0.1", nullptr));
            adapter::async_connect(io.get_executor(), "pinned.invalid", port, options, r.handler());
        } else {
            options.overrides.push_back(*eyeballs::parse_connect_to(
                "asked.invalid:1:127.0.0.1:" + std::to_string(port), nullptr));
            adapter::async_connect(io.get_executor(), "asked.invalid", 1, options, r.handler());
        }
        io.run();
        ASSERT_TRUE(r.connected()) << variant << ": " << r.ec.message();
        EXPECT_EQ(r.socket->remote_endpoint().port(), port);
        EXPECT_TRUE(r.rec.all<eyeballs::Resolve>().empty());
    }
}

TEST_F(AsioRace, AnIpLiteralHostNeedsNoDns) {
    Listener open(loopback_v4(0));
    net::io_context io;
    Race r;
    adapter::async_connect(io.get_executor(), "127.0.0.1", open.endpoint().port(),
                                  r.options(), r.handler());
    io.run();
    ASSERT_TRUE(r.connected());
    EXPECT_TRUE(r.rec.all<eyeballs::Resolve>().empty());
}

TEST_F(AsioRace, UdpDnsBlackholedIpv6LosesToIpv4) {
    auto pair = bind_loopback_pair();
    Blackhole hole(std::move(pair.v6));
    Listener open(std::move(pair.v4));
    DnsServer dns;
    dns.set("dual.test", Family::v6, DnsServer::Answer::with({loopback_v6()}));
    dns.set("dual.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    net::io_context io;
    Race r;
    auto options = r.options();
    options.dns_server = udp_of(dns);
    adapter::async_connect(io.get_executor(), "dual.test", pair.port, options, r.handler());
    io.run();

    ASSERT_TRUE(r.connected()) << r.ec.message() << " " << r.report->message;
    EXPECT_EQ(r.peer(), loopback_v4(pair.port));
    ASSERT_EQ(r.rec.all<eyeballs::Connect>().size(), 2u);
    EXPECT_EQ(r.rec.all<eyeballs::Connect>()[0].remote, loopback_v6(pair.port));
    const auto t1 = r.rec.time_of<eyeballs::Connect>(1);
    const auto t2 = r.rec.time_of<eyeballs::Connect>(2);
    EXPECT_GE(ms(*t2 - *t1), 250.0);
    expect_clean_trace(r);
}

TEST_F(AsioRace, UdpDnsAFirstWaitsTheResolutionDelayForAaaa) {
    auto pair = bind_loopback_pair();
    Listener open6(std::move(pair.v6));
    Listener open4(std::move(pair.v4));
    DnsServer dns;
    dns.set("late6.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 20ms));
    dns.set("late6.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    dns.set("no6.test", Family::v6, DnsServer::Answer::silent());
    dns.set("no6.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    net::io_context io;
    Race late, none;
    auto o1 = late.options();
    o1.dns_server = udp_of(dns);
    auto o2 = none.options();
    o2.dns_server = udp_of(dns);
    o2.config.resolution_delay = 100ms;
    adapter::async_connect(io.get_executor(), "late6.test", pair.port, o1, late.handler());
    adapter::async_connect(io.get_executor(), "no6.test", pair.port, o2, none.handler());
    io.run();

    // AAAA 20 ms late, within the 50 ms resolution delay: IPv6 still goes first.
    ASSERT_TRUE(late.connected()) << late.report->message;
    EXPECT_EQ(late.peer(), loopback_v6(pair.port));
    // AAAA never answers: IPv4 starts when the resolution delay ends.
    ASSERT_TRUE(none.connected()) << none.report->message;
    EXPECT_EQ(none.peer(), loopback_v4(pair.port));
    const auto resolve = none.rec.time_of<eyeballs::Resolve>();
    const auto connect = none.rec.time_of<eyeballs::Connect>(1);
    ASSERT_TRUE(resolve && connect);
    EXPECT_GE(ms(*connect - *resolve), 100.0);
    EXPECT_LT(ms(*connect - *resolve), 900.0);
    expect_clean_trace(late);
    expect_clean_trace(none);
}

TEST_F(AsioRace, UdpDnsNegativeAnswersFailWithHostNotFound) {
    DnsServer dns;  // nothing in its table: NXDOMAIN for both
    dns.set("servfail.test", Family::v6, DnsServer::Answer::servfail());
    dns.set("servfail.test", Family::v4, DnsServer::Answer::nodata());
    net::io_context io;
    Race nx, sf;
    auto o1 = nx.options();
    o1.dns_server = udp_of(dns);
    auto o2 = sf.options();
    o2.dns_server = udp_of(dns);
    adapter::async_connect(io.get_executor(), "missing.test", 443, o1, nx.handler());
    adapter::async_connect(io.get_executor(), "servfail.test", 443, o2, sf.handler());
    io.run();

    EXPECT_EQ(nx.ec, net::error::host_not_found);
    ASSERT_EQ(nx.report->errors.size(), 2u);
    EXPECT_EQ(nx.report->errors[0].stage, Stage::resolve);
    EXPECT_NE(nx.report->errors[0].message().find("NXDOMAIN"), std::string::npos);
    EXPECT_EQ(sf.ec, net::error::host_not_found);
    ASSERT_EQ(sf.report->errors.size(), 2u);
    std::string texts = sf.report->errors[0].message() + " | " + sf.report->errors[1].message();
    EXPECT_NE(texts.find("SERVFAIL"), std::string::npos) << texts;
    EXPECT_NE(texts.find("no data"), std::string::npos) << texts;
}

TEST_F(AsioRace, UdpDnsSilentServerTimesOutPerFamily) {
    DnsServer dns;
    dns.set("quiet.test", Family::v6, DnsServer::Answer::silent());
    dns.set("quiet.test", Family::v4, DnsServer::Answer::silent());
    net::io_context io;
    Race r;
    auto options = r.options();
    options.dns_server = udp_of(dns);
    options.dns_timeout = 1500ms;
    adapter::async_connect(io.get_executor(), "quiet.test", 443, options, r.handler());
    io.run();
    EXPECT_EQ(r.ec, net::error::host_not_found);
    ASSERT_EQ(r.report->errors.size(), 2u);
    EXPECT_EQ(r.report->errors[0].code, ETIMEDOUT);
    EXPECT_GE(r.elapsed_ms(), 1500.0);
    EXPECT_EQ(dns.queries().size(), 4u) << "each family sent, then resent after 1 s";
}

TEST(AsioDnsPacket, QueryAndAnswerRoundTrip) {
    using namespace adapter::detail;
    std::string error;
    auto q = dns_build_query(0x1234, "Example.TEST.", Family::v6, error);
    ASSERT_FALSE(q.empty()) << error;
    EXPECT_EQ(q[0], 0x12);
    EXPECT_EQ(q[1], 0x34);
    EXPECT_TRUE(dns_build_query(1, "a..b", Family::v4, error).empty());
    EXPECT_TRUE(dns_build_query(1, std::string(64, 'a') + ".test", Family::v4, error).empty());
    EXPECT_NE(error.find("bad host name"), std::string::npos);

    // EDNS0 (issue 14 item 7): one additional record, an OPT offering 1232.
    ASSERT_GE(q.size(), 11u);
    EXPECT_EQ(q[11], 1) << "ARCOUNT";
    EXPECT_EQ(q[q.size() - 9], 41) << "OPT";
    EXPECT_EQ((q[q.size() - 8] << 8) | q[q.size() - 7], 1232) << "UDP payload size";

    // An answer: the question echoed (upper case kept), a CNAME, then AAAA.
    std::vector<std::uint8_t> a(q.begin(), q.end() - 11);  // without the OPT record
    a[11] = 0;
    a[2] = 0x81;
    a[3] = 0x80;
    a[7] = 2;  // two answers
    auto rr = [&a](std::uint16_t type, std::vector<std::uint8_t> data) {
        a.insert(a.end(), {0xc0, 0x0c, static_cast<std::uint8_t>(type >> 8),
                           static_cast<std::uint8_t>(type), 0, 1, 0, 0, 0, 60, 0,
                           static_cast<std::uint8_t>(data.size())});
        a.insert(a.end(), data.begin(), data.end());
    };
    rr(5, {0xc0, 0x0c});
    std::vector<std::uint8_t> v6(16, 0);
    v6[0] = 0x20;
    v6[1] = 0x01;
    v6[2] = 0x0d;
    v6[3] = 0xb8;
    v6[15] = 1;
    rr(28, v6);
    auto r = dns_parse_response(a.data(), a.size(), q, Family::v6, 443);
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok);
    ASSERT_EQ(r->addresses.size(), 1u);
    EXPECT_EQ(r->addresses[0].to_string(), "[2001:db8::1]:443");

    // Another id, or not a response: not ours.
    auto other = a;
    other[1] ^= 1;
    EXPECT_FALSE(dns_parse_response(other.data(), other.size(), q, Family::v6, 443));
    std::vector<std::uint8_t> query_again(q.begin(), q.end());
    EXPECT_FALSE(dns_parse_response(query_again.data(), query_again.size(), q, Family::v6, 443));
    // Truncated in the middle of a record: what came before is kept.
    auto cut = dns_parse_response(a.data(), a.size() - 5, q, Family::v6, 443);
    ASSERT_TRUE(cut);
    EXPECT_TRUE(cut->addresses.empty());
}

// ---- Many races on one io_context --------------------------------------------

// Issue 14 item 1: with dns_server, an io_context destroyed while UDP queries
// (and the TCP retry after TC) are pending frees everything: a lookup is
// owned by its pending handlers only, and they go with the context. Races
// abandoned at 0-200 ms, then the context destroyed without stopping the
// race; the fd count must not move (and LSan, under the asan preset, must
// find nothing).
TEST_F(AsioRace, ContextDestroyedWithDnsPendingLeaksNothing) {
    DnsServer dns;
    dns.set("void.test", Family::v6, DnsServer::Answer::silent());
    dns.set("void.test", Family::v4, DnsServer::Answer::silent());
    dns.set_https("void.test", DnsServer::Answer::silent());
    dns.set("slow.test", Family::v6, DnsServer::Answer::nodata(150ms));
    dns.set("slow.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 120ms));
    const int before = eyeballs::test::open_fd_count();
    int completed = 0;
    for (int i = 0; i < 24; ++i) {
        const auto abandon_after = std::chrono::milliseconds((i * 53) % 201);
        {
            net::io_context io;
            adapter::connect_options o;
            o.dns_server = udp_of(dns);
            o.config.https = i % 3 == 0;
            const char* name = i % 2 == 0 ? "void.test" : "slow.test";
            adapter::async_connect(io.get_executor(), name, 9, o,
                                          [&completed](error_code, tcp::socket) { ++completed; });
            io.run_for(abandon_after);
        }  // destroyed with whatever is pending
        EXPECT_EQ(eyeballs::test::open_fd_count(), before) << "race " << i << " abandoned after "
                                                            << abandon_after.count() << " ms";
    }
    EXPECT_LT(completed, 24) << "some races were abandoned with DNS pending";
}

TEST_F(AsioRace, TwoHundredRacesOnOneIoContext) {
    auto pair = bind_loopback_pair();
    RefusedPort refused(std::move(pair.v6));
    Listener open(std::move(pair.v4), 1024);
    net::io_context io;
    constexpr int n = 200;
    std::vector<std::unique_ptr<Race>> races;
    for (int i = 0; i < n; ++i) {
        races.push_back(std::make_unique<Race>());
        Race& r = *races.back();
        adapter::async_connect(io.get_executor(), pair_endpoints(pair.port), r.options(),
                                      r.handler());
    }
    // Accept as they come, so the backlog never fills.
    net::steady_timer drain(io);
    std::function<void()> accept_loop = [&] {
        open.accept_all();
        int done = 0;
        for (auto& r : races) done += r->calls;
        if (done == n) return;
        drain.expires_after(5ms);
        drain.async_wait([&](error_code) { accept_loop(); });
    };
    accept_loop();
    io.run();
    open.accept_all();

    int won_by_v4 = 0;
    for (auto& r : races) {
        ASSERT_TRUE(r->connected()) << r->ec.message() << " " << r->report->message;
        if (r->peer() == loopback_v4(pair.port)) ++won_by_v4;
        expect_clean_trace(*r);
    }
    EXPECT_EQ(won_by_v4, n);
    races.clear();  // close every winner before the fd check
}

// ---- PREF64 discovery (RFC 7050, v3 §8.2) ---------------------------------------------------

// RFC 7050 §3: the prefix is read around 192.0.0.170/171 in the AAAA answer for
// ipv4only.arpa, asked of the explicit server by the adapter's own client;
// from an io_context and from an executor, a callback and use_future.
TEST_F(AsioRace, DiscoversPref64ThroughIpv4onlyArpa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6,
            DnsServer::Answer::with({*Endpoint::parse("2001:db8:64::c000:aa", 0),
                                     *Endpoint::parse("2001:db8:64::c000:ab", 0)}));
    net::io_context io;
    adapter::connect_options o;
    o.dns_server = udp_of(dns);
    int calls = 0;
    error_code ec = net::error::fault;
    eyeballs::Pref64Discovery found;
    adapter::async_discover_pref64(io, o, [&](error_code e, eyeballs::Pref64Discovery r) {
        ++calls;
        ec = e;
        found = std::move(r);
    });
    EXPECT_EQ(calls, 0) << "never inline";
    io.run();
    EXPECT_EQ(calls, 1);
    EXPECT_FALSE(ec) << ec.message();
    ASSERT_TRUE(found.error.empty()) << found.error;
    ASSERT_EQ(found.prefixes.size(), 1u);
    EXPECT_EQ(found.prefixes[0], *eyeballs::Pref64::parse("2001:db8:64::/96"));
    auto qs = dns.wait_for_queries(1);
    ASSERT_FALSE(qs.empty());
    EXPECT_EQ(qs[0].name, "ipv4only.arpa");
    EXPECT_EQ(qs[0].family, Family::v6);

    // /64: the u octet (bits 64-71) is skipped: 192.0.0.170 → c0:0:aa00:0.
    DnsServer dns64;
    dns64.set("ipv4only.arpa", Family::v6,
              DnsServer::Answer::with({*Endpoint::parse("2001:db8:1:2:c0:0:aa00:0", 0)}));
    o.dns_server = udp_of(dns64);
    net::io_context io2;
    auto future = adapter::async_discover_pref64(io2.get_executor(), o, net::use_future);
    io2.run();
    const eyeballs::Pref64Discovery found64 = future.get();
    ASSERT_EQ(found64.prefixes.size(), 1u) << found64.error;
    EXPECT_EQ(found64.prefixes[0], *eyeballs::Pref64::parse("2001:db8:1:2::/64"));
}

// The same from a coroutine: a network without NAT64 is an answer, so the
// co_await does not throw.
TEST_F(AsioRace, DiscoversPref64WithUseAwaitable) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6,
            DnsServer::Answer::with({*Endpoint::parse("2001:db8:64::c000:aa", 0)}));
    DnsServer none;
    none.set("ipv4only.arpa", Family::v6, DnsServer::Answer::nodata());
    net::io_context io;
    eyeballs::Pref64Discovery found;
    eyeballs::Pref64Discovery not_found;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            auto ex = co_await net::this_coro::executor;
            adapter::connect_options o;
            o.dns_server = udp_of(dns);
            found = co_await adapter::async_discover_pref64(ex, o, net::use_awaitable);
            o.dns_server = udp_of(none);
            not_found = co_await adapter::async_discover_pref64(ex, o, net::use_awaitable);
        },
        net::detached);
    io.run();
    ASSERT_EQ(found.prefixes.size(), 1u) << found.error;
    EXPECT_EQ(found.prefixes[0], *eyeballs::Pref64::parse("2001:db8:64::/96"));
    EXPECT_TRUE(not_found.prefixes.empty());
    EXPECT_NE(not_found.error.find("no NAT64"), std::string::npos) << not_found.error;
}

// RFC 7050 §2: no AAAA for ipv4only.arpa means no DNS64, so no NAT64 — an
// answer, not an error code.
TEST_F(AsioRace, NoNat64WhenIpv4onlyArpaHasNoAaaa) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::nodata());
    net::io_context io;
    adapter::connect_options o;
    o.dns_server = udp_of(dns);
    auto future = adapter::async_discover_pref64(io, o, net::use_future);
    io.run();
    const eyeballs::Pref64Discovery found = future.get();
    EXPECT_TRUE(found.prefixes.empty());
    EXPECT_NE(found.error.find("no NAT64"), std::string::npos) << found.error;
}

// A server that never answers: the discovery ends at dns_timeout and says so.
TEST_F(AsioRace, Pref64DiscoveryTimesOutAtTheDnsTimeout) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::silent());
    net::io_context io;
    adapter::connect_options o;
    o.dns_server = udp_of(dns);
    o.dns_timeout = 600ms;
    const auto started = Clock::now();
    eyeballs::Pref64Discovery found;
    Clock::time_point at{};
    adapter::async_discover_pref64(io.get_executor(), o,
                                   [&](error_code, eyeballs::Pref64Discovery r) {
                                       found = std::move(r);
                                       at = Clock::now();
                                   });
    io.run();
    EXPECT_TRUE(found.prefixes.empty());
    EXPECT_NE(found.error.find("ipv4only.arpa: timed out"), std::string::npos) << found.error;
    EXPECT_GE(ms(at - started), 550.0);
    EXPECT_LT(ms(at - started), 1500.0);
}

// Per-operation cancellation: the socket is closed at once and the handler
// gets operation_aborted; an io_context destroyed with the query pending
// frees it without invoking the handler.
TEST_F(AsioRace, Pref64DiscoveryCancels) {
    DnsServer dns;
    dns.set("ipv4only.arpa", Family::v6, DnsServer::Answer::silent());
    adapter::connect_options o;
    o.dns_server = udp_of(dns);
    {
        net::io_context io;
        net::cancellation_signal signal;
        error_code ec;
        eyeballs::Pref64Discovery found;
        int calls = 0;
        adapter::async_discover_pref64(
            io, o,
            net::bind_cancellation_slot(signal.slot(),
                                        [&](error_code e, eyeballs::Pref64Discovery r) {
                                            ++calls;
                                            ec = e;
                                            found = std::move(r);
                                        }));
        net::steady_timer t(io, 50ms);
        t.async_wait([&](error_code) { signal.emit(net::cancellation_type::terminal); });
        const auto started = Clock::now();
        io.run();
        EXPECT_EQ(calls, 1);
        EXPECT_EQ(ec, net::error::operation_aborted);
        EXPECT_NE(found.error.find("cancelled"), std::string::npos) << found.error;
        EXPECT_LT(ms(Clock::now() - started), 1000.0) << "the 5 s query was not waited for";
    }
    int calls = 0;
    {
        net::io_context io;
        adapter::async_discover_pref64(io, o, [&](error_code, eyeballs::Pref64Discovery) {
            ++calls;
        });
        io.run_for(20ms);
    }
    EXPECT_EQ(calls, 0) << "an abandoned operation's handler is destroyed, never invoked";
}

// ---- connect_options::dns_cache: answers kept from race to race (v3 §4.3, §4.4) ----

std::string https_name(const std::string& host, std::uint16_t port) {
    return port == 443 ? host : "_" + std::to_string(port) + "._https." + host;  // RFC 9460 §9.1
}

// The first race asks HTTPS, AAAA and A of dns_server and keeps the answers
// (TTL 60 s); the second race over the same cache is answered from it: the
// machine still issues its three Resolve actions, but no query reaches the
// server.
TEST_F(AsioRace, DnsCacheAnswersTheNextRaceWithoutAQuery) {
    auto pair = bind_loopback_pair();
    Listener open6(std::move(pair.v6));
    Listener open4(std::move(pair.v4));
    DnsServer dns;
    dns.set_https(https_name("cached.test", pair.port),
                  DnsServer::Answer::https_text({"1 . alpn=h2"}));
    // AAAA comes 100 ms late and the Resolution Delay is the longest allowed:
    // the first race starts on the AAAA answer with the A and HTTPS answers
    // already in (answers after a race's end are not cached).
    dns.set("cached.test", Family::v6, DnsServer::Answer::with({loopback_v6()}, 100ms));
    dns.set("cached.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    eyeballs::DnsCache cache;
    Config config;
    config.https = true;
    config.resolution_delay = eyeballs::max_resolution_delay;
    {
        net::io_context io;
        Race first;
        auto o = first.options(config);
        o.dns_server = udp_of(dns);
        o.dns_cache = &cache;
        adapter::async_connect(io.get_executor(), "cached.test", pair.port, o, first.handler());
        io.run();
        ASSERT_TRUE(first.connected()) << first.ec.message() << " " << first.report->message;
    }
    ASSERT_EQ(dns.wait_for_queries(3).size(), 3u);
    EXPECT_EQ(cache.size(), 3u) << "HTTPS, AAAA and A are kept";
    const auto after_first = Clock::now();
    EXPECT_EQ(cache.lookup(https_name("cached.test", pair.port), eyeballs::DnsCache::Type::https,
                           after_first)
                  .state,
              eyeballs::DnsCache::State::fresh);
    EXPECT_EQ(cache.lookup("cached.test", eyeballs::DnsCache::Type::aaaa, after_first).addresses,
              std::vector<Endpoint>{loopback_v6(0)});

    net::io_context io;
    Race second;
    auto o = second.options(config);
    o.dns_server = udp_of(dns);
    o.dns_cache = &cache;
    adapter::async_connect(io.get_executor(), "cached.test", pair.port, o, second.handler());
    io.run();
    ASSERT_TRUE(second.connected()) << second.ec.message() << " " << second.report->message;
    EXPECT_EQ(second.peer(), loopback_v6(pair.port));
    EXPECT_EQ(second.rec.all<eyeballs::Resolve>().size(), 3u) << "the machine asked as usual";
    EXPECT_EQ(dns.wait_for_queries(4, 300ms).size(), 3u) << "the cache answered: no query sent";
    EXPECT_LT(second.elapsed_ms(), 100.0);
    expect_clean_trace(second);
}

// A stale A answer (past its TTL, within max_stale) races at once while the
// query goes out; it is refused (127.0.0.2: nobody listens), the race waits
// for the question still open, and the server's answer (300 ms later)
// replaces it and connects. The new answer is then in the cache, fresh.
TEST_F(AsioRace, DnsCacheStaleAnswerRacesThenIsReplaced) {
    Listener open(loopback_v4(0));
    const std::uint16_t port = open.endpoint().port();
    DnsServer dns;
    dns.set("stale.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("stale.test", Family::v4, DnsServer::Answer::with({loopback_v4()}, 300ms));
    eyeballs::DnsCache cache;
    const Endpoint old_address = loopback_alias(2);
    cache.store("stale.test", Family::v4, {old_address}, 1, Clock::now() - 10s);
    ASSERT_EQ(cache.lookup("stale.test", eyeballs::DnsCache::Type::a, Clock::now()).state,
              eyeballs::DnsCache::State::stale);
    Config config;
    config.https = true;  // handle_stale is a v3 input
    net::io_context io;
    Race r;
    auto o = r.options(config);
    o.dns_server = udp_of(dns);
    o.dns_cache = &cache;
    adapter::async_connect(io.get_executor(), "stale.test", port, o, r.handler());
    io.run();
    ASSERT_TRUE(r.connected()) << r.ec.message() << " " << r.report->message;
    const auto& attempts = r.report->attempts;
    ASSERT_EQ(attempts.size(), 2u);
    auto start_of = [&](std::size_t i) { return attempts[i].started - r.report->started; };
    EXPECT_EQ(attempts[0].remote, old_address.with_port(port)) << "the stale answer raced";
    EXPECT_EQ(attempts[0].state, eyeballs::AttemptRecord::State::failed);
    EXPECT_LT(start_of(0), 300ms) << "before the server's answer";
    EXPECT_EQ(attempts[1].remote, loopback_v4(port));
    EXPECT_GE(start_of(1), 300ms) << "the fresh answer replaced the stale one";
    EXPECT_EQ(r.peer(), loopback_v4(port));
    const auto after = cache.lookup("stale.test", eyeballs::DnsCache::Type::a, Clock::now());
    EXPECT_EQ(after.state, eyeballs::DnsCache::State::fresh);
    EXPECT_EQ(after.addresses, std::vector<Endpoint>{loopback_v4(0)});
    std::size_t a_queries = 0;
    for (const auto& q : dns.queries()) a_queries += q.name == "stale.test" && q.type == 1;
    EXPECT_EQ(a_queries, 1u) << "the stale answer did not stop the query";
}

// A failed re-query (SERVFAIL) keeps the stale addresses: they stay in the
// race (and win here, 127.0.0.1 listening) and in the cache for next time
// (RFC 8767: an unreachable server does not make a name disappear).
TEST_F(AsioRace, DnsCacheFailedQueryKeepsTheStaleAnswer) {
    Listener open(loopback_v4(0));
    const std::uint16_t port = open.endpoint().port();
    DnsServer dns;
    dns.set("kept.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("kept.test", Family::v4, DnsServer::Answer::servfail());
    eyeballs::DnsCache cache;
    cache.store("kept.test", Family::v4, {loopback_v4(0)}, 1, Clock::now() - 10s);
    Config config;
    config.https = true;
    net::io_context io;
    Race r;
    auto o = r.options(config);
    o.dns_server = udp_of(dns);
    o.dns_cache = &cache;
    adapter::async_connect(io.get_executor(), "kept.test", port, o, r.handler());
    io.run();
    ASSERT_TRUE(r.connected()) << r.ec.message() << " " << r.report->message;
    EXPECT_EQ(r.peer(), loopback_v4(port));
    const auto after = cache.lookup("kept.test", eyeballs::DnsCache::Type::a, Clock::now());
    EXPECT_EQ(after.state, eyeballs::DnsCache::State::stale) << "SERVFAIL changed nothing";
    EXPECT_EQ(after.addresses, std::vector<Endpoint>{loopback_v4(0)});
}

// ---- connect_options::alt_svc_cache: the origin's Alt-Svc alternatives (RFC 7838, v3 §6.2) ----

// https://alt.test:PORT refuses; the cache holds h2=":ALT" for that origin.
// The race given the cache connects to ALT's listener (an alt-svc service,
// ranked first); the same race without it fails on the refused origin and
// ALT's listener sees nothing; a config.alt_svc the caller gives (h2=":OWN")
// wins over the cache. The names are raced with config.https, so the server
// answers the HTTPS question (NODATA).
TEST_F(AsioRace, AltSvcCacheAlternativesJoinTheRace) {
    RefusedPort origin(loopback_v4(0));
    const std::uint16_t port = origin.endpoint().port();
    Listener alt(loopback_v4(0));
    Listener own(loopback_v4(0));
    DnsServer dns;
    dns.set_https(https_name("alt.test", port), DnsServer::Answer::nodata());
    dns.set("alt.test", Family::v6, DnsServer::Answer::nodata());
    dns.set("alt.test", Family::v4, DnsServer::Answer::with({loopback_v4()}));
    eyeballs::AltSvcCache cache;
    std::string error;
    ASSERT_TRUE(cache.store({"https", "alt.test", port},
                            "h2=\":" + std::to_string(alt.endpoint().port()) + "\"", Clock::now(),
                            &error))
        << error;
    Config config;
    config.https = true;
    net::io_context io;  // before the races: their sockets go first
    auto race = [&](Race& r, const Config& c, const eyeballs::AltSvcCache* with) {
        auto o = r.options(c);
        o.dns_server = udp_of(dns);
        o.alt_svc_cache = with;
        adapter::async_connect(io.get_executor(), "alt.test", port, o, r.handler());
        io.restart();
        io.run();
    };
    Race with_cache;
    race(with_cache, config, &cache);
    ASSERT_TRUE(with_cache.connected())
        << with_cache.ec.message() << " " << with_cache.report->message;
    EXPECT_EQ(with_cache.peer(), alt.endpoint());
    EXPECT_EQ(with_cache.report->source, eyeballs::ServiceSource::alt_svc);
    EXPECT_EQ(alt.accept_all(), 1);
    EXPECT_EQ(own.accept_all(), 0);
    expect_clean_trace(with_cache);

    Race without;
    race(without, config, nullptr);
    EXPECT_FALSE(without.connected()) << "only the refused origin was raced";
    EXPECT_EQ(without.report->outcome, eyeballs::Outcome::failed);
    EXPECT_EQ(alt.accept_all(), 0);

    Config mine = config;
    const auto value =
        eyeballs::parse_alt_svc("h2=\":" + std::to_string(own.endpoint().port()) + "\"", &error);
    ASSERT_TRUE(value) << error;
    mine.alt_svc = value->alternatives;
    Race explicit_list;
    race(explicit_list, mine, &cache);
    ASSERT_TRUE(explicit_list.connected())
        << explicit_list.ec.message() << " " << explicit_list.report->message;
    EXPECT_EQ(explicit_list.peer(), own.endpoint()) << "the caller's list wins";
    EXPECT_EQ(own.accept_all(), 1);
    EXPECT_EQ(alt.accept_all(), 0);
}

}  // namespace
