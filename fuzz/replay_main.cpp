// SPDX-License-Identifier: BSL-1.0
// A `main` for fuzz targets built without libFuzzer (g++, or clang without
// EYEBALLS_FUZZ_ENGINE=libfuzzer): runs LLVMFuzzerTestOneInput once on every
// file named on the command line, and on every file in every directory named.
// ctest runs each target over its seed corpus (fuzz/corpus/<target>/) this way.
//
//   fuzz_machine fuzz/corpus/fuzz_machine          # every input in the corpus
//   fuzz_machine crash-0123abcd                    # one input
//
// Exits 0 when every input ran; 1 when an argument cannot be read or names no
// input at all (an empty corpus is a mistake, not a pass). A broken invariant
// traps inside the target and kills the process.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        return false;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A copy of exactly the input's size, so that ASan sees any read past its end.
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE|DIR ...\n", argv[0]);
        return 1;
    }
    std::size_t ran = 0;
    for (int i = 1; i < argc; ++i) {
        const std::filesystem::path arg(argv[i]);
        std::error_code ec;
        if (std::filesystem::is_directory(arg, ec)) {
            std::vector<std::filesystem::path> files;
            for (const auto& entry : std::filesystem::directory_iterator(arg, ec)) {
                if (entry.is_regular_file()) files.push_back(entry.path());
            }
            if (ec) {
                std::fprintf(stderr, "replay: cannot list %s: %s\n", arg.c_str(), ec.message().c_str());
                return 1;
            }
            std::sort(files.begin(), files.end());  // the same order on every run
            for (const auto& f : files) {
                if (!run_file(f)) return 1;
                ++ran;
            }
        } else {
            if (!run_file(arg)) return 1;
            ++ran;
        }
    }
    if (ran == 0) {
        std::fprintf(stderr, "replay: no input found in the arguments\n");
        return 1;
    }
    std::printf("replay: %zu input(s) ran without a crash\n", ran);
    return 0;
}
