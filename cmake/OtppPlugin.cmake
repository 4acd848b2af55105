# otpp_add_plugin(<name> SOURCES <src>... [OUTPUT_NAME <n>] [VERSION_SUFFIX <s>]
#                 [NO_PREEMPTION])
#
# Builds a plugin: a MODULE library holding one behaviour module, linked to
# otpp::otpp, compiled so that the host can unload it again. The file is
# <n>[-<s>].so (OUTPUT_NAME defaults to <name>) with no "lib" prefix: plugins
# are loaded by path, never linked by -l, and the suffix lets two versions of
# one module sit side by side (probe-1.0.0.so, probe-2.0.0.so).
#
# Why each flag (measured with g++ 12 and glibc 2.36):
#   -fvisibility=hidden -fvisibility-inlines-hidden
#       only the entry point is exported, so two versions of a module loaded
#       at once cannot bind to each other's symbols;
#   -fno-gnu-unique (GCC)
#       inline functions' static locals and template statics otherwise become
#       STB_GNU_UNIQUE symbols, which make glibc's dlclose a silent no-op;
#   -Wl,-Bsymbolic
#       the plugin's own references bind inside the plugin at link time, never
#       to a same-named symbol of another version;
#   -DBOOST_DLL_USE_STD_FS
#       Boost.DLL on std::filesystem: Boost.Filesystem/System would pull in
#       STB_GNU_UNIQUE symbols and another shared library;
#   -fsanitize-coverage=trace-pc (GCC and Clang; not with NO_PREEMPTION)
#       a call to __sanitizer_cov_trace_pc() at every basic block, which
#       libotpp defines: a plain loop in the plugin is preempted like a BEAM
#       process and a kill reaches it within ~0.1 ms, with no
#       yield_point() in the source (host/runtime/preemption.hpp). It costs a
#       call per basic block (otpp-bench preempt_overhead measures it). It
#       needs no sanitizer runtime and combines with -fsanitize=address/thread.
#
# The host (otpp::code::PluginLibrary) checks the result and refuses a library
# with STB_GNU_UNIQUE symbols or thread_local destructors.
#
# NO_PREEMPTION builds the plugin without those checks, for hot code that is
# known to be short or calls yield_point() itself: it then runs unpreempted
# between runtime calls, and only the watchdog keeps a loop in it from
# freezing its scheduler's other processes (and a kill waits for a runtime
# call). Plugin code is preempted at any basic block, so it must not hold a
# std::mutex or rely on a thread_local across its own code (use messages).
#
# Works in-tree and after find_package(otpp): it refers only to the otpp::otpp
# target, never to source paths.
include_guard(GLOBAL)

function(otpp_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "NO_PREEMPTION" "OUTPUT_NAME;VERSION_SUFFIX" "SOURCES")
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "otpp_add_plugin(${name}): unexpected arguments: ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "otpp_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT TARGET otpp::otpp)
    message(FATAL_ERROR "otpp_add_plugin(${name}): no otpp::otpp target; call find_package(otpp) first")
  endif()

  set(output "${name}")
  if(arg_OUTPUT_NAME)
    set(output "${arg_OUTPUT_NAME}")
  endif()
  if(DEFINED arg_VERSION_SUFFIX AND NOT arg_VERSION_SUFFIX STREQUAL "")
    string(APPEND output "-${arg_VERSION_SUFFIX}")
  endif()

  add_library(${name} MODULE ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE otpp::otpp)
  # The SDK headers are C++20.
  target_compile_features(${name} PRIVATE cxx_std_20)
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    OUTPUT_NAME "${output}"
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON)
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU>:-fno-gnu-unique>)
  if(NOT arg_NO_PREEMPTION)
    target_compile_options(${name} PRIVATE $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-fsanitize-coverage=trace-pc>)
  endif()
  target_compile_definitions(${name} PRIVATE BOOST_DLL_USE_STD_FS)
  target_link_options(${name} PRIVATE LINKER:-Bsymbolic)
endfunction()
