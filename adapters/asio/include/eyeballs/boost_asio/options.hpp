// SPDX-License-Identifier: BSL-1.0
// eyeballs::boost_asio — what eyeballs::boost_asio::async_connect can be told:
// connect_options and socket_factory (eyeballs/asio/detail/options.ipp).
#pragma once

#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/boost_asio/detail/flavour.hpp"

namespace eyeballs::boost_asio {
#define EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR 1
#include "eyeballs/asio/detail/options.ipp"
#undef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR
}  // namespace eyeballs::boost_asio
