// The N-API module: thin wrappers only; all behaviour lives in engine-native/src.
#include "convert.h"
#include "cpu_backend.h"
#include "devices.h"
#include "engine_wrap.h"
#include "errors.h"
#include "model.h"
#include "shared_engine.h"
#include "text.h"

#ifdef SX_TESTING
#    include "addon_testing.h"
#endif

#include <dlfcn.h>
#include <napi.h>

// Tokenizer(path): vocabulary-only model, used by the training pipeline and tests so that they
// tokenize exactly as the engine does.
class TokenizerWrap : public Napi::ObjectWrap<TokenizerWrap> {
  public:
    static Napi::Function define(Napi::Env env) {
        return DefineClass(env, "Tokenizer",
                           {
                               InstanceMethod("tokenize", &TokenizerWrap::tokenize),
                               InstanceMethod("detokenize", &TokenizerWrap::detokenize),
                               InstanceMethod("vocabSize", &TokenizerWrap::vocab_size),
                               InstanceMethod("close", &TokenizerWrap::close),
                           });
    }

    explicit TokenizerWrap(const Napi::CallbackInfo & info) : Napi::ObjectWrap<TokenizerWrap>(info) {
        if (info.Length() < 1 || !info[0].IsString()) {
            throw error_to_js(info.Env(), SX_ERR_INVALID_PARAMS, "Tokenizer(path): path must be a string");
        }
        try {
            model = sx_model_load(info[0].As<Napi::String>().Utf8Value(), 0, true);
        } catch (const sx_error & e) {
            throw error_to_js(info.Env(), e.code, e.what());
        }
    }

    ~TokenizerWrap() override { sx_model_free(model); }

  private:
    const llama_vocab * vocab(Napi::Env env) {
        if (!model) {
            throw error_to_js(env, SX_ERR_INVALID_PARAMS, "the tokenizer is closed");
        }
        return llama_model_get_vocab(model);
    }

    Napi::Value tokenize(const Napi::CallbackInfo & info) {
        if (info.Length() < 1 || !info[0].IsString()) {
            throw error_to_js(info.Env(), SX_ERR_INVALID_PARAMS, "tokenize(text, parseSpecial): text must be a string");
        }
        const bool               parse_special = info.Length() > 1 && info[1].ToBoolean();
        std::vector<llama_token> t =
            sx_tokenize(vocab(info.Env()), info[0].As<Napi::String>().Utf8Value(), false, parse_special);
        Napi::Uint32Array out = Napi::Uint32Array::New(info.Env(), t.size());
        for (size_t i = 0; i < t.size(); ++i) {
            out[i] = (uint32_t) t[i];
        }
        return out;
    }

    Napi::Value detokenize(const Napi::CallbackInfo & info) {
        try {
            return Napi::String::New(info.Env(), sx_detokenize(vocab(info.Env()), tokens_from_js(info[0])));
        } catch (const sx_error & e) {
            throw error_to_js(info.Env(), e.code, e.what());
        }
    }

    Napi::Value vocab_size(const Napi::CallbackInfo & info) {
        return Napi::Number::New(info.Env(), llama_vocab_n_tokens(vocab(info.Env())));
    }

    Napi::Value close(const Napi::CallbackInfo & info) {
        sx_model_free(model);
        model = nullptr;
        return info.Env().Undefined();
    }

    llama_model * model = nullptr;
};

class InspectWorker : public Napi::AsyncWorker {
  public:
    InspectWorker(Napi::Env env, std::string path) :
        Napi::AsyncWorker(env),
        deferred(Napi::Promise::Deferred::New(env)),
        path(std::move(path)) {}

    void Execute() override {
        try {
            llama_model * m = sx_model_load(path, 0, false);
            info            = sx_model_describe(m, path);
            sx_model_free(m);
        } catch (const sx_error & e) {
            code = e.code;
            SetError(e.what());
        }
    }

    void OnOK() override { deferred.Resolve(model_info_to_js(Env(), info)); }

    void OnError(const Napi::Error & e) override { deferred.Reject(error_to_js(Env(), code, e.Message()).Value()); }

    Napi::Promise::Deferred deferred;

  private:
    std::string   path;
    sx_model_info info;
    int           code = 0;
};

// inspectModel(path) -> Promise<ModelInfo>
static Napi::Value inspect_model(const Napi::CallbackInfo & info) {
    if (info.Length() < 1 || !info[0].IsString()) {
        throw error_to_js(info.Env(), SX_ERR_INVALID_PARAMS, "inspectModel(path): path must be a string");
    }
    InspectWorker * w = new InspectWorker(info.Env(), info[0].As<Napi::String>().Utf8Value());
    Napi::Promise   p = w->deferred.Promise();
    w->Queue();
    return p;
}

// formatChat(template | null, messages: {role, content}[]) -> string
static Napi::Value format_chat(const Napi::CallbackInfo & info) {
    const std::string tmpl = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    if (info.Length() < 2 || !info[1].IsArray()) {
        throw error_to_js(info.Env(), SX_ERR_INVALID_PARAMS,
                          "formatChat(template, messages): messages must be an array");
    }
    Napi::Array                  a = info[1].As<Napi::Array>();
    std::vector<sx_chat_message> messages;
    for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Object m = a.Get(i).As<Napi::Object>();
        messages.push_back({ m.Get("role").ToString().Utf8Value(), m.Get("content").ToString().Utf8Value() });
    }
    return Napi::String::New(info.Env(), sx_chat_format(tmpl, messages));
}

static Napi::Array strings_to_js(Napi::Env env, const std::vector<std::string> & strings) {
    Napi::Array a = Napi::Array::New(env, strings.size());
    for (size_t i = 0; i < strings.size(); ++i) {
        a.Set((uint32_t) i, strings[i]);
    }
    return a;
}

static Napi::Object cpu_to_js(Napi::Env env, const sx_cpu_report & cpu) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("variant", cpu.variant);
    o.Set("featuresSeen", strings_to_js(env, cpu.features_seen));
    o.Set("featuresUsed", strings_to_js(env, cpu.features_used));
    Napi::Array variants = Napi::Array::New(env, cpu.variants.size());
    for (size_t i = 0; i < cpu.variants.size(); ++i) {
        Napi::Object v = Napi::Object::New(env);
        v.Set("name", cpu.variants[i].name);
        v.Set("score", cpu.variants[i].score);
        variants.Set((uint32_t) i, v);
    }
    o.Set("variants", variants);
    return o;
}

static Napi::Value system_info(const Napi::CallbackInfo & info) {
    try {
        sx_backend_init();
    } catch (const sx_error & e) {
        throw error_to_js(info.Env(), e.code, e.what());
    }
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("llamaSystemInfo", llama_print_system_info());
    o.Set("maxSequences", SPECEXEC_MAX_SEQ);
    o.Set("defaultThreads", sx_default_threads());
    o.Set("cpu", cpu_to_js(info.Env(), sx_cpu_describe()));
    return o;
}

// devices() -> {name, description, type, memoryFree, memoryTotal}[]: what llama.cpp can compute on
static Napi::Value devices(const Napi::CallbackInfo & info) {
    try {
        return devices_to_js(info.Env(), sx_devices());
    } catch (const sx_error & e) {
        throw error_to_js(info.Env(), e.code, e.what());
    }
}

// passCost(curve, batches) -> ms[]: the cost model `auto` prices trees with (src/budget.cpp), so a
// benchmark predicts with the engine's own model rather than a copy of it
static Napi::Value pass_cost(const Napi::CallbackInfo & info) {
    const sx_cost_curve curve   = curve_from_js(info[0]);
    const Napi::Array   batches = info[1].As<Napi::Array>();
    Napi::Array         out     = Napi::Array::New(info.Env(), batches.Length());
    for (uint32_t i = 0; i < batches.Length(); ++i) {
        out.Set(i, curve.at(batches.Get(i).As<Napi::Number>().Int32Value()));
    }
    return out;
}

// The folder this addon was loaded from: the portable build's backend modules lie beside it.
static std::string addon_dir(void) {
    Dl_info dl = {};
    if (dladdr((void *) &addon_dir, &dl) == 0 || dl.dli_fname == nullptr) {
        return ".";
    }
    const std::string file  = dl.dli_fname;
    const size_t      slash = file.find_last_of('/');
    return slash == std::string::npos ? "." : file.substr(0, slash);
}

static Napi::Object init(Napi::Env env, Napi::Object exports) {
    sx_backend_set_module_dir(addon_dir());
    exports.Set("Engine", EngineWrap::define(env));
    exports.Set("Tokenizer", TokenizerWrap::define(env));
    exports.Set("inspectModel", Napi::Function::New(env, inspect_model));
    exports.Set("formatChat", Napi::Function::New(env, format_chat));
    exports.Set("systemInfo", Napi::Function::New(env, system_info));
    exports.Set("devices", Napi::Function::New(env, devices));
    exports.Set("passCost", Napi::Function::New(env, pass_cost));
    exports.Set("peerUid", Napi::Function::New(env, peer_uid));
    exports.Set("holdLock", Napi::Function::New(env, hold_lock));
#ifdef SX_TESTING
    sx_testing_exports(env, exports);
#endif
    return exports;
}

NODE_API_MODULE(specexec, init)
