// SPDX-License-Identifier: BSL-1.0
// eyeballs — whole DNS messages (see eyeballs/dns_message.hpp).
//
// The reader keeps every access behind an explicit bounds check against the
// message size (or, for a name inside RDATA, the RDATA's end); every failure
// names the offset where the rule broke and the rule. Names are handled in
// their uncompressed wire form (length-prefixed labels ending with the root's
// zero) and compared without ASCII case; they are printed only for the caller.
#include "eyeballs/dns_message.hpp"

#include "dns_name.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <utility>

namespace eyeballs {

namespace {

using Bytes = std::vector<std::uint8_t>;

constexpr std::size_t header_size = 12;
using detail::max_name;  // octets on the wire, the root's zero included (RFC 1035 §2.3.4)
constexpr std::size_t rr_fixed = 10;    // TYPE, CLASS, TTL, RDLENGTH
constexpr std::uint16_t flag_qr = 0x8000;
constexpr std::uint16_t flag_aa = 0x0400;
constexpr std::uint16_t flag_tc = 0x0200;
constexpr std::uint16_t flag_rd = 0x0100;
constexpr std::uint16_t flag_ra = 0x0080;

std::uint16_t get16(const std::uint8_t* p) noexcept { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t get32(const std::uint8_t* p) noexcept {
    return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
           static_cast<std::uint32_t>(p[2]) << 8 | static_cast<std::uint32_t>(p[3]);
}
void put16(Bytes& out, std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8 & 0xff));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
}
void put32(Bytes& out, std::uint32_t v) {
    put16(out, v >> 16);
    put16(out, v & 0xffff);
}

std::string at(std::size_t offset, const std::string& what) {
    return "DNS offset " + std::to_string(offset) + ": " + what;
}

std::string hex16(std::uint16_t v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04x", static_cast<unsigned>(v));
    return buf;
}

std::uint8_t fold(std::uint8_t c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<std::uint8_t>(c + ('a' - 'A')) : c;
}

// Two wire-form names, equal but for ASCII case (RFC 4343). Both are whole
// names from name_to_wire()/read_name(), so equal bytes mean equal labels.
bool same_name(const Bytes& a, const Bytes& b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (fold(a[i]) != fold(b[i])) return false;
    }
    return true;
}

// RFC 1035 §5.1 presentation form of a wire name: "www.example.com.", ".".
std::string name_text(const Bytes& wire) { return detail::name_to_text(wire.data(), wire.size()); }

// Presentation form → wire form. `why` says what is wrong.
bool name_to_wire(std::string_view text, Bytes& wire, std::string& why) {
    wire.clear();
    return detail::name_to_wire(text, wire, why);
}

// Reads the name at data[start...], following compression pointers. The
// name's own octets (before any pointer) must lie before `end` (the message
// size, or its RDATA's end); pointed-to parts anywhere in the message. Each
// pointer must point before the start of the part of the name it ends (and
// after the header), so reading always terminates. Sets `next` to the offset
// after the name's own octets.
bool read_name(const std::uint8_t* data, std::size_t size, std::size_t start, std::size_t end,
               std::size_t& next, Bytes& wire, std::string& error) {
    wire.clear();
    std::size_t pos = start;
    std::size_t part = start;  // where the current run of labels began
    std::size_t limit = end;
    bool jumped = false;
    for (;;) {
        if (pos >= limit) {
            error = at(pos, limit < size ? "name runs past the end of its record's RDATA"
                                         : "message ends inside a name");
            return false;
        }
        const std::uint8_t len = data[pos];
        if ((len & 0xc0) == 0xc0) {
            if (pos + 1 >= limit) {
                error = at(pos, limit < size ? "compression pointer runs past the end of its record's RDATA"
                                             : "message ends inside a compression pointer");
                return false;
            }
            const std::size_t target = static_cast<std::size_t>(len & 0x3f) << 8 | data[pos + 1];
            if (target >= size) {
                error = at(pos, "compression pointer to offset " + std::to_string(target) +
                                    ", past the end of the message (" + std::to_string(size) + " octets)");
                return false;
            }
            if (target > pos) {
                error = at(pos, "compression pointer to offset " + std::to_string(target) +
                                    " points forward; it must point to a prior occurrence (RFC 1035 §4.1.4)");
                return false;
            }
            if (target >= part) {
                error = at(pos, "compression pointer to offset " + std::to_string(target) +
                                    " loops (it points into the part of the name that leads to it)");
                return false;
            }
            if (target < header_size) {
                error = at(pos, "compression pointer to offset " + std::to_string(target) +
                                    ", inside the 12-octet header");
                return false;
            }
            if (!jumped) next = pos + 2;
            jumped = true;
            pos = part = target;
            limit = size;
            continue;
        }
        if ((len & 0xc0) != 0) {
            error = at(pos, std::string("label type ") + ((len & 0xc0) == 0x40 ? "0x40" : "0x80") +
                                " (only lengths 0-63 and compression pointers are defined, RFC 6891 §5)");
            return false;
        }
        if (len == 0) {
            wire.push_back(0);
            if (!jumped) next = pos + 1;
            return true;
        }
        if (wire.size() + 1u + len + 1u > max_name) {  // the label, then at least the root
            error = at(pos, "name longer than 255 octets (RFC 1035 §2.3.4)");
            return false;
        }
        if (pos + 1u + len > limit) {
            error = at(pos, limit < size ? "label runs past the end of its record's RDATA"
                                         : "message ends inside a label");
            return false;
        }
        wire.insert(wire.end(), data + pos, data + pos + 1 + len);
        pos += 1u + len;
    }
}

// One resource record's place in the message.
struct Record {
    std::size_t offset = 0;  // of the owner name
    Bytes owner;
    std::uint16_t type = 0;
    std::uint16_t rclass = 0;
    std::uint32_t ttl = 0;
    std::size_t rdata = 0;
    std::size_t rdlength = 0;
    Bytes cname;  // the target, for class IN CNAMEs
};

bool read_record(const std::uint8_t* data, std::size_t size, std::size_t& pos, Record& rr,
                 std::string& error) {
    rr.offset = pos;
    std::size_t after = 0;
    if (!read_name(data, size, pos, size, after, rr.owner, error)) return false;
    if (after + rr_fixed > size) {
        error = at(after, "message ends inside a record's TYPE, CLASS, TTL and RDLENGTH (10 octets, RFC 1035 §4.1.3)");
        return false;
    }
    rr.type = get16(data + after);
    rr.rclass = get16(data + after + 2);
    rr.ttl = get32(data + after + 4);
    rr.rdlength = get16(data + after + 8);
    rr.rdata = after + rr_fixed;
    if (rr.rdata + rr.rdlength > size) {
        error = at(after + 8, "RDATA of " + std::to_string(rr.rdlength) + " octets runs past the end of the message (" +
                                  std::to_string(size) + " octets)");
        return false;
    }
    pos = rr.rdata + rr.rdlength;
    return true;
}

// Header and question of a message: the name's wire form and where the
// question ends.
struct Question {
    Bytes name;
    std::uint16_t type = 0;
    std::uint16_t qclass = 0;
    std::size_t end = 0;
};

bool read_question(const std::uint8_t* data, std::size_t size, Question& q, std::string& error) {
    if (size < header_size) {
        error = at(0, "message of " + std::to_string(size) + " octets is shorter than the 12-octet header (RFC 1035 §4.1.1)");
        return false;
    }
    const std::uint16_t qdcount = get16(data + 4);
    if (qdcount != 1) {
        error = at(4, "QDCOUNT is " + std::to_string(qdcount) + ", not the one question of a query");
        return false;
    }
    std::size_t after = 0;
    if (!read_name(data, size, header_size, size, after, q.name, error)) return false;
    if (after + 4 > size) {
        error = at(after, "message ends inside the question's QTYPE and QCLASS");
        return false;
    }
    q.type = get16(data + after);
    q.qclass = get16(data + after + 2);
    q.end = after + 4;
    return true;
}

// Writes a message, compressing names against the suffixes already written.
class Writer {
public:
    Bytes out;

    void name(const Bytes& wire, bool compress) {
        for (std::size_t i = 0; i < wire.size() && wire[i] != 0; i += 1u + wire[i]) {
            if (compress) {  // exact suffixes only, so every name keeps its spelling
                const Bytes suffix(wire.begin() + static_cast<std::ptrdiff_t>(i), wire.end());
                for (const auto& [known, offset] : suffixes_) {
                    if (known == suffix) {
                        put16(out, 0xc000 | offset);
                        return;
                    }
                }
                if (out.size() < 0x4000) suffixes_.emplace_back(suffix, out.size());
            }
            out.insert(out.end(), wire.begin() + static_cast<std::ptrdiff_t>(i),
                       wire.begin() + static_cast<std::ptrdiff_t>(i + 1 + wire[i]));
        }
        out.push_back(0);
    }

private:
    std::vector<std::pair<Bytes, std::size_t>> suffixes_;
};

bool fail_build(std::string* error, const std::string& what) {
    if (error) *error = "DNS response cannot be written: " + what;
    return false;
}

std::optional<Bytes> build_response(std::uint16_t id, std::uint16_t flags, const Bytes& qname, std::uint16_t qtype,
                                    std::uint16_t qclass, const DnsResponseContent& content, std::string* error) {
    if (content.rcode > 15) {
        fail_build(error, "rcode " + std::to_string(content.rcode) + " needs EDNS (header RCODEs are 0-15)");
        return std::nullopt;
    }
    std::vector<Bytes> chain;
    for (const std::string& c : content.cnames) {
        Bytes wire;
        std::string why;
        if (!name_to_wire(c, wire, why)) {
            fail_build(error, "CNAME target: " + why);
            return std::nullopt;
        }
        chain.push_back(std::move(wire));
    }
    const std::uint16_t svcb_type =
        qtype == dns_type::svcb || qtype == dns_type::https ? qtype : dns_type::https;
    std::vector<Bytes> rdatas;
    for (const SvcbRecord& r : content.svcb) {
        std::string why;
        auto rdata = serialize_svcb_rdata(r, &why);
        if (!rdata) {
            fail_build(error, why);
            return std::nullopt;
        }
        if (rdata->size() > 0xffff) {
            fail_build(error, "SVCB RDATA of " + std::to_string(rdata->size()) + " octets (at most 65535)");
            return std::nullopt;
        }
        rdatas.push_back(std::move(*rdata));
    }
    const std::size_t ancount = chain.size() + content.addresses.size() + rdatas.size();
    if (ancount > 0xffff) {
        fail_build(error, std::to_string(ancount) + " answer records (at most 65535)");
        return std::nullopt;
    }

    Writer w;
    put16(w.out, id);
    put16(w.out, static_cast<std::uint16_t>(flags | (content.truncated ? flag_tc : 0) | content.rcode));
    put16(w.out, 1);
    put16(w.out, ancount);
    put16(w.out, 0);
    put16(w.out, 0);
    w.name(qname, content.compress);
    put16(w.out, qtype);
    put16(w.out, qclass);

    auto record_head = [&](const Bytes& owner, std::uint16_t type) {
        w.name(owner, content.compress);
        put16(w.out, type);
        put16(w.out, dns_class_in);
        put32(w.out, content.ttl);
    };
    const Bytes* owner = &qname;
    for (const Bytes& target : chain) {
        record_head(*owner, dns_type::cname);
        const std::size_t length_at = w.out.size();
        put16(w.out, 0);
        w.name(target, content.compress);
        const std::size_t rdlength = w.out.size() - length_at - 2;
        w.out[length_at] = static_cast<std::uint8_t>(rdlength >> 8);
        w.out[length_at + 1] = static_cast<std::uint8_t>(rdlength & 0xff);
        owner = &target;
    }
    for (const Endpoint& e : content.addresses) {
        const std::size_t n = e.is_v4() ? 4 : 16;
        record_head(*owner, e.is_v4() ? dns_type::a : dns_type::aaaa);
        put16(w.out, n);
        w.out.insert(w.out.end(), e.bytes().begin(), e.bytes().begin() + static_cast<std::ptrdiff_t>(n));
    }
    for (const Bytes& rdata : rdatas) {
        record_head(*owner, svcb_type);
        put16(w.out, rdata.size());
        w.out.insert(w.out.end(), rdata.begin(), rdata.end());
    }
    if (w.out.size() > 0xffff) {
        fail_build(error, "message of " + std::to_string(w.out.size()) + " octets (at most 65535)");
        return std::nullopt;
    }
    return std::move(w.out);
}

}  // namespace

std::string dns_rcode_name(std::uint16_t rcode) {
    switch (rcode) {
    case dns_rcode::noerror: return "NOERROR";
    case dns_rcode::formerr: return "FORMERR";
    case dns_rcode::servfail: return "SERVFAIL";
    case dns_rcode::nxdomain: return "NXDOMAIN";
    case dns_rcode::notimp: return "NOTIMP";
    case dns_rcode::refused: return "REFUSED";
    default: return "RCODE" + std::to_string(rcode);
    }
}

std::string dns_type_name(std::uint16_t type) {
    switch (type) {
    case dns_type::a: return "A";
    case dns_type::cname: return "CNAME";
    case dns_type::aaaa: return "AAAA";
    case dns_type::opt: return "OPT";
    case dns_type::svcb: return "SVCB";
    case dns_type::https: return "HTTPS";
    default: return "TYPE" + std::to_string(type);
    }
}

std::optional<std::vector<std::uint8_t>> build_dns_query(std::uint16_t id, std::string_view name,
                                                         std::uint16_t type, std::string* error,
                                                         std::uint16_t edns_udp_size) {
    Bytes wire;
    std::string why;
    if (!name_to_wire(name, wire, why)) {
        if (error) *error = "bad DNS name: " + why;
        return std::nullopt;
    }
    Bytes q;
    q.reserve(header_size + wire.size() + 4 + 11);
    put16(q, id);
    put16(q, flag_rd);
    put16(q, 1);                         // QDCOUNT
    put16(q, 0);                         // ANCOUNT
    put16(q, 0);                         // NSCOUNT
    put16(q, edns_udp_size != 0 ? 1 : 0);  // ARCOUNT
    q.insert(q.end(), wire.begin(), wire.end());
    put16(q, type);
    put16(q, dns_class_in);
    if (edns_udp_size != 0) {  // RFC 6891 §6.1.2: root owner, OPT, payload size, no flags, no options
        q.push_back(0);
        put16(q, dns_type::opt);
        put16(q, edns_udp_size);
        put32(q, 0);
        put16(q, 0);
    }
    return q;
}

std::optional<DnsQuestion> parse_dns_question(const std::uint8_t* data, std::size_t size, std::string* error) {
    Question q;
    std::string why;
    if (!read_question(data, size, q, why)) {
        if (error) *error = why;
        return std::nullopt;
    }
    DnsQuestion out;
    out.id = get16(data);
    out.flags = get16(data + 2);
    out.name = name_text(q.name);
    out.type = q.type;
    out.qclass = q.qclass;
    return out;
}

DnsResponse parse_dns_response(const std::uint8_t* data, std::size_t size, std::uint16_t expected_id,
                               std::string_view qname, std::uint16_t qtype) {
    DnsResponse r;
    r.status = DnsResponse::Status::mismatch;
    Bytes want;
    std::string why;
    if (!name_to_wire(qname, want, why)) {
        r.error = "the query's name is not a DNS name: " + why;
        return r;
    }
    r.name = name_text(want);

    // --- Is this the answer to our query? (else: mismatch) ---------------
    if (size < header_size) {
        r.error = at(0, "message of " + std::to_string(size) + " octets is shorter than the 12-octet header (RFC 1035 §4.1.1)");
        return r;
    }
    const std::uint16_t id = get16(data);
    if (id != expected_id) {
        r.error = at(0, "id " + hex16(id) + " is not the query's " + hex16(expected_id));
        return r;
    }
    const std::uint16_t flags = get16(data + 2);
    if ((flags & flag_qr) == 0) {
        r.error = at(2, "QR bit clear: a query, not a response (RFC 1035 §4.1.1)");
        return r;
    }
    if ((flags >> 11 & 0xf) != 0) {
        r.error = at(2, "opcode " + std::to_string(flags >> 11 & 0xf) + ", not QUERY (0) as asked");
        return r;
    }
    Question q;
    if (!read_question(data, size, q, r.error)) return r;
    if (!same_name(q.name, want)) {
        r.error = at(header_size, "question for '" + name_text(q.name) + "', not the query's '" + r.name + "'");
        return r;
    }
    if (q.type != qtype) {
        r.error = at(q.end - 4, "question type " + dns_type_name(q.type) + ", not the query's " + dns_type_name(qtype));
        return r;
    }
    if (q.qclass != dns_class_in) {
        r.error = at(q.end - 2, "question class " + std::to_string(q.qclass) + ", not IN (1)");
        return r;
    }

    // --- Ours. Read every record (else: malformed) ------------------------
    r.status = DnsResponse::Status::malformed;
    r.truncated = (flags & flag_tc) != 0;
    r.rcode = flags & 0xf;
    const std::size_t counts[3] = {get16(data + 6), get16(data + 8), get16(data + 10)};
    std::vector<Record> answers;
    bool opt_seen = false;
    std::size_t pos = q.end;
    bool cut = false;
    for (int section = 0; section < 3 && !cut; ++section) {
        for (std::size_t i = 0; i < counts[section]; ++i) {
            Record rr;
            if (!read_record(data, size, pos, rr, why)) {
                if (!r.truncated) {
                    r.error = why;
                    return r;
                }
                r.notes.push_back("reading stopped (TC set: the message is truncated): " + why);
                cut = true;
                break;
            }
            if (section == 0 && rr.type == dns_type::cname && rr.rclass == dns_class_in) {
                std::size_t after = 0;
                if (!read_name(data, size, rr.rdata, rr.rdata + rr.rdlength, after, rr.cname, why)) {
                    r.error = why + " (in the RDATA of the CNAME record at DNS offset " + std::to_string(rr.offset) + ")";
                    return r;
                }
                if (after != rr.rdata + rr.rdlength) {
                    r.error = at(after, "CNAME RDATA of " + std::to_string(rr.rdlength) +
                                            " octets holds more than one name (RFC 1035 §3.3.1)");
                    return r;
                }
            }
            if (section == 2 && rr.type == dns_type::opt && !opt_seen) {
                opt_seen = true;  // RFC 6891 §6.1.3: EXTENDED-RCODE is the TTL's top octet
                r.rcode = static_cast<std::uint16_t>((rr.ttl >> 24) << 4 | r.rcode);
            }
            if (section == 0) answers.push_back(std::move(rr));
        }
    }

    // --- Follow CNAMEs from the question's name ---------------------------
    // The answer's TTL: the smallest of every record it rests on.
    bool any_ttl = false;
    std::uint32_t min_ttl = 0;
    auto use_ttl = [&](std::uint32_t ttl) {
        if (ttl > 0x7FFFFFFFu) ttl = 0;  // RFC 2181 §8: the top bit set reads as 0
        min_ttl = any_ttl ? std::min(min_ttl, ttl) : ttl;
        any_ttl = true;
    };
    Bytes current = want;
    std::vector<const Bytes*> seen{&want};
    while (qtype != dns_type::cname) {
        const Record* link = nullptr;
        bool has_data = false;
        for (const Record& rr : answers) {
            if (rr.rclass != dns_class_in || !same_name(rr.owner, current)) continue;
            if (rr.type == qtype) has_data = true;
            if (rr.type == dns_type::cname && !link) link = &rr;
        }
        if (has_data || !link) break;  // records of the asked type end the chain
        for (const Bytes* s : seen) {
            if (same_name(*s, link->cname)) {
                r.error = at(link->offset, "CNAME loop: '" + name_text(current) + "' leads back to '" +
                                               name_text(link->cname) + "'");
                return r;
            }
        }
        if (r.cnames.size() == dns_max_cname_chain) {
            r.error = at(link->offset, "CNAME chain longer than " + std::to_string(dns_max_cname_chain) + " links");
            return r;
        }
        r.cnames.push_back(name_text(link->cname));
        use_ttl(link->ttl);
        seen.push_back(&link->cname);
        current = link->cname;
    }
    if (!r.cnames.empty()) r.name = r.cnames.back();

    // --- The records of the asked type owned by the last name -------------
    for (const Record& rr : answers) {
        if (rr.type != qtype || rr.rclass != dns_class_in || !same_name(rr.owner, current)) continue;
        const std::uint8_t* rdata = data + rr.rdata;
        const std::string where = dns_type_name(rr.type) + " record at DNS offset " + std::to_string(rr.offset);
        if (qtype == dns_type::a || qtype == dns_type::aaaa) {
            const std::size_t want_len = qtype == dns_type::a ? 4 : 16;
            if (rr.rdlength != want_len) {
                r.notes.push_back(where + " skipped: RDATA of " + std::to_string(rr.rdlength) + " octets, not " +
                                  std::to_string(want_len) + (qtype == dns_type::a ? " (RFC 1035 §3.4.1)" : " (RFC 3596 §2.2)"));
                continue;
            }
            if (qtype == dns_type::a) {
                r.addresses.push_back(Endpoint::v4({rdata[0], rdata[1], rdata[2], rdata[3]}, 0));
            } else {
                std::array<std::uint8_t, 16> b{};
                for (std::size_t k = 0; k < 16; ++k) b[k] = rdata[k];
                r.addresses.push_back(Endpoint::v6(b, 0));
            }
            use_ttl(rr.ttl);
        } else if (qtype == dns_type::svcb || qtype == dns_type::https) {
            auto record = parse_svcb_rdata(rdata, rr.rdlength, &why);
            if (!record) {
                r.notes.push_back(where + " skipped (RFC 9460 §2.4.3: a malformed RR is rejected): " + why);
                continue;
            }
            r.svcb.push_back(std::move(*record));
            use_ttl(rr.ttl);
        }
    }
    if (any_ttl && (!r.addresses.empty() || !r.svcb.empty())) r.ttl = min_ttl;
    r.status = DnsResponse::Status::ok;
    r.error.clear();
    return r;
}

std::optional<std::vector<std::uint8_t>> build_dns_response(std::uint16_t id, std::string_view qname,
                                                            std::uint16_t qtype,
                                                            const DnsResponseContent& content,
                                                            std::string* error) {
    Bytes wire;
    std::string why;
    if (!name_to_wire(qname, wire, why)) {
        fail_build(error, why);
        return std::nullopt;
    }
    return build_response(id, flag_qr | flag_aa | flag_rd | flag_ra, wire, qtype, dns_class_in, content, error);
}

std::optional<std::vector<std::uint8_t>> build_dns_response(const std::uint8_t* query, std::size_t size,
                                                            const DnsResponseContent& content,
                                                            std::string* error) {
    Question q;
    std::string why;
    if (!read_question(query, size, q, why)) {
        fail_build(error, "bad query: " + why);
        return std::nullopt;
    }
    const std::uint16_t qflags = get16(query + 2);
    if ((qflags & flag_qr) != 0) {
        fail_build(error, "bad query: " + at(2, "QR bit set: a response, not a query"));
        return std::nullopt;
    }
    const auto flags = static_cast<std::uint16_t>(flag_qr | (qflags & 0x7800) | flag_aa | (qflags & flag_rd) | flag_ra);
    return build_response(get16(query), flags, q.name, q.type, q.qclass, content, error);
}

void name_dot_targets(DnsResponse& response) {
    if (response.cnames.empty()) return;
    for (SvcbRecord& rec : response.svcb) {
        if (!rec.alias_mode() && rec.target == ".") rec.target = response.name;
    }
}


DnsOutcome dns_outcome(const DnsResponse& r, std::uint16_t qtype) {
    DnsOutcome out;
    if (r.status != DnsResponse::Status::ok) {
        out.dns = DnsError::malformed;
        out.detail = r.error.empty() ? std::string("not the answer to the query") : r.error;
        return out;
    }
    if (r.rcode == dns_rcode::nxdomain) {
        out.dns = DnsError::nxdomain;
        out.detail = "NXDOMAIN";
        return out;
    }
    if (r.rcode != dns_rcode::noerror) {
        out.dns = DnsError::server_failure;
        out.detail = dns_rcode_name(r.rcode);
        return out;
    }
    const bool addresses = qtype == dns_type::a || qtype == dns_type::aaaa;
    if (r.truncated) {
        out.dns = DnsError::truncated;
        if (!r.notes.empty()) out.detail = r.notes.back();
        return out;
    }
    if (addresses && !r.notes.empty()) {
        out.dns = DnsError::malformed;
        out.detail = r.notes.front();
        return out;
    }
    if (addresses ? r.addresses.empty() : r.svcb.empty()) out.dns = DnsError::nodata;
    return out;
}

}  // namespace eyeballs
