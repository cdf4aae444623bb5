// SPDX-License-Identifier: BSL-1.0
// Root only: zones (RFC 4007 §11) on a real link. The server host of a
// two-host topology (support/netns.hpp) listens on every address; we connect
// to its link-local address fe80::e6:2 through our end of the veth pair, named
// as the zone (`fe80::e6:2%<veth>`), which the poll adapter must pass to
// connect(2) as sin6_scope_id. Not root: skipped with a message. Root and the
// topology cannot be built: the test fails, naming the command that failed.
#include <unistd.h>

#include <sstream>

#include "eyeballs/trace.hpp"
#include "eyeballs/zone.hpp"
#include "netns.hpp"
#include "poll_common.hpp"

namespace eyeballs::test {
namespace {

class ZoneNetns : public FdLeakTest {
protected:
    void SetUp() override {
        FdLeakTest::SetUp();
        if (::geteuid() != 0) GTEST_SKIP() << "needs root (network namespaces and veth)";
        try {
            net_ = std::make_unique<TwoHostTopology>();
            listener_ = net_->listen_in_server(*Endpoint::parse("[::]:0", 0));
        } catch (const std::exception& e) {
            FAIL() << "running as root, but the topology cannot be built: " << e.what();
        }
        port_ = bound_endpoint(listener_.get()).port();
    }
    void TearDown() override {
        listener_.reset();
        net_.reset();
        FdLeakTest::TearDown();
    }
    poll::Options options() {
        poll::Options o;
        o.on_action = rec.observer();
        return o;
    }

    std::unique_ptr<TwoHostTopology> net_;
    Fd listener_;
    std::uint16_t port_ = 0;
    Recorder rec;
};

TEST_F(ZoneNetns, ConnectsToALinkLocalAddressThroughItsNamedZone) {
    const std::string& veth = net_->host_interface(Family::v6);
    const std::string text = "[fe80::e6:2%" + veth + "]:" + std::to_string(port_);
    std::string error;
    const std::optional<Endpoint> remote = Endpoint::parse(text, 0, &error, interface_index);
    ASSERT_TRUE(remote) << error;
    EXPECT_EQ(*remote, net_->server_link_local(port_));
    EXPECT_NE(remote->scope_id(), 0u);

    poll::Result r = poll::connect({*remote}, options());
    ASSERT_EQ(r.report.outcome, Outcome::connected) << r.report.message;
    EXPECT_EQ(r.report.remote, *remote);
    // The kernel reports the zone back: the socket is on that link.
    EXPECT_EQ(peer_of(r.fd), *remote);
    EXPECT_EQ(local_of(r.fd)->address_string(), "fe80::e6:1%" + std::to_string(remote->scope_id()));
    // The JSON trace prints the zone in the remote (RFC 4007 §11 form).
    std::ostringstream json;
    {
        TraceWriter w(json, TraceWriter::Format::json, rec.log.front().t);
        RaceMachine m(Config{});
        for (const auto& e : rec.log) {
            if (std::holds_alternative<Connect>(e.action)) w.write(e.t, e.action, m);
        }
    }
    EXPECT_NE(json.str().find("\"remote\":\"[fe80::e6:2%" + std::to_string(remote->scope_id()) +
                              "]:" + std::to_string(port_) + "\""),
              std::string::npos)
        << json.str();
    ::close(r.fd);
}

TEST_F(ZoneNetns, WithoutTheZoneTheKernelRefusesTheLinkLocalAddress) {
    // The same address with no zone: Linux cannot tell which link, EINVAL.
    const Endpoint bare = Endpoint::v6(net_->server_link_local(port_).bytes(), port_);
    poll::Result r = poll::connect({bare}, options());
    EXPECT_EQ(r.report.outcome, Outcome::failed);
    EXPECT_LT(r.fd, 0);
}

}  // namespace
}  // namespace eyeballs::test
