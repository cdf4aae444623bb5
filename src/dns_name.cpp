// SPDX-License-Identifier: BSL-1.0
// eyeballs — DNS names between presentation text and wire form (see dns_name.hpp).
#include "dns_name.hpp"

#include <cstdio>

namespace eyeballs::detail {

bool name_to_wire(std::string_view text, std::vector<std::uint8_t>& out, std::string& why) {
    if (text.empty()) {
        why = "empty name (use \".\" for the root)";
        return false;
    }
    const std::size_t start = out.size();
    if (text != ".") {
        std::vector<std::uint8_t> label;
        auto flush = [&]() {
            if (label.empty()) {
                why = "empty label in '" + std::string(text) + "'";
                return false;
            }
            if (label.size() > max_label) {
                why = "label of " + std::to_string(label.size()) + " octets in '" + std::string(text) +
                      "' (labels are at most 63, RFC 1035 §2.3.4)";
                return false;
            }
            out.push_back(static_cast<std::uint8_t>(label.size()));
            out.insert(out.end(), label.begin(), label.end());
            label.clear();
            return true;
        };
        for (std::size_t i = 0; i < text.size(); ++i) {
            const char c = text[i];
            if (c == '.') {
                if (!flush()) return false;
            } else if (c == '\\') {
                if (i + 1 >= text.size()) {
                    why = "'" + std::string(text) + "' ends in '\\'";
                    return false;
                }
                const char n = text[i + 1];
                if (n >= '0' && n <= '9') {
                    unsigned v = 0;
                    for (std::size_t k = 1; k <= 3; ++k) {
                        const char d = i + k < text.size() ? text[i + k] : '\0';
                        if (d < '0' || d > '9') {
                            why = "bad \\DDD escape in '" + std::string(text) +
                                  "' (three decimal digits, RFC 1035 §5.1)";
                            return false;
                        }
                        v = v * 10 + static_cast<unsigned>(d - '0');
                    }
                    if (v > 255) {
                        why = "\\DDD escape over 255 in '" + std::string(text) + "'";
                        return false;
                    }
                    label.push_back(static_cast<std::uint8_t>(v));
                    i += 3;
                } else {
                    label.push_back(static_cast<std::uint8_t>(n));
                    i += 1;
                }
            } else {
                label.push_back(static_cast<std::uint8_t>(c));
            }
            if (label.size() > max_label) return flush();  // reports the long label
        }
        if (!label.empty() && !flush()) return false;
    }
    out.push_back(0);
    const std::size_t size = out.size() - start;
    if (size > max_name) {
        why = "'" + std::string(text) + "' is " + std::to_string(size) +
              " octets on the wire, over 255 (RFC 1035 §2.3.4)";
        return false;
    }
    return true;
}

std::string name_to_text(const std::uint8_t* wire, std::size_t size) {
    if (size <= 1) return ".";
    std::string out;
    for (std::size_t i = 0; i < size && wire[i] != 0; i += 1u + wire[i]) {
        for (std::size_t k = 1; k <= wire[i] && i + k < size; ++k) {
            const std::uint8_t c = wire[i + k];
            if (c == '.' || c == '\\') {
                out += '\\';
                out += static_cast<char>(c);
            } else if (c <= 0x20 || c >= 0x7f || c == '"' || c == ';' || c == '(' || c == ')') {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\%03u", static_cast<unsigned>(c));
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        out += '.';
    }
    return out;
}

}  // namespace eyeballs::detail
