// AVX2 kernels (compiled with -mavx2 -mfma; only called after a run-time CPU check).
#include <cstring>
#include "avx2_util.h"
#include "optim.h"

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

// search_reference for 8 lanes: the same compares and the same float midpoints, so the same codes
// for every map (NaN lanes fail every compare and end at code 0, as there). The pivots of steps
// 1-3 come from one register permute, the later ones from gathers (Codebook::levels).
struct ReferenceSearch8 {
  __m256 lv[3];  // levels 1-3
  __m256 root, first, last;

  explicit ReferenceSearch8(const Codebook& cb)
      : root(_mm256_set1_ps(cb.values[127])), first(_mm256_set1_ps(cb.values[0])), last(_mm256_set1_ps(cb.values[255])) {
    for (int q = 0; q < 3; ++q) lv[q] = _mm256_loadu_ps(cb.levels + (2 << q) - 1);
  }

  __m256i codes(const Codebook& cb, __m256 y) const {
    // lower/upper: the pivot values where the search last went right/left; before that, the map's
    // ends (what search_reference substitutes when its lower/upper pivot is still 0/255).
    __m256i b = _mm256_setzero_si256();
    __m256 val = root, lower = first, upper = last;
    for (int level = 1; level <= 7; ++level) {
      const __m256 gt = _mm256_cmp_ps(y, val, _CMP_GT_OQ);
      lower = _mm256_blendv_ps(lower, val, gt);
      upper = _mm256_blendv_ps(val, upper, gt);
      b = _mm256_sub_epi32(_mm256_add_epi32(b, b), _mm256_castps_si256(gt));  // 2b + (x > pivot)
      val = level <= 3 ? _mm256_permutevar8x32_ps(lv[level - 1], b)
                       : _mm256_i32gather_ps(cb.levels + (1 << level) - 1, b, 4);
    }
    // Final pivot p = 2b, bracketed by p - 1 (0 when p = 0) and p + 1.
    const __m256 half = _mm256_set1_ps(0.5f);
    const __m256 gt = _mm256_cmp_ps(y, val, _CMP_GT_OQ);
    const __m256 up = _mm256_and_ps(gt, _mm256_cmp_ps(y, _mm256_mul_ps(_mm256_add_ps(upper, val), half), _CMP_GT_OQ));
    const __m256 down = _mm256_andnot_ps(gt, _mm256_cmp_ps(y, _mm256_mul_ps(_mm256_add_ps(lower, val), half), _CMP_LT_OQ));
    __m256i code = _mm256_sub_epi32(_mm256_add_epi32(b, b), _mm256_castps_si256(up));
    code = _mm256_add_epi32(code, _mm256_castps_si256(down));
    return _mm256_max_epi32(code, _mm256_setzero_si256());
  }
};

// Up to this many threshold steps (one gather each) the table search beats ReferenceSearch8
// (measured on Zen 5 for 4M floats: 0.8 ns per value at 1 step, 1.3-1.7 at 2-3, 5.5 at 9; the
// reference search 2.3 for any map).
constexpr int kMaxTableSpan = 4;

template <typename Search, typename Scalar>
void encode_blocks(const float* x, int64_t n, Norm mode, float inv, uint8_t* out, const Search& search,
                   const Scalar& scalar) {
  const __m256 vinv = _mm256_set1_ps(inv);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    __m256 y = mode == Norm::Div ? _mm256_div_ps(v, vinv) : _mm256_mul_ps(v, vinv);
    store8(out + i, search(y));
  }
  for (; i < n; ++i) out[i] = (uint8_t)scalar(mode == Norm::Div ? x[i] / inv : x[i] * inv);
}

void encode_avx2(const Codebook& cb, const float* x, int64_t n, float absmax, uint8_t* out) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  auto table = [&](float y) { return search_table(cb, y); };
  if (cb.path == SearchPath::Packed) {
    encode_blocks(x, n, mode, inv, out, [&](__m256 y) { return codes8_packed(cb, y); }, table);
  } else if (cb.path == SearchPath::Table && cb.max_span <= kMaxTableSpan) {
    encode_blocks(x, n, mode, inv, out, [&](__m256 y) { return codes8(cb, y); }, table);
  } else {
    const ReferenceSearch8 ref(cb);
    encode_blocks(x, n, mode, inv, out, [&](__m256 y) { return ref.codes(cb, y); },
                  [&](float y) { return search_reference(cb.values, y); });
  }
}

// Eight codes per 8-byte load, their values by scalar loads assembled into a vector: 1.8x faster than
// an 8-lane gather on Zen 5 (docs/PERFORMANCE.md, "The AVX2 step").
void decode_avx2(const Codebook& cb, const uint8_t* codes, int64_t n, float absmax, float* out) {
  const __m256 am = _mm256_set1_ps(absmax);
  const float* t = cb.values;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t q;
    std::memcpy(&q, codes + i, 8);
    const __m256 v = _mm256_setr_ps(t[q & 0xff], t[(q >> 8) & 0xff], t[(q >> 16) & 0xff], t[(q >> 24) & 0xff],
                                    t[(q >> 32) & 0xff], t[(q >> 40) & 0xff], t[(q >> 48) & 0xff], t[q >> 56]);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(v, am));
  }
  for (; i < n; ++i) out[i] = cb.values[codes[i]] * absmax;
}

}  // namespace

const IsaKernels kAvx2Kernels = {"avx2", absmax_avx2, encode_avx2, decode_avx2, optim_blocks_avx2, optim_blocks_avx2_fast,
                                   state_bytes_usable};

}  // namespace bnb
