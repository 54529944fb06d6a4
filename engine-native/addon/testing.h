#pragma once

#include <napi.h>

// addon.testing: tree growth on a fake draft, the acceptance walk, tree-vs-sequential logits, the
// budget chooser on synthetic cost curves, the offload arithmetic.
Napi::Object testing_exports(Napi::Env env);
