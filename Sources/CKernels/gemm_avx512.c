// The AVX-512F GEMM tile of the blocked path: 12 rows x 16 columns, one zmm accumulator per
// row (12 of 32 registers), per k one 64-byte load of the weight panel and 12 FMAs with the
// activation broadcast folded into the instruction ({1to16}). The AVX2 tile in Swift is 6 x 16
// (12 ymm accumulators, 2 loads + 6 broadcasts per 12 FMAs).
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define CK_TARGET512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl")))

static inline CK_TARGET512 void store_row(float *c, __m512 v, __mmask16 mask, int accumulate) {
    if (accumulate) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, c));
    _mm512_mask_storeu_ps(c, mask, v);
}

static inline CK_TARGET512 void tile(const float *a0, const float *a1, const float *p, long kBlock, float *c,
                                     long ldc, long rows, long valid, int accumulate, const int twelve) {
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
    __m512 c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
    for (long kk = 0; kk < kBlock; kk++) {
        __m512 b = _mm512_loadu_ps(p + kk * 16);
        const float *x = a0 + kk * 6;
        c0 = _mm512_fmadd_ps(_mm512_set1_ps(x[0]), b, c0);
        c1 = _mm512_fmadd_ps(_mm512_set1_ps(x[1]), b, c1);
        c2 = _mm512_fmadd_ps(_mm512_set1_ps(x[2]), b, c2);
        c3 = _mm512_fmadd_ps(_mm512_set1_ps(x[3]), b, c3);
        c4 = _mm512_fmadd_ps(_mm512_set1_ps(x[4]), b, c4);
        c5 = _mm512_fmadd_ps(_mm512_set1_ps(x[5]), b, c5);
        if (twelve) {
            const float *y = a1 + kk * 6;
            c6 = _mm512_fmadd_ps(_mm512_set1_ps(y[0]), b, c6);
            c7 = _mm512_fmadd_ps(_mm512_set1_ps(y[1]), b, c7);
            c8 = _mm512_fmadd_ps(_mm512_set1_ps(y[2]), b, c8);
            c9 = _mm512_fmadd_ps(_mm512_set1_ps(y[3]), b, c9);
            c10 = _mm512_fmadd_ps(_mm512_set1_ps(y[4]), b, c10);
            c11 = _mm512_fmadd_ps(_mm512_set1_ps(y[5]), b, c11);
        }
    }
    __mmask16 mask = (__mmask16)((1u << valid) - 1u);
    __m512 all[12] = {c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11};
    for (long r = 0; r < rows; r++) store_row(c + r * ldc, all[r], mask, accumulate);
}

CK_TARGET512 void ck_gemm_tile12x16_avx512(const float *a0, const float *a1, const float *packed, long kBlock,
                                           float *c, long ldc, long rows, long valid, int accumulate) {
    if (rows > 6) tile(a0, a1, packed, kBlock, c, ldc, rows, valid, accumulate, 1);
    else tile(a0, a0, packed, kBlock, c, ldc, rows, valid, accumulate, 0);
}
#else
void ck_gemm_tile12x16_avx512(const float *a0, const float *a1, const float *packed, long kBlock, float *c,
                              long ldc, long rows, long valid, int accumulate) {
    (void)a0; (void)a1; (void)packed; (void)kBlock; (void)c; (void)ldc; (void)rows; (void)valid; (void)accumulate;
}
#endif
