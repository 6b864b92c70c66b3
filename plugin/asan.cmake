# tcpstate_asan.so: the plugin built with AddressSanitizer and
# UndefinedBehaviorSanitizer, for the robustness sweep (tests/robust/). Same
# sources and libraries as the tcpstate target, with the tracker built with
# sanitizers too (tcpstate_tracker_san). Not installed. tshark itself is not
# instrumented, so it needs the ASan runtime preloaded; see
# tests/robust/sweep.py (LD_PRELOAD=libasan.so.8, ASAN_OPTIONS=detect_leaks=0).
# Included at the end of plugin/CMakeLists.txt.
if(TCPS_SANITIZE AND TARGET tcpstate_tracker_san AND CMAKE_C_COMPILER_ID STREQUAL "GNU")
  get_target_property(tcps_asan_sources tcpstate SOURCES)
  add_library(tcpstate_asan MODULE ${tcps_asan_sources})
  set_target_properties(tcpstate_asan PROPERTIES PREFIX "" OUTPUT_NAME tcpstate_asan
    C_VISIBILITY_PRESET hidden)
  target_link_libraries(tcpstate_asan PRIVATE epan tcpstate_tracker_san)
  target_compile_options(tcpstate_asan PRIVATE ${TCPS_WARNINGS}
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(tcpstate_asan PRIVATE -fsanitize=address,undefined)
endif()
