// SPDX-License-Identifier: BSL-1.0
// fuzz_dns_message: whole DNS messages (eyeballs/dns_message.hpp).
//
// The question the input is read against comes from the input itself (its
// own id, name and type when it has a readable question; else id 0 and
// example.com HTTPS), so most inputs get past the header checks and reach
// the records. Traps:
//  * a failure without a "DNS offset N: " message, or success with one;
//  * answers of a kind the question did not ask for (addresses for HTTPS,
//    IPv6 for A, SVCB records for AAAA), a CNAME chain over the bound, a
//    `name` that is not the chain's end;
//  * round trip: whatever parses, written again with build_dns_response()
//    (names compressed or not, by the input's length) and read again, gives
//    the same rcode (its header part), TC, name, CNAMEs, addresses and SVCB
//    records, with no notes — or the writer refuses only for size;
//  * an input that is a query is answered with build_dns_response(query, ...)
//    and the answer reads back as the answer to that query.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "eyeballs/dns_message.hpp"

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (false)

namespace {

using namespace eyeballs;

bool starts_with(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

void check_kinds(const DnsResponse& r, std::uint16_t qtype) {
    for (const Endpoint& e : r.addresses) {
        CHECK(qtype == dns_type::a || qtype == dns_type::aaaa);
        CHECK(e.is_v4() == (qtype == dns_type::a));
        CHECK(e.port() == 0);
    }
    CHECK(r.svcb.empty() || qtype == dns_type::svcb || qtype == dns_type::https);
    CHECK(r.cnames.size() <= dns_max_cname_chain);
    CHECK(qtype != dns_type::cname || r.cnames.empty());
    CHECK(r.cnames.empty() || r.name == r.cnames.back());
}

void round_trip(const DnsResponse& r, std::uint16_t id, const std::string& qname, std::uint16_t qtype, bool compress) {
    DnsResponseContent content;
    content.rcode = r.rcode & 0xf;
    content.truncated = r.truncated;
    content.cnames = r.cnames;
    content.addresses = r.addresses;
    content.svcb = r.svcb;
    content.compress = compress;
    std::string error;
    const auto wire = build_dns_response(id, qname, qtype, content, &error);
    if (!wire) {
        CHECK(error.find("65535") != std::string::npos);
        return;
    }
    const DnsResponse again = parse_dns_response(wire->data(), wire->size(), id, qname, qtype);
    CHECK(again.ok());
    CHECK(again.rcode == content.rcode);
    CHECK(again.truncated == r.truncated);
    CHECK(again.name == r.name);
    CHECK(again.cnames == r.cnames);
    CHECK(again.addresses == r.addresses);
    CHECK(again.svcb == r.svcb);
    CHECK(again.notes.empty());
}

void answer_query(const std::uint8_t* data, std::size_t size, const DnsQuestion& q) {
    DnsResponseContent content;
    content.addresses = {Endpoint::v4({192, 0, 2, 1}, 0), Endpoint::v6({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 0)};
    SvcbRecord service;
    service.priority = 1;
    service.alpn = {"h3", "h2"};
    content.svcb = {service};
    content.cnames = {"cdn.example.net."};
    std::string error;
    const auto wire = build_dns_response(data, size, content, &error);
    CHECK(wire.has_value() || !error.empty());
    if (!wire || q.opcode() != 0 || q.qclass != dns_class_in) return;
    const DnsResponse r = parse_dns_response(wire->data(), wire->size(), q.id, q.name, q.type);
    CHECK(r.ok());
    check_kinds(r, q.type);
    if (q.type == dns_type::a || q.type == dns_type::aaaa) CHECK(r.addresses.size() == 1);
    if (q.type == dns_type::svcb || q.type == dns_type::https) CHECK(r.svcb.size() == 1 && r.svcb[0] == service);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::uint16_t id = size >= 2 ? static_cast<std::uint16_t>(data[0] << 8 | data[1]) : 0;
    std::string qname = "example.com.";
    std::uint16_t qtype = dns_type::https;
    std::string error;
    const std::optional<DnsQuestion> q = parse_dns_question(data, size, &error);
    if (q) {
        id = q->id;
        qname = q->name;
        qtype = q->type;
        // The name printed reads back as the same name.
        CHECK(build_dns_query(id, qname, qtype, &error).has_value());
        if (!q->is_response()) answer_query(data, size, *q);
    } else {
        CHECK(starts_with(error, "DNS offset "));
    }

    const DnsResponse r = parse_dns_response(data, size, id, qname, qtype);
    if (!r.ok()) {
        CHECK(starts_with(r.error, "DNS offset "));
        CHECK(r.status == DnsResponse::Status::mismatch || q.has_value());
        return 0;
    }
    CHECK(q.has_value() && r.error.empty());
    check_kinds(r, qtype);
    round_trip(r, id, qname, qtype, size % 2 == 0);
    return 0;
}
