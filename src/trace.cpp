// SPDX-License-Identifier: BSL-1.0
// eyeballs — the trace printer (SPEC §5): one JSON object a line, or a human
// timeline. Both tools and users print traces through this file, so the JSON
// shape lives in exactly one place.
//
// JSON line shapes (keys in this order; readers ignore unknown keys):
//   {"t":T,"action":"resolve","family":"AAAA"|"A"|"HTTPS"[,"name":"svc.example.net."]
//    [,"prefix":"_8443._https"]}   (prefix: the origin's HTTPS question, RFC 9460 §9.1)
//   {"t":T,"action":"connect","attempt":N,"remote":"R"[,"local":"L"]
//    [,"protocol":"tcp"|"quic","alpn":["h2",...][,"ech":true]]}   (HTTPS-driven endpoints)
//   {"t":T,"action":"close","attempt":N}
//   {"t":T,"action":"report","outcome":"connected","attempt":N,"remote":"R"[,"local":"L"]
//    [,"protocol":P,"alpn":[...]]}
//   {"t":T,"action":"report","outcome":"cancelled"}
//   {"t":T,"action":"report","outcome":"failed","errno":E|null,"message":"M",
//    "errors":[{"attempt":N|null,"remote":"R"|null,"stage":"S"[,"family":"AAAA"],
//               "errno":E|null,"message":"M"}, ...]
//    [,"reason":"overall-timeout"]}
// `t` is milliseconds since the origin, exact for whole nanoseconds.
#include "eyeballs/trace.hpp"

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

// "protocol", "alpn" (and "ech") for an endpoint an HTTPS record produced.
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
    append_errno(out, e.code);
    append_key(out, "message");
    append_json_string(out, e.message());
    out += '}';
}

void append_report(std::string& out, const Report& r, const RaceReport* report) {
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
            append_service(out, r.protocol, r.service);
            break;
        }
        case Outcome::failed: {
            append_errno(out, report != nullptr ? report->code : 0);
            append_key(out, "message");
            append_json_string(out, report != nullptr ? report->message : std::string());
            append_key(out, "errors");
            out += '[';
            if (report != nullptr) {
                bool first = true;
                for (const Error& e : report->errors) {
                    if (!first) out += ',';
                    first = false;
                    append_error(out, e);
                }
            }
            out += ']';
            if (report != nullptr && report->overall_timeout) {
                append_key(out, "reason");
                append_json_string(out, "overall-timeout");
            }
            break;
        }
        case Outcome::cancelled:
            break;
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

void write_timeline_report(std::ostream& out, std::chrono::nanoseconds t, const Report& r,
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
            for (const Error& e : report.errors) {
                std::string err = continuation_prefix("error");
                if (e.stage != Stage::resolve && e.attempt != 0) {
                    err += attempt_text(AttemptId(e.attempt)) + " ";
                }
                err += e.message();
                out << err << '\n';
            }
            break;
        }
    }
}

}  // namespace

std::string format_trace_ms(std::chrono::nanoseconds since_origin) {
    return ms_text(since_origin, 0);
}

std::string trace_json(const std::string& t_ms, const Action& action, const RaceReport* report) {
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
                } else {
                    static_assert(std::is_same_v<A, Report>);
                    out += ",\"action\":\"report\"";
                    append_report(out, a, report);
                }
                out += '}';
            }
        },
        action);
    return out;
}

TraceWriter::TraceWriter(std::ostream& out, Format format, TimePoint origin, bool verbose)
    : out_(out), format_(format), origin_(origin), verbose_(verbose) {}

void TraceWriter::write(TimePoint now, const Action& action, const RaceMachine& machine) {
    const auto t = std::chrono::duration_cast<std::chrono::nanoseconds>(now - origin_);
    if (format_ == Format::json) {
        std::string line;
        if (std::holds_alternative<Report>(action)) {
            const RaceReport report = machine.report();
            line = trace_json(format_trace_ms(t), action, &report);
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
                out_ << timeline_prefix(t, "close") << attempt_text(a.attempt) << '\n';
            } else {
                static_assert(std::is_same_v<A, Report>);
                write_timeline_report(out_, t, a, machine.report());
            }
        },
        action);
}

}  // namespace eyeballs
