# cmake -DOUT=<file> -DKIND=garbage|empty -P write_fixture.cmake
# Files the loader must refuse before dlopen: random text named .so, and an
# empty .so. The text is seeded, so every build writes the same bytes.
if(KIND STREQUAL "empty")
  file(WRITE "${OUT}" "")
elseif(KIND STREQUAL "garbage")
  set(text "")
  foreach(line RANGE 1 64)
    string(RANDOM LENGTH 63 RANDOM_SEED ${line} chunk)
    string(APPEND text "${chunk}\n")
  endforeach()
  file(WRITE "${OUT}" "${text}")
else()
  message(FATAL_ERROR "write_fixture.cmake: KIND must be garbage or empty")
endif()
