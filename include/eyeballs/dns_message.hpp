// SPDX-License-Identifier: BSL-1.0
// eyeballs — whole DNS messages (RFC 1035 §4) for the records Happy Eyeballs
// asks for: A, AAAA and SVCB/HTTPS (RFC 9460), with CNAME chains.
//
// Why: c-ares 1.18 and evdns cannot parse SVCB/HTTPS answers, so an adapter
// sends its own query and reads the whole response. Pure functions: no I/O,
// no clock, never an exception except std::bad_alloc, never a read outside
// [data, data + size). One record's SVCB RDATA is eyeballs/svcb.hpp's job;
// this layer finds the records in the message and hands their RDATA over.
//
// Usage (an adapter asking for HTTPS records over UDP):
//
//     std::string error;
//     auto query = eyeballs::build_dns_query(id, "example.com", eyeballs::dns_type::https, &error);
//     if (!query) fail(error);                  // a name DNS cannot carry
//     send(*query);
//     // ... for every datagram that arrives:
//     eyeballs::DnsResponse r = eyeballs::parse_dns_response(buf, n, id, "example.com",
//                                                            eyeballs::dns_type::https);
//     if (r.status == eyeballs::DnsResponse::Status::mismatch) continue;  // not ours: keep waiting
//     if (!r.ok()) fail(r.error);               // our answer, but unusable
//     else if (r.rcode != eyeballs::dns_rcode::noerror) fail(eyeballs::dns_rcode_name(r.rcode));
//     else use(r.svcb);                         // empty: NODATA. ServiceMode "." means r.name
//
// and a test server answering a query it received:
//
//     eyeballs::DnsResponseContent content;
//     content.svcb.push_back(*eyeballs::parse_svcb_presentation("1 . alpn=h3,h2"));
//     auto reply = eyeballs::build_dns_response(query, query_size, content, &error);
//
// Decisions (each checked by tests/unit/dns_message_test.cpp):
//  * Queries carry an EDNS0 OPT record (RFC 6891) offering a 1232-octet UDP
//    payload (the DNS Flag Day 2020 size that avoids IP fragmentation) unless
//    the caller passes 0: HTTPS answers with ECH configs outgrow the 512
//    octets of plain DNS, and a truncated answer would need TCP.
//  * parse_dns_response() sorts a datagram into one of three:
//      mismatch  — not the answer to this query: too short for a header, the
//                  wrong id, QR clear, an opcode other than QUERY, not exactly
//                  one question, or another question (name compared without
//                  ASCII case, RFC 4343; type; class IN). Ignore it and keep
//                  waiting (it may be late, stray or forged).
//      malformed — the answer to this query that cannot be used: the message
//                  breaks the wire format after the question (a name or record
//                  running past the end, a bad compression pointer, a CNAME's
//                  RDATA that is not one name), or its CNAME chain loops or is
//                  longer than dns_max_cname_chain. Treat the query as failed.
//      ok        — rcode, TC and the records for the question.
//  * Compression pointers (RFC 1035 §4.1.4) must point backwards, before the
//    start of the name part they end, and not into the header — which rejects
//    every loop and every forward pointer; a name is at most 255 octets.
//  * CNAMEs: from the question's name, a CNAME in the answer section (class
//    IN) owned by the current name leads to the next name — unless the
//    current name owns records of the asked type: those end the chain (a
//    CNAME's owner has no other data, RFC 2181 §10.1; when a server sends
//    both anyway, the data wins). The records kept are those of the asked
//    type owned by the last name (`name`). At most dns_max_cname_chain (8)
//    links; a name reached twice is a loop. Answer records owned by names
//    off the chain are ignored. With qtype CNAME no chain is followed.
//  * A record of the asked type that is malformed on its own — an A RDATA not
//    4 octets, AAAA not 16, an SVCB/HTTPS RDATA that parse_svcb_rdata()
//    rejects (RFC 9460 §2.4.3: "Clients MUST reject any RR whose recognized
//    SvcParams are not self-consistent and MAY reject the entire RRset") — is
//    skipped, with a line in `notes`; the rest are kept. A caller that wants
//    the stricter reading rejects the RRset when `notes` is not empty. Records
//    with an unsupported mandatory key (SvcbRecord::mandatory_ok()) and
//    AliasMode/ServiceMode mixes are kept: those are the caller's rules (§8,
//    §2.4.2).
//  * TC set: the message may end early. Records are read while they can be;
//    the first one that cannot (cut off, or broken) ends the reading, a note
//    says so, and what came before is kept. Without TC that is malformed.
//  * The RCODE is the header's 4 bits, extended by an OPT record's upper 8
//    (RFC 6891 §6.1.3). Authority and additional records are checked for
//    shape only; octets after the last record are ignored.
//  * Names come back in presentation form, fully qualified
//    ("www.example.com."), with RFC 1035 §5.1 escapes (`\.`, `\\`, `\DDD`)
//    — the same form as SvcbRecord::target. Names going in may leave out the
//    final dot and may use those escapes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/svcb.hpp"

namespace eyeballs {

/// Resource record types (RFC 1035 §3.2.2, RFC 3596, RFC 6891, RFC 9460).
namespace dns_type {
inline constexpr std::uint16_t a = 1;
inline constexpr std::uint16_t cname = 5;
inline constexpr std::uint16_t aaaa = 28;
inline constexpr std::uint16_t opt = 41;
inline constexpr std::uint16_t svcb = 64;
inline constexpr std::uint16_t https = 65;
}  // namespace dns_type

/// The Internet class.
inline constexpr std::uint16_t dns_class_in = 1;

/// Response codes (RFC 1035 §4.1.1, RFC 6895 §2.3).
namespace dns_rcode {
inline constexpr std::uint16_t noerror = 0;
inline constexpr std::uint16_t formerr = 1;
inline constexpr std::uint16_t servfail = 2;
inline constexpr std::uint16_t nxdomain = 3;
inline constexpr std::uint16_t notimp = 4;
inline constexpr std::uint16_t refused = 5;
}  // namespace dns_rcode

/// The EDNS0 UDP payload size build_dns_query() offers by default.
inline constexpr std::uint16_t dns_default_udp_size = 1232;
/// The most CNAME links parse_dns_response() follows.
inline constexpr std::size_t dns_max_cname_chain = 8;

/// "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", or
/// "RCODE<n>" for the rest.
std::string dns_rcode_name(std::uint16_t rcode);
/// "A", "CNAME", "AAAA", "OPT", "SVCB", "HTTPS", or "TYPE<n>" (RFC 3597).
std::string dns_type_name(std::uint16_t type);

/// A query for `name` (presentation form, final dot optional, "." the root)
/// and `type`, class IN, with `id`, RD set and one question; with an OPT
/// record offering `edns_udp_size` octets unless it is 0 (then none, plain
/// RFC 1035). Fails (nullopt and a message) when the name cannot be sent: an
/// empty name or label, a label over 63 octets, a name over 255 octets on the
/// wire (253 characters without escapes), a bad escape.
std::optional<std::vector<std::uint8_t>> build_dns_query(std::uint16_t id, std::string_view name,
                                                         std::uint16_t type, std::string* error = nullptr,
                                                         std::uint16_t edns_udp_size = dns_default_udp_size);

/// The header and question of a message, as a server reads a query.
struct DnsQuestion {
    std::uint16_t id = 0;
    /// The header's second 16 bits: QR, opcode, AA, TC, RD, RA, Z, RCODE.
    std::uint16_t flags = 0;
    /// QNAME in presentation form, case as sent ("Example.COM.").
    std::string name;
    std::uint16_t type = 0;
    std::uint16_t qclass = 0;

    bool is_response() const noexcept { return (flags & 0x8000) != 0; }
    std::uint16_t opcode() const noexcept { return static_cast<std::uint16_t>((flags >> 11) & 0xf); }
    bool recursion_desired() const noexcept { return (flags & 0x0100) != 0; }
};

/// Reads the header and the question of a message with exactly one question
/// (QR is not checked: see is_response()). Fails (nullopt and a message
/// naming the offset) when the message is shorter than its header and
/// question, QDCOUNT is not 1, or the name is bad.
std::optional<DnsQuestion> parse_dns_question(const std::uint8_t* data, std::size_t size,
                                              std::string* error = nullptr);

/// What parse_dns_response() read (see the decisions at the top).
struct DnsResponse {
    enum class Status : std::uint8_t {
        ok,         ///< the fields below hold the answer
        mismatch,   ///< not the answer to this query: ignore it, keep waiting
        malformed,  ///< the answer to this query, unusable: the query failed
    };
    Status status = Status::mismatch;
    /// Empty when ok; otherwise "DNS offset 37: compression pointer ..." —
    /// the offset in the message and the rule broken.
    std::string error;

    /// RCODE, extended by OPT (NOERROR, NXDOMAIN, SERVFAIL: dns_rcode).
    std::uint16_t rcode = 0;
    /// TC: the server had more than it sent (retry over TCP for all of it).
    bool truncated = false;
    /// The owner of the records below: the question's name (as the caller
    /// gave it, canonical form) or the last CNAME target.
    std::string name;
    /// The CNAME targets followed from the question's name, in order.
    std::vector<std::string> cnames;
    /// A or AAAA answers (as asked), in message order, port 0.
    std::vector<Endpoint> addresses;
    /// SVCB or HTTPS answers (as asked), in message order.
    std::vector<SvcbRecord> svcb;
    /// How long the answer may be cached, in seconds: the smallest TTL of
    /// the CNAME records followed and of the records above that were read
    /// (a TTL with the top bit set counts as 0, RFC 2181 §8); 0 when there
    /// are none (DnsCache keeps nothing with TTL 0).
    std::uint32_t ttl = 0;
    /// One line per record skipped or reading cut short, e.g. "HTTPS record
    /// at DNS offset 45 skipped: SVCB offset 19: ...".
    std::vector<std::string> notes;

    bool ok() const noexcept { return status == Status::ok; }
};

/// Reads the response to the query (`expected_id`, `qname`, `qtype`, class
/// IN) in data[0, size). `qname` as for build_dns_query(); one that is not a
/// valid name matches nothing (mismatch).
DnsResponse parse_dns_response(const std::uint8_t* data, std::size_t size, std::uint16_t expected_id,
                               std::string_view qname, std::uint16_t qtype);

/// How an adapter reads a response it has matched to its query (status ok or
/// malformed), as the DNS class of Error::dns — one rule for every adapter
/// that reads whole messages (issue 14 item 6):
///   malformed message                    → malformed, the parser's error
///   RCODE NXDOMAIN                       → nxdomain ("NXDOMAIN")
///   any other RCODE but NOERROR          → server_failure, the RCODE's name
///                                          ("SERVFAIL", "REFUSED", "FORMERR", ...)
///   A/AAAA asked, a record of the type
///   whose RDATA does not fit it (A not 4
///   octets, AAAA not 16)                 → malformed, the parser's note: the
///                                          whole answer is rejected (issue 14
///                                          item 5), not just that record
///   TC set (the caller's TCP retry is
///   over or impossible)                  → truncated, the note if any
///   NOERROR without records of the type  → nodata
///   records                              → none: use them
/// SVCB/HTTPS records parse_dns_response() skipped stay skipped (RFC 9460
/// §2.4.3 lets a client keep the rest).
struct DnsOutcome {
    DnsError dns = DnsError::none;
    std::string detail;
};
DnsOutcome dns_outcome(const DnsResponse& response, std::uint16_t qtype);

/// RFC 9460 §2.5: a ServiceMode record's TargetName "." means the record's
/// owner. When the answer came through a CNAME chain that owner is the last
/// CNAME target (`response.name`), not the name asked, so this writes it into
/// every such record of `response.svcb`; a caller that reads "." as the name
/// it asked (as RaceMachine::handle_https does) then reaches the right
/// addresses. AliasMode "." ("not available") is left alone; without a CNAME
/// nothing changes.
void name_dot_targets(DnsResponse& response);

/// What build_dns_response() writes after the question.
struct DnsResponseContent {
    /// 0-15 (no OPT record is written, so no extended RCODE).
    std::uint16_t rcode = dns_rcode::noerror;
    /// Sets TC (the records are written whole anyway).
    bool truncated = false;
    /// A chain: QNAME CNAME cnames[0], cnames[0] CNAME cnames[1], ...; the
    /// records below are owned by the last name.
    std::vector<std::string> cnames;
    /// Each written as A or AAAA by its own family (port ignored), whatever
    /// the question's type: a test can put records of the other family in.
    std::vector<Endpoint> addresses;
    /// Written with the question's type when it is SVCB or HTTPS, else HTTPS.
    std::vector<SvcbRecord> svcb;
    /// TTL of every record.
    std::uint32_t ttl = 60;
    /// Compress owner names and CNAME targets (RFC 1035 §4.1.4) against the
    /// names already written; SVCB TargetNames never are (RFC 9460 §2.2).
    bool compress = true;
};

/// A response to a query for `qname`/`qtype` (class IN) with `id`: QR, AA,
/// RD and RA set, opcode QUERY, the question, then the answer section
/// (CNAMEs, addresses, SVCB records); no authority or additional records.
/// Fails (nullopt and a message) for a bad name, an rcode over 15, a record
/// serialize_svcb_rdata() refuses, or a message over 65535 octets.
std::optional<std::vector<std::uint8_t>> build_dns_response(std::uint16_t id, std::string_view qname,
                                                            std::uint16_t qtype,
                                                            const DnsResponseContent& content,
                                                            std::string* error = nullptr);

/// The response to the query in query[0, size): its id, opcode, RD bit and
/// question (name spelled as sent, type, class) echoed, then as above. Fails
/// for what parse_dns_question() rejects, for a message that is a response
/// (QR set), and as above.
std::optional<std::vector<std::uint8_t>> build_dns_response(const std::uint8_t* query, std::size_t size,
                                                            const DnsResponseContent& content,
                                                            std::string* error = nullptr);

}  // namespace eyeballs
