// SPDX-License-Identifier: BSL-1.0
// The version is written once, in CMakeLists.txt's project(); version.hpp must agree.
#include <gtest/gtest.h>

#include <string>

#include "eyeballs/version.hpp"

#ifndef EYEBALLS_PROJECT_VERSION
#error "tests/unit/CMakeLists.txt must define EYEBALLS_PROJECT_VERSION"
#endif

namespace {

TEST(Version, HeaderMatchesProjectVersion) {
    EXPECT_STREQ(EYEBALLS_VERSION_STRING, EYEBALLS_PROJECT_VERSION);
}

TEST(Version, PartsMatchTheString) {
    const std::string parts = std::to_string(EYEBALLS_VERSION_MAJOR) + "." +
                              std::to_string(EYEBALLS_VERSION_MINOR) + "." +
                              std::to_string(EYEBALLS_VERSION_PATCH);
    EXPECT_EQ(parts, EYEBALLS_VERSION_STRING);
}

}  // namespace
