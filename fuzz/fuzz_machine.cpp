// SPDX-License-Identifier: BSL-1.0
// fuzz_machine: the RaceMachine under an event stream built from the input
// bytes (FuzzedDataProvider) — a configuration (sometimes invalid), addresses
// mode or DNS mode, then inputs of every kind in any order, at times that never
// go backwards, with OpenSocket/Bind answered from the bytes while draining.
// Every action is checked against the machine's contract as it comes out, and
// a broken invariant traps (__builtin_trap), which libFuzzer reports as a crash.
//
// Checked: at most one Report, the last action, nothing after it (whatever is
// fed); attempts numbered 1, 2, ... in order; Bind/Connect/Close only for an
// attempt whose socket was opened, Connect once, from the bound local; every
// opened socket closed at most once, never the winner's, never one whose
// creation failed, and — once the race is cancelled at the end — exactly once;
// no start within min-start-gap of the previous; handle_timeout(t) leaves no
// deadline at or before t; attempts_in_flight() agrees with the actions; the
// report's errors come resolve errors first, then by attempt. With https=on
// (Happy Eyeballs v3) HTTPS answers of random records (alias chains, targets,
// hints, ALPN, ECH, unknown mandatory keys) are fed too, fresh or stale, for
// the questions the machine asked and others, and handshake results: no
// remote is attempted twice over one transport, and plan() lists every
// attempt in order.
#include <FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "eyeballs/history.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/sort.hpp"

namespace {

using namespace eyeballs;
using namespace std::chrono_literals;

#define CHECK(cond)                          \
    do {                                     \
        if (!(cond)) __builtin_trap();       \
    } while (false)

const TimePoint t0{std::chrono::hours(1)};

Endpoint endpoint(FuzzedDataProvider& in, std::uint16_t default_port) {
    static const Endpoint pool[] = {
        *Endpoint::parse("[2001:db8::1]:443", 0),  *Endpoint::parse("[2001:db8::2]:443", 0),
        *Endpoint::parse("[::ffff:192.0.2.5]:443", 0), *Endpoint::parse("192.0.2.1:443", 0),
        *Endpoint::parse("192.0.2.2:443", 0),      *Endpoint::parse("198.51.100.7:80", 0),
        *Endpoint::parse("[2001:db8::9]:0", 0),    *Endpoint::parse("192.0.2.9:0", 0),
    };
    constexpr std::size_t pool_size = sizeof(pool) / sizeof(pool[0]);
    const auto pick = in.ConsumeIntegralInRange<std::size_t>(0, pool_size + 1);
    if (pick < pool_size) return pool[pick];
    const auto port = in.ConsumeBool() ? default_port : in.ConsumeIntegral<std::uint16_t>();
    if (pick == pool_size) {
        std::array<std::uint8_t, 4> b{};
        for (auto& x : b) x = in.ConsumeIntegral<std::uint8_t>();
        return Endpoint::v4(b, port);
    }
    std::array<std::uint8_t, 16> b{};
    for (auto& x : b) x = in.ConsumeIntegral<std::uint8_t>();
    return Endpoint::v6(b, port);
}

std::vector<Endpoint> endpoints(FuzzedDataProvider& in, std::size_t max, std::uint16_t port) {
    std::vector<Endpoint> out(in.ConsumeIntegralInRange<std::size_t>(0, max));
    for (auto& e : out) e = endpoint(in, port);
    return out;
}

Duration duration(FuzzedDataProvider& in, std::int64_t max_ms) {
    // Mostly whole milliseconds; sometimes any nanosecond count.
    if (in.ConsumeBool()) return std::chrono::milliseconds(in.ConsumeIntegralInRange<std::int64_t>(0, max_ms));
    return Duration(in.ConsumeIntegralInRange<std::int64_t>(0, max_ms * 1000000));
}

int code(FuzzedDataProvider& in) {
    static const int codes[] = {0, ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT, EADDRINUSE,
                                EMFILE, EAFNOSUPPORT, EIO};
    const auto i = in.ConsumeIntegralInRange<std::size_t>(0, sizeof(codes) / sizeof(codes[0]));
    if (i < sizeof(codes) / sizeof(codes[0])) return codes[i];
    return in.ConsumeIntegral<int>();  // any value, even negative
}

// The RTT history a configuration may point to (it must outlive the machine).
std::optional<History> history_;

Config config(FuzzedDataProvider& in) {
    history_.reset();
    Config c;
    if (in.ConsumeIntegralInRange(0, 4) == 0) {
        c.attempt_delay.reset();
    } else {
        c.attempt_delay = duration(in, 2200);  // sometimes outside 10 ms … 2 s
    }
    c.resolution_delay = duration(in, 2100);
    c.family_count = in.ConsumeIntegralInRange<std::uint32_t>(0, 4);  // 0 is invalid
    switch (in.ConsumeIntegralInRange(0, 2)) {
        case 0: c.interleave.reset(); break;
        case 1: c.interleave = true; break;
        default: c.interleave = false; break;
    }
    if (in.ConsumeBool()) c.attempt_timeout = duration(in, 700);
    if (in.ConsumeBool()) c.overall_timeout = duration(in, 3000);
    c.min_start_gap = duration(in, 110);
    c.local = endpoints(in, 4, 0);
    c.duplicates = in.ConsumeIntegralInRange(0, 3) == 0 ? Duplicates::keep : Duplicates::drop;
    if (!in.ConsumeBool()) return c;
    // Issue 8: sorting, source information, RTT history, attempt-delay=auto,
    // delay schedules, NAT64 (some of it outside the valid ranges).
    switch (in.ConsumeIntegralInRange(0, 2)) {
        case 0: c.sort = SortMode::automatic; break;
        case 1: c.sort = SortMode::off; break;
        default: c.sort = SortMode::rfc6724; break;
    }
    if (in.ConsumeBool()) {
        const std::uint8_t salt = in.ConsumeIntegral<std::uint8_t>();
        c.source_info = [salt](const Endpoint& d) -> std::optional<SourceInfo> {
            // A fixed function of the destination, so the sort sees one answer each.
            const std::uint8_t h = static_cast<std::uint8_t>(d.bytes()[d.is_v4() ? 3 : 15] ^ salt);
            if (h % 5 == 0) return std::nullopt;
            SourceInfo s;
            if (h % 5 != 1) s.source = d;
            s.deprecated = h & 8;
            s.native = !(h & 16);
            s.home = !(h & 32);
            return s;
        };
    }
    c.auto_attempt_delay = in.ConsumeBool();
    c.min_attempt_delay = duration(in, 300);
    c.max_attempt_delay = duration(in, 2500);
    c.delay_multiplier = in.ConsumeFloatingPointInRange(0.5, 17.0);
    if (in.ConsumeBool()) {
        c.network = in.ConsumeBool() ? "" : "wifi";
        history_.emplace(in.ConsumeIntegralInRange<std::size_t>(0, 8));
        for (int i = in.ConsumeIntegralInRange(0, 6); i > 0; --i) {
            const Endpoint e = endpoint(in, 443);
            const std::string net = in.ConsumeBool() ? c.network : "other";
            if (in.ConsumeBool()) {
                history_->record_success(net, e, duration(in, 900), t0);
            } else {
                history_->record_failure(net, e, t0);
            }
        }
        c.history = &*history_;
    }
    if (in.ConsumeBool()) {
        static const char* const prefixes[] = {"64:ff9b::/96", "2001:db8::/32", "2001:db8:100::/40",
                                               "2001:db8:122::/48", "2001:db8:122:300::/56",
                                               "2001:db8:122:344::/64"};
        c.ipv4_unavailable = in.ConsumeBool();
        c.pref64 = Pref64::parse(prefixes[in.ConsumeIntegralInRange<std::size_t>(0, 5)]);
    }
    if (in.ConsumeBool()) {
        c.https = true;
        c.quic = in.ConsumeBool();
        c.success = in.ConsumeBool() ? Success::handshake : Success::connect;
        c.shuffle_seed = in.ConsumeIntegral<std::uint64_t>();
        c.alias_limit = in.ConsumeIntegralInRange<std::uint32_t>(0, 17);  // 0 and 17 invalid
        c.port = in.ConsumeIntegralInRange<std::uint16_t>(0, 3) == 0 ? 0 : 443;
        // v3 §6.3 and ECH (any mix: the invalid ones must be refused by start).
        if (in.ConsumeIntegralInRange(0, 2) == 0) {
            c.ech = static_cast<EchMode>(in.ConsumeIntegralInRange(0, 2));
            c.ech_fallback = in.ConsumeBool();
            c.dns_protected = in.ConsumeBool();
        }
    }
    return c;
}

const char* const names[] = {".", "a.example.", "b.example.", "A.Example.", "c.example", "d.example."};

std::vector<SvcbRecord> records(FuzzedDataProvider& in) {
    static const char* const ids[] = {"h3", "h2", "http/1.1", "h3-29"};
    std::vector<SvcbRecord> out(in.ConsumeIntegralInRange<std::size_t>(0, 4));
    for (SvcbRecord& r : out) {
        r.priority = in.ConsumeIntegralInRange<std::uint16_t>(0, 3);
        r.target = names[in.ConsumeIntegralInRange<std::size_t>(0, 5)];
        for (const char* id : ids) {
            if (in.ConsumeBool()) r.alpn.push_back(id);
        }
        r.no_default_alpn = in.ConsumeBool();
        if (in.ConsumeBool()) r.port = in.ConsumeIntegral<std::uint16_t>();
        for (const Endpoint& e : endpoints(in, 3, 0)) (e.is_v4() ? r.ipv4hint : r.ipv6hint).push_back(e);
        if (in.ConsumeBool()) r.ech = std::vector<std::uint8_t>{1, 2, 3};
        if (in.ConsumeIntegralInRange(0, 5) == 0) {
            r.mandatory = {7};
            r.unknown_keys = {{7, {'x'}}};
        }
    }
    return out;
}

/// What the checker knows of one attempt, from the actions alone.
struct Seen {
    Endpoint remote;
    Protocol protocol = Protocol::tcp;
    bool open_failed = false;
    bool socket = false;  // OpenSocket answered with 0
    bool connected = false;
    int closes = 0;
    std::optional<Endpoint> bound;
    bool binding = false;
};

class Harness {
public:
    explicit Harness(FuzzedDataProvider& in) : in_(in), m_(config(in)) {}

    void run() {
        const bool dns = in_.ConsumeBool();
        dns_ = dns;
        const Status s = dns ? m_.start_resolving(now_) : start_addresses();
        if (!s) {
            // Refused (bad configuration, empty list): nothing happens, and no
            // input makes anything happen.
            CHECK(!s.message().empty());
            CHECK(!m_.started());
            m_.handle_timeout(now_ + std::chrono::hours(1));
            m_.handle_connected(now_, AttemptId(1));
            m_.handle_resolve_failed(now_, Family::v6);
            CHECK(!m_.poll_action());
            CHECK(!m_.next_timeout());
            return;
        }
        CHECK(validate(m_.config()) == std::nullopt);
        CHECK(!m_.start_resolving(now_));  // a second start is refused
        drain();
        int steps = 0;
        while (in_.remaining_bytes() > 0 && ++steps < 4000) step();
        // The end of the world: the caller cancels. Every opened socket must now
        // have been closed exactly once, except the winner's.
        m_.cancel(now_);
        drain();
        CHECK(m_.finished());
        CHECK(reports_ == 1);
        for (const auto& [n, a] : seen_) {
            if (a.socket && !a.connected) CHECK(a.closes == 1);
            if (!a.socket || a.connected) CHECK(a.closes == 0);
        }
        check_report();
    }

private:
    Status start_addresses() {
        const std::vector<Endpoint> list = endpoints(in_, 12, 443);
        const Status s = m_.start(now_, list);
        if (list.empty()) CHECK(!s);
        return s;
    }

    void step() {
        // Time never goes backwards: move it by 0, a little, or to the deadline.
        switch (in_.ConsumeIntegralInRange(0, 3)) {
            case 0: break;
            case 1: now_ += duration(in_, 300); break;
            case 2:
                if (auto d = m_.next_timeout(); d && *d > now_) now_ = *d;
                break;
            default: now_ += Duration(in_.ConsumeIntegralInRange<std::int64_t>(0, 3)); break;
        }
        const std::uint32_t started = m_.attempts_started();
        const AttemptId any(in_.ConsumeIntegralInRange<std::uint32_t>(0, started + 1));
        switch (in_.ConsumeIntegralInRange(0, 9)) {
            case 0:
            case 1: {
                // The timer fires (docs/behaviour.md §7: after the instant's I/O).
                if (auto d = m_.next_timeout(); d && *d > now_ && in_.ConsumeBool()) now_ = *d;
                m_.handle_timeout(now_);
                drain();
                const auto next = m_.next_timeout();
                CHECK(!next || *next > now_);  // everything due at now fired
                return;
            }
            case 2: m_.handle_connected(now_, any); break;
            case 3: m_.handle_connect_failed(now_, any, code(in_)); break;
            case 4: {
                if (m_.config().https && in_.ConsumeBool()) {
                    v3_step(started);
                    break;
                }
                const Family f = in_.ConsumeBool() ? Family::v6 : Family::v4;
                const std::vector<Endpoint> answer = endpoints(in_, 6, 443);
                m_.handle_resolved(now_, f, answer);
                break;
            }
            case 5: {
                const Family f = in_.ConsumeBool() ? Family::v6 : Family::v4;
                const int c = code(in_);
                m_.handle_resolve_failed(now_, f, c, in_.ConsumeRandomLengthString(24));
                break;
            }
            case 6:
                if (in_.ConsumeIntegralInRange(0, 7) == 0) m_.cancel(now_);
                break;
            case 7: m_.handle_opened(now_, any, code(in_)); break;   // unasked: ignored
            case 8: m_.handle_bound(now_, any, code(in_)); break;    // unasked: ignored
            default: m_.handle_timeout(now_ - duration(in_, 50)); break;  // early / stale
        }
        drain();
    }

    // v3 inputs: answers to a question asked (or not), HTTPS records,
    // handshake results.
    void v3_step(std::uint32_t started) {
        Resolve q;
        std::string name;
        if (!asked_.empty() && in_.ConsumeIntegralInRange(0, 4) != 0) {
            const auto& [https, family, n] =
                asked_[in_.ConsumeIntegralInRange<std::size_t>(0, asked_.size() - 1)];
            q.https = https;
            q.family = family;
            name = n;
        } else {
            q.https = in_.ConsumeBool();
            q.family = in_.ConsumeBool() ? Family::v6 : Family::v4;
            if (in_.ConsumeBool()) name = names[in_.ConsumeIntegralInRange<std::size_t>(1, 5)];
        }
        q.name = name;
        const AttemptId any(in_.ConsumeIntegralInRange<std::uint32_t>(0, started + 1));
        switch (in_.ConsumeIntegralInRange(0, 6)) {
            case 0: m_.handle_https(now_, q, records(in_)); break;
            case 1: m_.handle_resolved(now_, q, endpoints(in_, 4, 443)); break;
            case 2: m_.handle_resolve_failed(now_, q, code(in_), in_.ConsumeRandomLengthString(8)); break;
            case 3: m_.handle_secured(now_, any); break;
            case 4: m_.handle_secure_failed(now_, any, code(in_)); break;
            case 5: ech_retry(any); break;
            default:  // v3 §4.4 / §7: a stale answer, or a changed one
                if (in_.ConsumeBool()) {
                    if (q.https && in_.ConsumeBool()) {
                        m_.handle_stale_https(now_, q, records(in_));
                    } else {
                        m_.handle_stale(now_, q, endpoints(in_, 4, 443));
                    }
                } else {
                    m_.handle_dns_update(now_, q, endpoints(in_, 4, 443));
                }
                break;
        }
        if (in_.ConsumeIntegralInRange(0, 15) == 0) check_plan();
    }

    void check_plan() {
        const std::vector<PlanEntry> plan = m_.plan();
        std::uint32_t n = 0;
        for (const PlanEntry& p : plan) {
            if (p.attempt == 0) break;
            CHECK(p.attempt == ++n);
        }
        CHECK(n == m_.attempts_started());
        for (std::size_t i = n; i < plan.size(); ++i) CHECK(plan[i].attempt == 0);
        if (!m_.finished()) CHECK(plan.size() - n == m_.candidates_left());
    }

    void drain() {
        while (auto a = m_.poll_action()) {
            CHECK(reports_ == 0);  // nothing after the report
            std::visit([&](const auto& x) { on(x); }, *a);
        }
        if (m_.finished()) {
            CHECK(reports_ == 1);
            CHECK(!m_.next_timeout());
            CHECK(m_.attempts_in_flight() == 0);
            return;
        }
        std::uint32_t in_flight = 0;
        for (const auto& [n, a] : seen_) {
            if (a.socket && !a.connected && a.closes == 0) ++in_flight;
        }
        CHECK(m_.attempts_in_flight() == in_flight);
    }

    void on(const Resolve& r) {
        ++resolves_;
        if (!m_.config().https) {
            CHECK(resolves_ <= 2 && !r.https && r.name.empty());
            return;
        }
        CHECK(resolves_ <= 100000);
        asked_.emplace_back(r.https, r.family, std::string(r.name));
    }

    void on(const OpenSocket& o) {
        const std::uint32_t n = o.attempt.number();
        CHECK(n > last_opened_ && n <= m_.attempts_started());
        CHECK(seen_.count(n) == 0);
        last_opened_ = n;
        // v3: one attempt per remote and transport; RFC 8305 races too unless
        // duplicates=keep (docs/behaviour.md §1 rule 1). An ECH retry opens
        // its endpoint once more.
        if (((m_.config().https && dns_) || m_.config().duplicates == Duplicates::drop) &&
            !endpoints_.insert({o.remote, o.protocol}).second) {
            CHECK(m_.config().https && dns_ && retry_opens_.erase({o.remote, o.protocol}) == 1);
        }
        CHECK(m_.config().https || (o.service == nullptr && o.protocol == Protocol::tcp));
        CHECK(m_.config().quic || o.protocol == Protocol::tcp);
        Seen& a = seen_[n];
        a.remote = o.remote;
        a.protocol = o.protocol;
        const int c = in_.ConsumeBool() ? 0 : code(in_);
        if (c != 0) {
            a.open_failed = true;
        } else {
            a.socket = true;
        }
        m_.handle_opened(now_, o.attempt, c);
    }

    void on(const Bind& b) {
        auto it = seen_.find(b.attempt.number());
        CHECK(it != seen_.end() && it->second.socket && !it->second.bound && it->second.closes == 0);
        CHECK(b.local.family() == it->second.remote.family());
        const auto& locals = m_.config().local;
        CHECK(std::find(locals.begin(), locals.end(), b.local) != locals.end());
        const int c = in_.ConsumeBool() ? 0 : code(in_);
        if (c == 0) it->second.bound = b.local;
        m_.handle_bound(now_, b.attempt, c);
    }

    void on(const Connect& c) {
        auto it = seen_.find(c.attempt.number());
        CHECK(it != seen_.end() && it->second.socket && it->second.closes == 0);
        CHECK(c.remote == it->second.remote);
        CHECK(c.local == it->second.bound);
        CHECK(m_.config().local.empty() || c.local.has_value());
        CHECK(connects_.insert(c.attempt.number()).second);  // once per attempt
    }

    // ECH retry configs for any attempt: at most one retry per endpoint
    // (remote and protocol) is ever taken, and only it may open that endpoint again.
    void ech_retry(AttemptId any) {
        const auto it = seen_.find(any.number());
        const bool was_finished = m_.finished();
        const std::string bytes = in_.ConsumeRandomLengthString(6);
        const Status s = m_.handle_ech_retry(
            now_, any, std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
        if (!s) return;
        CHECK(!was_finished && m_.config().ech != EchMode::off && !bytes.empty());
        CHECK(it != seen_.end() && crypto_ready_.count(any.number()) == 1);
        const std::pair<Endpoint, Protocol> key{it->second.remote, it->second.protocol};
        CHECK(retried_.insert(key).second);  // never twice
        retry_opens_.insert(key);
    }

    void on(const CryptoReady& r) {
        // Only with ech, once per attempt, after its connect, for a live TCP attempt.
        CHECK(m_.config().ech != EchMode::off);
        const auto it = seen_.find(r.attempt.number());
        CHECK(it != seen_.end() && it->second.socket && it->second.closes == 0);
        CHECK(it->second.protocol == Protocol::tcp);
        CHECK(connects_.count(r.attempt.number()) == 1);
        CHECK(crypto_ready_.insert(r.attempt.number()).second);
    }

    void on(const Close& c) {
        auto it = seen_.find(c.attempt.number());
        CHECK(it != seen_.end() && it->second.socket && !it->second.connected);
        CHECK(++it->second.closes == 1);
    }

    void on(const Report& r) {
        ++reports_;
        CHECK(m_.finished() && m_.outcome() == r.outcome);
        if (r.outcome == Outcome::connected) {
            auto it = seen_.find(r.winner.number());
            CHECK(it != seen_.end() && it->second.closes == 0 && connects_.count(r.winner.number()) == 1);
            CHECK(r.remote == it->second.remote);
            it->second.connected = true;
        } else {
            CHECK(!r.winner && !r.remote);
        }
    }

    void check_report() {
        const RaceReport r = m_.report();
        CHECK(r.attempts.size() == m_.attempts_started());
        const Duration gap = m_.config().min_start_gap;
        for (std::size_t i = 0; i < r.attempts.size(); ++i) {
            CHECK(r.attempts[i].id.number() == i + 1);
            if (i > 0) CHECK(r.attempts[i].started >= r.attempts[i - 1].started + gap);
            CHECK(r.attempts[i].state != AttemptRecord::State::in_flight);
        }
        std::uint32_t last_attempt = 0;
        for (const Error& e : r.errors) {
            CHECK(e.attempt >= last_attempt);  // resolve errors (0) first, then by attempt
            CHECK(e.attempt <= r.attempts.size());
            CHECK((e.attempt == 0) == (e.stage == Stage::resolve));
            last_attempt = e.attempt;
            (void)e.message();
        }
        if (r.outcome == Outcome::connected) CHECK(r.winner && r.remote);
    }

    FuzzedDataProvider& in_;
    RaceMachine m_;
    TimePoint now_ = t0;
    std::map<std::uint32_t, Seen> seen_;
    std::set<std::uint32_t> connects_;
    std::uint32_t last_opened_ = 0;
    int reports_ = 0;
    int resolves_ = 0;
    bool dns_ = false;
    std::vector<std::tuple<bool, Family, std::string>> asked_;
    std::set<std::pair<Endpoint, Protocol>> endpoints_;
    std::set<std::pair<Endpoint, Protocol>> retried_;      // ECH retries taken
    std::set<std::pair<Endpoint, Protocol>> retry_opens_;  // ... whose open is still due
    std::set<std::uint32_t> crypto_ready_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    Harness(in).run();
    return 0;
}
