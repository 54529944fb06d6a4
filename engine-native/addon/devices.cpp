#include "devices.h"

Napi::Array devices_to_js(Napi::Env env, const std::vector<sx_device> & devices) {
    Napi::Array a = Napi::Array::New(env, devices.size());
    for (size_t i = 0; i < devices.size(); ++i) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", devices[i].name);
        o.Set("description", devices[i].description);
        o.Set("type", devices[i].type);
        o.Set("memoryFree", (double) devices[i].memory_free);
        o.Set("memoryTotal", (double) devices[i].memory_total);
        a.Set((uint32_t) i, o);
    }
    return a;
}
