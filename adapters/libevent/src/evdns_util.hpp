// SPDX-License-Identifier: BSL-1.0
// eyeballs::libevent — evdns helpers the races (libevent.cpp) and PREF64
// discovery (pref64.cpp) share. Internal.
#pragma once

struct evdns_base;

namespace eyeballs::libevent::detail {

/// v3 §4.5 on an evdns_base made from resolv.conf: its IPv6 nameservers first.
void ipv6_nameservers_first(evdns_base* dns);

}  // namespace eyeballs::libevent::detail
