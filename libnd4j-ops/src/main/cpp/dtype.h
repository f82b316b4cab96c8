// Element conversions between the INDArray storage types and float. Rounding is
// round-to-nearest-even everywhere; the Java implementation (org.bnb4j.internal.kernels.Fp16) mirrors
// these bit for bit so the two implementations agree exactly. Shared with the CUDA kernels (BNB_HD).
#pragma once
#include <cstdint>
#include "portable.h"

namespace bnb {

BNB_HD inline float half_to_float(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) {
    float v = (float)mant * 5.9604644775390625e-8f;  // mant * 2^-24, exact
    return u2f(f2u(v) | sign);
  }
  if (exp == 31) return u2f(sign | 0x7f800000u | (mant << 13));
  return u2f(sign | ((exp + 112u) << 23) | (mant << 13));
}

BNB_HD inline uint16_t float_to_half(float f) {
  uint32_t u = f2u(f);
  uint32_t sign = (u >> 16) & 0x8000u;
  u &= 0x7fffffffu;
  if (u >= 0x47800000u) {  // >= 65536, Inf or NaN
    return (uint16_t)(sign | (u > 0x7f800000u ? 0x7e00u : 0x7c00u));
  }
  if (u < 0x38800000u) {  // below the smallest normal half: let an FP add do the rounding
    const uint32_t magic = 0x3f000000u;  // 0.5f aligns mantissa bit 0 with 2^-24
    return (uint16_t)(sign | (f2u(u2f(u) + u2f(magic)) - magic));
  }
  uint32_t odd = (u >> 13) & 1u;
  u += 0xc8000fffu + odd;  // rebias exponent (127 -> 15) and add the RNE bias
  return (uint16_t)(sign | (u >> 13));
}

BNB_HD inline float bf16_to_float(uint16_t h) { return u2f((uint32_t)h << 16); }

BNB_HD inline uint16_t float_to_bf16(float f) {
  uint32_t u = f2u(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

}  // namespace bnb
