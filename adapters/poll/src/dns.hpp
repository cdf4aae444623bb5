// eyeballs::poll — internal: c-ares driven from the adapter's own poll loop.
#pragma once

#include <poll.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/poll.hpp"

namespace eyeballs::poll::detail {

/// One family's answer, ready to be fed to the machine.
struct DnsAnswer {
    Family family = Family::v6;
    std::vector<Endpoint> addresses;  ///< empty when negative
    int code = 0;                     ///< errno for handle_resolve_failed, 0 = none
    std::string detail;               ///< c-ares' text; empty = no data
    bool negative() const noexcept { return addresses.empty(); }
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

    /// Asks for AAAA (v6) or A (v4). The total timeout runs from the first call.
    void query(Family family, TimePoint now);
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
