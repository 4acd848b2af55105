// Invalid configurations: every error class, with its file, line, column and key.
#include "support.hpp"

#include <otpp/error.hpp>

using namespace otpp;
using namespace otpp::host;
using namespace config_test;
using Catch::Matchers::Contains;
using Catch::Matchers::StartsWith;
using Catch::Matchers::EndsWith;

namespace {

// A valid [node] table followed by `rest` (which starts on line 3).
std::string with_node(std::string_view rest) { return "[node]\nname = \"demo@localhost\"\n" + std::string(rest); }

}  // namespace

// ----- unknown keys -------------------------------------------------------------------

TEST_CASE("unknown key: suggestion by edit distance", "[config][errors][unknown]") {
    const auto e = config_error(with_node(R"([[application]]
name = "calc"
  [application.supervisor]
  stratgy = "one_for_all"
)"));
    CHECK_CONFIG_ERROR(e, "host.toml", 6, 3, "application[0].supervisor.stratgy");
    CHECK(std::string(e.what()) ==
          "host.toml:6:3: application[0].supervisor.stratgy: unknown key (did you mean \"strategy\"?)");
    CHECK(e.message() == "unknown key (did you mean \"strategy\"?)");
}

TEST_CASE("unknown key: other suggestions", "[config][errors][unknown]") {
    SECTION("transposed letters") {
        const auto e = config_error("[node]\nnmae = \"a@b\"\n");
        CHECK_CONFIG_ERROR(e, "host.toml", 2, 1, "node.nmae");
        CHECK_THAT(e.what(), Contains("unknown key (did you mean \"name\"?)"));
    }
    SECTION("a prefix: period -> period_ms") {
        const auto e = config_error(with_node("[[application]]\nname = \"a\"\n[application.supervisor]\nperiod = 10\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 6, 1, "application[0].supervisor.period");
        CHECK_THAT(e.what(), Contains("(did you mean \"period_ms\"?)"));
    }
    SECTION("a misspelled section: [[applications]]") {
        const auto e = config_error(with_node("\n[[applications]]\nname = \"a\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 3, "applications");
        CHECK_THAT(e.what(), Contains("(did you mean \"application\"?)"));
    }
    SECTION("case") {
        const auto e = config_error(with_node("[log]\nLevel = \"info\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 1, "log.Level");
        CHECK_THAT(e.what(), Contains("(did you mean \"level\"?)"));
    }
    SECTION("in a child") {
        const auto e = config_error(with_node(R"([[application]]
name = "a"
[[application.supervisor.children]]
id = "c"
module = "m"
restrat = "temporary"
)"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 1, "application[0].supervisor.children[0].restrat");
        CHECK_THAT(e.what(), Contains("(did you mean \"restart\"?)"));
    }
}

TEST_CASE("unknown key without a close match lists the valid keys", "[config][errors][unknown]") {
    const auto e = config_error("[node]\nname = \"a@b\"\ncolour = \"blue\"\n");
    CHECK_CONFIG_ERROR(e, "host.toml", 3, 1, "node.colour");
    CHECK(std::string(e.what()) == "host.toml:3:1: node.colour: unknown key (valid keys here: name, schedulers, "
                                   "stuck_after_ms, default_stack_kib)");
}

TEST_CASE("the first unknown key in file order is reported, odd keys are quoted", "[config][errors][unknown]") {
    const auto e = config_error("[node]\nname = \"a@b\"\n\"zz top\" = 1\naa = 2\n");
    CHECK_CONFIG_ERROR(e, "host.toml", 3, 1, "node.\"zz top\"");
}

// ----- wrong types ----------------------------------------------------------------------

TEST_CASE("wrong type names expected and actual", "[config][errors][type]") {
    SECTION("string for integer") {
        const auto e = config_error("[node]\nname = \"a@b\"\nschedulers = \"4\"\n");
        CHECK_CONFIG_ERROR(e, "host.toml", 3, 14, "node.schedulers");
        CHECK(std::string(e.what()) == "host.toml:3:14: node.schedulers: expected integer; got string \"4\"");
    }
    SECTION("float for integer") {
        const auto e = config_error("[node]\nname = \"a@b\"\nstuck_after_ms = 2.5\n");
        CHECK_CONFIG_ERROR(e, "host.toml", 3, 18, "node.stuck_after_ms");
        CHECK_THAT(e.what(), Contains("expected integer; got float 2.5"));
    }
    SECTION("integer for boolean") {
        const auto e = config_error(with_node("[code]\nwatch = 1\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 9, "code.watch");
        CHECK_THAT(e.what(), Contains("expected boolean; got integer 1"));
    }
    SECTION("integer for string") {
        const auto e = config_error("[node]\nname = 42\n");
        CHECK_CONFIG_ERROR(e, "host.toml", 2, 8, "node.name");
        CHECK_THAT(e.what(), Contains("expected string; got integer 42"));
    }
    SECTION("value for table") {
        const auto e = config_error("node = \"a@b\"\n");
        CHECK_CONFIG_ERROR(e, "host.toml", 1, 8, "node");
        CHECK_THAT(e.what(), Contains("expected table; got string \"a@b\""));
    }
    SECTION("[application] instead of [[application]]") {
        const auto e = config_error(with_node("[application]\nname = \"a\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 3, 1, "application");
        CHECK_THAT(e.what(), Contains("expected an array of tables ([[application]]); got table"));
    }
    SECTION("children not an array of tables") {
        const auto e = config_error(with_node(R"([[application]]
name = "a"
  [[application.supervisor.children]]
  id = "s"
  module = "supervisor"
  type = "supervisor"
    [application.supervisor.children.supervisor]
    children = "none"
)"));
        CHECK_CONFIG_ERROR(e, "host.toml", 10, 16, "application[0].supervisor.children[0].supervisor.children");
        CHECK_THAT(e.what(), EndsWith("expected an array of tables "
                                      "([[application.supervisor.children.supervisor.children]]); got string \"none\""));
        const auto e2 = config_error(with_node("[[application]]\nname = \"a\"\nsupervisor = { children = [1] }\n"));
        CHECK_CONFIG_ERROR(e2, "host.toml", 5, 28, "application[0].supervisor.children[0]");
        CHECK_THAT(e2.what(), EndsWith("expected table; got integer 1"));
    }
    SECTION("array element of the wrong type") {
        const auto e = config_error(with_node("[code]\nplugin_dirs = [\"/\", 7]\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 21, "code.plugin_dirs[1]");
        CHECK_THAT(e.what(), Contains("expected string; got integer 7"));
    }
    SECTION("plugin_dirs not an array") {
        const auto e = config_error(with_node("[code]\nplugin_dirs = \"plugins\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 15, "code.plugin_dirs");
        CHECK_THAT(e.what(), Contains("expected an array of strings; got string \"plugins\""));
    }
    SECTION("args not a string") {
        const auto e = config_error(with_node(R"([[application]]
name = "a"
[[application.supervisor.children]]
id = "c"
module = "m"
args = [1, 2]
)"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 8, "application[0].supervisor.children[0].args");
        CHECK_THAT(e.what(), Contains("expected string; got array"));
    }
    SECTION("shutdown of the wrong type") {
        const auto e = config_error(with_node(R"([[application]]
name = "a"
[[application.supervisor.children]]
id = "c"
module = "m"
shutdown = true
)"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 12, "application[0].supervisor.children[0].shutdown");
        CHECK_THAT(e.what(), Contains("expected an integer (milliseconds) in 0..2147483647, \"brutal_kill\" or "
                                      "\"infinity\"; got boolean true"));
    }
}

// ----- bad values -----------------------------------------------------------------------

TEST_CASE("bad enum value: the message lists the choices", "[config][errors][enum]") {
    // data/bad_restart.toml, line 13: `  restart = "sometimes"`
    const fs::path file = data_dir() / "bad_restart.toml";
    try {
        load_host_config(file);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK_CONFIG_ERROR(e, file.string(), 13, 13, "application[1].supervisor.children[0].restart");
        CHECK(std::string(e.what()) == file.string() +
                                           ":13:13: application[1].supervisor.children[0].restart: expected one of "
                                           "permanent, transient, temporary; got \"sometimes\"");
    }
}

TEST_CASE("bad enum values of every kind", "[config][errors][enum]") {
    const std::string app = "[[application]]\nname = \"a\"\n";  // lines 3-4
    SECTION("strategy, with a suggestion") {
        const auto e = config_error(with_node(app + "[application.supervisor]\nstrategy = \"one_for_al\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 6, 12, "application[0].supervisor.strategy");
        CHECK_THAT(e.what(), Contains("expected one of one_for_one, one_for_all, rest_for_one, simple_one_for_one; "
                                      "got \"one_for_al\" (did you mean \"one_for_all\"?)"));
    }
    SECTION("restart, with a suggestion") {
        const auto e = config_error(
            with_node(app + "[[application.supervisor.children]]\nid = \"c\"\nmodule = \"m\"\nrestart = \"permanant\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 11, "application[0].supervisor.children[0].restart");
        CHECK_THAT(e.what(), EndsWith("got \"permanant\" (did you mean \"permanent\"?)"));
    }
    SECTION("type") {
        const auto e = config_error(
            with_node(app + "[[application.supervisor.children]]\nid = \"c\"\nmodule = \"m\"\ntype = \"process\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 8, "application[0].supervisor.children[0].type");
        CHECK_THAT(e.what(), EndsWith("expected one of worker, supervisor; got \"process\""));
    }
    SECTION("shutdown word") {
        const auto e = config_error(with_node(
            app + "[[application.supervisor.children]]\nid = \"c\"\nmodule = \"m\"\nshutdown = \"brutal-kill\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 12, "application[0].supervisor.children[0].shutdown");
        CHECK_THAT(e.what(), EndsWith("got \"brutal-kill\" (did you mean \"brutal_kill\"?)"));
    }
    SECTION("shutdown as a numeric string") {
        const auto e = config_error(
            with_node(app + "[[application.supervisor.children]]\nid = \"c\"\nmodule = \"m\"\nshutdown = \"5000\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 12, "application[0].supervisor.children[0].shutdown");
    }
    SECTION("log level") {
        const auto e = config_error(with_node("[log]\nlevel = \"warning\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 9, "log.level");
        CHECK_THAT(e.what(), EndsWith("expected one of trace, debug, info, warn, error, critical, off; got "
                                      "\"warning\" (did you mean \"warn\"?)"));
    }
    SECTION("log sink") {
        const auto e = config_error(with_node("[log]\nsink = \"stdeer\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 8, "log.sink");
        CHECK_THAT(e.what(), EndsWith("expected \"stderr\", \"stdout\" or \"file:<path>\"; got \"stdeer\" (did you "
                                      "mean \"stderr\"?)"));
    }
    SECTION("log sink file: without a path") {
        const auto e = config_error(with_node("[log]\nsink = \"file:\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 8, "log.sink");
    }
}

TEST_CASE("values out of range", "[config][errors][range]") {
    struct Case {
        std::string text;
        std::size_t line, column;
        const char* key;
        const char* message;
    };
    const std::string app = "[[application]]\nname = \"a\"\n[application.supervisor]\n";  // lines 3-5
    const std::string child = "[[application]]\nname = \"a\"\n[[application.supervisor.children]]\nid = \"c\"\n"
                              "module = \"m\"\n";  // lines 3-7
    const std::string shutdown_range =
        "expected an integer (milliseconds) in 0..2147483647, \"brutal_kill\" or \"infinity\"; got ";
    const Case cases[] = {
        {with_node("schedulers = 1025\n"), 3, 14, "node.schedulers", "expected an integer in 0..1024; got 1025"},
        {with_node("schedulers = -1\n"), 3, 14, "node.schedulers", "expected an integer in 0..1024; got -1"},
        {with_node("stuck_after_ms = 0\n"), 3, 18, "node.stuck_after_ms", "expected an integer in 1..60000; got 0"},
        {with_node("stuck_after_ms = 60001\n"), 3, 18, "node.stuck_after_ms",
         "expected an integer in 1..60000; got 60001"},
        {with_node("default_stack_kib = 8\n"), 3, 21, "node.default_stack_kib",
         "expected an integer in 16..1024; got 8"},
        {with_node("default_stack_kib = 2048\n"), 3, 21, "node.default_stack_kib",
         "expected an integer in 16..1024; got 2048"},
        {with_node("default_stack_kib = 100\n"), 3, 21, "node.default_stack_kib",
         "expected a power of two in 16..1024 (16, 32, 64, 128, 256, 512 or 1024); got 100"},
        {with_node(app + "intensity = -1\n"), 6, 13, "application[0].supervisor.intensity",
         "expected an integer in 0..2147483647; got -1"},
        {with_node(app + "intensity = 2147483648\n"), 6, 13, "application[0].supervisor.intensity",
         "expected an integer in 0..2147483647; got 2147483648"},
        {with_node(app + "period_ms = 0\n"), 6, 13, "application[0].supervisor.period_ms",
         "expected an integer in 1..2147483647; got 0"},
        {with_node(child + "shutdown = -1\n"), 8, 12, "application[0].supervisor.children[0].shutdown", nullptr},
        {with_node(child + "shutdown = 2147483648\n"), 8, 12, "application[0].supervisor.children[0].shutdown",
         nullptr},
    };
    for (const Case& c : cases) {
        INFO(c.text);
        const auto e = config_error(c.text);
        CHECK_CONFIG_ERROR(e, "host.toml", c.line, c.column, c.key);
        if (c.message) CHECK(e.message() == c.message);
        else CHECK_THAT(e.message(), StartsWith(shutdown_range));
    }
}

TEST_CASE("node names and atoms are checked", "[config][errors][names]") {
    for (const char* bad : {"demo", "@localhost", "demo@", "Demo@localhost", "de mo@localhost", "demo@local host",
                            "a@b@c", "1demo@host"}) {
        INFO(bad);
        const auto e = config_error(std::string("[node]\nname = \"") + bad + "\"\n");
        CHECK_CONFIG_ERROR(e, "host.toml", 2, 8, "node.name");
        CHECK_THAT(e.what(), Contains("expected \"name@host\""));
    }
    CHECK_THAT(config_error("[node]\nname = \"" + std::string(250, 'a') + "@hosts\"\n").what(),
               Contains("at most 255 bytes"));

    SECTION("application name") {
        const auto e = config_error(with_node("[[application]]\nname = \"Calc\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 8, "application[0].name");
        CHECK_THAT(e.what(), EndsWith("expected an atom (a lowercase letter, then letters, digits, _ or @; at most "
                                      "255 bytes); got \"Calc\""));
    }
    SECTION("child id and module") {
        const auto e = config_error(with_node(
            "[[application]]\nname = \"a\"\n[[application.supervisor.children]]\nid = \"c\"\nmodule = \"my-mod\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 7, 10, "application[0].supervisor.children[0].module");
        const auto e2 = config_error(with_node(
            "[[application]]\nname = \"a\"\n[[application.supervisor.children]]\nid = \"\"\nmodule = \"m\"\n"));
        CHECK_CONFIG_ERROR(e2, "host.toml", 6, 6, "application[0].supervisor.children[0].id");
    }
    SECTION("empty paths") {
        const auto e = config_error(with_node("[code]\nprivate_dir = \"\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 4, 15, "code.private_dir");
        const auto e2 = config_error(with_node("[control]\nruntime_dir = \"\"\n"));
        CHECK_CONFIG_ERROR(e2, "host.toml", 4, 15, "control.runtime_dir");
        const auto e3 = config_error(with_node("[code]\nplugin_dirs = [\"\"]\n"));
        CHECK_CONFIG_ERROR(e3, "host.toml", 4, 16, "code.plugin_dirs[0]");
    }
}

// ----- missing keys -------------------------------------------------------------------------

TEST_CASE("empty file: node.name is required", "[config][errors][missing]") {
    const auto e = config_error("");
    CHECK_CONFIG_ERROR(e, "host.toml", 1, 1, "node.name");
    CHECK(std::string(e.what()) == "host.toml:1:1: node.name is required");
    CHECK(e.message() == "is required");

    // Only comments, or other sections: the same.
    CHECK(std::string(config_error("# nothing here\n\n").what()) == "host.toml:1:1: node.name is required");
    CHECK(std::string(config_error("[log]\nlevel = \"info\"\n").what()) == "host.toml:1:1: node.name is required");
}

TEST_CASE("missing required keys are reported at their table", "[config][errors][missing]") {
    SECTION("node.name, [node] present") {
        const auto e = config_error("\n[node]\nschedulers = 2\n");
        CHECK_CONFIG_ERROR(e, "host.toml", 2, 1, "node.name");
        CHECK(std::string(e.what()) == "host.toml:2:1: node.name is required");
    }
    SECTION("application name") {
        const auto e = config_error(with_node("[[application]]\n[application.supervisor]\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 3, 1, "application[0].name");
        CHECK(std::string(e.what()) == "host.toml:3:1: application[0].name is required");
    }
    SECTION("child id") {
        const auto e = config_error(
            with_node("[[application]]\nname = \"a\"\n  [[application.supervisor.children]]\n  module = \"m\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 5, 3, "application[0].supervisor.children[0].id");
    }
    SECTION("child module") {
        const auto e = config_error(with_node(
            "[[application]]\nname = \"a\"\n[[application.supervisor.children]]\nid = \"x\"\nmodule = \"m\"\n"
            "[[application.supervisor.children]]\nid = \"y\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 1, "application[0].supervisor.children[1].module");
        CHECK(std::string(e.what()) == "host.toml:8:1: application[0].supervisor.children[1].module is required");
    }
}

// ----- duplicates ---------------------------------------------------------------------------

TEST_CASE("duplicate application name", "[config][errors][duplicate]") {
    const auto e = config_error(with_node(R"([[application]]
name = "calc"
[[application]]
name = "store"
[[application]]
name = "calc"
)"));
    CHECK_CONFIG_ERROR(e, "host.toml", 8, 8, "application[2].name");
    CHECK_THAT(e.what(), EndsWith("duplicate application name \"calc\" (already used by application[0] at line 4)"));
}

TEST_CASE("duplicate child id among siblings", "[config][errors][duplicate]") {
    const auto e = config_error(with_node(R"([[application]]
name = "a"
  [[application.supervisor.children]]
  id = "sub"
  module = "supervisor"
  type = "supervisor"
    [[application.supervisor.children.supervisor.children]]
    id = "w"
    module = "m"
    [[application.supervisor.children.supervisor.children]]
    id = "w"
    module = "m2"
)"));
    CHECK_CONFIG_ERROR(e, "host.toml", 13, 10, "application[0].supervisor.children[0].supervisor.children[1].id");
    CHECK_THAT(e.what(), EndsWith("duplicate child id \"w\" (already used by "
                                  "application[0].supervisor.children[0].supervisor.children[0] at line 10)"));
}

// ----- args ---------------------------------------------------------------------------------

TEST_CASE("bad args term: config line, column inside the TOML string, ParseError message",
          "[config][errors][args]") {
    const std::string head = "[[application]]\nname = \"a\"\n[[application.supervisor.children]]\nid = \"c\"\n"
                             "module = \"m\"\n";  // lines 3-7; args on line 8
    const std::string key = "application[0].supervisor.children[0].args";
    auto args_error = [&](const std::string& args_line) { return config_error(with_node(head + args_line + "\n")); };

    SECTION("unexpected character") {
        // args = "{initial, 0}}"   the second } is at column 21
        const auto e = args_error(R"(args = "{initial, 0}}")");
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 21, key);
        CHECK_THAT(e.what(), StartsWith("host.toml:8:21: " + key + ": invalid Erlang term: "));
        try {
            Term::parse("{initial, 0}}");
            FAIL("parsed");
        } catch (const ParseError& pe) {
            CHECK(e.message() == "invalid Erlang term: " + pe.message());
        }
    }
    SECTION("unexpected end: points at the closing quote") {
        const auto e = args_error(R"(args = "{initial, 0")");
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 20, key);
    }
    SECTION("escapes in a basic string are followed") {
        // args = "{\"x\", @}"   decoded {"x", @}: the @ is at column 17
        const auto e = args_error(R"(args = "{\"x\", @}")");
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 17, key);
        const auto u = args_error(R"(args = "{'\u00e9', @}")");  // \u00e9 is 6 columns, 2 bytes
        CHECK_CONFIG_ERROR(u, "host.toml", 8, 20, key);
    }
    SECTION("columns count code points") {
        const auto e = args_error("args = \"{'\xC3\xA9t\xC3\xA9', @}\"");  // {'été', @}
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 17, key);
    }
    SECTION("literal string") {
        const auto e = args_error("args = '[1, 2,, 3]'");
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 15, key);
    }
    SECTION("multi-line string: the line inside it") {
        const auto e = args_error("args = '''\n{a,\n  [b, c],\n    @}'''");
        CHECK_CONFIG_ERROR(e, "host.toml", 11, 5, key);
        const auto b = args_error("args = \"\"\"\n{a, \\\n     b,\n  @}\"\"\"");  // line-ending backslash
        CHECK_CONFIG_ERROR(b, "host.toml", 11, 3, key);
    }
    SECTION("empty") {
        const auto e = args_error("args = \"\"");
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 9, key);
    }
}

// ----- paths --------------------------------------------------------------------------------

TEST_CASE("nonexistent plugin dir", "[config][errors][paths]") {
    TempDir dir;
    dir.mkdir("plugins");
    dir.write("a-file", "x");
    const fs::path file = dir.write("host.toml", with_node("[code]\nplugin_dirs = [\"plugins\", \"nope\"]\n"));
    try {
        load_host_config(file);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK_CONFIG_ERROR(e, file.string(), 4, 27, "code.plugin_dirs[1]");
        CHECK_THAT(e.what(), EndsWith(": code.plugin_dirs[1]: no such directory: " + (dir / "nope").string()));
    }
    const fs::path file2 = dir.write("host2.toml", with_node("[code]\nplugin_dirs = [\n  \"a-file\",\n]\n"));
    try {
        load_host_config(file2);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK_CONFIG_ERROR(e, file2.string(), 5, 3, "code.plugin_dirs[0]");
        CHECK_THAT(e.what(), EndsWith("not a directory: " + (dir / "a-file").string()));
    }
}

// ----- supervision tree structure -------------------------------------------------------------

TEST_CASE("simple_one_for_one needs exactly one child spec", "[config][errors][tree]") {
    SECTION("two") {
        const auto e = config_error(with_node(R"([[application]]
name = "pool"
  [application.supervisor]
  strategy = "simple_one_for_one"
  [[application.supervisor.children]]
  id = "w1"
  module = "m"
  [[application.supervisor.children]]
  id = "w2"
  module = "m"
)"));
        CHECK_CONFIG_ERROR(e, "host.toml", 10, 3, "application[0].supervisor.children");
        CHECK_THAT(e.what(), EndsWith("a simple_one_for_one supervisor takes exactly one child spec (the template "
                                      "for the children it starts later); got 2"));
    }
    SECTION("none") {
        const auto e = config_error(with_node(
            "[[application]]\nname = \"pool\"\n  [application.supervisor]\n  strategy = \"simple_one_for_one\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 5, 3, "application[0].supervisor.children[0]");
        CHECK_THAT(e.what(), Contains("application[0].supervisor.children[0] is required for a simple_one_for_one"));
    }
}

TEST_CASE("a supervisor child needs its supervisor table, a worker must not have one", "[config][errors][tree]") {
    SECTION("supervisor without table") {
        const auto e = config_error(with_node(R"([[application]]
name = "a"
  [[application.supervisor.children]]
  id = "sub"
  module = "supervisor"
  type = "supervisor"
)"));
        CHECK_CONFIG_ERROR(e, "host.toml", 5, 3, "application[0].supervisor.children[0].supervisor");
        CHECK(std::string(e.what()) == "host.toml:5:3: application[0].supervisor.children[0].supervisor is required "
                                       "for a child of type \"supervisor\" (its strategy and children)");
    }
    SECTION("worker with table") {
        const auto e = config_error(with_node(R"([[application]]
name = "a"
  [[application.supervisor.children]]
  id = "w"
  module = "m"
    [application.supervisor.children.supervisor]
    strategy = "one_for_all"
)"));
        CHECK_CONFIG_ERROR(e, "host.toml", 8, 5, "application[0].supervisor.children[0].supervisor");
        CHECK_THAT(e.what(), EndsWith("only a child of type \"supervisor\" has a supervisor table (this child's type "
                                      "is \"worker\")"));
    }
    SECTION("supervisor table not a table") {
        const auto e = config_error(with_node(
            "[[application]]\nname = \"a\"\n[[application.supervisor.children]]\nid = \"s\"\nmodule = \"m\"\n"
            "type = \"supervisor\"\nsupervisor = \"one_for_one\"\n"));
        CHECK_CONFIG_ERROR(e, "host.toml", 9, 14, "application[0].supervisor.children[0].supervisor");
        CHECK_THAT(e.what(), Contains("expected table; got string"));
    }
}

TEST_CASE("nesting deeper than 32 supervisors", "[config][errors][tree]") {
    std::string text = "[node]\nname = \"n@h\"\n[[application]]\nname = \"deep\"\n";
    std::size_t lines = 4;
    std::string table = "application.supervisor";
    std::string path = "application[0].supervisor";
    std::size_t bad_line = 0;
    for (int depth = 2; depth <= max_supervision_depth + 1; ++depth) {
        text += "[[" + table + ".children]]\nid = \"s\"\nmodule = \"supervisor\"\ntype = \"supervisor\"\n";
        table += ".children.supervisor";
        path += ".children[0].supervisor";
        text += "[" + table + "]\n";
        lines += 5;
        bad_line = lines;  // the header just written
        text += "strategy = \"one_for_all\"\n";
        ++lines;
    }
    const auto e = config_error(text);
    CHECK_CONFIG_ERROR(e, "host.toml", bad_line, 1, path);
    CHECK_THAT(e.what(), EndsWith("supervision tree nested too deep (more than 32 levels of supervisors)"));
}

// ----- TOML syntax, files -----------------------------------------------------------------------

TEST_CASE("TOML syntax errors keep toml++'s position", "[config][errors][syntax]") {
    SECTION("missing value") {
        const auto e = config_error("[node]\nname = \"a@b\"\nschedulers = \n");
        CHECK_CONFIG_ERROR(e, "host.toml", 3, 14, "");
        CHECK_THAT(e.what(), StartsWith("host.toml:3:14: invalid TOML: "));
    }
    SECTION("duplicate key") {
        const auto e = config_error("[node]\nname = \"a@b\"\nname = \"c@d\"\n");
        CHECK(e.line() == 3);
        CHECK(e.key().empty());
        CHECK_THAT(e.what(), StartsWith("host.toml:3:"));
    }
    SECTION("unterminated string") {
        const auto e = config_error("[node]\nname = \"a@b\n");
        CHECK(e.line() == 2);
        CHECK(e.key().empty());
        CHECK_THAT(e.what(), StartsWith("host.toml:2:"));
    }
}

TEST_CASE("file not found and unreadable paths", "[config][errors][file]") {
    const fs::path missing = data_dir() / "does-not-exist.toml";
    try {
        load_host_config(missing);
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK_CONFIG_ERROR(e, missing.string(), 0, 0, "");
        CHECK(std::string(e.what()) == missing.string() + ": cannot read the file: No such file or directory");
    }
    try {
        load_host_config(data_dir());
        FAIL("no error");
    } catch (const ConfigError& e) {
        CHECK(e.file() == data_dir().string());
        CHECK_THAT(e.what(), Contains("is a directory"));
    }
}

TEST_CASE("every ConfigError is an otpp::Error naming the file", "[config][errors]") {
    CHECK_THROWS_AS(parse_host_config("", "x.toml"), otpp::Error);
    CHECK_THROWS_WITH(parse_host_config("[node]\nname = 1\n", "some/dir/x.toml"), StartsWith("some/dir/x.toml:2:8: "));
    CHECK_THROWS_WITH(parse_host_config("a = ", "y.toml"), StartsWith("y.toml:1:"));
}
