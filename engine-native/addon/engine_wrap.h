// JS class Engine: load(params) -> Promise<info>, generate(request, onDelta, nested?) ->
// Promise<result>, timeTargetPasses(batches) -> Promise<[{batch, ms}]>, warm(prompt, maxTokens) ->
// Promise<stats>, renderPrompt(prompt, maxTokens) -> {tokens, text}, cancel(), cancelNested(),
// heartbeat(), close(). Loading, generation and timing run on a libuv worker thread (the host keeps
// one: see engine-host.ts); deltas reach JS through the worker's progress queue. A generation
// asked for as nested while another runs joins it at its next step (nested_generation.h).
#pragma once

#include "engine.h"
#include "nested_generation.h"

#include <napi.h>

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
  public:
    static Napi::Function define(Napi::Env env);
    explicit EngineWrap(const Napi::CallbackInfo & info);
    ~EngineWrap() override;

    sx_engine_ptr engine;
    bool          busy = false;  // a load, generation or timing is running on a worker thread
    NestedSlot    nested;        // open while a generation runs

  private:
    Napi::Value load(const Napi::CallbackInfo & info);
    Napi::Value generate(const Napi::CallbackInfo & info);
    Napi::Value cancel(const Napi::CallbackInfo & info);
    Napi::Value cancel_nested(const Napi::CallbackInfo & info);
    Napi::Value heartbeat(const Napi::CallbackInfo & info);
    Napi::Value close(const Napi::CallbackInfo & info);
    Napi::Value time_target_passes(const Napi::CallbackInfo & info);
    Napi::Value warm(const Napi::CallbackInfo & info);
    Napi::Value render_prompt(const Napi::CallbackInfo & info);
};
