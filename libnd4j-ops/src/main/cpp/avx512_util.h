// AVX-512 building blocks shared by the quantize kernels and the fused optimizer steps.
// Include only from translation units compiled with -mavx512f/bw/vl/dq.
#pragma once
#include <immintrin.h>
#include "kernels.h"

namespace bnb {
namespace avx512 {

// Lanes still inside the data when `left` elements remain (none when left <= 0: a vector past the end).
inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? (__mmask16)0xffff : left <= 0 ? (__mmask16)0 : (__mmask16)((1u << left) - 1u);
}
inline __mmask64 tail_mask64(int64_t left) {
  return left >= 64 ? ~(__mmask64)0 : left <= 0 ? (__mmask64)0 : (((__mmask64)1 << left) - 1);
}

inline __m512i codes16(const Codebook& cb, __m512 y) {
  const __m512i b = _mm512_castps_si512(y);
  const __m512i key = _mm512_or_si512(
      _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x3fff)),
      _mm512_and_si512(_mm512_srli_epi32(b, 17), _mm512_set1_epi32(0x4000)));
  __m512i code = _mm512_and_si512(_mm512_i32gather_epi32(key, cb.lut, 1), _mm512_set1_epi32(0xff));
  const __m512i one = _mm512_set1_epi32(1);
  for (int s = 0; s < cb.max_span; ++s) {
    __m512 t = _mm512_i32gather_ps(code, cb.thresh + 1, 4);
    code = _mm512_mask_add_epi32(code, _mm512_cmp_ps_mask(y, t, _CMP_GE_OQ), code, one);
  }
  return _mm512_mask_mov_epi32(code, _mm512_cmp_ps_mask(y, y, _CMP_UNORD_Q), _mm512_set1_epi32(cb.nan_code));
}

// One gather per 16 values through the packed table (Codebook::packed). (A branch-free binary
// search over the thresholds held in registers was tried: its chain of 8 dependent permutes is
// about twice as slow as this gather on Zen 5.)
inline __m512i codes16_packed(const Codebook& cb, __m512 y) {
  const __m512i b = _mm512_castps_si512(y);
  const __m512i key = _mm512_or_si512(
      _mm512_and_si512(_mm512_srli_epi32(b, 16), _mm512_set1_epi32(0x3fff)),
      _mm512_and_si512(_mm512_srli_epi32(b, 17), _mm512_set1_epi32(0x4000)));
  const __m512i e = _mm512_i32gather_epi32(key, cb.packed, 4);
  const __m512i ffff = _mm512_set1_epi32(0xffff);
  const __m512i low = _mm512_xor_si512(_mm512_and_si512(b, ffff), _mm512_and_si512(_mm512_srai_epi32(b, 31), ffff));
  __m512i code = _mm512_and_si512(e, _mm512_set1_epi32(0xff));
  code = _mm512_mask_add_epi32(code, _mm512_cmpge_epu32_mask(low, _mm512_srli_epi32(e, 8)), code, _mm512_set1_epi32(1));
  return _mm512_mask_mov_epi32(code, _mm512_cmp_ps_mask(y, y, _CMP_UNORD_Q), _mm512_set1_epi32(cb.nan_code));
}

// Table lookup in registers: the 256 map values are 16 vectors; eight two-source permutes pick by
// the low 5 bits of the code and three rounds of blends by bits 5, 6 and 7. About twice as fast
// as a gather here, and the permutes are independent (no dependency chain).
struct Map512 {
  __m512 t[16];
  explicit Map512(const float* v) { for (int i = 0; i < 16; ++i) t[i] = _mm512_loadu_ps(v + 16 * i); }
  __m512 lookup(__m512i idx) const {
    __m512 r[8];
    for (int g = 0; g < 8; ++g) r[g] = _mm512_permutex2var_ps(t[2 * g], idx, t[2 * g + 1]);
    const __mmask16 b5 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(32));
    const __mmask16 b6 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(64));
    const __mmask16 b7 = _mm512_test_epi32_mask(idx, _mm512_set1_epi32(128));
    __m512 a0 = _mm512_mask_blend_ps(b5, r[0], r[1]), a1 = _mm512_mask_blend_ps(b5, r[2], r[3]);
    __m512 a2 = _mm512_mask_blend_ps(b5, r[4], r[5]), a3 = _mm512_mask_blend_ps(b5, r[6], r[7]);
    __m512 c0 = _mm512_mask_blend_ps(b6, a0, a1), c1 = _mm512_mask_blend_ps(b6, a2, a3);
    return _mm512_mask_blend_ps(b7, c0, c1);
  }
};

}  // namespace avx512
}  // namespace bnb
