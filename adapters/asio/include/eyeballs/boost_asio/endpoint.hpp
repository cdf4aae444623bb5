// SPDX-License-Identifier: BSL-1.0
// eyeballs::boost_asio — conversions between eyeballs::Endpoint and Boost.Asio's
// endpoints: to_asio_address, to_asio_endpoint, from_asio
// (eyeballs/asio/detail/endpoint.ipp).
#pragma once

#include "eyeballs/boost_asio/detail/flavour.hpp"

namespace eyeballs::boost_asio {
#define EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR 1
#include "eyeballs/asio/detail/endpoint.ipp"
#undef EYEBALLS_ASIO_IMPL_INSIDE_FLAVOUR
}  // namespace eyeballs::boost_asio
