// Shared by the loader's test plugins: how they export a C entry point while
// everything else stays hidden (otpp_add_plugin builds with -fvisibility=hidden).
#pragma once

#define OTPP_TEST_EXPORT extern "C" __attribute__((visibility("default")))
