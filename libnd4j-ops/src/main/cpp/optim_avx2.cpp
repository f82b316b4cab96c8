// AVX2 block step of the fused optimizers, for CPUs without AVX-512 (the scalar step is ~15x slower
// than DL4J's Adam there). The optimizers' rules (optimizers.h) on 8 lanes at a time (V256), with the
// float operations of the scalar step (optim.cpp) in the same order: decode the state(s), update
// (gradient -> update in place, new states into a block's float scratch, new absmax), encode.
// Two forms of decode and encode: the fast one (maps that fit StateByteTables: every bitsandbytes map)
// looks its tables up with scalar loads straight into vector registers, which costs less than 8-lane
// gathers and less than a round trip through a scratch on the cores measured, and encodes with one
// table entry per lane that already holds the stored byte (docs/PERFORMANCE.md, "The AVX2 step"); the
// general one gathers into the scratch, for any map, NaN states and dividing scales.
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
  __m256 acc[K], am[K];
  for_states<K>([&](auto k) { acc[k] = zero; am[k] = _mm256_set1_ps(scale[k]); });
  // The loop, with hl a local copy of h: the gradient stores cannot alias it, so its fields stay in
  // registers. For a rule that reads first_step (Momentum) the loop is compiled twice, first_step a
  // constant in each: GCC kept a branch on it inside the loop and reloaded spilled pointers around it
  // (SGD8bit's step took 15% longer on a Zen 3; the AVX-512 loops, simpler, were unswitched by GCC).
  auto pass = [&](auto first_step) {
    bnb_optim_hyper hl = h;
    if constexpr (reads_first_step<O>) hl.first_step = decltype(first_step)::value;
    // Eight lanes at i; tail: only the first len - i are live (masked gradient access, dead lanes add 0).
    auto lanes = [&](int64_t i, auto tail) {
      const __m256i live = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(len - i)), lane_index());
      const __m256 g = tail ? _mm256_maskload_ps(grad + i, live) : _mm256_loadu_ps(grad + i);
      __m256 st[K];
      for_states<K>([&](auto k) { st[k] = _mm256_mul_ps(values(k, i, tail ? len - i : 8), am[k]); });
      __m256 u = O::template update<V256>(hl, g, st);
      // non-finite gradient or new state: state reset, zero update. x * 0 is NaN exactly for NaN and +-Inf,
      // so one sum of such products is ordered exactly when all of them are finite (fewer operations than
      // a compare per value)
      __m256 z = _mm256_mul_ps(g, zero);
      for_states<K>([&](auto k) { z = _mm256_fmadd_ps(st[k], zero, z); });
      const __m256 ok = _mm256_cmp_ps(z, z, _CMP_ORD_Q);
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
  };
  if constexpr (reads_first_step<O>) {
    if (h.first_step) pass(std::true_type{}); else pass(std::false_type{});
  } else {
    pass(std::false_type{});
  }
  for (int k = 0; k < K; ++k) {
    alignas(32) float l[8];
    _mm256_store_ps(l, acc[k]);
    float m = 0.0f;
    for (float x : l) if (x > m) m = x;
    mx[k] = m;
  }
}

// ---- The fast passes, for maps with a packed table: no gathers.

// The map values of K states' stored bytes, eight at a time: eight byte loads and eight scalar table
// loads assembled into a vector (no scratch store and reload, no gather). Bytes at the top of packed
// FLOAT words read values_sigma (the sigma swap folded into the table). Vectors start at multiples of
// 8, so table t[j] serves positions j and j + 4. With one state the values are paired in general
// registers first (a shift and an or per pair) and enter the vector as four 8-byte words: three
// shuffles instead of seven, which are what the inserts wait for on Zen 3 (Lion8bit's step 5-10%
// faster there). With two states the pairs were no faster (Adam8bit -1% to +2%): the update pass
// then holds eight table pointers, and the general registers run short.
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
    const uint8_t* c = codes[k] + i;
    if constexpr (K == 1) {
      auto pair = [&](int j) -> long long {
        uint32_t a, b;
        std::memcpy(&a, tk[j & 3] + c[j], 4);
        std::memcpy(&b, tk[(j + 1) & 3] + c[j + 1], 4);
        return (long long)((uint64_t)a | ((uint64_t)b << 32));
      };
      const __m128i lo = _mm_unpacklo_epi64(_mm_cvtsi64_si128(pair(0)), _mm_cvtsi64_si128(pair(2)));
      const __m128i hi = _mm_unpacklo_epi64(_mm_cvtsi64_si128(pair(4)), _mm_cvtsi64_si128(pair(6)));
      return _mm256_castsi256_ps(_mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1));
    }
    return _mm256_setr_ps(tk[0][c[0]], tk[1][c[1]], tk[2][c[2]], tk[3][c[3]], tk[0][c[4]], tk[1][c[5]], tk[2][c[6]], tk[3][c[7]]);
  }
};

// Four vectors of codes (0..255) as 32 bytes in element order.
inline __m256i pack32(__m256i c0, __m256i c1, __m256i c2, __m256i c3) {
  const __m256i p = _mm256_packus_epi16(_mm256_packus_epi32(c0, c1), _mm256_packus_epi32(c2, c3));
  return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// One state's stored bytes from its float scratch s, through the map's StateByteTables (kernels.h):
// the search, the sign fix, the nearer neighbour at top bytes and sigma are all in the tables, so a
// lane costs one table load and a few vector operations. The tables are indexed by the top 16 bits of
// the normalised value as it lies in memory: a first pass normalises the scratch in place, and the
// second loads each lane's index straight from it (no key arithmetic, no key array). Lane j of every
// vector reads the table of its slot (vectors start at multiples of 8: tab[j & 3]). Blocks whose states
// may hold NaN or whose scale divides (denormal absmax) take the general encoder.
void encode_fast(const Codebook& cb, bool with_sign_fix, float* s, int64_t len, float absmax, int32_t phase,
                 bool may_nan, uint8_t* codes) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  if (may_nan || mode == Norm::Div) {
    encode_gather(cb, with_sign_fix, s, len, absmax, phase, may_nan, codes);
    return;
  }
  // built by state_bytes_usable before the step began (its threads started after): no call_once per block
  const StateByteTables& t = *cb.state_bytes;
  const uint32_t* tab[4];
  for (int j = 0; j < 4; ++j) tab[j] = t.entry[with_sign_fix][slot_of(phase, j) == kFloatTop];
  // (s holds kMaxBlock floats: the lanes past len up to a multiple of 32 are zeroed first, so that every
  // lane looked up holds a defined value; their bytes are not stored)
  const __m256 vinv = _mm256_set1_ps(inv);
  const int64_t len32 = (len + 31) & ~(int64_t)31;
  for (int64_t i = len; i < len32; ++i) s[i] = 0.0f;
  for (int64_t i = 0; i < len32; i += 8) _mm256_store_ps(s + i, _mm256_mul_ps(_mm256_load_ps(s + i), vinv));
  using u16 = uint16_t __attribute__((may_alias));
  const __m256i ffff = _mm256_set1_epi32(0xffff), eight = _mm256_set1_epi32(8), ff = _mm256_set1_epi32(0xff);
  for (int64_t i = 0; i < len; i += 32) {
    __m256i c[4];
    for (int q = 0; q < 4; ++q) {
      const u16* hi = reinterpret_cast<const u16*>(s + i + 8 * q) + 1;  // the top half of each float
      const __m256i b = _mm256_castps_si256(_mm256_load_ps(s + i + 8 * q));
      const __m256i e = _mm256_setr_epi32((int)tab[0][hi[0]], (int)tab[1][hi[2]], (int)tab[2][hi[4]], (int)tab[3][hi[6]],
                                          (int)tab[0][hi[8]], (int)tab[1][hi[10]], (int)tab[2][hi[12]], (int)tab[3][hi[14]]);
      // byte = e >> 8 where the low bits of y reach T = e >> 16, else e (both 16-bit: the signed compare is exact)
      const __m256i low = _mm256_and_si256(b, ffff);
      const __m256i shift = _mm256_andnot_si256(_mm256_cmpgt_epi32(_mm256_srli_epi32(e, 16), low), eight);
      c[q] = _mm256_and_si256(_mm256_srlv_epi32(e, shift), ff);
    }
    const __m256i p = pack32(c[0], c[1], c[2], c[3]);
    const int64_t left = len - i;
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

void optim_blocks_avx2_fast(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi) {
  with_optimizer(h.kind, [&](auto o) { step_blocks<decltype(o), false>(h, maps, src, lo, hi, encode_fast); });
}

}  // namespace bnb
