// Wall-clock timing of passes and generations.
#pragma once

#include <chrono>

using sx_clock = std::chrono::steady_clock;

inline double ms_since(sx_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(sx_clock::now() - t0).count();
}
