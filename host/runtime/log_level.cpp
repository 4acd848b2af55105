// otpp/log.hpp: the threshold of spdlog's default logger, which the host
// configures (host/app/logging.cpp) and every part of libotpp logs to.
#include <otpp/log.hpp>

#include <spdlog/spdlog.h>

namespace otpp::log {

bool set_level(std::string_view level) {
    std::string name(level);
    auto parsed = spdlog::level::from_str(name);
    // from_str maps anything unknown to `off`: accept "off" only when meant.
    if (parsed == spdlog::level::off && name != "off") return false;
    spdlog::default_logger()->set_level(parsed);
    return true;
}

std::string level() {
    auto sv = spdlog::level::to_string_view(spdlog::default_logger()->level());
    return std::string(sv.data(), sv.size());
}

}  // namespace otpp::log
