// Every bad input to an upgrade gets a clear error and changes nothing: the
// running version stays current and keeps serving.
#include "support.hpp"

#include <otpp/error.hpp>

using namespace otpp;
using namespace otpp::test;
using code::UpgradeOptions;
using Outcome = code::UpgradeReport::Outcome;

namespace {

void expect_refused(CodeFixture& f, const char* file, const std::string& says, const UpgradeOptions& options = {}) {
    auto report = code::upgrade(f.modules, file, options);
    INFO(text(report));
    CHECK(report.outcome == Outcome::refused);
    CHECK(report.error.find(says) != std::string::npos);
    CHECK(report.migrated.empty());
}

}  // namespace

TEST_CASE_METHOD(CodeFixture, "broken files are refused with the reason, the old version keeps serving",
                 "[code][upgrade][refusals]") {
    modules.load(counter_file::v1);
    std::vector<Pid> servers = start_counters(3, 5);

    SECTION("not an ELF file") { expect_refused(*this, counter_file::garbage, counter_file::garbage); }
    SECTION("an empty file") { expect_refused(*this, counter_file::empty, "empty"); }
    SECTION("a wrong SDK ABI") { expect_refused(*this, counter_file::wrong_abi, "SDK ABI version"); }
    SECTION("a library that could never be unloaded") {
        expect_refused(*this, counter_file::gnu_unique, "STB_GNU_UNIQUE");
    }
    SECTION("a file that does not exist") { expect_refused(*this, "/nonexistent/counter.so", "/nonexistent/counter.so"); }
    SECTION("the version that is already current") {
        expect_refused(*this, counter_file::v1, "counter@1.0.0 is already the current version");
    }
    SECTION("a running version that is not an allowed from-version") {
        UpgradeOptions options;
        options.allowed_from = {"0.9.0", "1.0.1"};
        expect_refused(*this, counter_file::v2, "not among the allowed from-versions", options);
    }
    for (std::size_t i = 0; i < servers.size(); ++i) {
        CHECK(version_of(servers[i]) == "1.0.0");
        CHECK(gen_server::call(servers[i], Atom("get")) == Term(int64_t(5 + i)));
    }
    CHECK(modules.current(counter)->version == "1.0.0");
    CHECK_FALSE(modules.old(counter));
}

TEST_CASE_METHOD(CodeFixture, "a version whose init throws: servers migrate, new starts fail clearly",
                 "[code][upgrade][refusals]") {
    modules.load(counter_file::v1);
    Pid server = start_counters(1, 9)[0];
    auto report = code::upgrade(modules, counter_file::v2_bad_init);
    INFO(text(report));
    REQUIRE(report.outcome == Outcome::upgraded);  // init is not part of a migration
    CHECK(gen_server::call(server, Atom("get")) == Term(9));
    auto started = gen_server::start(counter, 1);
    CHECK_FALSE(started.ok());
    CHECK(started.term().to_string().find("init is broken") != std::string::npos);
    CHECK(gen_server::call(server, Term::tuple({Atom("add"), 1})) == Term(10));
}

TEST_CASE_METHOD(CodeFixture, "a dry run lists what would happen and changes nothing", "[code][upgrade][dry_run]") {
    modules.load(counter_file::v1);
    std::vector<Pid> on_v1 = start_counters(2, 0);
    modules.load(counter_file::v2);
    std::vector<Pid> on_v2 = start_counters(3, 10);

    UpgradeOptions options;
    options.dry_run = true;
    auto report = code::upgrade(modules, counter_file::v3, options);
    INFO(text(report));
    REQUIRE(report.outcome == Outcome::dry_run);
    auto would_migrate = report.migrated;
    std::sort(would_migrate.begin(), would_migrate.end());
    std::sort(on_v2.begin(), on_v2.end());
    CHECK(would_migrate == on_v2);
    auto would_kill = report.purged_before.killed;
    std::sort(would_kill.begin(), would_kill.end());
    std::sort(on_v1.begin(), on_v1.end());
    CHECK(would_kill == on_v1);
    CHECK(report.purged_before.version == "1.0.0");
    CHECK(text(report).find("would migrate 3") != std::string::npos);

    CHECK(modules.current(counter)->version == "2.0.0");
    CHECK(modules.old(counter)->version == "1.0.0");
    for (Pid pid : on_v1) CHECK(version_of(pid) == "1.0.0");
    for (Pid pid : on_v2) CHECK(version_of(pid) == "2.0.0");
    CHECK_FALSE(mapped("counter-3.0.0"));

    // A dry run of a bad file is refused just like the real thing.
    auto bad = code::upgrade(modules, counter_file::garbage, options);
    CHECK(bad.outcome == Outcome::refused);
}

TEST_CASE_METHOD(CodeFixture, "upgrading a module that is not loaded is a first load", "[code][upgrade]") {
    auto report = code::upgrade(modules, counter_file::v2);
    INFO(text(report));
    CHECK(report.outcome == Outcome::upgraded);
    CHECK(report.from_version.empty());
    CHECK(modules.current(counter)->version == "2.0.0");
}

TEST_CASE_METHOD(CodeFixture, "an unpurgeable library loads only when asked, and its purge says it stayed mapped",
                 "[code][upgrade][refusals]") {
    const Atom module("gnu_unique");
    UpgradeOptions insist;
    insist.allow_unpurgeable = true;
    auto report = code::upgrade(modules, counter_file::gnu_unique, insist);
    INFO(text(report));
    REQUIRE(report.outcome == Outcome::upgraded);
    auto status = modules.which(module);
    REQUIRE(status);
    REQUIRE(status->current);
    CHECK(status->current->unpurgeable);
    modules.delete_module(module);
    auto purge = modules.purge(module);
    CHECK_FALSE(purge.unmapped);  // never silently "unloaded"
    CHECK_FALSE(purge.detail.empty());
}
