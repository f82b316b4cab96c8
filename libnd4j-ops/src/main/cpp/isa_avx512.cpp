// AVX-512 (F/BW/VL/DQ) kernels; masked loads and stores handle the tail of a block.
#include "avx512_util.h"

namespace bnb {
namespace {

using namespace avx512;


float absmax_avx512(const float* x, int64_t n) {
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t i = 0;
  // max(a, acc) returns acc when a is NaN: NaN is ignored, Inf propagates.
  for (; i + 32 <= n; i += 32) {
    acc0 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i)), acc0);
    acc1 = _mm512_max_ps(_mm512_abs_ps(_mm512_loadu_ps(x + i + 16)), acc1);
  }
  for (; i < n; i += 16) {
    __m512 v = _mm512_maskz_loadu_ps(tail_mask(n - i), x + i);
    acc0 = _mm512_max_ps(_mm512_abs_ps(v), acc0);
  }
  return _mm512_reduce_max_ps(_mm512_max_ps(acc0, acc1));
}

template <bool Packed>
void encode_blocks(const Codebook& cb, const float* x, int64_t n, Norm mode, __m512 vinv, uint8_t* out) {
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    __m512 y = mode == Norm::Div ? _mm512_div_ps(v, vinv) : _mm512_mul_ps(v, vinv);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, m, Packed ? codes16_packed(cb, y) : codes16(cb, y));
  }
}

void encode_avx512(const Codebook& cb, const float* x, int64_t n, float absmax, uint8_t* out) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m512 vinv = _mm512_set1_ps(inv);
  if (cb.packed_ok) encode_blocks<true>(cb, x, n, mode, vinv, out);
  else encode_blocks<false>(cb, x, n, mode, vinv, out);
}

void decode_avx512(const Codebook& cb, const uint8_t* codes, int64_t n, float absmax, float* out) {
  const Map512 map(cb.values);
  const __m512 am = _mm512_set1_ps(absmax);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m512i idx = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(codes + i)));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(map.lookup(idx), am));
  }
  if (i < n) {
    __mmask16 m = tail_mask(n - i);
    __m512i idx = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, codes + i));
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(map.lookup(idx), am));
  }
}

}  // namespace

const IsaKernels kAvx512Kernels = {"avx512", absmax_avx512, encode_avx512, decode_avx512};

}  // namespace bnb
