// SPDX-License-Identifier: BSL-1.0
// eyeballs::poll — internal: c-ares driven from the adapter's own poll loop.
#pragma once

#include <poll.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/poll.hpp"
#include "eyeballs/svcb.hpp"

namespace eyeballs::poll::detail {

/// One query's answer, ready to be fed to the machine.
struct DnsAnswer {
    Family family = Family::v6;
    bool https = false;               ///< an HTTPS (type 65) query
    std::string name;                 ///< the Resolve's name: "" = the origin
    std::vector<Endpoint> addresses;  ///< address query: empty when negative
    std::vector<SvcbRecord> records;  ///< HTTPS query: empty = no data
    bool failed = false;              ///< HTTPS query: failed (NXDOMAIN, SERVFAIL, timeout...)
    int code = 0;                     ///< errno for handle_resolve_failed, 0 = none
    std::string detail;               ///< c-ares' text; empty = no data
    DnsError dns = DnsError::none;    ///< the failure's DNS class (eyeballs/error.hpp)
    std::string qname;                ///< the name asked on the wire (query_name())
    std::uint32_t ttl = 0;            ///< positive answer: its TTL in seconds (DnsCache)
    bool cached = false;              ///< from DnsOptions::cache, fresh: not to be stored again
    bool stale = false;               ///< from DnsOptions::cache, stale: RaceMachine::handle_stale(_https)
    bool negative() const noexcept { return https ? failed : addresses.empty(); }
    /// The Resolve action this answers (its name views this answer's `name`).
    Resolve query() const noexcept { return Resolve(family, https, name); }
};

/// A c-ares channel whose sockets and timeouts the caller polls. Answers are
/// collected (never fed from inside c-ares' callbacks) and taken with
/// take_answers().
class Resolver {
public:
    Resolver(const DnsOptions& options, std::string host, std::uint16_t port);
    ~Resolver();
    Resolver(const Resolver&) = delete;
    Resolver& operator=(const Resolver&) = delete;

    /// Asks for AAAA (v6) or A (v4) of the origin. The total timeout runs
    /// from the first query.
    void query(Family family, TimePoint now) { query(Resolve(family), now); }
    /// Asks what the action says: AAAA or A, or HTTPS records (a raw type-65
    /// query read by eyeballs/dns_message.hpp), of the origin or of the
    /// action's name (copied).
    void query(const Resolve& resolve, TimePoint now);
    /// True while a query is outstanding.
    bool busy() const noexcept;
    /// Appends c-ares' sockets with the events it waits for; returns how many.
    std::size_t add_pollfds(std::vector<pollfd>& fds) const;
    /// The earliest of c-ares' own timeout and the total timeout.
    std::optional<TimePoint> next_timeout(TimePoint now) const;
    /// Lets c-ares read/write the given ready sockets and handle its timeouts,
    /// then fails what has outlived the total timeout.
    void process(const pollfd* fds, std::size_t count, TimePoint now);
    /// The answers collected so far, in arrival order.
    std::vector<DnsAnswer> take_answers();

    struct State;

private:
    std::unique_ptr<State> state_;
};

}  // namespace eyeballs::poll::detail
