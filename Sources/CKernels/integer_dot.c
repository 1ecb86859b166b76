// Integer dot products of q8_0/q4_0 weight rows with q8_0 activations, for AVX512-VNNI and
// AVX-VNNI (see integer_dot_body.h for the shared ymm kernels and the sign trick).
#include "CKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// ---- AVX512-VNNI -------------------------------------------------------------------------
#define CK_TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512dq,avx512vl,avx512vnni")))
#define CK_NAME(x) x##_avx512vnni
#define CK_DPBUSD(acc, u, s) _mm256_dpbusd_epi32(acc, u, s)
#include "integer_dot_body.h"

// One token, two blocks per zmm: the second block's 32 bytes go in the upper half, the
// per-block scale vector is [s0 x 8, s1 x 8]. Sign trick with an opmask (AVX-512 has no vpsignb).
static inline CK_TARGET __m512 pair_sums_avx512vnni(__m256i q0, __m256i q1, const int8_t *x) {
    __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
    __m512i v = _mm512_loadu_si512((const void *)x);
    __mmask64 negative = _mm512_movepi8_mask(w);
    __m512i signedX = _mm512_mask_sub_epi8(v, negative, _mm512_setzero_si512(), v);
    return _mm512_cvtepi32_ps(_mm512_dpbusd_epi32(_mm512_setzero_si512(), _mm512_abs_epi8(w), signedX));
}

static inline CK_TARGET __m512 pair_scales_avx512vnni(float s0, float s1) {
    return _mm512_insertf32x8(_mm512_set1_ps(s0), _mm256_set1_ps(s1), 1);
}

#define CK_DEFINE_DOT512(TYPE, BYTES)                                                                       \
    CK_TARGET float ck_dot_##TYPE##_avx512vnni(const void *row, long chunks, const int8_t *xq,             \
                                               const float *xs) {                                           \
        const uint8_t *w = (const uint8_t *)row;                                                            \
        __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();                                      \
        long c = 0;                                                                                         \
        for (; c + 4 <= chunks; c += 4) {                                                                   \
            const uint8_t *b0 = w + c * BYTES, *b1 = b0 + BYTES, *b2 = b1 + BYTES, *b3 = b2 + BYTES;        \
            __m512 s01 = pair_sums_avx512vnni(TYPE##_quants_avx512vnni(b0), TYPE##_quants_avx512vnni(b1),   \
                                              xq + c * 32);                                                 \
            __m512 s23 = pair_sums_avx512vnni(TYPE##_quants_avx512vnni(b2), TYPE##_quants_avx512vnni(b3),   \
                                              xq + c * 32 + 64);                                            \
            acc0 = _mm512_fmadd_ps(s01, pair_scales_avx512vnni(half_avx512vnni(b0) * xs[c],                 \
                                                               half_avx512vnni(b1) * xs[c + 1]), acc0);     \
            acc1 = _mm512_fmadd_ps(s23, pair_scales_avx512vnni(half_avx512vnni(b2) * xs[c + 2],             \
                                                               half_avx512vnni(b3) * xs[c + 3]), acc1);     \
        }                                                                                                   \
        __m256 tail = _mm256_setzero_ps();                                                                  \
        for (; c < chunks; c++) {                                                                           \
            const uint8_t *b0 = w + c * BYTES;                                                              \
            __m256i q0 = TYPE##_quants_avx512vnni(b0);                                                      \
            tail = _mm256_fmadd_ps(block_sums_avx512vnni(_mm256_abs_epi8(q0), q0, xq + c * 32),             \
                                   _mm256_set1_ps(half_avx512vnni(b0) * xs[c]), tail);                      \
        }                                                                                                   \
        return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) + hsum_avx512vnni(tail);                    \
    }

CK_DEFINE_DOT512(q8_0, 34)
CK_DEFINE_DOT512(q4_0, 18)

#undef CK_TARGET
#undef CK_NAME
#undef CK_DPBUSD
#undef CK_DEFINE_DOT
#undef CK_DEFINE_DOT4

// ---- AVX-VNNI ----------------------------------------------------------------------------
#define CK_TARGET __attribute__((target("avx2,fma,f16c,avxvnni")))
#define CK_NAME(x) x##_avxvnni
#define CK_DPBUSD(acc, u, s) _mm256_dpbusd_avx_epi32(acc, u, s)
#include "integer_dot_body.h"
CK_DEFINE_DOT(q8_0, 34)
CK_DEFINE_DOT(q4_0, 18)

#else
// Not x86-64: never called (ck_cpu_features() reports nothing), defined so that the module links.
float ck_dot_q8_0_avx512vnni(const void *r, long n, const int8_t *q, const float *s) { (void)r; (void)n; (void)q; (void)s; return 0; }
float ck_dot_q4_0_avx512vnni(const void *r, long n, const int8_t *q, const float *s) { (void)r; (void)n; (void)q; (void)s; return 0; }
float ck_dot_q8_0_avxvnni(const void *r, long n, const int8_t *q, const float *s) { (void)r; (void)n; (void)q; (void)s; return 0; }
float ck_dot_q4_0_avxvnni(const void *r, long n, const int8_t *q, const float *s) { (void)r; (void)n; (void)q; (void)s; return 0; }
void ck_dot4_q8_0_avx512vnni(const void *r, long n, long g, const int8_t *q, long t, const float *s, float *o) { (void)r; (void)n; (void)g; (void)q; (void)t; (void)s; (void)o; }
void ck_dot4_q4_0_avx512vnni(const void *r, long n, long g, const int8_t *q, long t, const float *s, float *o) { (void)r; (void)n; (void)g; (void)q; (void)t; (void)s; (void)o; }
void ck_dot4_q8_0_avxvnni(const void *r, long n, long g, const int8_t *q, long t, const float *s, float *o) { (void)r; (void)n; (void)g; (void)q; (void)t; (void)s; (void)o; }
void ck_dot4_q4_0_avxvnni(const void *r, long n, long g, const int8_t *q, long t, const float *s, float *o) { (void)r; (void)n; (void)g; (void)q; (void)t; (void)s; (void)o; }
#endif
