// The instruction-set extensions the CPU and the OS make usable, by ggml's names (AVX2, AVX512,
// AMX_INT8, DOTPROD, ...), read from cpuid/xgetbv on x86 and the hwcaps on ARM Linux.
#pragma once

#include <string>
#include <vector>

std::vector<std::string> sx_cpu_features(void);
