// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — from Asio's error codes to errno values, and from a finished
// race to the error its operation completes with.
//
// Asio reports socket errors in its own system category (asio.system), whose
// values are errno values; the machine wants plain errno values. The other way
// round, a failed race completes with an error in that same category, so that
// `ec == asio::error::connection_refused` holds as it does for Asio's own
// operations, and `ec.value()` is the errno value.
//
// On Windows Asio's system category holds Winsock codes (WSAECONNREFUSED,
// 10061) instead: socket errors that have an <errno.h> counterpart are mapped
// to it on the way in (so reports read ECONNREFUSED on every platform) and
// back on the way out (so `ec == asio::error::connection_refused` still
// holds); a Winsock code without one is kept, and reports name it
// (eyeballs::errno_name knows the WSA names there).
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

#ifdef _WIN32
// Winsock codes and their <errno.h> counterparts (<winerror.h> names each
// WSAExxx after the Berkeley error Exxx it stands for).
struct winsock_errno_pair {
    int winsock;
    int errno_value;
};
#define EYEBALLS_WSA_PAIR(name) {WSA##name, name},
inline constexpr winsock_errno_pair winsock_errno_pairs[] = {
    EYEBALLS_WSA_PAIR(EINTR) EYEBALLS_WSA_PAIR(EBADF) EYEBALLS_WSA_PAIR(EACCES)
    EYEBALLS_WSA_PAIR(EFAULT) EYEBALLS_WSA_PAIR(EINVAL) EYEBALLS_WSA_PAIR(EMFILE)
    EYEBALLS_WSA_PAIR(EWOULDBLOCK) EYEBALLS_WSA_PAIR(EINPROGRESS) EYEBALLS_WSA_PAIR(EALREADY)
    EYEBALLS_WSA_PAIR(ENOTSOCK) EYEBALLS_WSA_PAIR(EDESTADDRREQ) EYEBALLS_WSA_PAIR(EMSGSIZE)
    EYEBALLS_WSA_PAIR(EPROTOTYPE) EYEBALLS_WSA_PAIR(ENOPROTOOPT)
    EYEBALLS_WSA_PAIR(EPROTONOSUPPORT) EYEBALLS_WSA_PAIR(EOPNOTSUPP)
    EYEBALLS_WSA_PAIR(EAFNOSUPPORT) EYEBALLS_WSA_PAIR(EADDRINUSE)
    EYEBALLS_WSA_PAIR(EADDRNOTAVAIL) EYEBALLS_WSA_PAIR(ENETDOWN) EYEBALLS_WSA_PAIR(ENETUNREACH)
    EYEBALLS_WSA_PAIR(ENETRESET) EYEBALLS_WSA_PAIR(ECONNABORTED) EYEBALLS_WSA_PAIR(ECONNRESET)
    EYEBALLS_WSA_PAIR(ENOBUFS) EYEBALLS_WSA_PAIR(EISCONN) EYEBALLS_WSA_PAIR(ENOTCONN)
    EYEBALLS_WSA_PAIR(ETIMEDOUT) EYEBALLS_WSA_PAIR(ECONNREFUSED) EYEBALLS_WSA_PAIR(ELOOP)
    EYEBALLS_WSA_PAIR(ENAMETOOLONG) EYEBALLS_WSA_PAIR(EHOSTUNREACH) EYEBALLS_WSA_PAIR(ENOTEMPTY)
};
#undef EYEBALLS_WSA_PAIR
#endif

/// A code of Asio's system category as the machine takes it: itself on POSIX;
/// on Windows a Winsock code's <errno.h> counterpart when it has one.
inline int errno_from_native(int code) noexcept {
#ifdef _WIN32
    for (const winsock_errno_pair& p : winsock_errno_pairs) {
        if (p.winsock == code) return p.errno_value;
    }
#endif
    return code;
}

/// The other way: an errno value from a report as Asio's system category
/// holds it (the Winsock code on Windows, itself elsewhere).
inline int native_from_errno(int code) noexcept {
#ifdef _WIN32
    for (const winsock_errno_pair& p : winsock_errno_pairs) {
        if (p.errno_value == code) return p.winsock;
    }
#endif
    return code;
}

/// The errno value of an error in Asio's system category or the standard
/// system / generic categories; EIO for any other category (e.g. the netdb
/// errors of the resolver), 0 for success.
inline int errno_value(const error_code& ec) noexcept {
    if (!ec) return 0;
    if (ec.category() == net::error::get_system_category() || ec.category() == system_category()) {
        return errno_from_native(ec.value());
    }
    if (ec.category() == generic_category()) return ec.value();
    const error_condition cond = ec.default_error_condition();
    if (cond.category() == generic_category()) return cond.value();
    return EIO;
}

/// The error a finished race completes with (see async_connect's
/// documentation for the rules).
inline error_code completion_error(const RaceReport& report) {
    switch (report.outcome) {
        case Outcome::connected: return {};
        case Outcome::cancelled: return net::error::operation_aborted;
        case Outcome::failed: break;
    }
    if (report.overall_timeout) return net::error::timed_out;
    if (report.attempts.empty()) return net::error::host_not_found;
    if (report.code != 0) {
        return {native_from_errno(report.code), net::error::get_system_category()};
    }
    for (auto it = report.errors.rbegin(); it != report.errors.rend(); ++it) {
        if (it->stage != Stage::resolve && it->code != 0) {
            return {native_from_errno(it->code), net::error::get_system_category()};
        }
    }
    return net::error::address_family_not_supported;
}

}  // namespace detail
