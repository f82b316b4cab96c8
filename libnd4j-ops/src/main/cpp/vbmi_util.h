// AVX-512 VBMI building blocks: 64 codes at a time, map and search tables read from registers
// with byte permutes (vpermi2b) instead of gathers, which cost ~20 cycles per 16 lanes on Zen 5.
// Include only from translation units compiled with -mavx512vbmi (plus F/BW/VL/DQ).
#pragma once
#include <immintrin.h>
#include "kernels.h"

namespace bnb {
namespace vbmi {

// 256-entry byte table lookup: two vpermi2b (entries 0-127, 128-255) and a blend on bit 7.
inline __m512i lookup256(const uint8_t* t, __m512i idx, __mmask64 bit7) {
  const __m512i lo = _mm512_permutex2var_epi8(_mm512_load_si512(t), idx, _mm512_load_si512(t + 64));
  const __m512i hi = _mm512_permutex2var_epi8(_mm512_load_si512(t + 128), idx, _mm512_load_si512(t + 192));
  return _mm512_mask_blend_epi8(bit7, lo, hi);
}

// 4x4 transpose of the dwords of a vector (its own inverse). Bytes in this order come out of the
// in-lane byte/word unpacks below in natural order: output vector q, lane k, element r holds the
// byte at position 16k + 4q + r, i.e. element 16q + 4k + r before the transpose.
inline __m512i transpose4x4(__m512i v) {
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), v);
}

// Dwords from four byte planes in transposed order (see transpose4x4): out[q] = p0 | p1<<8 | p2<<16 | p3<<24.
inline void interleave4(__m512i p0, __m512i p1, __m512i p2, __m512i p3, __m512i out[4]) {
  const __m512i lo01 = _mm512_unpacklo_epi8(p0, p1), hi01 = _mm512_unpackhi_epi8(p0, p1);
  const __m512i lo23 = _mm512_unpacklo_epi8(p2, p3), hi23 = _mm512_unpackhi_epi8(p2, p3);
  out[0] = _mm512_unpacklo_epi16(lo01, lo23);
  out[1] = _mm512_unpackhi_epi16(lo01, lo23);
  out[2] = _mm512_unpacklo_epi16(hi01, hi23);
  out[3] = _mm512_unpackhi_epi16(hi01, hi23);
}

// map[codes[i]] for 64 codes (natural order) as four vectors of 16 floats, times absmax.
inline void decode64(const Codebook& cb, __m512i codes, __m512 absmax, __m512 out[4]) {
  const __m512i c = transpose4x4(codes);
  const __mmask64 b7 = _mm512_movepi8_mask(c);
  __m512i d[4];
  interleave4(lookup256(cb.vplane[0], c, b7), lookup256(cb.vplane[1], c, b7), lookup256(cb.vplane[2], c, b7),
              lookup256(cb.vplane[3], c, b7), d);
  for (int q = 0; q < 4; ++q) out[q] = _mm512_mul_ps(_mm512_castsi512_ps(d[q]), absmax);
}

// vpermi2b indices, built at compile time. low/high: for the byte at transposed position
// p = 16k + 4q + r (element 16q + 4k + r), the low/high byte of its word in the pair
// W01:W23 = packus_epi32(J0, J1):packus_epi32(J2, J3). code: byte 0 of each dword of a vector pair.
struct PackIndex {
  alignas(64) uint8_t low[64] = {};
  alignas(64) uint8_t high[64] = {};
  alignas(64) uint8_t code[64] = {};
  constexpr PackIndex() {
    for (int k = 0; k < 4; ++k)
      for (int q = 0; q < 4; ++q)
        for (int r = 0; r < 4; ++r) {
          const int p = 16 * k + 4 * q + r;
          low[p] = (uint8_t)(q < 2 ? 16 * k + 8 * q + 2 * r : 64 + 16 * k + 8 * (q - 2) + 2 * r);
          high[p] = (uint8_t)(low[p] + 1);
        }
    for (int i = 0; i < 64; ++i) code[i] = (uint8_t)((4 * i) & 127);
  }
};
inline constexpr PackIndex kPackIndex{};

// Lanes of 64 values (4 vectors, natural order) that are NaN.
inline __mmask64 nan_mask64(const __m512 y[4]) {
  __mmask16 nq[4];
  for (int q = 0; q < 4; ++q) nq[q] = _mm512_cmp_ps_mask(y[q], y[q], _CMP_UNORD_Q);
  return _mm512_kunpackd(_mm512_kunpackw(nq[3], nq[2]), _mm512_kunpackw(nq[1], nq[0]));
}

// search(y) (or the sign-fixed search) for 64 normalised values (|y| < 2, see FastEnc) in natural
// order, as 64 bytes in natural order. NaN lanes come out with some code (see nan_mask64).
inline __m512i encode64(const FastEnc& fe, const __m512 y[4]) {
  const PackIndex& pi = kPackIndex;
  // Level 1 as 16-bit entries: one vpermi2w covers the 64 binades; the high words are zeroed.
  const __m512i lvl_a = _mm512_load_si512(fe.lvl1w), lvl_b = _mm512_load_si512(fe.lvl1w + 32);
  __m512i j[4], mant[4];
  for (int q = 0; q < 4; ++q) {
    const __m512i b = _mm512_castps_si512(y[q]);
    __m512i f = _mm512_xor_si512(b, _mm512_srai_epi32(b, 31));
    f = _mm512_min_epu32(_mm512_max_epu32(f, _mm512_set1_epi32(0x30000000)), _mm512_set1_epi32(0x4fffffff));
    // binade 96..159; vpermi2w reads its low 6 bits, a bijection onto the 64 entries (see lvl1w)
    const __m512i e1 = _mm512_maskz_permutex2var_epi16(0x55555555u, lvl_a, _mm512_srli_epi32(f, 23), lvl_b);
    mant[q] = _mm512_and_si512(f, _mm512_set1_epi32(0x7fffff));
    j[q] = _mm512_add_epi32(_mm512_srli_epi32(e1, 5),
                            _mm512_srlv_epi32(mant[q], _mm512_and_si512(e1, _mm512_set1_epi32(31))));
  }
  // sub-bucket numbers (< 512) as bytes in transposed order plus their bit 8
  const __m512i w01 = _mm512_packus_epi32(j[0], j[1]), w23 = _mm512_packus_epi32(j[2], j[3]);
  const __m512i lo = _mm512_permutex2var_epi8(w01, _mm512_load_si512(pi.low), w23);
  const __m512i hi = _mm512_permutex2var_epi8(w01, _mm512_load_si512(pi.high), w23);
  const __mmask64 b7 = _mm512_movepi8_mask(lo), b8 = _mm512_test_epi8_mask(hi, _mm512_set1_epi8(1));
  __m512i plane[4];
  for (int p = 0; p < 4; ++p) {
    const uint8_t* t = fe.plane[p];
    plane[p] = _mm512_mask_blend_epi8(b8, lookup256(t, lo, b7), lookup256(t + 256, lo, b7));
  }
  // code = c0 + (mant >= T): T back in dwords (natural order), c0 stays bytes
  __m512i t[4];
  interleave4(plane[1], plane[2], plane[3], _mm512_setzero_si512(), t);
  __mmask16 gq[4];
  for (int q = 0; q < 4; ++q) gq[q] = _mm512_cmpge_epu32_mask(mant[q], t[q]);
  const __mmask64 ge = _mm512_kunpackd(_mm512_kunpackw(gq[3], gq[2]), _mm512_kunpackw(gq[1], gq[0]));
  const __m512i c0 = transpose4x4(plane[0]);
  return _mm512_mask_add_epi8(c0, ge, c0, _mm512_set1_epi8(1));
}

// Low bytes of four dword vectors (natural order) as 64 bytes.
inline __m512i pack_low_bytes(__m512i a, __m512i b, __m512i c, __m512i d) {
  const __m512i idx = _mm512_load_si512(kPackIndex.code);
  const __m512i ab = _mm512_permutex2var_epi8(a, idx, b), cd = _mm512_permutex2var_epi8(c, idx, d);
  return _mm512_inserti64x4(ab, _mm512_castsi512_si256(cd), 1);
}

}  // namespace vbmi
}  // namespace bnb
