# Clone llama.cpp from the pinned git bundle into the build tree (once) and apply our patches.
# A later configure finds the clone (marked by .specexec-patched) and leaves it alone, so
# llama.cpp is never fetched or rebuilt again unless the build directory is removed or a patch
# changes. Patches for one backend (patch_dir/vulkan/) are applied when a build first enables it.
function(specexec_apply_patches dest patches)
  foreach(p IN LISTS patches)
    execute_process(COMMAND "${GIT_EXECUTABLE}" apply "${p}" WORKING_DIRECTORY "${dest}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}: applying ${p} failed (${rc})")
    endif()
  endforeach()
endfunction()

# The marker holds each patch's name and hash: a build directory made before a patch changed is
# cloned and patched afresh (llama.cpp then recompiles once).
function(specexec_fetch_llama_source bundle dest patch_dir)
  find_package(Git REQUIRED)
  file(GLOB patches "${patch_dir}/*.patch")
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${patches})
  set(stamp "")
  foreach(p IN LISTS patches)
    file(SHA256 "${p}" hash)
    get_filename_component(name "${p}" NAME)
    string(APPEND stamp "${name} ${hash}\n")
  endforeach()
  set(applied "")
  if(EXISTS "${dest}/.specexec-patched")
    file(READ "${dest}/.specexec-patched" applied)
  endif()
  if(NOT applied STREQUAL stamp)
    if(NOT EXISTS "${bundle}")
      message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}: llama.cpp bundle not found: '${bundle}'. "
                          "Run 'npm run build' (engine-native/tools/build-native.mjs) which fetches it.")
    endif()
    file(REMOVE_RECURSE "${dest}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" clone --quiet "${bundle}" "${dest}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}: git clone of ${bundle} failed (${rc})")
    endif()
    specexec_apply_patches("${dest}" "${patches}")
    file(WRITE "${dest}/.specexec-patched" "${stamp}")
  endif()
  if(GGML_VULKAN AND NOT EXISTS "${dest}/.specexec-patched-vulkan")
    file(GLOB patches "${patch_dir}/vulkan/*.patch")
    specexec_apply_patches("${dest}" "${patches}")
    file(WRITE "${dest}/.specexec-patched-vulkan" "patched\n")
  endif()
endfunction()
