// Behaviour modules compiled into libotpp, registered by every Runtime.
#pragma once

#include <otpp/module.hpp>

namespace otpp::supervisor {
const ModuleDescriptor& builtin_module();  // "supervisor"
}
