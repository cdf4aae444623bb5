// SPDX-License-Identifier: BSL-1.0
// eyeballs integration-test support: real sockets on loopback.
//
// Shared by the poll, Asio and libevent integration tests (static library
// `eyeballs_test_support`, include "support.hpp"). Everything here lives on
// the loopback interface and needs no root:
//
//   Listener     a listening socket: connects to it succeed (the kernel
//                completes the handshake; accept_all() takes them).
//   Blackhole    a listener with listen(0) whose accept queue is already
//                full, so further SYNs are dropped: connects hang silently,
//                like a path that eats packets.
//   RefusedPort  a socket bound but not listening: connects are answered
//                with RST (ECONNREFUSED), and the port stays reserved.
//   bind_loopback_pair()  one port number bound on both [::1] and 127.0.0.1,
//                for `--resolve host:P:[::1],127.0.0.1`-style races.
//   open_fd_count() / FdLeakTest  the count of /proc/self/fd entries, and a
//                gtest fixture that fails a test whose fd count changed.
//   DnsServer    a tiny DNS server on 127.0.0.1 (own thread; UDP, and TCP on
//                the same port) answering AAAA, A and HTTPS (RFC 9460) for
//                chosen names after chosen delays, with addresses or HTTPS
//                records, NODATA, NXDOMAIN, SERVFAIL, REFUSED, silence, a TC
//                answer over UDP, or any bytes a test builds (the fault
//                suite's misbehaving server; messages by
//                eyeballs/dns_message.hpp).
//
// Helpers throw std::runtime_error (with the errno text) when a socket call
// fails, so a broken fixture fails the test loudly instead of skipping it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/svcb.hpp"

namespace eyeballs::test {

using Millis = std::chrono::milliseconds;

/// An owned file descriptor, closed when destroyed.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept {
        if (this != &other) reset(other.release());
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }
    int release() noexcept {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }
    void reset(int fd = -1) noexcept;

private:
    int fd_ = -1;
};

/// [::1]:port and 127.0.0.1:port.
Endpoint loopback_v6(std::uint16_t port = 0);
Endpoint loopback_v4(std::uint16_t port = 0);

/// True when [::1] can be bound (some containers disable IPv6).
bool ipv6_loopback_available();

/// A TCP socket bound to `at` (port 0 = a free one), not listening, blocking.
Fd bind_tcp(const Endpoint& at);
/// The address a socket is bound to.
Endpoint bound_endpoint(int fd);

/// The same port bound on [::1] and on 127.0.0.1 (two sockets, not listening).
struct LoopbackPair {
    Fd v6;
    Fd v4;
    std::uint16_t port = 0;
};
LoopbackPair bind_loopback_pair();

/// Connects succeed: the socket listens with a roomy backlog.
class Listener {
public:
    explicit Listener(const Endpoint& at, int backlog = 64);
    explicit Listener(Fd bound, int backlog = 64);
    Endpoint endpoint() const { return endpoint_; }
    int fd() const { return fd_.get(); }
    /// Accepts every pending connection, closes them, returns how many.
    int accept_all();

private:
    Fd fd_;
    Endpoint endpoint_;
};

/// Connects hang: listen(0) and an accept queue filled by our own client, so
/// the kernel drops every further SYN. The constructor checks that a probe
/// connect really stays pending and throws if it does not.
class Blackhole {
public:
    explicit Blackhole(const Endpoint& at);
    explicit Blackhole(Fd bound);
    Endpoint endpoint() const { return endpoint_; }
    /// Starts a non-blocking connect and reports whether it is still pending
    /// after `wait` (true = SYNs are dropped).
    bool drops(Millis wait) const;

private:
    void fill();
    Fd fd_;
    Endpoint endpoint_;
    std::vector<Fd> fillers_;
};

/// Connects are refused: bound, never listening. Holds the port.
class RefusedPort {
public:
    explicit RefusedPort(const Endpoint& at);
    explicit RefusedPort(Fd bound);
    Endpoint endpoint() const { return endpoint_; }

private:
    Fd fd_;
    Endpoint endpoint_;
};

/// Entries in /proc/self/fd (the directory's own fd not counted).
int open_fd_count();

/// A fixture that fails the test when the number of open fds after it differs
/// from the number before it. Declare sockets and servers inside the test body
/// so they are gone before TearDown.
class FdLeakTest : public ::testing::Test {
protected:
    void SetUp() override { fds_before_ = open_fd_count(); }
    void TearDown() override {
        EXPECT_EQ(open_fd_count(), fds_before_) << "file descriptors leaked (or closed twice)";
    }

private:
    int fds_before_ = 0;
};

/// A UDP DNS server on 127.0.0.1 that answers from a table, on its own thread.
/// Names are matched without case and without a trailing dot. A name not in
/// the table gets NXDOMAIN; a listed name without an entry for the asked type
/// (AAAA, A, HTTPS; any other type) gets NODATA. Answers echo the query's id,
/// RD bit and question, set AA and RA, and own their records by a pointer to
/// the question's name. Packets that are not one-question queries are ignored.
class DnsServer {
public:
    struct Answer {
        enum class Kind { addresses, records, nodata, nxdomain, servfail, silent, refused, raw };
        /// Kind::raw: the bytes of the answer to the query in query[0, size),
        /// over TCP when `tcp` (without the length prefix); empty = no answer.
        using RawFn = std::function<std::vector<std::uint8_t>(const std::uint8_t* query,
                                                              std::size_t size, bool tcp)>;
        Kind kind = Kind::nodata;
        std::vector<Endpoint> addresses;  ///< ports ignored
        Millis delay{0};
        std::vector<SvcbRecord> records;  ///< HTTPS answers (Kind::records)
        RawFn raw;                        ///< Kind::raw
        /// Over UDP, answer with TC set and no records (the whole answer
        /// comes over TCP). Answers longer than the query's EDNS0 size (512
        /// without OPT) get TC over UDP anyway, as a real server does.
        bool truncate_udp = false;

        static Answer with(std::vector<Endpoint> addresses, Millis delay = Millis(0));
        /// HTTPS records, in this order (for set_https).
        static Answer https(std::vector<SvcbRecord> records, Millis delay = Millis(0));
        /// The same from presentation forms ("1 . alpn=h3,h2 port=8443"), read
        /// by parse_svcb_presentation; throws std::invalid_argument for a bad one.
        static Answer https_text(const std::vector<std::string>& presentation,
                                 Millis delay = Millis(0));
        static Answer nodata(Millis delay = Millis(0));
        static Answer nxdomain(Millis delay = Millis(0));
        static Answer servfail(Millis delay = Millis(0));
        static Answer silent();
        static Answer refused(Millis delay = Millis(0));
        static Answer bytes(RawFn fn);
    };
    struct Query {
        std::string name;
        Family family;  ///< AAAA = v6, A = v4 (other types, HTTPS too, are logged as v4 with type)
        std::uint16_t type;
        std::chrono::steady_clock::time_point at;
    };

    DnsServer();
    /// The same server bound to `at` (e.g. [::1]:53; port 0: a free port).
    explicit DnsServer(const Endpoint& at);
    ~DnsServer();
    DnsServer(const DnsServer&) = delete;
    DnsServer& operator=(const DnsServer&) = delete;

    /// 127.0.0.1:port, or the constructor's address (UDP, and TCP on the
    /// same port for retries after TC).
    Endpoint endpoint() const { return endpoint_; }
    /// How many TCP connections were served.
    int tcp_queries() const { return tcp_count_.load(); }
    /// Sets how `name` is answered for `family` (AAAA for v6, A for v4).
    void set(const std::string& name, Family family, Answer answer);
    /// Sets how `name` is answered for HTTPS (type 65): Answer::https(...),
    /// nodata, nxdomain, servfail or silent, each with its delay.
    void set_https(const std::string& name, Answer answer);
    /// Every query received so far, in arrival order.
    std::vector<Query> queries() const;
    /// queries(), once at least `count` have arrived or `limit` has passed.
    std::vector<Query> wait_for_queries(std::size_t count,
                                        std::chrono::milliseconds limit = std::chrono::seconds(2)) const;

private:
    struct Pending {
        std::chrono::steady_clock::time_point due;
        std::vector<std::uint8_t> packet;
        std::vector<std::uint8_t> peer;  // sockaddr bytes
    };
    void run();
    void on_packet(const std::uint8_t* data, std::size_t size, const void* peer,
                   unsigned peer_len);
    /// The answer to a query (logged), nullopt for none; `delay` is set.
    std::optional<std::vector<std::uint8_t>> respond(const std::uint8_t* data, std::size_t size,
                                                     bool tcp, Millis* delay);
    void serve_tcp();

    Fd tcp_;
    std::atomic<int> tcp_count_{0};

    Fd sock_;
    Fd wake_;
    Endpoint endpoint_;
    mutable std::mutex mu_;
    std::map<std::pair<std::string, Family>, Answer> table_;
    std::map<std::string, Answer> https_table_;
    std::map<std::string, bool> names_;
    std::vector<Query> queries_;
    std::vector<Pending> pending_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace eyeballs::test
