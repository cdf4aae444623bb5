// SPDX-License-Identifier: BSL-1.0
// The machine against the reference model (tests/property/model.cpp) over
// random worlds, and the harness against eyeballs-sim's own parser and driver.
// A failure prints the world as scenario text: save it as a .scn file and
// replay it with `eyeballs-sim --json`.
#include <gtest/gtest.h>
// rapidcheck/gtest.h needs gtest first.
#include <rapidcheck/gtest.h>

#include "generators.hpp"
#include "model.hpp"
#include "scenario.hpp"
#include "world.hpp"

using namespace eyeballs;
using namespace eyeballs::prop;

namespace {

void check_against_model(const sim::Scenario& world) {
    const model::Expected expected = model::run_model(world);
    const Run run = run_machine(world);
    const std::string diff = compare(expected, run);
    if (!diff.empty()) RC_FAIL("the machine and the model disagree on this world:\n" + to_text(world) + diff);
    RC_CLASSIFY(!expected.finished, "never ends");
    RC_CLASSIFY(expected.finished && expected.outcome == Outcome::connected, "connected");
    RC_CLASSIFY(expected.finished && expected.outcome == Outcome::failed, "failed");
    RC_CLASSIFY(expected.finished && expected.outcome == Outcome::cancelled, "cancelled");
}

}  // namespace

RC_GTEST_PROP(ModelAgreement, AddressesMode, ()) {
    WorldShape shape;
    shape.mode = WorldShape::Mode::addresses;
    check_against_model(*gen_world(shape));
}

RC_GTEST_PROP(ModelAgreement, DnsMode, ()) {
    WorldShape shape;
    shape.mode = WorldShape::Mode::dns;
    check_against_model(*gen_world(shape));
}

RC_GTEST_PROP(ModelAgreement, SequentialMode, ()) {
    WorldShape shape;
    shape.sequential = true;
    check_against_model(*gen_world(shape));
}

RC_GTEST_PROP(ModelAgreement, RacingWithoutCancelOrTimeouts, ()) {
    // Races that run to their natural end: every rule of §1–§3 but rules 8–9.
    WorldShape shape;
    shape.sequential = false;
    shape.allow_cancel = false;
    shape.allow_timeouts = false;
    check_against_model(*gen_world(shape));
}

// The scenario printer and eyeballs-sim's parser agree: a world printed as text
// parses back to the same world. (This is what makes a counterexample replayable.)
RC_GTEST_PROP(SimTool, PrintedWorldParsesBack, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const std::string text = to_text(world);
    const sim::ParseResult parsed = sim::parse_scenario(text, "world.scn");
    if (!parsed.ok()) RC_FAIL("eyeballs-sim rejects a valid world:\n" + text + parsed.error.text());
    std::string why;
    if (!same_world(world, *parsed.scenario, &why)) RC_FAIL("parsed back differently (" + why + "):\n" + text);
}

// eyeballs-sim's virtual-time driver and this harness's (written separately)
// give the same trace for the same world.
RC_GTEST_PROP(SimTool, DriverAgreesWithHarness, ()) {
    const sim::Scenario world = *gen_world(any_world());
    const Run ours = run_machine(world);
    std::vector<Step> theirs;
    const sim::RunResult r = sim::run_scenario(world, [&](TimePoint now, const Action& a, const RaceMachine&) {
        theirs.push_back(Step{now - sim::sim_origin(), a});
    });
    const bool ours_finished = ours.end == Run::End::finished;
    const bool theirs_finished = r.end == sim::RunResult::End::finished;
    if (ours_finished != theirs_finished || canonical(ours.trace) != canonical(theirs)) {
        RC_FAIL("eyeballs-sim's driver and the harness disagree:\n" + to_text(world) + "harness:\n" +
                to_text(canonical(ours.trace)) + "eyeballs-sim:\n" + to_text(canonical(theirs)));
    }
}
