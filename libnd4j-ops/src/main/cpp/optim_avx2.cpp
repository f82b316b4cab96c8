// AVX2 block step of the fused optimizers, for CPUs without AVX-512 (the scalar step is ~15x slower
// than DL4J's Adam there). The optimizers' rules (optimizers.h) on 8 lanes at a time (V256), with the
// float operations of the scalar step (optim.cpp) in the same order: decode the state(s), update
// (gradient -> update in place, new states into a block's float scratch, new absmax), encode.
// Two forms of decode and encode: the fast one (maps with a packed table: every bitsandbytes map)
// looks its tables up with scalar loads straight into vector registers, which costs less than 8-lane
// gathers and less than a round trip through a scratch on the cores measured (docs/PERFORMANCE.md,
// "The AVX2 step"); the general one gathers into the scratch, for any map, NaN states and dividing
// scales.
#include <cstring>
#include <type_traits>
#include "avx2_util.h"
#include "optim.h"

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

// The sign fix (state_bytes.h fix_sign) on 8 codes c of states v, code_neg marking the codes whose map
// value has its sign bit set: a code of the other sign than its state moves one step, up where the state
// is > 0, down where it is <= 0; a NaN state is neither and keeps its code.
inline __m256i sign_fixed8(__m256i c, __m256i code_neg, __m256 v) {
  const __m256 zero = _mm256_setzero_ps();
  const __m256i wrong = _mm256_xor_si256(code_neg, _mm256_srai_epi32(_mm256_castps_si256(v), 31));
  const __m256i pos = _mm256_castps_si256(_mm256_cmp_ps(v, zero, _CMP_GT_OQ));
  const __m256i le = _mm256_castps_si256(_mm256_cmp_ps(v, zero, _CMP_LE_OQ));
  return _mm256_add_epi32(c, _mm256_and_si256(wrong, _mm256_or_si256(_mm256_and_si256(pos, _mm256_set1_epi32(1)), le)));
}

// ---- The general passes (any map): gathers through the tables of avx2_util.h.

// The map values of one state's codes (the update pass scales them by the block's absmax).
void decode_gather(const Codebook& cb, const uint8_t* codes, int64_t len, int32_t phase, float* out, const OptimBlock* pf) {
  const __m256i top = top_lanes(phase);
  for (int64_t i = 0; i < len; i += 8) {
    if (pf != nullptr && (i & 63) == 0) prefetch_ahead(*pf, i);
    const __m256i idx = sigma8(load_codes8(codes + i, len - i), top);
    _mm256_store_ps(out + i, _mm256_i32gather_ps(cb.values, idx, 4));
  }
}

// One state's codes from its float scratch s (NaN lanes, dividing scales, any map).
void encode_gather(const Codebook& cb, bool sign_fix, const float* s, int64_t len, float absmax, int32_t phase,
                   bool /*may_nan*/, uint8_t* codes) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m256 vinv = _mm256_set1_ps(inv);
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
      c = sign_fixed8(c, code_neg, v);
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

// The update pass of optimizer O over one block: values(k, i, left) gives the map values of state k's
// eight codes at i (left = live lanes, < 8 only at the tail); times scale[k] (decode_value: map[c] *
// absmax) they are the old states. The update overwrites the gradient, the new states go to rows[k],
// mx[k] gets the new absmax of state k.
template <class O, class Values>
void update_block(const bnb_optim_hyper& h, float* grad, float* const* rows, int64_t len, const float* scale, float* mx,
                  Values values) {
  constexpr int K = num_states<O>;
  const __m256 zero = _mm256_setzero_ps(), sign = _mm256_set1_ps(-0.0f);
  const __m256 inf = _mm256_set1_ps(__builtin_inff());
  __m256 acc[K], am[K];
  for_states<K>([&](auto k) { acc[k] = zero; am[k] = _mm256_set1_ps(scale[k]); });
  // A local copy: the gradient stores cannot alias it, so its fields stay in registers across the loop.
  const bnb_optim_hyper hl = h;
  // Eight lanes at i; tail: only the first len - i are live (masked gradient access, dead lanes add 0).
  auto lanes = [&](int64_t i, auto tail) {
    const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(len - i)), lane_index());
    const __m256 g = tail ? _mm256_maskload_ps(grad + i, live) : _mm256_loadu_ps(grad + i);
    __m256 st[K];
    for_states<K>([&](auto k) { st[k] = _mm256_mul_ps(values(k, i, tail ? len - i : 8), am[k]); });
    __m256 u = O::template update<V256>(hl, g, st);
    // non-finite gradient or new state: state reset, zero update; ok = |x| < inf (false for NaN and +-Inf)
    __m256 ok = _mm256_cmp_ps(_mm256_andnot_ps(sign, g), inf, _CMP_LT_OQ);
    for_states<K>([&](auto k) { ok = _mm256_and_ps(ok, _mm256_cmp_ps(_mm256_andnot_ps(sign, st[k]), inf, _CMP_LT_OQ)); });
    u = _mm256_and_ps(u, ok);
    // (masked stores are slow on AMD cores: only the tail uses one)
    if (tail) _mm256_maskstore_ps(grad + i, live, u); else _mm256_storeu_ps(grad + i, u);
    for_states<K>([&](auto k) {
      st[k] = _mm256_and_ps(st[k], ok);
      _mm256_store_ps(rows[k] + i, st[k]);
      // max(x, acc) keeps acc when x is NaN: NaN is ignored, as in the scalar step
      __m256 a = _mm256_andnot_ps(sign, st[k]);
      if (tail) a = _mm256_and_ps(a, _mm256_castsi256_ps(live));
      acc[k] = _mm256_max_ps(a, acc[k]);
    });
  };
  int64_t i = 0;
  for (; i + 8 <= len; i += 8) lanes(i, std::false_type{});
  if (i < len) lanes(i, std::true_type{});
  for (int k = 0; k < K; ++k) {
    alignas(32) float l[8];
    _mm256_store_ps(l, acc[k]);
    float m = 0.0f;
    for (float x : l) if (x > m) m = x;
    mx[k] = m;
  }
}

// ---- The fast passes, for maps with a packed table: no gathers.

// The map values of K states' stored bytes, eight at a time: one 8-byte load of codes, eight scalar
// table loads assembled into a vector (no scratch store and reload, no gather). Bytes at the top of
// packed FLOAT words read values_sigma (the sigma swap folded into the table). Vectors start at
// multiples of 8, so table t[j] serves positions j and j + 4.
template <int K>
struct RawValues {
  const float* t[K][4];
  const uint8_t* codes[K];
  const OptimBlock* pf;

  RawValues(const StateMaps& maps, const OptimBlock& b) : pf(&b) {
    for (int k = 0; k < K; ++k) {
      codes[k] = b.codes[k];
      for (int j = 0; j < 4; ++j) t[k][j] = slot_of(b.phase[k], j) == kFloatTop ? maps[k].values_sigma : maps[k].values;
    }
  }

  __m256 operator()(int k, int64_t i, int64_t left) const {
    if (k == 0 && (i & 63) == 0) prefetch_ahead(*pf, i);
    const float* const* tk = t[k];
    if (left < 8) {
      alignas(32) float d[8] = {0.0f};
      for (int64_t j = 0; j < left; ++j) d[j] = tk[j & 3][codes[k][i + j]];
      return _mm256_load_ps(d);
    }
    uint64_t q;
    std::memcpy(&q, codes[k] + i, 8);
    return _mm256_setr_ps(tk[0][q & 0xff], tk[1][(q >> 8) & 0xff], tk[2][(q >> 16) & 0xff], tk[3][(q >> 24) & 0xff],
                          tk[0][(q >> 32) & 0xff], tk[1][(q >> 40) & 0xff], tk[2][(q >> 48) & 0xff], tk[3][q >> 56]);
  }
};

// The packed-table key of 8 normalised values (bits b): sign + 14 bits of exponent/mantissa (kernels.h lut_key).
inline __m256i packed_key(__m256i b) {
  return _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(b, 16), _mm256_set1_epi32(0x3fff)),
                         _mm256_and_si256(_mm256_srli_epi32(b, 17), _mm256_set1_epi32(0x4000)));
}

// search_packed of 8 normalised values (bits b: finite, |y| < 2) from their packed entries e, with the sign
// fix on the states v when fix (values[c] is negative exactly for c < split).
inline __m256i codes8_state(__m256i e, __m256i b, __m256 v, __m256i split, bool fix) {
  const __m256i low = _mm256_and_si256(_mm256_xor_si256(b, _mm256_srai_epi32(b, 31)), _mm256_set1_epi32(0xffff));
  // code = (e & 0xff) + (low >= e >> 8) = (e & 0xff) + 1 + (e >> 8 > low ? -1 : 0)
  __m256i c = _mm256_add_epi32(_mm256_add_epi32(_mm256_and_si256(e, _mm256_set1_epi32(0xff)), _mm256_set1_epi32(1)),
                               _mm256_cmpgt_epi32(_mm256_srli_epi32(e, 8), low));
  return fix ? sign_fixed8(c, _mm256_cmpgt_epi32(split, c), v) : c;
}

// Four vectors of codes (0..255) as 32 bytes in element order.
inline __m256i pack32(__m256i c0, __m256i c1, __m256i c2, __m256i c3) {
  const __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(c0, c1), _mm256_packus_epi32(c2, c3));
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// One state's codes from its float scratch s. Blocks whose states may hold NaN or whose scale
// divides (denormal absmax) take the general encoder. Top bytes of packed FLOAT words that land on
// codes 1 or 254 take the nearer neighbour, then sigma (only 0x7f -> 1, 0xff -> 254 remain to swap,
// as in vbmi's sigma64_encoded).
void encode_fast(const Codebook& cb, bool with_sign_fix, const float* s, int64_t len, float absmax, int32_t phase,
                 bool may_nan, uint8_t* codes) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  if (may_nan || mode == Norm::Div) {
    encode_gather(cb, with_sign_fix, s, len, absmax, phase, may_nan, codes);
    return;
  }
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256i split = _mm256_set1_epi32(cb.sign_split);
  const uint32_t* packed = cb.packed;
  const bool has_top = phase >= 0;
  const __m256i top = has_top ? _mm256_set1_epi32((int)(0xffu << (8 * ((3 - phase) & 3)))) : _mm256_setzero_si256();
  const __m256i topd = top_lanes(phase);  // the same positions as dword lanes of a vector of 8
  // The table lookups in scalar code (no gathers): keys of the whole block as 16-bit words, then per
  // eight lanes eight entry loads assembled into a vector, and the vector finish. (s holds kMaxBlock
  // floats: lanes past len read scratch; their codes are not stored.)
  alignas(32) uint16_t key[kMaxBlock];
  const int64_t len32 = (len + 31) & ~(int64_t)31;
  for (int64_t i = 0; i < len32; i += 16) {
    const __m256i k0 = packed_key(_mm256_castps_si256(_mm256_mul_ps(_mm256_load_ps(s + i), vinv)));
    const __m256i k1 = packed_key(_mm256_castps_si256(_mm256_mul_ps(_mm256_load_ps(s + i + 8), vinv)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(key + i),
                       _mm256_permute4x64_epi64(_mm256_packus_epi32(k0, k1), 0xd8));
  }
  for (int64_t i = 0; i < len; i += 32) {
    __m256i c[4];
    for (int q = 0; q < 4; ++q) {
      const __m256 v = _mm256_load_ps(s + i + 8 * q);
      const __m256i b = _mm256_castps_si256(_mm256_mul_ps(v, vinv));
      uint64_t k0, k1;
      std::memcpy(&k0, key + i + 8 * q, 8);
      std::memcpy(&k1, key + i + 8 * q + 4, 8);
      const __m256i e = _mm256_setr_epi32(
          (int)packed[k0 & 0xffff], (int)packed[(k0 >> 16) & 0xffff], (int)packed[(k0 >> 32) & 0xffff], (int)packed[k0 >> 48],
          (int)packed[k1 & 0xffff], (int)packed[(k1 >> 16) & 0xffff], (int)packed[(k1 >> 32) & 0xffff], (int)packed[k1 >> 48]);
      c[q] = codes8_state(e, b, v, split, with_sign_fix);
    }
    __m256i p = pack32(c[0], c[1], c[2], c[3]);
    const int64_t left = len - i;
    if (has_top) {
      const __m256i odd = _mm256_and_si256(top, _mm256_or_si256(_mm256_cmpeq_epi8(p, _mm256_set1_epi8(1)),
                                                                 _mm256_cmpeq_epi8(p, _mm256_set1_epi8((char)254))));
      uint32_t m = (uint32_t)_mm256_movemask_epi8(odd);
      if (left < 32) m &= (1u << left) - 1;
      if (m) {
        // The nearer neighbour (state_bytes.h nearer_neighbour) of code 1 is 0 or 2, of 254 is 253 or 255:
        // broadcast values, no lookups (such lanes are common in packed states).
        for (int q = 0; q < 4; ++q) {
          const __m256i is1 = _mm256_and_si256(topd, _mm256_cmpeq_epi32(c[q], _mm256_set1_epi32(1)));
          const __m256i is254 = _mm256_and_si256(topd, _mm256_cmpeq_epi32(c[q], _mm256_set1_epi32(254)));
          const __m256i oddq = _mm256_or_si256(is1, is254);
          if (_mm256_testz_si256(oddq, oddq)) continue;
          const __m256 y = _mm256_mul_ps(_mm256_load_ps(s + i + 8 * q), vinv);
          const __m256 hi254 = _mm256_castsi256_ps(is254);
          const __m256 lo = _mm256_blendv_ps(_mm256_set1_ps(cb.values[0]), _mm256_set1_ps(cb.values[253]), hi254);
          const __m256 hi = _mm256_blendv_ps(_mm256_set1_ps(cb.values[2]), _mm256_set1_ps(cb.values[255]), hi254);
          const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
          const __m256 dl = _mm256_and_ps(_mm256_sub_ps(y, lo), abs_mask), dh = _mm256_and_ps(_mm256_sub_ps(y, hi), abs_mask);
          const __m256i up = _mm256_castps_si256(_mm256_cmp_ps(dh, dl, _CMP_LT_OQ));
          // odd lanes: + 1 when up, else - 1
          c[q] = _mm256_add_epi32(c[q], _mm256_and_si256(oddq, _mm256_sub_epi32(_mm256_and_si256(up, _mm256_set1_epi32(2)),
                                                                               _mm256_set1_epi32(1))));
        }
        p = pack32(c[0], c[1], c[2], c[3]);
      }
      p = _mm256_blendv_epi8(p, _mm256_set1_epi8(1), _mm256_and_si256(top, _mm256_cmpeq_epi8(p, _mm256_set1_epi8(0x7f))));
      p = _mm256_blendv_epi8(p, _mm256_set1_epi8((char)254),
                             _mm256_and_si256(top, _mm256_cmpeq_epi8(p, _mm256_set1_epi8((char)0xff))));
    }
    if (left >= 32) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes + i), p);
    } else {
      alignas(32) uint8_t buf[32];
      _mm256_store_si256(reinterpret_cast<__m256i*>(buf), p);
      std::memcpy(codes + i, buf, (size_t)left);
    }
  }
}

// Blocks [lo, hi) of optimizer O: decode, update (scaling the map values, new absmax), encode, one
// block at a time through one scratch per call. Gathered: decode_gather fills the scratch with the old
// map values first; otherwise the update reads them from the codes (RawValues).
template <class O, bool Gathered, class Encode>
void step_blocks(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi,
                 Encode encode) {
  constexpr int K = num_states<O>;
  alignas(64) float s[K][kMaxBlock];
  for (int64_t bi = lo; bi < hi; ++bi) {
    const OptimBlock b = src.template at<K>(bi);
    float* rows[K];
    float scale[K], mx[K];
    bool finite_in = true;
    for_states<K>([&](auto k) {
      rows[k] = s[k];
      scale[k] = *b.absmax[k];
      finite_in = finite_in && std::isfinite(scale[k]);
      if constexpr (Gathered) decode_gather(maps[k], b.codes[k], b.len, b.phase[k], s[k], k == 0 ? &b : nullptr);
    });
    if constexpr (Gathered) {
      update_block<O>(h, b.grad, rows, b.len, scale, mx,
                      [&](int k, int64_t i, int64_t) { return _mm256_load_ps(rows[k] + i); });
    } else {
      update_block<O>(h, b.grad, rows, b.len, scale, mx, RawValues<K>(maps, b));
    }
    // finite old scales and finite or reset states: a new state is non-finite only if its absmax is
    for_states<K>([&](auto k) {
      *b.absmax[k] = mx[k];
      encode(maps[k], O::states[k].sign_fix, s[k], b.len, mx[k], b.phase[k], !finite_in || !std::isfinite(mx[k]),
             b.codes[k]);
    });
  }
}

}  // namespace

void optim_blocks_avx2(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi) {
  with_optimizer(h.kind, [&](auto o) { step_blocks<decltype(o), true>(h, maps, src, lo, hi, encode_gather); });
}

bool optim_avx2_fast_usable(int32_t kind, const StateMaps& maps) {
  bool usable = false;
  with_optimizer(kind, [&](auto o) {
    using O = decltype(o);
    usable = true;
    for (int k = 0; k < num_states<O>; ++k)
      usable = usable && maps[k].path == SearchPath::Packed &&
               (!O::states[k].sign_fix || maps[k].sign_split >= 0);
  });
  return usable;
}

void optim_blocks_avx2_fast(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi) {
  with_optimizer(h.kind, [&](auto o) { step_blocks<decltype(o), false>(h, maps, src, lo, hi, encode_fast); });
}

}  // namespace bnb
