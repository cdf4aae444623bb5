// SPDX-License-Identifier: BSL-1.0
// eyeballs::boost_asio::store_alt_svc — a Boost.Beast response's Alt-Svc
// fields into an AltSvcCache (RFC 7838; issue 17 item 9), so that the next
// race to the same origin races the alternatives the server advertised.
//
//   #include <boost/beast/http.hpp>
//   #include <eyeballs/beast.hpp>
//
//   eyeballs::AltSvcCache alt_svc;  // kept across connections
//   const eyeballs::AltSvcOrigin origin{"https", host, port};
//   ...
//   http::response<http::string_body> res;
//   co_await http::async_read(stream, buffer, res, net::use_awaitable);
//   eyeballs::boost_asio::store_alt_svc(alt_svc, origin, res);
//   ...
//   // the next connection to the origin:
//   connect_options options;
//   options.config.alt_svc = alt_svc.lookup(origin, std::chrono::steady_clock::now());
//   options.config.https = !options.config.alt_svc.empty();  // alternatives need it
//   co_await eyeballs::boost_asio::async_connect(ex, host, port, options, net::use_awaitable);
//
// What store_alt_svc reads, and how (RFC 7838 §3, §3.1):
// - Every Alt-Svc field line of the response, combined as one value in
//   order (RFC 9110 §5.3: lines of one list-valued field join with ", ");
//   empty lines add nothing. The value then replaces the origin's cached
//   alternatives (AltSvcCache::store); `clear` forgets them. Since the
//   grammar is `clear / 1#alt-value`, a `clear` line beside alternative
//   lines makes the whole value invalid.
// - A value that does not parse (parse_alt_svc), or only empty lines, is
//   ignored: the cache is not touched, and the result says why.
// - No Alt-Svc field: nothing changes (absence is not `clear`).
// - The freshness (`ma`) counts from when the response was generated: the
//   caller's `received` (its arrival time; default: now) minus the
//   response's Age field when that is a valid delta-seconds (RFC 9111 §5.1;
//   the first one when several; an invalid one counts as 0).
// - A request's fields are refused at compile time.
//
// The origin is (scheme, host, port) as AltSvcCache keys it: the URL the
// request was for, not the address the race connected to (an earlier
// alternative may have served it). Trust is the caller's: RFC 7838 §2.1
// asks a client to use an alternative on another host only over a
// connection whose certificate is valid for the origin.
//
// Header-only; needs Boost.Beast's HTTP headers (Boost 1.81 or later, as
// eyeballs::boost_asio) and links what eyeballs::boost_asio links. Programs
// without Beast store the header value themselves:
// AltSvcCache::store(origin, value, received, &error).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/fields.hpp>
#include <boost/beast/http/message.hpp>

#include "eyeballs/alt_svc.hpp"
#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/time.hpp"

namespace eyeballs::boost_asio {

/// What store_alt_svc() did with a response's Alt-Svc fields.
struct alt_svc_update {
    enum class status : std::uint8_t {
        absent,   ///< no Alt-Svc field: the cache was not touched
        stored,   ///< the value replaced the origin's alternatives (`clear`: forgot them)
        invalid,  ///< the value did not parse: the cache was not touched (`error` says why)
    };
    status result = status::absent;
    /// How many Alt-Svc field lines the response carried.
    std::size_t fields = 0;
    /// `stored`: the value as stored (value.clear for `clear`; alternatives
    /// with ma=0 are in it but were never fresh in the cache).
    AltSvcValue value;
    /// `invalid`: parse_alt_svc's message ("alternative 2: port 70000 is
    /// outside 1-65535"), or that every line was empty.
    std::string error;

    /// True unless the value was invalid.
    explicit operator bool() const noexcept { return result != status::invalid; }
};

namespace beast_detail {

inline std::string_view trimmed(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

/// RFC 9111 §1.2.2 delta-seconds, saturating at 2^31 as that section allows;
/// 0 for anything else (RFC 9111 §5.1: an invalid Age is not trusted).
inline std::uint64_t age_seconds(std::string_view text) noexcept {
    constexpr std::uint64_t most = std::uint64_t{1} << 31;
    text = trimmed(text);
    if (text.empty()) return 0;
    std::uint64_t n = 0;
    for (const char c : text) {
        if (c < '0' || c > '9') return 0;
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
        if (n > most) n = most;
    }
    return n;
}

}  // namespace beast_detail

/// Stores the Alt-Svc fields of a response — its header, or the whole
/// message (boost::beast::http::response<Body>) — into `cache` for `origin`,
/// as received at `received` (see the top of this file).
template <class Allocator>
alt_svc_update store_alt_svc(AltSvcCache& cache, const AltSvcOrigin& origin,
                             const boost::beast::http::basic_fields<Allocator>& fields,
                             TimePoint received = std::chrono::steady_clock::now()) {
    namespace http = boost::beast::http;
    alt_svc_update out;
    std::string combined;
    for (auto range = fields.equal_range(http::field::alt_svc); range.first != range.second;
         ++range.first) {
        ++out.fields;
        const auto raw = range.first->value();
        const std::string_view line = beast_detail::trimmed(std::string_view(raw.data(), raw.size()));
        if (line.empty()) continue;
        if (!combined.empty()) combined += ", ";
        combined.append(line.data(), line.size());
    }
    if (out.fields == 0) return out;
    if (combined.empty()) {
        out.result = alt_svc_update::status::invalid;
        out.error = "the Alt-Svc field is empty";
        return out;
    }
    std::optional<AltSvcValue> value = parse_alt_svc(combined, &out.error);
    if (!value) {
        out.result = alt_svc_update::status::invalid;
        return out;
    }
    std::uint64_t age = 0;
    if (const auto it = fields.find(http::field::age); it != fields.end()) {
        const auto raw = it->value();
        age = beast_detail::age_seconds(std::string_view(raw.data(), raw.size()));
    }
    const TimePoint generated = ::eyeballs::detail::saturating_add(
        received, -std::chrono::duration_cast<Duration>(
                      std::chrono::seconds(static_cast<std::int64_t>(age))));
    cache.store(origin, *value, generated);
    out.result = alt_svc_update::status::stored;
    out.value = std::move(*value);
    return out;
}

/// A response header (and so a response message, which is one): the same.
template <class Fields>
alt_svc_update store_alt_svc(AltSvcCache& cache, const AltSvcOrigin& origin,
                             const boost::beast::http::header<false, Fields>& response,
                             TimePoint received = std::chrono::steady_clock::now()) {
    const Fields& fields = response;
    return store_alt_svc(cache, origin, fields, received);
}

/// Alt-Svc is a response field: a request's is not the server's word.
template <class Fields>
alt_svc_update store_alt_svc(AltSvcCache&, const AltSvcOrigin&,
                             const boost::beast::http::header<true, Fields>&,
                             TimePoint = std::chrono::steady_clock::now()) = delete;

}  // namespace eyeballs::boost_asio
