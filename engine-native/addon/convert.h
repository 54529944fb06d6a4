// Conversions between JS values and the engine's C++ structs, and sx_error -> JS Error.
#pragma once

#include "engine.h"
#include "model.h"

#include <napi.h>

Napi::Object             model_info_to_js(Napi::Env env, const sx_model_info & info);
Napi::Object             result_to_js(Napi::Env env, const sx_result & result);
sx_engine_params         engine_params_from_js(const Napi::Object & o);
sx_request               request_from_js(const Napi::Object & o);
sx_prompt                prompt_from_js(const Napi::Value & v);
std::vector<llama_token> tokens_from_js(const Napi::Value & v);
// [{batch, ms}] <-> the budget's cost curve (unscaled)
sx_cost_curve            curve_from_js(const Napi::Value & v);
Napi::Value              curve_to_js(Napi::Env env, const sx_cost_curve & c);

// A JS Error carrying the engine's stable error code in `code`.
Napi::Error error_to_js(Napi::Env env, int code, const std::string & message);
