// SPDX-License-Identifier: BSL-1.0
// eyeballs — DNS names between presentation text and uncompressed wire form
// (RFC 1035 §2.3.4, §3.1, §5.1). Private to eyeballs::core: shared by the
// SVCB/HTTPS RDATA code (TargetName) and the whole-message code (owner,
// question and CNAME names). Not installed; no public header includes it.
#ifndef EYEBALLS_SRC_DNS_NAME_HPP
#define EYEBALLS_SRC_DNS_NAME_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace eyeballs::detail {

// RFC 1035 §2.3.4: labels are 63 octets or less, names 255 octets or less
// (counting the length octets and the root's zero).
constexpr std::size_t max_label = 63;
constexpr std::size_t max_name = 255;

// Appends the wire form of the presentation name `text` ("www.example.com.",
// "www.example.com", "." — `\.`, `\\` and `\DDD` escapes) to `out`: its
// labels, then the root's zero. A name without the final dot is taken as
// fully qualified. On failure returns false and sets `why` to the reason,
// which quotes `text` where that helps (callers add their own context);
// `out` may then hold part of the name.
bool name_to_wire(std::string_view text, std::vector<std::uint8_t>& out, std::string& why);

// The RFC 1035 §5.1 presentation form of the uncompressed wire name
// wire[0, size): "www.example.com.", "." for the root; octets that would be
// misread are escaped (`\.`, `\\`, `\DDD`). Reads no further than `size`.
std::string name_to_text(const std::uint8_t* wire, std::size_t size);

}  // namespace eyeballs::detail

#endif
