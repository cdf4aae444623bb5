// SPDX-License-Identifier: BSL-1.0
// Actions print as one readable line (test failure messages and logs use it).
#include <gtest/gtest.h>

#include <sstream>
#include <string>

#include "eyeballs/action.hpp"

namespace eyeballs {
namespace {

Endpoint ep(const char* text) { return *Endpoint::parse(text, 443); }

TEST(Action, OutcomeNames) {
    EXPECT_STREQ(outcome_name(Outcome::connected), "connected");
    EXPECT_STREQ(outcome_name(Outcome::failed), "failed");
    EXPECT_STREQ(outcome_name(Outcome::cancelled), "cancelled");
}

TEST(Action, ResolveNamesTheRecordType) {
    EXPECT_EQ(to_string(Action{Resolve{Family::v6}}), "resolve AAAA");
    EXPECT_EQ(to_string(Action{Resolve{Family::v4}}), "resolve A");
}

TEST(Action, SocketActions) {
    EXPECT_EQ(to_string(Action{OpenSocket{AttemptId(1), ep("2001:db8::1")}}),
              "open #1 [2001:db8::1]:443");
    EXPECT_EQ(to_string(Action{Bind{AttemptId(1), ep("192.0.2.9:0")}}), "bind #1 192.0.2.9:0");
    EXPECT_EQ(to_string(Action{Connect{AttemptId(2), ep("192.0.2.1"), ep("192.0.2.9:0")}}),
              "connect #2 192.0.2.1:443 from 192.0.2.9:0");
    EXPECT_EQ(to_string(Action{Connect{AttemptId(3), ep("2001:db8::c000:201"), std::nullopt}}),
              "connect #3 [2001:db8::c000:201]:443");
    EXPECT_EQ(to_string(Action{Close{AttemptId(1)}}), "close #1");
}

TEST(Action, Reports) {
    EXPECT_EQ(to_string(Action{Report{Outcome::connected, AttemptId(2), ep("192.0.2.1")}}),
              "report connected #2 192.0.2.1:443");
    EXPECT_EQ(to_string(Action{Report{Outcome::failed, {}, std::nullopt}}), "report failed");
    EXPECT_EQ(to_string(Action{Report{Outcome::cancelled, {}, std::nullopt}}), "report cancelled");
}

TEST(Action, StreamOperators) {
    std::ostringstream os;
    os << Action{Close{AttemptId(7)}} << " | " << AttemptId(2) << " | " << AttemptId();
    EXPECT_EQ(os.str(), "close #7 | #2 | #0");
}

TEST(Action, EqualityComparesEveryField) {
    const Action plain = Connect{AttemptId(2), ep("192.0.2.1"), std::nullopt};
    const Action bound = Connect{AttemptId(2), ep("192.0.2.1"), ep("192.0.2.9:0")};
    EXPECT_EQ(plain, (Action{Connect{AttemptId(2), ep("192.0.2.1"), std::nullopt}}));
    EXPECT_NE(plain, bound);
    EXPECT_NE(plain, (Action{Connect{AttemptId(3), ep("192.0.2.1"), std::nullopt}}));
    EXPECT_NE(plain, (Action{Connect{AttemptId(2), ep("192.0.2.2"), std::nullopt}}));
    EXPECT_NE(Action{Close{AttemptId(1)}}, Action{Close{AttemptId(2)}});
    EXPECT_NE(Action{Resolve{Family::v6}}, Action{Resolve{Family::v4}});
    EXPECT_NE(Action{Close{AttemptId(1)}}, (Action{OpenSocket{AttemptId(1), ep("192.0.2.1")}}));
}

TEST(AttemptId, IdentityIsTheNumber) {
    EXPECT_FALSE(AttemptId());
    EXPECT_TRUE(AttemptId(1));
    EXPECT_EQ(AttemptId(3).number(), 3u);
    EXPECT_EQ(AttemptId(3), AttemptId(3));
    EXPECT_LT(AttemptId(2), AttemptId(3));
}

}  // namespace
}  // namespace eyeballs
