// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: the planner, the front the RaceMachine holds.
//
// Implements (draft-ietf-happy-happyeyeballs-v3-04 and the editor's copy),
// by way of names.hpp, services.hpp and endpoints.hpp:
//   §4    Hostname Resolution (names, queries, aliases, hints)
//   §5    Grouping and Sorting Endpoints (services and their ranks)
//   §4.2  the readiness the race's start decision reads (service_waiting)
//
// Calls go one way: RaceMachine → Planner → {Names, services, endpoints}. The
// planner never sees attempts, sockets or actions: it answers with values
// (which names to ask, which services were made) that the RaceMachine acts on.
// It is made on first use (RaceMachine::V3Box), so a race without HTTPS pays
// one pointer for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/svcb.hpp"
#include "v3/crypto.hpp"
#include "v3/endpoints.hpp"
#include "v3/names.hpp"
#include "v3/quic_progress.hpp"
#include "v3/services.hpp"

namespace eyeballs::detail {

inline constexpr std::uint16_t no_service = UINT16_MAX;

/// A service the planner made: its index and the record it came from (null
/// for RFC 9460 §3's end-of-chain service, which has no hints).
struct NewService {
    std::uint16_t index = no_service;
    const SvcbRecord* record = nullptr;
};

/// What an HTTPS answer asks of the race, in the order it is to be done.
struct HttpsStep {
    std::vector<std::uint32_t> ask_addresses;  ///< new names: their AAAA and A queries
    std::uint32_t ask_https = no_target;       ///< an alias to follow: its HTTPS query
    std::vector<NewService> services;          ///< made, in v3 §5 order
    /// v3 §7 (a stale HTTPS answer's fresh one): services of the stale
    /// answer the fresh one no longer has; their untried endpoints leave.
    std::vector<std::uint16_t> withdrawn;
};

class Planner {
public:
    Names names;
    /// QUIC attempts' replies and failures (quic_progress.hpp): a sibling the
    /// V3Box hosts for the RaceMachine; the planner itself never reads it.
    QuicProgress quic_progress;
    /// History says QUIC is broken on this network (set at the race's start):
    /// QUIC services are ranked after every TCP endpoint (Rank::quic_broken).
    bool quic_broken = false;
    EchState ech;  ///< §6.3 held handshakes, ECH retries (crypto.hpp)

    // ---- §5 Services ------------------------------------------------------------

    const std::deque<Service>& services() const noexcept { return services_; }
    const Service& service(std::uint16_t s) const { return services_[s]; }
    std::uint32_t service_target(std::uint16_t s) const { return service_target_[s]; }
    Rank rank(std::uint16_t s) const { return service_rank_[s]; }

    // ---- §4.2.1, RFC 9460 §2.4.2, §3: an HTTPS answer ---------------------------

    /// The HTTPS answer for target `t` (the one awaited). Settles the HTTPS
    /// state or moves it one alias hop on; makes the services of its
    /// ServiceMode records (or, at the end of an alias chain without them,
    /// RFC 9460 §3's endpoint for the final $QNAME).
    HttpsStep on_https(std::uint32_t t, const SvcbRecord* records, std::size_t count,
                       const Config& config);
    /// The HTTPS query for target `t` (the one awaited) failed: settled as
    /// "no records", and past an alias, RFC 9460 §3's final-$QNAME endpoint.
    HttpsStep on_https_failed(std::uint32_t t, const Config& config);
    // ---- §4.4, §7: a stale HTTPS answer and its fresh one ------------------------
    /// A cached HTTPS answer past its TTL for target `t` (the one awaited),
    /// with ServiceMode records: planned as on_https would, and the services
    /// it made remembered with their records; the question stays open for
    /// the fresh answer (stale_https()).
    HttpsStep on_stale_https(std::uint32_t t, const SvcbRecord* records, std::size_t count,
                             const Config& config);
    /// Whose stale HTTPS answer is raced while its fresh one is awaited;
    /// no_target when none.
    std::uint32_t stale_https() const noexcept { return stale_https_; }
    /// The fresh answer (records, not empty) for the stale one (§4.4, handled
    /// as a change, §7): a stale service the fresh answer has again (same
    /// transport, priority, target, port, ALPN, ECH and hints) stays, with the
    /// rank the fresh answer gives it; the others are withdrawn; the fresh
    /// answer's new services are made (their new target names to resolve).
    /// A fresh AliasMode record withdraws them all and follows the alias.
    HttpsStep on_fresh_https(const SvcbRecord* records, std::size_t count, const Config& config);
    /// The fresh query failed or had no records: the stale services stay.
    void keep_stale_https() noexcept;
    /// Service `s` was withdrawn by a fresh answer (§7): no endpoint joins it.
    bool withdrawn(std::uint16_t s) const { return withdrawn_[s]; }
    /// §5.1 with §7: some service in force (made in this race and not
    /// withdrawn by a fresh answer) offers ECH. A stale answer's ECH service
    /// that its fresh answer withdrew no longer counts.
    bool offers_ech() const noexcept;

    // ---- RFC 7838 Alt-Svc (issue 17 item 9) ---------------------------------------

    /// The race starts resolving: each Config::alt_svc alternative becomes a
    /// service of Rank::Tier::alt_svc (before every record's service), in
    /// the header's order (its priority), on the origin (empty host) or a
    /// new name whose AAAA and A queries are then asked.
    HttpsStep on_alt_svc(const Config& config);

    // ---- §4.2 Readiness -------------------------------------------------------

    /// A service with no address yet (`has` is false for it: no hints) whose
    /// target is still being resolved: the HTTPS answer is in, but what it
    /// points at is not, so the race does not start on the fallback alone
    /// before the Resolution Delay.
    /// Only services ranked before `best`, the best rank with a candidate
    /// left, count: the race does not wait for what it would try later
    /// (§4.2: "SHOULD NOT wait for all answers").
    bool service_waiting(const std::vector<bool>& has, const Rank& best) const;
    /// Some HTTPS or target address answer, or a stale answer's fresh one
    /// (§4.4), is still awaited.
    bool outstanding() const noexcept {
        return names.https_pending() || names.targets_outstanding() || names.fresh_awaited() ||
               stale_https_ != no_target;
    }

    /// ECH retry: a copy of service `s` offering `configs`, ranked before
    /// every other service (crypto.cpp); no_service past max_services.
    std::uint16_t retry_service(std::uint16_t s, std::vector<std::uint8_t> configs);
private:
    void add_alias_end(std::uint32_t t, const Config& config, HttpsStep& step);
    /// A ServiceMode answer's services for target `t` (on_https's body);
    /// with `reuse`, a stale service equal to one planned is kept instead.
    void add_record_services(std::uint32_t t, const HttpsAnswer& answer, const Config& config,
                             HttpsStep& step, bool reuse);
    std::uint16_t add_service(Service svc, std::uint32_t target, Rank rank);

    std::deque<Service> services_;  // stable: actions point into it
    std::vector<std::uint32_t> service_target_;  // per service: its target
    std::vector<Rank> service_rank_;             // per service: its rank
    std::vector<bool> withdrawn_;                // per service: withdrawn by a fresh answer
    // §4.4: the stale HTTPS answer in use, and its services with their
    // records (copied: the caller's are gone by the time the fresh one comes).
    struct StaleService {
        std::uint16_t index;
        std::optional<SvcbRecord> record;  // none: RFC 9460 §3's alias-end service
        bool kept;
    };
    std::uint32_t stale_https_ = no_target;
    std::vector<StaleService> stale_services_;
};

}  // namespace eyeballs::detail
