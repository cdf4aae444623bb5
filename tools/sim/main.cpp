// SPDX-License-Identifier: BSL-1.0
// eyeballs-sim [--json] [-v] FILE — plays a scenario (SPEC §4) against the
// RaceMachine in virtual time and prints its trace: a timeline, or the JSON
// trace of SPEC §5 with --json (-v then adds the verbose timeline on stderr).
//
// Exit status: 0 the race finished (whatever its outcome); 2 bad usage or a bad
// scenario ("FILE:LINE: message" on stderr); 3 the race can never finish (the
// trace so far is printed, then a message on stderr); 4 the machine broke a rule
// the simulator checks (an action after the report, a timer that never stops).
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>

#include "eyeballs/version.hpp"
#include "scenario.hpp"

namespace {

constexpr const char* usage_text =
    "usage: eyeballs-sim [--json] [-v] FILE\n"
    "       eyeballs-sim --version\n"
    "  Plays the scenario FILE (SPEC §4) in virtual time and prints its trace.\n"
    "  --json     one JSON object a line (SPEC §5) instead of a timeline\n"
    "  -v         show open and bind steps too (with --json: a timeline on stderr)\n"
    "  FILE       a scenario file, or - for standard input\n"
    "  --version  print \"eyeballs-sim VERSION\" and exit\n"
    "exit status: 0 finished, 2 bad usage or bad scenario, 3 the race can never finish,\n"
    "  4 the machine broke a rule (an action after the report, a runaway timer)\n";

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
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
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
        std::ostringstream buf;
        buf << in.rdbuf();
        if (in.bad()) {
            std::cerr << "eyeballs-sim: cannot read " << file << '\n';
            return 2;
        }
        text = buf.str();
    }

    const auto format =
        json ? eyeballs::TraceWriter::Format::json : eyeballs::TraceWriter::Format::timeline;
    const eyeballs::sim::SimOutput out = eyeballs::sim::simulate_text(text, file, format, verbose);
    std::cout << out.out << std::flush;
    std::cerr << out.err << std::flush;
    return out.exit_status;
}
