// SPDX-License-Identifier: BSL-1.0
// eyeballs-sim's library: the scenario parser (docs/behaviour.md §4) and the virtual-time
// driver.
//
// Parsing is two passes over the lines. The first only looks for the `port`
// line, because the default port applies to the whole file, lines before it
// included. The second reads every directive in order and reports the first
// bad line; a line that conflicts with an earlier one is the bad line. Remotes
// are resolved (default port applied) while reading, so conflicts are found by
// value: `[2001:db8:0::1]:443` and `2001:db8::1` name the same remote.
//
// The driver owns virtual time. The race starts at t=0 before any event; then
// the next event (file events in file order, connect results in the order
// their attempts started) is delivered while its time is not after the
// machine's next deadline, so at one instant every event comes before the
// timers. After each input every action is drained: OpenSocket and Bind are
// answered at once, Connect schedules its result, the rest is only printed.
#include "scenario.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <set>
#include <sstream>
#include <utility>
#include <variant>

#include "eyeballs/error.hpp"
#include "eyeballs/history.hpp"
#include "eyeballs/nat64.hpp"

namespace eyeballs::sim {
namespace {

using std::string;
using std::string_view;

std::vector<string_view> tokenize(string_view line) {
    const std::size_t hash = line.find('#');
    if (hash != string_view::npos) line = line.substr(0, hash);
    std::vector<string_view> tokens;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        std::size_t j = i;
        while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
        if (j > i) tokens.push_back(line.substr(i, j - i));
        i = j;
    }
    return tokens;
}

std::vector<string_view> split_text_lines(string_view text) {
    std::vector<string_view> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == string_view::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return lines;
}

bool all_digits(string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(),
                                     [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::uint64_t> parse_whole(string_view s, std::uint64_t max) {
    if (!all_digits(s)) return std::nullopt;
    std::uint64_t v = 0;
    for (char c : s) {
        v = v * 10 + static_cast<std::uint64_t>(c - '0');
        if (v > max) return std::nullopt;
    }
    return v;
}

string quoted(string_view s) { return "'" + string(s) + "'"; }

string join(const std::vector<string_view>& tokens, std::size_t from) {
    string out;
    for (std::size_t i = from; i < tokens.size(); ++i) {
        if (!out.empty()) out += ' ';
        out += tokens[i];
    }
    return out;
}

// "AAAA svc.example.net." — one DNS question, names compared without case.
string question_key(bool https, Family family, string_view name) {
    string k = https ? "HTTPS " : string(record_name(family)) + " ";
    for (char ch : name) k += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (!name.empty() && name.back() != '.') k += '.';
    return k;
}

// Thrown inside the parser only, caught by parse_scenario.
struct LineError {
    int line;
    string message;
};

class Parser {
public:
    Parser(string_view text, const string& file) : lines_(split_text_lines(text)) {
        sc_.file = file;
    }

    ParseResult run() {
        ParseResult result;
        try {
            find_port();
            for (std::size_t i = 0; i < lines_.size(); ++i) {
                line_ = static_cast<int>(i + 1);
                const auto tokens = tokenize(lines_[i]);
                if (!tokens.empty()) directive(tokens);
            }
            if (addresses_line_ == 0 && first_dns_line_ == 0) {
                throw LineError{0, "the scenario has neither an `addresses` nor a `dns` line"};
            }
            if (alt_svc_line_ != 0 && !sc_.config.https) {
                throw LineError{alt_svc_line_, "alt-svc needs `config https=on` (Alt-Svc "
                                               "alternatives race as services)"};
            }
            if (https_line_ != 0 && !sc_.config.https) {
                throw LineError{https_line_,
                                "an HTTPS answer needs `config https=on` (HTTPS records are "
                                "only asked for in that mode)"};
            }
            if (change_line_ != 0 && !sc_.config.https) {
                throw LineError{change_line_,
                                "a `stale` or `update` answer needs `config https=on` (answers "
                                "that change are Happy Eyeballs v3, draft §4.4 and §7; an RFC "
                                "8305 race takes one answer per question)"};
            }
            if (named_line_ != 0 && !sc_.config.https) {
                throw LineError{named_line_,
                                "an answer for a target name needs `config https=on` (only "
                                "HTTPS records bring target names)"};
            }
            sc_.config.port = sc_.port;
        } catch (const LineError& e) {
            result.error = ParseError{sc_.file, e.line, e.message};
            return result;
        }
        result.scenario = std::move(sc_);
        return result;
    }

private:
    [[noreturn]] void fail(string message) const { throw LineError{line_, std::move(message)}; }

    // The port applies to the whole file: find it before reading the lines. A
    // bad or second `port` line is reported when the main pass reaches it.
    void find_port() {
        for (string_view line : lines_) {
            const auto tokens = tokenize(line);
            if (tokens.size() == 2 && tokens[0] == "port") {
                if (auto p = parse_whole(tokens[1], 65535); p && *p > 0) {
                    sc_.port = static_cast<std::uint16_t>(*p);
                }
                return;
            }
        }
    }

    void directive(const std::vector<string_view>& t) {
        const string_view d = t[0];
        if (d == "config") return config(t);
        if (d == "port") return port(t);
        if (d == "addresses") return addresses(t);
        if (d == "dns") return dns(t);
        if (d == "local") return local(t);
        if (d == "open") return open(t);
        if (d == "bind") return bind(t);
        if (d == "connect") return connect(t, false);
        if (d == "tls") return connect(t, true);
        if (d == "cancel") return cancel(t);
        if (d == "pref64") return pref64(t);
        if (d == "history") return history(t);
        if (d == "progress") return progress(t);
        if (d == "alt-svc") return alt_svc(t);
        fail("unknown directive " + quoted(d) +
             " (expected config, port, addresses, dns, local, open, bind, connect, tls, cancel, "
             "pref64, history, progress or alt-svc)");
    }

    Duration duration(string_view text, const char* what) const {
        string error;
        auto d = parse_duration(text, &error);
        if (!d) fail(string(what) + ": " + error);
        return *d;
    }

    int errno_value(string_view name) const {
        bool shape = name.size() >= 2 && name[0] == 'E' &&
                     std::all_of(name.begin() + 1, name.end(), [](char c) {
                         return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                     });
        if (!shape) {
            fail("bad errno " + quoted(name) +
                 " (an <errno.h> name: E followed by capitals and digits)");
        }
        auto code = errno_from_name(name);
        if (!code) fail("unknown errno " + quoted(name));
        return *code;
    }

    Endpoint endpoint(string_view text, std::uint16_t port) const {
        string error;
        auto ep = Endpoint::parse(text, port, &error);
        if (!ep) {
            fail("bad address " + quoted(text) + (error.empty() ? string() : ": " + error));
        }
        return *ep;
    }

    void config(const std::vector<string_view>& t) {
        if (t.size() < 2) fail("config needs KEY=VALUE settings");
        Config c = sc_.config;
        for (std::size_t i = 1; i < t.size(); ++i) {
            const string_view kv = t[i];
            const std::size_t eq = kv.find('=');
            if (eq == string_view::npos) fail("config setting " + quoted(kv) + " is not KEY=VALUE");
            const string_view key = kv.substr(0, eq);
            const string_view value = kv.substr(eq + 1);
            const string k(key);
            if (key == "attempt-delay") {
                c.auto_attempt_delay = false;
                if (value == "none") {
                    c.attempt_delay.reset();
                } else if (value == "auto") {
                    c.attempt_delay = default_attempt_delay;
                    c.auto_attempt_delay = true;
                } else {
                    c.attempt_delay = duration(value, "attempt-delay");
                }
            } else if (key == "resolution-delay") {
                c.resolution_delay = duration(value, "resolution-delay");
            } else if (key == "family-count") {
                auto n = parse_whole(value, std::numeric_limits<std::uint32_t>::max());
                if (!n || *n < 1) {
                    fail("family-count " + quoted(value) + " is not a whole number >= 1");
                }
                c.family_count = static_cast<std::uint32_t>(*n);
            } else if (key == "interleave") {
                if (value == "on") {
                    c.interleave = true;
                } else if (value == "off") {
                    c.interleave = false;
                } else {
                    fail("interleave must be on or off, not " + quoted(value));
                }
            } else if (key == "attempt-timeout" || key == "overall-timeout") {
                std::optional<Duration>& slot =
                    key == "attempt-timeout" ? c.attempt_timeout : c.overall_timeout;
                if (value == "none") {
                    slot.reset();
                } else {
                    const Duration d = duration(value, k.c_str());
                    if (d <= Duration::zero()) fail(k + " must be > 0 (or none)");
                    slot = d;
                }
            } else if (key == "min-start-gap") {
                c.min_start_gap = duration(value, "min-start-gap");
            } else if (key == "sort") {
                if (value == "rfc6724") {
                    c.sort = SortMode::rfc6724;
                } else if (value == "off") {
                    c.sort = SortMode::off;
                } else {
                    fail("sort must be rfc6724 or off, not " + quoted(value));
                }
            } else if (key == "min-attempt-delay") {
                c.min_attempt_delay = duration(value, "min-attempt-delay");
            } else if (key == "max-attempt-delay") {
                c.max_attempt_delay = duration(value, "max-attempt-delay");
            } else if (key == "delay-multiplier") {
                c.delay_multiplier = multiplier(value);
            } else if (key == "network") {
                if (value.empty()) fail("network needs an id (network=ID)");
                c.network = string(value);
            } else if (key == "family") {
                // One family only, as curl's -4 / -6 (issue 16).
                if (value == "ipv4") {
                    c.only_family = Family::v4;
                } else if (value == "ipv6") {
                    c.only_family = Family::v6;
                } else if (value == "any") {
                    c.only_family = std::nullopt;
                } else {
                    fail("family must be ipv4, ipv6 or any, not " + quoted(value));
                }
            } else if (key == "duplicates") {
                // Issue 16 item 4: a repeated remote is dropped (default) or kept.
                if (value == "drop") {
                    c.duplicates = eyeballs::Duplicates::drop;
                } else if (value == "keep") {
                    c.duplicates = eyeballs::Duplicates::keep;
                } else {
                    fail("duplicates must be drop or keep, not " + quoted(value));
                }
            } else if (key == "ipv4") {
                if (value == "none") {
                    c.ipv4_unavailable = true;
                } else if (value == "available") {
                    c.ipv4_unavailable = false;
                } else {
                    fail("ipv4 must be none or available, not " + quoted(value));
                }
            } else if (key == "ipv6") {
                // IPv6 unavailable on this host (issue 17): only IPv4 is raced.
                if (value == "none") {
                    c.ipv6_unavailable = true;
                } else if (value == "available") {
                    c.ipv6_unavailable = false;
                } else {
                    fail("ipv6 must be none or available, not " + quoted(value));
                }
            } else if (key == "history-explore") {
                // v3 §5.3 convergence: races in 1000 that sort without the history.
                auto n = parse_whole(value, 1000000);
                if (!n) fail("history-explore " + quoted(value) + " is not a whole number");
                c.history_explore = static_cast<std::uint32_t>(*n);
            } else if (key == "https" || key == "quic" || key == "quic-progress") {
                bool& flag = key == "https" ? c.https : key == "quic" ? c.quic : c.quic_progress;
                if (value == "on") {
                    flag = true;
                } else if (value == "off") {
                    flag = false;
                } else {
                    fail(k + " must be on or off, not " + quoted(value));
                }
            } else if (key == "success") {
                if (value == "connect") {
                    c.success = Success::connect;
                } else if (value == "tls") {
                    c.success = Success::handshake;
                } else {
                    fail("success must be connect or tls, not " + quoted(value));
                }
            } else if (key == "shuffle-seed") {
                auto n = parse_whole(value, std::numeric_limits<std::uint64_t>::max() / 10);
                if (!n) fail("shuffle-seed " + quoted(value) + " is not a whole number");
                c.shuffle_seed = *n;
            } else if (key == "max-endpoints") {
                auto n = parse_whole(value, 1000000);
                if (!n) fail("max-endpoints " + quoted(value) + " is not a whole number");
                c.max_endpoints = static_cast<std::uint32_t>(*n);
            } else if (key == "max-in-flight") {
                if (value == "none") {
                    c.max_in_flight = 0;
                } else {
                    const auto n = parse_whole(value, 1000000);
                    if (!n || *n == 0) {
                        fail("max-in-flight " + quoted(value) +
                             " is not a whole number of attempts from 1 (or none)");
                    }
                    c.max_in_flight = static_cast<std::uint32_t>(*n);
                }
            } else if (key == "ech") {
                if (value == "off") {
                    c.ech = EchMode::off;
                } else if (value == "opportunistic") {
                    c.ech = EchMode::opportunistic;
                } else if (value == "required") {
                    c.ech = EchMode::required;
                } else {
                    fail("ech must be off, opportunistic or required, not " + quoted(value));
                }
            } else if (key == "ech-fallback") {
                if (value == "on" || value == "off") {
                    c.ech_fallback = value == "on";
                } else {
                    fail("ech-fallback must be on or off, not " + quoted(value));
                }
            } else if (key == "dns") {
                if (value == "protected" || value == "plain") {
                    c.dns_protected = value == "protected";
                } else {
                    fail("dns must be protected or plain, not " + quoted(value));
                }
            } else if (key == "alpn") {
                // Config::tcp_alpn: the ids the client speaks over TCP, comma-separated
                // ("alpn=h2,http/1.1"). An empty id is kept for validate() to
                // name; an empty list is an error here (in Config it means
                // the default list, which a scenario asks for by leaving alpn= out).
                if (value.empty()) {
                    fail("alpn is empty: the client speaks at least one ALPN id over TCP "
                         "(RFC 9460 §7.1); leave alpn= out for the default h2,http/1.1");
                }
                c.tcp_alpn.clear();
                {
                    std::size_t from = 0;
                    for (;;) {
                        const std::size_t comma = value.find(',', from);
                        c.tcp_alpn.emplace_back(value.substr(from, comma == string_view::npos
                                                                       ? string_view::npos
                                                                       : comma - from));
                        if (comma == string_view::npos) break;
                        from = comma + 1;
                    }
                }
            } else if (key == "alias-limit") {
                auto n = parse_whole(value, 1000);
                if (!n) fail("alias-limit " + quoted(value) + " is not a whole number");
                c.alias_limit = static_cast<std::uint32_t>(*n);
            } else {
                fail("unknown config key " + quoted(key) +
                     " (expected attempt-delay, resolution-delay, family-count, interleave, "
                     "attempt-timeout, overall-timeout, min-start-gap, sort, "
                     "min-attempt-delay, max-attempt-delay, delay-multiplier, network, ipv4, "
                     "ipv6, history-explore, https, quic, quic-progress, success, shuffle-seed, alias-limit, "
                     "max-endpoints, max-in-flight, ech, ech-fallback, dns, alpn or duplicates)");
            }
        }
        Config check = c;
        check.local.clear();  // checked by the `local` line
        if (auto problem = validate(check)) fail(*problem);
        sc_.config = std::move(c);
    }

    void port(const std::vector<string_view>& t) {
        if (port_line_ != 0) fail("a second `port` line (the first is line " +
                                  std::to_string(port_line_) + ")");
        if (t.size() != 2) fail("usage: port N");
        auto p = parse_whole(t[1], 65535);
        if (!p || *p == 0) fail("port " + quoted(t[1]) + " is not 1 ... 65535");
        port_line_ = line_;
        // sc_.port was set by find_port() from this very line.
    }

    void addresses(const std::vector<string_view>& t) {
        if (addresses_line_ != 0) {
            fail("a second `addresses` line (the first is line " +
                 std::to_string(addresses_line_) + ")");
        }
        if (first_dns_line_ != 0) {
            fail("`addresses` cannot be mixed with `dns` (line " +
                 std::to_string(first_dns_line_) + ")");
        }
        if (t.size() < 2) fail("`addresses` needs at least one address");
        for (std::size_t i = 1; i < t.size(); ++i) sc_.addresses.push_back(endpoint(t[i], sc_.port));
        addresses_line_ = line_;
    }

    void dns(const std::vector<string_view>& t) {
        if (addresses_line_ != 0) {
            fail("`dns` cannot be mixed with `addresses` (line " +
                 std::to_string(addresses_line_) + ")");
        }
        const char* usage = "usage: dns AAAA|A|HTTPS [NAME] at T [stale|update]: ANSWER";
        if (t.size() < 4) fail(usage);
        DnsAnswer answer;
        answer.line = line_;
        if (t[1] == "AAAA") {
            answer.family = Family::v6;
        } else if (t[1] == "A") {
            answer.family = Family::v4;
        } else if (t[1] == "HTTPS") {
            answer.https = true;
        } else {
            fail("dns type " + quoted(t[1]) + " is not AAAA, A or HTTPS");
        }
        std::size_t at = 2;
        if (t[2] != "at" && answer.https && is_port_prefix(t[2])) {
            // RFC 9460 §9.1: the origin's own HTTPS question, as it goes out
            // for a port other than 443 (`_8443._https`): written out so the
            // scenario shows it; it must be the one the race asks.
            const string want = "_" + std::to_string(sc_.port) + "._https";
            string got(t[2]);
            if (got.back() == '.') got.pop_back();
            if (sc_.port == 443) {
                fail("port 443 has no prefixed HTTPS question (RFC 9460 §9.1): write "
                     "`dns HTTPS at ...` for the origin, not " + quoted(t[2]));
            }
            if (got != want) {
                fail("the origin's HTTPS question on port " + std::to_string(sc_.port) + " is " +
                     want + " (RFC 9460 §9.1), not " + quoted(t[2]));
            }
            at = 3;
        } else if (t[2] != "at") {
            // A target or alias name from an HTTPS record.
            answer.name = string(t[2]);
            if (!valid_name(t[2])) {
                fail("bad name " + quoted(t[2]) +
                     " (a DNS name: labels of 1-63 letters, digits, '-' or '_', 253 at most)");
            }
            at = 3;
            if (named_line_ == 0) named_line_ = line_;
        }
        if (t.size() < at + 2 || t[at] != "at") fail(usage);
        const string type = answer.https ? "HTTPS" : record_name(answer.family);
        const string what = type + (answer.name.empty() ? "" : " " + answer.name);
        const string key = question_key(answer.https, answer.family, answer.name);
        std::size_t rest = at + 2;
        string_view when = t[at + 1];
        if (!when.empty() && when.back() == ':') {
            when.remove_suffix(1);
        } else if (t.size() > rest && t[rest] == ":") {
            ++rest;
        } else if (t.size() > rest &&
                   (t[rest] == "stale" || t[rest] == "stale:" || t[rest] == "update" ||
                    t[rest] == "update:")) {
            // v3 §4.4 / §7: the answer's mark, between the time and the ':'.
            string_view mark = t[rest++];
            if (mark.back() == ':') {
                mark.remove_suffix(1);
            } else if (t.size() > rest && t[rest] == ":") {
                ++rest;
            } else {
                fail(string(usage) + " (missing ':' after `" + string(mark) + "`)");
            }
            answer.mark = mark == "stale" ? DnsAnswer::Mark::stale : DnsAnswer::Mark::update;
        } else {
            fail(string(usage) + " (missing ':' after the time)");
        }
        answer.at = duration(when, "dns time");
        const auto it = dns_lines_.find(key);
        if (answer.mark != DnsAnswer::Mark::plain) {
            const char* mark = answer.mark == DnsAnswer::Mark::stale ? "stale" : "update";
            if (answer.https && answer.mark == DnsAnswer::Mark::update) {
                fail(string("`") + mark + "` is for AAAA and A answers, not HTTPS (an HTTPS " +
                     "answer is taken once, or a `stale` one and then its fresh one)");
            }
            if (change_line_ == 0) change_line_ = line_;
        }
        if (answer.mark == DnsAnswer::Mark::stale && it != dns_lines_.end()) {
            fail("`stale` marks the first answer for " + what + ", which is line " +
                 std::to_string(it->second.first));
        }
        if (answer.mark == DnsAnswer::Mark::update && it == dns_lines_.end()) {
            fail("an `update` for " + what + " changes an earlier answer, and there is none " +
                 "(give the first answer without `update`)");
        }
        if (answer.mark == DnsAnswer::Mark::plain && it != dns_lines_.end() &&
            (!it->second.stale || it->second.fresh)) {
            fail("a second answer for " + what + " (the first is line " +
                 std::to_string(it->second.first) + ")");
        }
        if (it != dns_lines_.end() && answer.at < it->second.at) {
            fail(string(answer.mark == DnsAnswer::Mark::update ? "the update" : "the fresh answer") +
                 " for " + what + " at " + string(when) +
                 " comes before the answer it replaces (line " + std::to_string(it->second.last) +
                 ")");
        }
        if (rest >= t.size()) {
            fail("empty answer for " + what +
                 " (write `none` for no data, `error` for a failure)");
        }
        if (t[rest] == "none") {
            if (t.size() != rest + 1) fail("`none` stands alone in a dns answer");
            if (answer.mark == DnsAnswer::Mark::stale) {
                fail(string("a stale answer lists ") + (answer.https ? "records" : "addresses") +
                     " (a cached answer past its TTL), not `none`");
            }
            answer.kind = DnsAnswer::Kind::none;
        } else if (t[rest] == "error") {
            if (answer.mark != DnsAnswer::Mark::plain) {
                fail(string(answer.mark == DnsAnswer::Mark::stale
                                ? (answer.https ? "a stale answer lists records"
                                                : "a stale answer lists addresses")
                                : "an update is a new answer: addresses or `none`") +
                     ", not `error`");
            }
            if (t.size() > rest + 2) fail("usage: dns ... error [ERRNO]");
            answer.kind = DnsAnswer::Kind::error;
            if (t.size() == rest + 2) answer.code = errno_value(t[rest + 1]);
        } else if (answer.https) {
            // RFC 9460 presentation records, separated by `|`.
            answer.kind = DnsAnswer::Kind::records;
            std::size_t i = rest;
            while (i <= t.size()) {
                std::size_t j = i;
                while (j < t.size() && t[j] != "|") ++j;
                if (j == i) fail("an empty HTTPS record (records are separated by ` | `)");
                string text;
                for (std::size_t k = i; k < j; ++k) {
                    if (k > i) text += ' ';
                    text += t[k];
                }
                string error;
                auto record = parse_svcb_presentation(text, &error);
                // RFC 9460 §2.4.3/§8: a record whose `mandatory` names a key it
                // lacks is input the race must reject, not a bad scenario.
                if (!record) record = inconsistent_record(text);
                if (!record) fail("bad HTTPS record " + quoted(text) + ": " + error);
                answer.records.push_back(std::move(*record));
                i = j + 1;
            }
            if (https_line_ == 0) https_line_ = line_;
        } else {
            answer.kind = DnsAnswer::Kind::addresses;
            for (std::size_t i = rest; i < t.size(); ++i) {
                if (t[i] == "none" || t[i] == "error") {
                    fail("`" + string(t[i]) + "` cannot be mixed with addresses");
                }
                Endpoint ep = endpoint(t[i], sc_.port);
                if (ep.family() != answer.family) {
                    fail(string("an ") + record_name(answer.family) + " answer lists only " +
                         family_name(answer.family) + " addresses, not " + quoted(t[i]));
                }
                answer.addresses.push_back(ep);
            }
        }
        if (answer.https && https_line_ == 0) https_line_ = line_;
        if (it == dns_lines_.end()) {
            dns_lines_[key] = Question{line_, line_, answer.at,
                                       answer.mark == DnsAnswer::Mark::stale, false};
        } else {
            if (answer.mark == DnsAnswer::Mark::plain) it->second.fresh = true;
            it->second.last = line_;
            it->second.at = answer.at;
        }
        if (first_dns_line_ == 0) first_dns_line_ = line_;
        sc_.dns_mode = true;
        FileEvent ev;
        ev.kind = FileEvent::Kind::dns;
        ev.at = answer.at;
        ev.dns_index = sc_.dns.size();
        ev.line = line_;
        sc_.dns.push_back(std::move(answer));
        sc_.events.push_back(ev);
    }

    // A record that parses but for `mandatory` naming a key it does not have:
    // the record without that parameter, then the list put back. Nullopt for
    // anything else (the parser's own error stands).
    static std::optional<SvcbRecord> inconsistent_record(const string& text) {
        const auto tokens = tokenize(text);
        string rest;
        string listed;
        for (const string_view tok : tokens) {
            if (tok.substr(0, 10) == "mandatory=") {
                listed = string(tok.substr(10));
                continue;
            }
            if (!rest.empty()) rest += ' ';
            rest += tok;
        }
        if (listed.empty()) return std::nullopt;
        auto r = parse_svcb_presentation(rest);
        if (!r) return std::nullopt;
        std::size_t start = 0;
        while (start <= listed.size()) {
            std::size_t end = listed.find(',', start);
            if (end == string::npos) end = listed.size();
            const string item = listed.substr(start, end - start);
            std::optional<std::uint16_t> key;
            for (std::uint16_t k = 1; k <= 6; ++k) {
                if (svcb_key_name(k) == item) key = k;
            }
            if (!key && item.size() > 3 && item.compare(0, 3, "key") == 0) {
                if (auto n = parse_whole(string_view(item).substr(3), 65535); n && *n != 0) {
                    key = static_cast<std::uint16_t>(*n);
                }
            }
            if (!key) return std::nullopt;
            r->mandatory.push_back(*key);
            start = end + 1;
        }
        std::sort(r->mandatory.begin(), r->mandatory.end());
        if (std::adjacent_find(r->mandatory.begin(), r->mandatory.end()) != r->mandatory.end() ||
            r->self_consistent() || r->alias_mode()) {
            return std::nullopt;
        }
        return r;
    }

    // `_DIGITS._https` (a trailing dot allowed): the origin's port-prefixed
    // HTTPS question, which names no target.
    static bool is_port_prefix(string_view n) {
        if (!n.empty() && n.back() == '.') n.remove_suffix(1);
        constexpr string_view tail = "._https";
        if (n.size() < 2 + tail.size() || n[0] != '_') return false;
        if (n.substr(n.size() - tail.size()) != tail) return false;
        return all_digits(n.substr(1, n.size() - 1 - tail.size()));
    }

    static bool valid_name(string_view n) {
        if (n == ".") return false;
        if (!n.empty() && n.back() == '.') n.remove_suffix(1);
        if (n.empty() || n.size() > 253) return false;
        std::size_t label = 0;
        for (char ch : n) {
            if (ch == '.') {
                if (label == 0) return false;
                label = 0;
                continue;
            }
            const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                            (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
            if (!ok || ++label > 63) return false;
        }
        return label > 0;
    }

    void local(const std::vector<string_view>& t) {
        if (local_line_ != 0) {
            fail("a second `local` line (the first is line " + std::to_string(local_line_) + ")");
        }
        if (t.size() < 2) fail("`local` needs at least one address");
        for (std::size_t i = 1; i < t.size(); ++i) sc_.config.local.push_back(endpoint(t[i], 0));
        local_line_ = line_;
    }

    void open(const std::vector<string_view>& t) {
        if (t.size() != 4 || t[2] != "error") fail("usage: open A error ERRNO");
        const Endpoint remote = endpoint(t[1], sc_.port);
        const int code = errno_value(t[3]);
        if (auto it = open_lines_.find(remote); it != open_lines_.end()) {
            fail("a second `open` line for " + remote.to_string() + " (the first is line " +
                 std::to_string(it->second) + ")");
        }
        open_lines_[remote] = line_;
        sc_.open_errors[remote] = code;
    }

    void bind(const std::vector<string_view>& t) {
        if (t.size() != 4 || t[2] != "error") fail("usage: bind L error ERRNO");
        const Endpoint local = endpoint(t[1], 0);
        const int code = errno_value(t[3]);
        if (auto it = bind_lines_.find(local); it != bind_lines_.end()) {
            fail("a second `bind` line for " + local.to_string() + " (the first is line " +
                 std::to_string(it->second) + ")");
        }
        bind_lines_[local] = line_;
        sc_.bind_errors[local] = code;
    }

    void connect(const std::vector<string_view>& t, bool tls) {
        const string d = tls ? "tls" : "connect";
        const string usage =
            "usage: " + d + " A [protocol=tcp|quic] [alpn=ID]" + (tls ? " [ech=BASE64]" : "") +
            " ok after D | error ERRNO after D | " + (tls ? "ech-retry BASE64 after D | " : "") +
            "hang";
        if (t.size() < 3) fail(usage);
        const Endpoint remote = endpoint(t[1], sc_.port);
        ConnectRule rule;
        rule.line = line_;
        std::size_t i = 2;
        for (; i < t.size(); ++i) {
            const string_view kv = t[i];
            if (kv.substr(0, 9) == "protocol=") {
                if (rule.protocol) fail(d + ": protocol given twice");
                if (kv.substr(9) == "tcp") {
                    rule.protocol = Protocol::tcp;
                } else if (kv.substr(9) == "quic") {
                    rule.protocol = Protocol::quic;
                } else {
                    fail(d + ": protocol must be tcp or quic, not " + quoted(kv.substr(9)));
                }
            } else if (kv.substr(0, 5) == "alpn=") {
                if (rule.alpn) fail(d + ": alpn given twice");
                if (kv.size() == 5 || kv.size() > 5 + 255) {
                    fail(d + ": alpn needs one ALPN id of 1-255 octets (alpn=h2)");
                }
                rule.alpn = string(kv.substr(5));
            } else if (kv.substr(0, 4) == "ech=") {
                if (!tls) fail("connect: ech= belongs on a tls line (the handshake offers ECH)");
                if (rule.ech) fail(d + ": ech given twice");
                rule.ech = ech_configs(kv.substr(4), "ech=");
            } else {
                break;
            }
        }
        const std::size_t n = t.size() - i;
        if (n == 1 && t[i] == "hang") {
            rule.kind = ConnectRule::Kind::hang;
        } else if (n == 3 && t[i] == "ok" && t[i + 1] == "after") {
            rule.kind = ConnectRule::Kind::ok;
            rule.after = duration(t[i + 2], (d + " delay").c_str());
        } else if (n >= 1 && t[i] == "ech-retry") {
            if (!tls) fail("connect: ech-retry is a tls line's outcome (the server rejects ECH)");
            if (n != 4 || t[i + 2] != "after") {
                fail("tls: usage: ech-retry BASE64 after D (got " + quoted(join(t, i)) + ")");
            }
            rule.kind = ConnectRule::Kind::ech_retry;
            rule.retry = ech_configs(t[i + 1], "ech-retry");
            rule.after = duration(t[i + 3], "tls delay");
        } else if (n == 4 && t[i] == "error" && t[i + 2] == "after") {
            rule.kind = ConnectRule::Kind::error;
            rule.code = errno_value(t[i + 1]);
            rule.after = duration(t[i + 3], (d + " delay").c_str());
        } else {
            fail(usage + " (got " + quoted(join(t, 2)) + ")");
        }
        if (!tls && !rule.protocol && !rule.alpn) {
            if (auto it = sc_.connects.find(remote); it != sc_.connects.end()) {
                fail("a second `connect` line for " + remote.to_string() + " (the first is line " +
                     std::to_string(it->second.line) + ")");
            }
            sc_.connects.emplace(remote, rule);
            return;
        }
        auto& rules = (tls ? sc_.handshakes : sc_.service_connects)[remote];
        for (const ConnectRule& other : rules) {
            if (other.protocol == rule.protocol && other.alpn == rule.alpn &&
                other.ech == rule.ech) {
                fail("a second `" + d + "` line for " + remote.to_string() +
                     (rule.protocol ? string(" protocol=") + protocol_name(*rule.protocol) : "") +
                     (rule.alpn ? " alpn=" + *rule.alpn : "") + " (the first is line " +
                     std::to_string(other.line) + ")");
            }
        }
        rules.push_back(rule);
    }

    // An ECHConfigList in base64, as an HTTPS record's ech= writes it.
    std::vector<std::uint8_t> ech_configs(string_view text, const char* what) const {
        string error;
        auto r = parse_svcb_presentation("1 . ech=" + string(text), &error);
        if (text.empty() || !r || !r->ech || r->ech->empty()) {
            fail(string(what) + ": " + quoted(text) + " is not a non-empty base64 ECHConfigList");
        }
        return *r->ech;
    }

    // A decimal number ≥ 1 ("2", "1.5"), parsed exactly as written.
    double multiplier(string_view value) const {
        const bool shape = !value.empty() && value.front() != '.' && value.back() != '.' &&
                           std::count(value.begin(), value.end(), '.') <= 1 &&
                           std::all_of(value.begin(), value.end(), [](char ch) {
                               return (ch >= '0' && ch <= '9') || ch == '.';
                           });
        if (!shape || value.size() > 12) {
            fail("delay-multiplier " + quoted(value) + " is not a decimal number such as 2 or 1.5");
        }
        return std::stod(string(value));
    }

    void pref64(const std::vector<string_view>& t) {
        if (pref64_line_ != 0) {
            fail("a second `pref64` line (the first is line " + std::to_string(pref64_line_) + ")");
        }
        if (t.size() != 2) fail("usage: pref64 PREFIX/LEN");
        string error;
        auto p = Pref64::parse(t[1], &error);
        if (!p) fail("bad pref64 " + quoted(t[1]) + (error.empty() ? string() : ": " + error));
        sc_.config.pref64 = *p;
        pref64_line_ = line_;
    }

    void alt_svc(const std::vector<string_view>& t) {
        if (alt_svc_line_ != 0) {
            fail("a second `alt-svc` line (the first is line " + std::to_string(alt_svc_line_) + ")");
        }
        if (t.size() < 2) fail("usage: alt-svc VALUE (an Alt-Svc header value, RFC 7838)");
        string error;
        auto v = parse_alt_svc(join(t, 1), &error);
        if (!v) fail("bad alt-svc: " + error);
        if (v->clear) fail("alt-svc clear leaves nothing to race: give alternatives");
        sc_.config.alt_svc = std::move(v->alternatives);
        alt_svc_line_ = line_;
    }

    void progress(const std::vector<string_view>& t) {
        if (t.size() != 4 || t[2] != "after") fail("usage: progress A after D");
        const Endpoint remote = endpoint(t[1], sc_.port);
        const Duration after = duration(t[3], "progress delay");
        if (auto it = progress_lines_.find(remote); it != progress_lines_.end()) {
            fail("a second `progress` line for " + remote.to_string() + " (the first is line " +
                 std::to_string(it->second) + ")");
        }
        progress_lines_[remote] = line_;
        sc_.progress[remote] = after;
    }

    void quic_broken(const std::vector<string_view>& t) {
        if (t.size() > 3) fail("usage: history quic-broken [network=ID]");
        string network;
        if (t.size() == 3) {
            if (t[2].substr(0, 8) != "network=") {
                fail("history quic-broken: unknown setting " + quoted(t[2]) +
                     " (expected network=ID)");
            }
            if (t[2].size() == 8) fail("history: network needs an id (network=ID)");
            network = string(t[2].substr(8));
        }
        if (std::find(sc_.quic_broken.begin(), sc_.quic_broken.end(), network) !=
            sc_.quic_broken.end()) {
            fail("a second `history quic-broken` line for network " +
                 quoted(network.empty() ? string("(default)") : network));
        }
        sc_.quic_broken.push_back(std::move(network));
    }

    void history(const std::vector<string_view>& t) {
        if (t.size() >= 2 && t[1] == "quic-broken") return quic_broken(t);
        if (t.size() < 3 || t.size() > 5) {
            fail("usage: history ADDR rtt=DUR [network=ID] [last=failed]");
        }
        HistoryLine h;
        h.address = endpoint(t[1], sc_.port);
        h.line = line_;
        bool have_rtt = false;
        for (std::size_t i = 2; i < t.size(); ++i) {
            const string_view kv = t[i];
            if (kv.substr(0, 4) == "rtt=") {
                if (have_rtt) fail("history: rtt given twice");
                h.rtt = duration(kv.substr(4), "history rtt");
                if (h.rtt <= Duration::zero()) fail("history rtt must be > 0");
                have_rtt = true;
            } else if (kv.substr(0, 8) == "network=") {
                if (kv.size() == 8) fail("history: network needs an id (network=ID)");
                h.network = string(kv.substr(8));
            } else if (kv.substr(0, 5) == "last=") {
                // v3 §5.3: used before, but the latest connect failed (no RTT to expect).
                if (kv != "last=failed") fail("history: last must be failed, not " + quoted(kv.substr(5)));
                h.then_failed = true;
            } else {
                fail("history: unknown setting " + quoted(kv) +
                     " (expected rtt=DUR, network=ID or last=failed)");
            }
        }
        if (!have_rtt) fail("usage: history ADDR rtt=DUR [network=ID] [last=failed]");
        sc_.history.push_back(std::move(h));
    }

    void cancel(const std::vector<string_view>& t) {
        if (t.size() != 3 || t[1] != "at") fail("usage: cancel at T");
        FileEvent ev;
        ev.kind = FileEvent::Kind::cancel;
        ev.at = duration(t[2], "cancel time");
        ev.line = line_;
        sc_.events.push_back(ev);
    }

    std::vector<string_view> lines_;
    Scenario sc_;
    int line_ = 0;
    int port_line_ = 0;
    int addresses_line_ = 0;
    struct Question {  // a question's answer lines so far
        int first = 0;      // its first answer
        int last = 0;       // its latest answer (an update, or the fresh one)
        Duration at{};      // the latest one's time
        bool stale = false; // the first answer is stale: one fresh answer may follow
        bool fresh = false; // that fresh answer came
    };
    std::map<string, Question> dns_lines_;  // question_key() -> its lines
    int change_line_ = 0;  // the first `stale` or `update` answer
    int first_dns_line_ = 0;
    int https_line_ = 0;  // the first HTTPS answer
    int named_line_ = 0;  // the first answer for a target name
    int local_line_ = 0;
    int pref64_line_ = 0;
    std::map<Endpoint, int> open_lines_;
    std::map<Endpoint, int> progress_lines_;
    int alt_svc_line_ = 0;
    std::map<Endpoint, int> bind_lines_;
};

}  // namespace

const ConnectRule* match_rule(const std::vector<ConnectRule>& rules, Protocol protocol,
                              const Service* service) {
    const ConnectRule* best = nullptr;
    int best_score = -1;
    for (const ConnectRule& r : rules) {
        if (r.protocol && *r.protocol != protocol) continue;
        if (r.alpn && (service == nullptr || std::find(service->alpn.begin(), service->alpn.end(),
                                                       *r.alpn) == service->alpn.end())) {
            continue;
        }
        if (r.ech && (service == nullptr || service->ech != r.ech)) continue;
        const int score = (r.protocol ? 1 : 0) + (r.alpn ? 2 : 0) + (r.ech ? 4 : 0);
        if (score > best_score) {
            best = &r;
            best_score = score;
        }
    }
    return best;
}

const ConnectRule* connect_rule(const Scenario& sc, const Endpoint& remote, Protocol protocol,
                                const Service* service) {
    if (auto it = sc.service_connects.find(remote); it != sc.service_connects.end()) {
        if (const ConnectRule* r = match_rule(it->second, protocol, service)) return r;
    }
    auto it = sc.connects.find(remote);
    return it == sc.connects.end() ? nullptr : &it->second;
}

string ParseError::text() const { return file + ":" + std::to_string(line) + ": " + message; }

ParseResult parse_scenario(string_view text, const string& file) {
    return Parser(text, file).run();
}

std::optional<Duration> parse_duration(string_view text, string* error) {
    auto bad = [&](string message) -> std::optional<Duration> {
        if (error != nullptr) *error = std::move(message);
        return std::nullopt;
    };
    if (text == "0") return Duration::zero();
    std::int64_t unit = 0;  // nanoseconds per unit
    int unit_digits = 0;    // log10(unit)
    string_view number = text;
    if (text.size() > 2 && text.substr(text.size() - 2) == "ms") {
        unit = 1000000;
        unit_digits = 6;
        number.remove_suffix(2);
    } else if (text.size() > 1 && text.back() == 's' &&
               std::isdigit(static_cast<unsigned char>(text[text.size() - 2]))) {
        unit = 1000000000;
        unit_digits = 9;
        number.remove_suffix(1);
    } else {
        if (all_digits(text)) {
            return bad("bad duration " + quoted(text) +
                       ": a unit (ms or s) is needed; only 0 may be written without one");
        }
        return bad("bad duration " + quoted(text) +
                   ": write 0 or a decimal number followed by ms or s, in lower case");
    }
    const std::size_t dot = number.find('.');
    const string_view whole = number.substr(0, dot);
    string_view frac = dot == string_view::npos ? string_view() : number.substr(dot + 1);
    if (!all_digits(whole) || (dot != string_view::npos && !all_digits(frac))) {
        return bad("bad duration " + quoted(text) +
                   ": write 0 or a decimal number followed by ms or s, in lower case");
    }
    while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
    if (static_cast<int>(frac.size()) > unit_digits) {
        return bad("bad duration " + quoted(text) +
                   ": finer than 1 ns (virtual time is exact, never rounded)");
    }
    // At most 10^6 s (11.5 days): far beyond any race, and virtual time (int64
    // nanoseconds) cannot overflow however many of them add up in one run.
    const std::uint64_t max_whole = unit == 1000000 ? 1000000000u : 1000000u;
    auto w = parse_whole(whole, max_whole);
    if (!w || (*w == max_whole && !frac.empty())) {
        return bad("bad duration " + quoted(text) + ": too large (at most 1000000 s)");
    }
    std::int64_t ns = static_cast<std::int64_t>(*w) * unit;
    std::int64_t f = 0;
    for (char c : frac) f = f * 10 + (c - '0');
    for (int i = static_cast<int>(frac.size()); i < unit_digits; ++i) f *= 10;
    return Duration(ns + f);
}

std::vector<string> split_lines(const string& text) {
    std::vector<string> out;
    for (string_view l : split_text_lines(text)) out.emplace_back(l);
    return out;
}

// ---- Driver ---------------------------------------------------------------

TimePoint sim_origin() {
    // Any fixed point works; one far from the clock's epoch keeps arithmetic
    // below t=0 (a machine bug) representable.
    return TimePoint(std::chrono::hours(24));
}

int RunResult::exit_status() const noexcept {
    switch (end) {
        case End::finished: return 0;
        case End::never_ends: return 3;
        case End::start_failed: return 2;
        case End::broken: return 4;
    }
    return 4;
}

namespace {

// Virtual time never goes past 100 years, so TimePoint arithmetic cannot overflow.
constexpr Duration horizon = std::chrono::hours(24 * 365 * 100);

struct Event {
    TimePoint at;
    std::uint64_t seq = 0;
    bool is_file = true;
    bool tls = false;  // a handshake result (config success=tls)
    bool progress = false;  // a QUIC attempt's first reply (`progress` line)
    std::size_t file_index = 0;  // into Scenario::events
    AttemptId attempt;           // connect result
    ConnectRule::Kind kind = ConnectRule::Kind::hang;
    int code = 0;
    const ConnectRule* rule = nullptr;  // the tls line (ech-retry: its configs)
};

struct Later {
    bool operator()(const Event& a, const Event& b) const {
        if (a.at != b.at) return a.at > b.at;
        return a.seq > b.seq;
    }
};

class Driver {
public:
    Driver(const Scenario& sc, const ActionObserver& observer)
        : sc_(sc), observer_(observer), history_(preload(sc)), machine_(with_history(sc)),
          now_(sim_origin()) {}

    RunResult run() {
        RunResult result;
        for (std::size_t i = 0; i < sc_.events.size(); ++i) {
            Event ev;
            ev.at = sim_origin() + sc_.events[i].at;
            ev.seq = seq_++;
            ev.is_file = true;
            ev.file_index = i;
            push(ev);
        }
        const Status started =
            sc_.dns_mode ? machine_.start_resolving(now_) : machine_.start(now_, sc_.addresses);
        if (!started) {
            result.end = RunResult::End::start_failed;
            result.message = "the race cannot start: " + started.message();
            return finish(result);
        }
        drain();
        int idle_timeouts = 0;
        while (!machine_.finished()) {
            const std::optional<TimePoint> deadline = machine_.next_timeout();
            if (!queue_.empty() && (!deadline || queue_.front().at <= *deadline)) {
                std::pop_heap(queue_.begin(), queue_.end(), Later{});
                const Event ev = queue_.back();
                queue_.pop_back();
                now_ = std::max(now_, ev.at);
                deliver(ev);
                drain();
                idle_timeouts = 0;
            } else if (deadline) {
                now_ = std::max(now_, *deadline);
                const std::size_t before = actions_;
                machine_.handle_timeout(now_);
                drain();
                if (actions_ == before && machine_.next_timeout() == deadline) {
                    if (++idle_timeouts > 1000) {
                        result.end = RunResult::End::broken;
                        result.message = "the machine keeps asking for a timer at " +
                                         format_trace_ms(*deadline - sim_origin()) +
                                         " ms that does nothing";
                        return finish(result);
                    }
                } else {
                    idle_timeouts = 0;
                }
            } else {
                result.end = RunResult::End::never_ends;
                result.message = "the race can never finish: after " +
                                 format_trace_ms(now_ - sim_origin()) +
                                 " ms no event and no timer is left, and it has not ended (" +
                                 std::to_string(machine_.attempts_in_flight()) +
                                 " attempt(s) in flight, " +
                                 std::to_string(machine_.candidates_left()) +
                                 " candidate(s) left)";
                return finish(result);
            }
        }
        result.end = RunResult::End::finished;
        result.report = machine_.report();
        // Rule 10: late events (a result for a closed attempt, a cancel after the
        // end, ...) must change nothing. Deliver what is left and let any action
        // that comes out show in the trace, after the report, where it is an error.
        const std::size_t before = actions_;
        for (int timers = 0; !queue_.empty() || (machine_.next_timeout() && timers < 100);) {
            const std::optional<TimePoint> deadline = machine_.next_timeout();
            if (!queue_.empty() && (!deadline || queue_.front().at <= *deadline)) {
                std::pop_heap(queue_.begin(), queue_.end(), Later{});
                const Event ev = queue_.back();
                queue_.pop_back();
                now_ = std::max(now_, ev.at);
                deliver(ev);
            } else {
                now_ = std::max(now_, *deadline);
                machine_.handle_timeout(now_);
                ++timers;
            }
            drain();
        }
        if (actions_ != before) {
            result.end = RunResult::End::broken;
            result.message = std::to_string(actions_ - before) +
                             " action(s) came out after the report";
        }
        return finish(result);
    }

private:
    RunResult& finish(RunResult& result) {
        result.last_time = now_;
        result.attempts_started = machine_.attempts_started();
        result.attempts_in_flight = machine_.attempts_in_flight();
        return result;
    }

    void push(const Event& ev) {
        queue_.push_back(ev);
        std::push_heap(queue_.begin(), queue_.end(), Later{});
    }

    void deliver(const Event& ev) {
        if (!ev.is_file) {
            if (ev.progress) {
                machine_.handle_progress(now_, ev.attempt);
            } else if (ev.tls) {
                if (ev.kind == ConnectRule::Kind::ok) {
                    machine_.handle_secured(now_, ev.attempt);
                } else if (ev.kind == ConnectRule::Kind::ech_retry) {
                    // A refused retry (a second one) fails the attempt; the
                    // trace shows it, so the status needs no line of its own.
                    (void)machine_.handle_ech_retry(now_, ev.attempt, ev.rule->retry);
                } else {
                    machine_.handle_secure_failed(now_, ev.attempt, ev.code);
                }
            } else if (ev.kind == ConnectRule::Kind::ok) {
                machine_.handle_connected(now_, ev.attempt);
                // With ech the handshake starts at the CryptoReady action (v3 §6.3).
                if (sc_.config.success == Success::handshake && sc_.config.ech == EchMode::off) {
                    handshake(ev.attempt);
                }
            } else {
                machine_.handle_connect_failed(now_, ev.attempt, ev.code);
            }
            return;
        }
        const FileEvent& fe = sc_.events[ev.file_index];
        if (fe.kind == FileEvent::Kind::cancel) {
            machine_.cancel(now_);
            return;
        }
        const DnsAnswer& a = sc_.dns[fe.dns_index];
        if (!a.name.empty()) {
            // A target's answer cannot come before the race asks for it.
            const string key = question_key(a.https, a.family, a.name);
            if (asked_.count(key) == 0) {
                parked_[key].push_back(ev.file_index);  // with its updates, in order
                return;
            }
        }
        const Resolve q(a.family, a.https, a.name);
        switch (a.kind) {
            case DnsAnswer::Kind::addresses:
                if (a.mark == DnsAnswer::Mark::stale) {
                    machine_.handle_stale(now_, q, a.addresses);
                } else if (a.mark == DnsAnswer::Mark::update) {
                    machine_.handle_dns_update(now_, q, a.addresses);
                } else {
                    machine_.handle_resolved(now_, q, a.addresses);
                }
                break;
            case DnsAnswer::Kind::records:
                if (a.mark == DnsAnswer::Mark::stale) {
                    machine_.handle_stale_https(now_, q, a.records);
                } else {
                    machine_.handle_https(now_, q, a.records);
                }
                break;
            case DnsAnswer::Kind::none:
                if (a.https) {
                    machine_.handle_https(now_, q, nullptr, 0);
                } else if (a.mark == DnsAnswer::Mark::update) {
                    machine_.handle_dns_update(now_, q, nullptr, 0);
                } else {
                    machine_.handle_resolve_failed(now_, q);
                }
                break;
            case DnsAnswer::Kind::error:
                if (a.code != 0) {
                    machine_.handle_resolve_failed(now_, q, a.code);
                } else {
                    machine_.handle_resolve_failed(now_, q, 0, "resolution failed");
                }
                break;
        }
    }

    // success=tls: the handshake's result comes from the `tls` line, counted
    // from the connect; an attempt the machine did not keep gets none.
    void handshake(AttemptId attempt) {
        const auto it = attempts_.find(attempt.number());
        if (it == attempts_.end()) return;
        const Connect& c = it->second;
        const auto rules = sc_.handshakes.find(c.remote);
        if (rules == sc_.handshakes.end()) return;
        const ConnectRule* rule = match_rule(rules->second, c.protocol, c.service);
        schedule(c.attempt, rule, true);
    }

    void schedule(AttemptId attempt, const ConnectRule* rule, bool tls) {
        // Past the horizon (only absurd inputs get there) a result never comes.
        if (rule == nullptr || rule->kind == ConnectRule::Kind::hang ||
            (now_ - sim_origin()) + rule->after > horizon) {
            return;
        }
        Event ev;
        ev.at = now_ + rule->after;
        ev.seq = seq_++;
        ev.is_file = false;
        ev.tls = tls;
        ev.attempt = attempt;
        ev.kind = rule->kind;
        ev.code = rule->code;
        ev.rule = rule;
        push(ev);
    }

    void drain() {
        while (std::optional<Action> action = machine_.poll_action()) {
            ++actions_;
            if (observer_) observer_(now_, *action, machine_);
            if (const auto* open = std::get_if<OpenSocket>(&*action)) {
                auto it = sc_.open_errors.find(open->remote);
                machine_.handle_opened(now_, open->attempt,
                                       it != sc_.open_errors.end() ? it->second : 0);
            } else if (const auto* bind = std::get_if<Bind>(&*action)) {
                auto it = sc_.bind_errors.find(bind->local);
                machine_.handle_bound(now_, bind->attempt,
                                      it != sc_.bind_errors.end() ? it->second : 0);
            } else if (const auto* connect = std::get_if<Connect>(&*action)) {
                if (sc_.config.success == Success::handshake) {
                    attempts_.insert_or_assign(connect->attempt.number(), *connect);
                }
                schedule(connect->attempt,
                         connect_rule(sc_, connect->remote, connect->protocol, connect->service),
                         false);
                if (connect->protocol == Protocol::quic) {
                    if (auto p = sc_.progress.find(connect->remote); p != sc_.progress.end()) {
                        // The reply counts from the attempt's start, as a
                        // connect result does.
                        Event ev;
                        ev.at = now_ + p->second;
                        ev.seq = seq_++;
                        ev.is_file = false;
                        ev.progress = true;
                        ev.attempt = connect->attempt;
                        if ((now_ - sim_origin()) + p->second <= horizon) push(ev);
                    }
                }
            } else if (const auto* ready = std::get_if<CryptoReady>(&*action)) {
                handshake(ready->attempt);
            } else if (const auto* resolve = std::get_if<Resolve>(&*action)) {
                if (resolve->name.empty()) continue;
                const string key = question_key(resolve->https, resolve->family, resolve->name);
                asked_.insert(key);
                if (auto p = parked_.find(key); p != parked_.end()) {
                    for (const std::size_t index : p->second) {
                        Event ev;
                        ev.at = now_;
                        ev.seq = seq_++;
                        ev.is_file = true;
                        ev.file_index = index;
                        push(ev);
                    }
                    parked_.erase(p);
                }
            }
        }
    }

    // `history` lines preload the run's own cache; the machine records into it.
    static History preload(const Scenario& sc) {
        History h;
        for (const HistoryLine& line : sc.history) {
            h.record_success(line.network, line.address, line.rtt, sim_origin());
            if (line.then_failed) h.record_failure(line.network, line.address, sim_origin());
        }
        for (const std::string& network : sc.quic_broken) h.record_quic_broken(network, sim_origin());
        return h;
    }
    Config with_history(const Scenario& sc) {
        Config c = sc.config;
        if (!sc.history.empty() || !sc.quic_broken.empty() || c.auto_attempt_delay) {
            c.history = &history_;
        }
        return c;
    }

    const Scenario& sc_;
    const ActionObserver& observer_;
    History history_;
    RaceMachine machine_;
    TimePoint now_;
    std::vector<Event> queue_;  // a min-heap by (at, seq)
    std::set<string> asked_;                   // target questions the race has asked
    std::map<string, std::vector<std::size_t>> parked_;  // their answers, due before they were asked
    std::map<std::uint32_t, Connect> attempts_;  // success=tls: each attempt's Connect
    std::uint64_t seq_ = 0;
    std::size_t actions_ = 0;
};

}  // namespace

RunResult run_scenario(const Scenario& scenario, const ActionObserver& observer) {
    return Driver(scenario, observer).run();
}

SimOutput simulate(const Scenario& scenario, TraceWriter::Format format, bool verbose) {
    std::ostringstream out;
    std::ostringstream err;
    TraceWriter writer(out, format, sim_origin(), verbose);
    // With a JSON trace on stdout, -v adds the verbose timeline on stderr.
    std::optional<TraceWriter> timeline;
    if (format == TraceWriter::Format::json && verbose) {
        timeline.emplace(err, TraceWriter::Format::timeline, sim_origin(), true);
    }
    ActionObserver observer = [&](TimePoint now, const Action& action, const RaceMachine& m) {
        writer.write(now, action, m);
        if (timeline) timeline->write(now, action, m);
    };
    SimOutput result;
    result.run = run_scenario(scenario, observer);
    switch (result.run.end) {
        case RunResult::End::finished:
            break;
        case RunResult::End::never_ends:
            err << scenario.file << ": " << result.run.message << '\n';
            break;
        case RunResult::End::start_failed:
            err << scenario.file << ":0: " << result.run.message << '\n';
            break;
        case RunResult::End::broken:
            err << scenario.file << ": internal error: " << result.run.message << '\n';
            break;
    }
    result.exit_status = result.run.exit_status();
    result.out = out.str();
    result.err = err.str();
    return result;
}

SimOutput simulate_text(string_view text, const string& file, TraceWriter::Format format,
                        bool verbose) {
    ParseResult parsed = parse_scenario(text, file);
    if (!parsed.ok()) {
        SimOutput result;
        result.exit_status = 2;
        result.err = parsed.error.text() + "\n";
        return result;
    }
    return simulate(*parsed.scenario, format, verbose);
}

}  // namespace eyeballs::sim
