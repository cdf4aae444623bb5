// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench --adapter uring: N eyeballs::uring::connect races on one
// io_uring ring (eyeballs::uring::Loop), run with Loop::run() until every race
// has ended and each of its submissions completed (losers' closes included).
// Each handle is detached. The winners are plain fds, closed outside the
// measurement.
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "client.hpp"
#include "eyeballs/uring.hpp"

namespace eyeballs::bench {
namespace {

class UringClient final : public Client {
public:
    // 4096 submission slots: a burst of 9000 races submits in a few chunks.
    UringClient() : loop_(4096) {
        if (!loop_.status()) {
            // 77: the smoke test's ctest SKIP_RETURN_CODE (io_uring refused here).
            std::fprintf(stderr, "eyeballs-bench: %s\n", loop_.status().message().c_str());
            std::exit(77);
        }
    }
    ~UringClient() override { close_winners(); }

    void run(const RunSpec& spec, std::vector<RaceResult>& results) override {
        std::array<std::uint8_t, 16> v6{};
        v6[15] = 1;
        const std::vector<Endpoint> to = {Endpoint::v6(v6, spec.port),
                                          Endpoint::v4({127, 0, 0, 1}, spec.port)};
        winners_.reserve(spec.races);
        eyeballs::uring::Options options;
        options.config.attempt_delay = spec.attempt_delay;
        for (std::size_t i = 0; i < spec.races; ++i) {
            RaceResult* r = &results[i];
            auto handle = eyeballs::uring::connect(
                loop_, to, options, [this, r](int fd, const RaceReport& report) {
                    r->end = Clock::now();
                    r->start = report.started;
                    if (fd >= 0) {
                        r->connected = true;
                        winners_.push_back(fd);
                    }
                });
            if (!handle.status()) {
                std::fprintf(stderr, "eyeballs-bench: %s\n", handle.status().message().c_str());
                std::exit(1);
            }
            handle.detach();
        }
        const Status s = loop_.run();
        if (!s) {
            std::fprintf(stderr, "eyeballs-bench: %s\n", s.message().c_str());
            std::exit(1);
        }
    }
    std::vector<int> winner_fds() const override { return winners_; }
    void close_winners() override {
        for (int fd : winners_) ::close(fd);
        winners_.clear();
    }
    std::string label(std::size_t) const override { return "eyeballs-uring"; }

private:
    eyeballs::uring::Loop loop_;
    std::vector<int> winners_;
};

}  // namespace

std::unique_ptr<Client> make_uring_client() { return std::make_unique<UringClient>(); }

}  // namespace eyeballs::bench
