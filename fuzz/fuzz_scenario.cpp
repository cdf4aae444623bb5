// SPDX-License-Identifier: BSL-1.0
// fuzz_scenario: eyeballs-sim's scenario parser and driver (docs/behaviour.md §4) on any
// text. It never crashes; a bad file gives exactly "FILE:LINE: message" with
// LINE a line of the file (0 for the file as a whole); a good file runs to
// exit 0 (one report, the last line) or exit 3 (no report), never to a
// refused start or a runaway timer; the same text gives the same output twice.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "scenario.hpp"

namespace {

#define CHECK(cond)                    \
    do {                               \
        if (!(cond)) __builtin_trap(); \
    } while (false)

std::size_t count_lines(std::string_view text) {
    std::size_t lines = 0;
    std::size_t start = 0;
    while (start < text.size()) {
        const std::size_t end = text.find('\n', start);
        ++lines;
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    return lines;
}

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

std::size_t count(std::string_view text, std::string_view what) {
    std::size_t n = 0;
    for (std::size_t at = text.find(what); at != std::string_view::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace eyeballs;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const std::string file = "fuzz.scn";
    const sim::ParseResult parsed = sim::parse_scenario(text, file);
    if (!parsed.ok()) {
        const sim::ParseError& e = parsed.error;
        CHECK(e.file == file);
        CHECK(e.line >= 0 && static_cast<std::size_t>(e.line) <= count_lines(text));
        CHECK(!e.message.empty());
        const std::string out = e.text();
        const std::string prefix = file + ":";
        CHECK(out.compare(0, prefix.size(), prefix) == 0);
        const std::size_t colon = out.find(": ", prefix.size());
        CHECK(colon != std::string::npos);
        CHECK(all_digits(std::string_view(out).substr(prefix.size(), colon - prefix.size())));
        CHECK(std::stoi(out.substr(prefix.size(), colon - prefix.size())) == e.line);
        return 0;
    }
    const sim::Scenario& sc = *parsed.scenario;
    CHECK(sc.dns_mode || !sc.addresses.empty());
    const sim::SimOutput run = sim::simulate(sc, TraceWriter::Format::json);
    if (run.run.end == sim::RunResult::End::start_failed) {
        // A file that parses but cannot race (e.g. NAT64 leaves no address):
        // the file as a whole is wrong, "FILE:0: message", exit 2, no trace.
        CHECK(run.exit_status == 2);
        CHECK(run.out.empty());
        CHECK(run.err.rfind(file + ":0: ", 0) == 0);
        return 0;
    }
    CHECK(run.exit_status == 0 || run.exit_status == 3);
    const std::size_t reports = count(run.out, "\"action\":\"report\"");
    if (run.exit_status == 0) {
        CHECK(reports == 1);
        const std::size_t last_line = run.out.rfind('\n', run.out.size() - 2);
        const std::string_view last = std::string_view(run.out).substr(last_line == std::string::npos ? 0 : last_line + 1);
        CHECK(last.find("\"action\":\"report\"") != std::string_view::npos);
    } else {
        CHECK(reports == 0);
        CHECK(!run.err.empty());
    }
    // Deterministic: the same scenario gives the same trace again.
    const sim::SimOutput again = sim::simulate_text(text, file, TraceWriter::Format::json);
    CHECK(again.exit_status == run.exit_status && again.out == run.out);
    return 0;
}
