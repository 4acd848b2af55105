// The code server's queries and non-killing purges: which, all_loaded,
// check_process_code, check_old_code, soft_purge, delete.
#include "support.hpp"

#include <otpp/error.hpp>

using namespace otpp;
using namespace otpp::test;

TEST_CASE_METHOD(CodeFixture, "which and all_loaded show versions, files and pins", "[code][queries]") {
    CHECK_FALSE(modules.which(counter));
    CHECK_FALSE(modules.is_loaded(counter));
    modules.load(counter_file::v1);
    std::vector<Pid> on_v1 = start_counters(2);
    modules.load(counter_file::v2);
    start_counters(3);

    auto status = modules.which(counter);
    REQUIRE(status);
    REQUIRE(status->current);
    REQUIRE(status->old);
    CHECK(status->current->version == "2.0.0");
    CHECK(status->current->file == counter_file::v2);
    CHECK(status->current->pins == 3);
    CHECK(status->old->version == "1.0.0");
    CHECK(status->old->pins == 2);
    CHECK_FALSE(status->current->built_in);
    CHECK(modules.is_loaded(counter));
    CHECK(modules.check_old_code(counter));
    CHECK(modules.check_process_code(on_v1[0], counter));

    auto all = modules.all_loaded();
    auto it = std::find_if(all.begin(), all.end(), [](auto& m) { return m.name == counter; });
    REQUIRE(it != all.end());
    CHECK(it->current->version == "2.0.0");
    auto sup = std::find_if(all.begin(), all.end(), [](auto& m) { return m.name == Atom("supervisor"); });
    REQUIRE(sup != all.end());
    CHECK(sup->current->built_in);
}

TEST_CASE_METHOD(CodeFixture, "soft_purge refuses while a process runs the old version", "[code][queries]") {
    modules.load(counter_file::v1);
    Pid old_server = start_counters(1)[0];
    modules.load(counter_file::v2);
    auto refused = modules.soft_purge(counter);
    CHECK_FALSE(refused.purged);
    CHECK(refused.pinned == std::vector<Pid>{old_server});
    CHECK(modules.old(counter));
    CHECK(gen_server::call(old_server, Atom("get")) == Term(0));  // untouched

    gen_server::stop_server(old_server);
    auto done = modules.soft_purge(counter);
    CHECK(done.purged);
    CHECK(done.report.unmapped);
    CHECK_FALSE(modules.old(counter));
    CHECK(modules.soft_purge(counter).purged);  // nothing old: nothing to refuse
}

TEST_CASE_METHOD(CodeFixture, "delete makes current old, refused while an old version exists", "[code][queries]") {
    CHECK_THROWS_AS(modules.delete_module(counter), Error);
    CHECK_THROWS_AS(modules.delete_module(Atom("supervisor")), Error);
    modules.load(counter_file::v1);
    Pid server = start_counters(1)[0];
    modules.delete_module(counter);
    CHECK_FALSE(modules.current(counter));
    CHECK(modules.old(counter)->version == "1.0.0");
    CHECK_FALSE(gen_server::start(counter, 0).ok());           // nothing current to start
    CHECK(gen_server::call(server, Atom("get")) == Term(0));  // old code still runs
    // Loading again: the deleted version was old, so it is purged (the third-version rule).
    auto report = modules.load(counter_file::v2);
    CHECK(report.purged.killed == std::vector<Pid>{server});
    CHECK_FALSE(modules.old(counter));
    modules.load(counter_file::v3);
    CHECK_THROWS_WITH(modules.delete_module(counter), Catch::Contains("must be purged first"));
    REQUIRE(modules.current(counter));
    CHECK(modules.current(counter)->version == "3.0.0");
}
