#include "convert.h"

#include "errors.h"

static Napi::Value token_or_null(Napi::Env env, llama_token t) {
    return t == LLAMA_TOKEN_NULL ? env.Null() : Napi::Number::New(env, t);
}

Napi::Object model_info_to_js(Napi::Env env, const sx_model_info & info) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", info.path);
    o.Set("architecture", info.architecture);
    o.Set("name", info.name);
    o.Set("description", info.description);
    o.Set("parameters", (double) info.n_params);
    o.Set("sizeBytes", (double) info.size_bytes);
    o.Set("layers", info.n_layer);
    o.Set("embeddingSize", info.n_embd);
    o.Set("trainedContext", info.n_ctx_train);
    o.Set("vocabSize", info.n_vocab);
    o.Set("vocabType", info.vocab_type);
    o.Set("addBos", info.add_bos);
    Napi::Object special = Napi::Object::New(env);
    special.Set("bos", token_or_null(env, info.bos));
    special.Set("eos", token_or_null(env, info.eos));
    special.Set("eot", token_or_null(env, info.eot));
    o.Set("specialTokens", special);
    if (info.fim_pre != LLAMA_TOKEN_NULL && info.fim_suf != LLAMA_TOKEN_NULL && info.fim_mid != LLAMA_TOKEN_NULL) {
        Napi::Object fim = Napi::Object::New(env);
        fim.Set("prefix", info.fim_pre);
        fim.Set("suffix", info.fim_suf);
        fim.Set("middle", info.fim_mid);
        fim.Set("repo", token_or_null(env, info.fim_rep));
        fim.Set("fileSeparator", token_or_null(env, info.fim_sep));
        o.Set("fim", fim);
    } else {
        o.Set("fim", env.Null());
    }
    o.Set("chatTemplate", info.chat_template.empty() ? env.Null() : Napi::String::New(env, info.chat_template));
    return o;
}

static Napi::Array int_array(Napi::Env env, const std::vector<int32_t> & v) {
    Napi::Array a = Napi::Array::New(env, v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        a.Set((uint32_t) i, v[i]);
    }
    return a;
}

Napi::Object result_to_js(Napi::Env env, const sx_result & r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("text", r.text);
    Napi::Uint32Array tokens = Napi::Uint32Array::New(env, r.tokens.size());
    for (size_t i = 0; i < r.tokens.size(); ++i) {
        tokens[i] = (uint32_t) r.tokens[i];
    }
    o.Set("tokens", tokens);
    o.Set("stopReason", sx_stop_reason_name(r.stop_reason));
    Napi::Array alternatives = Napi::Array::New(env, r.alternatives.size());
    for (size_t i = 0; i < r.alternatives.size(); ++i) {
        Napi::Object a = Napi::Object::New(env);
        a.Set("token", r.alternatives[i].token);
        a.Set("text", r.alternatives[i].piece);
        a.Set("p", r.alternatives[i].p);
        a.Set("tokens", int_array(env, r.alternatives[i].tokens));
        a.Set("continuation", r.alternatives[i].text);
        a.Set("complete", r.alternatives[i].complete);
        alternatives.Set((uint32_t) i, a);
    }
    o.Set("alternatives", alternatives);
    Napi::Object s = Napi::Object::New(env);
    s.Set("promptTokens", r.stats.n_prompt_tokens);
    s.Set("tokens", r.stats.n_tokens);
    s.Set("targetPasses", r.stats.target_passes);
    s.Set("draftPasses", r.stats.draft_passes);
    s.Set("budget", r.stats.budget);
    s.Set("promptMs", r.stats.prompt_ms);
    s.Set("promptPassTokens", r.stats.n_prompt_pass_tokens);
    s.Set("firstTokenMs", r.stats.first_token_ms);
    s.Set("elapsedMs", r.stats.elapsed_ms);
    s.Set("draftMs", r.stats.draft_ms);
    s.Set("targetMs", r.stats.target_ms);
    s.Set("tokensPerPassHistogram", int_array(env, r.stats.tokens_per_pass_histogram));
    s.Set("treeSizes", int_array(env, r.stats.tree_sizes));
    s.Set("treeDepths", int_array(env, r.stats.tree_depths));
    s.Set("treeLeaves", int_array(env, r.stats.tree_leaves));
    s.Set("budgets", int_array(env, r.stats.budgets));
    o.Set("stats", s);
    if (r.trim.prefix_tokens > 0 || r.trim.suffix_tokens > 0 || r.trim.extra_tokens > 0) {
        Napi::Object t = Napi::Object::New(env);
        t.Set("prefixTokens", r.trim.prefix_tokens);
        t.Set("suffixTokens", r.trim.suffix_tokens);
        t.Set("extraTokens", r.trim.extra_tokens);
        o.Set("trimmed", t);
    }
    return o;
}

static int32_t int_or(const Napi::Object & o, const char * key, int32_t fallback) {
    Napi::Value v = o.Get(key);
    return v.IsNumber() ? v.As<Napi::Number>().Int32Value() : fallback;
}

static std::string string_or(const Napi::Object & o, const char * key, const std::string & fallback) {
    Napi::Value v = o.Get(key);
    return v.IsString() ? v.As<Napi::String>().Utf8Value() : fallback;
}

sx_engine_params engine_params_from_js(const Napi::Object & o) {
    sx_engine_params p;
    p.draft_path          = string_or(o, "draftModelPath", "");
    p.target_path         = string_or(o, "targetModelPath", "");
    p.threads             = int_or(o, "threads", 0);
    p.n_ctx               = int_or(o, "contextSize", p.n_ctx);
    p.n_gpu_layers_draft  = int_or(o, "draftGpuLayers", p.n_gpu_layers_draft);
    p.n_gpu_layers_target = int_or(o, "targetGpuLayers", p.n_gpu_layers_target);
    p.vram_budget_mib     = int_or(o, "vramBudgetMiB", p.vram_budget_mib);
    p.max_budget          = int_or(o, "maxBudget", p.max_budget);
    p.calibration_cache   = string_or(o, "calibrationCache", "");
    return p;
}

sx_prompt prompt_from_js(const Napi::Value & v) {
    sx_prompt p;
    if (v.IsString()) {
        p.text = v.As<Napi::String>().Utf8Value();
        return p;
    }
    if (!v.IsObject()) {
        throw sx_error(SX_ERR_INVALID_PARAMS, "prompt must be a string or {prefix, suffix}");
    }
    Napi::Object o    = v.As<Napi::Object>();
    p.fim             = true;
    p.prefix          = string_or(o, "prefix", "");
    p.suffix          = string_or(o, "suffix", "");
    Napi::Value extra = o.Get("extra");
    if (extra.IsArray()) {
        p.has_extra   = true;
        Napi::Array a = extra.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
            Napi::Value c = a.Get(i);
            if (!c.IsObject()) {
                throw sx_error(SX_ERR_INVALID_PARAMS, "prompt.extra must be an array of {filename, text}");
            }
            p.extra.push_back(
                { string_or(c.As<Napi::Object>(), "filename", "tmp"), string_or(c.As<Napi::Object>(), "text", "") });
        }
    }
    return p;
}

sx_request request_from_js(const Napi::Object & o) {
    sx_request r;
    r.prompt               = prompt_from_js(o.Get("prompt"));
    r.max_tokens           = int_or(o, "maxTokens", r.max_tokens);
    Napi::Value temp       = o.Get("temperature");
    r.sampling.temperature = temp.IsNumber() ? temp.As<Napi::Number>().FloatValue() : 0.0f;
    r.sampling.top_k       = int_or(o, "topK", 0);
    Napi::Value top_p      = o.Get("topP");
    r.sampling.top_p       = top_p.IsNumber() ? top_p.As<Napi::Number>().FloatValue() : 1.0f;
    Napi::Value seed       = o.Get("seed");
    r.sampling.seed        = seed.IsNumber() ? (uint64_t) seed.As<Napi::Number>().Int64Value() : 0;
    Napi::Value stop       = o.Get("stop");
    if (stop.IsArray()) {
        Napi::Array a = stop.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
            Napi::Value s = a.Get(i);
            if (s.IsString() && !s.As<Napi::String>().Utf8Value().empty()) {
                r.stop.push_back(s.As<Napi::String>().Utf8Value());
            }
        }
    }
    const std::string mode = string_or(o, "mode", "autoregressive");
    if (mode == "autoregressive") {
        r.mode = SX_MODE_AUTOREGRESSIVE;
    } else if (mode == "specexec") {
        r.mode = SX_MODE_SPECEXEC;
    } else if (mode == "specinfer") {
        r.mode = SX_MODE_SPECINFER;
    } else if (mode == "chain") {
        r.mode = SX_MODE_CHAIN;
    } else {
        throw sx_error(SX_ERR_INVALID_PARAMS,
                       "unknown mode '" + mode + "' (autoregressive, specexec, specinfer, chain)");
    }
    r.budget           = int_or(o, "budget", 0);  // 0 or absent: automatic
    r.max_depth        = int_or(o, "maxDepth", r.max_depth);
    r.draft_max        = int_or(o, "draftMax", r.draft_max);
    Napi::Value p_min  = o.Get("draftPMin");
    r.draft_p_min      = p_min.IsNumber() ? p_min.As<Napi::Number>().FloatValue() : r.draft_p_min;
    Napi::Value forced = o.Get("forcedTokens");
    if (!forced.IsUndefined() && !forced.IsNull()) {
        r.forced_tokens = tokens_from_js(forced);
    }
    r.n_alternatives = int_or(o, "alternatives", 0);
#ifdef SX_TESTING
    r.unsafe_accept_draft = o.Get("_unsafeAcceptDraft").ToBoolean();
#endif
    return r;
}

std::vector<llama_token> tokens_from_js(const Napi::Value & v) {
    std::vector<llama_token> out;
    if (v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint32_array) {
        Napi::Uint32Array a = v.As<Napi::Uint32Array>();
        for (size_t i = 0; i < a.ElementLength(); ++i) {
            out.push_back((llama_token) a[i]);
        }
    } else if (v.IsArray()) {
        Napi::Array a = v.As<Napi::Array>();
        for (uint32_t i = 0; i < a.Length(); ++i) {
            out.push_back(a.Get(i).As<Napi::Number>().Int32Value());
        }
    } else {
        throw sx_error(SX_ERR_INVALID_PARAMS, "tokens must be a Uint32Array or an array of numbers");
    }
    return out;
}

Napi::Error error_to_js(Napi::Env env, int code, const std::string & message) {
    Napi::Error e = Napi::Error::New(env, message);
    e.Set("code", Napi::Number::New(env, code));
    return e;
}

sx_cost_curve curve_from_js(const Napi::Value & v) {
    sx_cost_curve c;
    Napi::Array   a = v.As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Object p = a.Get(i).As<Napi::Object>();
        c.batch.push_back(p.Get("batch").As<Napi::Number>().Int32Value());
        c.ms.push_back(p.Get("ms").As<Napi::Number>().DoubleValue());
    }
    return c;
}

Napi::Value curve_to_js(Napi::Env env, const sx_cost_curve & c) {
    Napi::Array a = Napi::Array::New(env, c.batch.size());
    for (size_t i = 0; i < c.batch.size(); ++i) {
        Napi::Object p = Napi::Object::New(env);
        p.Set("batch", c.batch[i]);
        p.Set("ms", c.ms[i]);
        a.Set((uint32_t) i, p);
    }
    return a;
}
