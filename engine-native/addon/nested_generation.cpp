#include "nested_generation.h"

#include "convert.h"
#include "errors.h"

#include <memory>

// What the worker thread sends to JS: a delta, or the end (a result, or an error when code != 0).
struct NestedMessage {
    bool         end = false;
    std::string  text;  // the delta's text, or the error's message
    int32_t      n_tokens = 0;
    int          code     = 0;
    sx_result    result;
    NestedCall * call = nullptr;  // on the end message: the call it settles
};

struct NestedCall {
    explicit NestedCall(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}

    sx_request               request;
    bool                     streaming = false;
    Napi::ThreadSafeFunction tsfn;      // calls onDelta (or a no-op) on the JS thread
    Napi::Promise::Deferred  deferred;  // settled by the end message
    Napi::ObjectReference    owner;     // the JS Engine object, alive until then
};

// On the JS thread: a delta goes to onDelta; the end settles the promise and frees the call.
static void deliver(Napi::Env env, Napi::Function on_delta, NestedMessage * message) {
    std::unique_ptr<NestedMessage> m(message);
    if (!m->end) {
        if (env != nullptr) {
            on_delta.Call({ Napi::String::New(env, m->text), Napi::Number::New(env, m->n_tokens) });
        }
        return;
    }
    std::unique_ptr<NestedCall> call(m->call);
    if (env == nullptr) {
        return;  // the environment is going away: nobody waits for the promise
    }
    if (m->code == 0) {
        call->deferred.Resolve(result_to_js(env, m->result));
    } else {
        call->deferred.Reject(error_to_js(env, m->code, m->text).Value());
    }
}

void NestedSlot::open(sx_engine * e) {
    std::lock_guard<std::mutex> lock(mutex);
    engine           = e;
    is_open          = true;
    e->between_steps = [this] {
        return run_waiting();
    };
}

void NestedSlot::close() {
    {
        std::lock_guard<std::mutex> lock(mutex);
        is_open = false;
    }
    try {
        run_waiting();  // it arrived after the last step of the generation it waited for
    } catch (const std::exception &) {
        // the generation it would have interrupted has ended: nothing to put back
    }
    engine->between_steps = nullptr;
}

Napi::Value NestedSlot::submit(Napi::Env env, Napi::Object owner, sx_request request, Napi::Function on_delta) {
    std::lock_guard<std::mutex> lock(mutex);
    if (!is_open || waiting != nullptr || running) {
        return Napi::Value();
    }
    NestedCall * call = new NestedCall(env);
    call->request     = std::move(request);
    call->streaming   = !on_delta.IsEmpty();
    Napi::Function js = call->streaming ? on_delta : Napi::Function::New(env, [](const Napi::CallbackInfo &) {});
    call->tsfn        = Napi::ThreadSafeFunction::New(env, js, "specexec-nested-generation", 0, 1);
    call->owner       = Napi::Persistent(owner);
    waiting           = call;
    return call->deferred.Promise();
}

void NestedSlot::cancel(Napi::Env env, sx_engine * e) {
    NestedCall * dropped = nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex);
        if (waiting != nullptr) {
            dropped = waiting;
            waiting = nullptr;
        } else if (running) {
            e->signals.cancel_nested.store(true);
        }
    }
    if (dropped != nullptr) {
        std::unique_ptr<NestedCall> call(dropped);
        sx_result                   result;
        result.stop_reason = SX_STOP_CANCELLED;
        call->deferred.Resolve(result_to_js(env, result));
        call->tsfn.Release();
    }
}

bool NestedSlot::run_waiting() {
    NestedCall * call = nullptr;
    {
        std::lock_guard<std::mutex> lock(mutex);
        call    = waiting;
        waiting = nullptr;
        running = call != nullptr;
        if (call != nullptr) {
            engine->signals.cancel_nested.store(false);  // a cancel from now on stops this one
        }
    }
    if (call == nullptr) {
        return false;
    }
    Napi::ThreadSafeFunction tsfn = call->tsfn;  // the call is freed on the JS thread once it ends
    NestedMessage *          end  = new NestedMessage();
    end->end                      = true;
    end->call                     = call;
    sx_error           failure(0, "");
    std::exception_ptr broken;
    try {
        end->result = sx_engine_generate_nested(
            engine, call->request,
            [&](const std::string & text, int32_t n) {
                if (call->streaming) {
                    NestedMessage * d = new NestedMessage();
                    d->text           = text;
                    d->n_tokens       = n;
                    tsfn.BlockingCall(d, deliver);
                }
            },
            failure);
    } catch (const std::exception & x) {
        broken  = std::current_exception();  // the interrupted generation's state is lost: it fails too
        failure = sx_error(SX_ERR_DECODE_FAILED, x.what());
    }
    end->code = failure.code;
    end->text = failure.what();
    {
        std::lock_guard<std::mutex> lock(mutex);
        running = false;
    }
    tsfn.BlockingCall(end, deliver);
    tsfn.Release();
    if (broken) {
        std::rethrow_exception(broken);
    }
    return true;
}
