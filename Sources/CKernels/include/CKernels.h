// CKernels: the few numeric kernels that need instructions wider than the build's CPU level
// (AVX-512F tiles, AVX512-VNNI / AVX-VNNI integer dot products). Each function is compiled
// for its own ISA with a `target(...)` attribute and must only be called after
// `ck_cpu_features()` reported that ISA (the Swift side, `KernelPath`, decides once at start-up).
// Everything else in this file is plain C and safe on any x86-64.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Bits of `ck_cpu_features()`.
/// AVX2 + FMA + F16C, with the OS saving ymm state.
#define CK_FEATURE_AVX2 1u
/// AVX-512 F, BW, DQ, VL, with the OS saving zmm/opmask state.
#define CK_FEATURE_AVX512 2u
/// AVX512-VNNI (vpdpbusd on zmm/ymm, EVEX).
#define CK_FEATURE_AVX512VNNI 4u
/// AVX-VNNI (vpdpbusd on ymm, VEX; Alder Lake, Zen 5 and later).
#define CK_FEATURE_AVXVNNI 8u

/// The features above that this CPU and OS support (cpuid leaves 1 and 7, xgetbv). 0 on a
/// non-x86 machine. O(1), no allocation; the caller caches it.
unsigned ck_cpu_features(void);

// q8_0 / q4_0 weight rows times activations quantized to q8_0 (32 int8 per block, one float
// scale per block). `row`: `chunks` blocks of 34 (q8_0) or 18 (q4_0) bytes, f16 scale first.
// Single-token: returns sum over blocks of d_w * xs[c] * sum_j q_w[j] * xq[32c + j].
// Groups of up to four tokens (`group` in 1...4): token t's quants at xq + t*stride, its scales
// at xs + t*chunks; writes out[0..<group].

/// AVX512-VNNI (two blocks per zmm for one token, ymm per block for groups). Needs CK_FEATURE_AVX512 | CK_FEATURE_AVX512VNNI.
float ck_dot_q8_0_avx512vnni(const void *row, long chunks, const int8_t *xq, const float *xs);
float ck_dot_q4_0_avx512vnni(const void *row, long chunks, const int8_t *xq, const float *xs);
void ck_dot4_q8_0_avx512vnni(const void *row, long chunks, long group, const int8_t *xq, long stride,
                             const float *xs, float *out);
void ck_dot4_q4_0_avx512vnni(const void *row, long chunks, long group, const int8_t *xq, long stride,
                             const float *xs, float *out);

/// AVX-VNNI (ymm). Needs CK_FEATURE_AVX2 | CK_FEATURE_AVXVNNI.
float ck_dot_q8_0_avxvnni(const void *row, long chunks, const int8_t *xq, const float *xs);
float ck_dot_q4_0_avxvnni(const void *row, long chunks, const int8_t *xq, const float *xs);
void ck_dot4_q8_0_avxvnni(const void *row, long chunks, long group, const int8_t *xq, long stride,
                          const float *xs, float *out);
void ck_dot4_q4_0_avxvnni(const void *row, long chunks, long group, const int8_t *xq, long stride,
                          const float *xs, float *out);

/// AVX-512F GEMM tile: C[rows x 16] (+)= A · P, A being one or two 6-row activation panels
/// packed k-major (`a0` rows 0-5, `a1` rows 6-11; 6 floats per k each) and P a 16-column weight
/// panel packed k-major (16 floats per k). `rows` in 1...12 (a1 is read only when rows > 6),
/// only the first `valid` (1...16) columns are written; `accumulate` adds to C.
/// Needs CK_FEATURE_AVX512.
void ck_gemm_tile12x16_avx512(const float *a0, const float *a1, const float *packed, long kBlock,
                              float *c, long ldc, long rows, long valid, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
