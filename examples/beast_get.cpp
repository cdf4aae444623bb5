// SPDX-License-Identifier: BSL-1.0
// beast_get — HTTP/1.1 GETs with Boost.Beast over connections raced the
// Happy Eyeballs way by eyeballs::boost_asio::async_connect (C++17).
//
//   beast_get HOST PORT [TARGET...]              resolve HOST (AAAA and A), race
//   beast_get ADDR,ADDR[,...] PORT [TARGET...]   race these addresses, no DNS
//
// Each TARGET (default "/") is fetched in turn over a race of its own.
// Prints each race as it happens on stderr; on stdout the winner, then the
// response's status line and body:
//
//   $ beast_get ::1,127.0.0.1 8080 /      # [::1]:8080 blackholed
//   connected to 127.0.0.1:8080 (IPv4) after 251.2 ms, attempt 2 of 2
//   HTTP/1.1 200 OK
//   ...
//
// The raced socket is an ordinary boost::asio::ip::tcp::socket: it becomes a
// boost::beast::tcp_stream, and Beast does the rest.
//
// Alt-Svc (RFC 7838; eyeballs/beast.hpp): with a HOST, every response's
// Alt-Svc fields go into an AltSvcCache for the origin http://HOST:PORT, and
// the next race to it races the alternatives still fresh before the origin's
// own addresses (Config::alt_svc, which needs Config::https: the race then
// asks for HTTPS records too). This client speaks HTTP/1.1 over TCP, so only
// `http/1.1` alternatives are raced (Config::tcp_alpn):
//
//   $ beast_get localhost 8080 /a /b      # 8080 answers
//                                         # Alt-Svc: http%2F1.1=":8081"
//   connected to 127.0.0.1:8080 (IPv4) after 0.4 ms, attempt 1 of 1
//   ...
//   connected to 127.0.0.1:8081 (IPv4) after 0.6 ms, attempt 1 of 1, alt-svc
//   ...
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "eyeballs/alt_svc_cache.hpp"
#include "eyeballs/beast.hpp"
#include "eyeballs/boost_asio.hpp"
#include "eyeballs/trace.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// "2001:db8::1,192.0.2.1" → endpoints; empty when TEXT is not such a list.
std::vector<eyeballs::Endpoint> address_list(std::string_view text, std::uint16_t port) {
    std::vector<eyeballs::Endpoint> out;
    if (text.find(',') == std::string_view::npos) return out;
    while (!text.empty()) {
        const auto comma = text.find(',');
        auto ep = eyeballs::Endpoint::parse(text.substr(0, comma), port);
        if (!ep) return {};
        out.push_back(*ep);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

/// Fetches the targets one after another, each over a race of its own.
class Client {
public:
    Client(net::io_context& io, std::string host, std::uint16_t port,
           std::vector<eyeballs::Endpoint> addresses, std::vector<std::string> targets)
        : io_(io),
          host_(std::move(host)),
          port_(port),
          addresses_(std::move(addresses)),
          targets_(std::move(targets)),
          origin_{"http", host_, port_},
          timeline_(std::cerr, eyeballs::TraceWriter::Format::timeline,
                    std::chrono::steady_clock::now()) {
        // The request's Host: the host as given (an address list: its first).
        host_header_ = host_;
        if (!addresses_.empty()) {
            host_header_ = addresses_.front().to_string();  // "[::1]:P", "127.0.0.1:P"
        } else if (port_ != 80) {
            host_header_ += ":" + std::to_string(port_);
        }
    }

    void start() { next(); }
    int status() const { return status_; }

private:
    void next() {
        if (index_ == targets_.size()) return;
        options_ = eyeballs::boost_asio::connect_options{};
        options_.config.overall_timeout = std::chrono::seconds(30);
        options_.report = std::make_shared<eyeballs::RaceReport>();
        options_.on_action = [this](eyeballs::TimePoint now, const eyeballs::Action& action,
                                    const eyeballs::RaceMachine& machine) {
            timeline_.write(now, action, machine);
        };
        auto on_connect = [this](boost::system::error_code ec, tcp::socket socket) {
            connected(ec, std::move(socket));
        };
        if (!addresses_.empty()) {
            eyeballs::boost_asio::async_connect(io_.get_executor(), addresses_, options_,
                                                on_connect);
            return;
        }
        // What the origin advertised before, still fresh, races first. Looked
        // up here rather than by connect_options::alt_svc_cache: that option
        // is for races with config.https to the origin https://HOST:PORT,
        // and this client's origin is http://HOST:PORT, raced with https on
        // only when it has alternatives.
        options_.config.alt_svc = alt_svc_.lookup(origin_, std::chrono::steady_clock::now());
        if (!options_.config.alt_svc.empty()) {
            options_.config.https = true;                // alternatives are services
            options_.config.tcp_alpn = {"http/1.1"};     // what this client speaks
        }
        eyeballs::boost_asio::async_connect(io_.get_executor(), host_, port_, options_,
                                            on_connect);
    }

    void connected(const boost::system::error_code& ec, tcp::socket socket) {
        const eyeballs::RaceReport& report = *options_.report;
        if (ec) {
            std::cerr << "failed to connect: " << ec.message() << " — " << report.message << '\n';
            return;  // the remaining targets are not fetched; status stays 1
        }
        const std::chrono::duration<double, std::milli> took = report.finished - report.started;
        std::cout << "connected to " << socket.remote_endpoint() << " ("
                  << (socket.remote_endpoint().address().is_v6() ? "IPv6" : "IPv4") << ") after "
                  << took.count() << " ms, attempt " << report.winner.number() << " of "
                  << report.attempts.size()
                  << (report.source == eyeballs::ServiceSource::alt_svc ? ", alt-svc" : "")
                  << std::endl;
        // The winner, connected and non-blocking, is all a tcp_stream needs.
        stream_.emplace(std::move(socket));
        stream_->expires_after(std::chrono::seconds(30));
        request_ = {http::verb::get, targets_[index_], 11};
        request_.set(http::field::host, host_header_);
        request_.set(http::field::user_agent, "eyeballs beast_get");
        http::async_write(*stream_, request_, [this](beast::error_code e, std::size_t) {
            if (e) return fail("send the request", e);
            response_ = {};
            http::async_read(*stream_, buffer_, response_,
                             [this](beast::error_code e2, std::size_t) { read(e2); });
        });
    }

    void read(const beast::error_code& ec) {
        if (ec) return fail("read the response", ec);
        std::cout << "HTTP/" << response_.version() / 10 << '.' << response_.version() % 10 << ' '
                  << response_.result_int() << ' ' << response_.reason() << '\n'
                  << response_.body() << std::flush;
        beast::error_code ignored;
        stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.reset();
        buffer_.clear();
        if (addresses_.empty()) {
            // The origin's word on its alternatives, for the next race.
            const auto update = eyeballs::boost_asio::store_alt_svc(alt_svc_, origin_, response_);
            if (!update) std::cerr << "Alt-Svc ignored: " << update.error << '\n';
        }
        if (response_.result() != http::status::ok) return;  // status stays 1
        if (++index_ == targets_.size()) {
            status_ = 0;
            return;
        }
        next();
    }

    void fail(const char* what, const beast::error_code& ec) {
        std::cerr << "failed to " << what << ": " << ec.message() << '\n';
    }

    net::io_context& io_;
    std::string host_;
    std::uint16_t port_;
    std::vector<eyeballs::Endpoint> addresses_;
    std::vector<std::string> targets_;
    eyeballs::AltSvcOrigin origin_;
    eyeballs::TraceWriter timeline_;
    std::string host_header_;
    eyeballs::AltSvcCache alt_svc_;
    std::size_t index_ = 0;
    int status_ = 1;
    eyeballs::boost_asio::connect_options options_;
    std::optional<beast::tcp_stream> stream_;
    beast::flat_buffer buffer_;
    http::request<http::empty_body> request_;
    http::response<http::string_body> response_;
};

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3) {
        std::cerr << "usage: " << argv[0] << " HOST PORT [TARGET...]\n       " << argv[0]
                  << " ADDR,ADDR[,...] PORT [TARGET...]\n";
        return 2;
    }
    const long port_number = std::strtol(argv[2], nullptr, 10);
    if (port_number <= 0 || port_number > 65535) {
        std::cerr << argv[0] << ": bad port '" << argv[2] << "'\n";
        return 2;
    }
    const auto port = static_cast<std::uint16_t>(port_number);
    std::vector<std::string> targets(argv + 3, argv + argc);
    if (targets.empty()) targets.emplace_back("/");

    net::io_context io;
    Client client(io, argv[1], port, address_list(argv[1], port), std::move(targets));
    client.start();
    io.run();
    return client.status();
}
