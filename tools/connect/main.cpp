// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect [options] HOST PORT — races real connections (docs/behaviour.md §6).
//
// A literal HOST (an IP address, with a zone for a link-local one:
// fe80::1%eth0, RFC 4007 §11) races that one address, with no DNS; a name
// is resolved (DNS mode) unless --resolve names it, in which case those
// addresses race in addresses mode. With --json stdout carries only the docs/behaviour.md §5
// trace; without it, one line naming the winner. Messages, the -v timeline
// and the summary error go to stderr. SIGINT cancels the race cleanly.
// Exit status: 0 connected, 1 failed or cancelled, 2 bad usage.
//
// Happy Eyeballs v3 (issue 10): --https also asks for the name's HTTPS records
// (RFC 9460) and races the services they describe; --plan prints the order
// the race will try its endpoints, once, when it starts its first attempt.
// --alt-svc adds the alternatives of an Alt-Svc header value (RFC 7838) to
// that plan, ranked before the records' services (issue 17 item 9).
//
// Diagnostics (issue 16): close lines say why, DNS answers are traced, --json
// adds the race's metrics to the report line; --repeat N runs N races and
// sums them up (repeat.cpp); --send / --send-file talk over the winner's
// socket after the race (talk.cpp; after --tls through its session,
// tls_channel.hpp, or in the adapter's loop when the run gives a
// ConnectResult::talk).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "eyeballs/alt_svc.hpp"
#include "eyeballs/history.hpp"
#include "eyeballs/nat64.hpp"
#include "eyeballs/overrides.hpp"
#include "eyeballs/trace.hpp"
#include "eyeballs/version.hpp"
#include "repeat.hpp"
#include "eyeballs/zone.hpp"
#include "run.hpp"
#include "talk.hpp"
#ifdef EYEBALLS_HAVE_POLL
#include "eyeballs/poll.hpp"
#endif

namespace {

using eyeballs::Config;
using eyeballs::Duration;
using eyeballs::Endpoint;
using eyeballs::tool::ConnectJob;
using eyeballs::tool::ConnectResult;

constexpr const char* usage_text =
    "usage: eyeballs-connect [options] HOST PORT\n"
    "  Connects to HOST:PORT the Happy Eyeballs way (RFC 8305) and names the winner.\n"
    "  --resolve HOST:PORT:ADDR[,ADDR...]  skip DNS, race these addresses (curl's syntax)\n"
    "  --connect-to HOST1:PORT1:HOST2:PORT2  asked for HOST1:PORT1, race HOST2:PORT2\n"
    "                            instead (curl's syntax; an empty field is any / the same)\n"
    "  HOST or ADDR may be a link-local literal with a zone: fe80::1%eth0 (RFC 4007)\n"
    "  --attempt-delay MS|none   delay between attempt starts (250); none = one at a time\n"
    "  --resolution-delay MS     wait this long for AAAA after A (50)\n"
    "  --family-count N          attempts of the first family before alternating (1)\n"
    "  --no-interleave           keep the address order as resolved\n"
    "  --local ADDR              bind to this local address (repeatable; port 0 unless given)\n"
    "  --attempt-timeout MS      fail an attempt after MS\n"
    "  --timeout MS              end the race after MS\n"
    "  --min-start-gap MS        never start attempts closer than this (10; below 10 departs\n"
    "                            from RFC 8305)\n"
    "  --adapter poll|asio|libevent|libuv|uring   which event loop runs the race (poll)\n"
    "  --dns-server IP[:PORT]    ask this DNS server instead of the system's\n"
    "  --sort rfc6724|off        RFC 6724 destination sorting (default: on for names)\n"
    "  -4, -6                    IPv4 only / IPv6 only, as curl (the last one wins): DNS\n"
    "                            asks for that family alone; other addresses are dropped\n"
    "  --duplicates drop|keep    a repeated address (same port) is tried once (drop, the\n"
    "                            default) or once per occurrence (keep)\n"
    "  --ipv4-none               an IPv6-only network: synthesize IPv4 through NAT64\n"
    "  --ipv6-none               no IPv6 on this host: race IPv4 only, ask no AAAA\n"
    "  --pref64 PREFIX/LEN|auto  the NAT64 prefix; auto asks ipv4only.arpa (RFC 7050)\n"
    "  --https                   for a name, also ask for HTTPS records (RFC 9460) and race\n"
    "                            the services they name: target names, ports, ALPN, hints\n"
    "                            (Happy Eyeballs v3); no effect on addresses (--resolve, literals)\n"
    "  --quic                    with --https: h3 ALPN ids give QUIC endpoints; without\n"
    "                            --http3 the adapters connect TCP only, so QUIC attempts fail at\n"
    "                            once with EPROTONOSUPPORT and the race goes on over TCP\n"
    "  --alt-svc VALUE           with --https, for a name: the origin's Alt-Svc header value\n"
    "                            (RFC 7838), e.g. 'h2=\":8443\"; ma=3600, h2=\"alt.example:443\"':\n"
    "                            its alternatives race as services before the HTTPS records';\n"
    "                            an h3 one needs --http3 (or --quic, which plans it only)\n"
    "  --ech-required            with --https and --tls: race only endpoints whose HTTPS\n"
    "                            record offers ECH, and start no handshake before the HTTPS\n"
    "                            answer (HEv3 §6.3); the TLS library sends no ECH itself yet\n"
    "  --tls                     race to the TLS handshake (HEv3 §6.1; every adapter): verify\n"
    "                            against the system store and HOST's name\n"
    "  --cacert FILE             with --tls: trust this PEM CA file instead of the system store\n"
    "  --insecure                with --tls: skip certificate and name verification\n"
    "  --alpn LIST               with --tls: ALPN ids to offer, comma-separated (h2,http/1.1);\n"
    "                            with --https, TCP services sharing none are not raced\n"
    "  --http3                   race QUIC (ALPN h3, ngtcp2 + GnuTLS) against TCP+TLS for every\n"
    "                            address, QUIC first, as curl's --http3; implies --tls (poll\n"
    "                            and libevent adapters; needs a build with the QUIC component)\n"
    "  --shuffle-seed N          seed of the shuffle of equal SvcPriority records (0)\n"
    "  --max-in-flight N         at most N attempts in flight at once; the next start waits\n"
    "                            for one to end (default: no cap, as RFC 8305; curl and\n"
    "                            Chromium use 6)\n"
    "  --plan                    print the endpoints in the order the race tries them\n"
    "                            (protocol, ALPN, ECH, hint or answer, priority), once,\n"
    "                            when the first attempt starts; with --json one JSON line\n"
    "  --repeat N                run N races one after another, then print a summary: wins\n"
    "                            per family, time to connect p50/p90/max per family,\n"
    "                            failures by error, each race's first attempt and winner\n"
    "  --interval MS             with --repeat: wait MS between races (1000)\n"
    "  --history                 with --repeat: carry the RTT history from race to race\n"
    "                            (RFC 8305 §4: lower RTT first; implies --sort rfc6724)\n"
    "  --send STRING             after connecting, write STRING (C escapes \\n \\r \\t \\\\\n"
    "                            \\xHH), then print what comes back until EOF or the read\n"
    "                            timeout, like nc; the 'connected to' line goes to stderr;\n"
    "                            with --tls, through the TLS session\n"
    "  --send-file FILE          the same with the bytes of FILE\n"
    "  --read-timeout MS         with --send: stop when nothing arrives for MS (default:\n"
    "                            wait for EOF)\n"
    "  --json                    print the JSON trace (docs/behaviour.md §5) on stdout: close lines with\n"
    "                            their cause, DNS answers, the report with errors and metrics\n"
    "  -v                        print a timeline on stderr (DNS answers, why each attempt\n"
    "                            closed, every error)\n"
    "  -h, --help                this text\n"
    "  --version                 print \"eyeballs-connect VERSION\" and exit\n"
    "exit status: 0 connected (with --repeat: every race), 1 failed or cancelled (or --send\n"
    "failed), 2 bad usage\n";

struct UsageError {
    std::string message;
};

[[noreturn]] void usage_error(std::string message) { throw UsageError{std::move(message)}; }

// "250", "0.5", "250ms" → a duration; nullopt when it is not a number >= 0.
std::optional<Duration> parse_ms(std::string_view text) {
    if (text.size() > 2 && text.substr(text.size() - 2) == "ms") text.remove_suffix(2);
    if (text.empty()) return std::nullopt;
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
        value < 0 || value > 1e9) {
        return std::nullopt;
    }
    return Duration(static_cast<Duration::rep>(std::llround(value * 1e6)));
}

Duration need_ms(std::string_view option, std::string_view text) {
    auto d = parse_ms(text);
    if (!d) {
        usage_error(std::string(option) + ": '" + std::string(text) +
                    "' is not a number of milliseconds");
    }
    return *d;
}

// Checks one setting alone, so the message can name the option.
void check(std::string_view option, const Config& only) {
    if (auto msg = eyeballs::validate(only)) usage_error(std::string(option) + ": " + *msg);
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
        return std::nullopt;
    }
    return static_cast<std::uint16_t>(value);
}

// ---- SIGINT → the cancel fd (self-pipe) ----------------------------------

int sigint_pipe[2] = {-1, -1};

extern "C" void on_sigint(int) {
    int saved = errno;
    char byte = 1;
    [[maybe_unused]] auto n = ::write(sigint_pipe[1], &byte, 1);
    errno = saved;
}

bool install_sigint() {
    if (::pipe2(sigint_pipe, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: let the wait return
    return ::sigaction(SIGINT, &sa, nullptr) == 0;
}

// ---- --plan --------------------------------------------------------------

void append_json_string(std::string& out, std::string_view text) {
    out += '"';
    for (char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (c < 0x20) {
            static const char hex[] = "0123456789abcdef";
            out += "\\u00";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += ch;
        }
    }
    out += '"';
}

// {"t":T,"action":"plan","endpoints":[{"remote":"[::1]:443","protocol":"tcp",
// "alpn":["h2","http/1.1"],"ech":false,"priority":1,"target":"svc.example.net.",
// "source":"hint"|"answer","attempt":1}, ...]}: priority and target are null
// for an endpoint no HTTPS record produced; attempt is 0 until it starts. An
// Alt-Svc alternative's endpoint has "from":"alt-svc" after its alpn, as on
// its connect line ("source" was taken: it says where the address came from).
std::string plan_json(const std::string& t, const std::vector<eyeballs::PlanEntry>& plan) {
    std::string out = "{\"t\":" + t + ",\"action\":\"plan\",\"endpoints\":[";
    bool first = true;
    for (const eyeballs::PlanEntry& e : plan) {
        if (!first) out += ',';
        first = false;
        out += "{\"remote\":";
        append_json_string(out, e.remote.to_string());
        out += ",\"protocol\":";
        append_json_string(out, eyeballs::protocol_name(e.protocol));
        out += ",\"alpn\":[";
        if (e.service != nullptr) {
            for (std::size_t i = 0; i < e.service->alpn.size(); ++i) {
                if (i != 0) out += ',';
                append_json_string(out, e.service->alpn[i]);
            }
        }
        out += ']';
        if (e.service != nullptr && e.service->source == eyeballs::ServiceSource::alt_svc) {
            out += ",\"from\":\"alt-svc\"";
        }
        out += ",\"ech\":";
        out += e.service != nullptr && e.service->ech ? "true" : "false";
        out += ",\"priority\":";
        out += e.service != nullptr ? std::to_string(e.service->priority) : "null";
        out += ",\"target\":";
        if (e.service != nullptr) {
            append_json_string(out, e.service->target);
        } else {
            out += "null";
        }
        out += ",\"source\":";
        out += e.hint ? "\"hint\"" : "\"answer\"";
        out += ",\"attempt\":" + std::to_string(e.attempt) + '}';
    }
    out += "]}";
    return out;
}

// One line an endpoint: "plan 1: [::1]:8443 tcp alpn=h2,http/1.1 ech=no
// priority=1 target=svc.example.net. hint attempt=1" ("alpn=- priority=-" for
// an endpoint no HTTPS record produced; no attempt= until it starts; "alpn=h2
// alt-svc" for an Alt-Svc alternative's, as the connect line says it).
void print_plan_text(std::ostream& out, const std::vector<eyeballs::PlanEntry>& plan) {
    std::size_t n = 0;
    for (const eyeballs::PlanEntry& e : plan) {
        out << "plan " << ++n << ": " << e.remote.to_string() << ' '
            << eyeballs::protocol_name(e.protocol) << " alpn=";
        if (e.service == nullptr || e.service->alpn.empty()) {
            out << '-';
        } else {
            for (std::size_t i = 0; i < e.service->alpn.size(); ++i) {
                out << (i == 0 ? "" : ",") << e.service->alpn[i];
            }
        }
        if (e.service != nullptr && e.service->source == eyeballs::ServiceSource::alt_svc) {
            out << " alt-svc";
        }
        out << " ech=" << (e.service != nullptr && e.service->ech ? "yes" : "no") << " priority=";
        if (e.service != nullptr) {
            out << e.service->priority << " target=" << e.service->target;
        } else {
            out << '-';
        }
        out << (e.hint ? " hint" : " answer");
        if (e.attempt != 0) out << " attempt=" << e.attempt;
        out << '\n';
    }
    if (plan.empty()) out << "plan: no endpoint\n";
}

// --send's text with C escapes: \n \r \t \0 \\ \xHH.
std::string unescape_send(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\' || i + 1 == text.size()) {
            out += text[i];
            continue;
        }
        const char c = text[++i];
        switch (c) {
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case '0': out += '\0'; break;
            case '\\': out += '\\'; break;
            case 'x': {
                unsigned value = 0;
                const std::string_view hex = text.substr(i + 1, 2);
                auto [end, ec] = std::from_chars(hex.data(), hex.data() + hex.size(), value, 16);
                if (hex.size() != 2 || ec != std::errc() || end != hex.data() + 2) {
                    usage_error("--send: '\\x' needs two hex digits");
                }
                out += static_cast<char>(value);
                i += 2;
                break;
            }
            default:
                usage_error(std::string("--send: unknown escape '\\") + c + "'");
        }
    }
    return out;
}

struct Parsed {
    ConnectJob job;
    bool pref64_auto = false;
    std::string adapter = "poll";
    bool json = false;
    bool verbose = false;
    bool plan = false;
    // Diagnostics (issue 16).
    std::uint32_t repeat = 1;            ///< --repeat N
    bool repeating = false;              ///< --repeat given: print the summary
    Duration interval = std::chrono::seconds(1);
    bool interval_given = false;
    bool ech_required = false;           ///< --ech-required (checked after parsing)
    bool alt_svc_given = false;          ///< --alt-svc (checked after parsing)
    bool history = false;
    std::optional<std::string> send;     ///< --send / --send-file: the bytes
    std::optional<Duration> read_timeout;
};

Parsed parse(int argc, char** argv) {
    Parsed p;
    Config& config = p.job.config;
    std::vector<eyeballs::ResolveOverride> overrides;  // --resolve and --connect-to, in order
    bool any_resolve = false;
    std::vector<std::string> positional;
    bool options_done = false;

    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (options_done || arg.size() < 2 || arg[0] != '-') {
            positional.emplace_back(arg);
            continue;
        }
        if (arg == "--") {
            options_done = true;
            continue;
        }
        std::string name(arg);
        std::optional<std::string> inline_value;
        if (arg.substr(0, 2) == "--") {
            if (auto eq = arg.find('='); eq != std::string_view::npos) {
                name = std::string(arg.substr(0, eq));
                inline_value = std::string(arg.substr(eq + 1));
            }
        }
        auto value = [&]() -> std::string {
            if (inline_value) return *inline_value;
            if (i + 1 >= argc) usage_error(name + " needs a value");
            return argv[++i];
        };
        auto no_value = [&] {
            if (inline_value) usage_error(name + " takes no value");
        };

        if (name == "-h" || name == "--help") {
            no_value();
            std::cout << usage_text;
            std::exit(0);
        } else if (name == "--version") {
            no_value();
            std::cout << "eyeballs-connect " EYEBALLS_VERSION_STRING "\n";
            std::exit(0);
        } else if (name == "--json") {
            no_value();
            p.json = true;
        } else if (name == "-v" || name == "--verbose") {
            no_value();
            p.verbose = true;
        } else if (name == "--no-interleave") {
            no_value();
            config.interleave = false;
        } else if (name == "--resolve" || name == "--connect-to") {
            const std::string v = value();
            std::string error;
            auto o = name == "--resolve"
                         ? eyeballs::parse_resolve_override(v, &error, eyeballs::interface_index)
                         : eyeballs::parse_connect_to(v, &error);
            if (!o) usage_error(name + ": " + error);
            for (const Endpoint& ep : o->addresses) {
                if (ep.port() == 0) {
                    // Issue 14: connecting to port 0 is never what was meant.
                    usage_error(name + ": '" + v + "': " + ep.to_string() +
                                " has port 0, which is not a valid remote port (1 ... 65535)");
                }
            }
            any_resolve = any_resolve || name == "--resolve";
            overrides.push_back(std::move(*o));
        } else if (name == "--attempt-delay") {
            std::string v = value();
            Config only;
            if (v == "none") {
                only.attempt_delay = std::nullopt;
            } else {
                only.attempt_delay = need_ms(name, v);
            }
            check(name, only);
            config.attempt_delay = only.attempt_delay;
        } else if (name == "--resolution-delay") {
            Config only;
            only.resolution_delay = need_ms(name, value());
            check(name, only);
            config.resolution_delay = only.resolution_delay;
        } else if (name == "--max-in-flight") {
            std::string v = value();
            unsigned n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || end != v.data() + v.size() || n < 1) {
                usage_error(name + ": '" + v + "' is not a whole number of attempts >= 1");
            }
            config.max_in_flight = n;
        } else if (name == "--family-count") {
            std::string v = value();
            unsigned n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec != std::errc() || end != v.data() + v.size() || n < 1) {
                usage_error(name + ": '" + v + "' is not a whole number >= 1");
            }
            config.family_count = n;
        } else if (name == "--local") {
            std::string v = value();
            std::string error;
            auto ep = Endpoint::parse(v, 0, &error, eyeballs::interface_index);
            if (!ep) usage_error(name + ": " + (error.empty() ? "bad address '" + v + "'" : error));
            config.local.push_back(*ep);
        } else if (name == "--attempt-timeout") {
            Config only;
            only.attempt_timeout = need_ms(name, value());
            check(name, only);
            config.attempt_timeout = only.attempt_timeout;
        } else if (name == "--timeout") {
            Config only;
            only.overall_timeout = need_ms(name, value());
            check(name, only);
            config.overall_timeout = only.overall_timeout;
        } else if (name == "--min-start-gap") {
            Config only;
            only.min_start_gap = need_ms(name, value());
            check(name, only);
            config.min_start_gap = only.min_start_gap;
        } else if (name == "--adapter") {
            p.adapter = value();
            if (p.adapter != "poll" && p.adapter != "asio" && p.adapter != "libevent" &&
                p.adapter != "libuv" && p.adapter != "uring") {
                usage_error(name + ": unknown adapter '" + p.adapter +
                            "' (poll, asio, libevent, libuv or uring)");
            }
        } else if (name == "--dns-server") {
            std::string v = value();
            std::string error;
            auto ep = Endpoint::parse(v, 53, &error);
            if (!ep) usage_error(name + ": " + (error.empty() ? "bad address '" + v + "'" : error));
            p.job.dns_server = *ep;
        } else if (name == "--sort") {
            const std::string v = value();
            if (v == "rfc6724") {
                config.sort = eyeballs::SortMode::rfc6724;
            } else if (v == "off") {
                config.sort = eyeballs::SortMode::off;
            } else {
                usage_error(name + ": '" + v + "' is not rfc6724 or off");
            }
        } else if (name == "--https") {
            no_value();
            config.https = true;
        } else if (name == "--quic") {
            no_value();
            config.quic = true;
        } else if (name == "--ech-required") {
            no_value();
            p.ech_required = true;
        } else if (name == "--alt-svc") {  // issue 17 item 9
            if (p.alt_svc_given) {
                usage_error(name + ": given twice (one header value; join alternatives with ',')");
            }
            const std::string v = value();
            std::string error;
            auto parsed = eyeballs::parse_alt_svc(v, &error);
            if (!parsed) usage_error(name + ": '" + v + "': " + error);
            if (parsed->clear) {
                usage_error(name + ": 'clear' names no alternative to race (it tells a client to "
                                   "forget the origin's alternatives)");
            }
            Config only;
            only.https = true;
            only.alt_svc = std::move(parsed->alternatives);
            check(name, only);
            config.alt_svc = std::move(only.alt_svc);
            p.alt_svc_given = true;
        } else if (name == "--plan") {
            no_value();
            p.plan = true;
        } else if (name == "--shuffle-seed") {
            const std::string v = value();
            std::uint64_t seed = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seed);
            if (v.empty() || ec != std::errc() || end != v.data() + v.size()) {
                usage_error(name + ": '" + v + "' is not a whole number (0 ... 18446744073709551615)");
            }
            config.shuffle_seed = seed;
        } else if (name == "--repeat") {
            const std::string v = value();
            unsigned n = 0;
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (v.empty() || ec != std::errc() || end != v.data() + v.size() || n < 1 ||
                n > 1000000) {
                usage_error(name + ": '" + v + "' is not a whole number 1 ... 1000000");
            }
            p.repeat = n;
            p.repeating = true;
        } else if (name == "--interval") {
            p.interval = need_ms(name, value());
            p.interval_given = true;
        } else if (name == "--history") {
            no_value();
            p.history = true;
        } else if (name == "--send") {
            if (p.send) usage_error(name + ": only one --send or --send-file");
            p.send = unescape_send(value());
        } else if (name == "--send-file") {
            if (p.send) usage_error(name + ": only one --send or --send-file");
            const std::string path = value();
            std::string error;
            p.send = eyeballs::tool::read_whole_file(path, error);
            if (!p.send) usage_error(name + ": " + error);
        } else if (name == "--read-timeout") {
            p.read_timeout = need_ms(name, value());
            if (p.read_timeout->count() == 0) usage_error(name + ": must be > 0");
        } else if (name == "--duplicates") {  // issue 16 item 4
            const std::string v = value();
            if (v == "drop") {
                config.duplicates = eyeballs::Duplicates::drop;
            } else if (v == "keep") {
                config.duplicates = eyeballs::Duplicates::keep;
            } else {
                usage_error(name + ": '" + v + "' is not drop or keep");
            }
        } else if (name == "-4" || name == "-6") {
            no_value();
            config.only_family = name == "-4" ? eyeballs::Family::v4 : eyeballs::Family::v6;
        } else if (name == "--ipv4-none") {
            no_value();
            config.ipv4_unavailable = true;
        } else if (name == "--ipv6-none") {
            no_value();
            config.ipv6_unavailable = true;
        } else if (name == "--tls") {  // ---- TLS (issue 18) ----
            no_value();
            p.job.tls.enabled = true;
        } else if (name == "--http3") {
            no_value();
            p.job.tls.enabled = true;
            p.job.tls.http3 = true;
        } else if (name == "--cacert") {
            p.job.tls.cacert = value();
            if (p.job.tls.cacert.empty()) usage_error(name + ": empty file name");
        } else if (name == "--insecure") {
            no_value();
            p.job.tls.insecure = true;
        } else if (name == "--alpn") {
            const std::string v = value();
            p.job.tls.alpn.clear();
            std::size_t at = 0;
            for (;;) {
                const std::size_t comma = v.find(',', at);
                std::string id = v.substr(at, comma == std::string::npos ? comma : comma - at);
                if (id.empty() || id.size() > 255) {
                    usage_error(name + ": '" + v + "' has an empty or too long ALPN id (1-255 bytes)");
                }
                p.job.tls.alpn.push_back(std::move(id));
                if (comma == std::string::npos) break;
                at = comma + 1;
            }
        } else if (name == "--pref64") {
            const std::string v = value();
            if (v == "auto") {
                p.pref64_auto = true;
            } else {
                std::string error;
                auto prefix = eyeballs::Pref64::parse(v, &error);
                if (!prefix) usage_error(name + ": " + (error.empty() ? "bad prefix '" + v + "'" : error));
                config.pref64 = *prefix;
            }
        } else {
            usage_error("unknown option '" + name + "'");
        }
    }

    if (positional.size() != 2) {
        usage_error(positional.size() < 2 ? "HOST and PORT are required"
                                          : "too many arguments after HOST PORT");
    }
    p.job.host = positional[0];
    if (p.job.host.empty()) usage_error("HOST is empty");
    auto port = parse_port(positional[1]);
    if (!port) usage_error("PORT: '" + positional[1] + "' is not a port (1 ... 65535)");
    p.job.port = *port;

    // curl's order: --connect-to first (the first match), then --resolve for
    // the resulting HOST:PORT (eyeballs/overrides.hpp, shared with the adapters).
    const std::string asked = p.job.host + ":" + std::to_string(p.job.port);
    eyeballs::OverrideTarget target = eyeballs::apply_overrides(overrides, p.job.host, p.job.port);
    p.job.host = target.host;
    p.job.port = target.port;
    if (!target.addresses.empty()) {
        p.job.addresses_mode = true;
        p.job.addresses = std::move(target.addresses);
    } else if (any_resolve) {
        usage_error("--resolve: no entry matches " + target.host + ":" +
                    std::to_string(target.port) +
                    (asked != target.host + ":" + std::to_string(target.port)
                         ? " (--connect-to's target for " + asked + ")"
                         : std::string()));
    }
    if (!p.job.addresses_mode) {
        std::string_view host = p.job.host;
        if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
            host = host.substr(1, host.size() - 2);
        }
        std::string error;
        if (auto ep = Endpoint::parse_address(host, p.job.port, &error, eyeballs::interface_index)) {
            p.job.addresses_mode = true;  // a literal: that one address, no DNS
            p.job.addresses.push_back(*ep);
        } else if (host.find('%') != std::string_view::npos) {
            // No DNS name has a '%': this is a zoned literal (RFC 4007 §11) gone wrong.
            usage_error("HOST: " + error);
        }
    }
    if (config.https) config.port = p.job.port;  // records without port= use the URL's
    if (config.quic && !config.https) usage_error("--quic: needs --https (QUIC endpoints come from HTTPS records)");
    if (p.ech_required) {
        // v3 §6.3: only meaningful with HTTPS records and a TLS handshake to hold back.
        if (!config.https) usage_error("--ech-required: needs --https (ECH configurations come from HTTPS records)");
        if (p.job.addresses_mode) usage_error("--ech-required: the race is given addresses (an address HOST or --resolve): no HTTPS records to take ECH from");
        if (!p.job.tls.enabled) usage_error("--ech-required: needs --tls (ECH protects the TLS handshake)");
        config.ech = eyeballs::EchMode::required;
        config.success = eyeballs::Success::handshake;
    }
    if (p.alt_svc_given) {
        // Alt-Svc alternatives are services of the v3 plan (Config::alt_svc),
        // which only a race that resolves a name with --https makes.
        if (!config.https) {
            usage_error("--alt-svc: needs --https (Alt-Svc alternatives race as services of "
                        "the HTTPS-record plan, which --https turns on)");
        }
        if (p.job.addresses_mode) {
            usage_error("--alt-svc: the race is given addresses (an address HOST or --resolve): "
                        "only a race that resolves HOST plans services to add alternatives to");
        }
        for (std::size_t i = 0; i < config.alt_svc.size(); ++i) {
            // The core's rule (src/v3/services.cpp): h3 and h3-NN ids are QUIC.
            const std::string& id = config.alt_svc[i].alpn;
            const bool quic = id == "h3" || (id.size() > 3 && id.compare(0, 3, "h3-") == 0);
            if (quic && !config.quic && !p.job.tls.http3) {
                usage_error("--alt-svc: alternative " + std::to_string(i + 1) + " (" +
                            eyeballs::to_string(config.alt_svc[i]) +
                            ") is HTTP/3, which races over QUIC: add --http3 (poll adapter) to "
                            "race it, or --quic to plan it (its attempts then fail with "
                            "EPROTONOSUPPORT)");
            }
        }
    }
    if (p.history && !p.repeating) usage_error("--history: needs --repeat (it carries the RTT history from race to race)");
    if (!p.repeating && p.interval_given) {
        usage_error("--interval: needs --repeat");
    }
    if (p.read_timeout && !p.send) usage_error("--read-timeout: needs --send or --send-file");
    if (p.history && config.sort == eyeballs::SortMode::automatic) {
        config.sort = eyeballs::SortMode::rfc6724;  // the RTT rule lives in the sort
    }
    if (!p.job.tls.alpn.empty()) {
        // The ids offered over TLS are the ids this client speaks over TCP:
        // the plan leaves out TCP services and Alt-Svc alternatives with
        // none of them (Config::tcp_alpn, RFC 9460 §7.1).
        config.tcp_alpn = p.job.tls.alpn;
        eyeballs::Config only_alpn;
        only_alpn.tcp_alpn = config.tcp_alpn;
        if (auto msg = eyeballs::validate(only_alpn)) usage_error("--alpn: " + *msg);
    }
    if (auto msg = eyeballs::validate(config)) usage_error(*msg);
    if (!p.job.tls.enabled && (!p.job.tls.cacert.empty() || p.job.tls.insecure || !p.job.tls.alpn.empty())) {
        usage_error("--cacert, --insecure and --alpn need --tls");
    }
    if (p.job.tls.http3 && p.adapter != "poll" && p.adapter != "libevent") {
        usage_error("--http3 is supported by the poll and libevent adapters only so far");
    }
    return p;
}

struct RaceEnd {
    eyeballs::RaceReport report;
    int status = 1;  ///< the exit status this race alone would give
};

// --send / --send-file over the winner's socket. Returns the exit status.
int talk_over(const Parsed& p, ConnectResult& result) {
    // Over TLS, OpenSSL writes with write(2): a peer that has gone must be an
    // error of the talk, not a SIGPIPE that kills the tool.
    if (result.channel || result.talk) ::signal(SIGPIPE, SIG_IGN);
    std::ostream* out = p.json ? nullptr : &std::cout;
    const eyeballs::tool::TalkResult t =
        result.talk ? result.talk(*p.send, p.read_timeout, sigint_pipe[0], out)
                    : eyeballs::tool::talk(result.fd, *p.send, p.read_timeout, sigint_pipe[0], out,
                                           result.channel.get());
    if (p.json) {
        // {"talk":{"sent":N,"received":M,"end":"eof"|"timeout"|"cancelled"|"error",
        //  ["error":"..."],"data":"what came back"}}
        std::string line = "{\"talk\":{\"sent\":" + std::to_string(t.sent) +
                           ",\"received\":" + std::to_string(t.received) + ",\"end\":";
        append_json_string(line, t.end);
        if (!t.error.empty()) {
            line += ",\"error\":";
            append_json_string(line, t.error);
        }
        line += ",\"data\":";
        append_json_string(line, t.data);
        line += "}}";
        std::cout << line << '\n';
    }
    std::cout.flush();
    if (t.end == "error") {
        std::cerr << "eyeballs-connect: " << t.error << '\n';
        return 1;
    }
    return t.end == "cancelled" ? 1 : 0;
}

// One race: the trace (JSON on stdout, -v timeline on stderr), the result
// line, and --send's talk.
RaceEnd run_race(Parsed& p, ConnectResult (*run)(const ConnectJob&)) {
    // The trace's origin is the race's start: the time of the first action.
    // Times are shown with microsecond precision (docs/behaviour.md §6).
    std::optional<eyeballs::TraceWriter> json_out;
    std::optional<eyeballs::TraceWriter> timeline;
    std::optional<eyeballs::TimePoint> origin;
    bool plan_printed = false;
    // The attempts of Alt-Svc alternatives (by number), so the TLS lines can
    // say so as their connect lines do: a TlsStep does not carry the service.
    std::vector<bool> alt_svc_attempts;
    const std::string host = p.job.addresses_mode ? std::string() : p.job.host;
    p.job.on_action = [&](eyeballs::TimePoint now, const eyeballs::Action& action,
                          const eyeballs::RaceMachine& machine) {
        if (!origin) origin = now;
        now = *origin + std::chrono::duration_cast<std::chrono::microseconds>(now - *origin);
        if (const auto* c = std::get_if<eyeballs::Connect>(&action);
            c != nullptr && c->service != nullptr &&
            c->service->source == eyeballs::ServiceSource::alt_svc) {
            const std::uint32_t n = c->attempt.number();
            if (alt_svc_attempts.size() <= n) alt_svc_attempts.resize(n + 1, false);
            alt_svc_attempts[n] = true;
        }
        // --plan: once, when the first attempt starts (or at the end if none did).
        if (p.plan && !plan_printed &&
            (std::holds_alternative<eyeballs::OpenSocket>(action) ||
             std::holds_alternative<eyeballs::Report>(action))) {
            plan_printed = true;
            const std::vector<eyeballs::PlanEntry> plan = machine.plan();
            if (p.json) {
                std::cout << plan_json(eyeballs::format_trace_ms(now - *origin), plan) << '\n';
            } else {
                print_plan_text(std::cout, plan);
            }
        }
        if (p.json) {
            if (!json_out) {
                json_out.emplace(std::cout, eyeballs::TraceWriter::Format::json, now);
                json_out->set_host(host);
                json_out->set_resolution(std::chrono::microseconds(1));
                json_out->set_metrics(true);
                json_out->set_report_protocol(true);  // "protocol" on every connected report (issue 18)
            }
            json_out->write(now, action, machine);
        }
        if (p.verbose) {
            if (!timeline) {
                timeline.emplace(std::cerr, eyeballs::TraceWriter::Format::timeline, now, true);
                timeline->set_resolution(std::chrono::microseconds(1));
            }
            timeline->write(now, action, machine);
        }
    };

    // --tls: each handshake's start and end, in the trace's two forms.
    if (p.job.tls.enabled && (p.json || p.verbose)) {
        p.job.on_tls = [&](eyeballs::TimePoint now, const eyeballs::tool::TlsStep& step) {
            if (!origin) origin = now;
            const auto t = std::chrono::duration_cast<std::chrono::microseconds>(now - *origin);
            const bool from_alt_svc =
                step.attempt < alt_svc_attempts.size() && alt_svc_attempts[step.attempt];
            if (p.json) {
                std::string line = "{\"t\":" + eyeballs::format_trace_ms(t) + ",\"action\":";
                append_json_string(line, step.kind);
                line += ",\"attempt\":" + std::to_string(step.attempt) + ",\"remote\":";
                append_json_string(line, step.remote);
                line += ",\"protocol\":";
                append_json_string(line, step.protocol);
                if (step.kind != "tls-failed") {
                    line += ",\"alpn\":[";
                    for (std::size_t i = 0; i < step.alpn.size(); ++i) {
                        if (i > 0) line += ',';
                        append_json_string(line, step.alpn[i]);
                    }
                    line += ']';
                }
                if (from_alt_svc) line += ",\"from\":\"alt-svc\"";
                if (!step.version.empty()) {
                    line += ",\"version\":";
                    append_json_string(line, step.version);
                }
                if (!step.error.empty()) {
                    line += ",\"message\":";
                    append_json_string(line, step.error);
                }
                std::cout << line << "}\n";
            }
            if (p.verbose) {
                char head[40];
                std::snprintf(head, sizeof head, "%10.3f ms  %-7s  ",
                              static_cast<double>(t.count()) / 1000.0,
                              step.protocol == "quic" ? "quic" : "tls");
                std::string alpn;
                for (std::size_t i = 0; i < step.alpn.size(); ++i) alpn += (i > 0 ? "," : "") + step.alpn[i];
                std::cerr << head << '#' << step.attempt << ' ' << step.remote << ' ';
                if (step.kind == "tls-start") {
                    std::cerr << "tls-start alpn " << alpn;
                } else if (step.kind == "tls-done") {
                    std::cerr << "tls-done " << step.version << " alpn " << (alpn.empty() ? "none" : alpn);
                } else {
                    std::cerr << "tls-failed: " << step.error;
                }
                if (from_alt_svc) std::cerr << " alt-svc";
                std::cerr << '\n';
            }
        };
    }

    ConnectResult result = run(p.job);
    std::cout.flush();

    RaceEnd end;
    switch (result.report.outcome) {
        case eyeballs::Outcome::connected: {
            if (!p.json) {
                // With --send, stdout carries what comes back (as nc does).
                std::ostream& line_out = p.send ? std::cerr : std::cout;
                line_out << "connected to "
                         << (result.report.remote ? result.report.remote->to_string() : "?");
                if (result.report.local) line_out << " from " << result.report.local->to_string();
                if (p.job.tls.enabled) {
                    // The winner's protocol, TLS version and ALPN id (issue 18).
                    line_out << ' ' << eyeballs::protocol_name(result.report.protocol) << " tls "
                             << result.report.tls_version << " alpn "
                             << (result.report.alpn_selected.empty() ? "none"
                                                                     : result.report.alpn_selected);
                    if (result.report.source == eyeballs::ServiceSource::alt_svc) {
                        line_out << " alt-svc";  // an Alt-Svc alternative won
                    }
                }
                line_out << '\n';
            }
            end.status = 0;
            if (p.send && (result.fd >= 0 || result.talk)) end.status = talk_over(p, result);
            if (result.release_tls) result.release_tls();
            result.quic.reset();  // the QUIC connection before its socket
            if (result.fd >= 0) ::close(result.fd);
            break;
        }
        case eyeballs::Outcome::cancelled:
            std::cerr << "eyeballs-connect: cancelled\n";
            break;
        case eyeballs::Outcome::failed:
            std::cerr << "eyeballs-connect: " << result.report.message << '\n';
            break;
    }
    end.report = std::move(result.report);
    return end;
}

}  // namespace

int main(int argc, char** argv) {
    Parsed p;
    try {
        p = parse(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "eyeballs-connect: " << e.message << '\n'
                  << "Try 'eyeballs-connect --help' for more information.\n";
        return 2;
    }

#ifdef EYEBALLS_HAVE_POLL
    if (p.pref64_auto) {
        eyeballs::poll::DnsOptions dns;
        dns.server = p.job.dns_server;
        const eyeballs::poll::Pref64Discovery found = eyeballs::poll::discover_pref64(dns);
        if (found.prefixes.empty()) {
            std::cerr << "eyeballs-connect: --pref64 auto: " << found.error << '\n';
            return 1;
        }
        p.job.config.pref64 = found.prefixes.front();
        if (p.verbose) {
            std::cerr << "NAT64 prefix (RFC 7050): " << p.job.config.pref64->to_string() << '\n';
        }
    }
#else
    if (p.pref64_auto) {
        std::cerr << "eyeballs-connect: --pref64 auto needs the poll adapter\n";
        return 2;
    }
#endif

    ConnectResult (*run)(const ConnectJob&) = nullptr;
#ifdef EYEBALLS_HAVE_POLL
    if (p.adapter == "poll") run = eyeballs::tool::run_poll;
#endif
#ifdef EYEBALLS_HAVE_ASIO
    if (p.adapter == "asio") run = eyeballs::tool::run_asio;
#endif
#ifdef EYEBALLS_HAVE_LIBEVENT
    if (p.adapter == "libevent") run = eyeballs::tool::run_libevent;
#endif
#ifdef EYEBALLS_HAVE_LIBUV
    if (p.adapter == "libuv") run = eyeballs::tool::run_libuv;
#endif
#ifdef EYEBALLS_HAVE_URING
    if (p.adapter == "uring") run = eyeballs::tool::run_uring;
#endif
    if (run == nullptr) {
        std::cerr << "eyeballs-connect: --adapter: adapter " << p.adapter << " was not built\n";
        return 2;
    }

    if (!install_sigint()) {
        std::cerr << "eyeballs-connect: cannot set up SIGINT handling: "
                  << eyeballs::tool::errno_text(errno) << '\n';
        return 1;
    }
    p.job.cancel_fd = sigint_pipe[0];

    eyeballs::History history;
    if (p.history) p.job.config.history = &history;

    std::vector<eyeballs::tool::RaceSample> samples;
    std::vector<Endpoint> raced;  // --history: the addresses raced, first-seen order
    int status = 0;
    for (std::uint32_t race = 1; race <= p.repeat; ++race) {
        if (race > 1) {
            // --interval between races; SIGINT ends the run (and keeps the summary).
            pollfd pfd{sigint_pipe[0], POLLIN, 0};
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(p.interval);
            if (::poll(&pfd, 1, static_cast<int>(ms.count())) > 0) break;
        }
        if (p.repeating && p.verbose) {
            std::cerr << "--- race " << race << " of " << p.repeat << '\n';
        }
        const RaceEnd end = run_race(p, run);
        if (end.status != 0) status = end.status;
        samples.push_back(eyeballs::tool::sample_of(end.report));
        if (p.history) {
            for (const eyeballs::AttemptRecord& a : end.report.attempts) {
                bool seen = false;
                for (const Endpoint& r : raced) {
                    seen = seen || r.address_string() == a.remote.address_string();
                }
                if (!seen) raced.push_back(a.remote);
            }
        }
        if (end.report.outcome == eyeballs::Outcome::cancelled) break;
    }
    if (p.repeating) {
        // --history: what it learned about each address raced, in first-seen order.
        std::vector<eyeballs::tool::HistoryNote> notes;
        for (const Endpoint& a : raced) {
            eyeballs::tool::HistoryNote n;
            n.address = a;
            if (auto e = history.lookup(p.job.config.network, a)) {
                if (e->srtt) n.srtt = std::chrono::duration_cast<std::chrono::microseconds>(*e->srtt);
                n.successes = e->successes;
                n.failures = e->failures;
            }
            notes.push_back(n);
        }
        if (p.json) {
            std::cout << eyeballs::tool::summary_json(samples, p.history, notes) << '\n';
        } else {
            eyeballs::tool::print_summary_text(std::cout, samples, p.history, notes);
        }
        std::cout.flush();
    }
    return status;
}
