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

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "eyeballs/config.hpp"
#include "eyeballs/overrides.hpp"
#include "eyeballs/zone.hpp"
#include "eyeballs/dns_message.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/tls.hpp"
