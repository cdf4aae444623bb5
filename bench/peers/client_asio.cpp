// SPDX-License-Identifier: BSL-1.0
// eyeballs-bench --adapter asio: N eyeballs::asio::async_connect operations on
// one io_context, run by this thread alone (io_context(1)), started by one
// handler on it (as a program that runs everything on its io_context starts
// its work; a race started so begins at once, without a post).
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <variant>

#include "client.hpp"
#include "eyeballs/asio.hpp"

namespace eyeballs::bench {
namespace {

class AsioClient final : public Client {
public:
    void run(const RunSpec& spec, std::vector<RaceResult>& results) override {
        std::array<std::uint8_t, 16> v6{};
        v6[15] = 1;
        const std::vector<Endpoint> to = {Endpoint::v6(v6, spec.port),
                                          Endpoint::v4({127, 0, 0, 1}, spec.port)};
        winners_.reserve(spec.races);
        ::asio::post(io_, [this, &spec, &results, &to] { start(spec, results, to); });
        io_.restart();
        io_.run();
    }
    void start(const RunSpec& spec, std::vector<RaceResult>& results, const std::vector<Endpoint>& to) {
        eyeballs::asio::connect_options options;
        options.config.attempt_delay = spec.attempt_delay;
        for (std::size_t i = 0; i < spec.races; ++i) {
            RaceResult* r = &results[i];
            // The race's start: the `now` of its first action.
            options.on_action = [r](TimePoint now, const Action& a, const RaceMachine&) {
                if (const auto* o = std::get_if<OpenSocket>(&a); o && o->attempt.number() == 1) {
                    r->start = now;
                }
            };
            eyeballs::asio::async_connect(
                io_.get_executor(), to, options,
                [this, r](std::error_code ec, ::asio::ip::tcp::socket socket) {
                    r->end = Clock::now();
                    if (!ec) {
                        r->connected = true;
                        winners_.push_back(std::move(socket));
                    }
                });
        }
    }
    std::vector<int> winner_fds() const override {
        std::vector<int> fds;
        for (auto& s : winners_) fds.push_back(const_cast<::asio::ip::tcp::socket&>(s).native_handle());
        return fds;
    }
    void close_winners() override { winners_.clear(); }
    std::string label(std::size_t) const override { return "eyeballs-asio"; }

private:
    ::asio::io_context io_{1};
    std::vector<::asio::ip::tcp::socket> winners_;
};

}  // namespace

std::unique_ptr<Client> make_asio_client() { return std::make_unique<AsioClient>(); }

}  // namespace eyeballs::bench
