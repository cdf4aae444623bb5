// SPDX-License-Identifier: BSL-1.0
// Bytes for unit tests, written as hex text.
#ifndef EYEBALLS_TESTS_UNIT_TEST_BYTES_HPP
#define EYEBALLS_TESTS_UNIT_TEST_BYTES_HPP

#include <gtest/gtest.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

namespace eyeballs_test {

// "00 01 03 66 6f 6f" → bytes; anything after ';' on a line is a comment.
inline std::vector<std::uint8_t> hex(const std::string& text) {
    std::vector<std::uint8_t> out;
    int high = -1;
    bool comment = false;
    for (const char c : text) {
        if (c == ';') comment = true;
        if (c == '\n') comment = false;
        if (comment || !std::isxdigit(static_cast<unsigned char>(c))) continue;
        const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::tolower(c) - 'a' + 10;
        if (high < 0) {
            high = v;
        } else {
            out.push_back(static_cast<std::uint8_t>(high << 4 | v));
            high = -1;
        }
    }
    EXPECT_EQ(high, -1) << "odd number of hex digits";
    return out;
}

}  // namespace eyeballs_test

#endif
