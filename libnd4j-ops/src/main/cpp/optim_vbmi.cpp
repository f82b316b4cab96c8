// AVX-512 VBMI block step of the fused optimizers: the optimizers' rules (optimizers.h) on 16 lanes
// (V512) with the float operations of the scalar step (optim.cpp) in the same order, with the state decoded and re-encoded 64 codes at a time through
// byte permutes (vbmi_util.h) instead of gathers. Two passes over a block: decode + update
// (gradient -> update in place, new absmax), then encode. Used when the maps fit FastEnc.
#include "avx512_util.h"
#include "optim_avx512.h"
#include "vbmi_util.h"

namespace bnb {
namespace {

using namespace vbmi;

// Byte positions at word position 3 of the packed state (see optim.cpp); groups start at multiples of 64.
inline __mmask64 top_bytes(int32_t phase) {
  return phase < 0 ? (__mmask64)0 : (__mmask64)(0x1111111111111111ull << ((3 - phase) & 3));
}

// sigma (state_bytes.h) as a byte table, for decoding: stored bytes at top positions -> codes.
struct SigmaTable {
  alignas(64) uint8_t t[256] = {};
  constexpr SigmaTable() {
    for (int c = 0; c < 256; ++c) t[c] = sigma((uint8_t)c);
  }
};
inline constexpr SigmaTable kSigma{};

inline __m512i unsigma64(__m512i c, __mmask64 top) {
  if (!top) return c;
  return _mm512_mask_blend_epi8(top, c, lookup256(kSigma.t, c, _mm512_movepi8_mask(c)));
}

// sigma on encoded bytes (its vector form): top positions never hold codes 1 or 254 here (encode_state
// moved them), so only 0x7f -> 1 and 0xff -> 254 remain.
inline __m512i sigma64_encoded(__m512i c, __mmask64 top) {
  if (!top) return c;
  c = _mm512_mask_mov_epi8(c, _mm512_mask_cmpeq_epi8_mask(top, c, _mm512_set1_epi8(0x7f)), _mm512_set1_epi8(1));
  return _mm512_mask_mov_epi8(c, _mm512_mask_cmpeq_epi8_mask(top, c, _mm512_set1_epi8((char)0xff)),
                              _mm512_set1_epi8((char)254));
}

// Encodes one state of a block from the float scratch s: search (sign-fixed for signed states),
// then the rare lanes in scalar code: NaN, and top bytes that landed on the unusable codes 1/254.
// may_nan: whether s can hold NaN or Inf (else the per-lane NaN test is skipped).
// (noinline, noclone: one copy for every state; GCC's clone per constant sign fix measured ~3% slower.)
__attribute__((noinline, noclone)) void encode_state(const Codebook& cb, bool with_sign_fix, const float* s, int64_t len, float absmax, int32_t phase,
                                                     bool may_nan, uint8_t* codes) {
  const FastEnc& fe = cb.fast[with_sign_fix ? 1 : 0];
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  const __m512 vinv = _mm512_set1_ps(inv);
  const __mmask64 top = top_bytes(phase);
  for (int64_t i = 0; i < len; i += 64) {
    __m512 y[4];
    for (int q = 0; q < 4; ++q) {
      const __m512 v = _mm512_loadu_ps(s + i + 16 * q);
      y[q] = mode == Norm::Div ? _mm512_div_ps(v, vinv) : _mm512_mul_ps(v, vinv);
    }
    __m512i c = encode64(fe, y);
    const __mmask64 nan = may_nan ? nan_mask64(y) : 0;
    const __mmask64 live = avx512::tail_mask64(len - i);
    const __mmask64 odd = (_mm512_mask_cmpeq_epi8_mask(top, c, _mm512_set1_epi8(1)) |
                           _mm512_mask_cmpeq_epi8_mask(top, c, _mm512_set1_epi8((char)254)) | nan) & live;
    if (odd) {
      alignas(64) uint8_t buf[64];
      _mm512_store_si512(buf, c);
      for (__mmask64 m = odd; m; m &= m - 1) {
        const int l = __builtin_ctzll(m);
        const float sv = s[i + l];
        const float yl = mode == Norm::Div ? sv / inv : sv * inv;
        int code = buf[l];
        if (yl != yl) code = with_sign_fix ? fix_sign(cb.values, cb.nan_code, sv) : cb.nan_code;
        if (((top >> l) & 1) && dropped(code, kFloatTop)) code = nearer_neighbour(cb.values, code, yl);
        buf[l] = (uint8_t)code;
      }
      c = _mm512_load_si512(buf);
    }
    _mm512_mask_storeu_epi8(codes + i, live, sigma64_encoded(c, top));
  }
}

// One block's floats between its update pass and its encode pass.
template <int K>
struct Scratch {
  alignas(64) float s[K][kMaxBlock];
  float mx[K];
  bool finite_in;  // the block's old scales were finite (see update_block)
};

// The decode + update pass of optimizer O over one block. Records whether the block's old scales were
// all finite: then its new states can only be non-finite if their new absmax is (finite inputs and
// gradients give finite or infinite results, never NaN).
template <class O>
void update_block(const bnb_optim_hyper& h, const StateMaps& maps, const OptimBlock& b, Scratch<num_states<O>>* sc) {
  constexpr int K = num_states<O>;
  bool finite_in = true;
  __m512 am[K], acc[K];
  __mmask64 top[K];
  float* rows[K];
  const Codebook* cb[K];  // local copies: kept in registers across the gradient stores
  for_states<K>([&](auto k) {
    finite_in = finite_in && std::isfinite(*b.absmax[k]);
    am[k] = _mm512_set1_ps(*b.absmax[k]);
    top[k] = top_bytes(b.phase[k]);
    acc[k] = _mm512_setzero_ps();
    rows[k] = sc->s[k];
    cb[k] = maps.cb[k];
  });
  for (int64_t i = 0; i < b.len; i += 64) {
    prefetch_ahead<K>(b, i);
    const __mmask64 live = avx512::tail_mask64(b.len - i);
    __m512 d[K][4];
    for_states<K>([&](auto k) { decode64(*cb[k], unsigma64(_mm512_maskz_loadu_epi8(live, b.codes[k] + i), top[k]), am[k], d[k]); });
    for (int q = 0; q < 4; ++q) {
      const int64_t at = i + 16 * q;
      __m512 st[K];
      for_states<K>([&](auto k) { st[k] = d[k][q]; });
      avx512::update_lanes<O>(h, avx512::tail_mask(b.len - at), b.grad + at, st, rows, at, acc);
    }
  }
  avx512::reduce_absmax<K>(acc, sc->mx);
  sc->finite_in = finite_in;
}

// The encode pass of optimizer O over one block: map and sign fix of each state from its descriptor.
template <class O>
void encode_pass(const StateMaps& maps, const OptimBlock& b, const Scratch<num_states<O>>& sc) {
  for_states<num_states<O>>([&](auto k) {
    const bool may_nan = !sc.finite_in || !std::isfinite(sc.mx[k]);
    *b.absmax[k] = sc.mx[k];
    encode_state(maps[k], O::states[k].sign_fix, sc.s[k], b.len, sc.mx[k], b.phase[k], may_nan, b.codes[k]);
  });
}

}  // namespace

bool optim_vbmi_usable(int32_t kind, const StateMaps& maps) {
  bool usable = false;
  with_optimizer(kind, [&](auto o) {
    using O = decltype(o);
    usable = true;
    for (int k = 0; k < num_states<O>; ++k) usable = usable && maps[k].fast[O::states[k].sign_fix ? 1 : 0].ok;
  });
  return usable;
}

void optim_blocks_vbmi(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi) {
  with_optimizer(h.kind, [&](auto o) {
    using O = decltype(o);
    Scratch<num_states<O>> sc;
    for (int64_t b = lo; b < hi; ++b) {
      const OptimBlock blk = src.template at<num_states<O>>(b);
      update_block<O>(h, maps, blk, &sc);
      encode_pass<O>(maps, blk, sc);
    }
  });
}

}  // namespace bnb
