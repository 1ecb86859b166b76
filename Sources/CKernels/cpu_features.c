// Which wide ISAs this CPU and OS support, from cpuid and xgetbv (no libgcc/compiler-rt
// `__builtin_cpu_supports`, whose runtime symbol the Swift link line may not carry).
#include "CKernels.h"

#if defined(__x86_64__)
#include <cpuid.h>

static uint64_t ck_xgetbv0(void) {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

unsigned ck_cpu_features(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !avx) return 0;
    uint64_t xcr0 = ck_xgetbv0();
    int ymmState = (xcr0 & 0x6) == 0x6;          // SSE + AVX state
    int zmmState = (xcr0 & 0xE6) == 0xE6;        // + opmask, ZMM_Hi256, Hi16_ZMM
    if (!ymmState) return 0;
    unsigned max = __get_cpuid_max(0, 0);
    if (max < 7) return 0;
    unsigned a7, b7, c7, d7;
    __cpuid_count(7, 0, a7, b7, c7, d7);
    unsigned features = 0;
    int avx2 = (b7 >> 5) & 1;
    if (avx2 && fma && f16c) features |= CK_FEATURE_AVX2;
    int f = (b7 >> 16) & 1, dq = (b7 >> 17) & 1, bw = (b7 >> 30) & 1, vl = (b7 >> 31) & 1;
    if ((features & CK_FEATURE_AVX2) && zmmState && f && dq && bw && vl) {
        features |= CK_FEATURE_AVX512;
        if ((c7 >> 11) & 1) features |= CK_FEATURE_AVX512VNNI;
    }
    if (a7 >= 1) {
        unsigned a71, b71, c71, d71;
        __cpuid_count(7, 1, a71, b71, c71, d71);
        if ((features & CK_FEATURE_AVX2) && ((a71 >> 4) & 1)) features |= CK_FEATURE_AVXVNNI;
    }
    return features;
}
#else
unsigned ck_cpu_features(void) { return 0; }
#endif
