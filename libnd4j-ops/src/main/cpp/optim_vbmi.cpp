// AVX-512 VBMI block step of the fused optimizers: the float operations of optim_block_scalar
// (optim.cpp) in the same order, with the state decoded and re-encoded 64 codes at a time through
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

// sigma (optim.h) as a byte table, for decoding: stored bytes at top positions -> codes.
struct SigmaTable {
  alignas(64) uint8_t t[256] = {};
  constexpr SigmaTable() {
    for (int c = 0; c < 256; ++c) t[c] = (uint8_t)c;
    t[0x7f] = 1;
    t[1] = 0x7f;
    t[0xff] = 254;
    t[254] = 0xff;
  }
};
inline constexpr SigmaTable kSigma{};

inline __m512i unsigma64(__m512i c, __mmask64 top) {
  if (!top) return c;
  return _mm512_mask_blend_epi8(top, c, lookup256(kSigma.t, c, _mm512_movepi8_mask(c)));
}

// sigma on encoded bytes: top positions never hold codes 1 or 254 here (encode_state moved them),
// so only 0x7f -> 1 and 0xff -> 254 remain.
inline __m512i sigma64_encoded(__m512i c, __mmask64 top) {
  if (!top) return c;
  c = _mm512_mask_mov_epi8(c, _mm512_mask_cmpeq_epi8_mask(top, c, _mm512_set1_epi8(0x7f)), _mm512_set1_epi8(1));
  return _mm512_mask_mov_epi8(c, _mm512_mask_cmpeq_epi8_mask(top, c, _mm512_set1_epi8((char)0xff)),
                              _mm512_set1_epi8((char)254));
}

// Encodes one state of a block from the float scratch s: search (sign-fixed for signed states),
// then the rare lanes in scalar code: NaN, and top bytes that landed on the unusable codes 1/254.
// may_nan: whether s can hold NaN or Inf (else the per-lane NaN test is skipped).
void encode_state(const Codebook& cb, bool sign_fix, const float* s, int64_t len, float absmax, int32_t phase,
                  bool may_nan, uint8_t* codes) {
  const FastEnc& fe = cb.fast[sign_fix ? 1 : 0];
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
        if (yl != yl) {
          code = cb.nan_code;
          if (sign_fix && std::signbit(cb.values[code]) != std::signbit(sv)) code += sv > 0.0f ? 1 : -1;
        }
        if (((top >> l) & 1) && (code == 1 || code == 254)) {
          const float dl = std::fabs(yl - cb.values[code - 1]), dh = std::fabs(yl - cb.values[code + 1]);
          code = dh < dl ? code + 1 : code - 1;
        }
        buf[l] = (uint8_t)code;
      }
      c = _mm512_load_si512(buf);
    }
    _mm512_mask_storeu_epi8(codes + i, live, sigma64_encoded(c, top));
  }
}

// Returns whether the block's old scales were all finite: then its new states can only be non-finite
// if their new absmax is (finite inputs and gradients give finite or infinite results, never NaN).
template <int Kind>
bool update_block(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b, float* s1, float* s2,
                  float* s3, float* mx) {
  constexpr int kStates = num_states(Kind);
  const bool finite_in = std::isfinite(*b.absmax1) && (kStates < 2 || std::isfinite(*b.absmax2)) &&
                         (kStates < 3 || std::isfinite(*b.absmax3));
  const __m512 zero = _mm512_setzero_ps();
  const __m512 am1 = _mm512_set1_ps(*b.absmax1);
  const __m512 am2 = kStates >= 2 ? _mm512_set1_ps(*b.absmax2) : zero;
  const __m512 am3 = kStates == 3 ? _mm512_set1_ps(*b.absmax3) : zero;
  const __mmask64 top1 = top_bytes(b.phase1), top2 = top_bytes(b.phase2), top3 = top_bytes(b.phase3);
  __m512 acc[3] = {zero, zero, zero};
  for (int64_t i = 0; i < b.len; i += 64) {
    prefetch_ahead(b, i);
    const __mmask64 live = avx512::tail_mask64(b.len - i);
    __m512 d1[4], d2[4], d3[4];
    decode64(cb1, unsigma64(_mm512_maskz_loadu_epi8(live, b.codes1 + i), top1), am1, d1);
    if (kStates >= 2) decode64(*cb2, unsigma64(_mm512_maskz_loadu_epi8(live, b.codes2 + i), top2), am2, d2);
    if (kStates == 3) decode64(cb1, unsigma64(_mm512_maskz_loadu_epi8(live, b.codes3 + i), top3), am3, d3);
    for (int q = 0; q < 4; ++q) {
      const int64_t at = i + 16 * q;
      avx512::update_lanes<Kind>(h, avx512::tail_mask(b.len - at), b.grad + at, d1[q], kStates >= 2 ? d2[q] : zero,
                                 kStates == 3 ? d3[q] : zero, s1 + at, s2 + at, s3 + at, acc);
    }
  }
  avx512::reduce_absmax(acc, kStates, mx);
  return finite_in;
}

}  // namespace

bool optim_vbmi_usable(const Codebook& cb1, const Codebook* cb2) {
  return cb1.fast[1].ok && (cb2 == nullptr || cb2->fast[0].ok);
}

namespace {

// One block's floats between its update pass and its encode pass.
struct Scratch {
  alignas(64) float s[3][kOptimMaxBlock];
  float mx[3];
  bool finite_in;  // the block's old scales were finite (see update_block)
};

void update_pass(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b, Scratch* sc) {
  with_kind(h.kind, [&](auto kind) {
    sc->finite_in = update_block<decltype(kind)::value>(h, cb1, cb2, b, sc->s[0], sc->s[1], sc->s[2], sc->mx);
  });
}

void encode_pass(const Codebook& cb1, const Codebook* cb2, const OptimBlock& b, const Scratch& sc) {
  auto may_nan = [&](int k) { return !sc.finite_in || !std::isfinite(sc.mx[k]); };
  *b.absmax1 = sc.mx[0];
  encode_state(cb1, true, sc.s[0], b.len, sc.mx[0], b.phase1, may_nan(0), b.codes1);
  if (b.codes2 != nullptr) {
    *b.absmax2 = sc.mx[1];
    encode_state(*cb2, false, sc.s[1], b.len, sc.mx[1], b.phase2, may_nan(1), b.codes2);
  }
  if (b.codes3 != nullptr) {
    *b.absmax3 = sc.mx[2];
    encode_state(cb1, true, sc.s[2], b.len, sc.mx[2], b.phase3, may_nan(2), b.codes3);
  }
}

}  // namespace

void optim_blocks_vbmi(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const BlockSource& src, int64_t lo,
                       int64_t hi) {
  Scratch sc;
  for (int64_t b = lo; b < hi; ++b) {
    const OptimBlock blk = src.at(b);
    update_pass(h, cb1, cb2, blk, &sc);
    encode_pass(cb1, cb2, blk, sc);
  }
}

}  // namespace bnb
