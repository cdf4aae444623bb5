// SPDX-License-Identifier: BSL-1.0
// eyeballs — History: what past races learned about each destination.
//
// RFC 8305 §4: "If the client is stateful and has a history of expected
// round-trip times (RTTs) for the routes to access each address, it SHOULD
// add a Destination Address Selection rule between rules 8 and 9 that prefers
// addresses with lower RTTs." RFC 8305 §5 lets the Connection Attempt Delay
// follow the same history. A History is that memory: per destination address,
// a smoothed RTT and the latest outcome.
//
// - Partitioned by network. Every call names a network id (a string the caller
//   chooses, e.g. the interface and the SSID); the empty string is the default
//   network, the one a race uses when it names none. What was learned on one
//   network is never used on another: lookups see only their own network.
// - Keyed on the address only (family, address bytes, scope id), not the port:
//   RFC 8305 §4 speaks of the RTTs "to access each address", and the path to
//   an address is the same for every port.
// - Bounded: at most `capacity` entries over all networks; recording into a
//   full history evicts the least recently recorded entry. Lookups are const
//   and do not count as use.
// - Pure: no clock reads; the caller passes `when` (kept for its own use, e.g.
//   to ignore old entries). Deterministic: the same calls give the same state.
// - Not thread-safe: a History is a plain value. Adapters that share one
//   across threads must hold a lock around every call.
#pragma once

#include <cstddef>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/report.hpp"

namespace eyeballs {

class History {
public:
    /// What is known about one destination address on one network.
    struct Entry {
        /// Smoothed RTT over successful connects (RFC 6298 §2.2/§2.3 SRTT):
        /// the first sample R sets it to R; each later sample R' makes it
        /// 7/8 SRTT + 1/8 R' (alpha = 1/8), in whole nanoseconds (the step
        /// (R' - SRTT)/8 is truncated toward zero). Empty until a success.
        std::optional<Duration> srtt;
        /// RTT variation (RFC 6298 §2.2/§2.3 RTTVAR): R/2 at the first sample,
        /// then 3/4 RTTVAR + 1/4 |SRTT - R'| (beta = 1/4, with the SRTT from
        /// before the sample, as §2.3 orders). SRTT + 4 RTTVAR is RFC 6298's
        /// RTO, which is 3 R after one sample.
        std::optional<Duration> rttvar;
        /// The most recent RTT sample.
        std::optional<Duration> latest_rtt;
        std::uint32_t successes = 0;
        std::uint32_t failures = 0;
        /// Failures since the last success.
        std::uint32_t consecutive_failures = 0;
        /// True when the latest record was a failure.
        bool last_failed = false;
        std::optional<TimePoint> last_success;
        std::optional<TimePoint> last_failure;
    };

    /// Capacity used by the default constructor.
    static constexpr std::size_t default_capacity = 1024;

    /// A history of at most `capacity` entries (0 keeps nothing).
    explicit History(std::size_t capacity = default_capacity);

    // ---- Inputs -----------------------------------------------------------

    /// A connect to `address` succeeded after `rtt` (a negative rtt counts as
    /// 0). The port of `address` is ignored.
    void record_success(std::string_view network, const Endpoint& address, Duration rtt,
                        TimePoint when);
    /// A connect to `address` failed (refused, unreachable, timed out).
    void record_failure(std::string_view network, const Endpoint& address, TimePoint when);

    // ---- Queries ----------------------------------------------------------

    /// The entry for `address` on `network`, if any.
    std::optional<Entry> lookup(std::string_view network, const Endpoint& address) const;
    /// The RTT to expect for `address` on `network`: its SRTT, or nullopt when
    /// no connect to it has succeeded, or when the latest one failed (an
    /// address that just failed is not expected to answer in its old time).
    /// This is the lookup for sort_destinations' RTT rule and for the
    /// attempt-delay=auto rule.
    std::optional<Duration> rtt(std::string_view network, const Endpoint& address) const;

    /// Entries over all networks.
    std::size_t size() const noexcept { return entries_.size(); }
    /// The most entries it keeps (given at construction).
    std::size_t capacity() const noexcept { return capacity_; }
    /// Entries on one network.
    std::size_t size(std::string_view network) const;

    // ---- Commands ---------------------------------------------------------

    /// Forgets everything.
    void clear() noexcept;
    /// Forgets one network's entries, e.g. when the host leaves it or its
    /// addresses change.
    void clear_network(std::string_view network);

    // ---- v3 §5.3: used addresses and the network the host is attached to --

    /// True when a connect to `address` on `network` has succeeded at least
    /// once (v3 §5.3's used-before sorting rule), even if a later one failed.
    bool used(std::string_view network, const Endpoint& address) const;

    /// How attach() treats a network change.
    enum class Attach : std::uint8_t {
        flush,   ///< forget everything: network ids do not reliably name a PvD
        resume,  ///< keep every network's entries: ids reliably name a PvD
    };
    /// The host is now attached to `network` (v3 §5.3: history "SHOULD be
    /// flushed whenever a device changes the PvD to which it is attached.
    /// However, if a client can reliably identify a previously attached PvD,
    /// it MAY retain ... historical data"). When `network` differs from the
    /// network attached before, `flush` forgets every entry (of every
    /// network: an id that is not reliable may come back naming another
    /// network) and `resume` keeps them (each network still sees only its
    /// own). The first attach, and attaching to the same network again,
    /// forget nothing. Returns how many entries were forgotten.
    std::size_t attach(std::string_view network, Attach mode = Attach::flush);
    /// The network of the latest attach(); nullopt before the first.
    const std::optional<std::string>& attached() const noexcept { return attached_; }

    // ---- v3 §5.3 convergence -------------------------------------------------

    /// Counts the races that take this history (RaceMachine's constructor
    /// calls it once per race): returns how many came before. The count,
    /// mixed with Config::shuffle_seed, decides which races sort without the
    /// history (Config::history_explore), so that a caller who never varies
    /// the seed still has its races explore now and then. clear() keeps it.
    std::uint64_t next_race() noexcept { return races_++; }

    // ---- "QUIC is broken on this network" (issue 17 item 8) -----------------
    //
    // Per network, not per address: a network that drops UDP or QUIC does so
    // for every destination. A race records it when a TCP attempt wins after
    // a QUIC attempt failed without a reply (RaceMachine, Config::quic). While
    // marked, races on that network do not put QUIC endpoints first. The mark
    // lasts quic_broken_base × 2^(n-1) for the n-th mark in a row (n capped so
    // the doubling stops at quic_broken_max_shift), as Chromium's
    // net/http/broken_alternative_services.cc does for a broken alternative
    // service (300 s, base-2 backoff, shift limited to 9: about two days). A
    // QUIC win on the network forgets the mark and the count.

    static constexpr Duration quic_broken_base = std::chrono::minutes(5);
    static constexpr std::uint32_t quic_broken_max_shift = 9;

    /// QUIC failed on `network` at `when` while TCP worked: marks it broken
    /// until when + the backoff (the n-th mark in a row doubles it).
    void record_quic_broken(std::string_view network, TimePoint when);
    /// A QUIC attempt won on `network`: the mark and its count are forgotten.
    void record_quic_working(std::string_view network);
    /// Whether QUIC is marked broken on `network` at `now`.
    bool quic_broken(std::string_view network, TimePoint now) const;
    /// Until when QUIC is marked broken on `network` (nullopt: never marked,
    /// or forgotten); the mark may have expired already.
    std::optional<TimePoint> quic_broken_until(std::string_view network) const;
    /// Marks in a row on `network` (0 when none).
    std::uint32_t quic_broken_count(std::string_view network) const;

private:
    using Key = std::pair<std::string, Endpoint>;  // network, address with port 0
    struct Slot {
        Entry entry;
        std::uint64_t stamp = 0;  // when it was last recorded, in record order
    };

    static Key make_key(std::string_view network, const Endpoint& address);
    Entry* touch(std::string_view network, const Endpoint& address);

    std::size_t capacity_;
    std::uint64_t clock_ = 0;  // counts records; not time
    std::uint64_t races_ = 0;  // next_race()
    std::map<Key, Slot> entries_;
    std::map<std::uint64_t, Key> recency_;  // stamp -> key, oldest first
    std::optional<std::string> attached_;   // attach(): the current network

    struct QuicMark {
        TimePoint until{};
        std::uint32_t count = 0;  // marks in a row
    };
    std::map<std::string, QuicMark, std::less<>> quic_;  // network -> mark (history_quic.cpp)
};

}  // namespace eyeballs
