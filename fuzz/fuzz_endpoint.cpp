// SPDX-License-Identifier: BSL-1.0
// fuzz_endpoint: Endpoint text (docs/behaviour.md §5, RFC 5952). Any text either parses or
// fails with a message; what parses prints in RFC 5952 form (checked here
// against an independent formatter written from RFC 5952 §4–§5), and printing
// then parsing gives the same endpoint and the same text again.
#include <FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "eyeballs/endpoint.hpp"

namespace {

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (false)

using eyeballs::Endpoint;

// RFC 5952: §4.1 no leading zeros, §4.2.1–4.2.3 `::` shortens the longest run
// (the first one on a tie) of two or more zero fields, §4.3 lower case, §5 the
// dotted quad for IPv4-mapped addresses only.
std::string rfc5952(const std::array<std::uint8_t, 16>& b) {
    unsigned field[8];
    for (int i = 0; i < 8; ++i) field[i] = static_cast<unsigned>(b[2 * i] << 8 | b[2 * i + 1]);
    const bool mapped = field[0] == 0 && field[1] == 0 && field[2] == 0 && field[3] == 0 &&
                        field[4] == 0 && field[5] == 0xffff;
    if (mapped) {
        char out[32];
        std::snprintf(out, sizeof out, "::ffff:%u.%u.%u.%u", b[12], b[13], b[14], b[15]);
        return out;
    }
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (field[i] != 0) {
            ++i;
            continue;
        }
        int j = i;
        while (j < 8 && field[j] == 0) ++j;
        if (j - i > best_len) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    if (best_len < 2) best = -1;
    std::string out;
    for (int i = 0; i < 8; ++i) {
        if (i == best) {
            out += "::";
            i += best_len - 1;
            continue;
        }
        if (!out.empty() && out.back() != ':') out += ':';
        char hex[8];
        std::snprintf(hex, sizeof hex, "%x", field[i]);
        out += hex;
    }
    return out;
}

void check_endpoint(const Endpoint& e) {
    CHECK(e.scope_id() == 0 || e.is_v6());  // zones are IPv6 only (RFC 4007 §11)
    const std::string address = e.address_string();
    const std::string zone = e.scope_id() != 0 ? "%" + std::to_string(e.scope_id()) : "";
    const std::string text = e.to_string();
    if (e.is_v4()) {
        const auto& b = e.bytes();
        char want[20];
        std::snprintf(want, sizeof want, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
        CHECK(address == want);
        CHECK(text == address + ":" + std::to_string(e.port()));
    } else {
        CHECK(address == rfc5952(e.bytes()) + zone);
        CHECK(text == "[" + address + "]:" + std::to_string(e.port()));
    }
    // Print → parse → print is stable, and gives back the same endpoint.
    std::string error;
    const std::optional<Endpoint> again = Endpoint::parse(text, static_cast<std::uint16_t>(e.port() + 1), &error);
    CHECK(again.has_value() && *again == e && again->to_string() == text);
    const std::optional<Endpoint> bare = Endpoint::parse_address(address, e.port());
    CHECK(bare.has_value() && *bare == e);
    CHECK(e.is_v4_mapped() == (e.is_v6() && address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    FuzzedDataProvider in(data, size);
    const auto port = in.ConsumeIntegral<std::uint16_t>();
    const std::string text = in.ConsumeRemainingBytesAsString();
    std::string error;
    if (const auto e = Endpoint::parse(text, port, &error)) {
        check_endpoint(*e);
    } else {
        CHECK(!error.empty());
    }
    error.clear();
    if (const auto e = Endpoint::parse_address(text, port, &error)) {
        CHECK(e->port() == port);
        check_endpoint(*e);
    } else {
        CHECK(!error.empty());
    }
    return 0;
}
