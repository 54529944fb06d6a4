// Calibration: what one forward pass costs against its batch size, timed after a typical prompt on
// a throw-away sequence, as verification runs it (a tree). Cached per model file, machine, build and
// settings, so a restart costs nothing. The automatic budget prices trees with these curves.
#pragma once

#include "budget.h"
#include "side.h"

#include <string>

// Times passes of 1, 2, 4, ... tokens up to max_batch (or while the time allows), reading and
// writing the cache file when `cache` is not empty. Leaves the side's cache empty.
sx_cost_curve sx_calibrate(sx_side & side, int32_t max_batch, const std::string & cache, int32_t threads);

// One tree pass of n tokens after what the side's cache holds, timed (the median of three); the
// cache is left as it was.
double sx_calibrate_time_pass(sx_side & side, int32_t n);
