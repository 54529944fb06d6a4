// A generation submitted while another one runs (a second window's ghost text while the first
// streams a chat answer): it waits in one slot for the running generation's next step boundary and
// runs there, on the running generation's worker thread (sx_engine_generate_nested); its deltas
// and its result reach JS through a thread-safe function. JS: generate(request, onDelta, true)
// while a generation runs; cancelNested().
#pragma once

#include "engine.h"

#include <napi.h>

#include <mutex>

struct NestedCall;

class NestedSlot {
  public:
    // Opens the slot for the generation about to run on `engine`; its steps call run_waiting().
    void        open(sx_engine * engine);
    // After the generation (on its worker thread): runs one that arrived too late for a step and
    // closes the slot; a later submit is refused (the caller queues it as usual).
    void        close();
    // JS thread: takes `request` for the running generation's next step boundary. Returns its
    // promise, or an empty value when the slot is closed or taken.
    Napi::Value submit(Napi::Env env, Napi::Object owner, sx_request request, Napi::Function on_delta);
    // JS thread: stops the nested generation, or drops it (rejected as cancelled) if it waits.
    void        cancel(Napi::Env env, sx_engine * engine);

  private:
    bool run_waiting();

    std::mutex   mutex;
    sx_engine *  engine  = nullptr;
    bool         is_open = false;
    NestedCall * waiting = nullptr;  // owned until taken: then by its final JS callback
    bool         running = false;
};
