// SPDX-License-Identifier: BSL-1.0
// eyeballs — Happy Eyeballs v3: the planner (planner.hpp).
//
// Implements v3 §4, §4.2, §5 through names, services and endpoints; RFC 9460
// §2.4.2 and §3 (AliasMode chains and their end).
#include "v3/planner.hpp"

#include <algorithm>
#include <utility>

namespace eyeballs::detail {

std::uint16_t Planner::add_service(Service svc, std::uint32_t target, Rank rank) {
    services_.push_back(std::move(svc));
    service_target_.push_back(target);
    service_rank_.push_back(rank);
    return static_cast<std::uint16_t>(services_.size() - 1);
}

// ---- RFC 9460 §2.4.2, §3; v3 §4.2.1, §5 -----------------------------------------

HttpsStep Planner::on_https(std::uint32_t t, const SvcbRecord* records, std::size_t count,
                            const Config& config) {
    HttpsStep step;
    const HttpsAnswer answer = sort_out(records, count);
    if (answer.alias != nullptr) {
        // §2.4.2: AliasMode wins over ServiceMode records beside it; a chain
        // that ends ("." = not available, §2.5.1; a loop; past the limit)
        // counts as no records.
        bool made = false;
        const std::uint32_t next =
            names.follow_alias(answer.alias->target, config.alias_limit, made);
        if (made) step.ask_addresses.push_back(static_cast<std::uint32_t>(names.size() - 1));
        if (next == no_target) {
            names.settle_https();
        } else {
            step.ask_https = next;
        }
        return step;
    }
    if (!answer.service_mode.empty()) {
        std::vector<const SvcbRecord*> in_order;
        std::vector<PlannedService> planned = plan_services(
            answer.service_mode.data(), answer.service_mode.size(), config.shuffle_seed,
            config.port, config.quic, max_services - std::min(max_services, services_.size()),
            &in_order);
        // Every record's target is asked for, in the records' order (RFC 9460
        // §3: "Clients issue AAAA and/or A queries for the selected TargetName").
        std::vector<std::uint32_t> target_of_record;
        target_of_record.reserve(in_order.size());
        for (const SvcbRecord* r : in_order) {
            std::uint32_t target = t;  // "." = the owner (§2.5.2)
            if (r->target != ".") {
                bool made = false;
                target = names.intern(r->target, made);
                if (made) step.ask_addresses.push_back(target);
            }
            target_of_record.push_back(target);
        }
        for (PlannedService& ps : planned) {
            std::size_t i = 0;
            while (in_order[i] != ps.record) ++i;
            const std::uint32_t target = target_of_record[i];
            ps.service.target = target == 0 ? ps.record->target : names[target].name;
            step.services.push_back(
                NewService{add_service(std::move(ps.service), target, ps.rank), ps.record});
        }
        names.settle_https();
        return step;
    }
    if (t != 0 && services_.size() < max_services) {
        // The end of an alias chain without ServiceMode records: the alias
        // target is reached like a plain name (TCP, the origin's port),
        // ahead of the origin's own fallback (RFC 9460 §3).
        Service svc;
        svc.target = names[t].name;
        svc.port = config.port;
        step.services.push_back(NewService{add_service(std::move(svc), t, Rank::alias_end()), nullptr});
    }
    names.settle_https();
    return step;
}

// ---- §4.2 Readiness -------------------------------------------------------------

bool Planner::service_waiting(const std::vector<bool>& has) const {
    for (std::size_t s = 0; s < services_.size(); ++s) {
        if (has[s]) continue;
        const Target& t = names[service_target_[s]];
        if (t.addr[0] == DnsState::pending || t.addr[1] == DnsState::pending) return true;
    }
    return false;
}

}  // namespace eyeballs::detail
