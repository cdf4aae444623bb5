// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: HTTPS records become services (services.hpp).
//
// Implements v3 §5.1, §5.2; RFC 9460 §2.4.1, §2.4.2, §7.1, §7.1.1, §8 (see services.hpp).
#include "v3/services.hpp"

#include <algorithm>
#include <utility>

#include "eyeballs/config.hpp"

namespace eyeballs::detail {

namespace {

// SplitMix64: the seeded shuffle of equal priorities (deterministic per seed).
std::uint64_t mix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

bool quic_alpn(const std::string& id) {
    return id == "h3" || (id.size() > 3 && id.compare(0, 3, "h3-") == 0);
}

bool speaks_over_tcp(const std::vector<std::string>& tcp_alpn, const std::string& id) {
    const std::vector<std::string>& ids = tcp_alpn.empty() ? eyeballs::default_tcp_alpn() : tcp_alpn;
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

// ---- RFC 9460 §2.4.2, §8 -----------------------------------------------------------

HttpsAnswer sort_out(const SvcbRecord* records, std::size_t count) {
    HttpsAnswer out;
    for (std::size_t i = 0; records != nullptr && i < count; ++i) {
        const SvcbRecord& r = records[i];
        // §8: "clients MUST ignore any RR with a mandatory key they do not support".
        if (!r.mandatory_ok()) continue;
        // RFC 9460 §2.4.3: "Clients MUST reject any RR whose recognized
        // SvcParams are not self-consistent" (a `mandatory` key absent, §8).
        if (!r.alias_mode() && !r.self_consistent()) continue;
        if (r.alias_mode()) {
            // §2.4.2: "If an RRSet contains a record in AliasMode, the recipient
            // MUST ignore any ServiceMode records in the set."
            if (out.alias == nullptr) out.alias = &r;
        } else {
            out.service_mode.push_back(&r);
        }
    }
    return out;
}

// ---- §5.1, §5.2 Grouping ----------------------------------------------------------

std::vector<PlannedService> plan_services(const SvcbRecord* const* records, std::size_t count,
                                          std::uint64_t seed, std::uint16_t port, bool quic,
                                          const std::vector<std::string>& tcp_alpn,
                                          std::size_t room,
                                          std::vector<const SvcbRecord*>* records_in_order) {
    // §5.2 / RFC 9460 §2.4.1: SvcPriority, equal priorities in a seeded random order.
    std::vector<std::pair<std::uint64_t, std::size_t>> order;
    order.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint64_t h = mix(seed ^ mix(i));
        order.emplace_back((std::uint64_t{records[i]->priority} << 48) | (h >> 16), i);
    }
    std::sort(order.begin(), order.end());
    std::vector<PlannedService> out;
    for (std::size_t pos = 0; pos < order.size(); ++pos) {
        const SvcbRecord& r = *records[order[pos].second];
        if (records_in_order != nullptr) records_in_order->push_back(&r);
        std::vector<std::string> alpn[2];  // [0] QUIC, [1] TCP
        for (const std::string& id : r.alpn) alpn[quic_alpn(id) ? 0 : 1].push_back(id);
        // RFC 9460 §7.1.1: HTTPS records imply "http/1.1" unless no-default-alpn.
        if (!r.no_default_alpn &&
            std::find(alpn[1].begin(), alpn[1].end(), "http/1.1") == alpn[1].end()) {
            alpn[1].push_back("http/1.1");
        }
        // RFC 9460 §7.1: "Clients filter the set of ALPN identifiers to match
        // the protocol suites they support": over TCP, Config::tcp_alpn.
        alpn[1].erase(std::remove_if(alpn[1].begin(), alpn[1].end(),
                                     [&](const std::string& id) {
                                         return !speaks_over_tcp(tcp_alpn, id);
                                     }),
                      alpn[1].end());
        for (int p = 0; p < 2; ++p) {
            if (alpn[p].empty() || (p == 0 && !quic)) continue;
            if (out.size() >= room) return out;
            PlannedService ps;
            ps.record = &r;
            ps.service.protocol = p == 0 ? Protocol::quic : Protocol::tcp;
            ps.service.priority = r.priority;
            ps.service.port = r.port_or(port);
            ps.service.alpn = std::move(alpn[p]);
            ps.service.ech = r.ech;
            // §5.1 groups: QUIC before TCP, ECH before none; then §5.2.
            ps.rank.tier = Rank::Tier::service;
            ps.rank.tcp = p == 1;
            ps.rank.no_ech = !r.ech.has_value();
            ps.rank.priority = r.priority;
            ps.rank.order = static_cast<std::uint16_t>(std::min<std::size_t>(pos, 0xffff));
            out.push_back(std::move(ps));
        }
    }
    return out;
}

}  // namespace eyeballs::detail
