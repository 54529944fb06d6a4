#include "engine_wrap.h"

#include "convert.h"
#include "devices.h"
#include "errors.h"

#include <functional>

// Where the models run: the devices of this build and the layers llama.cpp put on a GPU.
static Napi::Object offload_to_js(Napi::Env env, const sx_engine * e) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("devices", devices_to_js(env, sx_devices()));
    o.Set("targetGpuLayers", e->target.n_gpu_layers);
    o.Set("targetLayers", llama_model_n_layer(e->target.model) + 1);
    o.Set("draftGpuLayers", e->draft.model ? Napi::Value(Napi::Number::New(env, e->draft.n_gpu_layers)) : env.Null());
    o.Set("draftLayers",
          e->draft.model ? Napi::Value(Napi::Number::New(env, llama_model_n_layer(e->draft.model) + 1)) : env.Null());
    o.Set("vramBudgetMiB",
          e->params.vram_budget_mib > 0 ? Napi::Value(Napi::Number::New(env, e->params.vram_budget_mib)) : env.Null());
    return o;
}

// What every call that runs on a worker thread shares: its promise, the engine object kept alive
// and busy until the call settles, and the error code of a failure. Each worker holds one.
struct EngineCall {
    EngineCall(Napi::Env env, EngineWrap * owner) : deferred(Napi::Promise::Deferred::New(env)), owner(owner) {
        owner->Ref();
    }

    ~EngineCall() { owner->Unref(); }

    // Runs the engine work on the worker thread; an error becomes the call's code and message.
    void run(const std::function<void()> &                    work,
             int                                              code_otherwise,
             const std::function<void(const std::string &)> & set_error) {
        try {
            work();
        } catch (const sx_error & e) {
            code = e.code;
            set_error(e.what());
        } catch (const std::exception & e) {
            code = code_otherwise;
            set_error(e.what());
        }
    }

    void resolve(Napi::Value value) {
        owner->busy = false;
        deferred.Resolve(value);
    }

    void reject(const Napi::Error & e) {
        owner->busy = false;
        deferred.Reject(error_to_js(e.Env(), code, e.Message()).Value());
    }

    Napi::Promise::Deferred deferred;
    EngineWrap *            owner;
    int                     code = 0;
};

// Loads the models off the JS thread; replaces the previous engine only on success (a failure
// after sx_engine_init, in calibration or description, frees the new one with the worker).
class LoadWorker : public Napi::AsyncWorker {
  public:
    LoadWorker(Napi::Env env, EngineWrap * owner, sx_engine_params params) :
        Napi::AsyncWorker(env),
        call(env, owner),
        params(std::move(params)) {}

    void Execute() override {
        call.run(
            [&] {
                loaded = sx_engine_init(params);
                sx_engine_calibrate(loaded.get());
                target = sx_model_describe(loaded->target.model, params.target_path);
                if (loaded->draft.model) {
                    draft = sx_model_describe(loaded->draft.model, params.draft_path);
                }
            },
            SX_ERR_MODEL_UNSUPPORTED, [this](const std::string & m) { SetError(m); });
    }

    void OnOK() override {
        call.owner->engine  = std::move(loaded);
        const sx_engine * e = call.owner->engine.get();
        Napi::Object      o = Napi::Object::New(Env());
        o.Set("target", model_info_to_js(Env(), target));
        o.Set("draft", e->draft.model ? (Napi::Value) model_info_to_js(Env(), draft) : Env().Null());
        o.Set("threads", e->params.threads);
        o.Set("contextSize", e->params.n_ctx);
        o.Set("maxBudget", e->params.max_budget);
        Napi::Object cal = Napi::Object::New(Env());
        cal.Set("target", curve_to_js(Env(), e->budget.target));
        cal.Set("draft", curve_to_js(Env(), e->budget.draft));
        o.Set("calibration", cal);
        o.Set("offload", offload_to_js(Env(), e));
        call.resolve(o);
    }

    void OnError(const Napi::Error & e) override { call.reject(e); }

    EngineCall call;

  private:
    sx_engine_params params;
    sx_engine_ptr    loaded;
    sx_model_info    target, draft;
};

struct Delta {
    std::string text;
    int32_t     n_tokens;
};

class GenerateWorker : public Napi::AsyncProgressQueueWorker<Delta> {
  public:
    GenerateWorker(Napi::Env env, EngineWrap * owner, sx_request request, Napi::Function on_delta) :
        Napi::AsyncProgressQueueWorker<Delta>(env),
        call(env, owner),
        request(std::move(request)) {
        if (!on_delta.IsEmpty()) {
            callback = Napi::Persistent(on_delta);
        }
    }

    void Execute(const ExecutionProgress & progress) override {
        call.run(
            [&] {
                // no listener, no deltas: each one would wake the JS thread, which on a small machine
                // preempts a compute thread in the middle of a pass
                const bool streaming = !callback.IsEmpty();
                result =
                    sx_engine_generate(call.owner->engine.get(), request, [&](const std::string & text, int32_t n) {
                        if (streaming) {
                            Delta d{ text, n };
                            progress.Send(&d, 1);
                        }
                    });
            },
            SX_ERR_DECODE_FAILED, [this](const std::string & m) { SetError(m); });
        call.owner->nested.close();
    }

    void OnProgress(const Delta * data, size_t count) override {
        if (callback.IsEmpty()) {
            return;
        }
        for (size_t i = 0; i < count; ++i) {
            callback.Call({ Napi::String::New(Env(), data[i].text), Napi::Number::New(Env(), data[i].n_tokens) });
        }
    }

    void OnOK() override { call.resolve(result_to_js(Env(), result)); }

    void OnError(const Napi::Error & e) override { call.reject(e); }

    EngineCall call;

  private:
    sx_request              request;
    Napi::FunctionReference callback;
    sx_result               result;
};

// Reads a prompt into the models' caches off the JS thread (a long prompt takes seconds).
class WarmWorker : public Napi::AsyncWorker {
  public:
    WarmWorker(Napi::Env env, EngineWrap * owner, sx_prompt prompt, int32_t max_tokens) :
        Napi::AsyncWorker(env),
        call(env, owner),
        prompt(std::move(prompt)),
        max_tokens(max_tokens) {}

    void Execute() override {
        call.run([&] { result = sx_engine_warm(call.owner->engine.get(), prompt, max_tokens); }, SX_ERR_DECODE_FAILED,
                 [this](const std::string & m) { SetError(m); });
    }

    void OnOK() override {
        Napi::Object o = Napi::Object::New(Env());
        o.Set("promptTokens", result.n_prompt_tokens);
        o.Set("reusedTokens", result.n_reused_tokens);
        o.Set("decodedTokens", result.n_decoded);
        o.Set("cancelled", result.cancelled);
        o.Set("elapsedMs", result.elapsed_ms);
        call.resolve(o);
    }

    void OnError(const Napi::Error & e) override { call.reject(e); }

    EngineCall call;

  private:
    sx_prompt      prompt;
    int32_t        max_tokens;
    sx_warm_result result;
};

// Times target passes off the JS thread (a slow target's passes take seconds).
class TimePassesWorker : public Napi::AsyncWorker {
  public:
    TimePassesWorker(Napi::Env env, EngineWrap * owner, std::vector<int32_t> batches) :
        Napi::AsyncWorker(env),
        call(env, owner),
        batches(std::move(batches)) {}

    void Execute() override {
        call.run([&] { ms = sx_engine_time_target_passes(call.owner->engine.get(), batches); }, SX_ERR_DECODE_FAILED,
                 [this](const std::string & m) { SetError(m); });
    }

    void OnOK() override {
        sx_cost_curve curve;
        curve.batch = batches;
        curve.ms    = ms;
        call.resolve(curve_to_js(Env(), curve));
    }

    void OnError(const Napi::Error & e) override { call.reject(e); }

    EngineCall call;

  private:
    std::vector<int32_t> batches;
    std::vector<double>  ms;
};

Napi::Function EngineWrap::define(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {
                           InstanceMethod("load", &EngineWrap::load),
                           InstanceMethod("generate", &EngineWrap::generate),
                           InstanceMethod("cancel", &EngineWrap::cancel),
                           InstanceMethod("cancelNested", &EngineWrap::cancel_nested),
                           InstanceMethod("heartbeat", &EngineWrap::heartbeat),
                           InstanceMethod("close", &EngineWrap::close),
                           InstanceMethod("timeTargetPasses", &EngineWrap::time_target_passes),
                           InstanceMethod("warm", &EngineWrap::warm),
                           InstanceMethod("renderPrompt", &EngineWrap::render_prompt),
                       });
}

EngineWrap::EngineWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<EngineWrap>(info) {}

EngineWrap::~EngineWrap() = default;

static Napi::Value rejected(Napi::Env env, int code, const std::string & message) {
    Napi::Promise::Deferred d = Napi::Promise::Deferred::New(env);
    d.Reject(error_to_js(env, code, message).Value());
    return d.Promise();
}

Napi::Value EngineWrap::load(const Napi::CallbackInfo & info) {
    if (busy) {
        return rejected(info.Env(), SX_ERR_BUSY, "the engine is busy; cancel the running request first");
    }
    if (info.Length() < 1 || !info[0].IsObject()) {
        return rejected(info.Env(), SX_ERR_INVALID_PARAMS, "load(params): params must be an object");
    }
    busy            = true;
    LoadWorker *  w = new LoadWorker(info.Env(), this, engine_params_from_js(info[0].As<Napi::Object>()));
    Napi::Promise p = w->call.deferred.Promise();
    w->Queue();
    return p;
}

// generate(request, onDelta, nested) -> Promise<result>: with `nested` while a generation runs,
// the request runs inside it at its next step (or refused as busy when another waits already)
Napi::Value EngineWrap::generate(const Napi::CallbackInfo & info) {
    if (!engine) {
        return rejected(info.Env(), SX_ERR_NOT_INITIALIZED, "no models loaded; call load() first");
    }
    if (info.Length() < 1 || !info[0].IsObject()) {
        return rejected(info.Env(), SX_ERR_INVALID_PARAMS, "generate(request, onDelta): request must be an object");
    }
    sx_request request;
    try {
        request = request_from_js(info[0].As<Napi::Object>());
    } catch (const sx_error & e) {
        return rejected(info.Env(), e.code, e.what());
    }
    Napi::Function on_delta =
        info.Length() > 1 && info[1].IsFunction() ? info[1].As<Napi::Function>() : Napi::Function();
    if (busy) {
        const bool  as_nested = info.Length() > 2 && info[2].ToBoolean().Value();
        Napi::Value p         = as_nested ?
                                    nested.submit(info.Env(), info.This().As<Napi::Object>(), std::move(request), on_delta) :
                                    Napi::Value();
        return p.IsEmpty() ? rejected(info.Env(), SX_ERR_BUSY, "a generation is already running") : p;
    }
    busy = true;
    engine->signals.cancel.store(false);
    nested.open(engine.get());
    GenerateWorker * w = new GenerateWorker(info.Env(), this, std::move(request), on_delta);
    Napi::Promise    p = w->call.deferred.Promise();
    w->Queue();
    return p;
}

// timeTargetPasses(batches) -> Promise<[{batch, ms}]>
Napi::Value EngineWrap::time_target_passes(const Napi::CallbackInfo & info) {
    if (!engine) {
        return rejected(info.Env(), SX_ERR_NOT_INITIALIZED, "no models loaded; call load() first");
    }
    if (busy) {
        return rejected(info.Env(), SX_ERR_BUSY, "a request is already running");
    }
    if (info.Length() < 1 || !info[0].IsArray()) {
        return rejected(info.Env(), SX_ERR_INVALID_PARAMS,
                        "timeTargetPasses(batches): batches must be an array of integers");
    }
    Napi::Array          a = info[0].As<Napi::Array>();
    std::vector<int32_t> batches;
    for (uint32_t i = 0; i < a.Length(); ++i) {
        batches.push_back(a.Get(i).ToNumber().Int32Value());
    }
    busy                 = true;
    TimePassesWorker * w = new TimePassesWorker(info.Env(), this, std::move(batches));
    Napi::Promise      p = w->call.deferred.Promise();
    w->Queue();
    return p;
}

// warm(prompt, maxTokens) -> Promise<{promptTokens, reusedTokens, decodedTokens, cancelled, elapsedMs}>
Napi::Value EngineWrap::warm(const Napi::CallbackInfo & info) {
    if (!engine) {
        return rejected(info.Env(), SX_ERR_NOT_INITIALIZED, "no models loaded; call load() first");
    }
    if (busy) {
        return rejected(info.Env(), SX_ERR_BUSY, "a request is already running");
    }
    sx_prompt prompt;
    try {
        prompt = prompt_from_js(info[0]);
    } catch (const sx_error & e) {
        return rejected(info.Env(), e.code, e.what());
    }
    const int32_t max_tokens = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
    busy                     = true;
    engine->signals.cancel.store(false);
    WarmWorker *  w = new WarmWorker(info.Env(), this, std::move(prompt), max_tokens);
    Napi::Promise p = w->call.deferred.Promise();
    w->Queue();
    return p;
}

// renderPrompt(prompt, maxTokens) -> {tokens, text}: the tokens a generation of this prompt
// starts from (fitted to the context as it would be), and their text with the control tokens
// shown. Only reads the vocabulary: safe beside a running generation.
Napi::Value EngineWrap::render_prompt(const Napi::CallbackInfo & info) {
    if (!engine) {
        throw error_to_js(info.Env(), SX_ERR_NOT_INITIALIZED, "no models loaded; call load() first");
    }
    try {
        const int32_t max_tokens =
            info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
        const llama_vocab *            vocab = llama_model_get_vocab(engine->target.model);
        sx_prompt_trim                 trim;
        const std::vector<llama_token> tokens =
            sx_prompt_tokens_fit(vocab, prompt_from_js(info[0]), sx_engine_prompt_room(engine.get(), max_tokens), trim);
        Napi::Object o = Napi::Object::New(info.Env());
        o.Set("tokens", Napi::Number::New(info.Env(), (double) tokens.size()));
        o.Set("text", sx_detokenize(vocab, tokens, true));
        return o;
    } catch (const sx_error & e) {
        throw error_to_js(info.Env(), e.code, e.what());
    }
}

Napi::Value EngineWrap::cancel(const Napi::CallbackInfo & info) {
    if (engine && busy) {
        engine->signals.cancel.store(true);
    }
    return info.Env().Undefined();
}

Napi::Value EngineWrap::cancel_nested(const Napi::CallbackInfo & info) {
    if (engine) {
        nested.cancel(info.Env(), engine.get());
    }
    return info.Env().Undefined();
}

// heartbeat() -> the engine's count of llama.cpp's polls and passes: it moves while a generation
// runs, unless the engine is stuck (read from this thread while the worker runs: an atomic)
Napi::Value EngineWrap::heartbeat(const Napi::CallbackInfo & info) {
    return Napi::Number::New(info.Env(), engine ? (double) engine->signals.heartbeat.load() : 0.0);
}

Napi::Value EngineWrap::close(const Napi::CallbackInfo & info) {
    if (busy) {
        throw error_to_js(info.Env(), SX_ERR_BUSY, "cannot close while a request is running");
    }
    engine.reset();
    return info.Env().Undefined();
}
