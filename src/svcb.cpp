// SPDX-License-Identifier: BSL-1.0
// eyeballs — SVCB/HTTPS RDATA (RFC 9460; see eyeballs/svcb.hpp).
//
// The parser walks the RDATA once with a cursor that never passes the end;
// every failure names the offset of the field that broke a rule and the
// section that states it. The writer checks the same rules from the other
// side, so parse → serialize → parse gives the same record (fuzz_svcb checks).
#include "eyeballs/svcb.hpp"

#include "dns_name.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

namespace eyeballs {

namespace {

using detail::max_label;
using detail::max_name;

bool fail(std::string* error, std::size_t offset, const std::string& what) {
    if (error) *error = "SVCB offset " + std::to_string(offset) + ": " + what;
    return false;
}

bool fail_writing(std::string* error, const std::string& what) {
    if (error) *error = "SVCB record cannot be written: " + what;
    return false;
}

std::uint16_t get16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] << 8 | p[1]);
}

void put16(std::vector<std::uint8_t>& out, std::size_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

// Reads the TargetName at data[at...]: uncompressed labels up to the root.
bool read_name(const std::uint8_t* data, std::size_t size, std::size_t& at, std::string& name,
               std::string* error) {
    const std::size_t start = at;
    name.clear();
    for (;;) {
        if (at >= size) return fail(error, at, "RDATA ends inside TargetName (RFC 9460 §2.2)");
        const std::uint8_t len = data[at];
        if ((len & 0xc0) == 0xc0)
            return fail(error, at, "TargetName is compressed; it \"MUST NOT be compressed\" (RFC 9460 §2.2)");
        if (len > max_label)
            return fail(error, at,
                        "label type or length " + std::to_string(len) +
                            " in TargetName (labels are at most 63 octets, RFC 1035 §2.3.4)");
        if (at + 1 + len - start > max_name)
            return fail(error, at, "TargetName longer than 255 octets (RFC 1035 §2.3.4)");
        if (len == 0) {
            ++at;
            name = detail::name_to_text(data + start, at - start);
            return true;
        }
        if (at + 1 + len > size) return fail(error, at, "RDATA ends inside a TargetName label (RFC 9460 §2.2)");
        at += 1u + len;
    }
}

// Presentation name → wire labels. Accepts what read_name prints (and names
// without the final dot, taken as fully qualified).
bool write_name(std::string_view text, std::vector<std::uint8_t>& out, std::string* error) {
    std::string why;
    if (!detail::name_to_wire(text, out, why)) return fail_writing(error, "TargetName: " + why);
    return true;
}

bool known_key(std::uint16_t key) noexcept { return key <= svcb_key::ipv6hint; }

// Parses one known key's value into `r`. `at` is the value's offset.
bool parse_value(std::uint16_t key, const std::uint8_t* v, std::size_t len, std::size_t at, SvcbRecord& r,
                 std::string* error) {
    const std::string name = svcb_key_name(key);
    switch (key) {
    case svcb_key::mandatory:
        if (len == 0 || len % 2 != 0)
            return fail(error, at,
                        "mandatory value of " + std::to_string(len) +
                            " octets is not a non-empty list of 2-octet keys (RFC 9460 §8)");
        for (std::size_t i = 0; i < len; i += 2) {
            const std::uint16_t k = get16(v + i);
            if (k == svcb_key::mandatory)
                return fail(error, at + i, "mandatory lists key 0, which \"MUST NOT\" appear in it (RFC 9460 §8)");
            if (!r.mandatory.empty() && k <= r.mandatory.back())
                return fail(error, at + i,
                            "mandatory lists key " + std::to_string(k) + " after key " +
                                std::to_string(r.mandatory.back()) +
                                ": keys must be strictly increasing, each once (RFC 9460 §8)");
            r.mandatory.push_back(k);
        }
        return true;
    case svcb_key::alpn:
        if (len == 0) return fail(error, at, "alpn value is empty; it holds at least one ALPN id (RFC 9460 §7.1.1)");
        for (std::size_t i = 0; i < len;) {
            const std::size_t n = v[i];
            if (n == 0) return fail(error, at + i, "empty ALPN id (RFC 9460 §7.1.1, RFC 7301 §3.1)");
            if (i + 1 + n > len)
                return fail(error, at + i,
                            "ALPN id of " + std::to_string(n) +
                                " octets runs past the alpn value; the ids must exactly fill it (RFC 9460 §7.1.1)");
            r.alpn.emplace_back(reinterpret_cast<const char*>(v + i + 1), n);
            i += 1 + n;
        }
        return true;
    case svcb_key::no_default_alpn:
        if (len != 0)
            return fail(error, at,
                        "no-default-alpn has a " + std::to_string(len) +
                            "-octet value; it must be empty (RFC 9460 §7.1.1)");
        r.no_default_alpn = true;
        return true;
    case svcb_key::port:
        if (len != 2)
            return fail(error, at, "port value of " + std::to_string(len) + " octets, not 2 (RFC 9460 §7.2)");
        r.port = get16(v);
        return true;
    case svcb_key::ipv4hint:
    case svcb_key::ipv6hint: {
        const std::size_t width = key == svcb_key::ipv4hint ? 4 : 16;
        if (len == 0 || len % width != 0)
            return fail(error, at,
                        name + " value of " + std::to_string(len) + " octets is not a non-empty multiple of " +
                            std::to_string(width) + " (RFC 9460 §7.3)");
        for (std::size_t i = 0; i < len; i += width) {
            if (width == 4) {
                r.ipv4hint.push_back(Endpoint::v4({v[i], v[i + 1], v[i + 2], v[i + 3]}, 0));
            } else {
                std::array<std::uint8_t, 16> b{};
                std::copy(v + i, v + i + 16, b.begin());
                r.ipv6hint.push_back(Endpoint::v6(b, 0));
            }
        }
        return true;
    }
    case svcb_key::ech:
        r.ech = std::vector<std::uint8_t>(v, v + len);
        return true;
    default:
        r.unknown_keys.emplace_back(key, std::vector<std::uint8_t>(v, v + len));
        return true;
    }
}

bool has_key(const SvcbRecord& r, std::uint16_t key) {
    switch (key) {
    case svcb_key::mandatory: return !r.mandatory.empty();
    case svcb_key::alpn: return !r.alpn.empty();
    case svcb_key::no_default_alpn: return r.no_default_alpn;
    case svcb_key::port: return r.port.has_value();
    case svcb_key::ipv4hint: return !r.ipv4hint.empty();
    case svcb_key::ech: return r.ech.has_value();
    case svcb_key::ipv6hint: return !r.ipv6hint.empty();
    default:
        return std::any_of(r.unknown_keys.begin(), r.unknown_keys.end(),
                           [key](const auto& kv) { return kv.first == key; });
    }
}

// §2.1 / Appendix A.1: a char-string with `\` escapes. `in_list` also escapes
// ',' (value-list items, Appendix A.1: "\," then escaped again as "\\,").
void append_value_octets(std::string& out, const std::uint8_t* p, std::size_t n, bool in_list) {
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t c = p[i];
        if (in_list && (c == ',' || c == '\\')) {
            out += "\\\\";  // the value-list's backslash, itself escaped
            if (c == '\\') {
                out += "\\\\";
            } else {
                out += ',';
            }
        } else if (c == '\\' || c == '"') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c <= 0x20 || c >= 0x7f || c == ';' || c == '(' || c == ')') {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(c));
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
}

std::string base64(const std::vector<std::uint8_t>& b) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    std::size_t i = 0;
    for (; i + 3 <= b.size(); i += 3) {
        const unsigned v = static_cast<unsigned>(b[i] << 16 | b[i + 1] << 8 | b[i + 2]);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += alphabet[v & 63];
    }
    if (b.size() - i == 1) {
        const unsigned v = static_cast<unsigned>(b[i] << 16);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += "==";
    } else if (b.size() - i == 2) {
        const unsigned v = static_cast<unsigned>(b[i] << 16 | b[i + 1] << 8);
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        out += '=';
    }
    return out;
}

}  // namespace

bool SvcbRecord::self_consistent() const noexcept {
    return std::all_of(mandatory.begin(), mandatory.end(), [this](std::uint16_t k) {
        return k != svcb_key::mandatory && has_key(*this, k);
    });
}

bool SvcbRecord::mandatory_ok() const noexcept {
    return std::all_of(mandatory.begin(), mandatory.end(),
                       [](std::uint16_t k) { return k != svcb_key::mandatory && known_key(k); });
}

bool operator==(const SvcbRecord& a, const SvcbRecord& b) noexcept {
    return a.priority == b.priority && a.target == b.target && a.mandatory == b.mandatory && a.alpn == b.alpn &&
           a.no_default_alpn == b.no_default_alpn && a.port == b.port && a.ipv4hint == b.ipv4hint &&
           a.ipv6hint == b.ipv6hint && a.ech == b.ech && a.unknown_keys == b.unknown_keys;
}

namespace {

bool fail_text(std::string* error, const std::string& what) {
    if (error) *error = "SVCB presentation: " + what;
    return false;
}

// Splits at unquoted, unescaped whitespace; quotes stay in the tokens.
bool tokenize(std::string_view text, std::vector<std::string_view>& out, std::string* error) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') {
            ++i;
            continue;
        }
        const std::size_t start = i;
        bool quoted = false;
        for (; i < text.size(); ++i) {
            const char c = text[i];
            if (c == '\\') {
                ++i;  // the escaped character, whatever it is
                continue;
            }
            if (c == '"') quoted = !quoted;
            if (!quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r')) break;
        }
        if (quoted) return fail_text(error, "unterminated quote in '" + std::string(text.substr(start)) + "'");
        if (i > text.size()) return fail_text(error, "text ends in '\\'");
        out.push_back(text.substr(start, i - start));
    }
    return true;
}

// A char-string (RFC 1035 §5.1, RFC 9460 §2.1): optional quotes, `\X`, `\DDD`.
bool decode_char_string(std::string_view v, std::string& out, std::string* error) {
    out.clear();
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    for (std::size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (c == '"') return fail_text(error, "stray quote in '" + std::string(v) + "'");
        if (c != '\\') {
            out += c;
            continue;
        }
        if (i + 1 >= v.size()) return fail_text(error, "'" + std::string(v) + "' ends in '\\'");
        const char n = v[i + 1];
        if (n >= '0' && n <= '9') {
            if (i + 3 >= v.size()) return fail_text(error, "short \\DDD in '" + std::string(v) + "'");
            unsigned d = 0;
            for (std::size_t k = 1; k <= 3; ++k) {
                const char x = v[i + k];
                if (x < '0' || x > '9') return fail_text(error, "bad \\DDD in '" + std::string(v) + "'");
                d = d * 10 + static_cast<unsigned>(x - '0');
            }
            if (d > 255) return fail_text(error, "\\DDD over 255 in '" + std::string(v) + "'");
            out += static_cast<char>(d);
            i += 3;
        } else {
            out += n;
            i += 1;
        }
    }
    return true;
}

// Appendix A.1 value-list: items split at commas; `\,` and `\\` escape.
std::vector<std::string> split_value_list(const std::string& v) {
    std::vector<std::string> items(1);
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) {
            items.back() += v[++i];
        } else if (v[i] == ',') {
            items.emplace_back();
        } else {
            items.back() += v[i];
        }
    }
    return items;
}

bool parse_u16(std::string_view t, std::uint16_t& out) {
    if (t.empty() || t.size() > 5) return false;
    unsigned v = 0;
    for (const char c : t) {
        if (c < '0' || c > '9') return false;
        v = v * 10 + static_cast<unsigned>(c - '0');
    }
    if (v > 0xffff) return false;
    out = static_cast<std::uint16_t>(v);
    return true;
}

std::optional<std::uint16_t> key_number(std::string_view name) {
    for (std::uint16_t k = 0; k <= svcb_key::ipv6hint; ++k)
        if (name == svcb_key_name(k)) return k;
    std::uint16_t k = 0;
    if (name.size() > 3 && name.substr(0, 3) == "key" && parse_u16(name.substr(3), k)) {
        // "key01" is not a spelling of key 1: one spelling per key.
        if (name.size() > 4 && name[3] == '0') return std::nullopt;
        return k;
    }
    return std::nullopt;
}

bool base64_decode(const std::string& in, std::vector<std::uint8_t>& out) {
    out.clear();
    if (in.size() % 4 != 0) return false;
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    for (std::size_t i = 0; i < in.size(); i += 4) {
        const bool last = i + 4 == in.size();
        const int pad = last ? (in[i + 3] == '=') + (in[i + 2] == '=' && in[i + 3] == '=') : 0;
        int v[4];
        for (int k = 0; k < 4 - pad; ++k) {
            v[k] = value(in[i + static_cast<std::size_t>(k)]);
            if (v[k] < 0) return false;
        }
        for (int k = 4 - pad; k < 4; ++k) v[k] = 0;
        const unsigned n = static_cast<unsigned>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
        // Canonical form only: the bits a padded group drops must be zero.
        if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) return false;
        out.push_back(static_cast<std::uint8_t>(n >> 16));
        if (pad < 2) out.push_back(static_cast<std::uint8_t>(n >> 8 & 0xff));
        if (pad < 1) out.push_back(static_cast<std::uint8_t>(n & 0xff));
    }
    return true;
}

bool parse_param(std::uint16_t key, const std::string& name, bool has_value, const std::string& v, SvcbRecord& r,
                 std::string* error) {
    auto need_value = [&]() {
        return has_value && !v.empty() ? true : fail_text(error, name + " needs a value (RFC 9460 §7, §8)");
    };
    switch (key) {
    case svcb_key::mandatory:
        if (!need_value()) return false;
        for (const std::string& item : split_value_list(v)) {
            const auto k = key_number(item);
            if (!k) return fail_text(error, "mandatory lists '" + item + "', which is not a SvcParamKey");
            r.mandatory.push_back(*k);
        }
        std::sort(r.mandatory.begin(), r.mandatory.end());
        if (std::adjacent_find(r.mandatory.begin(), r.mandatory.end()) != r.mandatory.end())
            return fail_text(error, "mandatory lists a key twice (RFC 9460 §8)");
        return true;
    case svcb_key::alpn:
        if (!need_value()) return false;
        for (const std::string& id : split_value_list(v)) {
            if (id.empty() || id.size() > 255)
                return fail_text(error, "ALPN id of " + std::to_string(id.size()) + " octets (1-255, RFC 9460 §7.1.1)");
            r.alpn.push_back(id);
        }
        return true;
    case svcb_key::no_default_alpn:
        if (has_value) return fail_text(error, "no-default-alpn takes no value (RFC 9460 §7.1.1)");
        r.no_default_alpn = true;
        return true;
    case svcb_key::port: {
        std::uint16_t p = 0;
        if (!need_value()) return false;
        if (!parse_u16(v, p)) return fail_text(error, "port '" + v + "' is not a number 0-65535 (RFC 9460 §7.2)");
        r.port = p;
        return true;
    }
    case svcb_key::ipv4hint:
    case svcb_key::ipv6hint: {
        if (!need_value()) return false;
        auto& list = key == svcb_key::ipv4hint ? r.ipv4hint : r.ipv6hint;
        std::size_t start = 0;
        for (;;) {
            const std::size_t comma = v.find(',', start);
            const std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            std::string why;
            const auto e = Endpoint::parse_address(item, 0, &why);
            if (!e) return fail_text(error, name + ": " + why);
            if (e->is_v4() != (key == svcb_key::ipv4hint))
                return fail_text(error, name + " holds " + e->address_string() + " (RFC 9460 §7.3)");
            list.push_back(*e);
            if (comma == std::string::npos) break;
            start = comma + 1;
        }
        return true;
    }
    case svcb_key::ech: {
        std::vector<std::uint8_t> b;
        if (!base64_decode(v, b)) return fail_text(error, "ech value '" + v + "' is not base64");
        r.ech = std::move(b);
        return true;
    }
    default:
        r.unknown_keys.emplace_back(key, std::vector<std::uint8_t>(v.begin(), v.end()));
        return true;
    }
}

}  // namespace

std::optional<SvcbRecord> parse_svcb_presentation(std::string_view text, std::string* error) {
    std::vector<std::string_view> tokens;
    if (!tokenize(text, tokens, error)) return std::nullopt;
    if (tokens.size() < 2)
        return fail_text(error, "'" + std::string(text) + "' has no SvcPriority and TargetName"), std::nullopt;
    SvcbRecord r;
    if (!parse_u16(tokens[0], r.priority))
        return fail_text(error, "SvcPriority '" + std::string(tokens[0]) + "' is not a number 0-65535"),
               std::nullopt;
    // The target, canonical: written to the wire and read back.
    std::vector<std::uint8_t> name;
    std::string why;
    if (!write_name(tokens[1], name, &why)) return fail_text(error, why), std::nullopt;
    std::size_t at = 0;
    if (!read_name(name.data(), name.size(), at, r.target, &why)) return fail_text(error, why), std::nullopt;
    if (r.alias_mode() && tokens.size() > 2)
        return fail_text(error, "AliasMode (priority 0) records carry no SvcParams (RFC 9460 §2.4.2)"),
               std::nullopt;

    std::vector<std::uint16_t> seen;
    for (std::size_t i = 2; i < tokens.size(); ++i) {
        const std::string_view t = tokens[i];
        const std::size_t eq = t.find('=');
        const std::string key_text(t.substr(0, eq));
        const auto key = key_number(key_text);
        if (!key) return fail_text(error, "unknown SvcParamKey '" + key_text + "'"), std::nullopt;
        if (std::find(seen.begin(), seen.end(), *key) != seen.end())
            return fail_text(error, svcb_key_name(*key) + " appears twice (RFC 9460 §2.1)"), std::nullopt;
        seen.push_back(*key);
        std::string value;
        const bool has_value = eq != std::string_view::npos;
        if (has_value && !decode_char_string(t.substr(eq + 1), value, error)) return std::nullopt;
        if (!parse_param(*key, svcb_key_name(*key), has_value, value, r, error)) return std::nullopt;
    }
    std::sort(r.unknown_keys.begin(), r.unknown_keys.end());
    // The wire rules (mandatory present, not key 0, value shapes) in one place.
    const auto wire = serialize_svcb_rdata(r, &why);
    if (!wire) return fail_text(error, why), std::nullopt;
    if (!parse_svcb_rdata(wire->data(), wire->size(), &why)) return fail_text(error, why), std::nullopt;
    return r;
}

std::string svcb_key_name(std::uint16_t key) {
    switch (key) {
    case svcb_key::mandatory: return "mandatory";
    case svcb_key::alpn: return "alpn";
    case svcb_key::no_default_alpn: return "no-default-alpn";
    case svcb_key::port: return "port";
    case svcb_key::ipv4hint: return "ipv4hint";
    case svcb_key::ech: return "ech";
    case svcb_key::ipv6hint: return "ipv6hint";
    default: return "key" + std::to_string(key);
    }
}

std::optional<SvcbRecord> parse_svcb_rdata(const std::uint8_t* data, std::size_t size, std::string* error) {
    SvcbRecord r;
    if (data == nullptr && size != 0) size = 0;
    if (size < 2) {
        fail(error, 0, "RDATA of " + std::to_string(size) + " octets has no room for SvcPriority (RFC 9460 §2.2)");
        return std::nullopt;
    }
    r.priority = get16(data);
    std::size_t at = 2;
    if (!read_name(data, size, at, r.target, error)) return std::nullopt;
    // §2.4.2: "recipients MUST ignore any SvcParams that are present".
    if (r.alias_mode()) return r;

    bool any = false;
    std::uint16_t last = 0;
    while (at < size) {
        const std::size_t key_at = at;
        if (size - at < 4)
            return fail(error, at, "RDATA ends inside a SvcParam's key and length (RFC 9460 §2.2)"), std::nullopt;
        const std::uint16_t key = get16(data + at);
        const std::size_t len = get16(data + at + 2);
        if (any && key <= last) {
            fail(error, key_at,
                 svcb_key_name(key) + " (key " + std::to_string(key) + ") after key " + std::to_string(last) +
                     ": SvcParamKeys must be in strictly increasing order (RFC 9460 §2.2)");
            return std::nullopt;
        }
        at += 4;
        if (size - at < len) {
            fail(error, key_at,
                 svcb_key_name(key) + " value of " + std::to_string(len) + " octets runs past the RDATA's end (" +
                     std::to_string(size - at) + " octets left) (RFC 9460 §2.2)");
            return std::nullopt;
        }
        if (!parse_value(key, data + at, len, at, r, error)) return std::nullopt;
        at += len;
        last = key;
        any = true;
    }
    for (const std::uint16_t k : r.mandatory) {
        if (!has_key(r, k)) {
            fail(error, 0,
                 "mandatory lists " + svcb_key_name(k) + ", which the record does not have (RFC 9460 §8)");
            return std::nullopt;
        }
    }
    return r;
}

std::optional<std::vector<std::uint8_t>> serialize_svcb_rdata(const SvcbRecord& r, std::string* error) {
    std::vector<std::uint8_t> out;
    put16(out, r.priority);
    if (!write_name(r.target, out, error)) return std::nullopt;

    auto param = [&](std::uint16_t key, const std::vector<std::uint8_t>& value) {
        if (value.size() > 0xffff) return fail_writing(error, svcb_key_name(key) + " value over 65535 octets");
        put16(out, key);
        put16(out, value.size());
        out.insert(out.end(), value.begin(), value.end());
        return true;
    };
    std::vector<std::uint8_t> v;
    if (!r.mandatory.empty()) {
        for (std::size_t i = 0; i < r.mandatory.size(); ++i) {
            const std::uint16_t k = r.mandatory[i];
            if (k == svcb_key::mandatory) return fail_writing(error, "mandatory lists key 0"), std::nullopt;
            if (i > 0 && k <= r.mandatory[i - 1])
                return fail_writing(error, "mandatory keys not strictly increasing"), std::nullopt;
            if (!has_key(r, k))
                return fail_writing(error, "mandatory lists " + svcb_key_name(k) + ", which is absent"),
                       std::nullopt;
            put16(v, k);
        }
        if (!param(svcb_key::mandatory, v)) return std::nullopt;
    }
    if (!r.alpn.empty()) {
        v.clear();
        for (const std::string& id : r.alpn) {
            if (id.empty() || id.size() > 255)
                return fail_writing(error, "ALPN id of " + std::to_string(id.size()) + " octets (1-255)"),
                       std::nullopt;
            v.push_back(static_cast<std::uint8_t>(id.size()));
            v.insert(v.end(), id.begin(), id.end());
        }
        if (!param(svcb_key::alpn, v)) return std::nullopt;
    }
    if (r.no_default_alpn && !param(svcb_key::no_default_alpn, {})) return std::nullopt;
    if (r.port) {
        v.clear();
        put16(v, *r.port);
        if (!param(svcb_key::port, v)) return std::nullopt;
    }
    if (!r.ipv4hint.empty()) {
        v.clear();
        for (const Endpoint& e : r.ipv4hint) {
            if (!e.is_v4()) return fail_writing(error, "ipv4hint holds " + e.address_string()), std::nullopt;
            v.insert(v.end(), e.bytes().begin(), e.bytes().begin() + 4);
        }
        if (!param(svcb_key::ipv4hint, v)) return std::nullopt;
    }
    if (r.ech && !param(svcb_key::ech, *r.ech)) return std::nullopt;
    if (!r.ipv6hint.empty()) {
        v.clear();
        for (const Endpoint& e : r.ipv6hint) {
            if (!e.is_v6()) return fail_writing(error, "ipv6hint holds " + e.address_string()), std::nullopt;
            v.insert(v.end(), e.bytes().begin(), e.bytes().end());
        }
        if (!param(svcb_key::ipv6hint, v)) return std::nullopt;
    }
    for (std::size_t i = 0; i < r.unknown_keys.size(); ++i) {
        const std::uint16_t k = r.unknown_keys[i].first;
        if (known_key(k))
            return fail_writing(error, "unknown_keys holds " + svcb_key_name(k) + ", which has its own field"),
                   std::nullopt;
        if (i > 0 && k <= r.unknown_keys[i - 1].first)
            return fail_writing(error, "unknown_keys not strictly increasing"), std::nullopt;
        if (!param(k, r.unknown_keys[i].second)) return std::nullopt;
    }
    return out;
}

std::string to_presentation(const SvcbRecord& r) {
    std::string out = std::to_string(r.priority);
    out += ' ';
    out += r.target;
    if (!r.mandatory.empty()) {
        out += " mandatory=";
        for (std::size_t i = 0; i < r.mandatory.size(); ++i) {
            if (i > 0) out += ',';
            out += svcb_key_name(r.mandatory[i]);
        }
    }
    if (!r.alpn.empty()) {
        out += " alpn=";
        for (std::size_t i = 0; i < r.alpn.size(); ++i) {
            if (i > 0) out += ',';
            append_value_octets(out, reinterpret_cast<const std::uint8_t*>(r.alpn[i].data()), r.alpn[i].size(),
                                true);
        }
    }
    if (r.no_default_alpn) out += " no-default-alpn";
    if (r.port) out += " port=" + std::to_string(*r.port);
    auto hints = [&out](const char* name, const std::vector<Endpoint>& list) {
        if (list.empty()) return;
        out += ' ';
        out += name;
        out += '=';
        for (std::size_t i = 0; i < list.size(); ++i) {
            if (i > 0) out += ',';
            out += list[i].address_string();
        }
    };
    hints("ipv4hint", r.ipv4hint);
    if (r.ech) {
        out += " ech";
        if (!r.ech->empty()) out += "=" + base64(*r.ech);
    }
    hints("ipv6hint", r.ipv6hint);
    for (const auto& [key, value] : r.unknown_keys) {
        out += ' ';
        out += svcb_key_name(key);
        if (!value.empty()) {
            out += '=';
            append_value_octets(out, value.data(), value.size(), false);
        }
    }
    return out;
}

}  // namespace eyeballs
