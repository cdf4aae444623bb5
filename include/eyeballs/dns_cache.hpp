// SPDX-License-Identifier: BSL-1.0
// eyeballs — DnsCache: DNS answers kept from race to race with their TTLs,
// served fresh, or stale while a new answer is asked for (Happy Eyeballs v3
// §4.3, §4.4; RFC 8767; issue 17 item 9).
//
// An adapter that sends its own queries looks each question up first:
//   fresh   (now < received + TTL): the answer, no query;
//   stale   (past the TTL, but less than max_stale past it): the answer may
//           be raced at once (RaceMachine::handle_stale) while the query goes
//           out; the new answer replaces it (v3 §4.4, §7);
//   missing (never stored, forgotten, or stale for max_stale or longer):
//           ask as usual.
// Each positive answer that comes back is stored with its TTL.
//
// - Keyed by (name, type): the name as asked on the wire (query_name(), so
//   `_8443._https.www.example` is its own key), compared without ASCII case
//   and without a trailing dot; type AAAA, A or HTTPS.
// - TTL: the smallest TTL of the records used for the answer (the CNAME
//   chain's too), in seconds. TTL 0 is not cached (RFC 1035 §3.2.1: "zero
//   values are interpreted to mean that the RR can only be used for the
//   transaction in progress").
// - max_stale: how long past its TTL an answer may still be served stale.
//   RFC 8767 §4 suggests a maximum stale timer of 1 to 3 days for
//   resolvers; the default is the low end, one day: a client serves a stale
//   answer only to race it while it asks again, and a day covers a network
//   that was left overnight. Duration::zero() turns stale serving off.
// - Only positive answers are kept: storing an empty answer forgets the
//   entry (the name has no such records now). Failures (SERVFAIL, timeouts)
//   change nothing: the adapter does not store them, and a stale entry stays
//   for the next race (RFC 8767's point: an unreachable server does not
//   make a name disappear).
// - Bounded: at most `capacity` entries; storing a new one into a full cache
//   evicts the one stored least recently.
// - Pure: no clock reads (the caller passes `now`), deterministic, a plain
//   copyable value, not thread-safe (hold a lock to share one).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/svcb.hpp"
#include "eyeballs/time.hpp"

namespace eyeballs {

class DnsCache {
public:
    /// The question's type.
    enum class Type : std::uint8_t { aaaa, a, https };
    /// The type a Resolve action asks for.
    static Type type_of(const Resolve& query) noexcept {
        return query.https ? Type::https : query.family == Family::v6 ? Type::aaaa : Type::a;
    }

    enum class State : std::uint8_t { missing, fresh, stale };
    struct Answer {
        State state = State::missing;
        std::vector<Endpoint> addresses;  ///< AAAA / A, port 0, as stored
        std::vector<SvcbRecord> records;  ///< HTTPS, as stored
        TimePoint expires{};              ///< received + TTL
    };

    static constexpr std::size_t default_capacity = 1024;
    /// RFC 8767 §4: 1 to 3 days suggested; the low end (see above).
    static constexpr Duration default_max_stale = std::chrono::hours(24);

    /// A cache of at most `capacity` entries (0 keeps nothing) serving
    /// answers up to `max_stale` past their TTL (negative counts as 0).
    explicit DnsCache(std::size_t capacity = default_capacity,
                      Duration max_stale = default_max_stale);

    // ---- Inputs -----------------------------------------------------------

    /// An AAAA (v6) or A (v4) answer for `name`, received at `now` with `ttl`
    /// seconds. Addresses of the other family are left out and ports are set
    /// to 0; an empty answer, or TTL 0, forgets the entry.
    void store(std::string_view name, Family family, const std::vector<Endpoint>& addresses,
               std::uint32_t ttl, TimePoint now);
    /// An HTTPS answer for `name` (the name asked: `_8443._https.HOST` off
    /// port 443); empty, or TTL 0, forgets the entry.
    void store_https(std::string_view name, const std::vector<SvcbRecord>& records,
                     std::uint32_t ttl, TimePoint now);

    // ---- Queries ----------------------------------------------------------

    /// The answer for (name, type) at `now`: fresh while now < expires,
    /// stale while now < expires + max_stale, else missing (no data).
    Answer lookup(std::string_view name, Type type, TimePoint now) const;

    /// The answer a race may use for one of its questions (a Resolve
    /// action; `name` is its query_name()), the one rule every adapter and
    /// the C API follow: fresh — feed it and send no query; stale — race it
    /// while the query goes out (RaceMachine::handle_stale for an address
    /// question, handle_stale_https with the records for the HTTPS one), but
    /// only in a race with Config::https (`https_race`): an RFC 8305 race
    /// takes one answer per question, so there a stale answer is missing;
    /// missing — ask as usual.
    Answer lookup_for_race(std::string_view name, const Resolve& question, bool https_race,
                           TimePoint now) const;

    std::size_t size() const noexcept { return entries_.size(); }
    std::size_t capacity() const noexcept { return capacity_; }
    Duration max_stale() const noexcept { return max_stale_; }

    // ---- Commands ---------------------------------------------------------

    /// Forgets the entries that can no longer be served (stale for
    /// max_stale or longer at `now`). Returns how many.
    std::size_t expire(TimePoint now);
    /// Forgets one question's answer.
    void forget(std::string_view name, Type type);
    /// A query for (name, type) failed on the wire with `error`: NODATA and
    /// NXDOMAIN (the name has no such records now) forget the entry; any
    /// other failure (SERVFAIL, a timeout, ...) keeps it, so its stale answer
    /// is there for the next race (RFC 8767 §4).
    void record_failure(std::string_view name, Type type, DnsError error);
    /// Forgets everything (e.g. on a network change: answers can differ by
    /// network, as split-horizon DNS and DNS64 make them).
    void clear() noexcept;

private:
    using Key = std::pair<std::string, Type>;
    struct Slot {
        Answer answer;  // state unused here
        std::uint64_t stamp = 0;
    };

    static Key make_key(std::string_view name, Type type);
    void put(Key key, Answer answer);

    std::size_t capacity_;
    Duration max_stale_;
    std::uint64_t clock_ = 0;  // counts stores; not time
    std::map<Key, Slot> entries_;
    std::map<std::uint64_t, Key> recency_;
};

}  // namespace eyeballs
