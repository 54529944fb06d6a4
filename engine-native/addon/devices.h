// The compute devices of this build (offload.h) as JS values.
#pragma once

#include "offload.h"

#include <napi.h>

// [{name, description, type, memoryFree, memoryTotal}] (bytes)
Napi::Array devices_to_js(Napi::Env env, const std::vector<sx_device> & devices);
