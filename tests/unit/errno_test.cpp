// SPDX-License-Identifier: BSL-1.0
// errno names: every Linux <errno.h> name, aliases parse and print canonically;
// on Windows, the C runtime's <errno.h> names and the Winsock names.
#include <gtest/gtest.h>

#ifdef _WIN32
#include <winsock2.h>
#endif

#include <cerrno>
#include <cstring>
#include <set>
#include <string>

#include "eyeballs/error.hpp"

namespace eyeballs {
namespace {

TEST(ErrnoNames, CommonNetworkErrors) {
    EXPECT_STREQ(errno_name(ECONNREFUSED), "ECONNREFUSED");
    EXPECT_STREQ(errno_name(ETIMEDOUT), "ETIMEDOUT");
    EXPECT_STREQ(errno_name(ENETUNREACH), "ENETUNREACH");
    EXPECT_STREQ(errno_name(EHOSTUNREACH), "EHOSTUNREACH");
    EXPECT_STREQ(errno_name(EADDRINUSE), "EADDRINUSE");
    EXPECT_STREQ(errno_name(EADDRNOTAVAIL), "EADDRNOTAVAIL");
    EXPECT_STREQ(errno_name(ECONNRESET), "ECONNRESET");
    EXPECT_STREQ(errno_name(EMFILE), "EMFILE");
    EXPECT_STREQ(errno_name(EAFNOSUPPORT), "EAFNOSUPPORT");
    EXPECT_STREQ(errno_name(EPERM), "EPERM");
    EXPECT_STREQ(errno_name(E2BIG), "E2BIG");
#ifdef EHWPOISON  // Linux only
    EXPECT_STREQ(errno_name(EHWPOISON), "EHWPOISON");
#endif
}

TEST(ErrnoNames, AliasesPrintAsTheirFirstSpelling) {
#if EWOULDBLOCK == EAGAIN
    EXPECT_STREQ(errno_name(EWOULDBLOCK), "EAGAIN");
#else  // Windows' C runtime gives each its own value
    EXPECT_STREQ(errno_name(EWOULDBLOCK), "EWOULDBLOCK");
#endif
#if ENOTSUP == EOPNOTSUPP
    EXPECT_STREQ(errno_name(ENOTSUP), "EOPNOTSUPP");
#else
    EXPECT_STREQ(errno_name(ENOTSUP), "ENOTSUP");
#endif
    EXPECT_EQ(EDEADLOCK, EDEADLK);
    EXPECT_STREQ(errno_name(EDEADLOCK), "EDEADLK");
}

TEST(ErrnoNames, AliasesParse) {
    EXPECT_EQ(errno_from_name("EWOULDBLOCK"), EWOULDBLOCK);
    EXPECT_EQ(errno_from_name("EAGAIN"), EAGAIN);
    EXPECT_EQ(errno_from_name("ENOTSUP"), ENOTSUP);
    EXPECT_EQ(errno_from_name("EOPNOTSUPP"), EOPNOTSUPP);
    EXPECT_EQ(errno_from_name("EDEADLOCK"), EDEADLK);
    EXPECT_EQ(errno_from_name("EDEADLK"), EDEADLK);
}

TEST(ErrnoNames, ParseKnownNames) {
    EXPECT_EQ(errno_from_name("ECONNREFUSED"), ECONNREFUSED);
    EXPECT_EQ(errno_from_name("ENETUNREACH"), ENETUNREACH);
    EXPECT_EQ(errno_from_name("ETIMEDOUT"), ETIMEDOUT);
    EXPECT_EQ(errno_from_name("E2BIG"), E2BIG);
#ifdef ERFKILL  // Linux only
    EXPECT_EQ(errno_from_name("ERFKILL"), ERFKILL);
#endif
}

TEST(ErrnoNames, UnknownNamesAndCodes) {
    EXPECT_EQ(errno_from_name(""), std::nullopt);
    EXPECT_EQ(errno_from_name("E"), std::nullopt);
    EXPECT_EQ(errno_from_name("econnrefused"), std::nullopt);  // case matters
    EXPECT_EQ(errno_from_name("ECONNREFUSED "), std::nullopt);
    EXPECT_EQ(errno_from_name("ECONNREFUSEDX"), std::nullopt);
    EXPECT_EQ(errno_from_name("ECONN"), std::nullopt);
    EXPECT_EQ(errno_from_name("EFOO"), std::nullopt);
    EXPECT_EQ(errno_from_name(std::string_view("EPERM\0", 6)), std::nullopt);
    EXPECT_EQ(errno_name(0), nullptr);
    EXPECT_EQ(errno_name(-1), nullptr);
    EXPECT_EQ(errno_name(9999), nullptr);
#ifdef __linux__
    EXPECT_EQ(errno_name(41), nullptr);  // the hole where EWOULDBLOCK's value once was
    EXPECT_EQ(errno_name(58), nullptr);
#endif
}

TEST(ErrnoNames, EveryNamedCodeRoundTrips) {
    // Linux numbers its errors 1 … 133 with two holes (41 and 58).
    int named = 0;
    std::set<std::string> names;
    for (int code = 1; code < 200; ++code) {
        const char* name = errno_name(code);
        if (name == nullptr) continue;
        ++named;
        names.insert(name);
        EXPECT_EQ(errno_from_name(name), code) << name;
        EXPECT_EQ(name[0], 'E') << name;
    }
#ifdef __linux__
    EXPECT_EQ(named, 131);
    EXPECT_EQ(names.size(), 131u);
#else
    EXPECT_GT(named, 30);  // at least C's and POSIX's socket errors
    EXPECT_EQ(names.size(), static_cast<std::size_t>(named));
#endif
}

#ifdef _WIN32
TEST(ErrnoNames, WinsockErrorsAreNamed) {
    // Socket calls on Windows fail with Winsock codes, not <errno.h> values;
    // reports name them as <winerror.h> does.
    EXPECT_STREQ(errno_name(WSAECONNREFUSED), "WSAECONNREFUSED");
    EXPECT_STREQ(errno_name(WSAETIMEDOUT), "WSAETIMEDOUT");
    EXPECT_STREQ(errno_name(WSAENETUNREACH), "WSAENETUNREACH");
    EXPECT_STREQ(errno_name(WSAEHOSTUNREACH), "WSAEHOSTUNREACH");
    EXPECT_STREQ(errno_name(WSAEADDRINUSE), "WSAEADDRINUSE");
    EXPECT_STREQ(errno_name(WSAECONNRESET), "WSAECONNRESET");
    EXPECT_STREQ(errno_name(WSAEWOULDBLOCK), "WSAEWOULDBLOCK");
    EXPECT_STREQ(errno_name(WSAHOST_NOT_FOUND), "WSAHOST_NOT_FOUND");
    EXPECT_EQ(errno_from_name("WSAECONNREFUSED"), WSAECONNREFUSED);
    int named = 0;
    for (int code = 10000; code < 11200; ++code) {
        const char* name = errno_name(code);
        if (name == nullptr) continue;
        ++named;
        EXPECT_EQ(errno_from_name(name), code) << name;
        EXPECT_EQ(std::string(name).rfind("WSA", 0), 0u) << name;
    }
    EXPECT_GE(named, 50);
}
#endif

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
TEST(ErrnoNames, AgreeWithGlibc) {
    // glibc ≥ 2.32 names errno values too; its canonical spellings are ours.
    for (int code = 1; code < 200; ++code) {
        const char* theirs = strerrorname_np(code);
        const char* ours = errno_name(code);
        if (theirs == nullptr) {
            EXPECT_EQ(ours, nullptr) << code;
        } else {
            ASSERT_NE(ours, nullptr) << code << " " << theirs;
            EXPECT_STREQ(ours, theirs) << code;
        }
    }
}
#endif

}  // namespace
}  // namespace eyeballs
