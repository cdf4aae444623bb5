// SPDX-License-Identifier: BSL-1.0
// eyeballs-connect --repeat N: the per-race samples and the summary.
#include "repeat.hpp"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <map>

#include "eyeballs/config.hpp"
#include "eyeballs/error.hpp"

namespace eyeballs::tool {
namespace {

const char* family_key(Family f) { return f == Family::v6 ? "ipv6" : "ipv4"; }

std::string ms(std::optional<Duration> d) { return d ? format_ms(*d) : std::string("null"); }

void append_json_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char ch : s) {
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

struct Stats {
    std::optional<Duration> p50, p90, max;
    std::size_t n = 0;
};

Stats stats(const std::vector<RaceSample>& races, std::optional<Family> only) {
    std::vector<Duration> v;
    for (const RaceSample& r : races) {
        if (r.connect && (!only || r.winner == only)) v.push_back(*r.connect);
    }
    Stats s;
    s.n = v.size();
    s.p50 = percentile(v, 50);
    s.p90 = percentile(v, 90);
    s.max = percentile(v, 100);
    return s;
}

std::string stats_json(const Stats& s) {
    return "{\"p50\":" + ms(s.p50) + ",\"p90\":" + ms(s.p90) + ",\"max\":" + ms(s.max) + "}";
}

// Milliseconds with three decimals, for the text ("12.346").
std::string ms3(Duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f",
                  std::chrono::duration<double, std::milli>(d).count());
    return buf;
}

std::string stats_text(const Stats& s) {
    if (s.n == 0) return "-";
    return "p50 " + ms3(*s.p50) + " ms, p90 " + ms3(*s.p90) + " ms, max " + ms3(*s.max) +
           " ms (" + std::to_string(s.n) + (s.n == 1 ? " race)" : " races)");
}

// "6", "4" or "-" a race, for the text's per-race rows.
std::string row(const std::vector<RaceSample>& races, std::optional<Family> RaceSample::*field) {
    std::string out;
    for (const RaceSample& r : races) {
        if (!out.empty()) out += ' ';
        const std::optional<Family>& f = r.*field;
        out += !f ? "-" : (*f == Family::v6 ? "6" : "4");
    }
    return out;
}

std::string list_json(const std::vector<RaceSample>& races,
                      std::optional<Family> RaceSample::*field) {
    std::string out = "[";
    for (std::size_t i = 0; i < races.size(); ++i) {
        if (i > 0) out += ',';
        const std::optional<Family>& f = races[i].*field;
        out += f ? std::string("\"") + family_key(*f) + "\"" : std::string("null");
    }
    return out + "]";
}

}  // namespace

RaceSample sample_of(const RaceReport& report) {
    RaceSample s;
    s.outcome = report.outcome;
    if (!report.attempts.empty()) s.first_attempt = report.attempts.front().remote.family();
    if (report.outcome == Outcome::connected) {
        if (report.remote) s.winner = report.remote->family();
        // Microseconds, as the trace measures (docs/behaviour.md §6).
        s.connect = std::chrono::duration_cast<std::chrono::microseconds>(report.finished -
                                                                          report.started);
    } else if (report.outcome == Outcome::failed) {
        const char* name = report.code != 0 ? errno_name(report.code) : nullptr;
        s.failure = name != nullptr ? std::string(name) : report.message;
    } else {
        s.failure = "cancelled";
    }
    return s;
}

std::optional<Duration> percentile(std::vector<Duration> values, int p) {
    if (values.empty()) return std::nullopt;
    std::sort(values.begin(), values.end());
    // Nearest rank: the smallest value with at least p% of the values <= it.
    std::size_t rank = (values.size() * static_cast<std::size_t>(p) + 99) / 100;
    if (rank == 0) rank = 1;
    return values[rank - 1];
}

void print_summary_text(std::ostream& out, const std::vector<RaceSample>& races, bool history,
                        const std::vector<HistoryNote>& notes) {
    std::size_t connected = 0, failed = 0, cancelled = 0, wins6 = 0, wins4 = 0;
    std::map<std::string, std::size_t> failures;
    for (const RaceSample& r : races) {
        if (r.outcome == Outcome::connected) {
            ++connected;
            if (r.winner == Family::v6) ++wins6;
            if (r.winner == Family::v4) ++wins4;
        } else {
            ++(r.outcome == Outcome::failed ? failed : cancelled);
            ++failures[r.failure];
        }
    }
    out << "--- summary: " << races.size() << " races, " << connected << " connected, " << failed
        << " failed";
    if (cancelled > 0) out << ", " << cancelled << " cancelled";
    out << '\n';
    out << "wins:           ipv6 " << wins6 << ", ipv4 " << wins4 << '\n';
    out << "connect ipv6:   " << stats_text(stats(races, Family::v6)) << '\n';
    out << "connect ipv4:   " << stats_text(stats(races, Family::v4)) << '\n';
    for (const auto& [what, n] : failures) out << "failure:        " << n << " x " << what << '\n';
    out << "first attempt:  " << row(races, &RaceSample::first_attempt)
        << (history ? "   (RTT history carried from race to race)" : "") << '\n';
    out << "winner:         " << row(races, &RaceSample::winner) << '\n';
    for (const HistoryNote& n : notes) {
        out << "history:        " << n.address.address_string() << " srtt "
            << (n.srtt ? ms3(*n.srtt) + " ms" : std::string("-")) << ", " << n.successes
            << " ok, " << n.failures << " failed\n";
    }
}

std::string summary_json(const std::vector<RaceSample>& races, bool history,
                         const std::vector<HistoryNote>& notes) {
    std::size_t connected = 0, failed = 0, cancelled = 0, wins6 = 0, wins4 = 0;
    std::map<std::string, std::size_t> failures;
    for (const RaceSample& r : races) {
        if (r.outcome == Outcome::connected) {
            ++connected;
            if (r.winner == Family::v6) ++wins6;
            if (r.winner == Family::v4) ++wins4;
        } else {
            ++(r.outcome == Outcome::failed ? failed : cancelled);
            ++failures[r.failure];
        }
    }
    std::string out = "{\"summary\":{\"races\":" + std::to_string(races.size()) +
                      ",\"connected\":" + std::to_string(connected) +
                      ",\"failed\":" + std::to_string(failed) +
                      ",\"cancelled\":" + std::to_string(cancelled) +
                      ",\"wins\":{\"ipv6\":" + std::to_string(wins6) +
                      ",\"ipv4\":" + std::to_string(wins4) + "}";
    out += ",\"connect_ms\":" + stats_json(stats(races, std::nullopt));
    const Stats s6 = stats(races, Family::v6);
    const Stats s4 = stats(races, Family::v4);
    out += ",\"connect_ms_by_family\":{\"ipv6\":" + (s6.n > 0 ? stats_json(s6) : "null") +
           ",\"ipv4\":" + (s4.n > 0 ? stats_json(s4) : "null") + "}";
    out += ",\"failures\":{";
    bool first = true;
    for (const auto& [what, n] : failures) {
        if (!first) out += ',';
        first = false;
        append_json_string(out, what);
        out += ':' + std::to_string(n);
    }
    out += "}";
    out += ",\"history\":";
    out += history ? "true" : "false";
    out += ",\"winners\":" + list_json(races, &RaceSample::winner);
    out += ",\"first_attempts\":" + list_json(races, &RaceSample::first_attempt);
    if (history) {
        out += ",\"rtt_history\":[";
        for (std::size_t i = 0; i < notes.size(); ++i) {
            if (i > 0) out += ',';
            out += "{\"address\":";
            append_json_string(out, notes[i].address.address_string());
            out += ",\"srtt_ms\":" + ms(notes[i].srtt) +
                   ",\"successes\":" + std::to_string(notes[i].successes) +
                   ",\"failures\":" + std::to_string(notes[i].failures) + "}";
        }
        out += "]";
    }
    out += "}}";
    return out;
}

}  // namespace eyeballs::tool
