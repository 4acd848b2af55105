// The log level can be changed while the host runs.
#include <otpp/log.hpp>

#include <catch2/catch.hpp>

TEST_CASE("log level: set, read back, and refuse unknown names", "[log]") {
    std::string before = otpp::log::level();
    CHECK(otpp::log::set_level("debug"));
    CHECK(otpp::log::level() == "debug");
    CHECK(otpp::log::set_level("off"));
    CHECK(otpp::log::level() == "off");
    CHECK_FALSE(otpp::log::set_level("loud"));
    CHECK(otpp::log::level() == "off");  // unchanged
    CHECK(otpp::log::set_level(before));
}
