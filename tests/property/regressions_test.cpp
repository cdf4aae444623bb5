// SPDX-License-Identifier: BSL-1.0
// Worlds the properties once found (shrunk by hand to a few lines), kept as
// deterministic tests: the machine against the reference model on each. A
// random search may take tens of thousands of cases to meet one of them again;
// these meet it every run.
#include <gtest/gtest.h>

#include <string>

#include "model.hpp"
#include "scenario.hpp"
#include "world.hpp"

using namespace eyeballs;
using namespace eyeballs::prop;

namespace {

void expect_machine_matches_model(const char* text) {
    const sim::ParseResult parsed = sim::parse_scenario(text, "regression.scn");
    ASSERT_TRUE(parsed.ok()) << parsed.error.text();
    const std::string diff = compare(model::run_model(*parsed.scenario), run_machine(*parsed.scenario));
    EXPECT_TRUE(diff.empty()) << "world:\n" << text << diff;
}

}  // namespace

// docs/behaviour.md §1 rule 4: a start the floor defers "counts as the Next Connection Attempt
// Timer in rule 8's order of timers", and docs/behaviour.md §4: every event of an instant is
// delivered "before any timer due at that instant fires"; rule 3: "a failure of
// an older attempt while a newer one is in flight changes no timer".
// attempt-delay 10 ms < min-start-gap 20 ms: #1 at 0, #2 at 20, #3 deferred to
// 40. At 40 #1 (older) is refused, then #2 connects: #2 wins and #3 never starts.
TEST(ModelRegressions, DeferredStartWaitsForTheEventsOfItsInstant) {
    expect_machine_matches_model(
        "config attempt-delay=10ms min-start-gap=20ms\n"
        "addresses [2001:db8::1] 192.0.2.1 [2001:db8::2]\n"
        "connect [2001:db8::1] error ECONNREFUSED after 40ms\n"
        "connect 192.0.2.1 ok after 20ms\n");
}

// The same with a fail-fast start: #3 (newest) is refused at 205, so #4 is
// deferred to the floor, 220. At 220 #1 (older; #2 still in flight) is refused,
// then #2 connects: #2 wins and #4 never starts.
TEST(ModelRegressions, DeferredFailFastStartWaitsForTheEventsOfItsInstant) {
    expect_machine_matches_model(
        "config attempt-delay=100ms min-start-gap=20ms\n"
        "addresses [2001:db8::1] 192.0.2.1 [2001:db8::2] 192.0.2.2\n"
        "connect [2001:db8::1] error ECONNREFUSED after 220ms\n"
        "connect 192.0.2.1 ok after 120ms\n"
        "connect [2001:db8::2] error ECONNREFUSED after 5ms\n");
}

// The same in DNS mode, with a resolve error as the unrelated event: #1 times
// out at 55 (attempt-timeout 5 ms), its fail-fast start is deferred to the floor,
// 60. At 60 the A query fails, then the caller cancels: the race is cancelled
// with nothing more started.
TEST(ModelRegressions, DeferredStartWaitsForAResolveErrorAndACancelAtItsInstant) {
    expect_machine_matches_model(
        "config attempt-delay=20ms attempt-timeout=5ms\n"
        "dns AAAA at 50ms: 2001:db8::3 2001:db8::4\n"
        "dns A at 60ms: error EIO\n"
        "cancel at 60ms\n");
}

// Rule 3 at the Next Connection Attempt Timer's own instant: "when the most
// recently started attempt fails, the next attempt starts at once" — during
// the failure event, as scenario connect_failure_at_timer_instant_restarts_timer
// says — and docs/behaviour.md §4: its `connect ... after 0` result is "delivered at that
// instant, before the timers not yet fired", the overall timeout included.
// #1 is refused at 100 = the timer = the overall timeout: #2 starts at once and
// connects at 100, before the overall timeout fires.
TEST(ModelRegressions, FailFastAtTheTimerInstantStartsDuringTheEvent) {
    expect_machine_matches_model(
        "config attempt-delay=100ms overall-timeout=100ms\n"
        "addresses 2001:db8::1 192.0.2.1\n"
        "connect 2001:db8::1 error ECONNREFUSED after 100ms\n"
        "connect 192.0.2.1 ok after 0\n");
}

// docs/behaviour.md §2: a new address when nothing is in flight "starts at once (rule 3,
// with the floor of rule 4)". #1 (IPv6, no IPv6 local) fails at 10; its
// fail-fast start is deferred to the floor, 60. At 60 the A answer arrives with
// nothing in flight: at 60 the floor allows a start, so #2 (192.0.2.1) starts
// during that event, and its `after 0` success comes before the overall
// timeout of 60 fires.
TEST(ModelRegressions, NewAddressAtTheFloorInstantWithNothingInFlightStartsAtOnce) {
    expect_machine_matches_model(
        "config attempt-delay=250ms min-start-gap=50ms overall-timeout=60ms\n"
        "local 192.0.2.9\n"
        "dns AAAA at 10ms: 2001:db8::3 2001:db8::4\n"
        "dns A at 60ms: 192.0.2.1\n"
        "connect 192.0.2.1 ok after 0\n");
}
