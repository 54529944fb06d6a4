# Clone llama.cpp from the pinned git bundle into the build tree (once) and apply our patches.
# A later configure finds the clone (marked by .specexec-patched) and leaves it alone, so
# llama.cpp is never fetched or rebuilt again unless the build directory is removed. Patches for
# one backend (patch_dir/vulkan/) are applied when a build first enables that backend.
function(specexec_apply_patches dest patches)
  foreach(p IN LISTS patches)
    execute_process(COMMAND "${GIT_EXECUTABLE}" apply "${p}" WORKING_DIRECTORY "${dest}"
                    RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
      message(FATAL_ERROR "${CMAKE_CURRENT_FUNCTION}: applying ${p} failed (${rc})")
    endif()
  endforeach()
endfunction()

function(specexec_fetch_llama_source bundle dest patch_dir)
  find_package(Git REQUIRED)
  if(NOT EXISTS "${dest}/.specexec-patched")
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
    file(GLOB patches "${patch_dir}/*.patch")
    specexec_apply_patches("${dest}" "${patches}")
    file(WRITE "${dest}/.specexec-patched" "patched\n")
  endif()
  if(GGML_VULKAN AND NOT EXISTS "${dest}/.specexec-patched-vulkan")
    file(GLOB patches "${patch_dir}/vulkan/*.patch")
    specexec_apply_patches("${dest}" "${patches}")
    file(WRITE "${dest}/.specexec-patched-vulkan" "patched\n")
  endif()
endfunction()
