// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — from Asio's error codes to errno values, and from a finished
// race to the error its operation completes with.
//
// Asio reports socket errors in its own system category (asio.system), whose
// values are errno values; the machine wants plain errno values. The other way
// round, a failed race completes with an error in that same category, so that
// `ec == asio::error::connection_refused` holds as it does for Asio's own
// operations, and `ec.value()` is the errno value.
#ifndef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR  // an .ipp: see eyeballs/asio/detail/flavour.hpp
#error "include <eyeballs/asio.hpp> or <eyeballs/boost_asio.hpp>, not this file"
#endif

namespace detail {

/// The errno value of an error in Asio's system category or the standard
/// system / generic categories; EIO for any other category (e.g. the netdb
/// errors of the resolver), 0 for success.
inline int errno_value(const error_code& ec) noexcept {
    if (!ec) return 0;
    if (ec.category() == net::error::get_system_category() ||
        ec.category() == system_category() || ec.category() == generic_category()) {
        return ec.value();
    }
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
    if (report.code != 0) return {report.code, net::error::get_system_category()};
    for (auto it = report.errors.rbegin(); it != report.errors.rend(); ++it) {
        if (it->stage != Stage::resolve && it->code != 0) {
            return {it->code, net::error::get_system_category()};
        }
    }
    return net::error::address_family_not_supported;
}

}  // namespace detail
