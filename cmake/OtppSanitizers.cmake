# -DOTPP_SANITIZE=address  -> AddressSanitizer + UndefinedBehaviorSanitizer
# -DOTPP_SANITIZE=thread   -> ThreadSanitizer
# Applied globally so that libotpp, plugins, tests and tools agree.
if(OTPP_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # Boost.Context switches stacks: its ucontext backend tells ASan about each switch.
  add_compile_definitions(BOOST_USE_UCONTEXT BOOST_USE_ASAN OTPP_ASAN=1)
elseif(OTPP_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # The runtime announces its fiber switches to TSan itself (host/runtime/context.cpp).
  add_compile_definitions(OTPP_TSAN=1)
elseif(NOT OTPP_SANITIZE STREQUAL "" AND NOT OTPP_SANITIZE STREQUAL "none")
  message(FATAL_ERROR "OTPP_SANITIZE must be empty, none, address or thread (got '${OTPP_SANITIZE}')")
endif()
