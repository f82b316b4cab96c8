// The per-element math of quantization, written once for host and device: the code search, the
// normalisation, stochastic rounding, the map lookup, the block-scale fold, the state codec of the
// fused steps and the checksum word. The CPU scalar kernels (isa_scalar.cpp, optim.cpp, blockwise.cpp)
// call these functions, and the CUDA kernels (src/main/cuda) call the same ones, so the CPU test suite
// runs the code the GPU runs. The SIMD kernels have their own vector forms, checked against these by
// the tests. Everything here is BNB_HD (__host__ __device__ under nvcc), and compiled without FMA
// contraction on both sides (-ffp-contract=off, nvcc -fmad=false) so both give the same bits.
#pragma once
#include <cmath>
#include <cstdint>
#include "portable.h"
#include "state_bytes.h"

namespace bnb {

// bitsandbytes' dQuantize (non-stochastic): 7-step binary search from pivot 127, then one
// midpoint compare; exact midpoints go to the final pivot (always even).
BNB_HD inline int search_reference(const float* c, float x) {
  int pivot = 127, upper_pivot = 255, lower_pivot = 0;
  float lower = -1.0f, upper = 1.0f;
  float val = c[pivot];
  for (int step = 64; step > 0; step >>= 1) {
    if (x > val) { lower_pivot = pivot; lower = val; pivot += step; }
    else         { upper_pivot = pivot; upper = val; pivot -= step; }
    val = c[pivot];
  }
  if (upper_pivot == 255) upper = c[255];
  if (lower_pivot == 0) lower = c[0];
  if (x > val) {
    float mid = (upper + val) * 0.5f;
    return x > mid ? upper_pivot : pivot;
  }
  float mid = (lower + val) * 0.5f;
  return x < mid ? lower_pivot : pivot;
}

// Normalisation shared by every path (and by the Java oracle): multiply by the reciprocal like
// bitsandbytes' kernel; an all-zero block scales by 0; a block so small that 1/absmax overflows
// divides instead, so denormal blocks still quantize correctly.
enum class Norm { Zero, Mul, Div };
BNB_HD inline Norm norm_mode(float absmax, float* inv) {
  if (absmax == 0.0f) { *inv = 0.0f; return Norm::Zero; }
  float r = 1.0f / absmax;
  if (std::isinf(r)) { *inv = absmax; return Norm::Div; }
  *inv = r;
  return Norm::Mul;
}
BNB_HD inline float normalise(float x, Norm mode, float inv) { return mode == Norm::Div ? x / inv : x * inv; }

// The block scale: max |x| with NaN ignored (it compares false) and Inf propagated. A fold, so any
// order and split of a block give the same value.
BNB_HD inline float absmax_fold(float m, float x) {
  const float a = std::fabs(x);
  return a > m ? a : m;
}

// A code back to a value.
BNB_HD inline float decode_value(const float* map, int code, float absmax) { return map[code] * absmax; }

// Stochastic rounding: counter-based uniform in [0,1) from (seed, global element index).
BNB_HD inline uint64_t mix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
BNB_HD inline float uniform01(uint64_t seed, uint64_t index) {
  return (float)(mix64(seed ^ mix64(index)) >> 40) * (1.0f / 16777216.0f);
}
// The stochastic search: the largest code f with c[f] <= y, rounded up with probability
// (y - c[f]) / (c[f+1] - c[f]) by r in [0, 1).
BNB_HD inline int search_stochastic(const float* c, float y, float r) {
  if (y != y) return 0;
  if (y < c[0]) return 0;
  int lo = 0, hi = 255;
  while (lo < hi) {
    int mid = (lo + hi + 1) >> 1;
    if (c[mid] <= y) lo = mid; else hi = mid - 1;
  }
  if (lo == 255 || c[lo] == y) return lo;
  float p_up = (y - c[lo]) / (c[lo + 1] - c[lo]);
  return r < p_up ? lo + 1 : lo;
}

// ---- The state codec of the fused 8-bit steps.

// The value of a stored state byte in a block with scale absmax.
BNB_HD inline float state_value(const float* map, uint8_t byte, Slot slot, float absmax) {
  return decode_value(map, code_of_byte(byte, slot), absmax);
}

// The code of a state s normalised to y, before its slot's byte swap: the reference search, the sign
// fix where the state has it, the nearer neighbour where the slot may not hold the code.
BNB_HD inline int state_code(const float* map, float y, float s, bool with_sign_fix, Slot slot) {
  int c = search_reference(map, y);
  if (with_sign_fix) c = fix_sign(map, c, s);
  if (dropped(c, slot)) c = nearer_neighbour(map, c, y);
  return c;
}

// Whether the sign fix (fix_sign) keeps every state inside this map: the map holds a value of each sign
// (sorted: the first with its sign bit set, the last without) and +0, which the fix moves down, is not
// nearest to code 0. The 8-bit step entry points (CPU and CUDA) refuse other maps for sign-fixed states.
BNB_HD inline bool sign_fix_stays_inside(const float* map) {
  return std::signbit(map[0]) && !std::signbit(map[255]) && search_reference(map, 0.0f) != 0;
}

// The byte of state value s in a block with scale absmax: its code (state_code), then the packing
// rules of its slot (state_bytes.h).
BNB_HD inline uint8_t state_byte(const float* map, float s, float absmax, bool with_sign_fix, Slot slot) {
  float inv;
  const Norm mode = norm_mode(absmax, &inv);
  return stored_byte(state_code(map, normalise(s, mode, inv), s, with_sign_fix, slot), slot);
}

// ---- The checksum of the block scales (bnb4j.h bnb_absmax_checksum): the word of block b, summed mod 2^32.
BNB_HD inline uint32_t rotl32(uint32_t x, int r) { r &= 31; return r == 0 ? x : (x << r) | (x >> (32 - r)); }
BNB_HD inline uint32_t fmix32(uint32_t k) {
  k ^= k >> 16;
  k *= 0x85ebca6bu;
  k ^= k >> 13;
  k *= 0xc2b2ae35u;
  return k ^ (k >> 16);
}
BNB_HD inline uint32_t checksum_word(int64_t b, const float* const* absmax, int32_t num_states) {
  uint32_t x = (uint32_t)b * 0x9E3779B9u;
  for (int k = 0; k < num_states; ++k) x ^= rotl32(f2u(absmax[k][b]), 11 * k);
  return fmix32(x);
}

}  // namespace bnb
