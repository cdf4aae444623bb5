// SPDX-License-Identifier: BSL-1.0
// SVCB/HTTPS RDATA (RFC 9460): the Appendix D test vectors, the D.3 failure
// cases in wire form, and the wire-format rules of §2.2, §2.4.2, §7 and §8.
#include "eyeballs/svcb.hpp"

#include "test_bytes.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace {

using eyeballs::Endpoint;
using eyeballs::parse_svcb_rdata;
using eyeballs::serialize_svcb_rdata;
using eyeballs::SvcbRecord;
using eyeballs::to_presentation;
using Bytes = std::vector<std::uint8_t>;

using eyeballs_test::hex;

std::optional<SvcbRecord> parse(const Bytes& b, std::string* error = nullptr) {
    return parse_svcb_rdata(b.data(), b.size(), error);
}

Endpoint v6(const char* text) { return *Endpoint::parse_address(text, 0); }
Endpoint v4(const char* text) { return *Endpoint::parse_address(text, 0); }

// Parses `wire`, checks the presentation form, and that writing the record
// gives the same octets back.
SvcbRecord round_trip(const Bytes& wire, const std::string& presentation) {
    std::string error;
    const auto r = parse(wire, &error);
    EXPECT_TRUE(r.has_value()) << error;
    if (!r) return {};
    EXPECT_EQ(to_presentation(*r), presentation);
    const auto again = serialize_svcb_rdata(*r, &error);
    EXPECT_TRUE(again.has_value()) << error;
    if (again) EXPECT_EQ(*again, wire);
    return *r;
}

// The wire form of "foo.example.com." (RFC 9460 Appendix D).
const char* const foo_example_com = "03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00";

// Rejects `wire` with a message containing each of `words`.
void expect_rejected(const Bytes& wire, std::initializer_list<const char*> words) {
    std::string error;
    const auto r = parse(wire, &error);
    EXPECT_FALSE(r.has_value()) << to_presentation(*r);
    for (const char* w : words) EXPECT_NE(error.find(w), std::string::npos) << "'" << w << "' not in: " << error;
}

// --- RFC 9460 Appendix D.1: AliasMode ----------------------------------------

TEST(SvcbRfc9460D1, AliasModeExample) {
    // Figure 2: example.com. HTTPS 0 foo.example.com.
    const SvcbRecord r = round_trip(hex(std::string("00 00 ") + foo_example_com), "0 foo.example.com.");
    EXPECT_TRUE(r.alias_mode());
    EXPECT_EQ(r.priority, 0);
    EXPECT_EQ(r.target, "foo.example.com.");
}

// --- RFC 9460 Appendix D.2: ServiceMode --------------------------------------

TEST(SvcbRfc9460D2, UseTheOwnerName) {
    // Figure 3: example.com. SVCB 1 .
    const SvcbRecord r = round_trip(hex("00 01  00"), "1 .");
    EXPECT_FALSE(r.alias_mode());
    EXPECT_EQ(r.target, ".");
    EXPECT_TRUE(r.alpn.empty());
    EXPECT_FALSE(r.port.has_value());
}

TEST(SvcbRfc9460D2, PortOnly) {
    // Figure 4: example.com. SVCB 16 foo.example.com. port=53
    const SvcbRecord r = round_trip(hex(std::string("00 10 ") + foo_example_com + " 00 03  00 02  00 35"),
                                    "16 foo.example.com. port=53");
    EXPECT_EQ(r.priority, 16);
    EXPECT_EQ(r.port, std::optional<std::uint16_t>(53));
    EXPECT_EQ(r.port_or(443), 53);
}

TEST(SvcbRfc9460D2, UnregisteredKeyUnquotedValue) {
    // Figure 5: example.com. SVCB 1 foo.example.com. key667=hello
    const SvcbRecord r = round_trip(
        hex(std::string("00 01 ") + foo_example_com + " 02 9b  00 05  68 65 6c 6c 6f"),
        "1 foo.example.com. key667=hello");
    ASSERT_EQ(r.unknown_keys.size(), 1u);
    EXPECT_EQ(r.unknown_keys[0].first, 667);
    EXPECT_EQ(r.unknown_keys[0].second, hex("68 65 6c 6c 6f"));
}

TEST(SvcbRfc9460D2, UnregisteredKeyWithDecimalEscape) {
    // Figure 6: example.com. SVCB 1 foo.example.com. key667="hello\210qoo"
    const SvcbRecord r = round_trip(
        hex(std::string("00 01 ") + foo_example_com + " 02 9b  00 09  68 65 6c 6c 6f d2 71 6f 6f"),
        "1 foo.example.com. key667=hello\\210qoo");
    ASSERT_EQ(r.unknown_keys.size(), 1u);
    EXPECT_EQ(r.unknown_keys[0].second[5], 210);
}

TEST(SvcbRfc9460D2, TwoIpv6Hints) {
    // Figure 7: ipv6hint="2001:db8::1,2001:db8::53:1"
    const SvcbRecord r = round_trip(hex(std::string("00 01 ") + foo_example_com + R"(
        00 06  00 20
        20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 ; first address
        20 01 0d b8 00 00 00 00 00 00 00 00 00 53 00 01 ; second address
    )"),
                                    "1 foo.example.com. ipv6hint=2001:db8::1,2001:db8::53:1");
    ASSERT_EQ(r.ipv6hint.size(), 2u);
    EXPECT_EQ(r.ipv6hint[0], v6("2001:db8::1"));
    EXPECT_EQ(r.ipv6hint[1], v6("2001:db8::53:1"));
    EXPECT_EQ(r.ipv6hint[1].port(), 0);
    EXPECT_TRUE(r.ipv4hint.empty());
}

TEST(SvcbRfc9460D2, Ipv6HintWithEmbeddedIpv4) {
    // Figure 8: example.com. SVCB 1 example.com. ( ipv6hint="2001:db8:122:344::192.0.2.33" )
    // Printed in RFC 5952 form: no dotted quad except for ::ffff:a.b.c.d.
    const SvcbRecord r = round_trip(hex(R"(
        00 01                                           ; priority
        07 65 78 61 6d 70 6c 65 03 63 6f 6d 00          ; target
        00 06  00 10                                    ; key 6, length 16
        20 01 0d b8 01 22 03 44 00 00 00 00 c0 00 02 21 ; address
    )"),
                                    "1 example.com. ipv6hint=2001:db8:122:344::c000:221");
    ASSERT_EQ(r.ipv6hint.size(), 1u);
    EXPECT_EQ(r.ipv6hint[0], v6("2001:db8:122:344::192.0.2.33"));
}

TEST(SvcbRfc9460D2, MandatoryAlpnIpv4hintSortedOnTheWire) {
    // Figure 9: example.com. SVCB 16 foo.example.org. (
    //   alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1 )
    const SvcbRecord r = round_trip(hex(R"(
        00 10                                              ; priority
        03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 6f 72 67 00 ; target
        00 00  00 04  00 01 00 04                          ; mandatory: key 1, key 4
        00 01  00 09  02 68 32  05 68 33 2d 31 39          ; alpn: h2, h3-19
        00 04  00 04  c0 00 02 01                          ; ipv4hint: 192.0.2.1
    )"),
                                    "16 foo.example.org. mandatory=alpn,ipv4hint alpn=h2,h3-19 ipv4hint=192.0.2.1");
    EXPECT_EQ(r.mandatory, (std::vector<std::uint16_t>{1, 4}));
    EXPECT_EQ(r.alpn, (std::vector<std::string>{"h2", "h3-19"}));
    ASSERT_EQ(r.ipv4hint.size(), 1u);
    EXPECT_EQ(r.ipv4hint[0], v4("192.0.2.1"));
    EXPECT_TRUE(r.mandatory_ok());
}

TEST(SvcbRfc9460D2, AlpnWithEscapedCommaAndBackslash) {
    // Figure 10: example.com. SVCB 16 foo.example.org. alpn="f\\\\oo\\,bar,h2"
    // — two ALPN ids, "f\oo,bar" and "h2"; printed with the same escapes.
    const SvcbRecord r = round_trip(hex(R"(
        00 10
        03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 6f 72 67 00
        00 01  00 0c
        08 66 5c 6f 6f 2c 62 61 72                         ; f\oo,bar
        02 68 32                                           ; h2
    )"),
                                    R"(16 foo.example.org. alpn=f\\\\oo\\,bar,h2)");
    EXPECT_EQ(r.alpn, (std::vector<std::string>{"f\\oo,bar", "h2"}));
}

// --- RFC 9460 Appendix D.3: failure cases ------------------------------------
// D.3 gives these in presentation form; here is each one's wire form, built
// by hand from §2.2 (key, length, value), with a note when the presentation
// form cannot be written on the wire at all.

TEST(SvcbRfc9460D3, RepeatedKeyIsRejected) {
    // key123=abc key123=def: the second key123 is not greater than the first.
    expect_rejected(hex(std::string("00 01 ") + foo_example_com + " 00 7b 00 03 61 62 63  00 7b 00 03 64 65 66"),
                    {"offset 26", "key123", "strictly increasing", "§2.2"});
}

TEST(SvcbRfc9460D3, KeysMissingTheirValuesAreRejected) {
    // "mandatory", "alpn", "port", "ipv4hint", "ipv6hint" with no value: an
    // empty value on the wire.
    const std::string head = std::string("00 01 ") + foo_example_com;
    expect_rejected(hex(head + " 00 00 00 00"), {"offset 23", "mandatory", "§8"});
    expect_rejected(hex(head + " 00 01 00 00"), {"offset 23", "alpn", "§7.1.1"});
    expect_rejected(hex(head + " 00 03 00 00"), {"offset 23", "port", "§7.2"});
    expect_rejected(hex(head + " 00 04 00 00"), {"offset 23", "ipv4hint", "§7.3"});
    expect_rejected(hex(head + " 00 06 00 00"), {"offset 23", "ipv6hint", "§7.3"});
}

TEST(SvcbRfc9460D3, NoDefaultAlpnWithAValueIsRejected) {
    // no-default-alpn=abc
    expect_rejected(hex(std::string("00 01 ") + foo_example_com + " 00 02 00 03 61 62 63"),
                    {"offset 23", "no-default-alpn", "must be empty"});
}

TEST(SvcbRfc9460D3, MissingMandatoryKeyIsRejected) {
    // mandatory=key123, and no key123.
    expect_rejected(hex(std::string("00 01 ") + foo_example_com + " 00 00 00 02 00 7b"),
                    {"mandatory lists key123", "does not have", "§8"});
}

TEST(SvcbRfc9460D3, MandatoryListingItselfIsRejected) {
    // mandatory=mandatory
    expect_rejected(hex(std::string("00 01 ") + foo_example_com + " 00 00 00 02 00 00"),
                    {"offset 23", "key 0", "§8"});
}

TEST(SvcbRfc9460D3, MandatoryListingAKeyTwiceIsRejected) {
    // mandatory=key123,key123 key123=abc
    expect_rejected(hex(std::string("00 01 ") + foo_example_com + " 00 00 00 04 00 7b 00 7b  00 7b 00 03 61 62 63"),
                    {"offset 25", "strictly increasing", "§8"});
}

// --- §2.2 wire-format rules ---------------------------------------------------

TEST(SvcbWire, KeysOutOfOrderAreRejectedWithTheirOffset) {
    // port (3) then alpn (1).
    expect_rejected(hex(std::string("00 01 ") + foo_example_com + " 00 03 00 02 01 bb  00 01 00 03 02 68 32"),
                    {"SVCB offset 25", "alpn (key 1) after key 3", "strictly increasing", "§2.2"});
}

TEST(SvcbWire, CompressedTargetNameIsRejected) {
    expect_rejected(hex("00 01 c0 0c"), {"offset 2", "MUST NOT be compressed"});
    expect_rejected(hex("00 01 03 66 6f 6f c0 0c"), {"offset 6", "compressed"});
}

TEST(SvcbWire, ExtendedLabelTypesAndLongNamesAreRejected) {
    expect_rejected(hex("00 01 40 00"), {"offset 2", "63 octets"});
    Bytes long_name = {0, 1};
    for (int i = 0; i < 5; ++i) {
        long_name.push_back(63);
        long_name.insert(long_name.end(), 63, 'a');
    }
    long_name.push_back(0);
    expect_rejected(long_name, {"longer than 255"});
}

TEST(SvcbWire, TruncationAnywhereIsRejected) {
    const Bytes full = hex(std::string("00 10 ") + foo_example_com + " 00 01 00 03 02 68 33  00 03 00 02 01 bb");
    ASSERT_TRUE(parse(full).has_value());
    // Every proper prefix but the one that ends right after the alpn param
    // (a complete record without port) is malformed.
    const std::size_t after_alpn = 2 + 17 + 4 + 3;
    for (std::size_t n = 0; n < full.size(); ++n) {
        std::string error;
        const auto r = parse_svcb_rdata(full.data(), n, &error);
        if (n == 2 + 17 || n == after_alpn) {
            EXPECT_TRUE(r.has_value()) << n << ": " << error;
        } else {
            EXPECT_FALSE(r.has_value()) << "prefix of " << n << " octets";
            EXPECT_NE(error.find("SVCB offset"), std::string::npos) << error;
        }
    }
    expect_rejected(hex(std::string("00 10 ") + foo_example_com + " 00 03 00 02 01"),
                    {"offset 19", "port value of 2 octets runs past", "1 octets left"});
}

TEST(SvcbWire, MalformedValuesAreRejected) {
    const std::string head = std::string("00 01 ") + foo_example_com;
    expect_rejected(hex(head + " 00 01 00 03 00 68 32"), {"offset 23", "empty ALPN id"});
    expect_rejected(hex(head + " 00 01 00 03 03 68 32"), {"offset 23", "exactly fill"});
    expect_rejected(hex(head + " 00 03 00 03 00 01 bb"), {"port value of 3 octets"});
    expect_rejected(hex(head + " 00 04 00 05 c0 00 02 01 02"), {"ipv4hint value of 5 octets", "multiple of 4"});
    expect_rejected(hex(head + " 00 06 00 04 20 01 0d b8"), {"ipv6hint value of 4 octets", "multiple of 16"});
    expect_rejected(hex(head + " 00 00 00 03 00 01 00 00 01 00 02 68 32"), {"mandatory value of 3 octets"});
}

TEST(SvcbWire, AliasModeIgnoresItsSvcParams) {
    // §2.4.2: "recipients MUST ignore any SvcParams that are present" — even
    // ones that would be malformed in ServiceMode.
    const auto r = parse(hex(std::string("00 00 ") + foo_example_com + " 00 03 00 02 01 bb  00 01 00 00 ff"));
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->alias_mode());
    EXPECT_FALSE(r->port.has_value());
    EXPECT_EQ(*r, (SvcbRecord{0, "foo.example.com.", {}, {}, false, {}, {}, {}, {}, {}}));
    // AliasMode to the root: "service not available" (§2.5.1) — a valid record.
    EXPECT_EQ(to_presentation(*parse(hex("00 00 00"))), "0 .");
}

TEST(SvcbWire, EchAndNoDefaultAlpnAndUnknownKeys) {
    const SvcbRecord r = round_trip(hex(R"(
        00 01  00
        00 00  00 04  00 01 1f 90          ; mandatory=alpn,key8080
        00 01  00 03  02 68 33             ; alpn=h3
        00 02  00 00                       ; no-default-alpn
        00 05  00 05  68 65 6c 6c 6f       ; ech=aGVsbG8=
        1f 90  00 00                       ; key8080 (empty value)
    )"),
                                    "1 . mandatory=alpn,key8080 alpn=h3 no-default-alpn ech=aGVsbG8= key8080");
    EXPECT_TRUE(r.no_default_alpn);
    ASSERT_TRUE(r.ech.has_value());
    EXPECT_EQ(*r.ech, hex("68 65 6c 6c 6f"));
    // §8: a mandatory key the client does not interpret makes the record unusable.
    EXPECT_FALSE(r.mandatory_ok());
}

TEST(SvcbWire, TargetNameOctetsThatNeedEscapesRoundTrip) {
    // A label "a.b" and a label holding 0xff and a space.
    const SvcbRecord r = round_trip(hex("00 02  03 61 2e 62  02 ff 20  00"), R"(2 a\.b.\255\032.)");
    EXPECT_EQ(r.target, R"(a\.b.\255\032.)");
}

TEST(SvcbWire, PresentationOfAPlanRecord) {
    SvcbRecord r;
    r.priority = 1;
    r.alpn = {"h3", "h2"};
    r.port = 8443;
    r.ipv4hint = {v4("192.0.2.1"), v4("198.51.100.7")};
    r.ipv6hint = {v6("2001:db8::1")};
    EXPECT_EQ(to_presentation(r), "1 . alpn=h3,h2 port=8443 ipv4hint=192.0.2.1,198.51.100.7 ipv6hint=2001:db8::1");
    std::string error;
    const auto wire = serialize_svcb_rdata(r, &error);
    ASSERT_TRUE(wire.has_value()) << error;
    const auto back = parse(*wire, &error);
    ASSERT_TRUE(back.has_value()) << error;
    EXPECT_EQ(*back, r);
}

TEST(SvcbWire, SerializeRefusesWhatCannotBeWritten) {
    std::string error;
    SvcbRecord r;
    r.priority = 1;
    r.ipv4hint = {v6("2001:db8::1")};
    EXPECT_FALSE(serialize_svcb_rdata(r, &error));
    EXPECT_NE(error.find("ipv4hint holds 2001:db8::1"), std::string::npos) << error;

    r = SvcbRecord{};
    r.priority = 1;
    r.alpn = {""};
    EXPECT_FALSE(serialize_svcb_rdata(r, &error));
    EXPECT_NE(error.find("ALPN id of 0 octets"), std::string::npos) << error;

    r = SvcbRecord{};
    r.priority = 1;
    r.unknown_keys = {{3, {0, 1}}};
    EXPECT_FALSE(serialize_svcb_rdata(r, &error));
    EXPECT_NE(error.find("port"), std::string::npos) << error;

    r = SvcbRecord{};
    r.priority = 1;
    r.mandatory = {3};
    EXPECT_FALSE(serialize_svcb_rdata(r, &error));
    EXPECT_NE(error.find("mandatory lists port, which is absent"), std::string::npos) << error;

    r = SvcbRecord{};
    r.target = "a..b.";
    EXPECT_FALSE(serialize_svcb_rdata(r, &error));
    EXPECT_NE(error.find("empty label"), std::string::npos) << error;
}

TEST(SvcbWire, KeyNames) {
    EXPECT_EQ(eyeballs::svcb_key_name(0), "mandatory");
    EXPECT_EQ(eyeballs::svcb_key_name(2), "no-default-alpn");
    EXPECT_EQ(eyeballs::svcb_key_name(6), "ipv6hint");
    EXPECT_EQ(eyeballs::svcb_key_name(7), "key7");
    EXPECT_EQ(eyeballs::svcb_key_name(65535), "key65535");
}

// --- Presentation form (RFC 9460 §2.1, Appendix A) ----------------------------

std::optional<SvcbRecord> text(const std::string& t, std::string* error = nullptr) {
    return eyeballs::parse_svcb_presentation(t, error);
}

TEST(SvcbPresentation, RfcAppendixDFormsMatchTheirWireForms) {
    // Each D.1/D.2 presentation form as the RFC writes it (owner, class and
    // type dropped), and the same record's wire form.
    const std::string foo = foo_example_com;
    const std::string org = "03 66 6f 6f 07 65 78 61 6d 70 6c 65 03 6f 72 67 00";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"0 foo.example.com.", "00 00 " + foo},
        {"1 .", "00 01 00"},
        {"16 foo.example.com. port=53", "00 10 " + foo + " 00 03 00 02 00 35"},
        {"1 foo.example.com. key667=hello", "00 01 " + foo + " 02 9b 00 05 68 65 6c 6c 6f"},
        {R"(1 foo.example.com. key667="hello\210qoo")", "00 01 " + foo + " 02 9b 00 09 68 65 6c 6c 6f d2 71 6f 6f"},
        {R"(1 foo.example.com. ipv6hint="2001:db8::1,2001:db8::53:1")",
         "00 01 " + foo +
             " 00 06 00 20 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01"
             " 20 01 0d b8 00 00 00 00 00 00 00 00 00 53 00 01"},
        {R"(1 example.com. ipv6hint="2001:db8:122:344::192.0.2.33")",
         "00 01 07 65 78 61 6d 70 6c 65 03 63 6f 6d 00 00 06 00 10"
         " 20 01 0d b8 01 22 03 44 00 00 00 00 c0 00 02 21"},
        {"16 foo.example.org. alpn=h2,h3-19 mandatory=ipv4hint,alpn ipv4hint=192.0.2.1",
         "00 10 " + org + " 00 00 00 04 00 01 00 04  00 01 00 09 02 68 32 05 68 33 2d 31 39  00 04 00 04 c0 00 02 01"},
        {R"(16 foo.example.org. alpn="f\\\\oo\\,bar,h2")",
         "00 10 " + org + " 00 01 00 0c 08 66 5c 6f 6f 2c 62 61 72 02 68 32"},
        {R"(16 foo.example.org. alpn=f\\\092oo\092,bar,h2)",
         "00 10 " + org + " 00 01 00 0c 08 66 5c 6f 6f 2c 62 61 72 02 68 32"},
    };
    for (const auto& [presentation, wire] : cases) {
        std::string error;
        const auto from_text = text(presentation, &error);
        ASSERT_TRUE(from_text.has_value()) << presentation << ": " << error;
        const auto from_wire = parse(hex(wire), &error);
        ASSERT_TRUE(from_wire.has_value()) << presentation << ": " << error;
        EXPECT_EQ(*from_text, *from_wire) << presentation << " vs " << to_presentation(*from_wire);
        EXPECT_EQ(serialize_svcb_rdata(*from_text), hex(wire)) << presentation;
        EXPECT_EQ(text(to_presentation(*from_text)), from_text) << to_presentation(*from_text);
    }
}

TEST(SvcbPresentation, RfcAppendixD3FailureCasesAreRejected) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"1 foo.example.com. key123=abc key123=def", "key123 appears twice"},
        {"1 foo.example.com. mandatory", "mandatory needs a value"},
        {"1 foo.example.com. alpn", "alpn needs a value"},
        {"1 foo.example.com. port", "port needs a value"},
        {"1 foo.example.com. ipv4hint", "ipv4hint needs a value"},
        {"1 foo.example.com. ipv6hint", "ipv6hint needs a value"},
        {"1 foo.example.com. no-default-alpn=abc", "no-default-alpn takes no value"},
        {"1 foo.example.com. mandatory=key123", "mandatory lists key123"},
        {"1 foo.example.com. mandatory=mandatory", "key 0"},
        {"1 foo.example.com. mandatory=key123,key123 key123=abc", "mandatory lists a key twice"},
    };
    for (const auto& [presentation, why] : cases) {
        std::string error;
        EXPECT_FALSE(text(presentation, &error).has_value()) << presentation;
        EXPECT_NE(error.find(why), std::string::npos) << presentation << ": " << error;
    }
}

TEST(SvcbPresentation, APlanLineParsesAndPrintsInKeyOrder) {
    std::string error;
    const auto r = text("1 . alpn=h3,h2 ipv6hint=2001:db8::1 port=8443", &error);
    ASSERT_TRUE(r.has_value()) << error;
    EXPECT_EQ(r->alpn, (std::vector<std::string>{"h3", "h2"}));
    EXPECT_EQ(r->port, std::optional<std::uint16_t>(8443));
    ASSERT_EQ(r->ipv6hint.size(), 1u);
    EXPECT_EQ(r->ipv6hint[0], v6("2001:db8::1"));
    EXPECT_EQ(to_presentation(*r), "1 . alpn=h3,h2 port=8443 ipv6hint=2001:db8::1");
    // A name without the final dot is fully qualified all the same.
    EXPECT_EQ(text("2 svc.example.net")->target, "svc.example.net.");
    // key3 is another spelling of port; ech is base64.
    const auto e = text("3 . key3=443 ech=aGVsbG8=", &error);
    ASSERT_TRUE(e.has_value()) << error;
    EXPECT_EQ(e->port, std::optional<std::uint16_t>(443));
    EXPECT_EQ(e->ech, std::optional<std::vector<std::uint8_t>>(hex("68 65 6c 6c 6f")));
}

TEST(SvcbPresentation, MistakesAreRejectedWithAReason) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"0 foo.example.com. alpn=h2", "AliasMode"},
        {"1 . port=65536", "port '65536'"},
        {"1 . ipv4hint=2001:db8::1", "ipv4hint holds 2001:db8::1"},
        {"1 . ipv6hint=192.0.2.1", "ipv6hint holds 192.0.2.1"},
        {"1 . ipv4hint=192.0.2.300", "ipv4hint"},
        {"1 . ech=aGVsbG8", "not base64"},
        {"1 . alpn=h2,,h3", "ALPN id of 0 octets"},
        {"1 . colour=blue", "unknown SvcParamKey 'colour'"},
        {"1 . key70000=x", "unknown SvcParamKey"},
        {"1 . key667=\"open", "unterminated quote"},
        {"65536 .", "SvcPriority '65536'"},
        {"1", "no SvcPriority and TargetName"},
        {"1 a..b.", "empty label"},
    };
    for (const auto& [presentation, why] : cases) {
        std::string error;
        EXPECT_FALSE(text(presentation, &error).has_value()) << presentation;
        EXPECT_NE(error.find(why), std::string::npos) << presentation << ": " << error;
    }
}

}  // namespace
