// SPDX-License-Identifier: BSL-1.0
// eyeballs — SVCB/HTTPS resource records (RFC 9460): the RDATA wire format,
// parsed and written, and the presentation form printed.
//
// Groundwork for Happy Eyeballs v3 (issue 10): an HTTPS answer's ServiceMode
// records bring a priority, a target name, a port, ALPN ids, address hints and
// an ECH config. Pure functions: no I/O, no DNS message parsing — the caller
// hands in one record's RDATA (what c-ares or evdns give for type 64/65).
//
// What parse_svcb_rdata() checks (RFC 9460):
//   §2.2   SvcPriority (2 octets), TargetName as an uncompressed DNS name
//          ("MUST NOT be compressed"), then SvcParams: key (2), length (2),
//          value; the RR is malformed when the RDATA ends inside a SvcParam,
//          the keys are not in strictly increasing order, or a value does not
//          have its key's format.
//   §2.4.2 AliasMode (priority 0): SvcParams are ignored ("recipients MUST
//          ignore any SvcParams that are present"), so the record has none.
//   §7.1   alpn: one or more length-prefixed, non-empty ALPN ids that exactly
//          fill the value; no-default-alpn: an empty value.
//   §7.2   port: 2 octets.   §7.3 ipv4hint / ipv6hint: a non-empty multiple
//          of 4 / 16 octets.  ech: opaque (ECHConfigList), kept as bytes.
//   §8     mandatory: a non-empty list of 2-octet keys in strictly increasing
//          order, not listing key 0, each present in the record.
// Keys this library does not know (7 and up, e.g. dohpath or ohttp) are kept
// as raw bytes; a caller that finds one of them in `mandatory` must skip the
// record (§8: "clients MUST ignore any RR with a mandatory key they do not
// support") — see SvcbRecord::mandatory_ok().
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

/// SvcParamKey numbers (RFC 9460 §14.3.2).
namespace svcb_key {
inline constexpr std::uint16_t mandatory = 0;
inline constexpr std::uint16_t alpn = 1;
inline constexpr std::uint16_t no_default_alpn = 2;
inline constexpr std::uint16_t port = 3;
inline constexpr std::uint16_t ipv4hint = 4;
inline constexpr std::uint16_t ech = 5;
inline constexpr std::uint16_t ipv6hint = 6;
}  // namespace svcb_key

/// One SVCB or HTTPS record (the two share the RDATA format, RFC 9460 §9).
struct SvcbRecord {
    /// SvcPriority: 0 is AliasMode, anything else ServiceMode, lower first.
    std::uint16_t priority = 0;
    /// TargetName in presentation form, fully qualified ("foo.example.com."),
    /// with RFC 1035 §5.1 escapes (`\.`, `\\`, `\DDD`) for octets that need
    /// them. "." is the root: in ServiceMode the owner name itself (§2.5), in
    /// AliasMode "service not available" (§2.5.1).
    std::string target = ".";

    /// The keys listed by `mandatory` (key 0), increasing; empty when absent.
    std::vector<std::uint16_t> mandatory;
    /// ALPN ids in the record's order (key 1); empty when absent.
    std::vector<std::string> alpn;
    /// key 2 present.
    bool no_default_alpn = false;
    /// key 3.
    std::optional<std::uint16_t> port;
    /// keys 4 and 6, with port 0 (the connection's port comes from `port` or
    /// the scheme's default: use hint.with_port(...)).
    std::vector<Endpoint> ipv4hint;
    std::vector<Endpoint> ipv6hint;
    /// key 5: the ECHConfigList, opaque here.
    std::optional<std::vector<std::uint8_t>> ech;
    /// Keys above 6, strictly increasing, with their raw values.
    std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>> unknown_keys;

    /// AliasMode (priority 0, §2.4.2).
    bool alias_mode() const noexcept { return priority == 0; }
    /// True when every key in `mandatory` is one this library interprets
    /// (1-6); false when the record depends on a key it only carries along,
    /// which §8 tells clients to treat as "ignore this record".
    bool mandatory_ok() const noexcept;
    /// True when every key `mandatory` lists is present in the record and key
    /// 0 is not among them (RFC 9460 §8: "listed keys MUST also appear in the
    /// SvcParams"). The parsers never return a record that breaks this, but a
    /// record built by hand can: RaceMachine::handle_https ignores such a
    /// ServiceMode record (§2.4.3: "Clients MUST reject any RR whose
    /// recognized SvcParams are not self-consistent").
    bool self_consistent() const noexcept;
    /// `port`, or `default_port` (443 for HTTPS) when the record has none.
    std::uint16_t port_or(std::uint16_t default_port) const noexcept {
        return port.value_or(default_port);
    }

    friend bool operator==(const SvcbRecord& a, const SvcbRecord& b) noexcept;
    friend bool operator!=(const SvcbRecord& a, const SvcbRecord& b) noexcept { return !(a == b); }
};

/// Parses one SVCB/HTTPS RDATA (RFC 9460 §2.2). On failure returns nullopt
/// and, when `error` is given, a message naming the offset and the rule, e.g.
/// "SVCB offset 19: key 1 after key 3: SvcParamKeys must be in strictly
/// increasing order (RFC 9460 §2.2)". Never reads past `data + size`.
std::optional<SvcbRecord> parse_svcb_rdata(const std::uint8_t* data, std::size_t size,
                                           std::string* error = nullptr);

/// Writes the RDATA of `record` (keys in increasing order, as §2.2 requires).
/// Fails (nullopt and a message) for what cannot be written: a target that is
/// not a valid name, an empty or over-long ALPN id, a hint of the wrong family,
/// `mandatory` not increasing or listing key 0 or a missing key, unknown keys
/// not above 6 or not increasing, a value over 65535 octets. For an AliasMode
/// record the SvcParams are written as given (a reader ignores them).
std::optional<std::vector<std::uint8_t>> serialize_svcb_rdata(const SvcbRecord& record,
                                                              std::string* error = nullptr);

/// The record in RFC 9460 presentation form (§2.1), SvcParams in key order:
/// `1 . alpn=h3,h2 port=8443 ipv6hint=2001:db8::1`,
/// `0 foo.example.com.`, `16 foo.example.org. mandatory=alpn,ipv4hint
/// alpn=h2,h3-19 ipv4hint=192.0.2.1`, `1 . ech=AEX+DQ... key667=hello`.
/// ALPN ids and unknown values use the §2.1/§A.1 escapes (`\,` inside a
/// value-list, `\\`, `\DDD` for non-printable octets).
std::string to_presentation(const SvcbRecord& record);

/// Parses the presentation form (RFC 9460 §2.1, without owner, TTL, class
/// and type): `PRIORITY TARGET [key[=value] ...]`, as scenario files write
/// HTTPS answers. Values may be quoted; `\X` and `\DDD` escapes as in RFC
/// 1035 §5.1; alpn and mandatory are value-lists (Appendix A.1, `\,` for a
/// comma inside an item); ipv4hint/ipv6hint are comma-separated addresses;
/// ech is base64; `keyNNNNN` names any key (key0-key6 mean the named ones).
/// Params may come in any order but at most once each; the result obeys the
/// same rules as parse_svcb_rdata() (mandatory, value shapes), and an
/// AliasMode record may carry none (§2.4.2). The target comes back in
/// canonical form (fully qualified, escapes as to_presentation() prints), so
/// parse_svcb_presentation(to_presentation(r)) == r for every record
/// parse_svcb_rdata() returns. On failure returns nullopt and a message.
std::optional<SvcbRecord> parse_svcb_presentation(std::string_view text, std::string* error = nullptr);

/// "mandatory", "alpn", ..., "ipv6hint", or "key<N>" for the rest.
std::string svcb_key_name(std::uint16_t key);

}  // namespace eyeballs
