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

/// Where in a race an error happened (SPEC §3).
/// `tls`: the handshake after the connect failed (config.success =
/// Success::handshake, Happy Eyeballs v3 §6.1).
enum class Stage : std::uint8_t { resolve, open, bind, connect, timeout, tls };

/// "resolve", "open", "bind", "connect", "timeout", "tls" (static strings;
/// "unknown" for a value outside the enum).
const char* stage_name(Stage s) noexcept;

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
    /// the attempt timeout's length); may be empty.
    std::string detail;

    /// A one-line message: "connect to 192.0.2.1:443: ECONNREFUSED",
    /// "bind to 192.0.2.9:0 for 192.0.2.1:443: EADDRINUSE",
    /// "no local address of family IPv6", "resolve AAAA: no data", ...
    std::string message() const;

    friend bool operator==(const Error& a, const Error& b) noexcept {
        return a.stage == b.stage && a.attempt == b.attempt && a.remote == b.remote &&
               a.local == b.local && a.family == b.family && a.name == b.name && a.code == b.code &&
               a.detail == b.detail;
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
