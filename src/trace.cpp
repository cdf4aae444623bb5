// SPDX-License-Identifier: BSL-1.0
// eyeballs — the trace printer (docs/behaviour.md §5): one JSON object a line, or a human
// timeline. Both tools and users print traces through this file, so the JSON
// shape lives in exactly one place.
//
// JSON line shapes (keys in this order; readers ignore unknown keys):
//   {"t":T,"action":"resolve","family":"AAAA"|"A"|"HTTPS"[,"name":"svc.example.net."]
//    [,"prefix":"_8443._https"]}   (prefix: the origin's HTTPS question, RFC 9460 §9.1)
//   {"t":T,"action":"connect","attempt":N,"remote":"R"[,"local":"L"]
//    [,"protocol":"tcp"|"quic","alpn":["h2",...][,"from":"alt-svc"][,"ech":true]]}
//    (HTTPS-driven endpoints; "from" for an Alt-Svc alternative's)
//   {"t":T,"action":"close","attempt":N[,"reason":"failed"|"lost"|"cancelled"|"overall-timeout"]
//    [,"stage":"S","errno":E|null,"message":"M"]}          (the error keys: reason failed)
//   {"t":T,"action":"answer"[,"name":"N"],"type":"AAAA"|"A"|"HTTPS",
//    "addresses":["A",...] | "records":K | "rcode":"NODATA" | "error":"M","errno":E|null}
//   {"t":T,"action":"report","outcome":"connected","attempt":N,"remote":"R"[,"local":"L"]
//    [,"protocol":P,"alpn":[...][,"from":"alt-svc"]],"errors":[...]}
//   {"t":T,"action":"report","outcome":"cancelled"}
//   {"t":T,"action":"report","outcome":"failed","errno":E|null,"message":"M",
//    "errors":[{"attempt":N|null,"remote":"R"|null,"stage":"S"[,"family":"AAAA"][,"dns":"NXDOMAIN"],
//               "errno":E|null,"message":"M"}, ...]
//    [,"reason":"overall-timeout"]}
// Every report line ends with "dropped":N when the race left N endpoints out
// (Config::max_endpoints); the key is absent when none were.
// `t` is milliseconds since the origin, exact for whole nanoseconds.
#include "eyeballs/trace.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>
#include <type_traits>
#include <variant>

#include "eyeballs/error.hpp"
#include "eyeballs/race_machine.hpp"

namespace eyeballs {
namespace {

// Appends `s` as a JSON string literal (RFC 8259 escaping; bytes >= 0x20 other
// than '"' and '\\' pass through, so UTF-8 text stays as it is).
void append_json_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char ch : s) {
        const auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\b': out += "\\b"; break;
            case '\f': out += "\\f"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

void append_key(std::string& out, const char* key) {
    out += ",\"";
    out += key;
    out += "\":";
}

void append_errno(std::string& out, int code) {
    append_key(out, "errno");
    const char* name = code != 0 ? errno_name(code) : nullptr;
    if (name != nullptr) {
        append_json_string(out, name);
    } else {
        out += "null";
    }
    if (code != 0 && name == nullptr) {
        // A value with no symbolic name: keep the number (an extra key).
        append_key(out, "code");
        out += std::to_string(code);
    }
}

// "protocol", "alpn" (and "from", "ech") for an endpoint an HTTPS record or
// an Alt-Svc alternative produced.
void append_service(std::string& out, Protocol protocol, const Service* service) {
    if (service == nullptr && protocol == Protocol::tcp) return;
    append_key(out, "protocol");
    append_json_string(out, protocol_name(protocol));
    if (service == nullptr) return;
    append_key(out, "alpn");
    out += '[';
    for (std::size_t i = 0; i < service->alpn.size(); ++i) {
        if (i > 0) out += ',';
        append_json_string(out, service->alpn[i]);
    }
    out += ']';
    // Only an Alt-Svc alternative is marked: every other line stays as it
    // was before the key existed (an HTTPS record's service is the default).
    if (service->source == ServiceSource::alt_svc) out += ",\"from\":\"alt-svc\"";
    if (service->ech) out += ",\"ech\":true";
}

void append_error(std::string& out, const Error& e) {
    out += "{\"attempt\":";
    if (e.stage == Stage::resolve || e.attempt == 0) {
        out += "null";
    } else {
        out += std::to_string(e.attempt);
    }
    append_key(out, "remote");
    if (e.remote) {
        append_json_string(out, e.remote->to_string());
    } else {
        out += "null";
    }
    append_key(out, "stage");
    append_json_string(out, stage_name(e.stage));
    if (e.family) {
        append_key(out, "family");
        append_json_string(out, record_name(*e.family));
    }
    if (!e.name.empty()) {
        append_key(out, "name");
        append_json_string(out, e.name);
    }
    if (const char* dns = dns_error_name(e.dns)) {
        append_key(out, "dns");  // a resolve error's DNS class (Error::dns)
        append_json_string(out, dns);
    }
    append_errno(out, e.code);
    append_key(out, "message");
    append_json_string(out, e.message());
    out += '}';
}

void append_errors(std::string& out, const RaceReport& report) {
    append_key(out, "errors");
    out += '[';
    bool first = true;
    for (const Error& e : report.errors) {
        if (!first) out += ',';
        first = false;
        append_error(out, e);
    }
    out += ']';
}

// `always_protocol`: a connected line names the winner's "protocol" also when
// no HTTPS record drove it ("tcp"; TraceWriter::set_report_protocol).
void append_report(std::string& out, const Report& r, const RaceReport* report,
                   bool always_protocol) {
    const Outcome outcome = report != nullptr ? report->outcome : r.outcome;
    append_key(out, "outcome");
    append_json_string(out, outcome_name(outcome));
    switch (outcome) {
        case Outcome::connected: {
            const AttemptId winner = report != nullptr && report->winner ? report->winner : r.winner;
            const std::optional<Endpoint> remote =
                report != nullptr && report->remote ? report->remote : r.remote;
            append_key(out, "attempt");
            out += std::to_string(winner.number());
            append_key(out, "remote");
            if (remote) {
                append_json_string(out, remote->to_string());
            } else {
                out += "null";
            }
            if (report != nullptr && report->local) {
                append_key(out, "local");
                append_json_string(out, report->local->to_string());
            }
            if (always_protocol && r.service == nullptr && r.protocol == Protocol::tcp) {
                append_key(out, "protocol");
                append_json_string(out, protocol_name(r.protocol));
            }
            append_service(out, r.protocol, r.service);
            if (report != nullptr) append_errors(out, *report);  // what the losers met
            break;
        }
        case Outcome::failed: {
            append_errno(out, report != nullptr ? report->code : 0);
            append_key(out, "message");
            append_json_string(out, report != nullptr ? report->message : std::string());
            if (report != nullptr) {
                append_errors(out, *report);
            } else {
                out += ",\"errors\":[]";
            }
            if (report != nullptr && report->overall_timeout) {
                append_key(out, "reason");
                append_json_string(out, "overall-timeout");
            }
            break;
        }
        case Outcome::cancelled:
            break;
    }
    if (report != nullptr && report->dropped > 0) {
        append_key(out, "dropped");
        out += std::to_string(report->dropped);
    }
}

// Milliseconds with at least `min_decimals` decimals, trailing zeros beyond them
// dropped: (1500000, 0) -> "1.5", (250000000, 3) -> "250.000".
std::string ms_text(std::chrono::nanoseconds d, int min_decimals) {
    const std::int64_t ns = d.count();
    // Work on the magnitude as unsigned so INT64_MIN does not overflow.
    const std::uint64_t mag = ns < 0 ? 0 - static_cast<std::uint64_t>(ns)
                                     : static_cast<std::uint64_t>(ns);
    std::string out = ns < 0 ? "-" : "";
    out += std::to_string(mag / 1000000u);
    std::string frac = std::to_string(mag % 1000000u);
    frac.insert(0, 6 - frac.size(), '0');
    std::size_t keep = frac.size();
    while (keep > static_cast<std::size_t>(min_decimals) && frac[keep - 1] == '0') --keep;
    if (keep > 0) {
        out += '.';
        out.append(frac, 0, keep);
    }
    return out;
}

std::string pad_left(std::string s, std::size_t width) {
    if (s.size() < width) s.insert(0, width - s.size(), ' ');
    return s;
}

std::string pad_right(std::string s, std::size_t width) {
    if (s.size() < width) s.append(width - s.size(), ' ');
    return s;
}

constexpr std::size_t time_width = 10;  // "  1500.000"
constexpr std::size_t word_width = 7;   // "connect", "resolve"

std::string timeline_prefix(std::chrono::nanoseconds t, const char* word) {
    return pad_left(ms_text(t, 3), time_width) + " ms  " + pad_right(word, word_width) + "  ";
}

std::string continuation_prefix(const char* word) {
    return std::string(time_width + 5, ' ') + pad_right(word, word_width) + "  ";
}

std::string attempt_text(AttemptId id) { return "#" + std::to_string(id.number()); }

std::string errno_text(int code) {
    if (code == 0) return "";
    const char* name = errno_name(code);
    return name != nullptr ? std::string(name) : "errno " + std::to_string(code);
}

void write_timeline_errors(std::ostream& out, const RaceReport& report) {
    for (const Error& e : report.errors) {
        std::string err = continuation_prefix("error");
        if (e.stage != Stage::resolve && e.attempt != 0) {
            err += attempt_text(AttemptId(e.attempt)) + " ";
        }
        err += e.message();
        out << err << '\n';
    }
}

// "::1, 127.0.0.1" / "no data" / "error: resolve A: ..." / "2 records".
std::string answer_text(const DnsQuery& q) {
    if (q.error) {
        const Error& e = *q.error;
        // The adapter's DNS class (NXDOMAIN, SERVFAIL, ...) leads, so a name
        // that does not exist reads differently from one without records.
        if (e.dns == DnsError::nodata || (e.dns == DnsError::none && e.code == 0 && e.detail.empty()))
            return "no data";
        if (e.dns != DnsError::none) return std::string(dns_error_name(e.dns)) + ": " + e.message();
        if (q.https) {
            std::string text = "error: ";
            text += !e.detail.empty() ? e.detail : errno_text(e.code);
            return text;
        }
        return "error: " + e.message();
    }
    if (q.https) {
        if (q.records == 0) return "no data";
        return std::to_string(q.records) + (q.records == 1 ? " record" : " records");
    }
    std::string text;
    for (std::size_t i = 0; i < q.addresses.size(); ++i) {
        if (i > 0) text += ", ";
        text += q.addresses[i].address_string();
    }
    return text;
}

void write_timeline_outcome(std::ostream& out, std::chrono::nanoseconds t, const Report& r,
                            const RaceReport& report) {
    switch (report.outcome) {
        case Outcome::connected: {
            std::string line = timeline_prefix(t, "report") + "connected ";
            const AttemptId winner = report.winner ? report.winner : r.winner;
            const std::optional<Endpoint> remote = report.remote ? report.remote : r.remote;
            line += attempt_text(winner);
            if (remote) line += " " + remote->to_string();
            if (report.local) line += " from " + report.local->to_string();
            out << line << '\n';
            write_timeline_errors(out, report);  // what the losers met
            break;
        }
        case Outcome::cancelled:
            out << timeline_prefix(t, "report") << "cancelled\n";
            break;
        case Outcome::failed: {
            std::string line = timeline_prefix(t, "report") + "failed ";
            const std::string name = errno_text(report.code);
            if (!name.empty()) line += name + ": ";
            line += report.message;
            out << line << '\n';
            write_timeline_errors(out, report);
            break;
        }
    }
}

void write_timeline_report(std::ostream& out, std::chrono::nanoseconds t, const Report& r,
                           const RaceReport& report) {
    write_timeline_outcome(out, t, r, report);
    if (report.dropped > 0) {
        out << continuation_prefix("dropped") << report.dropped
            << (report.dropped == 1 ? " endpoint" : " endpoints")
            << " over the cap (max-endpoints)\n";
    }
}

}  // namespace

std::string format_trace_ms(std::chrono::nanoseconds since_origin) {
    return ms_text(since_origin, 0);
}

const char* close_reason(const AttemptRecord& record, std::optional<Outcome> outcome,
                         bool overall_timeout) noexcept {
    switch (record.state) {
        case AttemptRecord::State::failed: return "failed";
        case AttemptRecord::State::closed:
            if (overall_timeout) return "overall-timeout";
            if (outcome == Outcome::cancelled) return "cancelled";
            return "lost";
        case AttemptRecord::State::connected:  // a close of the winner: not the race's doing
        case AttemptRecord::State::in_flight: break;
    }
    return nullptr;
}

std::string close_json(const std::string& t_ms, AttemptId attempt, const char* reason,
                       const Error* error) {
    std::string out = "{\"t\":" + t_ms + ",\"action\":\"close\"";
    append_key(out, "attempt");
    out += std::to_string(attempt.number());
    if (reason != nullptr) {
        append_key(out, "reason");
        append_json_string(out, reason);
    }
    if (error != nullptr) {
        append_key(out, "stage");
        append_json_string(out, stage_name(error->stage));
        append_errno(out, error->code);
        append_key(out, "message");
        append_json_string(out, error->message());
    }
    out += '}';
    return out;
}

std::string answer_json(const std::string& t_ms, const DnsQuery& q,
                        const std::string& origin_name) {
    std::string out = "{\"t\":" + t_ms + ",\"action\":\"answer\"";
    const std::string& name = q.name.empty() ? origin_name : q.name;
    if (!name.empty()) {
        append_key(out, "name");
        append_json_string(out, name);
    }
    append_key(out, "type");
    append_json_string(out, q.type());
    if (q.error) {
        const Error& e = *q.error;
        // The DNS class leads: an answer with an RCODE names it ("NODATA",
        // "NXDOMAIN", "SERVFAIL"); a failure without one (timeout, malformed,
        // truncated) is an "error" with its class in "dns".
        const bool nodata = e.dns == DnsError::nodata ||
                            (e.dns == DnsError::none && e.code == 0 && e.detail.empty());
        if (nodata || e.dns == DnsError::nxdomain || e.dns == DnsError::server_failure) {
            append_key(out, "rcode");
            append_json_string(out, nodata ? "NODATA" : dns_error_name(e.dns));
            if (!nodata) {
                append_key(out, "message");
                append_json_string(out, e.message());
            }
        } else {
            append_key(out, "error");
            append_json_string(out, q.https ? (!e.detail.empty() ? e.detail : errno_text(e.code))
                                            : e.message());
            if (e.dns != DnsError::none) {
                append_key(out, "dns");
                append_json_string(out, dns_error_name(e.dns));
            }
            append_errno(out, e.code);
        }
    } else if (q.https) {
        if (q.records == 0) {
            append_key(out, "rcode");
            append_json_string(out, "NODATA");
        } else {
            append_key(out, "records");
            out += std::to_string(q.records);
        }
    } else {
        append_key(out, "addresses");
        out += '[';
        for (std::size_t i = 0; i < q.addresses.size(); ++i) {
            if (i > 0) out += ',';
            append_json_string(out, q.addresses[i].address_string());
        }
        out += ']';
    }
    out += '}';
    return out;
}

std::string metrics_json(const RaceMetrics& m) {
    auto ms = [](const std::optional<Duration>& d) {
        return d ? format_trace_ms(*d) : std::string("null");
    };
    std::string out = "{\"dns_ms\":{\"aaaa\":" + ms(m.dns_aaaa) + ",\"a\":" + ms(m.dns_a) +
                      ",\"https\":" + ms(m.dns_https) + ",\"max\":" + ms(m.dns_max) + "}";
    out += ",\"dns_queries\":" + std::to_string(m.dns_queries);
    out += ",\"attempts\":" + std::to_string(m.attempts_started);
    out += ",\"winner_family\":";
    out += !m.winner_family ? "null" : (*m.winner_family == Family::v6 ? "\"ipv6\"" : "\"ipv4\"");
    out += ",\"winner_protocol\":";
    if (m.winner_family) {
        append_json_string(out, protocol_name(m.winner_protocol));
    } else {
        out += "null";
    }
    out += ",\"connect_ms\":" + ms(m.time_to_connect);
    out += ",\"errors\":{";
    for (std::size_t i = 0; i < 6; ++i) {
        if (i > 0) out += ',';
        append_json_string(out, stage_name(static_cast<Stage>(i)));
        out += ':' + std::to_string(m.errors_by_stage[i]);
    }
    out += "},\"duplicates_dropped\":" + std::to_string(m.duplicates_dropped);
    out += ",\"duration_ms\":" + ms(m.duration) + '}';
    return out;
}

namespace {

std::string action_json(const std::string& t_ms, const Action& action, const RaceReport* report,
                        bool always_protocol) {
    std::string out;
    std::visit(
        [&](const auto& a) {
            using A = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<A, OpenSocket> || std::is_same_v<A, Bind>) {
                return;  // not part of the trace
            } else {
                out.reserve(96);
                out += "{\"t\":";
                out += t_ms;
                if constexpr (std::is_same_v<A, Resolve>) {
                    out += ",\"action\":\"resolve\"";
                    append_key(out, "family");
                    append_json_string(out, a.https ? "HTTPS" : record_name(a.family));
                    if (!a.name.empty()) {
                        append_key(out, "name");
                        append_json_string(out, std::string(a.name));
                    }
                    if (a.port_prefix != 0) {
                        // RFC 9460 §9.1: the question is PREFIX.NAME (NAME: the origin
                        // when "name" is absent).
                        append_key(out, "prefix");
                        append_json_string(out, port_prefix_labels(a));
                    }
                } else if constexpr (std::is_same_v<A, Connect>) {
                    out += ",\"action\":\"connect\"";
                    append_key(out, "attempt");
                    out += std::to_string(a.attempt.number());
                    append_key(out, "remote");
                    append_json_string(out, a.remote.to_string());
                    if (a.local) {
                        append_key(out, "local");
                        append_json_string(out, a.local->to_string());
                    }
                    append_service(out, a.protocol, a.service);
                } else if constexpr (std::is_same_v<A, Close>) {
                    out += ",\"action\":\"close\"";
                    append_key(out, "attempt");
                    out += std::to_string(a.attempt.number());
                } else if constexpr (std::is_same_v<A, CryptoReady>) {
                    // v3 §6.3: the attempt's TLS handshake may start (with ECH or not).
                    out += ",\"action\":\"crypto-ready\"";
                    append_key(out, "attempt");
                    out += std::to_string(a.attempt.number());
                    append_key(out, "ech");
                    out += a.ech() != nullptr ? "true" : "false";
                } else {
                    static_assert(std::is_same_v<A, Report>);
                    out += ",\"action\":\"report\"";
                    append_report(out, a, report, always_protocol);
                }
                out += '}';
            }
        },
        action);
    return out;
}

}  // namespace

std::string trace_json(const std::string& t_ms, const Action& action, const RaceReport* report) {
    return action_json(t_ms, action, report, false);
}

TraceWriter::TraceWriter(std::ostream& out, Format format, TimePoint origin, bool verbose)
    : out_(out), format_(format), origin_(origin), verbose_(verbose) {}

std::chrono::nanoseconds TraceWriter::since_origin(TimePoint t) const {
    auto d = detail::saturating_sub(t, origin_);
    if (unit_.count() > 0) d = d / unit_ * unit_;
    return d;
}

void TraceWriter::write_answers(const RaceMachine& machine) {
    const std::vector<DnsQuery>& queries = machine.queries();
    if (answer_written_.size() < queries.size()) answer_written_.resize(queries.size(), false);
    // Answers taken since the last line, in the order they were taken.
    std::vector<std::size_t> fresh;
    for (std::size_t i = 0; i < queries.size(); ++i) {
        if (queries[i].answered && !answer_written_[i]) fresh.push_back(i);
    }
    std::stable_sort(fresh.begin(), fresh.end(), [&](std::size_t a, std::size_t b) {
        return *queries[a].answered < *queries[b].answered;
    });
    for (const std::size_t i : fresh) {
        answer_written_[i] = true;
        const DnsQuery& q = queries[i];
        const auto t = since_origin(*q.answered);
        if (format_ == Format::json) {
            out_ << answer_json(format_trace_ms(t), q, host_) << '\n';
        } else {
            out_ << timeline_prefix(t, "answer") << q.type();
            if (!q.name.empty()) out_ << ' ' << q.name;
            out_ << ' ' << answer_text(q) << '\n';
        }
    }
}

void TraceWriter::write(TimePoint now, const Action& action, const RaceMachine& machine) {
    write_answers(machine);
    const auto t = since_origin(now);
    // A close line's cause: the attempt's record as the machine has it now.
    const char* reason = nullptr;
    std::optional<Error> error;
    if (const Close* c = std::get_if<Close>(&action)) {
        if (std::optional<AttemptRecord> rec = machine.attempt_record(c->attempt)) {
            reason = close_reason(*rec, machine.outcome(), machine.overall_timed_out());
            error = rec->error;
        }
    }
    if (format_ == Format::json) {
        std::string line;
        if (std::holds_alternative<Report>(action)) {
            const RaceReport report = machine.report();
            line = action_json(format_trace_ms(t), action, &report, report_protocol_);
            if (metrics_ && !line.empty()) {
                RaceMetrics m = report.metrics;
                if (unit_.count() > 0) {  // the same precision as `t`
                    const auto cut = [this](std::optional<Duration>& d) {
                        if (d) *d = *d / unit_ * unit_;
                    };
                    cut(m.dns_aaaa);
                    cut(m.dns_a);
                    cut(m.dns_https);
                    cut(m.dns_max);
                    cut(m.time_to_connect);
                    m.duration = m.duration / unit_ * unit_;
                }
                line.pop_back();  // the closing brace
                line += ",\"metrics\":" + metrics_json(m) + '}';
            }
        } else if (const Close* c = std::get_if<Close>(&action)) {
            line = close_json(format_trace_ms(t), c->attempt, reason, error ? &*error : nullptr);
        } else {
            line = trace_json(format_trace_ms(t), action, nullptr);
        }
        if (!line.empty()) out_ << line << '\n';
        return;
    }
    std::visit(
        [&](const auto& a) {
            using A = std::decay_t<decltype(a)>;
            if constexpr (std::is_same_v<A, Resolve>) {
                out_ << timeline_prefix(t, "resolve") << (a.https ? "HTTPS" : record_name(a.family));
                if (a.port_prefix != 0) {
                    out_ << ' ' << port_prefix_labels(a) << '.'
                         << (a.name.empty() ? std::string_view("(origin)") : a.name);
                } else if (!a.name.empty()) {
                    out_ << ' ' << a.name;
                }
                out_ << '\n';
            } else if constexpr (std::is_same_v<A, OpenSocket>) {
                if (verbose_) {
                    out_ << timeline_prefix(t, "open") << attempt_text(a.attempt) << ' '
                         << a.remote.to_string() << '\n';
                }
            } else if constexpr (std::is_same_v<A, Bind>) {
                if (verbose_) {
                    out_ << timeline_prefix(t, "bind") << attempt_text(a.attempt) << ' '
                         << a.local.to_string() << '\n';
                }
            } else if constexpr (std::is_same_v<A, Connect>) {
                // The action's own text: "#2 192.0.2.1:443 [from L] [quic alpn=h3]".
                out_ << timeline_prefix(t, "connect") << to_string(Action{a}).substr(8) << '\n';
            } else if constexpr (std::is_same_v<A, Close>) {
                // "#1 failed: connect to [::1]:9: ECONNREFUSED", "#2 lost",
                // "#1 overall timeout", "#1 cancelled".
                out_ << timeline_prefix(t, "close") << attempt_text(a.attempt);
                if (error) {
                    out_ << " failed: " << error->message();
                } else if (reason != nullptr) {
                    std::string text = reason;
                    for (char& ch : text) {
                        if (ch == '-') ch = ' ';
                    }
                    out_ << ' ' << text;
                }
                out_ << '\n';
            } else if constexpr (std::is_same_v<A, CryptoReady>) {
                out_ << timeline_prefix(t, "crypto-ready") << to_string(Action{a}).substr(13)
                     << '\n';
            } else {
                static_assert(std::is_same_v<A, Report>);
                write_timeline_report(out_, t, a, machine.report());
            }
        },
        action);
}

}  // namespace eyeballs
