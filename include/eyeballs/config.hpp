// SPDX-License-Identifier: BSL-1.0
// eyeballs — race configuration (docs/behaviour.md §1, §2, §4 `config`).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/alt_svc.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/sort.hpp"
#include "eyeballs/time.hpp"

namespace eyeballs {

class History;

/// RFC 8305 §5: "a recommended value of 250 milliseconds".
inline constexpr Duration default_attempt_delay = std::chrono::milliseconds(250);
/// RFC 8305 §5: "the Connection Attempt Delay MUST have a lower bound ... of 10
/// milliseconds" and "SHOULD have an upper bound ... of 2 seconds".
inline constexpr Duration min_attempt_delay_bound = std::chrono::milliseconds(10);
inline constexpr Duration max_attempt_delay_bound = std::chrono::seconds(2);
/// RFC 8305 §3: "The recommended value for the Resolution Delay is 50 milliseconds."
inline constexpr Duration default_resolution_delay = std::chrono::milliseconds(50);
inline constexpr Duration max_resolution_delay = std::chrono::seconds(2);
/// RFC 8305 §5: "a subsequent connection MUST NOT be started within 10
/// milliseconds of the previous attempt". Values below it depart from the RFC
/// (curl, Go and aiohappyeyeballs fail over at once); up to 100 ms is accepted.
inline constexpr Duration default_min_start_gap = std::chrono::milliseconds(10);
inline constexpr Duration max_min_start_gap = std::chrono::milliseconds(100);
/// Bounds of `attempt-delay=auto` (issue 8): 3 × RTT (RFC 6298's first RTO
/// estimate), clamped to [min_attempt_delay, max_attempt_delay].
inline constexpr Duration default_min_attempt_delay = std::chrono::milliseconds(100);
inline constexpr Duration default_max_attempt_delay = std::chrono::seconds(2);

/// Destination sorting (RFC 6724 §6, RFC 8305 §4).
enum class SortMode : std::uint8_t {
    automatic,  ///< rfc6724 in DNS mode; off in addresses mode (getaddrinfo sorted already)
    off,        ///< keep the order given / received
    rfc6724,    ///< sort each address list (an answer) before interleaving
};

/// What a race does with a remote it has already seen (issue 16 item 4).
enum class Duplicates : std::uint8_t {
    drop,  ///< the first occurrence is kept, later ones are dropped and counted
    keep,  ///< every occurrence is a candidate of its own (aiohappyeyeballs)
};

/// Happy Eyeballs v3 §6.1: when an attempt counts as connected.
enum class Success : std::uint8_t {
    connect,    ///< the transport connect completed (RFC 8305)
    handshake,  ///< the caller's TLS (or QUIC) handshake completed: handle_secured()
};

/// How far the client relies on Encrypted Client Hello (the `ech` SvcParam,
/// RFC 9848) from HTTPS records (v3 §6.3; docs/behaviour.md "ECH").
enum class EchMode : std::uint8_t {
    off,            ///< no ECH: records' `ech` values only order services (§5.1)
    opportunistic,  ///< ECH where a record offers it; plain TLS elsewhere
    required,       ///< SVCB-reliant: only endpoints whose record offers ECH are raced
};

/// The most endpoints one race takes (issue 14). 64 is more than any real
/// answer set (getaddrinfo results and round-robin A/AAAA sets are a handful
/// to a few dozen) and bounds a race at RFC 8305's 10 ms floor to 0.64 s of
/// starts (16 s at the 250 ms default delay), where a hostile 300-record
/// HTTPS answer with hints would otherwise make a race of ~600 endpoints.
inline constexpr std::uint32_t default_max_endpoints = 64;
inline constexpr std::uint32_t max_max_endpoints = 1024;

/// RFC 9460 §3 suggests bounding alias chains; 8 as for CNAME chains in stub resolvers.
inline constexpr std::uint32_t default_alias_limit = 8;
inline constexpr std::uint32_t max_alias_limit = 16;
/// Config::history_explore's default, in races per 1000 (v3 §5.3 convergence).
inline constexpr std::uint32_t default_history_explore = 20;
/// The most ids Config::tcp_alpn holds (a TLS ClientHello offers a short list).
inline constexpr std::size_t max_tcp_alpn = 32;
/// The TCP ALPN ids a Config with an empty `tcp_alpn` speaks: {"h2",
/// "http/1.1"}, one list for the whole program. The member is empty by
/// default, not this list, so that copying a Config (every race does) costs no
/// allocation for it; and a braced list of strings as the member's initializer
/// makes g++ 12 crash (an internal compiler error in check_noexcept_r) on
/// `Options{}` of a struct holding a Config.
const std::vector<std::string>& default_tcp_alpn();

/// Everything a race can be told. The defaults are RFC 8305's.
struct Config {
    /// Connection Attempt Delay (RFC 8305 §5). nullopt = sequential mode
    /// (`attempt-delay=none`): one attempt at a time.
    std::optional<Duration> attempt_delay = default_attempt_delay;
    /// Resolution Delay (RFC 8305 §3), DNS mode only. 0 … 2 s.
    Duration resolution_delay = default_resolution_delay;
    /// First Address Family Count (RFC 8305 §4), ≥ 1.
    std::uint32_t family_count = 1;
    /// Interleave families (RFC 8305 §4). nullopt = on when racing, off when
    /// sequential, as aiohappyeyeballs does.
    std::optional<bool> interleave;
    /// Fails an attempt with ETIMEDOUT this long after it starts. > 0; any
    /// length up to Duration::max() (a deadline past the end of representable
    /// time saturates to TimePoint::max() and is never reached in practice).
    std::optional<Duration> attempt_timeout;
    /// Ends the race this long after it starts. > 0; huge values saturate as
    /// attempt_timeout's do.
    std::optional<Duration> overall_timeout;
    /// No attempt starts within this of the previous start. 0 … 100 ms.
    Duration min_start_gap = default_min_start_gap;
    /// Local bind candidates (aiohappyeyeballs `local_addr_infos`): each attempt
    /// binds to the first of its own family that works.
    std::vector<Endpoint> local;
    /// At most this many attempts in flight at once; the next start waits
    /// for one to end (then starts at once if its timer has passed, with the
    /// floor). 0 (the default) = no cap. RFC 8305 and the v3 draft set none,
    /// so the default keeps their race; curl and Chromium cap at 6, which
    /// bounds sockets when attempts hang without an attempt timeout.
    std::uint32_t max_in_flight = 0;

    // ---- Beyond RFC 8305's minimum (issue 8) ---------------------------------

    /// RFC 6724 destination sorting; rules 6, 8 and 10 always, rules 1-5, 7 and
    /// 9 when `source_info` answers, the lower-RTT rule when `history` knows.
    SortMode sort = SortMode::automatic;
    /// What the caller knows of the source address for a destination (RFC 6724
    /// rules 1-5, 7, 9). Empty: those rules are skipped.
    SourceLookup source_info;
    /// `attempt-delay=auto`: each next delay is 3 × the historical RTT of the
    /// previous attempt's destination, clamped to [min_attempt_delay,
    /// max_attempt_delay]; no history for it → `attempt_delay` (250 ms by
    /// default), clamped too. Needs racing mode (attempt_delay set).
    bool auto_attempt_delay = false;
    Duration min_attempt_delay = default_min_attempt_delay;  ///< ≥ 10 ms
    Duration max_attempt_delay = default_max_attempt_delay;  ///< ≤ 2 s, ≥ min
    /// Delay schedule: the n-th delay is the base delay × multiplier^(n-1),
    /// capped at max_attempt_delay (Firefox runs 50 ms × 2). 1 … 16.
    double delay_multiplier = 1.0;
    /// RTT and outcome history, owned by the caller and kept across races; the
    /// machine reads it (sorting, auto delay) and records each attempt's
    /// outcome and connect time into it. Never used across networks.
    History* history = nullptr;
    /// The network this race runs on (a caller-given id; empty = the default
    /// network). History entries of other networks are never used.
    std::string network;
    /// v3 §5.3 convergence ("Clients that use historical data MUST ensure
    /// that clients with different historical data will eventually converge
    /// toward the same behaviors"): on this many races in 1000 the history
    /// is not used for sorting (RTT and used-before rules), so that a path
    /// that got better is found again. Which races: a hash of `shuffle_seed`
    /// and of the history's race count (History::next_race()) decides, so
    /// it is deterministic and needs no seed from the caller. Outcomes are
    /// still recorded. 0 … 1000; default 20 (one race in 50: a path that got
    /// better is tried again within a few dozen races, and an exploring
    /// race costs at most the attempts history would have skipped). 0 = always use the
    /// history. A RaceMachine's own copy (config()) holds its decision:
    /// 0 (uses the history) or 1000 (explores).
    std::uint32_t history_explore = default_history_explore;
    /// An IPv6-only network (`ipv4=none`): with `pref64`, IPv4 literals and A
    /// answers are synthesized into IPv6 (RFC 8305 §7, RFC 6052); the only case
    /// where synthesis happens. Addresses that cannot be synthesized are dropped.
    bool ipv4_unavailable = false;
    /// The NAT64 prefix (e.g. discovered through ipv4only.arpa, RFC 7050).
    /// With `https` (v3) in DNS mode it also turns AAAA answers and IPv6
    /// hints inside it back into IPv4 before sorting (editor's copy §8.2,
    /// src/v3/dns64.hpp); addresses inside it that RFC 6052 could not have
    /// made are dropped.
    std::optional<Pref64> pref64;
    /// IPv6 is unavailable on this host (`ipv6=none`): IPv6 addresses are not
    /// raced. With `https` and `pref64`, AAAA answers a DNS64 synthesized are
    /// raced as the IPv4 addresses they carry (editor's copy §8.2); otherwise
    /// the AAAA query is not sent. Cannot go with ipv4_unavailable or
    /// only_family = v6.
    bool ipv6_unavailable = false;
    /// One family only (curl's -4 / -6; scenario `family=ipv4|ipv6|any`).
    /// nullopt: both. DNS mode asks only for that family (no Resolve action
    /// for the other); addresses mode drops the other family's addresses,
    /// after NAT64 synthesis. A race left with nothing fails with a message
    /// that says so. `Family::v4` cannot go with ipv4_unavailable.
    std::optional<Family> only_family;
    /// A remote (address with its scope id, and port; the transport too in a
    /// v3 race) that repeats one the race already has, waiting or tried, is
    /// dropped (the first occurrence is kept) and counted in
    /// RaceMetrics::duplicates_dropped, wherever it comes from: the start()
    /// list, a DNS answer, an override. `keep` makes each occurrence a
    /// candidate of its own; it does not apply to a v3 race (https in DNS
    /// mode), which always races one attempt per remote and transport.
    Duplicates duplicates = Duplicates::drop;

    // ---- Happy Eyeballs v3 (issue 10) ---------------------------------------

    /// DNS mode only: also query the origin's HTTPS records (RFC 9460) and race
    /// the services they describe (draft-ietf-happy-happyeyeballs-v3 §4-§6).
    /// For HTTP clients. Off: RFC 8305 exactly, nothing below applies.
    bool https = false;
    /// The origin's port (the URL's): a ServiceMode record without `port=`
    /// uses it, and so do addresses from its hints and target names. 1-65535.
    std::uint16_t port = 443;
    /// The caller can make QUIC attempts: h3 ALPN ids give QUIC endpoints.
    /// Off (the default, what the bundled adapters can do): TCP only, QUIC
    /// endpoints are left out of the race.
    bool quic = false;
    /// The ALPN ids the caller speaks over TLS on TCP (RFC 7301), in its
    /// order of preference. RFC 9460 §7.1: a TCP service keeps the ids of its
    /// record's set (with the default "http/1.1" unless no-default-alpn) that
    /// are in this list, and offers those; one with none left is not raced,
    /// and a record that gives no service at all (nor a QUIC one) does not
    /// have its target resolved. A TCP Alt-Svc alternative whose id is not
    /// here is left out the same way. Empty (the default) means
    /// default_tcp_alpn(), "h2" and "http/1.1". At most 32 ids of 1-255
    /// bytes, none an HTTP/3 id ("h3", "h3-*": those are QUIC, see `quic`).
    std::vector<std::string> tcp_alpn;
    /// Seeds the shuffle of records with equal SvcPriority (RFC 9460 §2.4.1:
    /// "SHOULD be shuffled"), so the same seed gives the same order.
    std::uint64_t shuffle_seed = 0;
    /// How many AliasMode hops are followed (RFC 9460 §3: chains should be
    /// bounded); a longer chain counts as "no HTTPS records". 1-16.
    std::uint32_t alias_limit = default_alias_limit;
    /// When an attempt wins: at its connect, or at the handshake the caller
    /// reports with handle_secured() (v3 §6.1). With `handshake`, an attempt's
    /// connect pushes the Next Connection Attempt Timer back by one attempt
    /// delay from that instant (once per attempt), to give the handshake time.
    /// A QUIC attempt wins at its connect either way: its handshake is its
    /// transport and TLS in one (v3 §6.1), so there is no second one to wait for.
    Success success = Success::connect;
    /// The soft QUIC timer (curl's rule, issue 17 item 8): after a QUIC attempt
    /// starts, the next attempt may start at half the attempt delay while that
    /// QUIC attempt has heard nothing from its server; once the caller reports
    /// a reply (RaceMachine::handle_progress) the whole delay applies. Needs
    /// `https`, `quic` and racing mode. Off: every delay is whole.
    bool quic_progress = false;
    /// Alternatives from the origin's Alt-Svc header (RFC 7838; parse_alt_svc
    /// in eyeballs/alt_svc.hpp), in the server's order: each joins the race
    /// as a service (QUIC for an h3 id, only with `quic`; TCP otherwise) on
    /// its host (empty: the origin's) and port, ranked before every service
    /// of the HTTPS records (issue 17 item 9). Needs `https`. At most 64.
    std::vector<AltSvc> alt_svc;
    /// ECH reliance (v3 §6.3, docs/behaviour.md "ECH"). Not off: the machine
    /// emits a CryptoReady action when a TCP attempt may start its TLS
    /// handshake (needs `success` = handshake); the handshake is held back
    /// until the HTTPS answer (or its failure) is in when `dns_protected` is
    /// set or the mode is `required`; when any ServiceMode record of the
    /// origin offers ECH, endpoints without it are not raced unless
    /// `ech_fallback`; a server's retry configs restart an endpoint once
    /// (RaceMachine::handle_ech_retry).
    EchMode ech = EchMode::off;
    /// With `ech` = opportunistic: endpoints without ECH (other records',
    /// the origin's plain addresses) are raced even when a record offers ECH.
    bool ech_fallback = false;
    /// The DNS answers are cryptographically protected (DNSSEC, DoT, DoH, DoQ;
    /// v3 §6.3, RFC 9460 §3.1): a failed HTTPS query (not "no data" nor
    /// NXDOMAIN) abandons the race, and an ECH client holds handshakes back
    /// until the HTTPS answer is in. Off: plain DNS, where HTTPS information
    /// is opportunistic.
    bool dns_protected = false;

    // ---- Limits (issue 14) ----------------------------------------------------

    /// The most endpoints the race takes, attempted or waiting, 1 … 1024.
    /// Which are kept: each answer (or the given list) is sorted as `sort`
    /// says, then its first endpoints fill what room is left, in arrival
    /// order — an earlier answer's endpoints are never displaced by a later
    /// one's. The rest are dropped and counted in RaceReport::dropped.
    std::uint32_t max_endpoints = default_max_endpoints;

    /// True unless sequential mode (attempt_delay unset).
    bool racing() const noexcept { return attempt_delay.has_value(); }
    /// Whether families are interleaved: `interleave`, or racing() when unset.
    bool interleaving() const noexcept { return interleave.value_or(racing()); }
    /// Whether address lists are sorted by RFC 6724 in this mode.
    bool sorting(bool dns_mode) const noexcept {
        return sort == SortMode::rfc6724 || (sort == SortMode::automatic && dns_mode);
    }
};

/// Checks every rule above. Returns nullopt when valid, otherwise a message that
/// names the setting (as the scenario language spells it) and the rule it
/// breaks, e.g. "attempt-delay 5 ms is outside 10 ms … 2 s (RFC 8305 §5)";
/// the first broken rule is reported. RaceMachine::start() and
/// start_resolving() fail with this message. Never throws but for bad_alloc.
std::optional<std::string> validate(const Config& config);

/// Formats a duration in milliseconds the way messages and traces write it:
/// "250", "0.5", "1500" (exact to the nanosecond; trailing zeros dropped;
/// negative values get a "-").
std::string format_ms(Duration d);

}  // namespace eyeballs
