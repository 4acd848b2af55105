// Names the calling OS thread as `top -H`, `ps -L`, perf and gdb show it, so
// that an operator can tell a scheduler spinning in a plugin from the
// distribution's reader. Linux keeps 15 characters; longer names are cut.
#pragma once

#include <pthread.h>

#include <cstdio>

namespace otpp::runtime {

inline void name_this_thread(const char* name) noexcept {
    char cut[16];
    std::snprintf(cut, sizeof cut, "%s", name);
    pthread_setname_np(pthread_self(), cut);
}

}  // namespace otpp::runtime
