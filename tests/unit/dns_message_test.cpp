// SPDX-License-Identifier: BSL-1.0
// Whole DNS messages (eyeballs/dns_message.hpp): queries byte for byte,
// responses written and read back, the RFC 9460 Appendix D records inside
// full messages, name compression and its abuse (loops, forward pointers),
// CNAME chains and loops, every prefix of a message, answers to another
// question, rcodes, and a malformed HTTPS record among good ones.
#include "eyeballs/dns_message.hpp"

#include "test_bytes.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace {

using eyeballs::build_dns_query;
using eyeballs::build_dns_response;
using eyeballs::DnsResponse;
using eyeballs::DnsResponseContent;
using eyeballs::Endpoint;
using eyeballs::parse_dns_question;
using eyeballs::parse_dns_response;
using eyeballs::parse_svcb_presentation;
using eyeballs::SvcbRecord;
using eyeballs::to_presentation;
namespace dns_type = eyeballs::dns_type;
namespace dns_rcode = eyeballs::dns_rcode;
using Bytes = std::vector<std::uint8_t>;
using Status = DnsResponse::Status;

using eyeballs_test::hex;

Bytes operator+(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Endpoint addr(const char* text) { return *Endpoint::parse_address(text, 0); }

SvcbRecord svcb(const char* text) {
    std::string error;
    auto r = parse_svcb_presentation(text, &error);
    EXPECT_TRUE(r.has_value()) << text << ": " << error;
    return r.value_or(SvcbRecord{});
}

DnsResponse parse(const Bytes& m, std::uint16_t id, const char* qname, std::uint16_t qtype) {
    return parse_dns_response(m.data(), m.size(), id, qname, qtype);
}

Bytes response(std::uint16_t id, const char* qname, std::uint16_t qtype, const DnsResponseContent& content) {
    std::string error;
    auto m = build_dns_response(id, qname, qtype, content, &error);
    EXPECT_TRUE(m.has_value()) << error;
    return m.value_or(Bytes{});
}

void expect_error(const DnsResponse& r, Status status, std::initializer_list<const char*> words) {
    EXPECT_EQ(r.status, status) << r.error;
    EXPECT_FALSE(r.ok());
    for (const char* w : words) EXPECT_NE(r.error.find(w), std::string::npos) << "'" << w << "' not in: " << r.error;
}

// A response header: id 0x1234, QR RD RA, the given counts.
Bytes header(int an, int ns = 0, int ar = 0, const char* flags = "81 80") {
    return hex(std::string("12 34 ") + flags + " 00 01 00 " + "0123456789abcdef"[an / 16] + "0123456789abcdef"[an % 16] +
               " 00 0" + "0123456789abcdef"[ns] + " 00 0" + "0123456789abcdef"[ar]);
}
// The question "example.com. A IN" at offset 12 ("example" at 12, "com" at 20).
const char* const example_com = "07 65 78 61 6d 70 6c 65 03 63 6f 6d 00";
Bytes question(const char* type = "00 01") { return hex(std::string(example_com) + type + " 00 01"); }
// An A record owned by the name at `owner_ptr` ("c0 0c"), TTL 60.
Bytes a_rr(const char* owner, const char* address = "c0 00 02 01") {
    return hex(std::string(owner) + " 00 01 00 01 00 00 00 3c 00 04 " + address);
}

// --- Queries ---------------------------------------------------------------

TEST(DnsQuery, BytesWithEdns) {
    std::string error;
    auto q = build_dns_query(0xbeef, "example.com", dns_type::https, &error);
    ASSERT_TRUE(q) << error;
    EXPECT_EQ(*q, hex(std::string("be ef 01 00 00 01 00 00 00 00 00 01") + example_com +
                      " 00 41 00 01"              // HTTPS IN
                      " 00 00 29 04 d0 00 00 00 00 00 00"));  // OPT: root, 1232 octets, no flags, no options
    // The trailing dot changes nothing; no EDNS when asked.
    EXPECT_EQ(build_dns_query(0xbeef, "example.com.", dns_type::https), q);
    auto plain = build_dns_query(7, "example.com", dns_type::aaaa, &error, 0);
    ASSERT_TRUE(plain);
    EXPECT_EQ(*plain, hex(std::string("00 07 01 00 00 01 00 00 00 00 00 00") + example_com + " 00 1c 00 01"));
}

TEST(DnsQuery, BadNamesAreRefusedWithAReason) {
    std::string error;
    auto refused = [&](const std::string& name, const char* word) {
        error.clear();
        EXPECT_FALSE(build_dns_query(1, name, dns_type::a, &error)) << name;
        EXPECT_NE(error.find(word), std::string::npos) << name << ": " << error;
    };
    refused("", "empty name");
    refused("a..b", "empty label");
    refused(".a", "empty label");
    refused("a.b..", "empty label");
    refused(std::string(64, 'x') + ".test", "63");
    refused("a\\", "ends in");
    refused("a\\25", "\\DDD");
    refused("a\\256", "over 255");
    // 253 characters (four 63-octet labels minus two) fit in 255 octets; one more does not.
    const std::string l63(63, 'a');
    const std::string n253 = l63 + "." + l63 + "." + l63 + "." + std::string(61, 'a');
    ASSERT_EQ(n253.size(), 253u);
    EXPECT_TRUE(build_dns_query(1, n253, dns_type::a));
    EXPECT_TRUE(build_dns_query(1, n253 + ".", dns_type::a));
    refused(n253 + "a", "over 255");
    refused(n253 + ".b", "over 255");
}

TEST(DnsQuery, EscapesAndTheRoot) {
    auto q = build_dns_query(1, "a\\.b.\\065\\\\", dns_type::a, nullptr, 0);
    ASSERT_TRUE(q);
    EXPECT_EQ(Bytes(q->begin() + 12, q->end() - 4), hex("03 61 2e 62  02 41 5c  00"));
    auto question = parse_dns_question(q->data(), q->size());
    ASSERT_TRUE(question);
    EXPECT_EQ(question->name, "a\\.b.A\\\\.");
    auto root = build_dns_query(1, ".", dns_type::a, nullptr, 0);
    ASSERT_TRUE(root);
    EXPECT_EQ(root->size(), 12u + 1 + 4);
}

TEST(DnsQuestion, ReadsHeaderAndQuestion) {
    auto q = build_dns_query(0x4242, "Example.COM", dns_type::aaaa);
    ASSERT_TRUE(q);
    std::string error;
    auto d = parse_dns_question(q->data(), q->size(), &error);
    ASSERT_TRUE(d) << error;
    EXPECT_EQ(d->id, 0x4242);
    EXPECT_EQ(d->name, "Example.COM.");
    EXPECT_EQ(d->type, dns_type::aaaa);
    EXPECT_EQ(d->qclass, eyeballs::dns_class_in);
    EXPECT_FALSE(d->is_response());
    EXPECT_TRUE(d->recursion_desired());
    EXPECT_EQ(d->opcode(), 0);
    EXPECT_FALSE(parse_dns_question(q->data(), 11, &error));
    EXPECT_NE(error.find("DNS offset 0"), std::string::npos) << error;
    EXPECT_FALSE(parse_dns_question(q->data(), 18, &error));
    EXPECT_NE(error.find("DNS offset 12: message ends inside a label"), std::string::npos) << error;
    EXPECT_FALSE(parse_dns_question(q->data(), 20, &error));
    EXPECT_NE(error.find("DNS offset 20: message ends inside a name"), std::string::npos) << error;
    Bytes two = *q;
    two[5] = 2;
    EXPECT_FALSE(parse_dns_question(two.data(), two.size(), &error));
    EXPECT_NE(error.find("DNS offset 4: QDCOUNT is 2"), std::string::npos) << error;
}

// --- Round trips -------------------------------------------------------------

TEST(DnsRoundTrip, AddressesOfTheAskedFamilyOnly) {
    DnsResponseContent c;
    c.addresses = {addr("192.0.2.1"), addr("2001:db8::1"), addr("192.0.2.2")};
    const Bytes m = response(9, "example.com", dns_type::a, c);
    const DnsResponse a = parse(m, 9, "EXAMPLE.com.", dns_type::a);
    ASSERT_TRUE(a.ok()) << a.error;
    EXPECT_EQ(a.rcode, dns_rcode::noerror);
    EXPECT_FALSE(a.truncated);
    EXPECT_EQ(a.name, "EXAMPLE.com.");
    EXPECT_TRUE(a.cnames.empty());
    EXPECT_EQ(a.addresses, (std::vector<Endpoint>{addr("192.0.2.1"), addr("192.0.2.2")}));
    EXPECT_TRUE(a.notes.empty());

    const Bytes m6 = response(9, "example.com", dns_type::aaaa, c);
    const DnsResponse b = parse(m6, 9, "example.com", dns_type::aaaa);
    ASSERT_TRUE(b.ok()) << b.error;
    EXPECT_EQ(b.addresses, (std::vector<Endpoint>{addr("2001:db8::1")}));
}

TEST(DnsRoundTrip, FromAQueryEchoesIdFlagsAndQuestionSpelling) {
    auto q = build_dns_query(0x5151, "WwW.Example.Com", dns_type::aaaa);
    ASSERT_TRUE(q);
    DnsResponseContent c;
    c.addresses = {addr("2001:db8::5")};
    std::string error;
    auto m = build_dns_response(q->data(), q->size(), c, &error);
    ASSERT_TRUE(m) << error;
    EXPECT_EQ((*m)[2], 0x85);  // QR, AA, RD
    EXPECT_EQ((*m)[3], 0x80);  // RA, NOERROR
    EXPECT_EQ(Bytes(m->begin() + 12, m->begin() + 12 + 21), Bytes(q->begin() + 12, q->begin() + 12 + 21));
    const DnsResponse r = parse(*m, 0x5151, "www.example.com", dns_type::aaaa);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.addresses, (std::vector<Endpoint>{addr("2001:db8::5")}));
    // A response is not a query to answer.
    EXPECT_FALSE(build_dns_response(m->data(), m->size(), c, &error));
    EXPECT_NE(error.find("QR bit set"), std::string::npos) << error;
}

// --- RFC 9460 Appendix D inside whole messages -------------------------------

TEST(DnsHttps, AppendixDRecordsRoundTrip) {
    const char* const texts[] = {
        "0 foo.example.com.",                                            // D.1 Figure 2
        "1 .",                                                           // D.2 Figure 3
        "16 foo.example.com. port=53",                                   // Figure 4
        "1 foo.example.com. key667=hello",                               // Figure 5
        "1 foo.example.com. key667=hello\\210qoo",                       // Figure 6
        "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1",        // Figure 7
        "1 example.com. ipv6hint=2001:db8:122:344::c000:221",            // Figure 8
        "16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1",  // Figure 9
        "16 foo.example.org. alpn=f\\\\\\\\oo\\\\,bar,h2",               // Figure 10
    };
    DnsResponseContent c;
    for (const char* t : texts) c.svcb.push_back(svcb(t));
    for (const bool compress : {true, false}) {
        c.compress = compress;
        for (const std::uint16_t type : {dns_type::https, dns_type::svcb}) {
            const Bytes m = response(1, "example.com", type, c);
            const DnsResponse r = parse(m, 1, "example.com", type);
            ASSERT_TRUE(r.ok()) << r.error;
            ASSERT_EQ(r.svcb.size(), std::size(texts));
            for (std::size_t i = 0; i < r.svcb.size(); ++i) EXPECT_EQ(to_presentation(r.svcb[i]), texts[i]);
            EXPECT_TRUE(r.notes.empty());
            // Asked for the other type: those records are not the answer.
            const DnsResponse other = parse(m, 1, "example.com", type == dns_type::https ? dns_type::svcb : dns_type::https);
            EXPECT_EQ(other.status, Status::mismatch);
        }
    }
}

TEST(DnsHttps, HandWrittenMessageWithAlpnHintsAndEch) {
    // example.com. HTTPS 1 . alpn=h3,h2 ipv4hint=192.0.2.1 ech=aGVsbG8= ipv6hint=2001:db8::1
    const Bytes m = header(1) + question("00 41") + hex(R"(
        c0 0c  00 41  00 01  00 00 0e 10  00 32      ; owner example.com, HTTPS IN, TTL 3600, RDLENGTH 49
        00 01  00                                    ; priority 1, target "."
        00 01  00 06  02 68 33 02 68 32              ; alpn h3,h2
        00 04  00 04  c0 00 02 01                    ; ipv4hint
        00 05  00 05  68 65 6c 6c 6f                 ; ech "hello"
        00 06  00 10  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
    )");
    const DnsResponse r = parse(m, 0x1234, "example.com", dns_type::https);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.svcb.size(), 1u);
    EXPECT_EQ(to_presentation(r.svcb[0]), "1 . alpn=h3,h2 ipv4hint=192.0.2.1 ech=aGVsbG8= ipv6hint=2001:db8::1");
    EXPECT_EQ(r.name, "example.com.");  // what "." stands for (RFC 9460 §2.5)
}

TEST(DnsHttps, MalformedRecordAmongGoodOnesIsSkippedAndNoted) {
    const Bytes good1 = hex("c0 0c 00 41 00 01 00 00 00 3c 00 03  00 01 00");                 // 1 .
    const Bytes bad = hex("c0 0c 00 41 00 01 00 00 00 3c 00 0d  00 01 00  00 03 00 02 01 bb  00 01 00 00");  // port before alpn, alpn empty
    const Bytes good2 = hex("c0 0c 00 41 00 01 00 00 00 3c 00 09  00 02 00  00 03 00 02 20 fb");  // 2 . port=8443
    const Bytes m = header(3) + question("00 41") + good1 + bad + good2;
    const DnsResponse r = parse(m, 0x1234, "example.com", dns_type::https);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.svcb.size(), 2u);
    EXPECT_EQ(to_presentation(r.svcb[0]), "1 .");
    EXPECT_EQ(to_presentation(r.svcb[1]), "2 . port=8443");
    ASSERT_EQ(r.notes.size(), 1u);
    const std::size_t bad_at = 12 + 17 + good1.size();
    EXPECT_NE(r.notes[0].find("HTTPS record at DNS offset " + std::to_string(bad_at) + " skipped"), std::string::npos)
        << r.notes[0];
    EXPECT_NE(r.notes[0].find("SVCB offset"), std::string::npos) << r.notes[0];
}

TEST(DnsAddresses, WrongSizedRecordIsSkippedAndNoted) {
    const Bytes m = header(3) + question() + a_rr("c0 0c") + hex("c0 0c 00 01 00 01 00 00 00 3c 00 05 c0 00 02 02 09") +
                    a_rr("c0 0c", "c0 00 02 03");
    const DnsResponse r = parse(m, 0x1234, "example.com", dns_type::a);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.addresses, (std::vector<Endpoint>{addr("192.0.2.1"), addr("192.0.2.3")}));
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("A record at DNS offset 45 skipped: RDATA of 5 octets, not 4"), std::string::npos)
        << r.notes[0];
}

// --- Compression -------------------------------------------------------------

TEST(DnsCompression, OwnersAndTargetsPointBackAndReadTheSame) {
    DnsResponseContent c;
    c.cnames = {"cdn.example.com", "edge.cdn.example.com"};
    c.addresses = {addr("192.0.2.1"), addr("192.0.2.2")};
    const Bytes packed = response(1, "www.example.com", dns_type::a, c);
    c.compress = false;
    const Bytes plain = response(1, "www.example.com", dns_type::a, c);
    EXPECT_LT(packed.size(), plain.size());
    // The first CNAME's owner is the question's name; its target ends with a
    // pointer to "example.com" inside it.
    const std::size_t first = 12 + 17 + 4;
    EXPECT_EQ(Bytes(packed.begin() + first, packed.begin() + first + 2), hex("c0 0c"));
    EXPECT_EQ(Bytes(packed.begin() + first + 12, packed.begin() + first + 18), hex("03 63 64 6e c0 10"));
    for (const Bytes* m : {&packed, &plain}) {
        const DnsResponse r = parse(*m, 1, "www.example.com", dns_type::a);
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.cnames, (std::vector<std::string>{"cdn.example.com.", "edge.cdn.example.com."}));
        EXPECT_EQ(r.name, "edge.cdn.example.com.");
        EXPECT_EQ(r.addresses, (std::vector<Endpoint>{addr("192.0.2.1"), addr("192.0.2.2")}));
    }
}

TEST(DnsCompression, PointerToAPointerIsFollowed) {
    // Answer 1 owned by "www" + pointer to example.com; answer 2 by a pointer
    // to answer 1's owner, which itself points further back.
    const Bytes m = header(2) + question() + a_rr("03 77 77 77 c0 0c") + a_rr("c0 1d", "c0 00 02 07");
    const DnsResponse r = parse(m, 0x1234, "www.example.com", dns_type::a);
    // the question is example.com, not www.example.com
    EXPECT_EQ(r.status, Status::mismatch);
    const DnsResponse ok = parse(m, 0x1234, "example.com", dns_type::a);
    ASSERT_TRUE(ok.ok()) << ok.error;
    EXPECT_TRUE(ok.addresses.empty()) << "records owned by www.example.com do not answer example.com";
    // Now ask www.example.com with the question rewritten.
    const Bytes m2 = header(2) + hex("03 77 77 77") + question() + a_rr("c0 0c") + a_rr("c0 21", "c0 00 02 07");
    const DnsResponse www = parse(m2, 0x1234, "www.example.com", dns_type::a);
    ASSERT_TRUE(www.ok()) << www.error;
    EXPECT_EQ(www.addresses, (std::vector<Endpoint>{addr("192.0.2.1"), addr("192.0.2.7")}));
}

TEST(DnsCompression, LoopsForwardPointersAndStrayLabelsAreRejected) {
    // In an answer's owner name: the message is ours but malformed.
    const Bytes base = header(1) + question();  // answer starts at offset 29
    expect_error(parse(base + hex("c0 1d 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01"), 0x1234, "example.com", dns_type::a),
                 Status::malformed, {"DNS offset 29", "compression pointer to offset 29", "loops"});
    expect_error(parse(base + hex("01 61 c0 1d 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01"), 0x1234, "example.com",
                       dns_type::a),
                 Status::malformed, {"DNS offset 31", "offset 29", "loops"});
    expect_error(parse(base + hex("c0 22 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01"), 0x1234, "example.com", dns_type::a),
                 Status::malformed, {"DNS offset 29", "points forward"});
    expect_error(parse(base + hex("c2 00 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01"), 0x1234, "example.com", dns_type::a),
                 Status::malformed, {"DNS offset 29", "past the end"});
    expect_error(parse(base + hex("c0 02 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01"), 0x1234, "example.com", dns_type::a),
                 Status::malformed, {"DNS offset 29", "inside the 12-octet header"});
    expect_error(parse(base + hex("41 00 00 01 00 01 00 00 00 3c 00 04 c0 00 02 01"), 0x1234, "example.com", dns_type::a),
                 Status::malformed, {"DNS offset 29", "label type 0x40"});
    expect_error(parse(base + hex("c0"), 0x1234, "example.com", dns_type::a), Status::malformed,
                 {"DNS offset 29", "ends inside a compression pointer"});
    // Two names pointing at each other: the second pointer must point before
    // the first one's target.
    const Bytes two = header(2) + question() + a_rr("01 61 c0 2d") + a_rr("01 62 c0 1d");
    expect_error(parse(two, 0x1234, "example.com", dns_type::a), Status::malformed, {"DNS offset 31", "points forward"});
    // In the question: not provably our answer.
    const Bytes q = header(0) + hex("c0 0c 00 01 00 01");
    expect_error(parse(q, 0x1234, "example.com", dns_type::a), Status::mismatch, {"DNS offset 12", "loops"});
}

TEST(DnsCompression, OverlongNameIsRejected) {
    // 4 labels of 63 at offset 29 (256 octets with the root) — one octet too many.
    Bytes owner;
    for (int i = 0; i < 4; ++i) {
        owner.push_back(63);
        owner.insert(owner.end(), 63, 'a');
    }
    owner.push_back(0);
    const Bytes m = header(1) + question() + owner + hex("00 01 00 01 00 00 00 3c 00 04 c0 00 02 01");
    expect_error(parse(m, 0x1234, "example.com", dns_type::a), Status::malformed, {"DNS offset 221", "longer than 255"});
}

// --- CNAME chains ---------------------------------------------------------------

TEST(DnsCname, ChainInAnyOrderWithCaseDifferences) {
    // www.example.com CNAME a.example.net; A.EXAMPLE.NET CNAME b.example.net;
    // b.example.net AAAA 2001:db8::7 — written in reverse order; plus an AAAA
    // owned by another name, which is no part of the answer.
    const Bytes m = header(4) + hex("03 77 77 77") + question("00 1c") + hex(R"(
        01 62 07 65 78 61 6d 70 6c 65 03 6e 65 74 00  00 1c 00 01 00 00 00 3c 00 10  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 07
        01 41 c0 23   00 05 00 01 00 00 00 3c 00 04  01 62 c0 23                        ; A.example.net CNAME b.example.net
        c0 0c         00 05 00 01 00 00 00 3c 00 04  01 61 c0 23                        ; www CNAME a.example.net
        c0 10         00 1c 00 01 00 00 00 3c 00 10  20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 99  ; example.com
    )");
    const DnsResponse r = parse(m, 0x1234, "www.example.com", dns_type::aaaa);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.cnames, (std::vector<std::string>{"a.example.net.", "b.example.net."}));
    EXPECT_EQ(r.name, "b.example.net.");
    EXPECT_EQ(r.addresses, (std::vector<Endpoint>{addr("2001:db8::7")}));
    // Asked for the CNAME itself: no chain is followed.
    Bytes asked_cname = m;
    asked_cname[12 + 4 + 13 + 1] = 5;  // QTYPE low octet
    const DnsResponse c = parse(asked_cname, 0x1234, "www.example.com", dns_type::cname);
    ASSERT_TRUE(c.ok()) << c.error;
    EXPECT_TRUE(c.cnames.empty());
    EXPECT_EQ(c.name, "www.example.com.");
}

TEST(DnsCname, DataOfTheAskedTypeEndsTheChain) {
    // example.com owns both a CNAME (to itself, even) and an A record: the A
    // record is the answer, the CNAME is not followed.
    const Bytes m = header(3) + question() + hex("c0 0c 00 05 00 01 00 00 00 3c 00 02 c0 0c") + a_rr("c0 0c") +
                    hex("c0 0c 00 05 00 01 00 00 00 3c 00 06 03 66 6f 6f c0 0c");
    const DnsResponse r = parse(m, 0x1234, "example.com", dns_type::a);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_TRUE(r.cnames.empty());
    EXPECT_EQ(r.name, "example.com.");
    EXPECT_EQ(r.addresses, (std::vector<Endpoint>{addr("192.0.2.1")}));
    // Without the A record the same self-CNAME is a loop.
    const Bytes loop = header(1) + question() + hex("c0 0c 00 05 00 01 00 00 00 3c 00 02 c0 0c");
    expect_error(parse(loop, 0x1234, "example.com", dns_type::a), Status::malformed, {"DNS offset 29", "CNAME loop"});
}

TEST(DnsCname, EightLinksAreFollowedNineAreNot) {
    for (const std::size_t links : {std::size_t{8}, std::size_t{9}}) {
        DnsResponseContent c;
        for (std::size_t i = 0; i < links; ++i) c.cnames.push_back("c" + std::to_string(i) + ".example");
        c.addresses = {addr("192.0.2.9")};
        const DnsResponse r = parse(response(3, "example.com", dns_type::a, c), 3, "example.com", dns_type::a);
        if (links == eyeballs::dns_max_cname_chain) {
            ASSERT_TRUE(r.ok()) << r.error;
            EXPECT_EQ(r.cnames.size(), links);
            EXPECT_EQ(r.name, "c7.example.");
            EXPECT_EQ(r.addresses, (std::vector<Endpoint>{addr("192.0.2.9")}));
        } else {
            expect_error(r, Status::malformed, {"CNAME chain longer than 8 links"});
        }
    }
}

TEST(DnsCname, LoopIsRejected) {
    DnsResponseContent c;
    c.cnames = {"a.example", "b.example", "A.Example"};
    expect_error(parse(response(3, "example.com", dns_type::a, c), 3, "example.com", dns_type::a), Status::malformed,
                 {"CNAME loop", "'b.example.' leads back to 'A.Example.'"});
    c.cnames = {"Example.COM"};  // straight back to the question
    expect_error(parse(response(3, "example.com", dns_type::a, c), 3, "example.com", dns_type::a), Status::malformed,
                 {"DNS offset 29", "CNAME loop"});
}

TEST(DnsCname, RdataThatIsNotOneNameIsMalformed) {
    const Bytes m = header(1) + question() + hex("c0 0c 00 05 00 01 00 00 00 3c 00 04  01 61 00 00");
    expect_error(parse(m, 0x1234, "example.com", dns_type::a), Status::malformed,
                 {"DNS offset 44", "holds more than one name"});
    const Bytes cut = header(1) + question() + hex("c0 0c 00 05 00 01 00 00 00 3c 00 02  01 61  00 00");  // octets after the records are ignored
    expect_error(parse(cut, 0x1234, "example.com", dns_type::a), Status::malformed,
                 {"DNS offset 43", "past the end of its record's RDATA", "CNAME record at DNS offset 29"});
}

// --- Not the answer to our question --------------------------------------------

TEST(DnsMismatch, IdQrOpcodeQuestionAreChecked) {
    DnsResponseContent c;
    c.addresses = {addr("192.0.2.1")};
    const Bytes m = response(0x1234, "example.com", dns_type::a, c);
    expect_error(parse(m, 0x1235, "example.com", dns_type::a), Status::mismatch,
                 {"DNS offset 0", "id 0x1234 is not the query's 0x1235"});
    expect_error(parse(m, 0x1234, "example.org", dns_type::a), Status::mismatch,
                 {"DNS offset 12", "question for 'example.com.', not the query's 'example.org.'"});
    expect_error(parse(m, 0x1234, "example.com", dns_type::aaaa), Status::mismatch,
                 {"DNS offset 25", "question type A, not the query's AAAA"});
    expect_error(parse(m, 0x1234, "exa..mple", dns_type::a), Status::mismatch, {"not a DNS name", "empty label"});
    Bytes query = m;
    query[2] &= 0x7f;
    expect_error(parse(query, 0x1234, "example.com", dns_type::a), Status::mismatch, {"DNS offset 2", "QR bit clear"});
    Bytes notify = m;
    notify[2] |= 0x20;  // opcode 4
    expect_error(parse(notify, 0x1234, "example.com", dns_type::a), Status::mismatch, {"DNS offset 2", "opcode 4"});
    Bytes chaos = m;
    chaos[28] = 3;
    expect_error(parse(chaos, 0x1234, "example.com", dns_type::a), Status::mismatch, {"DNS offset 27", "class 3"});
    Bytes none = m;
    none[5] = 0;
    expect_error(parse(none, 0x1234, "example.com", dns_type::a), Status::mismatch, {"DNS offset 4", "QDCOUNT is 0"});
}

// --- Every prefix ----------------------------------------------------------------

TEST(DnsTruncation, EveryPrefixFailsCleanly) {
    DnsResponseContent c;
    c.cnames = {"cdn.example.net"};
    c.svcb = {svcb("1 . alpn=h3,h2 ipv4hint=192.0.2.1 ech=aGVsbG8= ipv6hint=2001:db8::1"), svcb("0 alias.example.")};
    const Bytes m = response(0x77, "www.example.com", dns_type::https, c);
    ASSERT_TRUE(parse(m, 0x77, "www.example.com", dns_type::https).ok());
    const std::size_t question_end = 12 + 17 + 4;
    for (std::size_t n = 0; n < m.size(); ++n) {
        const Bytes cut(m.begin(), m.begin() + static_cast<std::ptrdiff_t>(n));
        const DnsResponse r = parse(cut, 0x77, "www.example.com", dns_type::https);
        EXPECT_EQ(r.status, n < question_end ? Status::mismatch : Status::malformed) << n << ": " << r.error;
        EXPECT_EQ(r.error.rfind("DNS offset ", 0), 0u) << n << ": " << r.error;
        EXPECT_TRUE(r.svcb.empty());
    }
}

TEST(DnsTruncation, WithTcWhatCameBeforeTheCutIsKept) {
    DnsResponseContent c;
    c.truncated = true;
    c.addresses = {addr("192.0.2.1"), addr("192.0.2.2")};
    const Bytes m = response(5, "example.com", dns_type::a, c);
    const DnsResponse whole = parse(m, 5, "example.com", dns_type::a);
    ASSERT_TRUE(whole.ok()) << whole.error;
    EXPECT_TRUE(whole.truncated);
    EXPECT_EQ(whole.addresses.size(), 2u);
    EXPECT_TRUE(whole.notes.empty());
    // Cut inside the second record: the first is kept, a note says why.
    const Bytes cut(m.begin(), m.end() - 3);
    const DnsResponse r = parse(cut, 5, "example.com", dns_type::a);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.addresses, (std::vector<Endpoint>{addr("192.0.2.1")}));
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("TC set"), std::string::npos) << r.notes[0];
    EXPECT_NE(r.notes[0].find("runs past the end"), std::string::npos) << r.notes[0];
}

// --- Rcodes ------------------------------------------------------------------------

TEST(DnsRcode, NxdomainAndServfailAreAnswers) {
    for (const std::uint16_t rcode : {dns_rcode::nxdomain, dns_rcode::servfail, dns_rcode::refused}) {
        DnsResponseContent c;
        c.rcode = rcode;
        const DnsResponse r = parse(response(2, "nothing.example", dns_type::https, c), 2, "nothing.example", dns_type::https);
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.rcode, rcode);
        EXPECT_TRUE(r.svcb.empty());
    }
    EXPECT_EQ(eyeballs::dns_rcode_name(dns_rcode::nxdomain), "NXDOMAIN");
    EXPECT_EQ(eyeballs::dns_rcode_name(dns_rcode::servfail), "SERVFAIL");
    EXPECT_EQ(eyeballs::dns_rcode_name(23), "RCODE23");
    EXPECT_EQ(eyeballs::dns_type_name(dns_type::https), "HTTPS");
    EXPECT_EQ(eyeballs::dns_type_name(99), "TYPE99");
}

TEST(DnsRcode, ExtendedByOpt) {
    // BADVERS (16): header RCODE 0, OPT's extended RCODE 1.
    const Bytes m = header(0, 0, 1, "81 80") + question() + hex("00 00 29 04 d0 01 00 00 00 00 00");
    const DnsResponse r = parse(m, 0x1234, "example.com", dns_type::a);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.rcode, 16);
}

TEST(DnsRcode, AuthorityAndAdditionalAreCheckedForShape) {
    // NXDOMAIN with an SOA in authority cut short: malformed even though the
    // answer section is empty.
    const Bytes m = header(0, 1, 0, "81 83") + question() + hex("c0 0c 00 06 00 01 00 00 00 3c 00 30 00");
    expect_error(parse(m, 0x1234, "example.com", dns_type::a), Status::malformed,
                 {"DNS offset 39", "RDATA of 48 octets runs past the end"});
}

// --- Writing errors ----------------------------------------------------------------

TEST(DnsBuild, RefusesWhatCannotBeWritten) {
    std::string error;
    DnsResponseContent c;
    c.rcode = 16;
    EXPECT_FALSE(build_dns_response(1, "example.com", dns_type::a, c, &error));
    EXPECT_NE(error.find("rcode 16"), std::string::npos) << error;
    c = {};
    c.cnames = {"a..b"};
    EXPECT_FALSE(build_dns_response(1, "example.com", dns_type::a, c, &error));
    EXPECT_NE(error.find("empty label"), std::string::npos) << error;
    c = {};
    SvcbRecord bad;
    bad.priority = 1;
    bad.ipv6hint = {addr("192.0.2.1")};
    c.svcb = {bad};
    EXPECT_FALSE(build_dns_response(1, "example.com", dns_type::https, c, &error));
    EXPECT_NE(error.find("cannot be written"), std::string::npos) << error;
    EXPECT_FALSE(build_dns_response(1, "", dns_type::https, DnsResponseContent{}, &error));
    const Bytes junk = hex("00 01 02");
    EXPECT_FALSE(build_dns_response(junk.data(), junk.size(), DnsResponseContent{}, &error));
    EXPECT_NE(error.find("bad query: DNS offset 0"), std::string::npos) << error;
}

}  // namespace

// RFC 9460 §2.5: after a CNAME, a ServiceMode "." is the CNAME's target; an
// AliasMode "." and an answer without a CNAME stay as they are.
TEST(DnsNameDotTargets, ServiceModeDotBecomesTheCnameTarget) {
    DnsResponseContent c;
    c.cnames = {"cdn.example.net."};
    c.svcb = {*parse_svcb_presentation("1 . alpn=h2"), *parse_svcb_presentation("2 other.example.")};
    DnsResponse r = parse(response(7, "www.example.com", dns_type::https, c), 7, "www.example.com",
                          dns_type::https);
    ASSERT_TRUE(r.ok()) << r.error;
    name_dot_targets(r);
    ASSERT_EQ(r.svcb.size(), 2u);
    EXPECT_EQ(r.svcb[0].target, "cdn.example.net.");
    EXPECT_EQ(r.svcb[1].target, "other.example.");

    DnsResponseContent alias;
    alias.cnames = {"cdn.example.net."};
    alias.svcb = {*parse_svcb_presentation("0 .")};
    DnsResponse a = parse(response(8, "www.example.com", dns_type::https, alias), 8,
                          "www.example.com", dns_type::https);
    ASSERT_TRUE(a.ok()) << a.error;
    name_dot_targets(a);
    EXPECT_EQ(a.svcb.at(0).target, ".");

    DnsResponseContent direct;
    direct.svcb = {*parse_svcb_presentation("1 . alpn=h2")};
    DnsResponse d = parse(response(9, "www.example.com", dns_type::https, direct), 9,
                          "www.example.com", dns_type::https);
    ASSERT_TRUE(d.ok()) << d.error;
    name_dot_targets(d);
    EXPECT_EQ(d.svcb.at(0).target, ".");
}

// DnsResponse::ttl (for DnsCache): the smallest TTL the answer rests on, the
// CNAME records followed included; a TTL with the top bit set reads as 0
// (RFC 2181 §8); no records, no TTL.
namespace {

TEST(DnsMessageTtl, SmallestOfTheChainAndTheRecords) {
    // example.com CNAME www.example.com (TTL 30); www.example.com A 192.0.2.1 (TTL 300).
    const Bytes m = eyeballs_test::hex(std::string("12 34 81 80 00 01 00 02 00 00 00 00 ") + example_com +
                                       " 00 01 00 01"
                                       " c0 0c 00 05 00 01 00 00 00 1e 00 06 03 77 77 77 c0 0c"
                                       " c0 29 00 01 00 01 00 00 01 2c 00 04 c0 00 02 01");
    DnsResponse r = parse(m, 0x1234, "example.com", dns_type::a);
    ASSERT_TRUE(r.ok()) << r.error;
    ASSERT_EQ(r.addresses.size(), 1u);
    EXPECT_EQ(r.ttl, 30u);

    DnsResponseContent c;
    c.addresses = {*Endpoint::parse_address("2001:db8::1", 0)};
    c.ttl = 300;
    r = parse(response(7, "www.example", dns_type::aaaa, c), 7, "www.example", dns_type::aaaa);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.ttl, 300u);
    c.ttl = 0x80000000u;
    r = parse(response(7, "www.example", dns_type::aaaa, c), 7, "www.example", dns_type::aaaa);
    EXPECT_EQ(r.ttl, 0u);
    DnsResponseContent https;
    https.svcb = {svcb("1 . alpn=h2")};
    https.ttl = 120;
    r = parse(response(7, "www.example", dns_type::https, https), 7, "www.example", dns_type::https);
    ASSERT_EQ(r.svcb.size(), 1u);
    EXPECT_EQ(r.ttl, 120u);
    DnsResponseContent nodata;
    nodata.ttl = 300;
    r = parse(response(7, "www.example", dns_type::aaaa, nodata), 7, "www.example", dns_type::aaaa);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.ttl, 0u);
}

}  // namespace
