# The plugin's fuzz target (fuzz_plugin*.c); included by CMakeLists.txt when the plugin
# is built against Wireshark 4.0 with sanitizers on. The plugin's own sources are compiled
# into the program (not the .so): the sanitizers see them, and no plugin folder is read.

get_target_property(tcps_fp_plugin_rel tcpstate SOURCES)
set(TCPS_FP_PLUGIN_SRC "")
foreach(f ${tcps_fp_plugin_rel})
  list(APPEND TCPS_FP_PLUGIN_SRC "${PROJECT_SOURCE_DIR}/plugin/${f}")
endforeach()
set(TCPS_FP_SRC "${CMAKE_CURRENT_SOURCE_DIR}/fuzz_plugin.c"
  "${CMAKE_CURRENT_SOURCE_DIR}/fuzz_plugin_epan.c" "${CMAKE_CURRENT_SOURCE_DIR}/fuzz_plugin_check.c"
  "${CMAKE_CURRENT_SOURCE_DIR}/../unit/invariants.c")
set(TCPS_FP_SEEDS "${CMAKE_CURRENT_BINARY_DIR}/plugin-seeds")
set(TCPS_FP_REGRESS "${CMAKE_CURRENT_SOURCE_DIR}/regress-plugin")
get_filename_component(tcps_fp_default_corpus "${PROJECT_SOURCE_DIR}/../shared/corpus" ABSOLUTE)
set(TCPS_CORPUS_DIR "${tcps_fp_default_corpus}" CACHE PATH
  "Third-party captures swept by robust.sweep.corpus (skipped when the folder is absent)")
set(TCPS_FUZZ_PLUGIN_SECONDS 60 CACHE STRING
  "How long the fuzz.plugin.libfuzzer test fuzzes, in seconds")
set(tcps_fp_san -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

add_executable(fuzz_plugin_replay replay_main.c ${TCPS_FP_SRC} ${TCPS_FP_PLUGIN_SRC})
target_include_directories(fuzz_plugin_replay PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}/../unit"
  "${PROJECT_SOURCE_DIR}/plugin")
target_compile_definitions(fuzz_plugin_replay PRIVATE FUZZ_REPLAY_NO_SEGMENTS)
target_link_libraries(fuzz_plugin_replay PRIVATE epan wiretap wsutil tcpstate_tracker_san)
target_compile_options(fuzz_plugin_replay PRIVATE ${TCPS_WARNINGS} ${tcps_fp_san})
target_link_options(fuzz_plugin_replay PRIVATE -fsanitize=address,undefined)

# Seeds, written at test time: one per bundled capture (pcaps/random/ included) for the
# replay in ctest; one per capture of the third-party corpus, when present, for the slow
# corpus replay (and then libFuzzer).
set(TCPS_FP_CORPUS_SEEDS "${CMAKE_CURRENT_BINARY_DIR}/plugin-seeds-corpus")
add_test(NAME fuzz.plugin.seeds
  COMMAND "${Python3_EXECUTABLE}" "${CMAKE_CURRENT_SOURCE_DIR}/pcap2frames.py" --windows=1
    "${TCPS_FP_SEEDS}" "${TCPS_FUZZ_PCAPS}")
set_tests_properties(fuzz.plugin.seeds PROPERTIES FIXTURES_SETUP tcps_fp_seeds LABELS fuzz)

# Wireshark leaks at exit by design: leaks are not checked here (tests/robust/oom_* do).
set(tcps_fp_env "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1"
  "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1" "WIRESHARK_EXTCAP_DIR=/nonexistent")
add_test(NAME fuzz.plugin.replay
  COMMAND fuzz_plugin_replay "${TCPS_FP_REGRESS}" "${TCPS_FP_SEEDS}")
set_tests_properties(fuzz.plugin.replay PROPERTIES FIXTURES_REQUIRED tcps_fp_seeds
  LABELS "fuzz;asan" ENVIRONMENT "${tcps_fp_env}" TIMEOUT 300)
if(EXISTS "${TCPS_CORPUS_DIR}")
  add_test(NAME fuzz.plugin.replay.corpus
    COMMAND sh -c "\"$1\" \"$2\" \"$3\" \"$4\" \"$5\" && \"$6\" \"$4\""
      sh "${Python3_EXECUTABLE}" "${CMAKE_CURRENT_SOURCE_DIR}/pcap2frames.py"
      "--windows=1" "${TCPS_FP_CORPUS_SEEDS}" "${TCPS_CORPUS_DIR}"
      "$<TARGET_FILE:fuzz_plugin_replay>")
  set_tests_properties(fuzz.plugin.replay.corpus PROPERTIES LABELS "fuzz;asan;slow"
    ENVIRONMENT "${tcps_fp_env}" TIMEOUT 900)
endif()

# libFuzzer (clang; TCPS_CAN_FUZZ from CMakeLists.txt), compiled by a custom command as
# fuzz_tracker is, with libwireshark's flags from pkg-config.
find_package(PkgConfig QUIET)
if(TCPS_CAN_FUZZ AND PKG_CONFIG_FOUND)
  pkg_check_modules(TCPS_WS_PC QUIET wireshark)
endif()
if(TCPS_CAN_FUZZ AND TCPS_WS_PC_FOUND)
  message(STATUS "libFuzzer found (${TCPS_CLANG}): fuzz.plugin.libfuzzer test added")
  set(fp_bin "${CMAKE_CURRENT_BINARY_DIR}/fuzz_plugin")
  set(fp_inc "")
  foreach(d ${TCPS_WS_PC_INCLUDE_DIRS})
    list(APPEND fp_inc -I "${d}")
  endforeach()
  add_custom_command(OUTPUT "${fp_bin}"
    COMMAND "${TCPS_CLANG}" -std=c11 -g -O1 ${TCPS_WARNINGS} -Wno-unused-command-line-argument
      -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
      ${fp_inc} -I "${PROJECT_SOURCE_DIR}/plugin" -I "${TCPS_TRACKER_DIR}"
      -I "${CMAKE_CURRENT_SOURCE_DIR}/../unit"
      ${TCPS_FP_SRC} ${TCPS_FP_PLUGIN_SRC} ${TCPS_TRACKER_SOURCES}
      ${TCPS_WS_PC_LDFLAGS} -lwiretap -o "${fp_bin}"
    DEPENDS ${TCPS_FP_SRC} ${TCPS_FP_PLUGIN_SRC} ${TCPS_TRACKER_SOURCES}
      "${CMAKE_CURRENT_SOURCE_DIR}/fuzz_plugin.h"
    COMMENT "Building the libFuzzer target fuzz_plugin with ${TCPS_CLANG}"
    VERBATIM)
  add_custom_target(fuzz_plugin ALL DEPENDS "${fp_bin}")
  add_test(NAME fuzz.plugin.libfuzzer
    COMMAND sh "${CMAKE_CURRENT_SOURCE_DIR}/run_fuzz.sh" "${fp_bin}" "${TCPS_FUZZ_PLUGIN_SECONDS}"
      "${CMAKE_CURRENT_BINARY_DIR}/plugin-work" "${TCPS_FP_REGRESS}" "${TCPS_FP_SEEDS}"
      "${TCPS_FP_CORPUS_SEEDS}")
  math(EXPR fp_timeout "${TCPS_FUZZ_PLUGIN_SECONDS} + 300")
  set_tests_properties(fuzz.plugin.libfuzzer PROPERTIES FIXTURES_REQUIRED tcps_fp_seeds
    LABELS "fuzz;slow" TIMEOUT ${fp_timeout}
    ENVIRONMENT "${tcps_fp_env};TCPS_FUZZ_MAX_LEN=16384;TCPS_FUZZ_RSS_MB=8192")
endif()

# For ../robust/ (robust.oom.plugin), a sibling folder: through the parent's scope.
set(TCPS_FP_SRC "${TCPS_FP_SRC}" PARENT_SCOPE)
set(TCPS_FP_PLUGIN_SRC "${TCPS_FP_PLUGIN_SRC}" PARENT_SCOPE)
set(TCPS_FP_SEEDS "${TCPS_FP_SEEDS}" PARENT_SCOPE)
set(tcps_fp_env "${tcps_fp_env}" PARENT_SCOPE)
