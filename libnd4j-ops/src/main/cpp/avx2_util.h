// AVX2 building blocks shared by the quantize kernels and the fused optimizer steps.
// Include only from translation units compiled with -mavx2.
#pragma once
#include <immintrin.h>
#include "kernels.h"

namespace bnb {
namespace avx2 {

inline __m256i codes8(const Codebook& cb, __m256 y) {
  const __m256i b = _mm256_castps_si256(y);
  const __m256i key = _mm256_or_si256(
      _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x3fff)),
      _mm256_and_si256(_mm256_srli_epi32(b, 17), _mm256_set1_epi32(0x4000)));
  __m256i code = _mm256_and_si256(
      _mm256_i32gather_epi32(reinterpret_cast<const int*>(cb.lut), key, 1), _mm256_set1_epi32(0xff));
  for (int s = 0; s < cb.max_span; ++s) {
    __m256 t = _mm256_i32gather_ps(cb.thresh + 1, code, 4);
    code = _mm256_sub_epi32(code, _mm256_castps_si256(_mm256_cmp_ps(y, t, _CMP_GE_OQ)));
  }
  __m256 nan = _mm256_cmp_ps(y, y, _CMP_UNORD_Q);
  return _mm256_blendv_epi8(code, _mm256_set1_epi32(cb.nan_code), _mm256_castps_si256(nan));
}

// One gather per 8 values through the packed table (Codebook::packed).
inline __m256i codes8_packed(const Codebook& cb, __m256 y) {
  const __m256i b = _mm256_castps_si256(y);
  const __m256i key = _mm256_or_si256(
      _mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x3fff)),
      _mm256_and_si256(_mm256_srli_epi32(b, 17), _mm256_set1_epi32(0x4000)));
  const __m256i e = _mm256_i32gather_epi32(reinterpret_cast<const int*>(cb.packed), key, 4);
  const __m256i ffff = _mm256_set1_epi32(0xffff);
  const __m256i low = _mm256_xor_si256(_mm256_and_si256(b, ffff), _mm256_and_si256(_mm256_srai_epi32(b, 31), ffff));
  const __m256i t = _mm256_srli_epi32(e, 8);
  // low >= t as unsigned; both fit in 17 bits, so the signed compare is exact
  const __m256i ge = _mm256_xor_si256(_mm256_cmpgt_epi32(t, low), _mm256_set1_epi32(-1));
  __m256i code = _mm256_sub_epi32(_mm256_and_si256(e, _mm256_set1_epi32(0xff)), ge);
  __m256 nan = _mm256_cmp_ps(y, y, _CMP_UNORD_Q);
  return _mm256_blendv_epi8(code, _mm256_set1_epi32(cb.nan_code), _mm256_castps_si256(nan));
}

inline void store8(uint8_t* out, __m256i code) {
  __m128i w = _mm_packus_epi32(_mm256_castsi256_si128(code), _mm256_extracti128_si256(code, 1));
  _mm_storel_epi64(reinterpret_cast<__m128i*>(out), _mm_packus_epi16(w, w));
}

}  // namespace avx2
}  // namespace bnb
