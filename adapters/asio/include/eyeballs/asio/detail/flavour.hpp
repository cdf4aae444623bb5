// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio — the standalone-Asio flavour of the adapter.
//
// One implementation, two flavours. The adapter's code is written once, in
// eyeballs/asio/detail/*.ipp, against names that each flavour defines in its
// own namespace, never against ::asio or ::boost::asio directly:
//
//   name                   eyeballs::asio        eyeballs::boost_asio
//   net                    ::asio                ::boost::asio
//   error_code             std::error_code       boost::system::error_code
//   error_condition        std::error_condition  boost::system::error_condition
//   error_category         std::error_category   boost::system::error_category
//   detail::system_category(), detail::generic_category()  of that error_code
//
// A flavour header (this file; eyeballs/boost_asio/detail/flavour.hpp)
// includes every header the .ipp files use, then declares those names; the
// public headers (eyeballs/asio.hpp, eyeballs/boost_asio.hpp and their
// endpoint.hpp, options.hpp) include the .ipp files inside their namespace,
// with EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR defined around them. So
// eyeballs::asio::detail::race and eyeballs::boost_asio::detail::race are two
// classes compiled from one text; both flavours can be in one program, one
// translation unit even. An .ipp has no include guard and includes nothing
// (an #include inside a namespace would put the header's declarations in
// it); it refuses to be included any other way.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/bind_executor.hpp>
#include <asio/buffer.hpp>
#include <asio/cancellation_type.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/resolver_base.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/is_executor.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>

#include "eyeballs/asio/detail/prelude.hpp"

namespace eyeballs::asio {

/// The Asio this namespace runs on: standalone Asio (as boost::beast::net
/// names Boost.Asio). Inside namespace eyeballs, `asio` names this namespace.
namespace net = ::asio;
/// The error code of net's operations, and of async_connect's completion.
using error_code = std::error_code;
using error_condition = std::error_condition;
using error_category = std::error_category;

namespace detail {
/// Whether the adapter's default socket opener makes its sockets non-blocking
/// itself and tells the reactor so (asio_detail::own_socket_access): only with
/// a reactive backend; with IOCP or io_uring Asio's own open() is used as is.
#if !defined(ASIO_HAS_IOCP) && !defined(ASIO_WINDOWS_RUNTIME) && \
    !defined(ASIO_HAS_IO_URING_AS_DEFAULT) && defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
inline constexpr bool adopts_own_sockets = true;
template <typename Socket>
void adopt_own_socket(Socket& socket) {
    namespace ops = ::asio::detail::socket_ops;
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
#if defined(ASIO_HAS_IOCP) || defined(ASIO_WINDOWS_RUNTIME) || defined(ASIO_NO_TYPEID)
inline constexpr bool executor_types_known = false;
#else
inline constexpr bool executor_types_known = true;
#endif
using io_context_impl = ::asio::detail::io_context_impl;
inline constexpr bool single_threaded_hint(int hint) noexcept {
    return hint == 1 || !ASIO_CONCURRENCY_HINT_IS_LOCKING(SCHEDULER, hint) ||
           !ASIO_CONCURRENCY_HINT_IS_LOCKING(REACTOR_IO, hint);
}
inline const error_category& system_category() noexcept { return std::system_category(); }
inline const error_category& generic_category() noexcept { return std::generic_category(); }
}  // namespace detail

}  // namespace eyeballs::asio
