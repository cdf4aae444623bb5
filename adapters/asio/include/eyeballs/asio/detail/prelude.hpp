// SPDX-License-Identifier: BSL-1.0
// eyeballs::asio, eyeballs::boost_asio — what the adapter's implementation
// (eyeballs/asio/detail/*.ipp) needs besides Asio itself: the standard
// library, POSIX sockets and eyeballs::core. Included by both flavour headers
// before they open their namespace (see flavour.hpp beside this file).
#pragma once

#ifndef _WIN32  // open_default's SOCK_CLOEXEC path; Windows uses Asio's open()
#include <sys/socket.h>
#include <unistd.h>
#endif
#if defined(__linux__)  // the adapter's own connect reads TCP_INFO (connect_progress)
#include <netinet/in.h>
#include <netinet/tcp.h>
#endif

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstddef>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <variant>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/overrides.hpp"
#include "eyeballs/zone.hpp"
#include "eyeballs/dns_cache.hpp"
#include "eyeballs/dns_message.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/tls.hpp"

namespace eyeballs::asio_detail {

/// Reaches a socket's protected implementation state, to tell Asio's reactor
/// that a socket the adapter created itself is already non-blocking
/// (SOCK_NONBLOCK) and is no dup: Asio then makes no FIONBIO ioctl before the
/// connect and no epoll_ctl(DEL) before the close, as for a socket its own
/// open() made. `PossibleDup` and `InternalNonBlocking` are the flavour's
/// socket_ops state bits. Only for reactive backends (epoll, kqueue, select),
/// whose socket implementation has these bits.
template <typename Socket>
struct own_socket_access : Socket {
    template <typename State>
    static void adopt(Socket& socket, State possible_dup, State internal_non_blocking) {
        auto& impl = (socket.*(&own_socket_access::impl_)).get_implementation();
        impl.state_ = static_cast<State>((impl.state_ & ~possible_dup) | internal_non_blocking);
    }
};

#if defined(__linux__)
/// Where a non-blocking connect(2) stands, from one getsockopt(TCP_INFO):
/// still in SYN-SENT (a readiness report was spurious: Asio's reactor may
/// complete a wait for a stale EPOLLHUP, or for events of the descriptor
/// state's previous owner), connected (any state past it but CLOSE: the
/// three-way handshake is done), or failed (CLOSE: `error` is SO_ERROR's
/// value, which names why). Asio's own async_connect pays a poll(2) on
/// every completion for the same certainty; this costs nothing extra when
/// the connect succeeded.
enum class connect_progress { in_progress, connected, failed };

inline connect_progress connect_state(int fd, int& error) noexcept {
    error = 0;
    ::tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0) {
        error = errno;
        return connect_progress::failed;
    }
    if (info.tcpi_state == TCP_SYN_SENT) return connect_progress::in_progress;
    if (info.tcpi_state != TCP_CLOSE) return connect_progress::connected;
    len = sizeof error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
    if (error == 0) error = ECONNABORTED;  // closed without a reason left to read
    return connect_progress::failed;
}
#endif

}  // namespace eyeballs::asio_detail
