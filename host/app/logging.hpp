// The host's log: spdlog's default logger, made asynchronous so that crash
// reports and supervisor reports cost a queue push, not a write(2), in the
// processes that emit them.
#pragma once

#include <string>

namespace otpp::host {

// level: trace, debug, info, warn, error, critical, off.
// sink: "stderr", "stdout" or "file:<path>". Throws otpp::Error on a bad sink.
void setup_logging(const std::string& level, const std::string& sink);
// (Changing the level at runtime: otpp::log::set_level, otpp/log.hpp.)
// Flushes and stops the background logging thread.
void stop_logging();

}  // namespace otpp::host
