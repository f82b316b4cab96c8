// AVX-512 block step of the fused optimizers: the optimizers' rules (optimizers.h) on 16 lanes at a
// time (V512), with the float operations of the scalar step (optim.cpp) in the same order, in three passes over block-local buffers:
// decode the state(s), update (gradient -> update in place) while tracking the new absmax, encode.
#include "avx512_util.h"
#include "optim_avx512.h"

namespace bnb {
namespace {

using namespace avx512;

// Lanes whose code byte sits at word position 3 (see optim.cpp); vectors start at multiples of 16.
inline __mmask16 top_lanes(int32_t phase) { return phase < 0 ? (__mmask16)0 : (__mmask16)(0x1111u << ((3 - phase) & 3)); }

// sigma (state_bytes.h) on the lanes selected by top: its vector form.
inline __m512i sigma_lanes(__m512i c, __mmask16 top) {
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
    _mm512_storeu_ps(out + i, _mm512_mul_ps(map.lookup(sigma_lanes(idx, top)), am));
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
      // +1 where the state is > 0, -1 where it is <= 0; a NaN state is neither and keeps its code
      // (state_bytes.h fix_sign)
      const __mmask16 pos = _mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), le = _mm512_cmp_ps_mask(v, zero, _CMP_LE_OQ);
      c = _mm512_mask_add_epi32(c, wrong & pos, c, one);
      c = _mm512_mask_sub_epi32(c, wrong & le, c, one);
    }
    const __mmask16 tm = top & m;
    if (tm) {
      const __mmask16 q = _mm512_mask_cmpeq_epi32_mask(tm, c, one) | _mm512_mask_cmpeq_epi32_mask(tm, c, _mm512_set1_epi32(254));
      // top lanes must not keep codes 1 or 254: state_bytes.h's nearer_neighbour in vector form (such
      // lanes are common enough in packed states that the per-lane scalar rule made the step ~40% slower)
      if (q) {
        const __m512 lo = map.lookup(_mm512_sub_epi32(c, one)), hi = map.lookup(_mm512_add_epi32(c, one));
        const __m512 dl = _mm512_abs_ps(_mm512_sub_ps(y, lo)), dh = _mm512_abs_ps(_mm512_sub_ps(y, hi));
        const __mmask16 up = _mm512_cmp_ps_mask(dh, dl, _CMP_LT_OQ);
        c = _mm512_mask_add_epi32(c, q & up, c, one);
        c = _mm512_mask_sub_epi32(c, q & (__mmask16)~up, c, one);
      }
      c = sigma_lanes(c, tm);
    }
    _mm512_mask_cvtepi32_storeu_epi8(codes + i, m, c);
  }
}

// encode_state through the map's StateByteTables (kernels.h): one gather per 16 lanes fetches entries
// that already hold the stored byte, so neither the sign fix nor the nearer neighbour nor sigma is
// done per lane (top lanes read the second table: 65536 entries on; lanes past the block read nothing).
// NaN states (y NaN: the tables do not cover it) would take the scalar rule per lane; the update pass
// resets non-finite states, so this is a guard, not a path the steps take.
void encode_state_bytes(const Codebook& cb, const float* s, int64_t len, float absmax, bool sign_fix, int32_t phase,
                        uint8_t* codes) {
  // built by state_bytes_usable before the step began (its threads started after): no call_once per block
  const StateByteTables& t = *cb.state_bytes;
  const int* base = reinterpret_cast<const int*>(t.entry[sign_fix][0]);
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m512 vinv = _mm512_set1_ps(inv);
  const __mmask16 top = top_lanes(phase);
  const __m512i off = _mm512_maskz_mov_epi32(top, _mm512_set1_epi32(65536));
  const __m512i ffff = _mm512_set1_epi32(0xffff);
  for (int64_t i = 0; i < len; i += 16) {
    const __mmask16 m = tail_mask(len - i);
    const __m512 v = _mm512_loadu_ps(s + i);
    const __m512 y = mode == Norm::Div ? _mm512_div_ps(v, vinv) : _mm512_mul_ps(v, vinv);
    const __m512i b = _mm512_castps_si512(y);
    // (masked, from a zeroed source: the unmasked intrinsic merges into a destination register that the
    // compiler leaves holding the previous gather, so each gather waited for the one before: 0.44 -> 0.35 ms
    // for the Adam8bit step in docs/PERFORMANCE.md)
    const __m512i e = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, _mm512_add_epi32(_mm512_srli_epi32(b, 16), off),
                                                  base, 4);
    // the byte: e >> 8 where the low bits of y reach e >> 16, else e (the store keeps the low byte)
    const __mmask16 reached = _mm512_cmpge_epu32_mask(_mm512_and_si512(b, ffff), _mm512_srli_epi32(e, 16));
    __m512i c = _mm512_mask_srli_epi32(e, reached, e, 8);
    const __mmask16 nan = _mm512_cmp_ps_mask(y, y, _CMP_UNORD_Q) & m;
    if (nan) {
      alignas(64) int32_t lane[16];
      _mm512_store_si512(lane, c);
      for (int l = 0; l < 16; ++l)
        if ((nan >> l) & 1) lane[l] = state_byte(cb.values, s[i + l], absmax, sign_fix, slot_of(phase, l));
      c = _mm512_load_si512(lane);
    }
    _mm512_mask_cvtepi32_storeu_epi8(codes + i, m, c);
  }
}

// The update pass of optimizer O over one block (see update_lanes).
template <class O>
void update_block(const bnb_optim_hyper& h, float* grad, float* const* rows, int64_t len, float* mx) {
  constexpr int K = num_states<O>;
  __m512 acc[K];
  for_states<K>([&](auto k) { acc[k] = _mm512_setzero_ps(); });
  // A local copy: the gradient stores cannot alias it, so its fields stay in registers across the loop.
  const bnb_optim_hyper hl = h;
  for (int64_t i = 0; i < len; i += 16) {
    __m512 st[K];
    for_states<K>([&](auto k) { st[k] = _mm512_loadu_ps(rows[k] + i); });
    update_lanes<O>(hl, tail_mask(len - i), grad + i, st, rows, i, acc);
  }
  reduce_absmax<K>(acc, mx);
}

}  // namespace

void optim_blocks_avx512_fast(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo,
                              int64_t hi) {
  three_pass_blocks(h, maps, src, lo, hi, decode_state,
                    [](auto o, auto&&... args) { update_block<decltype(o)>(args...); }, encode_state_bytes);
}

void optim_blocks_avx512(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi) {
  three_pass_blocks(h, maps, src, lo, hi, decode_state,
                    [](auto o, auto&&... args) { update_block<decltype(o)>(args...); }, encode_state);
}

}  // namespace bnb
