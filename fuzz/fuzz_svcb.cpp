// SPDX-License-Identifier: BSL-1.0
// fuzz_svcb: SVCB/HTTPS RDATA (RFC 9460 §2.2). Any bytes either parse or fail
// with a message. What parses writes back to exactly the bytes read (the wire
// form has one spelling: uncompressed name, keys in increasing order, values
// of fixed shape) — all of them in ServiceMode, the priority and target in
// AliasMode, whose SvcParams are ignored (§2.4.2) — and parses again to an
// equal record; its presentation form parses back to the same record.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eyeballs/svcb.hpp"

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (false)

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string error;
    const std::optional<eyeballs::SvcbRecord> r = eyeballs::parse_svcb_rdata(data, size, &error);
    if (!r) {
        CHECK(!error.empty());
        return 0;
    }
    // Printing and parsing the presentation form gives the record back.
    const std::string text = eyeballs::to_presentation(*r);
    const std::optional<eyeballs::SvcbRecord> printed = eyeballs::parse_svcb_presentation(text, &error);
    CHECK(printed.has_value() && *printed == *r);
    const std::optional<std::vector<std::uint8_t>> wire = eyeballs::serialize_svcb_rdata(*r, &error);
    CHECK(wire.has_value());
    CHECK(wire->size() <= size);
    CHECK(std::equal(wire->begin(), wire->end(), data));
    CHECK(r->alias_mode() || wire->size() == size);
    const std::optional<eyeballs::SvcbRecord> again = eyeballs::parse_svcb_rdata(wire->data(), wire->size(), &error);
    CHECK(again.has_value() && *again == *r);
    return 0;
}
