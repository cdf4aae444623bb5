// SPDX-License-Identifier: BSL-1.0
// RapidCheck generators of random worlds (sim::Scenario values) within the
// valid ranges of docs/behaviour.md §1–§4. Times sit mostly on a 5 ms grid so that events,
// timers and starts often fall on one instant (where the ordering rules of
// docs/behaviour.md §4 matter); now and then they are off the grid, down to the microsecond.
#pragma once

#include <rapidcheck.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/nat64.hpp"
#include "scenario.hpp"

namespace eyeballs::prop {

/// The knobs a property may turn on the generated worlds.
struct WorldShape {
    enum class Mode : std::uint8_t { any, addresses, dns };
    Mode mode = Mode::any;
    bool allow_cancel = true;
    bool allow_local = true;
    bool allow_open_errors = true;
    bool allow_hang = true;                ///< connect lines that never answer
    bool allow_timeouts = true;            ///< attempt / overall timeouts
    bool dns_always_answers = false;       ///< every family gets a `dns` line
    std::optional<bool> sequential;        ///< force attempt-delay=none (true) or a delay (false)
    /// Issue 8 beyond docs/behaviour.md §1–§7 (half of the worlds): attempt-delay=auto,
    /// min/max-attempt-delay, delay-multiplier, RTT history lines and a network
    /// id, NAT64 (ipv4=none + pref64). The model does not cover these; the
    /// invariants do.
    bool beyond = false;
};

/// Any world, issue 8's settings included.
inline WorldShape any_world() {
    WorldShape s;
    s.beyond = true;
    return s;
}

namespace gen_detail {

inline Endpoint ep(const char* text, std::uint16_t port) {
    return *Endpoint::parse(text, port);
}

/// Remotes: documentation addresses (RFC 3849 / RFC 5737), one IPv4-mapped
/// address (which counts as IPv6), and the same address on two ports.
inline const std::vector<Endpoint>& v6_pool() {
    static const std::vector<Endpoint> pool = {
        ep("2001:db8::1", 443), ep("2001:db8::2", 443), ep("2001:db8::3", 443),
        ep("2001:db8::4", 443), ep("::ffff:192.0.2.50", 443),
    };
    return pool;
}
inline const std::vector<Endpoint>& v4_pool() {
    static const std::vector<Endpoint> pool = {
        ep("192.0.2.1", 443), ep("192.0.2.2", 443), ep("198.51.100.1", 443),
        ep("198.51.100.2", 443), ep("203.0.113.7", 443),
    };
    return pool;
}
inline const std::vector<Endpoint>& remote_pool() {
    static const std::vector<Endpoint> pool = [] {
        std::vector<Endpoint> p = v6_pool();
        p.insert(p.end(), v4_pool().begin(), v4_pool().end());
        p.push_back(ep("[2001:db8::1]:80", 80));
        p.push_back(ep("192.0.2.1:80", 80));
        return p;
    }();
    return pool;
}
inline const std::vector<Endpoint>& local_pool() {
    static const std::vector<Endpoint> pool = {
        ep("192.0.2.9", 0), ep("192.0.2.10", 0), ep("2001:db8::9", 0), ep("2001:db8::a", 0),
        ep("::ffff:192.0.2.9", 0),
    };
    return pool;
}

/// 0 … max_ms: mostly on a 5 ms or a 20 ms grid (so that instants collide).
inline rc::Gen<Duration> time_upto(int max_ms) {
    return rc::gen::weightedOneOf<Duration>({
        {5, rc::gen::map(rc::gen::inRange(0, max_ms / 5 + 1),
                         [](int k) { return Duration(std::chrono::milliseconds(5 * k)); })},
        {4, rc::gen::map(rc::gen::inRange(0, max_ms / 20 + 1),
                         [](int k) { return Duration(std::chrono::milliseconds(20 * k)); })},
        {1, rc::gen::map(rc::gen::inRange(0, max_ms * 1000 + 1),
                         [](int us) { return Duration(std::chrono::microseconds(us)); })},
    });
}

/// lo … hi (both > 0), mostly on a 5 ms grid.
inline rc::Gen<Duration> time_between(int lo_ms, int hi_ms) {
    return rc::gen::map(time_upto(hi_ms - lo_ms),
                        [lo_ms](Duration d) { return d + std::chrono::milliseconds(lo_ms); });
}

inline rc::Gen<int> connect_errno() {
    return rc::gen::element(ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ECONNRESET);
}

}  // namespace gen_detail

/// A random valid configuration (without `local`).
inline rc::Gen<Config> gen_config(const WorldShape& shape = {}) {
    using namespace std::chrono_literals;
    using namespace gen_detail;
    return rc::gen::exec([shape] {
        Config c;
        bool sequential = *rc::gen::weightedElement<bool>({{1, true}, {4, false}});
        if (shape.sequential) sequential = *shape.sequential;
        if (sequential) {
            c.attempt_delay.reset();
        } else {
            c.attempt_delay = *rc::gen::weightedOneOf<Duration>({
                {2, rc::gen::element<Duration>(10ms, 20ms, 50ms, 100ms, 250ms, 2000ms)},
                {1, time_between(10, 300)},
            });
        }
        c.resolution_delay = *rc::gen::weightedOneOf<Duration>({
            {3, rc::gen::element<Duration>(0ms, 10ms, 50ms, 100ms)},
            {1, time_upto(200)},
        });
        c.family_count = static_cast<std::uint32_t>(
            *rc::gen::weightedElement<int>({{6, 1}, {2, 2}, {1, 3}}));
        c.interleave = *rc::gen::element<std::optional<bool>>(std::nullopt, true, false);
        if (shape.allow_timeouts) {
            if (*rc::gen::weightedElement<bool>({{2, true}, {3, false}})) {
                c.attempt_timeout = *time_between(5, 600);
                if (*c.attempt_timeout <= 0ms) c.attempt_timeout = 5ms;
            }
            if (*rc::gen::weightedElement<bool>({{1, true}, {3, false}})) {
                c.overall_timeout = *time_between(20, 1500);
            }
        }
        // Issue 8's RFC 6724 sorting: on by default in DNS mode only.
        c.sort = *rc::gen::weightedElement<SortMode>(
            {{2, SortMode::automatic}, {1, SortMode::off}, {1, SortMode::rfc6724}});
        c.min_start_gap = *rc::gen::weightedOneOf<Duration>({
            {4, rc::gen::element<Duration>(0ms, 10ms, 10ms, 20ms, 50ms, 100ms)},
            {1, time_upto(100)},
        });
        // Issue 16 item 4: repeated remotes are dropped unless duplicates=keep.
        c.duplicates = *rc::gen::weightedElement<Duplicates>({{3, Duplicates::drop}, {1, Duplicates::keep}});
        return c;
    });
}

/// A random world: configuration, addresses or DNS answers, every remote's
/// behaviour, local candidates and bind failures, an optional cancel.
inline rc::Gen<sim::Scenario> gen_world(WorldShape shape = {}) {
    using namespace gen_detail;
    return rc::gen::exec([shape] {
        sim::Scenario w;
        w.file = "world.scn";
        w.config = *gen_config(shape);
        bool dns = *rc::gen::arbitrary<bool>();
        if (shape.mode == WorldShape::Mode::addresses) dns = false;
        if (shape.mode == WorldShape::Mode::dns) dns = true;
        w.dns_mode = dns;

        if (shape.allow_local && *rc::gen::weightedElement<bool>({{1, true}, {3, false}})) {
            w.config.local = *rc::gen::container<std::vector<Endpoint>>(
                static_cast<std::size_t>(*rc::gen::inRange(1, 4)), rc::gen::elementOf(local_pool()));
            for (const Endpoint& l : local_pool()) {
                if (*rc::gen::weightedElement<bool>({{1, true}, {2, false}})) {
                    w.bind_errors[l] = *rc::gen::element(EADDRINUSE, EADDRNOTAVAIL);
                }
            }
        }

        std::vector<sim::FileEvent> events;
        if (!dns) {
            w.addresses = *rc::gen::container<std::vector<Endpoint>>(
                static_cast<std::size_t>(*rc::gen::inRange(1, 9)), rc::gen::elementOf(remote_pool()));
        } else {
            for (Family f : {Family::v6, Family::v4}) {
                enum { never, none, error, addresses };
                int kind = *rc::gen::weightedElement<int>({{1, never}, {1, none}, {1, error}, {5, addresses}});
                if (shape.dns_always_answers && kind == never) kind = addresses;
                // A DNS world has at least one `dns` line (docs/behaviour.md §4).
                if (kind == never && (f == Family::v6 || !w.dns.empty())) continue;
                if (kind == never) kind = addresses;
                sim::DnsAnswer a;
                a.family = f;
                a.at = *time_upto(400);
                if (kind == none) {
                    a.kind = sim::DnsAnswer::Kind::none;
                } else if (kind == error) {
                    a.kind = sim::DnsAnswer::Kind::error;
                    a.code = *rc::gen::element(0, EIO, ETIMEDOUT);
                } else {
                    a.kind = sim::DnsAnswer::Kind::addresses;
                    const auto& pool = f == Family::v6 ? v6_pool() : v4_pool();
                    a.addresses = *rc::gen::container<std::vector<Endpoint>>(
                        static_cast<std::size_t>(*rc::gen::inRange(1, 5)), rc::gen::elementOf(pool));
                }
                sim::FileEvent e;
                e.kind = sim::FileEvent::Kind::dns;
                e.at = a.at;
                e.dns_index = w.dns.size();
                w.dns.push_back(a);
                events.push_back(e);
            }
        }
        if (shape.allow_cancel && *rc::gen::weightedElement<bool>({{1, true}, {4, false}})) {
            sim::FileEvent e;
            e.kind = sim::FileEvent::Kind::cancel;
            e.at = *time_upto(600);
            events.push_back(e);
        }
        // File order decides the order of events at one instant: shuffle it.
        if (events.size() > 1 && *rc::gen::arbitrary<bool>()) std::swap(events.front(), events.back());
        if (events.size() > 2 && *rc::gen::arbitrary<bool>()) std::swap(events[0], events[1]);
        w.events = events;

        std::vector<Endpoint> remotes = remote_pool();
        if (shape.beyond && *rc::gen::arbitrary<bool>()) {
            Config& c = w.config;
            if (c.attempt_delay && *rc::gen::weightedElement<bool>({{1, true}, {2, false}})) {
                c.attempt_delay = std::chrono::milliseconds(250);  // what `attempt-delay=auto` sets
                c.auto_attempt_delay = true;
            }
            c.min_attempt_delay = *rc::gen::element<Duration>(std::chrono::milliseconds(10),
                                                              std::chrono::milliseconds(50),
                                                              std::chrono::milliseconds(100));
            c.max_attempt_delay = *rc::gen::element<Duration>(std::chrono::milliseconds(200),
                                                              std::chrono::milliseconds(500),
                                                              std::chrono::seconds(2));
            c.delay_multiplier = *rc::gen::element(1.0, 1.5, 2.0, 3.0);
            c.network = *rc::gen::element<std::string>("", "wifi");
            const int lines = *rc::gen::inRange(0, 4);
            for (int i = 0; i < lines; ++i) {
                sim::HistoryLine h;
                h.address = *rc::gen::elementOf(remote_pool());
                h.rtt = *time_between(1, 300);
                h.network = *rc::gen::element<std::string>("", "wifi", "other");
                w.history.push_back(h);
            }
            if (*rc::gen::weightedElement<bool>({{1, true}, {2, false}})) {
                // An IPv6-only network with NAT64: IPv4 literals and A answers
                // become IPv6 under the prefix; scenario lines name them so.
                c.ipv4_unavailable = true;
                c.pref64 = Pref64::parse(*rc::gen::element<std::string>("64:ff9b::/96", "2001:db8:122:300::/56"));
                for (const Endpoint& v4 : remote_pool()) {
                    if (!v4.is_v4()) continue;
                    if (auto v6 = synthesize(v4, *c.pref64)) remotes.push_back(*v6);
                }
            }
        }

        for (const Endpoint& r : remotes) {
            if (shape.allow_open_errors && *rc::gen::weightedElement<bool>({{1, true}, {9, false}})) {
                w.open_errors[r] = *rc::gen::element(EMFILE, EAFNOSUPPORT, ENOBUFS);
            }
            enum { ok, err, hang, none };
            int kind = *rc::gen::weightedElement<int>({{7, ok}, {7, err}, {3, hang}, {3, none}});
            if (!shape.allow_hang && (kind == hang || kind == none)) kind = err;
            if (kind == none) continue;  // no line: hangs (docs/behaviour.md §4)
            sim::ConnectRule rule;
            if (kind == hang) {
                rule.kind = sim::ConnectRule::Kind::hang;
            } else {
                rule.kind = kind == ok ? sim::ConnectRule::Kind::ok : sim::ConnectRule::Kind::error;
                if (kind == err) rule.code = *connect_errno();
                rule.after = *time_upto(500);
            }
            w.connects[r] = rule;
        }
        return w;
    });
}

}  // namespace eyeballs::prop
