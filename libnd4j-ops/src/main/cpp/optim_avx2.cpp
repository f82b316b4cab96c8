// AVX2 block step of the fused optimizers, for CPUs without AVX-512 (the scalar step is ~15x slower
// than DL4J's Adam there). The optimizers' rules (optimizers.h) on 8 lanes at a time (V256), with the
// float operations of the scalar step (optim.cpp) in the same order, in three passes over block-local buffers: decode the state(s) by
// gathering map values, update (gradient -> update in place) while tracking the new absmax, encode
// through the search tables (avx2_util.h). Tails shorter than 8 go through small buffers.
#include <cstring>
#include "avx2_util.h"
#include "optim_simd.h"

namespace bnb {
namespace {

using namespace avx2;

inline __m256i lane_index() { return _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7); }

// Lanes whose code byte sits at word position 3 of the packed state (vectors start at multiples of 8).
inline __m256i top_lanes(int32_t phase) {
  if (phase < 0) return _mm256_setzero_si256();
  const __m256i pos = _mm256_and_si256(_mm256_add_epi32(lane_index(), _mm256_set1_epi32(phase)), _mm256_set1_epi32(3));
  return _mm256_cmpeq_epi32(pos, _mm256_set1_epi32(3));
}

// sigma (state_bytes.h) on the lanes selected by top, its vector form: 0x7f <-> 1 is xor 0x7e, 0xff <-> 254 is xor 1.
inline __m256i sigma8(__m256i c, __m256i top) {
  const __m256i a = _mm256_or_si256(_mm256_cmpeq_epi32(c, _mm256_set1_epi32(1)), _mm256_cmpeq_epi32(c, _mm256_set1_epi32(0x7f)));
  const __m256i b = _mm256_or_si256(_mm256_cmpeq_epi32(c, _mm256_set1_epi32(254)), _mm256_cmpeq_epi32(c, _mm256_set1_epi32(0xff)));
  const __m256i d = _mm256_or_si256(_mm256_and_si256(a, _mm256_set1_epi32(0x7e)), _mm256_and_si256(b, _mm256_set1_epi32(1)));
  return _mm256_xor_si256(c, _mm256_and_si256(d, top));
}

inline __m256i load_codes8(const uint8_t* codes, int64_t left) {
  if (left >= 8) return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(codes)));
  uint8_t buf[8] = {0};
  std::memcpy(buf, codes, (size_t)left);
  return _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(buf)));
}

void decode_state(const Codebook& cb, const uint8_t* codes, int64_t len, float absmax, int32_t phase, float* out,
                  const OptimBlock* pf) {
  const __m256 am = _mm256_set1_ps(absmax);
  const __m256i top = top_lanes(phase);
  for (int64_t i = 0; i < len; i += 8) {
    if (pf != nullptr && (i & 63) == 0) prefetch_ahead(*pf, i);
    const __m256i idx = sigma8(load_codes8(codes + i, len - i), top);
    _mm256_store_ps(out + i, _mm256_mul_ps(_mm256_i32gather_ps(cb.values, idx, 4), am));
  }
}

void encode_state(const Codebook& cb, const float* s, int64_t len, float absmax, bool sign_fix, int32_t phase,
                  uint8_t* codes) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m256 vinv = _mm256_set1_ps(inv), zero = _mm256_setzero_ps();
  const __m256i one = _mm256_set1_epi32(1), top = top_lanes(phase);
  const int top_bits = _mm256_movemask_ps(_mm256_castsi256_ps(top));
  for (int64_t i = 0; i < len; i += 8) {
    const __m256 v = _mm256_load_ps(s + i);
    const __m256 y = mode == Norm::Div ? _mm256_div_ps(v, vinv) : _mm256_mul_ps(v, vinv);
    __m256i c = cb.packed_ok ? codes8_packed(cb, y) : codes8(cb, y);
    if (sign_fix) {
      // sign bit of map[c] (from the split index when the map has one) vs sign bit of the state
      const __m256i code_neg = cb.sign_split >= 0
          ? _mm256_cmpgt_epi32(_mm256_set1_epi32(cb.sign_split), c)
          : _mm256_srai_epi32(_mm256_castps_si256(_mm256_i32gather_ps(cb.values, c, 4)), 31);
      const __m256i wrong = _mm256_xor_si256(code_neg, _mm256_srai_epi32(_mm256_castps_si256(v), 31));
      const __m256i pos = _mm256_castps_si256(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
      // wrong lanes: +1 where the state is > 0, -1 otherwise
      c = _mm256_add_epi32(c, _mm256_and_si256(wrong, _mm256_or_si256(_mm256_and_si256(pos, one), _mm256_andnot_si256(pos, _mm256_set1_epi32(-1)))));
    }
    alignas(32) int32_t lane[8];
    _mm256_store_si256(reinterpret_cast<__m256i*>(lane), c);
    if (top_bits) {
      // top lanes must not keep codes 1 or 254: the nearer neighbour (rare: state_bytes.h's rule per lane)
      const __m256i odd = _mm256_and_si256(top, _mm256_or_si256(_mm256_cmpeq_epi32(c, one), _mm256_cmpeq_epi32(c, _mm256_set1_epi32(254))));
      int m = _mm256_movemask_ps(_mm256_castsi256_ps(odd));
      while (m) {
        const int l = __builtin_ctz(m);
        m &= m - 1;
        const float yl = mode == Norm::Div ? s[i + l] / inv : s[i + l] * inv;
        lane[l] = nearer_neighbour(cb.values, lane[l], yl);
      }
      c = sigma8(_mm256_load_si256(reinterpret_cast<const __m256i*>(lane)), top);
    }
    if (len - i >= 8) {
      store8(codes + i, c);
    } else {
      uint8_t buf[8];
      store8(buf, c);
      std::memcpy(codes + i, buf, (size_t)(len - i));
    }
  }
}

// The vector operations of the optimizers' rules (optimizers.h, ScalarOps) on 8 floats.
struct V256 {
  using F = __m256;
  static F set1(float x) { return _mm256_set1_ps(x); }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F neg(F a) { return _mm256_xor_ps(a, _mm256_set1_ps(-0.0f)); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F sqrt(F a) { return _mm256_sqrt_ps(a); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F sign_step(F c, float lr) {
    const F zero = _mm256_setzero_ps();
    const F u = _mm256_and_ps(_mm256_cmp_ps(c, zero, _CMP_GT_OQ), _mm256_set1_ps(lr));
    return _mm256_blendv_ps(u, _mm256_set1_ps(-lr), _mm256_cmp_ps(c, zero, _CMP_LT_OQ));
  }
};

// The update pass of optimizer O over one block: the update overwrites the gradient, the new states
// go back to rows[k], mx[k] gets the new absmax of state k.
template <class O>
void update_block(const bnb_optim_hyper& h, float* grad, float* const* rows, int64_t len, float* mx) {
  constexpr int K = num_states<O>;
  const __m256 zero = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
  const __m256 inf = _mm256_set1_ps(__builtin_inff());
  __m256 acc[K];
  for_states<K>([&](auto k) { acc[k] = zero; });
  // A local copy: the gradient stores cannot alias it, so its fields stay in registers across the loop.
  const bnb_optim_hyper hl = h;
  for (int64_t i = 0; i < len; i += 8) {
    const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(len - i < 8 ? len - i : 8)), lane_index());
    const __m256 g = _mm256_maskload_ps(grad + i, live);
    __m256 st[K];
    for_states<K>([&](auto k) { st[k] = _mm256_load_ps(rows[k] + i); });
    __m256 u = O::template update<V256>(hl, g, st);
    // non-finite gradient: state reset, zero update; ok = |g| < inf (false for NaN and +-Inf)
    const __m256 ok = _mm256_cmp_ps(_mm256_andnot_ps(sign, g), inf, _CMP_LT_OQ);
    u = _mm256_and_ps(u, ok);
    _mm256_maskstore_ps(grad + i, live, u);
    const __m256 lv = _mm256_castsi256_ps(live);
    for_states<K>([&](auto k) {
      st[k] = _mm256_and_ps(st[k], ok);
      _mm256_store_ps(rows[k] + i, st[k]);
      // max(x, acc) keeps acc when x is NaN: NaN is ignored, as in the scalar step; dead lanes add 0
      acc[k] = _mm256_max_ps(_mm256_and_ps(_mm256_andnot_ps(sign, st[k]), lv), acc[k]);
    });
  }
  for (int k = 0; k < K; ++k) {
    alignas(32) float l[8];
    _mm256_store_ps(l, acc[k]);
    float m = 0.0f;
    for (float x : l) if (x > m) m = x;
    mx[k] = m;
  }
}

}  // namespace

void optim_blocks_avx2(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi) {
  three_pass_blocks(h, maps, src, lo, hi, decode_state,
                    [](auto o, auto&&... args) { update_block<decltype(o)>(args...); }, encode_state);
}

}  // namespace bnb
