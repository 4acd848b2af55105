// Loading the plugin directories at start-up.
#pragma once

#include "host_config.hpp"

#include <otpp/runtime.hpp>

namespace otpp::host {

// Loads every *.so in the configured plugin directories as the current version
// of its module. A plugin that fails to load is logged and skipped — unless a
// configured application needs its module: then this throws (the host must
// not start half-configured), naming the module, the file and the reason.
void load_plugins(Runtime& runtime, const HostConfig& config);

}  // namespace otpp::host
