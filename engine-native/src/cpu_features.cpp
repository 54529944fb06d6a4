#include "cpu_features.h"

#if defined(__x86_64__) || defined(_M_X64)
#    include <cpuid.h>

#    include <cstdint>

static uint64_t xgetbv0(void) {
    uint32_t eax = 0, edx = 0;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t) edx << 32) | eax;
}

std::vector<std::string> sx_cpu_features(void) {
    std::vector<std::string> out;
    unsigned a1 = 0, b1 = 0, c1 = 0, d1 = 0, a7 = 0, b7 = 0, c7 = 0, d7 = 0, a71 = 0, b71 = 0, c71 = 0, d71 = 0;
    __get_cpuid(1, &a1, &b1, &c1, &d1);
    __get_cpuid_count(7, 0, &a7, &b7, &c7, &d7);
    __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71);
    // a register file the OS does not save is unusable even where cpuid lists the instructions
    const uint64_t xcr0   = (c1 >> 27 & 1) ? xgetbv0() : 0;
    const bool     os_avx = (xcr0 & 0x6) == 0x6;
    const bool     os_z   = os_avx && (xcr0 & 0xe0) == 0xe0;
    const bool     os_amx = (xcr0 & 0x60000) == 0x60000;

    struct {
        const char * name;
        bool         has;
    } feats[] = {
        {"SSE3",         (c1 >> 0 & 1) != 0      },
        { "SSSE3",       (c1 >> 9 & 1) != 0      },
        { "SSE42",       (c1 >> 20 & 1) != 0     },
        { "AVX",         os_avx && (c1 >> 28 & 1)},
        { "F16C",        os_avx && (c1 >> 29 & 1)},
        { "FMA",         os_avx && (c1 >> 12 & 1)},
        { "AVX2",        os_avx && (b7 >> 5 & 1) },
        { "BMI2",        (b7 >> 8 & 1) != 0      },
        { "AVX_VNNI",    os_avx && (a71 >> 4 & 1)},
        { "AVX512",      os_z && (b7 >> 16 & 1)  },
        { "AVX512_VBMI", os_z && (c7 >> 1 & 1)   },
        { "AVX512_VNNI", os_z && (c7 >> 11 & 1)  },
        { "AVX512_BF16", os_z && (a71 >> 5 & 1)  },
        { "AVX512_FP16", os_z && (d7 >> 23 & 1)  },
        { "AMX_TILE",    os_amx && (d7 >> 24 & 1)},
        { "AMX_INT8",    os_amx && (d7 >> 25 & 1)},
        { "AMX_BF16",    os_amx && (d7 >> 22 & 1)},
    };

    for (const auto & f : feats) {
        if (f.has) {
            out.push_back(f.name);
        }
    }
    return out;
}

#elif defined(__aarch64__) && defined(__linux__)
#    include <asm/hwcap.h>
#    include <sys/auxv.h>

// bits that older kernel headers lack count as absent
#    ifndef HWCAP2_I8MM
#        define HWCAP2_I8MM 0
#    endif
#    ifndef HWCAP2_SVE2
#        define HWCAP2_SVE2 0
#    endif
#    ifndef HWCAP2_SME
#        define HWCAP2_SME 0
#    endif

std::vector<std::string> sx_cpu_features(void) {
    std::vector<std::string> out = { "NEON" };
    const unsigned long      hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);

    struct {
        const char * name;
        bool         has;
    } feats[] = {
        {"DOTPROD",                 (hw & HWCAP_ASIMDDP) != 0},
        { "FP16_VECTOR_ARITHMETIC", (hw & HWCAP_ASIMDHP) != 0},
        { "SVE",                    (hw & HWCAP_SVE) != 0    },
        { "MATMUL_INT8",            (hw2 & HWCAP2_I8MM) != 0 },
        { "SVE2",                   (hw2 & HWCAP2_SVE2) != 0 },
        { "SME",                    (hw2 & HWCAP2_SME) != 0  },
    };

    for (const auto & f : feats) {
        if (f.has) {
            out.push_back(f.name);
        }
    }
    return out;
}

#else

std::vector<std::string> sx_cpu_features(void) {
    return {};
}

#endif
