# cmake -DTCPS_ACTION=install|uninstall -DTCPS_PLUGIN=path/to/tcpstate.so
#       -DTCPS_WS_MAJMIN=X.Y -DTCPS_PROFILE_SRC="path/to/profiles/TCP State"
#       -P user-install.cmake
# Run by the install-user and uninstall-user targets (packaging/CMakeLists.txt).
# Personal folders, as Wireshark finds them on Linux:
#   plugin:  $HOME/.local/lib/wireshark/plugins/X.Y/epan/tcpstate.so
#   profile: $XDG_CONFIG_HOME/wireshark/profiles/TCP State/ ($XDG_CONFIG_HOME
#            defaults to $HOME/.config; $HOME/.wireshark/profiles/ instead when
#            $HOME/.wireshark exists, as Wireshark prefers that legacy folder)
if(NOT DEFINED ENV{HOME} OR "$ENV{HOME}" STREQUAL "")
  message(FATAL_ERROR "HOME is not set")
endif()
set(home "$ENV{HOME}")
set(plugin_dir "${home}/.local/lib/wireshark/plugins/${TCPS_WS_MAJMIN}/epan")
if(IS_DIRECTORY "${home}/.wireshark")
  set(conf_dir "${home}/.wireshark")
elseif(DEFINED ENV{XDG_CONFIG_HOME} AND NOT "$ENV{XDG_CONFIG_HOME}" STREQUAL "")
  set(conf_dir "$ENV{XDG_CONFIG_HOME}/wireshark")
else()
  set(conf_dir "${home}/.config/wireshark")
endif()
get_filename_component(profile_name "${TCPS_PROFILE_SRC}" NAME)
set(profile_dir "${conf_dir}/profiles/${profile_name}")

if(TCPS_ACTION STREQUAL "install")
  file(MAKE_DIRECTORY "${plugin_dir}")
  file(COPY "${TCPS_PLUGIN}" DESTINATION "${plugin_dir}"
    FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
  message(STATUS "tcpstate: installed ${plugin_dir}/tcpstate.so")
  if(IS_DIRECTORY "${TCPS_PROFILE_SRC}")
    # The profile's recent (column widths) only where there is none: Wireshark rewrites
    # it with the user's own widths and window sizes, which a reinstall keeps.
    file(COPY "${TCPS_PROFILE_SRC}" DESTINATION "${conf_dir}/profiles"
      PATTERN "recent*" EXCLUDE)
    if(EXISTS "${TCPS_PROFILE_SRC}/recent" AND NOT EXISTS "${profile_dir}/recent")
      file(COPY "${TCPS_PROFILE_SRC}/recent" DESTINATION "${profile_dir}")
    endif()
    message(STATUS "tcpstate: installed the profile ${profile_dir}")
  endif()
  execute_process(COMMAND id -u OUTPUT_VARIABLE uid OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(uid STREQUAL "0")
    message(WARNING "tcpstate: Wireshark and tshark ignore personal plugins when run as "
      "root; as root, install the .deb or the global plugin folder instead (see README)")
  endif()
elseif(TCPS_ACTION STREQUAL "uninstall")
  foreach(f "${plugin_dir}/tcpstate.so" "${profile_dir}")
    if(EXISTS "${f}")
      file(REMOVE_RECURSE "${f}")
      message(STATUS "tcpstate: removed ${f}")
    endif()
  endforeach()
else()
  message(FATAL_ERROR "TCPS_ACTION must be install or uninstall")
endif()
