# SPDX-License-Identifier: Apache-2.0
# Helpers shared by every module: warnings per target, module libraries, tests, benches, fuzzers.

function(pel_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wsign-conversion -Wnon-virtual-dtor
    -Woverloaded-virtual -Wold-style-cast -Wimplicit-fallthrough)
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(${target} PRIVATE -Wthread-safety)
  endif()
  if(PEL_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

macro(pel_setup_sanitizers)
  if(PEL_SANITIZE)
    if(PEL_SANITIZE MATCHES "thread" AND PEL_SANITIZE MATCHES "address")
      message(FATAL_ERROR "PEL_SANITIZE: thread cannot be combined with address")
    endif()
    add_compile_options(-fsanitize=${PEL_SANITIZE} -fno-omit-frame-pointer -g)
    add_link_options(-fsanitize=${PEL_SANITIZE})
    if(PEL_SANITIZE MATCHES "undefined")
      add_compile_options(-fno-sanitize-recover=undefined)
    endif()
  endif()
endmacro()

# PEL_MALLOC picks the allocator that pel_use_malloc links into programs. jemalloc (Debian's
# libjemalloc-dev) is the default: pel-node spends about a tenth of its CPU in glibc's malloc and
# free under RPC load (JSON documents, transactions, trie nodes), and jemalloc's per-thread caches
# measured 8% more committed tx/s there (README, "Load"). Sanitizers and libFuzzer bring their
# own allocator, so those builds keep the system one. Libraries and tests never link it: the
# choice belongs to the program.
macro(pel_setup_malloc)
  set(PEL_MALLOC_RESOLVED "${PEL_MALLOC}")
  if(PEL_MALLOC STREQUAL "auto")
    if(PEL_SANITIZE OR PEL_BUILD_FUZZ)
      set(PEL_MALLOC_RESOLVED "system")
    else()
      set(PEL_MALLOC_RESOLVED "jemalloc")
    endif()
  endif()
  if(PEL_MALLOC_RESOLVED STREQUAL "jemalloc")
    if(PEL_SANITIZE OR PEL_BUILD_FUZZ)
      message(FATAL_ERROR "PEL_MALLOC=jemalloc cannot be combined with sanitizers or fuzzers")
    endif()
    pkg_check_modules(JEMALLOC REQUIRED IMPORTED_TARGET jemalloc)
  elseif(NOT PEL_MALLOC_RESOLVED STREQUAL "system")
    message(FATAL_ERROR "PEL_MALLOC must be jemalloc, system or auto, not '${PEL_MALLOC}'")
  endif()
  message(STATUS "pel: programs use the ${PEL_MALLOC_RESOLVED} malloc")
endmacro()

# pel_use_malloc(target): link the PEL_MALLOC allocator into an executable.
function(pel_use_malloc target)
  if(PEL_MALLOC_RESOLVED STREQUAL "jemalloc")
    target_link_libraries(${target} PRIVATE PkgConfig::JEMALLOC)
  endif()
endfunction()

# pel_add_module(NAME vm SOURCES ... PUBLIC_DEPS ... PRIVATE_DEPS ...)
# Creates library pel_<NAME> with alias pel::<NAME>; the repository root is the include path.
function(pel_add_module)
  cmake_parse_arguments(M "" "NAME" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(pel_${M_NAME} ${M_SOURCES})
  add_library(pel::${M_NAME} ALIAS pel_${M_NAME})
  target_include_directories(pel_${M_NAME} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(pel_${M_NAME} PUBLIC ${M_PUBLIC_DEPS} PRIVATE ${M_PRIVATE_DEPS})
  pel_warnings(pel_${M_NAME})
endfunction()

set(PEL_TEST_ENV
  "ASAN_OPTIONS=abort_on_error=1:detect_leaks=1"
  "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1"
  "TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1")

# pel_add_test(NAME pel_primitives_test SOURCES ... DEPS ... [LABELS ...])
# Test cases named `tool_*` are helpers run on demand with --gtest_filter (a child process that
# another test starts, a replay of one seed); ctest does not list them, so it never shows them as
# skipped. Run directly without their environment they skip.
function(pel_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${T_NAME} PRIVATE PEL_FIXTURES_DIR="${PEL_FIXTURES_DIR}")
  pel_warnings(${T_NAME})
  gtest_discover_tests(${T_NAME}
    DISCOVERY_TIMEOUT 60
    TEST_FILTER "-*.tool_*"
    PROPERTIES ENVIRONMENT "${PEL_TEST_ENV}" LABELS "${T_LABELS}")
endfunction()

# pel_add_bench(NAME pel_primitives_bench SOURCES ... DEPS ...)
# Every bench is also a ctest smoke test (label "bench") that runs each benchmark briefly.
function(pel_add_bench)
  cmake_parse_arguments(B "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${B_NAME} ${B_SOURCES})
  target_link_libraries(${B_NAME} PRIVATE ${B_DEPS} benchmark::benchmark)
  pel_warnings(${B_NAME})
  pel_use_malloc(${B_NAME})
  add_test(NAME ${B_NAME}_smoke COMMAND ${B_NAME} --benchmark_min_time=0.01)
  set_tests_properties(${B_NAME}_smoke PROPERTIES LABELS bench ENVIRONMENT "${PEL_TEST_ENV}")
endfunction()

# pel_add_fuzz(NAME pel_rlp_fuzz SOURCES ... DEPS ...): libFuzzer target, clang only.
function(pel_add_fuzz)
  cmake_parse_arguments(F "" "NAME" "SOURCES;DEPS" ${ARGN})
  add_executable(${F_NAME} ${F_SOURCES})
  target_link_libraries(${F_NAME} PRIVATE ${F_DEPS})
  target_compile_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
  target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
  pel_warnings(${F_NAME})
endfunction()
