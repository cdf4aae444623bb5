// SPDX-License-Identifier: BSL-1.0
// Micro-benchmarks of the RaceMachine: the cost of a whole race and of one
// event, heap allocations per race (a replaced global operator new counts
// them), and the memory a machine holds.
//
//   build/release/bench/eyeballs_machine_bench --benchmark_repetitions=5 \
//       --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <vector>

#include "eyeballs/race_machine.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
    g_allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace eyeballs;
using namespace std::chrono_literals;

namespace {

std::vector<Endpoint> addresses(int n, Family first = Family::v6) {
    std::vector<Endpoint> out;
    for (int i = 0; i < n; ++i) {
        const bool v6 = (i % 2 == 0) == (first == Family::v6);
        if (v6) {
            std::array<std::uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
            b[15] = static_cast<std::uint8_t>(i + 1);
            out.push_back(Endpoint::v6(b, 443));
        } else {
            out.push_back(Endpoint::v4({192, 0, 2, static_cast<std::uint8_t>(i + 1)}, 443));
        }
    }
    return out;
}

// Answers OpenSocket/Bind at once; counts the inputs fed (events).
long drain(RaceMachine& m, TimePoint now) {
    long events = 0;
    while (auto a = m.poll_action()) {
        if (auto* o = std::get_if<OpenSocket>(&*a)) {
            m.handle_opened(now, o->attempt, 0);
            ++events;
        }
        benchmark::DoNotOptimize(*a);
    }
    return events;
}

struct World {
    std::vector<Endpoint> all, v6, v4;
    explicit World(int n) : all(addresses(n)) {
        for (auto& e : all) (e.is_v6() ? v6 : v4).push_back(e);
    }
};

// One whole race: every attempt starts on the timer and hangs; the last one
// connects and the others are closed. Returns the number of events fed.
long race(const World& w, bool dns, std::size_t* peak_bytes = nullptr) {
    Config c;
    c.attempt_delay = 20ms;
    RaceMachine m(c);
    TimePoint t{};
    long events = 1;
    if (dns) {
        (void)m.start_resolving(t);
        events += drain(m, t);
        t += 5ms;
        m.handle_resolved(t, Family::v6, w.v6);
        events += 1 + drain(m, t);
        t += 3ms;
        m.handle_resolved(t, Family::v4, w.v4);
        events += 1 + drain(m, t);
    } else {
        (void)m.start(t, w.all);
        events += drain(m, t);
    }
    while (m.candidates_left() > 0) {
        t = *m.next_timeout();
        m.handle_timeout(t);
        events += 1 + drain(m, t);
    }
    t += 1ms;
    m.handle_connected(t, AttemptId(m.attempts_started()));
    events += 1 + drain(m, t);
    if (peak_bytes) *peak_bytes = sizeof(RaceMachine) + m.heap_bytes();
    return events;
}

void BM_Race(benchmark::State& state) {
    const int n = static_cast<int>(state.range(0));
    const bool dns = state.range(1) != 0;
    const World eps(n);
    long events = 0;
    const long alloc_before = g_allocations.load();
    for (auto _ : state) events += race(eps, dns);
    const long allocs = g_allocations.load() - alloc_before;
    state.counters["events_per_race"] =
        benchmark::Counter(static_cast<double>(events) / static_cast<double>(state.iterations()));
    state.counters["ns_per_event"] = benchmark::Counter(
        static_cast<double>(events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["allocs_per_race"] =
        benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(state.iterations()));
    std::size_t bytes = 0;
    race(eps, dns, &bytes);
    state.counters["machine_bytes"] = static_cast<double>(bytes);
    state.SetLabel(dns ? "dns" : "addresses");
}
BENCHMARK(BM_Race)->ArgsProduct({{2, 16}, {0, 1}})->ArgNames({"addrs", "dns"});

// A failed race of 16 addresses: every attempt refused (16 recorded errors).
void BM_RaceAllRefused16(benchmark::State& state) {
    const auto eps = addresses(16);
    std::size_t bytes = 0;
    long allocs_total = 0;
    for (auto _ : state) {
        const long before = g_allocations.load();
        Config c;
        RaceMachine m(c);
        TimePoint t{};
        (void)m.start(t, eps);
        drain(m, t);
        for (std::uint32_t i = 1; i <= 16; ++i) {
            t += 10ms;
            m.handle_connect_failed(t, AttemptId(i), ECONNREFUSED);
            drain(m, t);
        }
        allocs_total += g_allocations.load() - before;
        bytes = sizeof(RaceMachine) + m.heap_bytes();
        benchmark::DoNotOptimize(m);
    }
    state.counters["allocs_per_race"] = benchmark::Counter(
        static_cast<double>(allocs_total) / static_cast<double>(state.iterations()));
    state.counters["machine_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RaceAllRefused16);

// Allocations per kind of event, measured around the single input call.
void BM_AllocationsPerEvent(benchmark::State& state) {
    const auto eps = addresses(16);
    long timer = 0, result = 0, close = 0, dns = 0, error = 0;
    long timers = 0, results = 0, closes = 0, answers = 0, errors = 0;
    for (auto _ : state) {
        {
            RaceMachine m;
            TimePoint t{};
            (void)m.start(t, eps);
            drain(m, t);
            for (int i = 0; i < 5; ++i) {
                t = *m.next_timeout();
                long b = g_allocations.load();
                m.handle_timeout(t);
                drain(m, t);
                timer += g_allocations.load() - b;
                ++timers;
            }
            t += 1ms;
            long b = g_allocations.load();
            m.handle_connected(t, AttemptId(3));  // a result that closes 5 others
            drain(m, t);
            close += g_allocations.load() - b;
            ++closes;
        }
        {
            RaceMachine m;
            TimePoint t{};
            (void)m.start(t, eps);
            drain(m, t);
            t += 5ms;
            // the first recorded error may allocate (the error list grows)
            long b = g_allocations.load();
            m.handle_connect_failed(t, AttemptId(1), ECONNREFUSED);
            drain(m, t);
            error += g_allocations.load() - b;
            ++errors;
            t += 20ms;
            m.handle_timeout(t);
            drain(m, t);
            b = g_allocations.load();
            m.handle_connected(t, AttemptId(7));  // unknown: ignored
            m.handle_connect_failed(t, AttemptId(9), ECONNREFUSED);
            result += g_allocations.load() - b;
            results += 2;
        }
        {
            RaceMachine m;
            TimePoint t{};
            (void)m.start_resolving(t);
            drain(m, t);
            std::vector<Endpoint> v6(eps.begin(), eps.begin() + 8);
            for (auto& e : v6) e = Endpoint::v6(e.bytes(), 443);
            long b = g_allocations.load();
            m.handle_resolved(t, Family::v6, v6);
            drain(m, t);
            dns += g_allocations.load() - b;
            ++answers;
        }
    }
    state.counters["allocs_per_timer_event"] = static_cast<double>(timer) / static_cast<double>(timers);
    state.counters["allocs_per_result_event"] = static_cast<double>(result) / static_cast<double>(results);
    state.counters["allocs_per_close_event"] = static_cast<double>(close) / static_cast<double>(closes);
    state.counters["allocs_per_dns_answer"] = static_cast<double>(dns) / static_cast<double>(answers);
    state.counters["allocs_per_recorded_error"] = static_cast<double>(error) / static_cast<double>(errors);
}
BENCHMARK(BM_AllocationsPerEvent);

}  // namespace

BENCHMARK_MAIN();
