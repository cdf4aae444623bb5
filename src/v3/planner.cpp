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
    withdrawn_.push_back(false);
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
        add_record_services(t, answer, config, step, false);
        add_alias_end(t, config, step);
        names.settle_https();
        return step;
    }
    add_alias_end(t, config, step);
    names.settle_https();
    return step;
}

void Planner::add_record_services(std::uint32_t t, const HttpsAnswer& answer,
                                  const Config& config, HttpsStep& step, bool reuse) {
    std::vector<PlannedService> planned = plan_services(
        answer.service_mode.data(), answer.service_mode.size(), config.shuffle_seed, config.port,
        config.quic, config.tcp_alpn, max_services - std::min(max_services, services_.size()));
    // The target of every record that gave a service is asked for, in the
    // records' order (RFC 9460 §3: "Clients issue AAAA and/or A queries
    // for the selected TargetName"). A record the client cannot speak to
    // (RFC 9460 §7.1: no ALPN id left on either transport) selects no
    // target: its name is not resolved.
    const SvcbRecord* last = nullptr;
    std::uint32_t target = t;
    for (PlannedService& ps : planned) {
        ps.rank.quic_broken = quic_broken && ps.service.protocol == Protocol::quic;
        if (ps.record != last) {  // a record's services are next to each other
            last = ps.record;
            target = t;  // "." = the owner (§2.5.2)
            if (ps.record->target != ".") {
                bool made = false;
                target = names.intern(ps.record->target, made);
                if (made) step.ask_addresses.push_back(target);
            }
        }
        ps.service.target = target == 0 ? ps.record->target : names[target].name;
        if (reuse) {
            // §7 for a stale answer's fresh one: a service it has again
            // keeps its endpoints (tried or not); only its place may move.
            const auto same = std::find_if(
                stale_services_.begin(), stale_services_.end(), [&](const StaleService& old) {
                    if (old.kept || !old.record) return false;
                    const Service& o = services_[old.index];
                    return service_target_[old.index] == target &&
                           o.protocol == ps.service.protocol &&
                           o.priority == ps.service.priority && o.port == ps.service.port &&
                           o.alpn == ps.service.alpn && o.ech == ps.service.ech &&
                           old.record->ipv4hint == ps.record->ipv4hint &&
                           old.record->ipv6hint == ps.record->ipv6hint;
                });
            if (same != stale_services_.end()) {
                same->kept = true;
                service_rank_[same->index] = ps.rank;
                continue;
            }
        }
        step.services.push_back(
            NewService{add_service(std::move(ps.service), target, ps.rank), ps.record});
    }
}

// ---- §4.4, §7: a stale HTTPS answer and its fresh one ----------------------------

HttpsStep Planner::on_stale_https(std::uint32_t t, const SvcbRecord* records, std::size_t count,
                                  const Config& config) {
    HttpsStep step = on_https(t, records, count, config);
    stale_https_ = t;
    stale_services_.clear();
    for (const NewService& made : step.services) {
        StaleService old{made.index, std::nullopt, false};
        if (made.record != nullptr) old.record = *made.record;
        stale_services_.push_back(std::move(old));
    }
    return step;
}

HttpsStep Planner::on_fresh_https(const SvcbRecord* records, std::size_t count,
                                  const Config& config) {
    const std::uint32_t t = stale_https_;
    HttpsStep step;
    const HttpsAnswer answer = sort_out(records, count);
    if (answer.alias != nullptr) {
        // The name is an alias now: what the stale records gave goes (the
        // end-of-chain service too: the chain goes on), and the chain is
        // followed as for a first answer.
        for (const StaleService& old : stale_services_) step.withdrawn.push_back(old.index);
        HttpsStep follow = on_https(t, records, count, config);
        follow.withdrawn = std::move(step.withdrawn);
        step = std::move(follow);
    } else {
        // RFC 9460 §3's end-of-chain service does not depend on the records.
        for (StaleService& old : stale_services_) old.kept = !old.record;
        add_record_services(t, answer, config, step, true);
        for (const StaleService& old : stale_services_) {
            if (!old.kept) step.withdrawn.push_back(old.index);
        }
    }
    for (const std::uint16_t s : step.withdrawn) withdrawn_[s] = true;
    keep_stale_https();
    return step;
}

bool Planner::offers_ech() const noexcept {
    for (std::size_t s = 0; s < services_.size(); ++s) {
        if (services_[s].ech.has_value() && !withdrawn_[s]) return true;
    }
    return false;
}

void Planner::keep_stale_https() noexcept {
    stale_https_ = no_target;
    stale_services_.clear();
}

HttpsStep Planner::on_https_failed(std::uint32_t t, const Config& config) {
    HttpsStep step;
    add_alias_end(t, config, step);
    names.settle_https();
    return step;
}

void Planner::add_alias_end(std::uint32_t t, const Config& config, HttpsStep& step) {
    // RFC 9460 §3: "SVCB-optional clients SHALL append an alternative
    // endpoint consisting of the final value of $QNAME, the authority
    // endpoint's port number, and no SvcParams, to the list of alternative
    // endpoints, which is attempted before falling back to non-SVCB
    // connection modes" — whether the last name had ServiceMode records,
    // none, or its query failed (§3 step 5). At the origin (no alias) that
    // endpoint is the fallback itself. A chain cut by the limit or a loop
    // falls back "as if the origin's SVCB record did not exist" (§3.1): no
    // such endpoint (Names::follow_alias returned no_target there).
    if (t == 0 || services_.size() >= max_services) return;
    Service svc;  // TCP, no ALPN, no ECH: no SvcParams
    svc.target = names[t].name;
    svc.port = config.port;
    step.services.push_back(NewService{add_service(std::move(svc), t, Rank::alias_end()), nullptr});
}

// ---- RFC 7838 Alt-Svc -----------------------------------------------------------

HttpsStep Planner::on_alt_svc(const Config& config) {
    // The mozilla crate races Alt-Svc endpoints beside the origin's; here
    // they come first, as the origin named them for this very client (issue
    // 17 item 9). The header's order is the server's preference: it is the
    // priority. h3 ids need a caller that speaks QUIC (Config::quic).
    HttpsStep step;
    for (std::size_t i = 0; i < config.alt_svc.size() && services_.size() < max_services; ++i) {
        const AltSvc& alt = config.alt_svc[i];
        const bool quic = quic_alpn(alt.alpn);
        // RFC 9460 §7.1's filter, as for the records: an h3 id needs QUIC, any
        // other id must be one the client speaks over TCP (Config::tcp_alpn);
        // an alternative left out is not resolved.
        if (quic ? !config.quic : !speaks_over_tcp(config.tcp_alpn, alt.alpn)) continue;
        std::uint32_t target = 0;
        if (!alt.host.empty()) {
            bool made = false;
            target = names.intern(alt.host, made);
            if (made) step.ask_addresses.push_back(target);
        }
        Service svc;
        svc.protocol = quic ? Protocol::quic : Protocol::tcp;
        svc.priority = static_cast<std::uint16_t>(i + 1);
        svc.target = alt.host.empty() ? std::string(".") : names[target].name;
        svc.port = alt.port;
        svc.alpn.push_back(alt.alpn);
        svc.source = ServiceSource::alt_svc;  // the trace and report say so
        Rank rank{Rank::Tier::alt_svc, !quic, true, svc.priority, 0, quic && quic_broken};
        step.services.push_back(NewService{add_service(std::move(svc), target, rank), nullptr});
    }
    return step;
}

// ---- §4.2 Readiness -------------------------------------------------------------

bool Planner::service_waiting(const std::vector<bool>& has, const Rank& best) const {
    for (std::size_t s = 0; s < services_.size(); ++s) {
        if (has[s] || withdrawn_[s] || !(service_rank_[s] < best)) continue;
        const Target& t = names[service_target_[s]];
        if (t.addr[0] == DnsState::pending || t.addr[1] == DnsState::pending) return true;
    }
    return false;
}

}  // namespace eyeballs::detail
