// The [control] table of the host's config (docs/CONFIG.md).
#include <host_config.hpp>

#include <catch2/catch.hpp>

using namespace otpp::host;

namespace {
HostConfig parse(const std::string& control) {
    return parse_host_config("[node]\nname = \"a@b\"\n" + control, "/etc/otpp/host.toml");
}
}  // namespace

TEST_CASE("config [control]: defaults", "[control][config]") {
    HostConfig c = parse("");
    CHECK(c.control.enabled);
    CHECK(c.control.max_clients == 16);
    CHECK(c.control.idle_timeout_ms == 600000);
    CHECK_FALSE(c.control.runtime_dir.empty());
    CHECK(c.control.runtime_dir.is_absolute());
}

TEST_CASE("config [control]: every key", "[control][config]") {
    HostConfig c = parse("[control]\nruntime_dir = \"run\"\nenabled = false\nmax_clients = 4\nidle_timeout_ms = 1500\n");
    CHECK(c.control.runtime_dir == "/etc/otpp/run");
    CHECK_FALSE(c.control.enabled);
    CHECK(c.control.max_clients == 4);
    CHECK(c.control.idle_timeout_ms == 1500);
}

TEST_CASE("config [control]: errors name the file, position and key", "[control][config]") {
    CHECK_THROWS_WITH(parse("[control]\nmax_clients = 0\n"),
                      Catch::Contains("host.toml:4:15: control.max_clients") && Catch::Contains("1..1024"));
    CHECK_THROWS_WITH(parse("[control]\nenabled = 1\n"), Catch::Contains("control.enabled: expected boolean"));
    CHECK_THROWS_WITH(parse("[control]\nidle_timeout_ms = \"5s\"\n"),
                      Catch::Contains("control.idle_timeout_ms: expected integer"));
    CHECK_THROWS_WITH(parse("[control]\nmax_client = 3\n"), Catch::Contains("did you mean \"max_clients\""));
}
