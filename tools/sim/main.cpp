// SPDX-License-Identifier: BSL-1.0
// eyeballs-sim [--json] [-v] FILE — plays a scenario (docs/behaviour.md §4) against the
// RaceMachine in virtual time and prints its trace: a timeline, or the JSON
// trace of docs/behaviour.md §5 with --json (-v then adds the verbose timeline on stderr).
//
// Exit status: 0 the race finished (whatever its outcome); 2 bad usage or a bad
// scenario ("FILE:LINE: message" on stderr); 3 the race can never finish (the
// trace so far is printed, then a message on stderr); 4 the machine broke a rule
// the simulator checks (an action after the report, a timer that never stops).
//
// Input is bounded (issue 14): a scenario larger than max_scenario_bytes (1 MiB)
// is a whole-file error, exit 2 "FILE:0: ...". Reading stops one byte past the
// bound, so a device or FIFO that never ends (/dev/zero) is rejected, not read
// forever.
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <string_view>

#include "eyeballs/version.hpp"
#include "scenario.hpp"

namespace {

constexpr const char* usage_text =
    "usage: eyeballs-sim [--json] [-v] FILE\n"
    "       eyeballs-sim --version\n"
    "  Plays the scenario FILE (docs/behaviour.md §4) in virtual time and prints its trace.\n"
    "  --json     one JSON object a line (docs/behaviour.md §5) instead of a timeline\n"
    "  -v         show open and bind steps too (with --json: a timeline on stderr)\n"
    "  FILE       a scenario file (at most 1 MiB), or - for standard input\n"
    "  --version  print \"eyeballs-sim VERSION\" and exit\n"
    "exit status: 0 finished, 2 bad usage or bad scenario, 3 the race can never finish,\n"
    "  4 the machine broke a rule (an action after the report, a runaway timer)\n";

// A scenario is a few hundred lines; 1 MiB leaves room for generated ones.
constexpr std::size_t max_scenario_bytes = std::size_t{1} << 20;

// Reads at most max_scenario_bytes + 1 bytes of `in` into `text`: false when
// there was more than the bound (the rest is never read).
bool read_bounded(std::istream& in, std::string& text) {
    text.clear();
    char chunk[65536];
    while (text.size() <= max_scenario_bytes) {
        const std::size_t want = std::min(sizeof chunk, max_scenario_bytes + 1 - text.size());
        in.read(chunk, static_cast<std::streamsize>(want));
        const std::streamsize got = in.gcount();
        if (got <= 0) break;
        text.append(chunk, static_cast<std::size_t>(got));
    }
    return text.size() <= max_scenario_bytes;
}

int too_large(const std::string& file) {
    std::cerr << file << ":0: the scenario is larger than " << max_scenario_bytes
              << " bytes (1 MiB), the most eyeballs-sim reads\n";
    return 2;
}

int usage_error(const std::string& message) {
    std::cerr << "eyeballs-sim: " << message << '\n' << usage_text;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    bool json = false;
    bool verbose = false;
    std::string file;
    bool have_file = false;
    bool options_done = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (!options_done && arg == "--json") {
            json = true;
        } else if (!options_done && (arg == "-v" || arg == "--verbose")) {
            verbose = true;
        } else if (!options_done && (arg == "-h" || arg == "--help")) {
            std::cout << usage_text;
            return 0;
        } else if (!options_done && arg == "--version") {
            std::cout << "eyeballs-sim " EYEBALLS_VERSION_STRING "\n";
            return 0;
        } else if (!options_done && arg == "--") {
            options_done = true;
        } else if (!options_done && arg.size() > 1 && arg[0] == '-') {
            return usage_error("unknown option '" + std::string(arg) + "'");
        } else if (have_file) {
            return usage_error("only one FILE, please");
        } else {
            file = std::string(arg);
            have_file = true;
        }
    }
    if (!have_file) return usage_error("no scenario FILE given");

    std::string text;
    if (file == "-") {
        if (!read_bounded(std::cin, text)) return too_large(file);
        if (std::cin.bad()) {
            std::cerr << "eyeballs-sim: cannot read standard input\n";
            return 2;
        }
    } else {
        std::error_code ec;
        if (std::filesystem::is_directory(file, ec)) {
            std::cerr << "eyeballs-sim: cannot read " << file << ": it is a directory\n";
            return 2;
        }
        std::ifstream in(file, std::ios::binary);
        if (!in) {
            std::cerr << "eyeballs-sim: cannot read " << file << '\n';
            return 2;
        }
        if (!read_bounded(in, text)) return too_large(file);
        if (in.bad()) {
            std::cerr << "eyeballs-sim: cannot read " << file << '\n';
            return 2;
        }
    }

    const auto format =
        json ? eyeballs::TraceWriter::Format::json : eyeballs::TraceWriter::Format::timeline;
    const eyeballs::sim::SimOutput out = eyeballs::sim::simulate_text(text, file, format, verbose);
    std::cout << out.out << std::flush;
    std::cerr << out.err << std::flush;
    return out.exit_status;
}
