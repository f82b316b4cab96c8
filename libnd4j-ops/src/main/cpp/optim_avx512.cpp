// AVX-512 block step of the fused optimizers: the same float operations in the same order as
// optim_block_scalar (optim.cpp), 16 lanes at a time, in three passes over block-local buffers:
// decode the state(s), update (gradient -> update in place) while tracking the new absmax, encode.
#include "avx512_util.h"
#include "optim_avx512.h"

namespace bnb {
namespace {

using namespace avx512;

// Lanes whose code byte sits at word position 3 (see optim.cpp); vectors start at multiples of 16.
inline __mmask16 top_lanes(int32_t phase) { return phase < 0 ? (__mmask16)0 : (__mmask16)(0x1111u << ((3 - phase) & 3)); }

inline __m512i sigma16(__m512i c, __mmask16 top) {
  if (!top) return c;
  const __mmask16 a = _mm512_mask_cmpeq_epi32_mask(top, c, _mm512_set1_epi32(0x7f));
  const __mmask16 b = _mm512_mask_cmpeq_epi32_mask(top, c, _mm512_set1_epi32(1));
  const __mmask16 d = _mm512_mask_cmpeq_epi32_mask(top, c, _mm512_set1_epi32(0xff));
  const __mmask16 e = _mm512_mask_cmpeq_epi32_mask(top, c, _mm512_set1_epi32(254));
  c = _mm512_mask_mov_epi32(c, a, _mm512_set1_epi32(1));
  c = _mm512_mask_mov_epi32(c, b, _mm512_set1_epi32(0x7f));
  c = _mm512_mask_mov_epi32(c, d, _mm512_set1_epi32(254));
  return _mm512_mask_mov_epi32(c, e, _mm512_set1_epi32(0xff));
}

// pf: the block, when this pass should also prefetch ahead (the first decode of a block).
void decode_state(const Codebook& cb, const uint8_t* codes, int64_t len, float absmax, int32_t phase, float* out,
                  const OptimBlock* pf) {
  const Map512 map(cb.values);
  const __m512 am = _mm512_set1_ps(absmax);
  const __mmask16 top = top_lanes(phase);
  for (int64_t i = 0; i < len; i += 16) {
    if (pf != nullptr && (i & 63) == 0) prefetch_ahead(*pf, i);
    const __mmask16 m = tail_mask(len - i);
    __m512i idx = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, codes + i));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(map.lookup(sigma16(idx, top)), am));
  }
}

void encode_state(const Codebook& cb, const float* s, int64_t len, float absmax, bool sign_fix, int32_t phase, uint8_t* codes) {
  const Map512 map(cb.values);
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m512 vinv = _mm512_set1_ps(inv), zero = _mm512_setzero_ps();
  const __m512i one = _mm512_set1_epi32(1);
  const __mmask16 top = top_lanes(phase);
  for (int64_t i = 0; i < len; i += 16) {
    const __mmask16 m = tail_mask(len - i);
    const __m512 v = _mm512_loadu_ps(s + i);
    const __m512 y = mode == Norm::Div ? _mm512_div_ps(v, vinv) : _mm512_mul_ps(v, vinv);
    __m512i c = cb.packed_ok ? codes16_packed(cb, y) : codes16(cb, y);
    if (sign_fix) {
      // sign bit of map[c] (from the split index when the map has one) vs sign bit of the state
      const __mmask16 code_neg = cb.sign_split >= 0
          ? _mm512_cmplt_epi32_mask(c, _mm512_set1_epi32(cb.sign_split))
          : _mm512_test_epi32_mask(_mm512_castps_si512(map.lookup(c)), _mm512_set1_epi32((int)0x80000000u));
      const __mmask16 state_neg = _mm512_test_epi32_mask(_mm512_castps_si512(v), _mm512_set1_epi32((int)0x80000000u));
      const __mmask16 wrong = code_neg ^ state_neg;
      const __mmask16 pos = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ);
      c = _mm512_mask_add_epi32(c, wrong & pos, c, one);
      c = _mm512_mask_sub_epi32(c, wrong & (__mmask16)~pos, c, one);
    }
    const __mmask16 tm = top & m;
    if (tm) {
      const __mmask16 q = _mm512_mask_cmpeq_epi32_mask(tm, c, one) | _mm512_mask_cmpeq_epi32_mask(tm, c, _mm512_set1_epi32(254));
      if (q) {
        const __m512 lo = map.lookup(_mm512_sub_epi32(c, one)), hi = map.lookup(_mm512_add_epi32(c, one));
        const __m512 dl = _mm512_abs_ps(_mm512_sub_ps(y, lo)), dh = _mm512_abs_ps(_mm512_sub_ps(y, hi));
        const __mmask16 up = _mm512_cmp_ps_mask(dh, dl, _CMP_LT_OQ);
        c = _mm512_mask_add_epi32(c, q & up, c, one);
        c = _mm512_mask_sub_epi32(c, q & (__mmask16)~up, c, one);
      }
      c = sigma16(c, tm);
    }
    _mm512_mask_cvtepi32_storeu_epi8(codes + i, m, c);
  }
}

template <int Kind>
void update_block(const Hyper& h, float* grad, float* s1, float* s2, float* s3, int64_t len, float* mx) {
  constexpr int kStates = num_states(Kind);
  const __m512 zero = _mm512_setzero_ps();
  __m512 acc[3] = {zero, zero, zero};
  for (int64_t i = 0; i < len; i += 16) {
    update_lanes<Kind>(h, tail_mask(len - i), grad + i, _mm512_loadu_ps(s1 + i),
                       kStates >= 2 ? _mm512_loadu_ps(s2 + i) : zero, kStates == 3 ? _mm512_loadu_ps(s3 + i) : zero,
                       s1 + i, s2 + i, s3 + i, acc);
  }
  reduce_absmax(acc, kStates, mx);
}

}  // namespace

void optim_block_avx512(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b) {
  three_pass_block(h, cb1, cb2, b, decode_state,
                   [](auto kind, auto&&... args) { update_block<decltype(kind)::value>(args...); }, encode_state);
}

}  // namespace bnb
