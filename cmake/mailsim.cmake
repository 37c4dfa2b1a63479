# Shared helpers for mailsim's targets: one warning set, one way to declare a
# library area (real/<area>, sim/<area>) and its unit tests.

# mailsim_warnings(target): -Wall -Wextra -Wpedantic, kept clean.
# With GCC 12 at -O3 four of them fire inside libstdc++'s own std::string
# code (operator+, assign) on paths that cannot happen, even for
# `std::string(DIR) + "/scenarios"` (GCC bug 105329 and its relatives):
# -Wrestrict, -Wstringop-overflow, -Wstringop-overread and -Warray-bounds.
# They stay on for other compilers and versions.
function(mailsim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict -Wno-stringop-overflow -Wno-stringop-overread -Wno-array-bounds>)
endfunction()

# Optimised builds (RelWithDebInfo, what scripts/setup.sh makes, and Release)
# use -O3 instead of -O2: the simulator's letters-over-a-day run went from
# 13,700-18,700 to 18,000-19,400 messages/s in alternating runs
# (tests/bench/sim_bench.sh). Options come after CMAKE_CXX_FLAGS_<CONFIG> on
# the command line, so this -O3 is the one that counts.
add_compile_options($<$<CONFIG:RelWithDebInfo,Release>:-O3>)

# mailsim_area(NAME <layer>_<area> SOURCES ... DEPS ...)
# A static library `mailsim_<layer>_<area>` with alias `mailsim::<layer>_<area>`,
# include root at the repository top (so code says #include "real/smtp/server.h").
function(mailsim_area)
  cmake_parse_arguments(A "" "NAME" "SOURCES;DEPS" ${ARGN})
  set(t mailsim_${A_NAME})
  add_library(${t} STATIC ${A_SOURCES})
  add_library(mailsim::${A_NAME} ALIAS ${t})
  target_include_directories(${t} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(${t} PUBLIC ${A_DEPS})
  mailsim_warnings(${t})
  set_property(GLOBAL APPEND PROPERTY MAILSIM_AREAS_${A_NAME} ${t})
endfunction()

# mailsim_unit_test(<name> SOURCES ... DEPS ...)
# A Catch2 (v2) executable `test_<name>`; every TEST_CASE becomes a ctest test.
# Build just one area's tests with `cmake --build build --target test_<name>`.
function(mailsim_unit_test name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(test_${name} ${A_SOURCES})
  target_link_libraries(test_${name} PRIVATE mailsim_catch_main ${A_DEPS})
  target_precompile_headers(test_${name} REUSE_FROM mailsim_catch_pch)
  target_compile_definitions(test_${name} PRIVATE
    MAILSIM_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  mailsim_warnings(test_${name})
  catch_discover_tests(test_${name} TEST_PREFIX "${name}: "
    PROPERTIES TIMEOUT 300)
endfunction()

# mailsim::malloc — tcmalloc (gperftools' tcmalloc_minimal) as the allocator
# of the programs that run the simulator (the `mailsim` program, the sim
# benchmark). A simulated letter makes hundreds of small allocations on its
# way (sessions, segments, queue records); glibc's malloc spent a quarter of
# a benchmark run on them, tcmalloc's per-thread caches a third of that.
# Linked "no-as-needed": nothing calls it by name, it replaces malloc/new.
find_package(PkgConfig REQUIRED)
pkg_check_modules(TCMALLOC REQUIRED IMPORTED_TARGET libtcmalloc_minimal)
add_library(mailsim_malloc INTERFACE)
target_link_libraries(mailsim_malloc INTERFACE "-Wl,--push-state,--no-as-needed" PkgConfig::TCMALLOC "-Wl,--pop-state")
# ...and takes its memory from the system in huge pages (cmake/huge_pages.cpp):
# compiled into each program that links mailsim::malloc.
target_sources(mailsim_malloc INTERFACE "${CMAKE_CURRENT_LIST_DIR}/huge_pages.cpp")
add_library(mailsim::malloc ALIAS mailsim_malloc)
