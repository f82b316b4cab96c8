// Pieces shared by the AVX-512 optimizer steps (optim_avx512.cpp, optim_vbmi.cpp).
// Include only from translation units compiled with AVX-512 enabled.
#pragma once
#include <immintrin.h>
#include "optim_simd.h"

namespace bnb {
namespace avx512 {

// Vector operations of the generic update (optim_simd.h) on 16 floats.
struct V512 {
  using F = __m512;
  static F set1(float x) { return _mm512_set1_ps(x); }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F neg(F a) { return _mm512_xor_ps(a, _mm512_set1_ps(-0.0f)); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F sqrt(F a) { return _mm512_sqrt_ps(a); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F sign_step(F c, float lr) {
    const F zero = _mm512_setzero_ps();
    const F u = _mm512_mask_mov_ps(zero, _mm512_cmp_ps_mask(c, zero, _CMP_GT_OQ), _mm512_set1_ps(lr));
    return _mm512_mask_mov_ps(u, _mm512_cmp_ps_mask(c, zero, _CMP_LT_OQ), _mm512_set1_ps(-lr));
  }
};

template <int Kind>
inline __m512 update16(const Hyper& h, __m512 g, __m512* s1, __m512* s2, __m512* s3) {
  return update_vec<Kind, V512>(h, g, s1, s2, s3);
}

// One vector of an update pass: the update of 16 lanes overwrites the gradient (lanes in m), the
// new states (a, b, c in, as decoded) go to the scratch rows s1..s3, and their |x| is folded into
// acc[0..2] (max(x, acc) keeps acc for NaN: NaN is ignored, as in the scalar step). A non-finite
// gradient lane (QNaN, SNaN, +-Inf) resets its states and gives a zero update. States a kind does
// not use are neither stored nor tracked.
template <int Kind>
inline void update_lanes(const Hyper& h, __mmask16 m, float* grad, __m512 a, __m512 b, __m512 c, float* s1, float* s2,
                         float* s3, __m512* acc) {
  constexpr int kStates = num_states(Kind);
  const __m512 zero = _mm512_setzero_ps();
  const __m512 g = _mm512_maskz_loadu_ps(m, grad);
  __m512 u = update16<Kind>(h, g, &a, &b, &c);
  const __mmask16 bad = _mm512_fpclass_ps_mask(g, 0x99);
  if (bad) {
    a = _mm512_mask_mov_ps(a, bad, zero);
    b = _mm512_mask_mov_ps(b, bad, zero);
    c = _mm512_mask_mov_ps(c, bad, zero);
    u = _mm512_mask_mov_ps(u, bad, zero);
  }
  _mm512_mask_storeu_ps(grad, m, u);
  _mm512_storeu_ps(s1, a);
  acc[0] = _mm512_mask_max_ps(acc[0], m, _mm512_abs_ps(a), acc[0]);
  if (kStates >= 2) {
    _mm512_storeu_ps(s2, b);
    acc[1] = _mm512_mask_max_ps(acc[1], m, _mm512_abs_ps(b), acc[1]);
  }
  if (kStates == 3) {
    _mm512_storeu_ps(s3, c);
    acc[2] = _mm512_mask_max_ps(acc[2], m, _mm512_abs_ps(c), acc[2]);
  }
}

inline void reduce_absmax(const __m512* acc, int states, float* mx) {
  for (int k = 0; k < 3; ++k) mx[k] = k < states ? _mm512_reduce_max_ps(acc[k]) : 0.0f;
}

}  // namespace avx512
}  // namespace bnb
