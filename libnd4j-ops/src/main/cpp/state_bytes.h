// How the code of an 8-bit optimizer state becomes a stored byte: the sign fix and the NaN-safe
// packing. These are the rules, written once: the scalar step (optim.cpp) uses them for every
// element, the state byte tables of the AVX2 and AVX-512 steps are built from them (kernels.h
// StateByteTables, codebook.cpp), and the general AVX2 encoder and the VBMI and AVX-512 encoders call
// them for their rare lanes (top bytes that landed on a dropped code, NaN states). The vector forms of
// these rules are noted where they are: sigma in optim_avx2.cpp (sigma8), optim_avx512.cpp (sigma_lanes,
// for decoding) and optim_vbmi.cpp (unsigma64, sigma64_encoded; its byte table is built from sigma()
// itself), nearer_neighbour in optim_avx512.cpp's general encoder. The Java oracle
// (org.bnb4j.internal.optim.StateCodec) implements the same rules.
//
// NaN-safe byte packing is used when codes live inside words that a save writes as floating point
// values (e.g. DL4J's updater view); the phase of a byte stream says which (see optim.h OptimBlock).
// FLOAT words: a byte at word position 3 holds the sign and 7 exponent bits, so it must never be 0x7f
// or 0xff. There, codes 1 and 254 are not used (the nearer neighbour is taken) and sigma swaps
// 0x7f <-> 1 and 0xff <-> 254, an involution.
// HALF words (phase | BNB_PHASE_HALF_WORDS, a HALF network's view): byte 1 of each 16-bit word holds the
// sign, 5 exponent bits and 2 mantissa bits, so it must never have an all-ones exponent (0x7c..0x7f,
// 0xfc..0xff). There, the odd codes 0xe9..0xf7 are not used (both neighbours are) and sigma16 swaps
// the eight forbidden bytes with them; block scales are rounded up by half_word_scale. Only the scalar
// step implements the HALF rule (the SIMD steps are not used for it).
#pragma once
#include <cmath>
#include <cstdint>
#include "bnb4j.h"
#include "portable.h"

namespace bnb {

// Flag of a phase whose words are 16-bit (HALF) words.
constexpr int32_t kHalfWords = BNB_PHASE_HALF_WORDS;

// What a byte position may hold: any code, or the top byte of a FLOAT word, or byte 1 of a HALF word.
enum Slot { kPlain, kFloatTop, kHalfTop };

// The slot of byte i of a stream whose byte 0 has the given phase (-1: plain bytes).
BNB_HD inline Slot slot_of(int32_t phase, int64_t i) {
  if (phase < 0) return kPlain;
  if (phase & kHalfWords) return ((phase + i) & 1) == 1 ? kHalfTop : kPlain;
  return ((phase + i) & 3) == 3 ? kFloatTop : kPlain;
}

// FLOAT words: 0x7f <-> 1, 0xff <-> 254.
BNB_HD constexpr uint8_t sigma(uint8_t c) {
  return c == 0x7f ? 1 : c == 1 ? 0x7f : c == 0xff ? 254 : c == 254 ? 0xff : c;
}

// HALF words: the odd codes 0xe9..0xf7 are not stored at odd bytes; sigma16 swaps them with the
// all-ones-exponent bytes: 0x7c..0x7f <-> 0xe9, 0xeb, 0xed, 0xef; 0xfc..0xff <-> 0xf1 .. 0xf7.
BNB_HD constexpr bool half_dropped(int c) { return c >= 0xe9 && c <= 0xf7 && (c & 1) == 1; }
BNB_HD constexpr uint8_t sigma16(uint8_t c) {
  return (c & 0x7c) == 0x7c ? (uint8_t)(0xe9 + 2 * ((c & 3) | ((c >> 5) & 4)))
         : half_dropped(c)  ? (uint8_t)(((((c - 0xe9) >> 1) & 4) != 0 ? 0xfc : 0x7c) | (((c - 0xe9) >> 1) & 3))
                            : c;
}

// Whether code c may not be stored in the slot.
BNB_HD constexpr bool dropped(int c, Slot slot) {
  return slot == kFloatTop ? (c == 1 || c == 254) : slot == kHalfTop && half_dropped(c);
}

// The byte stored for code c in the slot, and the code a stored byte stands for (the swaps are involutions).
BNB_HD constexpr uint8_t stored_byte(int c, Slot slot) {
  return slot == kFloatTop ? sigma((uint8_t)c) : slot == kHalfTop ? sigma16((uint8_t)c) : (uint8_t)c;
}
BNB_HD constexpr uint8_t code_of_byte(uint8_t byte, Slot slot) { return stored_byte(byte, slot); }

// The code taken instead of a dropped code c for the normalised value y: the nearer of its two
// neighbours (the lower one on a tie, and for NaN).
BNB_HD inline int nearer_neighbour(const float* values, int c, float y) {
  const float dl = std::fabs(y - values[c - 1]), dh = std::fabs(y - values[c + 1]);
  return dh < dl ? c + 1 : c - 1;
}

// The sign fix on the state value s: a code whose map value has the wrong sign moves one step
// toward s's sign (kernels.h sign_fixed applies it to the normalised value, for the tables).
// A NaN state has no sign to keep: it keeps its code (search(NaN)); moving it could leave the map.
BNB_HD inline int fix_sign(const float* values, int c, float s) {
  if (s == s && std::signbit(values[c]) != std::signbit(s)) c += s > 0.0f ? 1 : -1;
  return c;
}

// The smallest float >= m (m >= 0, not NaN) whose 16-bit halves are not half NaNs: the low half keeps
// off the all-ones exponent (at most 2^10 ulps up), the high half is that of a float below 2^121;
// larger scales saturate at 2^121 (high half = half +Inf, which a save keeps).
BNB_HD inline float half_word_scale(float m) {
  uint32_t u = f2u(m);
  if (u >= 0x7c000000u) return u2f(0x7c000000u);
  if ((u & 0x7c00u) == 0x7c00u) u = (u | 0x7fffu) + 1u;
  return u2f(u);
}

// The block scale stored for a block whose largest magnitude is m, in a stream of the given phase.
BNB_HD inline float stored_scale(int32_t phase, float m) {
  return phase >= 0 && (phase & kHalfWords) ? half_word_scale(m) : m;
}

}  // namespace bnb
