// Valid configurations: the full example, every default, path resolution.
#include "support.hpp"

#include <otpp/term.hpp>

#include <unistd.h>

using namespace otpp;
using namespace otpp::host;
using namespace config_test;
using namespace std::chrono_literals;

namespace {

ChildSpec worker(const char* id, const char* module, const char* args, Restart restart, Shutdown shutdown) {
    ChildSpec c;
    c.id = Atom(id);
    c.module = Atom(module);
    c.args = Term::parse(args);
    c.restart = restart;
    c.shutdown = shutdown;
    c.type = ChildType::worker;
    return c;
}

// What data/full.toml must load as.
HostConfig expected_full() {
    const fs::path dir = data_dir();
    HostConfig c;
    c.source = (dir / "full.toml").lexically_normal();
    c.node = {"demo@localhost", 4, 50, 128};
    c.code.plugin_dirs = {(dir / "plugins").lexically_normal()};
    c.code.private_dir = (dir / "run/private").lexically_normal();
    c.code.watch = true;
    c.control.runtime_dir = (dir / "run/control").lexically_normal();
    c.log.level = "debug";
    c.log.sink = "file:" + (dir / "log/host.log").lexically_normal().string();

    SupervisorSpec workers;
    workers.strategy = Strategy::simple_one_for_one;
    workers.intensity = 10;
    workers.period = 1000ms;
    workers.children = {worker("worker", "ticker", "[100]", Restart::temporary, Shutdown::infinity())};

    ApplicationSpec calc;
    calc.name = Atom("calc");
    calc.supervisor.strategy = Strategy::one_for_all;
    calc.supervisor.intensity = 3;
    calc.supervisor.period = 10000ms;
    calc.supervisor.children.push_back(
        worker("counter", "counter", "{initial, 0}", Restart::transient, Shutdown::after(2000ms)));
    calc.supervisor.children.push_back(worker("store", "kv", "[#{name => <<\"store\">>, capacity => 1024}]",
                                              Restart::permanent, Shutdown::brutal_kill()));
    calc.supervisor.children.back().name = Atom("store");
    ChildSpec sup;
    sup.id = Atom("workers");
    sup.module = Atom("supervisor");
    sup.type = ChildType::supervisor;
    sup.shutdown = Shutdown::infinity();
    sup.supervisor = std::make_shared<const SupervisorSpec>(workers);
    calc.supervisor.children.push_back(sup);

    ApplicationSpec cache;
    cache.name = Atom("cache");
    cache.supervisor.children = {worker("kv", "kv", "[]", Restart::permanent, Shutdown::after(5000ms))};

    c.applications = {calc, cache};
    return c;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

TEST_CASE("the full example loads into the expected struct", "[config]") {
    const HostConfig c = load_host_config(data_dir() / "full.toml");
    const HostConfig want = expected_full();

    // Field by field first, so that a mismatch says where.
    CHECK(c.source == want.source);
    CHECK(c.node == want.node);
    CHECK(c.code.plugin_dirs == want.code.plugin_dirs);
    CHECK(c.code.private_dir == want.code.private_dir);
    CHECK(c.code.watch);
    CHECK(c.control.runtime_dir == want.control.runtime_dir);
    CHECK(c.log.level == "debug");
    CHECK(c.log.sink == want.log.sink);
    REQUIRE(c.applications.size() == 2);

    const ApplicationSpec& calc = c.applications[0];
    CHECK(calc.name == Atom("calc"));
    CHECK(calc.supervisor.strategy == Strategy::one_for_all);
    CHECK(calc.supervisor.intensity == 3);
    CHECK(calc.supervisor.period == 10000ms);
    REQUIRE(calc.supervisor.children.size() == 3);

    const ChildSpec& counter = calc.supervisor.children[0];
    CHECK(counter.id == Atom("counter"));
    CHECK(counter.module == Atom("counter"));
    CHECK(counter.args == Term::tuple({Atom("initial"), 0}));
    CHECK(counter.restart == Restart::transient);
    CHECK(counter.shutdown.kind == Shutdown::Kind::timeout);
    CHECK(counter.shutdown.timeout == 2000ms);
    CHECK(counter.type == ChildType::worker);
    CHECK(counter.supervisor == nullptr);

    const ChildSpec& store = calc.supervisor.children[1];
    CHECK(store.args == Term::list({Term::map({{Atom("name"), Term::binary("store")}, {Atom("capacity"), 1024}})}));
    CHECK(store.shutdown.kind == Shutdown::Kind::brutal_kill);
    CHECK(store.restart == Restart::permanent);

    const ChildSpec& workers = calc.supervisor.children[2];
    CHECK(workers.type == ChildType::supervisor);
    CHECK(workers.module == Atom("supervisor"));
    CHECK(workers.shutdown.kind == Shutdown::Kind::infinity);
    CHECK(workers.args.is_nil());
    REQUIRE(workers.supervisor != nullptr);
    CHECK(workers.supervisor->strategy == Strategy::simple_one_for_one);
    CHECK(workers.supervisor->intensity == 10);
    CHECK(workers.supervisor->period == 1000ms);
    REQUIRE(workers.supervisor->children.size() == 1);
    CHECK(workers.supervisor->children[0].id == Atom("worker"));
    CHECK(workers.supervisor->children[0].module == Atom("ticker"));
    CHECK(workers.supervisor->children[0].args == Term::list({100}));
    CHECK(workers.supervisor->children[0].restart == Restart::temporary);
    CHECK(workers.supervisor->children[0].shutdown == Shutdown::infinity());

    const ApplicationSpec& cache = c.applications[1];
    CHECK(cache.name == Atom("cache"));
    REQUIRE(cache.supervisor.children.size() == 1);
    CHECK(cache.supervisor.children[0].module == Atom("kv"));

    // And the whole thing at once (deep ==).
    CHECK(c == want);
}

TEST_CASE("parse_host_config on the same text gives the same config", "[config]") {
    const fs::path file = data_dir() / "full.toml";
    CHECK(parse_host_config(read_file(file), file.string()) == load_host_config(file));
}

TEST_CASE("a copied config shares nested supervisor specs and stays equal", "[config]") {
    const HostConfig a = load_host_config(data_dir() / "full.toml");
    const HostConfig b = a;
    CHECK(a == b);
    CHECK(a.applications[0].supervisor.children[2].supervisor.get() ==
          b.applications[0].supervisor.children[2].supervisor.get());
    HostConfig c = a;
    c.applications[1].supervisor.children[0].args = Term(1);
    CHECK_FALSE(a == c);
}

TEST_CASE("defaults of every key", "[config][defaults]") {
    ScopedEnv tmp("TMPDIR", "/var/tmp/otpp-test");
    ScopedEnv xdg("XDG_RUNTIME_DIR", "/run/user/4242");
    const HostConfig c = load_host_config(data_dir() / "minimal.toml");

    CHECK(c.source == (data_dir() / "minimal.toml").lexically_normal());
    CHECK(c.node.name == "mini@localhost");
    CHECK(c.node.schedulers == 0);
    CHECK(c.node.stuck_after_ms == 20);
    CHECK(c.node.default_stack_kib == 64);
    CHECK(c.code.plugin_dirs.empty());
    CHECK(c.code.private_dir == fs::path("/var/tmp/otpp-test/otpp-mini@localhost"));
    CHECK_FALSE(c.code.watch);
    CHECK(c.control.runtime_dir == fs::path("/run/user/4242/otpp"));
    CHECK(c.log.level == "info");
    CHECK(c.log.sink == "stderr");
    CHECK(c.applications.empty());
}

TEST_CASE("environment-dependent defaults without TMPDIR and XDG_RUNTIME_DIR", "[config][defaults]") {
    ScopedEnv tmp("TMPDIR", std::nullopt);
    ScopedEnv xdg("XDG_RUNTIME_DIR", std::nullopt);
    const HostConfig c = parse_host_config("[node]\nname = \"a@b\"\n", "host.toml");
    CHECK(c.code.private_dir == fs::path("/tmp/otpp-a@b"));
    CHECK(c.control.runtime_dir == fs::path("/tmp/otpp-" + std::to_string(::getuid())));

    ScopedEnv empty_tmp("TMPDIR", "");  // empty counts as unset
    CHECK(parse_host_config("[node]\nname = \"a@b\"\n[code]\n", "host.toml").code.private_dir ==
          fs::path("/tmp/otpp-a@b"));
    ScopedEnv empty_xdg("XDG_RUNTIME_DIR", "");
    CHECK(parse_host_config("[node]\nname = \"a@b\"\n[control]\n", "host.toml").control.runtime_dir ==
          fs::path("/tmp/otpp-" + std::to_string(::getuid())));
}

TEST_CASE("defaults of applications, supervisors and children", "[config][defaults]") {
    const HostConfig c = parse_host_config(R"(
[node]
name = "a@b"

[[application]]
name = "bare"          # no supervisor table: an empty one_for_one supervisor

[[application]]
name = "app"
  [[application.supervisor.children]]
  id = "w"
  module = "m"
  [[application.supervisor.children]]
  id = "s"
  module = "supervisor"
  type = "supervisor"
    [application.supervisor.children.supervisor]
)",
                                           "host.toml");
    REQUIRE(c.applications.size() == 2);
    const SupervisorSpec& bare = c.applications[0].supervisor;
    CHECK(bare.strategy == Strategy::one_for_one);
    CHECK(bare.intensity == 1);
    CHECK(bare.period == 5000ms);
    CHECK(bare.children.empty());

    const SupervisorSpec& top = c.applications[1].supervisor;
    CHECK(top.strategy == Strategy::one_for_one);
    CHECK(top.intensity == 1);
    CHECK(top.period == 5000ms);
    REQUIRE(top.children.size() == 2);
    const ChildSpec& w = top.children[0];
    CHECK(w.args == Term::nil());
    CHECK(w.restart == Restart::permanent);
    CHECK(w.shutdown.kind == Shutdown::Kind::timeout);
    CHECK(w.shutdown.timeout == 5000ms);
    CHECK(w.type == ChildType::worker);
    CHECK(w.supervisor == nullptr);
    const ChildSpec& s = top.children[1];
    CHECK(s.type == ChildType::supervisor);
    CHECK(s.shutdown.kind == Shutdown::Kind::infinity);
    CHECK(s.restart == Restart::permanent);
    REQUIRE(s.supervisor != nullptr);
    CHECK(*s.supervisor == SupervisorSpec{});
}

TEST_CASE("boundary values are accepted", "[config]") {
    const HostConfig lo = parse_host_config(R"(
[node]
name = "n@h"
schedulers = 0
stuck_after_ms = 1
default_stack_kib = 16
[[application]]
name = "a"
  [application.supervisor]
  intensity = 0
  period_ms = 1
  [[application.supervisor.children]]
  id = "c"
  module = "m"
  shutdown = 0
)",
                                            "host.toml");
    CHECK(lo.node.stuck_after_ms == 1);
    CHECK(lo.node.default_stack_kib == 16);
    CHECK(lo.applications[0].supervisor.intensity == 0);
    CHECK(lo.applications[0].supervisor.period == 1ms);
    CHECK(lo.applications[0].supervisor.children[0].shutdown == Shutdown::after(0ms));

    const HostConfig hi = parse_host_config(R"(
[node]
name = "n@h"
schedulers = 1024
stuck_after_ms = 60000
default_stack_kib = 1024
)",
                                            "host.toml");
    CHECK(hi.node.schedulers == 1024);
    CHECK(hi.node.stuck_after_ms == 60000);
    CHECK(hi.node.default_stack_kib == 1024);
    for (int kib : {16, 32, 64, 128, 256, 512, 1024})
        CHECK(parse_host_config("[node]\nname = \"n@h\"\ndefault_stack_kib = " + std::to_string(kib) + "\n",
                                "host.toml")
                  .node.default_stack_kib == static_cast<std::size_t>(kib));
}

TEST_CASE("relative paths resolve against the config file's directory", "[config][paths]") {
    TempDir dir;
    dir.mkdir("etc/plugins");
    dir.mkdir("shared/plugins");
    dir.mkdir("abs");
    const std::string text = "[node]\nname = \"n@h\"\n"
                             "[code]\nplugin_dirs = [\"plugins\", \"../shared/plugins/\", \"" +
                             (dir / "abs").string() +
                             "\"]\n"
                             "private_dir = \"private\"\n"
                             "[control]\nruntime_dir = \"./run\"\n"
                             "[log]\nsink = \"file:../log/host.log\"\n";
    const fs::path file = dir.write("etc/host.toml", text);
    const HostConfig c = load_host_config(file);
    const fs::path root = dir.path().lexically_normal();
    CHECK(c.source == file.lexically_normal());
    REQUIRE(c.code.plugin_dirs.size() == 3);
    CHECK(c.code.plugin_dirs[0] == root / "etc/plugins");
    CHECK(c.code.plugin_dirs[1] == root / "shared/plugins");  // trailing / dropped
    CHECK(c.code.plugin_dirs[2] == root / "abs");
    CHECK(c.code.private_dir == root / "etc/private");
    CHECK(c.control.runtime_dir == root / "etc/run");
    CHECK(c.log.sink == "file:" + (root / "log/host.log").string());

    // parse_host_config resolves against the directory of source_name too.
    const HostConfig p = parse_host_config(text, file.string());
    CHECK(p == c);
}

TEST_CASE("log levels and sinks", "[config]") {
    for (const char* level : {"trace", "debug", "info", "warn", "error", "critical", "off"}) {
        const HostConfig c =
            parse_host_config(std::string("[node]\nname = \"n@h\"\n[log]\nlevel = \"") + level + "\"\n", "host.toml");
        CHECK(c.log.level == level);
    }
    CHECK(parse_host_config("[node]\nname = \"n@h\"\n[log]\nsink = \"stdout\"\n", "host.toml").log.sink == "stdout");
    CHECK(parse_host_config("[node]\nname = \"n@h\"\n[log]\nsink = \"file:/var/log/otpp.log\"\n", "host.toml")
              .log.sink == "file:/var/log/otpp.log");
}

TEST_CASE("inline tables and arrays are the same as table headers", "[config]") {
    const HostConfig a = parse_host_config(R"(
node = { name = "n@h" }
application = [
  { name = "app", supervisor = { strategy = "rest_for_one", children = [
      { id = "a", module = "m", args = "[1]" },
      { id = "b", module = "supervisor", type = "supervisor", supervisor = { children = [ { id = "c", module = "m" } ] } },
  ] } },
]
)",
                                           "host.toml");
    const HostConfig b = parse_host_config(R"(
[node]
name = "n@h"
[[application]]
name = "app"
[application.supervisor]
strategy = "rest_for_one"
[[application.supervisor.children]]
id = "a"
module = "m"
args = "[1]"
[[application.supervisor.children]]
id = "b"
module = "supervisor"
type = "supervisor"
[[application.supervisor.children.supervisor.children]]
id = "c"
module = "m"
)",
                                           "host.toml");
    CHECK(a == b);
    CHECK(a.applications[0].supervisor.strategy == Strategy::rest_for_one);
    CHECK(a.applications[0].supervisor.children[1].supervisor->children[0].id == Atom("c"));
}

TEST_CASE("the same child id may be used under different supervisors", "[config]") {
    const HostConfig c = parse_host_config(R"(
[node]
name = "n@h"
[[application]]
name = "one"
  [[application.supervisor.children]]
  id = "x"
  module = "m"
  [[application.supervisor.children]]
  id = "sub"
  module = "supervisor"
  type = "supervisor"
  [[application.supervisor.children.supervisor.children]]
  id = "x"
  module = "m"
[[application]]
name = "two"
  [[application.supervisor.children]]
  id = "x"
  module = "m"
)",
                                           "host.toml");
    CHECK(c.applications.size() == 2);
}

TEST_CASE("supervision trees may nest 32 supervisors deep", "[config][depth]") {
    std::string text = "[node]\nname = \"n@h\"\n[[application]]\nname = \"deep\"\n";
    std::string table = "application.supervisor";  // depth 1
    for (int depth = 2; depth <= max_supervision_depth; ++depth) {
        text += "[[" + table + ".children]]\nid = \"s" + std::to_string(depth) +
                "\"\nmodule = \"supervisor\"\ntype = \"supervisor\"\n";
        table += ".children.supervisor";
        text += "[" + table + "]\nstrategy = \"one_for_all\"\n";
    }
    text += "[[" + table + ".children]]\nid = \"leaf\"\nmodule = \"m\"\n";
    const HostConfig c = parse_host_config(text, "host.toml");
    const SupervisorSpec* s = &c.applications[0].supervisor;
    int depth = 1;
    while (s->children[0].type == ChildType::supervisor) {
        s = s->children[0].supervisor.get();
        ++depth;
    }
    CHECK(depth == max_supervision_depth);
    CHECK(s->children[0].id == Atom("leaf"));
}

TEST_CASE("args accept every Erlang term syntax and TOML string form", "[config][args]") {
    const HostConfig c = parse_host_config(R"(
[node]
name = "n@h"
[[application]]
name = "a"
  [[application.supervisor.children]]
  id = "basic"
  module = "m"
  args = "{\"bin\", 'quoted atom', [1, 2.5 | tail], #{k => <<1,2>>}}"
  [[application.supervisor.children]]
  id = "literal"
  module = "m"
  args = '''{"bin", 'quoted atom', [1, 2.5 | tail], #{k => <<1,2>>}}'''
  [[application.supervisor.children]]
  id = "multi"
  module = "m"
  args = """
  {"bin", 'quoted atom',
   [1, 2.5 | tail],
   #{k => <<1,2>>}}"""
)",
                                           "host.toml");
    const Term want = Term::parse("{<<\"bin\">>, 'quoted atom', [1, 2.5 | tail], #{k => <<1,2>>}}");
    for (const ChildSpec& child : c.applications[0].supervisor.children) {
        INFO(child.id.name());
        CHECK(child.args == want);
    }
}

TEST_CASE("supervision_spec.hpp names round-trip", "[config][spec]") {
    for (auto s : {Strategy::one_for_one, Strategy::one_for_all, Strategy::rest_for_one, Strategy::simple_one_for_one})
        CHECK(parse_strategy(to_string(s)) == s);
    for (auto r : {Restart::permanent, Restart::transient, Restart::temporary}) CHECK(parse_restart(to_string(r)) == r);
    for (auto t : {ChildType::worker, ChildType::supervisor}) CHECK(parse_child_type(to_string(t)) == t);
    CHECK(to_string(Strategy::simple_one_for_one) == "simple_one_for_one");
    CHECK_FALSE(parse_strategy("One_for_one"));
    CHECK_FALSE(parse_restart(""));
    CHECK(to_string(Shutdown::after(1500ms)) == "1500");
    CHECK(to_string(Shutdown::brutal_kill()) == "brutal_kill");
    CHECK(to_string(Shutdown::infinity()) == "infinity");
    CHECK(parse_shutdown("1500") == Shutdown::after(1500ms));
    CHECK(parse_shutdown("infinity") == Shutdown::infinity());
    CHECK(parse_shutdown("brutal_kill") == Shutdown::brutal_kill());
    CHECK_FALSE(parse_shutdown("-1"));
    CHECK_FALSE(parse_shutdown("2147483648"));
    CHECK_FALSE(parse_shutdown(""));
    CHECK(Shutdown::default_for(ChildType::worker) == Shutdown::after(5000ms));
    CHECK(Shutdown::default_for(ChildType::supervisor) == Shutdown::infinity());
    static_assert(parse_strategy("rest_for_one") == Strategy::rest_for_one);
}

TEST_CASE("the complete example in docs/CONFIG.md is valid", "[config][docs]") {
    const std::string doc = read_file(fs::path(OTPP_SOURCE_DIR) / "docs/CONFIG.md");
    const std::string marker = "<!-- complete-example -->";
    const auto at = doc.find(marker);
    REQUIRE(at != std::string::npos);
    const auto begin = doc.find("```toml\n", at);
    REQUIRE(begin != std::string::npos);
    const auto end = doc.find("\n```", begin + 8);
    REQUIRE(end != std::string::npos);
    const std::string example = doc.substr(begin + 8, end - begin - 8);

    TempDir dir;
    dir.mkdir("plugins");
    const HostConfig c = load_host_config(dir.write("host.toml", example));
    CHECK(c.node.name == "demo@localhost");
    CHECK_FALSE(c.applications.empty());
}
