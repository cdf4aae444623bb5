// SPDX-License-Identifier: BSL-1.0
// The property tests' main: every property runs at least 1000 cases unless
// RC_PARAMS asks for something else explicitly (e.g. a `reproduce=` string
// printed by a failure, or `max_success=100` while editing).
#include <rapidcheck.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

constexpr int min_cases = 1000;

}  // namespace

// The configuration ctest runs really asks for ≥ 1000 cases, and RapidCheck
// really runs them.
TEST(PropertyConfig, EveryPropertyRunsAtLeast1000Cases) {
    EXPECT_GE(rc::detail::configuration().testParams.maxSuccess, min_cases)
        << "RC_PARAMS lowers max_success below " << min_cases;
    int cases = 0;
    const bool ok = rc::check("count cases", [&] { ++cases; });
    EXPECT_TRUE(ok);
    EXPECT_GE(cases, min_cases);
}

int main(int argc, char** argv) {
    // RapidCheck reads RC_PARAMS once, at its first use: set the default first.
    // Later keys win, so an explicit RC_PARAMS still overrides max_success.
    std::string params = "max_success=" + std::to_string(min_cases);
    if (const char* given = std::getenv("RC_PARAMS")) {
        params += ' ';
        params += given;
    }
    setenv("RC_PARAMS", params.c_str(), 1);
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
