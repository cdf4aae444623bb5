// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — from Asio's error codes to errno values, and from a finished
// race to the error its operation completes with.
//
// Asio reports socket errors in its own system category (asio.system), whose
// values are errno values; the machine wants plain errno values. The other way
// round, a failed race completes with an error in that same category, so that
// `ec == asio::error::connection_refused` holds as it does for Asio's own
// operations, and `ec.value()` is the errno value.
#pragma once

#include <cerrno>
#include <system_error>

#include <asio/error.hpp>

#include "eyeballs/report.hpp"

namespace eyeballs::asio::detail {

/// The errno value of an error in Asio's system category or the standard
/// system / generic categories; EIO for any other category (e.g. the netdb
/// errors of the resolver), 0 for success.
inline int errno_value(const std::error_code& ec) noexcept {
    if (!ec) return 0;
    if (ec.category() == ::asio::error::get_system_category() ||
        ec.category() == std::system_category() || ec.category() == std::generic_category()) {
        return ec.value();
    }
    const std::error_condition cond = ec.default_error_condition();
    if (cond.category() == std::generic_category()) return cond.value();
    return EIO;
}

/// The error a finished race completes with (see async_connect's
/// documentation for the rules).
inline std::error_code completion_error(const RaceReport& report) {
    switch (report.outcome) {
        case Outcome::connected: return {};
        case Outcome::cancelled: return ::asio::error::operation_aborted;
        case Outcome::failed: break;
    }
    if (report.overall_timeout) return ::asio::error::timed_out;
    if (report.attempts.empty()) return ::asio::error::host_not_found;
    if (report.code != 0) return {report.code, ::asio::error::get_system_category()};
    for (auto it = report.errors.rbegin(); it != report.errors.rend(); ++it) {
        if (it->stage != Stage::resolve && it->code != 0) {
            return {it->code, ::asio::error::get_system_category()};
        }
    }
    return ::asio::error::address_family_not_supported;
}

}  // namespace eyeballs::asio::detail
