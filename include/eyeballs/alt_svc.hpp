// SPDX-License-Identifier: BSL-1.0
// eyeballs — HTTP Alternative Services (RFC 7838): the Alt-Svc header field's
// value, parsed (issue 17 item 9).
//
//   Alt-Svc: h3=":443"; ma=86400, h2="alt.example:8443"
//   Alt-Svc: clear
//
// An HTTP client that got this header from an origin can race the
// alternatives it names (Config::alt_svc): each becomes a service of the
// race (protocol from its ALPN id, host and port from its authority).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace eyeballs {

/// One alternative (RFC 7838 §3 `alt-value`).
struct AltSvc {
    /// The ALPN protocol id, percent-decoded (RFC 7838 §3: `protocol-id` is
    /// percent-encoded): "h3", "h2", "http/1.1".
    std::string alpn;
    /// The alternative's host; empty: the origin's own host (`":443"`).
    /// An IPv6 literal is kept without its brackets.
    std::string host;
    std::uint16_t port = 0;  ///< 1-65535
    /// `ma=` (seconds): how long the alternative may be used; 86400 (24
    /// hours) when absent (RFC 7838 §3.1).
    std::uint32_t max_age = 86400;
    bool persist = false;  ///< `persist=1` (RFC 7838 §3.1)

    friend bool operator==(const AltSvc& a, const AltSvc& b) {
        return a.alpn == b.alpn && a.host == b.host && a.port == b.port &&
               a.max_age == b.max_age && a.persist == b.persist;
    }
};

/// A whole field value: `clear` (RFC 7838 §3: every alternative of the
/// origin is invalidated) or a list of alternatives in the order given
/// (the server's preference order).
struct AltSvcValue {
    bool clear = false;
    std::vector<AltSvc> alternatives;
};

/// Parses an Alt-Svc field value. Unknown parameters are ignored (RFC 7838
/// §3: "Unknown parameters MUST be ignored"); a known one with a bad value,
/// a bad protocol id or authority, or a syntax error fails with a message
/// naming what and where ("alternative 2: port 70000 is outside 1-65535").
/// `ma=` values above 2^32-1 saturate.
std::optional<AltSvcValue> parse_alt_svc(std::string_view value, std::string* error = nullptr);

/// The alternative in field syntax: `h3=":443"; ma=86400`.
std::string to_string(const AltSvc& alt);

}  // namespace eyeballs
