// AVX-512 (F/BW/VL/DQ) kernels; masked loads and stores handle the tail of a block.
#include "avx512_util.h"
#include "optim.h"

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

// search_reference for 16 lanes: the same compares and the same float midpoints, so the same
// codes for every map (NaN lanes fail every compare and end at code 0, as there). The pivots of
// each step come from registers (Codebook::levels): one permute for the 2..16 of steps 1-4, two
// to seven permutes and blends for the 32, 64 and 128 of steps 5-7.
struct ReferenceSearch16 {
  __m512 lv[18];  // levels 1-4: lv[0..3]; 5: lv[4..5]; 6: lv[6..9]; 7 (final pivots): lv[10..17]
  __m512 root, first, last;

  explicit ReferenceSearch16(const Codebook& cb)
      : root(_mm512_set1_ps(cb.values[127])), first(_mm512_set1_ps(cb.values[0])), last(_mm512_set1_ps(cb.values[255])) {
    const float* l = cb.levels;
    for (int q = 0; q < 4; ++q) lv[q] = _mm512_maskz_loadu_ps(tail_mask(2 << q), l + (2 << q) - 1);
    for (int q = 0; q < 2; ++q) lv[4 + q] = _mm512_loadu_ps(l + 31 + 16 * q);
    for (int q = 0; q < 4; ++q) lv[6 + q] = _mm512_loadu_ps(l + 63 + 16 * q);
    for (int q = 0; q < 8; ++q) lv[10 + q] = _mm512_loadu_ps(l + 127 + 16 * q);
  }

  // The pivot at `level` (1..7) for path bits b < 2^level.
  __m512 pivot(int level, __m512i b) const {
    if (level <= 4) return _mm512_permutexvar_ps(b, lv[level - 1]);
    if (level == 5) return _mm512_permutex2var_ps(lv[4], b, lv[5]);
    const __mmask16 b5 = _mm512_test_epi32_mask(b, _mm512_set1_epi32(32));
    if (level == 6)
      return _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(lv[6], b, lv[7]), _mm512_permutex2var_ps(lv[8], b, lv[9]));
    const __mmask16 b6 = _mm512_test_epi32_mask(b, _mm512_set1_epi32(64));
    const __m512 lo = _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(lv[10], b, lv[11]), _mm512_permutex2var_ps(lv[12], b, lv[13]));
    const __m512 hi = _mm512_mask_blend_ps(b5, _mm512_permutex2var_ps(lv[14], b, lv[15]), _mm512_permutex2var_ps(lv[16], b, lv[17]));
    return _mm512_mask_blend_ps(b6, lo, hi);
  }

  __m512i codes(__m512 y) const {
    // lower/upper: the pivot values where the search last went right/left; before that, the map's
    // ends (what search_reference substitutes when its lower/upper pivot is still 0/255).
    __m512i b = _mm512_setzero_si512();
    __m512 val = root, lower = first, upper = last;
    for (int level = 1; level <= 7; ++level) {
      const __mmask16 gt = _mm512_cmp_ps_mask(y, val, _CMP_GT_OQ);
      lower = _mm512_mask_mov_ps(lower, gt, val);
      upper = _mm512_mask_mov_ps(val, gt, upper);
      b = _mm512_mask_add_epi32(_mm512_add_epi32(b, b), gt, _mm512_add_epi32(b, b), _mm512_set1_epi32(1));
      val = pivot(level, b);
    }
    // Final pivot p = 2b, bracketed by p - 1 (0 when p = 0) and p + 1.
    const __m512 half = _mm512_set1_ps(0.5f);
    const __mmask16 gt = _mm512_cmp_ps_mask(y, val, _CMP_GT_OQ);
    const __mmask16 up = _mm512_mask_cmp_ps_mask(gt, y, _mm512_mul_ps(_mm512_add_ps(upper, val), half), _CMP_GT_OQ);
    const __mmask16 down = _mm512_mask_cmp_ps_mask((__mmask16)~gt, y, _mm512_mul_ps(_mm512_add_ps(lower, val), half), _CMP_LT_OQ);
    __m512i code = _mm512_add_epi32(b, b);
    code = _mm512_mask_add_epi32(code, up, code, _mm512_set1_epi32(1));
    code = _mm512_mask_sub_epi32(code, down, code, _mm512_set1_epi32(1));
    return _mm512_max_epi32(code, _mm512_setzero_si512());
  }
};

// Up to this many threshold steps (one gather each) the table search beats ReferenceSearch16
// (measured on Zen 5 for 4M floats: 0.7 ns per value at 1 step, 1.4-1.7 at 2-3; the reference
// search 0.9-1.0 for any map).
constexpr int kMaxTableSpan = 1;

template <typename Search>
void encode_blocks(const float* x, int64_t n, Norm mode, __m512 vinv, uint8_t* out, const Search& search) {
  for (int64_t i = 0; i < n; i += 16) {
    __mmask16 m = tail_mask(n - i);
    __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    __m512 y = mode == Norm::Div ? _mm512_div_ps(v, vinv) : _mm512_mul_ps(v, vinv);
    _mm512_mask_cvtepi32_storeu_epi8(out + i, m, search(y));
  }
}

void encode_avx512(const Codebook& cb, const float* x, int64_t n, float absmax, uint8_t* out) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m512 vinv = _mm512_set1_ps(inv);
  if (cb.path == SearchPath::Packed) {
    encode_blocks(x, n, mode, vinv, out, [&](__m512 y) { return codes16_packed(cb, y); });
  } else if (cb.path == SearchPath::Table && cb.max_span <= kMaxTableSpan) {
    encode_blocks(x, n, mode, vinv, out, [&](__m512 y) { return codes16(cb, y); });
  } else {
    const ReferenceSearch16 ref(cb);
    encode_blocks(x, n, mode, vinv, out, [&](__m512 y) { return ref.codes(y); });
  }
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

const IsaKernels kAvx512Kernels = {"avx512", absmax_avx512, encode_avx512, decode_avx512, optim_blocks_avx512,
                                   optim_blocks_avx512_fast, state_bytes_usable};

}  // namespace bnb
