// SPDX-License-Identifier: BSL-1.0
// eyeballs — errors recorded during a race, and errno names.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "eyeballs/endpoint.hpp"

namespace eyeballs {

/// Where in a race an error happened (docs/behaviour.md §3).
/// `tls`: the handshake after the connect failed (config.success =
/// Success::handshake, Happy Eyeballs v3 §6.1).
enum class Stage : std::uint8_t { resolve, open, bind, connect, timeout, tls };

/// "resolve", "open", "bind", "connect", "timeout", "tls" (static strings;
/// "unknown" for a value outside the enum).
const char* stage_name(Stage s) noexcept;

/// What a DNS server's answer (or its absence) was, for a resolve error —
/// the same classes in every adapter, so a report reads the same whichever
/// loop ran the race (issue 14 item 6). `none`: not a classified DNS outcome
/// (a local error such as a socket that could not be opened, or a caller of
/// the machine that gave only an errno / a text).
///   nodata          NOERROR without records of the type (RFC 2308 §2.2)
///   nxdomain        RCODE 3: the name does not exist (RFC 2308 §2.1)
///   server_failure  SERVFAIL, REFUSED, FORMERR, NOTIMP or another RCODE;
///                   the detail names it ("SERVFAIL", "REFUSED", "RCODE9")
///   timeout         no answer within the adapter's DNS timeout (ETIMEDOUT)
///   malformed       an answer that breaks the wire format, or a record whose
///                   RDATA does not fit its type (A not 4 octets, AAAA not 16);
///                   the detail says what is wrong where the resolver says
///   truncated       TC set and the retry over TCP (RFC 7766 §5) failed too
enum class DnsError : std::uint8_t { none, nodata, nxdomain, server_failure, timeout, malformed, truncated };

/// "NODATA", "NXDOMAIN", "SERVFAIL", "TIMEOUT", "MALFORMED", "TRUNCATED"
/// (the JSON trace's "dns" key); nullptr for none.
const char* dns_error_name(DnsError e) noexcept;

/// The symbolic name of an errno value ("ECONNREFUSED"), or nullptr when the
/// value has none. Aliases print as their first spelling in <errno.h> order
/// (EAGAIN, not EWOULDBLOCK; EOPNOTSUPP, not ENOTSUP; EDEADLK, not EDEADLOCK).
const char* errno_name(int code) noexcept;
/// The errno value for a symbolic name, aliases included; nullopt if unknown.
std::optional<int> errno_from_name(std::string_view name) noexcept;

/// One recorded error. Network outcomes are never exceptions: they are events
/// and, at the end, this list in the report.
struct Error {
    Stage stage = Stage::connect;
    /// The attempt number (1, 2, ... in start order); 0 for a resolve error.
    std::uint32_t attempt = 0;
    /// The remote of the attempt; absent for a resolve error.
    std::optional<Endpoint> remote;
    /// The local address a failed bind tried (stage bind only).
    std::optional<Endpoint> local;
    /// The DNS family of a resolve error (AAAA = v6, A = v4).
    std::optional<Family> family;
    /// The name of a resolve error when it is not the origin: a target name
    /// from an HTTPS record ("svc.example.net."); empty otherwise.
    std::string name;
    /// The errno value; 0 means none (JSON null).
    int code = 0;
    /// Extra text from the adapter (e.g. c-ares' message for a resolve error,
    /// the attempt timeout's length); may be empty. With a DNS class: the
    /// RCODE's name (server_failure), the parser's reason (malformed,
    /// truncated), the server that did not answer (timeout) — or empty.
    std::string detail;
    /// A resolve error's DNS class (none for the rest). A resolve error with
    /// `none`, code 0 and no detail is "no data", as before classes existed.
    DnsError dns = DnsError::none;

    /// A one-line message: "connect to 192.0.2.1:443: ECONNREFUSED",
    /// "bind to 192.0.2.9:0 for 192.0.2.1:443: EADDRINUSE",
    /// "no local address of family IPv6", "resolve AAAA: no data", and the
    /// DNS classes: "resolve AAAA: no such name (NXDOMAIN)",
    /// "resolve A: server failure (REFUSED)", "resolve A: timed out",
    /// "resolve A: malformed answer: DNS offset 12: ...",
    /// "resolve A: truncated answer (...)".
    std::string message() const;

    friend bool operator==(const Error& a, const Error& b) noexcept {
        return a.stage == b.stage && a.attempt == b.attempt && a.remote == b.remote &&
               a.local == b.local && a.family == b.family && a.name == b.name && a.code == b.code &&
               a.detail == b.detail && a.dns == b.dns;
    }
    friend bool operator!=(const Error& a, const Error& b) noexcept { return !(a == b); }
};

/// The result of a call that the caller can get wrong (an empty address list,
/// a bad configuration, a call in the wrong state). Misuse is a returned
/// error with a clear message, never an exception and never a network event.
class [[nodiscard]] Status {
public:
    /// Success.
    Status() = default;
    /// Success.
    static Status success() { return Status(); }
    /// A failure that says what is wrong.
    static Status failure(std::string message) {
        Status s;
        s.failed_ = true;
        s.message_ = std::move(message);
        return s;
    }
    /// True on success.
    bool ok() const noexcept { return !failed_; }
    /// ok(): `if (auto s = m.start(...); !s) report(s.message());`
    explicit operator bool() const noexcept { return ok(); }
    /// Empty on success.
    const std::string& message() const noexcept { return message_; }

private:
    bool failed_ = false;
    std::string message_;
};

}  // namespace eyeballs
