// SPDX-License-Identifier: BSL-1.0
// eyeballs — everything in the core, in one include.
#pragma once

#include "eyeballs/action.hpp"
#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/config.hpp"
#include "eyeballs/dns_cache.hpp"
#include "eyeballs/dns_message.hpp"
#include "eyeballs/endpoint.hpp"
#include "eyeballs/error.hpp"
#include "eyeballs/history.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/race_machine.hpp"
#include "eyeballs/report.hpp"
#include "eyeballs/sort.hpp"
#include "eyeballs/svcb.hpp"
#include "eyeballs/time.hpp"
#include "eyeballs/trace.hpp"
#include "eyeballs/version.hpp"
