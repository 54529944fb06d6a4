#pragma once

#include <napi.h>

// Adds the test-only exports (see addon_testing.cpp) to the addon's.
void sx_testing_exports(Napi::Env env, Napi::Object exports);
