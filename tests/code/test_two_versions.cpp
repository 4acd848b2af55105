// The code server's two-version rule with real plugins: loading a version
// makes the previous one old; loading a third kills the processes still on
// the old one (reason killed) and unloads it, verifiably.
#include "support.hpp"
#include "../../host/code/plugin_library.hpp"

#include <otpp/error.hpp>
#include <otpp/gen_server.hpp>


using namespace otpp;
using namespace otpp::test;


TEST_CASE_METHOD(RuntimeFixture, "current and old, a third version kills the old one's processes and unmaps it",
                 "[code]") {
    auto& modules = runtime.kernel().modules();
    const Atom counter("counter");

    auto v1 = modules.load(counter_file::v1).loaded;
    CHECK(v1->version == "1.0.0");
    CHECK(modules.current(counter) == v1);
    Pid on_v1 = gen_server::start(counter, 10).pid();
    Ref on_v1_ref = monitor(on_v1);
    auto copy_v1 = v1->library->private_copy();
    CHECK(mapped(copy_v1.filename().string()));

    auto v2 = modules.load(counter_file::v2).loaded;
    CHECK(modules.current(counter) == v2);
    CHECK(modules.old(counter) == v1);
    // The process started on v1 keeps running v1.
    CHECK(gen_server::call(on_v1, Term::tuple({Atom("add"), 1})) == Term(11));
    CHECK(runtime.process_info(on_v1)->module_version == "1.0.0");
    Pid on_v2 = gen_server::start(counter, 20).pid();
    CHECK(runtime.process_info(on_v2)->module_version == "2.0.0");

    // Reloading the current version is refused and changes nothing.
    CHECK_THROWS_AS(modules.load(counter_file::v2), Error);
    CHECK(modules.old(counter) == v1);

    v1.reset();  // the test must not pin it
    auto report = modules.load(counter_file::v3);
    CHECK(report.loaded->version == "3.0.0");
    CHECK(report.purged.version == "1.0.0");
    CHECK(report.purged.killed == std::vector<Pid>{on_v1});
    INFO(report.purged.detail);
    CHECK(report.purged.unmapped);
    CHECK_FALSE(mapped(copy_v1.filename().string()));
    CHECK(expect_message(match::tuple(atoms::DOWN, on_v1_ref, match::_, match::_, match::_))[4] == Term(atoms::killed));
    CHECK(modules.old(counter) == v2);
    CHECK(modules.current(counter)->version == "3.0.0");
    // v2's process was not touched.
    CHECK(gen_server::call(on_v2, Atom("get")) == Term(20));
}

TEST_CASE_METHOD(RuntimeFixture, "purge kills the old version's processes, the current one is untouched", "[code]") {
    auto& modules = runtime.kernel().modules();
    const Atom counter("counter");
    modules.load(counter_file::v1);
    Pid a = gen_server::start(counter, 1).pid();
    modules.load(counter_file::v2);
    Pid b = gen_server::start(counter, 2).pid();
    auto report = modules.purge(counter);
    CHECK(report.killed == std::vector<Pid>{a});
    CHECK(report.unmapped);
    CHECK(wait_dead(a));
    CHECK_FALSE(modules.old(counter));
    CHECK(gen_server::call(b, Atom("get")) == Term(2));
    CHECK(modules.purge(counter).version.empty());  // nothing old: nothing to do
}
