// AVX2 kernels (compiled with -mavx2 -mfma; only called after a run-time CPU check).
#include "avx2_util.h"

namespace bnb {
namespace {

using namespace avx2;

float absmax_avx2(const float* x, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  // max(a, acc) returns acc when a is NaN: NaN is ignored, Inf propagates.
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i)), acc0);
    acc1 = _mm256_max_ps(_mm256_andnot_ps(sign, _mm256_loadu_ps(x + i + 8)), acc1);
  }
  acc0 = _mm256_max_ps(acc0, acc1);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, acc0);
  float m = 0.0f;
  for (float v : lanes) if (v > m) m = v;
  for (; i < n; ++i) { float a = std::fabs(x[i]); if (a > m) m = a; }
  return m;
}

void encode_avx2(const Codebook& cb, const float* x, int64_t n, float absmax, uint8_t* out) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m256 vinv = _mm256_set1_ps(inv);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 y = mode == Norm::Div ? _mm256_div_ps(v, vinv) : _mm256_mul_ps(v, vinv);
    store8(out + i, cb.packed_ok ? codes8_packed(cb, y) : codes8(cb, y));
  }
  for (; i < n; ++i) out[i] = (uint8_t)search_table(cb, mode == Norm::Div ? x[i] / inv : x[i] * inv);
}

void decode_avx2(const Codebook& cb, const uint8_t* codes, int64_t n, float absmax, float* out) {
  const __m256 am = _mm256_set1_ps(absmax);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes + i)));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_i32gather_ps(cb.values, idx, 4), am));
  }
  for (; i < n; ++i) out[i] = cb.values[codes[i]] * absmax;
}

}  // namespace

const IsaKernels kAvx2Kernels = {"avx2", absmax_avx2, encode_avx2, decode_avx2};

}  // namespace bnb
