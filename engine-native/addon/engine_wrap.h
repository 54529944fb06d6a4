// JS class Engine: load(params) -> Promise<info>, generate(request, onDelta) -> Promise<result>,
// timeTargetPasses(batches) -> Promise<[{batch, ms}]>, cancel(), close(). Loading, generation and
// timing run on a libuv worker thread (the host keeps one: see engine-host.ts); deltas reach JS
// through the worker's progress queue.
#pragma once

#include "engine.h"

#include <napi.h>

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
  public:
    static Napi::Function define(Napi::Env env);
    explicit EngineWrap(const Napi::CallbackInfo & info);
    ~EngineWrap() override;

    sx_engine_ptr engine;
    bool          busy = false;  // a load, generation or timing is running on a worker thread

  private:
    Napi::Value load(const Napi::CallbackInfo & info);
    Napi::Value generate(const Napi::CallbackInfo & info);
    Napi::Value cancel(const Napi::CallbackInfo & info);
    Napi::Value heartbeat(const Napi::CallbackInfo & info);
    Napi::Value close(const Napi::CallbackInfo & info);
    Napi::Value time_target_passes(const Napi::CallbackInfo & info);
};
