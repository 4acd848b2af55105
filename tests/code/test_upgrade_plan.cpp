// Upgrade plans: parsing errors with positions, dependency order, dry runs,
// and a plan that stops at the first step that does not upgrade.
#include "support.hpp"

#include "../../host/code/upgrade_plan.hpp"

#include <fstream>

using namespace otpp;
using namespace otpp::test;
using namespace otpp::code;

namespace {

// This test process's plan files, deleted as it exits.
const std::filesystem::path& plan_dir() {
    static const struct Dir {
        std::filesystem::path path =
            std::filesystem::temp_directory_path() / ("otpp-plan-tests-" + std::to_string(::getpid()));
        Dir() { std::filesystem::create_directories(path); }
        ~Dir() {
            std::error_code ec;
            std::filesystem::remove_all(path, ec);
        }
    } dir;
    return dir.path;
}

std::filesystem::path write_plan(const std::string& name, const std::string& text) {
    auto path = plan_dir() / name;
    std::ofstream(path) << text;
    return path;
}

std::string quoted(const char* path) { return std::string("\"") + path + "\""; }

}  // namespace

TEST_CASE("plan files: errors name the file, line, column and key", "[code][plan]") {
    auto bad = [](const std::string& text, const std::string& says) {
        auto path = write_plan("bad.toml", text);
        INFO(text);
        try {
            parse_plan(path);
            FAIL("accepted");
        } catch (const PlanError& e) {
            std::string what = e.what();
            CHECK(what.find(path.string()) == 0);
            CHECK(what.find(says) != std::string::npos);
        }
    };
    bad("mode = \"sideways\"\n[[upgrade]]\nmodule=\"a\"\nfile=\"a.so\"\n", ":1:8: mode: expected \"atomic\" or \"rolling\"");
    bad("[[upgrade]]\nmodule=\"a\"\n", "upgrade[0].file: missing");
    bad("[[upgrade]]\nmodule=\"a\"\nfile=\"a.so\"\ncolour=1\n", ":4:8: upgrade[0].colour: unknown key");
    bad("[[upgrade]]\nmodule=\"a\"\nfile=\"a.so\"\nextra=\"{unclosed\"\n", "upgrade[0].extra");
    bad("[[upgrade]]\nmodule=\"Not An Atom\"\nfile=\"a.so\"\n", "is not a module name");
    bad("post_purge = \"sometimes\"\n[[upgrade]]\nmodule=\"a\"\nfile=\"a.so\"\n", "post_purge");
    bad("[[upgrade]]\nmodule=\"a\"\nfile=\"a.so\"\nrequires=[\"b\"]\n[[upgrade]]\nmodule=\"b\"\nfile=\"b.so\"\nrequires=[\"a\"]\n",
        "a cycle: a -> b -> a");
    bad("[[upgrade]]\nmodule=\"a\"\nfile=\"a.so\"\n[[upgrade]]\nmodule=\"a\"\nfile=\"b.so\"\n", "appears twice");
    bad("this is not toml", "invalid TOML");
    bad("mode = \"atomic\"\n", "no [[upgrade]] step");
}

TEST_CASE("plan steps run after the steps they require", "[code][plan]") {
    auto path = write_plan("order.toml", R"(
[[upgrade]]
module = "web"
file = "web.so"
requires = ["db", "cache"]
[[upgrade]]
module = "cache"
file = "/abs/cache.so"
requires = ["db"]
extra = "{keep, 1}"
mode = "rolling"
batch = 4
[[upgrade]]
module = "db"
file = "db.so"
from = ["1.0.0", "1.0.1"]
)");
    auto plan = parse_plan(path);
    REQUIRE(plan.steps.size() == 3);
    CHECK(plan.steps[0].module == Atom("db"));
    CHECK(plan.steps[1].module == Atom("cache"));
    CHECK(plan.steps[2].module == Atom("web"));
    CHECK(plan.steps[0].file == path.parent_path() / "db.so");
    CHECK(plan.steps[1].file == "/abs/cache.so");
    CHECK(plan.steps[1].options.extra == Term::tuple({Atom("keep"), 1}));
    CHECK(plan.steps[1].options.mode == UpgradeMode::rolling);
    CHECK(plan.steps[1].options.batch == 4);
    CHECK(plan.steps[0].options.allowed_from == std::vector<std::string>{"1.0.0", "1.0.1"});
}

TEST_CASE_METHOD(CodeFixture, "a plan's dry run validates every step and changes nothing", "[code][plan]") {
    modules.load(counter_file::v1);
    std::vector<Pid> servers = start_counters(4);
    auto path = write_plan("dry.toml", "[[upgrade]]\nmodule = \"counter\"\nfile = " + quoted(counter_file::v2) +
                                           "\nfrom = [\"1.0.0\"]\n");
    auto report = run_plan(modules, path, true);
    INFO(report.to_text());
    REQUIRE(report.ok);
    REQUIRE(report.steps.size() == 1);
    CHECK(report.steps[0].outcome == UpgradeReport::Outcome::dry_run);
    CHECK(report.steps[0].migrated.size() == 4);
    for (Pid pid : servers) CHECK(version_of(pid) == "1.0.0");
    CHECK(modules.current(counter)->version == "1.0.0");

    // A step whose file holds another module fails the check.
    auto wrong = write_plan("wrong.toml", "[[upgrade]]\nmodule = \"kv\"\nfile = " + quoted(counter_file::v2) + "\n");
    auto refused = run_plan(modules, wrong, true);
    CHECK_FALSE(refused.ok);
    CHECK(refused.error.find("holds module counter, not kv") != std::string::npos);
}

TEST_CASE_METHOD(CodeFixture, "a plan runs its steps and stops at the first failure", "[code][plan]") {
    modules.load(counter_file::v1);
    std::vector<Pid> servers = start_counters(3);
    // Step 1 upgrades counter to 2.0.0; step 2 (to the throwing variant,
    // which fails for no one here: no server holds 13) ... use the
    // all-throw variant so that step 2 rolls back.
    auto path = write_plan("run.toml", "post_purge = \"soft\"\n"
                                       "[[upgrade]]\nmodule = \"counter\"\nfile = " + quoted(counter_file::v2) + "\n");
    auto ok = run_plan(modules, path, false);
    INFO(ok.to_text());
    REQUIRE(ok.ok);
    CHECK(version_of(servers[0]) == "2.0.0");

    auto failing = write_plan("fail.toml", "[[upgrade]]\nmodule = \"counter\"\nfile = " + quoted(counter_file::v2_all_throw) +
                                               "\n[[upgrade]]\nmodule = \"kv\"\nfile = \"kv.so\"\nrequires = [\"counter\"]\n");
    // The check passes for counter but kv.so does not exist: nothing runs.
    auto checked = run_plan(modules, failing, false);
    CHECK_FALSE(checked.ok);
    CHECK(checked.error.find("step 2 (kv)") != std::string::npos);
    CHECK(version_of(servers[0]) == "2.0.0");

    auto only_counter = write_plan("fail2.toml", "[[upgrade]]\nmodule = \"counter\"\nfile = " +
                                                     quoted(counter_file::v2_all_throw) + "\n");
    auto rolled = run_plan(modules, only_counter, false);
    INFO(rolled.to_text());
    CHECK_FALSE(rolled.ok);
    CHECK(rolled.error.find("rolled back") != std::string::npos);
    for (Pid pid : servers) CHECK(version_of(pid) == "2.0.0");
}

TEST_CASE_METHOD(CodeFixture, "pre_purge soft refuses a plan that would kill processes", "[code][plan]") {
    modules.load(counter_file::v1);
    Pid on_v1 = start_counters(1)[0];
    modules.load(counter_file::v2);
    auto path = write_plan("soft.toml", "pre_purge = \"soft\"\n[[upgrade]]\nmodule = \"counter\"\nfile = " +
                                            quoted(counter_file::v3) + "\n");
    auto report = run_plan(modules, path, false);
    CHECK_FALSE(report.ok);
    CHECK(report.error.find("pre_purge = \"soft\": 1 processes still run counter@1.0.0") != std::string::npos);
    CHECK(version_of(on_v1) == "1.0.0");
    CHECK(modules.current(counter)->version == "2.0.0");
}
