# -DOTPP_SANITIZE=address  -> AddressSanitizer + UndefinedBehaviorSanitizer
# -DOTPP_SANITIZE=thread   -> ThreadSanitizer
# Applied globally so that libotpp, plugins, tests and tools agree.
if(OTPP_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # The runtime announces its fiber switches to ASan itself (host/runtime/fiber_switch.hpp).
  add_compile_definitions(OTPP_ASAN=1)
elseif(OTPP_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # The runtime announces its fiber switches to TSan itself (host/runtime/fiber_switch.hpp).
  add_compile_definitions(OTPP_TSAN=1)
elseif(NOT OTPP_SANITIZE STREQUAL "" AND NOT OTPP_SANITIZE STREQUAL "none")
  message(FATAL_ERROR "OTPP_SANITIZE must be empty, none, address or thread (got '${OTPP_SANITIZE}')")
endif()
