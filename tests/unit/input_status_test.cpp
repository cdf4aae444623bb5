// SPDX-License-Identifier: BSL-1.0
// What RaceMachine's inputs return (issue 16 item 10): accepted, late (race
// over / attempt ended), unknown_attempt, out_of_order — one test per input
// kind, each through the statuses it can give.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "eyeballs/race_machine.hpp"

using namespace std::chrono_literals;
using namespace eyeballs;

namespace {

Endpoint ep(const char* text) { return Endpoint::parse(text, 443).value_or(Endpoint{}); }

const TimePoint t0{std::chrono::seconds(1000)};
const Endpoint v6a = ep("[2001:db8::a]:443");
const Endpoint v6b = ep("[2001:db8::b]:443");
const Endpoint v4a = ep("192.0.2.1:443");
const Endpoint local6 = ep("[2001:db8::99]:0");

// Drains and returns the attempt of the last OpenSocket / Bind / Connect seen.
struct Seen {
    std::vector<AttemptId> open, bind, connect;
};
Seen drain(RaceMachine& m) {
    Seen s;
    while (auto a = m.poll_action()) {
        if (auto* o = std::get_if<OpenSocket>(&*a)) s.open.push_back(o->attempt);
        if (auto* b = std::get_if<Bind>(&*a)) s.bind.push_back(b->attempt);
        if (auto* c = std::get_if<Connect>(&*a)) s.connect.push_back(c->attempt);
    }
    return s;
}

constexpr InputStatus accepted = InputStatus::accepted;
constexpr InputStatus late = InputStatus::late;
constexpr InputStatus unknown = InputStatus::unknown_attempt;
constexpr InputStatus out_of_order = InputStatus::out_of_order;

TEST(InputStatus, NamesAndMisuse) {
    EXPECT_EQ(to_string(accepted), "accepted");
    EXPECT_EQ(to_string(late), "late");
    EXPECT_EQ(to_string(unknown), "unknown_attempt");
    EXPECT_EQ(to_string(out_of_order), "out_of_order");
    EXPECT_FALSE(is_misuse(accepted));
    EXPECT_FALSE(is_misuse(late));
    EXPECT_TRUE(is_misuse(unknown));
    EXPECT_TRUE(is_misuse(out_of_order));
}

TEST(InputStatus, AttemptInputsThroughTheirStages) {
    Config c;
    c.local = {local6};
    RaceMachine m(c);
    ASSERT_TRUE(m.start(t0, {v6a, v6b}));
    Seen s = drain(m);
    ASSERT_EQ(s.open.size(), 1u);
    const AttemptId a1 = s.open[0];
    // Unknown ids: 0 and one never started.
    EXPECT_EQ(m.handle_opened(t0, AttemptId(0)), unknown);
    EXPECT_EQ(m.handle_connected(t0, AttemptId(7)), unknown);
    EXPECT_EQ(m.handle_progress(t0, AttemptId(7)), unknown);
    // Opening: only handle_opened fits.
    EXPECT_EQ(m.handle_bound(t0, a1), out_of_order);
    EXPECT_EQ(m.handle_connected(t0, a1), out_of_order);
    EXPECT_EQ(m.handle_connect_failed(t0, a1, ECONNREFUSED), out_of_order);
    EXPECT_EQ(m.handle_secured(t0, a1), out_of_order);
    EXPECT_EQ(m.handle_secure_failed(t0, a1, EPROTO), out_of_order);
    EXPECT_EQ(m.handle_opened(t0, a1), accepted);
    s = drain(m);
    ASSERT_EQ(s.bind.size(), 1u);
    // Binding: answered twice is out of order.
    EXPECT_EQ(m.handle_opened(t0, a1), out_of_order);
    EXPECT_EQ(m.handle_connected(t0, a1), out_of_order);
    EXPECT_EQ(m.handle_bound(t0, a1), accepted);
    s = drain(m);
    ASSERT_EQ(s.connect.size(), 1u);
    EXPECT_EQ(m.handle_bound(t0, a1), out_of_order);
    // Progress is a QUIC attempt's: out of order for a TCP one.
    EXPECT_EQ(m.handle_progress(t0, a1), out_of_order);
    // With Success::connect there is no handshake to report.
    EXPECT_EQ(m.handle_secured(t0, a1), out_of_order);
    EXPECT_EQ(m.handle_secure_failed(t0, a1, EPROTO), out_of_order);
    // Connecting: fails, then the ended attempt's inputs are late.
    EXPECT_EQ(m.handle_connect_failed(t0 + 10ms, a1, ECONNREFUSED), accepted);
    EXPECT_EQ(m.handle_connected(t0 + 10ms, a1), late);
    EXPECT_EQ(m.handle_connect_failed(t0 + 10ms, a1, ECONNREFUSED), late);
    EXPECT_EQ(m.handle_opened(t0 + 10ms, a1), late);
    EXPECT_EQ(m.handle_progress(t0 + 10ms, a1), late);
    EXPECT_EQ(m.handle_timeout(t0 + 10ms), accepted);
    s = drain(m);
    ASSERT_EQ(s.open.size(), 1u);
    const AttemptId a2 = s.open[0];
    EXPECT_EQ(m.handle_opened(t0 + 10ms, a2), accepted);
    EXPECT_EQ(m.handle_opened(t0 + 10ms, a2), out_of_order);
    EXPECT_EQ(m.handle_bound(t0 + 10ms, a2), accepted);
    s = drain(m);
    ASSERT_EQ(s.connect.size(), 1u);
    EXPECT_EQ(m.handle_connected(t0 + 20ms, a2), accepted);
    ASSERT_TRUE(m.finished());
    // Over: everything is late, an id never issued is still unknown.
    EXPECT_EQ(m.handle_connected(t0 + 20ms, a2), late);
    EXPECT_EQ(m.handle_connect_failed(t0 + 20ms, a2, ECONNRESET), late);
    EXPECT_EQ(m.handle_secured(t0 + 20ms, a2), late);
    EXPECT_EQ(m.handle_progress(t0 + 20ms, a2), late);
    EXPECT_EQ(m.handle_opened(t0 + 20ms, AttemptId(9)), unknown);
    EXPECT_EQ(m.handle_timeout(t0 + 1s), late);
    EXPECT_EQ(m.cancel(t0 + 1s), late);
}

TEST(InputStatus, HandshakeInputs) {
    Config c;
    c.success = Success::handshake;
    RaceMachine m(c);
    ASSERT_TRUE(m.start(t0, {v6a}));
    const AttemptId a1 = drain(m).open.at(0);
    EXPECT_EQ(m.handle_opened(t0, a1), accepted);
    drain(m);
    EXPECT_EQ(m.handle_secured(t0, a1), out_of_order);  // not connected yet
    EXPECT_EQ(m.handle_secure_failed(t0, a1, EPROTO), out_of_order);  // TCP, not QUIC
    EXPECT_EQ(m.handle_connected(t0, a1), accepted);
    EXPECT_EQ(m.handle_connected(t0, a1), out_of_order);  // twice
    EXPECT_EQ(m.handle_connect_failed(t0, a1, ECONNRESET), out_of_order);
    EXPECT_EQ(m.handle_secured(t0, a1), accepted);
    EXPECT_TRUE(m.finished());
    EXPECT_EQ(m.handle_secure_failed(t0, a1, EPROTO), late);
}

TEST(InputStatus, TimeoutAndCancel) {
    RaceMachine m{Config{}};
    EXPECT_EQ(m.handle_timeout(t0), out_of_order);  // no timer before start
    EXPECT_FALSE(m.started());
    EXPECT_EQ(m.cancel(t0), accepted);
    EXPECT_TRUE(m.finished());
    EXPECT_EQ(m.cancel(t0), late);
    EXPECT_EQ(m.handle_timeout(t0), late);
}

TEST(InputStatus, OriginDnsAnswers) {
    RaceMachine idle{Config{}};
    EXPECT_EQ(idle.handle_resolved(t0, Family::v6, {v6a}), out_of_order);  // never asked
    EXPECT_FALSE(idle.started());

    RaceMachine addr{Config{}};
    ASSERT_TRUE(addr.start(t0, {v6a}));
    EXPECT_EQ(addr.handle_resolved(t0, Family::v6, {v6a}), out_of_order);  // address mode
    EXPECT_EQ(addr.handle_resolve_failed(t0, Family::v4), out_of_order);

    RaceMachine m{Config{}};
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m);
    EXPECT_EQ(m.handle_resolve_failed(t0, Family::v4, DnsError::nxdomain), accepted);
    EXPECT_EQ(m.handle_resolved(t0, Family::v4, {v4a}), out_of_order);  // answered twice
    EXPECT_EQ(m.handle_resolve_failed(t0, Family::v4), out_of_order);
    EXPECT_EQ(m.handle_resolved(t0, Resolve(Family::v6, true), {v6a}), out_of_order);  // https
    EXPECT_EQ(m.handle_resolved(t0, Resolve(Family::v6, false, "other.example"), {v6a}),
              out_of_order);  // a name never asked
    EXPECT_EQ(m.handle_https(t0, Resolve(Family::v6, true), {}), out_of_order);  // https off
    EXPECT_EQ(m.handle_resolved(t0, Resolve(Family::v6), {v6a}), accepted);
    EXPECT_EQ(m.handle_resolved(t0, Family::v6, {v6a}), out_of_order);
    const AttemptId a1 = drain(m).open.at(0);
    EXPECT_EQ(m.cancel(t0), accepted);
    EXPECT_EQ(m.handle_opened(t0, a1), late);
    EXPECT_EQ(m.handle_resolved(t0, Family::v6, {v6a}), late);
    EXPECT_EQ(m.handle_resolve_failed(t0, Resolve(Family::v4), ETIMEDOUT), late);
}

TEST(InputStatus, HttpsAnswers) {
    Config c;
    c.https = true;
    RaceMachine m(c);
    ASSERT_TRUE(m.start_resolving(t0));
    drain(m);
    const Resolve https(Family::v6, true);
    EXPECT_EQ(m.handle_https(t0, Resolve(Family::v6, true, "other.example"), {}), out_of_order);
    EXPECT_EQ(m.handle_https(t0, Resolve(Family::v6), {}), out_of_order);  // an address query
    EXPECT_EQ(m.handle_https(t0, https, {}), accepted);
    EXPECT_EQ(m.handle_https(t0, https, {}), out_of_order);  // answered twice
    EXPECT_EQ(m.handle_resolve_failed(t0, https), out_of_order);
    EXPECT_EQ(m.handle_resolve_failed(t0, Resolve(Family::v6), DnsError::nodata), accepted);
    EXPECT_EQ(m.handle_resolve_failed(t0, Resolve(Family::v6)), out_of_order);
    EXPECT_EQ(m.handle_resolved(t0, Resolve(Family::v4), {}), accepted);
    EXPECT_TRUE(m.finished());
    EXPECT_EQ(m.handle_https(t0, https, {}), late);
    EXPECT_EQ(m.handle_resolve_failed(t0, https), late);
}

}  // namespace
