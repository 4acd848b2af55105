#include "logging.hpp"

#include <otpp/error.hpp>

#include <spdlog/async.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <optional>

namespace otpp::host {

namespace {
std::optional<spdlog::level::level_enum> parse_level(const std::string& level) {
    auto l = spdlog::level::from_str(level);
    // from_str maps anything unknown to `off`: accept "off" only when meant.
    if (l == spdlog::level::off && level != "off") return std::nullopt;
    return l;
}
}  // namespace

void setup_logging(const std::string& level, const std::string& sink) {
    auto lvl = parse_level(level);
    if (!lvl) throw Error("unknown log level '" + level + "'");
    spdlog::init_thread_pool(8192, 1);
    spdlog::sink_ptr out;
    if (sink == "stderr") out = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    else if (sink == "stdout") out = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    else if (sink.rfind("file:", 0) == 0) out = std::make_shared<spdlog::sinks::basic_file_sink_mt>(sink.substr(5));
    else throw Error("unknown log sink '" + sink + "' (stderr, stdout or file:<path>)");
    auto logger = std::make_shared<spdlog::async_logger>("otpp", out, spdlog::thread_pool(),
                                                         spdlog::async_overflow_policy::block);
    logger->set_level(*lvl);
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
    logger->flush_on(spdlog::level::warn);
    spdlog::flush_every(std::chrono::seconds(1));  // info lines reach a file promptly too
    spdlog::set_default_logger(logger);
}

void stop_logging() {
    // Hold the logger across shutdown: the worker thread is joined with its
    // queue drained, and the last reference (and the destructor) stays here.
    std::shared_ptr<spdlog::logger> logger = spdlog::default_logger();
    logger->flush();
    spdlog::shutdown();
    logger.reset();
}

}  // namespace otpp::host
