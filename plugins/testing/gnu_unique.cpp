// A plugin built the way otpp_add_plugin() prevents: default visibility and
// GCC's default -fgnu-unique. The static local of an inline function then
// becomes an STB_GNU_UNIQUE symbol; the reference to it from an exported
// function is bound by the dynamic linker (no -Bsymbolic), which is what
// makes glibc mark the library NODELETE.
#include <otpp/module.hpp>

namespace probe_unique {

inline int& counter() {
    static int count = 0;
    return count;
}

}  // namespace probe_unique

namespace {

constexpr otpp::ModuleDescriptor descriptor{otpp::module_magic,
                                            otpp::sdk_abi_version,
                                            sizeof(otpp::ModuleDescriptor),
                                            otpp::BehaviourKind::gen_server,
                                            "gnu_unique",
                                            "1.0.0",
                                            nullptr};

}  // namespace

extern "C" const otpp::ModuleDescriptor* otpp_module_descriptor() { return &descriptor; }

extern "C" int gnu_unique_touch() { return ++probe_unique::counter(); }
