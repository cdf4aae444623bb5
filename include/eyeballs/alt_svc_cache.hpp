// SPDX-License-Identifier: BSL-1.0
// eyeballs — AltSvcCache: the alternative services an origin advertised,
// kept from race to race (RFC 7838 §2, §3, §3.1; issue 17 item 9).
//
// A client that got `Alt-Svc: h3=":443"; ma=3600` from an origin stores it
// here and, on the next connection to the same origin, passes what is still
// fresh to the race (Config::alt_svc = cache.lookup(origin, now)).
//
// - Keyed by origin: (scheme, host, port) — RFC 7838 §2 speaks of the
//   alternatives "for an origin" (RFC 6454: scheme, host, port). The host is
//   compared without regard to ASCII case (DNS names are case-insensitive).
// - A field value replaces: RFC 7838 §3, a received Alt-Svc value
//   "invalidates and replaces all cached alternative services for that
//   origin"; `clear` forgets them all.
// - Freshness (§3.1 `ma`): an alternative received at `t` with `ma=N` is
//   fresh while now < t + N seconds; at t + N exactly it is expired (as in
//   RFC 9111 §4.2: fresh when the lifetime is greater than the age). `ma`
//   defaults to 86400 (the parser fills it in); `ma=0` is never fresh. The
//   caller passes `received` as the time the response was generated, as far
//   as it knows (its arrival time minus any Age header, §3.1).
// - Network changes (§3.1 `persist`): "clients SHOULD remove from cache all
//   alternative services that lack the persist flag" when the network
//   changes. attach() takes the same network id as Config::network and
//   History::attach: moving to another network drops every alternative
//   without `persist=1`.
// - Bounded: at most `capacity` origins; storing a new origin into a full
//   cache evicts the origin stored least recently. At most
//   max_alternatives (Config::alt_svc's limit) alternatives per origin: the
//   first ones in the server's order are kept.
// - Pure: no clock reads (every time is the caller's), deterministic, a
//   plain copyable value, not thread-safe (hold a lock to share one).
//
// The adapters read it themselves (their `alt_svc_cache` option, beside
// `dns_cache`; HEv3 §6.2 "consistent with Alt-Svc"): alternatives_for_race()
// below is the rule they share, so a race is given the same alternatives by
// every adapter and by the C API's eyeballs_alt_svc_cache_apply().
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "eyeballs/alt_svc.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/overrides.hpp"
#include "eyeballs/time.hpp"

namespace eyeballs {

/// An origin (RFC 6454 §4): the scheme ("https"), host and port a client
/// connected to.
struct AltSvcOrigin {
    std::string scheme;
    std::string host;
    std::uint16_t port = 443;
};

class AltSvcCache {
public:
    /// Origins kept by the default constructor.
    static constexpr std::size_t default_capacity = 256;
    /// Alternatives kept per origin: Config::alt_svc takes at most 64.
    static constexpr std::size_t max_alternatives = 64;

    /// A cache of at most `capacity` origins (0 keeps nothing).
    explicit AltSvcCache(std::size_t capacity = default_capacity);

    // ---- Inputs -----------------------------------------------------------

    /// `origin` sent an Alt-Svc field with this value, generated at
    /// `received`: its alternatives replace the origin's (a `clear` value, or
    /// one whose alternatives are all `ma=0`, forgets the origin).
    void store(const AltSvcOrigin& origin, const AltSvcValue& value, TimePoint received);
    /// The same from the field's text; a value that does not parse changes
    /// nothing and returns false with parse_alt_svc's message in `error`.
    bool store(const AltSvcOrigin& origin, std::string_view field, TimePoint received,
               std::string* error = nullptr);

    /// The host is now attached to `network` (the id Config::network and
    /// History::attach take). When it differs from the network attached
    /// before, every alternative without `persist=1` is forgotten (RFC 7838
    /// §3.1). The first attach, and the same network again, forget nothing.
    /// Returns how many alternatives were forgotten.
    std::size_t attach(std::string_view network);
    /// The network of the latest attach(); nullopt before the first.
    const std::optional<std::string>& attached() const noexcept { return attached_; }

    // ---- Queries ----------------------------------------------------------

    /// The origin's alternatives still fresh at `now`, in the server's order,
    /// ready for Config::alt_svc. Each one's max_age is the whole seconds it
    /// stays fresh, rounded up (so never 0 for a fresh one).
    std::vector<AltSvc> lookup(const AltSvcOrigin& origin, TimePoint now) const;

    /// Origins held (expired alternatives count until expire() or a store).
    std::size_t size() const noexcept { return origins_.size(); }
    /// Alternatives held over all origins.
    std::size_t alternatives() const noexcept;
    std::size_t capacity() const noexcept { return capacity_; }

    // ---- Commands ---------------------------------------------------------

    /// Forgets the alternatives expired at `now`, and origins left with none.
    /// Returns how many alternatives were forgotten.
    std::size_t expire(TimePoint now);
    /// Forgets one origin's alternatives (what `Alt-Svc: clear` does).
    void clear(const AltSvcOrigin& origin);
    /// Forgets everything.
    void clear() noexcept;

private:
    using Key = std::tuple<std::string, std::string, std::uint16_t>;  // scheme, host, port
    struct Stored {
        AltSvc alt;
        TimePoint expires{};  // fresh while now < expires
    };
    struct Slot {
        std::vector<Stored> alts;
        std::uint64_t stamp = 0;  // store order, for eviction
    };

    static Key make_key(const AltSvcOrigin& origin);
    void erase(std::map<Key, Slot>::iterator it);

    std::size_t capacity_;
    std::uint64_t clock_ = 0;  // counts stores; not time
    std::map<Key, Slot> origins_;
    std::map<std::uint64_t, Key> recency_;  // stamp -> key, oldest first
    std::optional<std::string> attached_;
};

/// The alternatives a race to `host`:`port` takes from `cache` (the adapters'
/// `alt_svc_cache` option): the ones still fresh at `now` for the origin
/// https://host:port (RFC 7838 §2: an origin is scheme, host and port; a race
/// with Config::https is one to an https origin). Empty — the race goes as
/// the caller configured it — unless every condition holds:
///
/// - `config.https`: alternatives are services of a v3 race (Config::alt_svc
///   needs it); the cache does not turn HTTPS records on for a race that did
///   not ask for them.
/// - `config.alt_svc` is empty: a list the caller gave wins whole (the cache
///   is not merged into it). To race without the cache's alternatives, give
///   that race no cache.
/// - `host` is a name: not empty, not an IP literal (with or without
///   brackets, with or without a zone). A literal is raced without DNS, and
///   Config::alt_svc is read only by a race that resolves (start_resolving).
/// - `port` is not 0.
/// - `target`, when given, is what apply_overrides() made of host:port: an
///   override that matched — a redirect that changed the host or port, or a
///   pin that gave addresses — is the caller's own choice of where to
///   connect, and wins over the cache (curl likewise consults its Alt-Svc
///   cache only when no --connect-to matched).
///
/// The host is looked up as given (the cache compares it without regard to
/// ASCII case): store the origin under the name the race is asked for.
std::vector<AltSvc> alternatives_for_race(const AltSvcCache& cache, std::string_view host,
                                          std::uint16_t port, const Config& config,
                                          TimePoint now, const OverrideTarget* target = nullptr);

}  // namespace eyeballs
