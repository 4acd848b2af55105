// Rolling upgrades: one process (or a small batch) at a time; a failure
// leaves that process on the old version and the upgrade partial.
#include "support.hpp"

#include <algorithm>

using namespace otpp;
using namespace otpp::test;
using code::UpgradeMode;
using code::UpgradeOptions;
using Outcome = code::UpgradeReport::Outcome;

namespace {
UpgradeOptions rolling(std::size_t batch = 1) {
    UpgradeOptions o;
    o.mode = UpgradeMode::rolling;
    o.batch = batch;
    return o;
}
}  // namespace

TEST_CASE_METHOD(CodeFixture, "rolling upgrade migrates every server, a batch at a time", "[code][upgrade][rolling]") {
    modules.load(counter_file::v1);
    std::vector<Pid> servers = start_counters(30, 0);
    auto report = code::upgrade(modules, counter_file::v2, rolling(4));
    INFO(text(report));
    REQUIRE(report.outcome == Outcome::upgraded);
    CHECK(report.mode == UpgradeMode::rolling);
    CHECK(report.migrated.size() == 30);
    for (int i = 0; i < 30; ++i) {
        CHECK(version_of(servers[i]) == "2.0.0");
        CHECK(gen_server::call(servers[i], Atom("get")) == Term(i));
    }
    REQUIRE(report.purged_after.has_value());
    CHECK(report.purged_after->unmapped);
}

TEST_CASE_METHOD(CodeFixture, "rolling: a failing code_change leaves that server on the old version, partial",
                 "[code][upgrade][rolling]") {
    modules.load(counter_file::v1);
    std::vector<Pid> servers = start_counters(20, 0);
    auto report = code::upgrade(modules, counter_file::v2_throws, rolling());
    INFO(text(report));
    REQUIRE(report.outcome == Outcome::partial);
    REQUIRE(report.failed.size() == 1);
    CHECK(report.failed[0].pid == servers[13]);
    CHECK(report.failed[0].phase == "code_change");
    CHECK(report.migrated.size() == 19);
    CHECK(text(report).find("failed " + Term(servers[13]).to_string()) != std::string::npos);
    for (int i = 0; i < 20; ++i) {
        CHECK(version_of(servers[i]) == (i == 13 ? "1.0.0" : "2.0.0-throws"));
        CHECK(gen_server::call(servers[i], Atom("get")) == Term(i));
    }
    // The old version is kept for it; purging it kills it, as Erlang would.
    CHECK_FALSE(report.purged_after.has_value());
    REQUIRE(modules.old(counter));
    CHECK(modules.check_process_code(servers[13], counter));
    auto purge = modules.purge(counter);
    CHECK(purge.killed == std::vector<Pid>{servers[13]});
    CHECK(purge.unmapped);
    CHECK(wait_dead(servers[13]));
}

TEST_CASE_METHOD(CodeFixture, "rolling: a server busy in a long callback stays on the old version and is reported",
                 "[code][upgrade][rolling]") {
    modules.load(counter_file::v1);
    std::vector<Pid> servers = start_counters(4, 0);
    Pid busy = servers[1];
    keep_busy(busy, 1500ms);
    UpgradeOptions options = rolling();
    options.suspend_timeout = 200ms;
    auto report = code::upgrade(modules, counter_file::v2, options);
    INFO(text(report));
    REQUIRE(report.outcome == Outcome::partial);
    REQUIRE(report.failed.size() == 1);
    CHECK(report.failed[0].pid == busy);
    CHECK(report.failed[0].phase == "suspend");
    CHECK(report.migrated.size() == 3);
    wait_until_idle(busy);
    // Its late request is ignored: the upgrade is over.
    CHECK(gen_server::call(busy, Atom("get")) == Term(1));
    CHECK(version_of(busy) == "1.0.0");
    CHECK(version_of(servers[0]) == "2.0.0");
}
