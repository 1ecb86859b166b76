// The ymm integer dot products of q8_0/q4_0 rows with q8_0 activations, instantiated twice by
// integer_dot.c: once for AVX512-VNNI (EVEX vpdpbusd on ymm) and once for AVX-VNNI (VEX).
// Expects CK_TARGET (a target attribute), CK_NAME(x) (appends the ISA suffix) and
// CK_DPBUSD(acc, u8, s8) to be defined.
//
// vpdpbusd multiplies unsigned bytes by signed bytes, so the weights' signs move onto x:
// |w| · (sign(w) · x) = w · x (vpabsb / vpsignb; |-128| reads as unsigned 128, which is right).
// Each block's 8 int32 partial sums are exact (|sum| < 2^24) and convert to float exactly.

static inline CK_TARGET float CK_NAME(half)(const uint8_t *block) {
    uint16_t h;
    __builtin_memcpy(&h, block, 2);
    return _cvtsh_ss(h);
}

static inline CK_TARGET __m256i CK_NAME(q8_0_quants)(const uint8_t *block) {
    return _mm256_loadu_si256((const __m256i *)(block + 2));
}

static inline CK_TARGET __m256i CK_NAME(q4_0_quants)(const uint8_t *block) {
    __m128i packed = _mm_loadu_si128((const __m128i *)(block + 2));
    __m128i mask = _mm_set1_epi8(0x0F);
    __m128i low = _mm_and_si128(packed, mask), high = _mm_and_si128(_mm_srli_epi16(packed, 4), mask);
    return _mm256_sub_epi8(_mm256_set_m128i(high, low), _mm256_set1_epi8(8));
}

static inline CK_TARGET float CK_NAME(hsum)(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/// Eight int32 partial sums of one block, as floats.
static inline CK_TARGET __m256 CK_NAME(block_sums)(__m256i absW, __m256i w, const int8_t *x) {
    __m256i sx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)x), w);
    return _mm256_cvtepi32_ps(CK_DPBUSD(_mm256_setzero_si256(), absW, sx));
}

#define CK_DEFINE_DOT(TYPE, BYTES)                                                                          \
    float CK_NAME(ck_dot_##TYPE)(const void *row, long chunks, const int8_t *xq, const float *xs);          \
    CK_TARGET float CK_NAME(ck_dot_##TYPE)(const void *row, long chunks, const int8_t *xq, const float *xs) { \
        const uint8_t *w = (const uint8_t *)row;                                                            \
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();                                      \
        long c = 0;                                                                                         \
        for (; c + 2 <= chunks; c += 2) {                                                                   \
            const uint8_t *b0 = w + c * BYTES, *b1 = b0 + BYTES;                                            \
            __m256i q0 = CK_NAME(TYPE##_quants)(b0), q1 = CK_NAME(TYPE##_quants)(b1);                       \
            __m256 s0 = CK_NAME(block_sums)(_mm256_abs_epi8(q0), q0, xq + c * 32);                          \
            __m256 s1 = CK_NAME(block_sums)(_mm256_abs_epi8(q1), q1, xq + c * 32 + 32);                     \
            acc0 = _mm256_fmadd_ps(s0, _mm256_set1_ps(CK_NAME(half)(b0) * xs[c]), acc0);                    \
            acc1 = _mm256_fmadd_ps(s1, _mm256_set1_ps(CK_NAME(half)(b1) * xs[c + 1]), acc1);                \
        }                                                                                                   \
        if (c < chunks) {                                                                                   \
            const uint8_t *b0 = w + c * BYTES;                                                              \
            __m256i q0 = CK_NAME(TYPE##_quants)(b0);                                                        \
            __m256 s0 = CK_NAME(block_sums)(_mm256_abs_epi8(q0), q0, xq + c * 32);                          \
            acc0 = _mm256_fmadd_ps(s0, _mm256_set1_ps(CK_NAME(half)(b0) * xs[c]), acc0);                    \
        }                                                                                                   \
        return CK_NAME(hsum)(_mm256_add_ps(acc0, acc1));                                                    \
    }

#define CK_DEFINE_DOT4(TYPE, BYTES)                                                                         \
    static inline CK_TARGET void CK_NAME(dot4_##TYPE)(const uint8_t *w, long chunks, const int group,       \
                                                      const int8_t *xq, long stride, const float *xs,       \
                                                      float *out) {                                         \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                         \
        for (long c = 0; c < chunks; c++) {                                                                 \
            const uint8_t *b = w + c * BYTES;                                                               \
            float dw = CK_NAME(half)(b);                                                                    \
            __m256i q = CK_NAME(TYPE##_quants)(b), aq = _mm256_abs_epi8(q);                                 \
            const int8_t *x = xq + c * 32;                                                                  \
            a0 = _mm256_fmadd_ps(CK_NAME(block_sums)(aq, q, x), _mm256_set1_ps(dw * xs[c]), a0);            \
            if (group > 1)                                                                                  \
                a1 = _mm256_fmadd_ps(CK_NAME(block_sums)(aq, q, x + stride),                                \
                                     _mm256_set1_ps(dw * xs[chunks + c]), a1);                              \
            if (group > 2)                                                                                  \
                a2 = _mm256_fmadd_ps(CK_NAME(block_sums)(aq, q, x + 2 * stride),                            \
                                     _mm256_set1_ps(dw * xs[2 * chunks + c]), a2);                          \
            if (group > 3)                                                                                  \
                a3 = _mm256_fmadd_ps(CK_NAME(block_sums)(aq, q, x + 3 * stride),                            \
                                     _mm256_set1_ps(dw * xs[3 * chunks + c]), a3);                          \
        }                                                                                                   \
        out[0] = CK_NAME(hsum)(a0);                                                                         \
        if (group > 1) out[1] = CK_NAME(hsum)(a1);                                                          \
        if (group > 2) out[2] = CK_NAME(hsum)(a2);                                                          \
        if (group > 3) out[3] = CK_NAME(hsum)(a3);                                                          \
    }                                                                                                       \
    CK_TARGET void CK_NAME(ck_dot4_##TYPE)(const void *row, long chunks, long group, const int8_t *xq,      \
                                           long stride, const float *xs, float *out) {                      \
        const uint8_t *w = (const uint8_t *)row;                                                            \
        switch (group) {                                                                                    \
        case 1: CK_NAME(dot4_##TYPE)(w, chunks, 1, xq, stride, xs, out); break;                             \
        case 2: CK_NAME(dot4_##TYPE)(w, chunks, 2, xq, stride, xs, out); break;                             \
        case 3: CK_NAME(dot4_##TYPE)(w, chunks, 3, xq, stride, xs, out); break;                             \
        default: CK_NAME(dot4_##TYPE)(w, chunks, 4, xq, stride, xs, out); break;                            \
        }                                                                                                   \
    }

CK_DEFINE_DOT4(q8_0, 34)
CK_DEFINE_DOT4(q4_0, 18)
