// SPDX-License-Identifier: BSL-1.0
// eyeballs::boost_asio — the Boost.Asio flavour of the adapter.
//
// The names below are those of eyeballs/asio/detail/flavour.hpp, which says
// how the two flavours share one implementation (eyeballs/asio/detail/*.ipp).
// Needs Boost 1.81 or later (Boost.Asio 1.26; Boost.System is header-only).
#pragma once

#include <boost/version.hpp>

#if BOOST_VERSION < 108100
#error "eyeballs/boost_asio.hpp needs Boost 1.81 or later"
#endif

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/resolver_base.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/is_executor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/system/error_code.hpp>

#include "eyeballs/asio/detail/prelude.hpp"

namespace eyeballs::boost_asio {

/// The Asio this namespace runs on: Boost.Asio (the name boost::beast::net
/// gives it too).
namespace net = ::boost::asio;
/// The error code of net's operations, and of async_connect's completion.
using error_code = ::boost::system::error_code;
using error_condition = ::boost::system::error_condition;
using error_category = ::boost::system::error_category;

namespace detail {
/// Whether the adapter's default socket opener makes its sockets non-blocking
/// itself and tells the reactor so (asio_detail::own_socket_access): only with
/// a reactive backend; with IOCP or io_uring Asio's own open() is used as is.
#if !defined(BOOST_ASIO_HAS_IOCP) && !defined(BOOST_ASIO_WINDOWS_RUNTIME) && \
    !defined(BOOST_ASIO_HAS_IO_URING_AS_DEFAULT) && defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
inline constexpr bool adopts_own_sockets = true;
template <typename Socket>
void adopt_own_socket(Socket& socket) {
    namespace ops = ::boost::asio::detail::socket_ops;
    eyeballs::asio_detail::own_socket_access<Socket>::adopt(
        socket, static_cast<ops::state_type>(ops::possible_dup),
        static_cast<ops::state_type>(ops::internal_non_blocking));
}
#else
inline constexpr bool adopts_own_sockets = false;
template <typename Socket>
void adopt_own_socket(Socket&) {}
#endif
/// What one_thread_context() (race.ipp) needs of this flavour: whether the
/// executor's type can be asked (not with IOCP, the Windows runtime or
/// without typeid: then every race keeps its strand), the io_context's
/// implementation (it holds the concurrency hint), and whether a hint makes
/// Asio's scheduler assume a single thread (hint 1, or one that turns the
/// scheduler's or the reactor's locking off: Asio's own one_thread_).
#if defined(BOOST_ASIO_HAS_IOCP) || defined(BOOST_ASIO_WINDOWS_RUNTIME) || defined(BOOST_ASIO_NO_TYPEID)
inline constexpr bool executor_types_known = false;
#else
inline constexpr bool executor_types_known = true;
#endif
using io_context_impl = ::boost::asio::detail::io_context_impl;
inline constexpr bool single_threaded_hint(int hint) noexcept {
    return hint == 1 || !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint) ||
           !BOOST_ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
}
inline const error_category& system_category() noexcept {
    return ::boost::system::system_category();
}
inline const error_category& generic_category() noexcept {
    return ::boost::system::generic_category();
}
}  // namespace detail

}  // namespace eyeballs::boost_asio
