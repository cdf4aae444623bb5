// SPDX-License-Identifier: BSL-1.0
// eyeballs — the Alt-Svc field value (RFC 7838 §3), parsed (alt_svc.hpp).
//
// The grammar, in RFC 7838's ABNF (with RFC 7230's list rule):
//   Alt-Svc       = clear / 1#alt-value
//   alt-value     = alternative *( OWS ";" OWS parameter )
//   alternative   = protocol-id "=" alt-authority
//   protocol-id   = token            ; percent-encoded ALPN protocol name
//   alt-authority = quoted-string    ; containing [ uri-host ] ":" port
//   parameter     = token "=" ( token / quoted-string )
// Empty list elements (", ,") are allowed by the list rule and skipped.
#include "eyeballs/alt_svc.hpp"

#include <cctype>
#include <limits>

namespace eyeballs {

namespace {

bool tchar(char c) {
    // RFC 7230 §3.2.6 token characters.
    return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

class Parser {
public:
    Parser(std::string_view text, std::string* error) : s_(text), error_(error) {}

    std::optional<AltSvcValue> run() {
        AltSvcValue out;
        skip_ows();
        if (trimmed_rest() == "clear") {
            out.clear = true;
            return out;
        }
        bool any = false;
        while (true) {
            skip_ows();
            if (at_end()) break;
            if (peek() == ',') {  // an empty list element
                ++i_;
                continue;
            }
            AltSvc alt;
            if (!alternative(alt, out.alternatives.size() + 1)) return std::nullopt;
            out.alternatives.push_back(std::move(alt));
            any = true;
            skip_ows();
            if (at_end()) break;
            if (peek() != ',') {
                return fail("alternative " + std::to_string(out.alternatives.size()) +
                            ": expected ',' or ';' at offset " + std::to_string(i_));
            }
            ++i_;
        }
        if (!any) return fail("no alternative (an empty Alt-Svc value)");
        return out;
    }

private:
    std::optional<AltSvcValue> fail(const std::string& m) {
        if (error_) *error_ = m;
        return std::nullopt;
    }
    bool fail_b(std::size_t n, const std::string& m) {
        if (error_) *error_ = "alternative " + std::to_string(n) + ": " + m;
        return false;
    }
    bool at_end() const { return i_ >= s_.size(); }
    char peek() const { return s_[i_]; }
    void skip_ows() {
        while (!at_end() && (peek() == ' ' || peek() == '\t')) ++i_;
    }
    std::string_view trimmed_rest() const {
        std::string_view r = s_.substr(i_);
        while (!r.empty() && (r.back() == ' ' || r.back() == '\t')) r.remove_suffix(1);
        return r;
    }
    std::string_view token() {
        const std::size_t b = i_;
        while (!at_end() && tchar(peek())) ++i_;
        return s_.substr(b, i_ - b);
    }
    // RFC 7230 §3.2.6 quoted-string, with quoted-pair; the opening quote is next.
    bool quoted(std::string& out, std::size_t n) {
        ++i_;
        while (!at_end() && peek() != '"') {
            if (peek() == '\\') {
                ++i_;
                if (at_end()) break;
            }
            out.push_back(peek());
            ++i_;
        }
        if (at_end()) return fail_b(n, "unterminated quoted string");
        ++i_;
        return true;
    }

    bool alternative(AltSvc& alt, std::size_t n) {
        const std::string_view id = token();
        if (id.empty()) return fail_b(n, "expected a protocol id at offset " + std::to_string(i_));
        for (std::size_t k = 0; k < id.size(); ++k) {
            if (id[k] != '%') {
                alt.alpn.push_back(id[k]);
                continue;
            }
            if (k + 2 >= id.size() + 0 || hex(id[k + 1]) < 0 || hex(id[k + 2]) < 0) {
                return fail_b(n, "bad percent-encoding in protocol id '" + std::string(id) + "'");
            }
            alt.alpn.push_back(static_cast<char>(hex(id[k + 1]) * 16 + hex(id[k + 2])));
            k += 2;
        }
        if (at_end() || peek() != '=') {
            return fail_b(n, "expected '=' after protocol id '" + std::string(id) + "'");
        }
        ++i_;
        if (at_end() || peek() != '"') {
            return fail_b(n, "the authority must be a quoted string (\":443\" or \"host:443\")");
        }
        std::string authority;
        if (!quoted(authority, n)) return false;
        if (!parse_authority(authority, alt, n)) return false;
        while (true) {
            skip_ows();
            if (at_end() || peek() != ';') return true;
            ++i_;
            skip_ows();
            if (at_end() || peek() == ',') continue;  // a trailing ';'
            const std::string_view name = token();
            if (name.empty() || at_end() || peek() != '=') {
                return fail_b(n, "expected a parameter name=value at offset " + std::to_string(i_));
            }
            ++i_;
            std::string value;
            if (!at_end() && peek() == '"') {
                if (!quoted(value, n)) return false;
            } else {
                value = std::string(token());
                if (value.empty()) return fail_b(n, "parameter " + std::string(name) + " has no value");
            }
            if (name == "ma") {
                if (!delta_seconds(value, alt.max_age)) {
                    return fail_b(n, "ma=" + value + " is not a number of seconds");
                }
            } else if (name == "persist") {
                alt.persist = value == "1";  // RFC 7838 §3.1: other values are ignored
            }  // other parameters: ignored (RFC 7838 §3)
        }
    }

    static bool delta_seconds(const std::string& v, std::uint32_t& out) {
        if (v.empty()) return false;
        std::uint64_t n = 0;
        for (char c : v) {
            if (c < '0' || c > '9') return false;
            n = n * 10 + static_cast<std::uint64_t>(c - '0');
            if (n > std::numeric_limits<std::uint32_t>::max()) n = std::numeric_limits<std::uint32_t>::max();
        }
        out = static_cast<std::uint32_t>(n);
        return true;
    }

    bool parse_authority(const std::string& a, AltSvc& alt, std::size_t n) {
        const std::size_t colon = a.rfind(':');
        if (colon == std::string::npos) {
            return fail_b(n, "authority \"" + a + "\" has no ':port'");
        }
        std::string host = a.substr(0, colon);
        if (!host.empty() && host.front() == '[') {
            if (host.size() < 3 || host.back() != ']') {
                return fail_b(n, "authority \"" + a + "\": bad IPv6 literal");
            }
            host = host.substr(1, host.size() - 2);
        } else if (host.find(':') != std::string::npos) {
            return fail_b(n, "authority \"" + a + "\": an IPv6 host needs brackets");
        }
        for (char c : host) {
            if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '/' || c == '@') {
                return fail_b(n, "authority \"" + a + "\": bad host");
            }
        }
        const std::string port = a.substr(colon + 1);
        std::uint32_t p = 0;
        if (port.empty() || port.size() > 5 || !delta_seconds(port, p)) {
            return fail_b(n, "authority \"" + a + "\": bad port '" + port + "'");
        }
        if (p == 0 || p > 65535) {
            return fail_b(n, "port " + port + " is outside 1-65535");
        }
        alt.host = std::move(host);
        alt.port = static_cast<std::uint16_t>(p);
        return true;
    }

    std::string_view s_;
    std::string* error_;
    std::size_t i_ = 0;
};

}  // namespace

std::optional<AltSvcValue> parse_alt_svc(std::string_view value, std::string* error) {
    return Parser(value, error).run();
}

std::string to_string(const AltSvc& alt) {
    std::string out;
    for (char c : alt.alpn) {
        if (tchar(c) && c != '%') {
            out.push_back(c);
        } else {
            static const char digits[] = "0123456789ABCDEF";
            out.push_back('%');
            out.push_back(digits[(static_cast<unsigned char>(c) >> 4) & 0xF]);
            out.push_back(digits[static_cast<unsigned char>(c) & 0xF]);
        }
    }
    out += "=\"";
    const bool v6 = alt.host.find(':') != std::string::npos;
    if (v6) out.push_back('[');
    out += alt.host;
    if (v6) out.push_back(']');
    out += ":" + std::to_string(alt.port) + "\"; ma=" + std::to_string(alt.max_age);
    if (alt.persist) out += "; persist=1";
    return out;
}

}  // namespace eyeballs
