// SPDX-License-Identifier: BSL-1.0
// eyeballs — error texts: stage names and Error::message().
//
// The texts appear in reports and in the JSON trace (docs/behaviour.md §3, §5):
//   connect to R: ECONNREFUSED
//   connect to R timed out: ETIMEDOUT (DETAIL)
//   bind to L for R: EADDRINUSE
//   open socket for R: EMFILE
//   no local address of family IPv6
//   resolve AAAA: no data | resolve A: EAI_TEXT (ENAME) | resolve A: ENAME
//   resolve AAAA svc.example.net.: no data   (an HTTPS target name)
//   with a DNS class (Error::dns): resolve AAAA: no data |
//   resolve AAAA: no such name (NXDOMAIN) | resolve A: server failure (SERVFAIL) |
//   resolve A: timed out [(DETAIL)] | resolve A: malformed answer: DETAIL |
//   resolve A: truncated answer [(DETAIL)]
//   TLS handshake with R: ECONNRESET
// Any of the attempt texts gets " (DETAIL)" appended when the adapter gave one.
#include <cerrno>
#include <string>

#include "eyeballs/error.hpp"

namespace eyeballs {

const char* stage_name(Stage s) noexcept {
    switch (s) {
        case Stage::resolve: return "resolve";
        case Stage::open: return "open";
        case Stage::bind: return "bind";
        case Stage::connect: return "connect";
        case Stage::timeout: return "timeout";
        case Stage::tls: return "tls";
    }
    return "unknown";
}

const char* dns_error_name(DnsError e) noexcept {
    switch (e) {
        case DnsError::none: return nullptr;
        case DnsError::nodata: return "NODATA";
        case DnsError::nxdomain: return "NXDOMAIN";
        case DnsError::server_failure: return "SERVFAIL";
        case DnsError::timeout: return "TIMEOUT";
        case DnsError::malformed: return "MALFORMED";
        case DnsError::truncated: return "TRUNCATED";
    }
    return nullptr;
}

namespace {

// "ECONNREFUSED", or "errno N" for a value with no name.
std::string code_text(int code) {
    if (const char* name = errno_name(code)) return name;
    return "errno " + std::to_string(code);
}

std::string remote_text(const Error& e) {
    return e.remote ? e.remote->to_string() : std::string("unknown remote");
}

void append_detail(std::string& out, const std::string& detail) {
    if (detail.empty()) return;
    out += " (";
    out += detail;
    out += ')';
}

// ": ENAME", or ": failed" when the adapter gave no errno.
void append_code(std::string& out, int code) {
    out += ": ";
    out += code != 0 ? code_text(code) : std::string("failed");
}

}  // namespace

std::string Error::message() const {
    std::string out;
    switch (stage) {
        case Stage::resolve: {
            const Family f = family.value_or(remote ? remote->family() : Family::v6);
            out = "resolve ";
            out += record_name(f);
            if (!name.empty()) {
                out += ' ';
                out += name;
            }
            out += ": ";
            // The machine stores a class's name as the detail when the
            // adapter gave none (race_machine_dns.cpp): not worth repeating.
            const char* dns_name = dns_error_name(dns);
            const std::string dns_detail =
                dns_name != nullptr && detail == dns_name ? std::string() : detail;
            switch (dns) {
                case DnsError::none: break;
                case DnsError::nodata: out += "no data"; return out;
                case DnsError::nxdomain: out += "no such name (NXDOMAIN)"; return out;
                case DnsError::server_failure:
                    out += "server failure";
                    append_detail(out, dns_detail.empty() ? std::string("SERVFAIL") : dns_detail);
                    return out;
                case DnsError::timeout:
                    out += "timed out";
                    append_detail(out, dns_detail);
                    return out;
                case DnsError::malformed:
                    out += "malformed answer";
                    if (!dns_detail.empty()) out += ": " + dns_detail;
                    return out;
                case DnsError::truncated:
                    out += "truncated answer";
                    append_detail(out, dns_detail);
                    return out;
            }
            if (!detail.empty()) {
                out += detail;
                if (code != 0) {
                    out += " (";
                    out += code_text(code);
                    out += ')';
                }
            } else if (code != 0) {
                out += code_text(code);
            } else {
                out += "no data";
            }
            return out;
        }
        case Stage::open:
            out = "open socket for " + remote_text(*this);
            append_code(out, code);
            break;
        case Stage::bind:
            if (!local && code == 0) {
                const Family f = remote ? remote->family() : family.value_or(Family::v4);
                out = "no local address of family ";
                out += family_name(f);
                append_detail(out, detail);
                return out;
            }
            out = "bind";
            if (local) out += " to " + local->to_string();
            out += " for " + remote_text(*this);
            append_code(out, code);
            break;
        case Stage::connect:
            out = "connect to " + remote_text(*this);
            append_code(out, code);
            break;
        case Stage::timeout:
            out = "connect to " + remote_text(*this) + " timed out: ";
            out += code != 0 ? code_text(code) : std::string("ETIMEDOUT");
            break;
        case Stage::tls:
            out = "TLS handshake with " + remote_text(*this);
            append_code(out, code);
            break;
    }
    append_detail(out, detail);
    return out;
}

}  // namespace eyeballs
