// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: HTTPS records become services, ranked.
//
// Implements (draft-ietf-happy-happyeyeballs-v3-04 and the editor's copy):
//   §5.1  Grouping By Application Protocols and Security Requirements: QUIC
//         before TCP, ECH before none.
//   §5.2  Grouping By Service Priority: SvcPriority, equal priorities shuffled;
//         addresses with no service (the origin's plain A/AAAA) last.
// and RFC 9460:
//   §2.4.1 SvcPriority ("SHOULD apply a random shuffle within a priority level").
//   §2.4.2 AliasMode wins over ServiceMode records beside it.
//   §3     the end of an alias chain (final $QNAME, the origin's port, no
//          SvcParams) is an endpoint before the non-SVCB fallback.
//   §7.1   the client filters the SVCB ALPN set to the protocol suites it
//          supports: QUIC ids with Config::quic, the others against
//          Config::tcp_alpn; a service with none left is not raced.
//   §7.1.1 the default ALPN "http/1.1" unless no-default-alpn.
//   §8     records with a mandatory key this library does not know are ignored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eyeballs/action.hpp"
#include "eyeballs/svcb.hpp"

namespace eyeballs::detail {

/// Where a group of endpoints stands in the race's order (v3 §5): lower
/// first, field by field. Equal ranks are one group: within it the race
/// interleaves families (v3 §5.3, RFC 8305 §4).
struct Rank {
    enum class Tier : std::uint8_t {
        alt_svc,    ///< from the origin's Alt-Svc header (RFC 7838; issue 17 item 9)
        service,    ///< from a ServiceMode record (§5.1, §5.2)
        alias_end,  ///< RFC 9460 §3: the final $QNAME of an alias chain
        fallback,   ///< the origin's plain A/AAAA answers (§5.2 "at the end")
    };
    Tier tier = Tier::fallback;
    bool tcp = true;            ///< §5.1: QUIC (false) before TCP
    bool no_ech = true;         ///< §5.1: ECH (false) before none
    std::uint16_t priority = 0; ///< §5.2: SvcPriority, lower first
    std::uint16_t order = 0;    ///< §5.2: the seeded shuffle among equal priorities
    /// QUIC marked broken on this network (History::quic_broken, issue 17
    /// item 8): a QUIC group goes after every TCP group (tiers included), as
    /// Chromium uses TCP alone while an alternative service is broken.
    bool quic_broken = false;

    static constexpr Rank fallback() noexcept { return Rank{}; }
    /// After every rank: where a search for the best rank starts.
    static constexpr Rank last() noexcept {
        return Rank{Tier::fallback, true, true, UINT16_MAX, UINT16_MAX, true};
    }
    static constexpr Rank alias_end() noexcept {
        return Rank{Tier::alias_end, true, true, 0, 0};
    }

    friend bool operator<(const Rank& a, const Rank& b) noexcept {
        if (a.quic_broken != b.quic_broken) return b.quic_broken;
        if (a.tier != b.tier) return a.tier < b.tier;
        if (a.tcp != b.tcp) return b.tcp;
        if (a.no_ech != b.no_ech) return b.no_ech;
        if (a.priority != b.priority) return a.priority < b.priority;
        return a.order < b.order;
    }
    friend bool operator==(const Rank& a, const Rank& b) noexcept {
        return a.tier == b.tier && a.tcp == b.tcp && a.no_ech == b.no_ech &&
               a.priority == b.priority && a.order == b.order &&
               a.quic_broken == b.quic_broken;
    }
    friend bool operator!=(const Rank& a, const Rank& b) noexcept { return !(a == b); }
    friend bool operator>(const Rank& a, const Rank& b) noexcept { return b < a; }
};

/// A hostile answer cannot grow the race without bound.
inline constexpr std::size_t max_services = 4096;

/// An HTTP/3 ALPN id ("h3", or a draft version "h3-29"): a QUIC endpoint.
bool quic_alpn(const std::string& id);

/// Whether `id` is one of `tcp_alpn` (Config::tcp_alpn): an ALPN id the
/// client speaks over TLS on TCP.
bool speaks_over_tcp(const std::vector<std::string>& tcp_alpn, const std::string& id);

// ---- RFC 9460 §2.4.2, §8: what an HTTPS answer says ------------------------------

/// An HTTPS answer sorted out: its AliasMode record (the first, if any) and
/// its usable ServiceMode records. Records whose `mandatory` keys this
/// library does not know are dropped (§8).
struct HttpsAnswer {
    const SvcbRecord* alias = nullptr;
    std::vector<const SvcbRecord*> service_mode;
};
HttpsAnswer sort_out(const SvcbRecord* records, std::size_t count);

// ---- §5.1, §5.2 Grouping ----------------------------------------------------------

/// One service to make: what the record says for one transport, and its rank.
struct PlannedService {
    Service service;          ///< `target` left for the caller (it knows the names)
    const SvcbRecord* record; ///< where it came from (target name, hints)
    Rank rank;
};

/// The services of one HTTPS answer's ServiceMode records, in v3 §5 order of
/// their records (SvcPriority, then a shuffle seeded by `seed`): up to two
/// per record (QUIC for h3 ids when `quic`; TCP for the ids of the rest, with
/// the default "http/1.1", that are in `tcp_alpn` — RFC 9460 §7.1: the client
/// filters the set to what it speaks, and the TCP service offers those ids in
/// the record's order), at most `room` in all. A record whose ids the client
/// speaks on neither transport gives nothing. `port` is the origin's (a
/// record without `port=`). `records_in_order`, when given, gets the records
/// in that order (up to the one where `room` ran out), those that gave
/// nothing included.
std::vector<PlannedService> plan_services(const SvcbRecord* const* records, std::size_t count,
                                          std::uint64_t seed, std::uint16_t port, bool quic,
                                          const std::vector<std::string>& tcp_alpn,
                                          std::size_t room,
                                          std::vector<const SvcbRecord*>* records_in_order = nullptr);

}  // namespace eyeballs::detail
