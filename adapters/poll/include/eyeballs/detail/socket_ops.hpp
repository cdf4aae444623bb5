// SPDX-License-Identifier: BSL-1.0
// eyeballs — the few POSIX socket calls every socket-level adapter makes.
//
// Shared by the poll(2) and libevent adapters (target eyeballs::socket_ops).
// Each function is one step of a connection attempt, answers with an errno
// value instead of setting errno (0 = success), never throws, and never
// retries or closes behind the caller's back. Keep this header small and
// stable: other adapters build on it.
//
//   int fd = open_stream_socket(remote.family(), &err);   // OpenSocket
//   err = bind_socket(fd, local);                          // Bind
//   err = start_connect(fd, remote);                       // Connect
//   // 0: connected at once; EINPROGRESS: wait for POLLOUT, then
//   err = take_socket_error(fd);                           // 0 = connected
//   close_socket(fd);                                      // Close
#pragma once

#include <poll.h>

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <vector>

#include "eyeballs/endpoint.hpp"

namespace eyeballs::detail {

/// Creates a TCP socket of `family`, non-blocking and close-on-exec. Returns
/// the fd, or -1 and stores the errno value in `*error` (when given).
int open_stream_socket(Family family, int* error = nullptr) noexcept;

/// Makes `fd` non-blocking and close-on-exec if it is not already (for sockets
/// a caller's factory created). Returns 0 or the errno value of the failing
/// fcntl.
int make_nonblocking_cloexec(int fd) noexcept;

/// bind(2) to `local`. Returns 0 or the errno value.
int bind_socket(int fd, const Endpoint& local) noexcept;

/// Starts a non-blocking connect to `remote`. Returns 0 when it connected at
/// once, EINPROGRESS when the result comes later (wait until the fd is
/// writable, then call take_socket_error), or the errno value of the failure.
/// EINTR is reported as EINPROGRESS: the connect goes on in the background.
int start_connect(int fd, const Endpoint& remote) noexcept;

/// Reads (and clears) SO_ERROR: 0 means a pending connect succeeded, anything
/// else is its errno value. If getsockopt itself fails, returns its errno.
int take_socket_error(int fd) noexcept;

/// Tells whether a pending connect has finished, from poll(2)'s `revents` for
/// the fd: nullopt while it is still pending, else 0 (connected) or the errno
/// value of the failure. A hang-up without an error counts as ECONNRESET.
std::optional<int> connect_result(int fd, short revents) noexcept;

/// The address the socket is bound to (getsockname), if any.
std::optional<Endpoint> local_endpoint(int fd) noexcept;

/// Waits like ppoll(2) without a signal mask: ppoll where the system has it
/// (Linux, the BSDs), elsewhere (macOS) poll(2) with the timeout rounded up
/// to whole milliseconds, so it never wakes before `timeout`. nullptr waits
/// without end. Returns what they return (errno set on -1).
int wait_for_events(pollfd* fds, std::size_t count, const timespec* timeout) noexcept;

/// For the adapters that send their own DNS queries: opens a non-blocking,
/// close-on-exec UDP socket connected to servers[*index] and sends `message`
/// on it; when the socket, the connect or the send fails, closes it and does
/// the same with the next server. Returns the fd, *index naming the server
/// that took the message; or -1 when none from *index on did, with *index
/// naming the last one tried and the errno value in *error. `servers` must
/// not be empty and *index must be inside it.
int send_to_first_server(const std::vector<Endpoint>& servers, std::size_t* index,
                         const std::vector<std::uint8_t>& message, int* error) noexcept;

/// close(2), once. EINTR is not retried (on Linux the fd is gone either way).
void close_socket(int fd) noexcept;

}  // namespace eyeballs::detail
