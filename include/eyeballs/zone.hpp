// SPDX-License-Identifier: BSL-1.0
// eyeballs — interface names for zones: the ZoneLookup that asks the system.
//
// Endpoint::parse accepts numeric zones (`fe80::1%2`) on its own and does no
// I/O; a zone written as an interface name (`fe80::1%eth0`, RFC 4007 §11)
// parses when a ZoneLookup is passed. This is the one programs pass:
//
//     auto ep = eyeballs::Endpoint::parse(text, 443, &error, eyeballs::interface_index);
//
// The interface is looked up when the text is parsed (if_nametoindex, RFC
// 3493 §4.1); the Endpoint holds the index.
#pragma once

#ifdef _WIN32
#include <winsock2.h>
#include <iphlpapi.h>  // if_nametoindex (Windows Vista and later; link iphlpapi)
#else
#include <net/if.h>
#endif

#include <cstdint>
#include <optional>
#include <string>

namespace eyeballs {

/// The index of the interface named `name`, or nullopt when there is none.
inline std::optional<std::uint32_t> interface_index(const std::string& name) {
    const unsigned index = ::if_nametoindex(name.c_str());
    if (index == 0) return std::nullopt;
    return static_cast<std::uint32_t>(index);
}

}  // namespace eyeballs
