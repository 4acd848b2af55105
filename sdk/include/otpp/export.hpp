// Symbol visibility for libotpp.
//
// libotpp is built with -fvisibility=hidden: only what is marked OTPP_API is part
// of its ABI. Plugins are built hidden too, so every type whose identity must be
// shared between the host and its plugins (terms, exceptions, the runtime API) is
// defined once, here, and exported.
#pragma once

#if defined(OTPP_BUILDING_LIBRARY)
#define OTPP_API __attribute__((visibility("default")))
#else
#define OTPP_API __attribute__((visibility("default")))
#endif
