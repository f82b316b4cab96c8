// Pieces shared by the AVX-512 optimizer steps (optim_avx512.cpp, optim_vbmi.cpp).
// Include only from translation units compiled with AVX-512 enabled.
#pragma once
#include <immintrin.h>
#include "optim_simd.h"

namespace bnb {
namespace avx512 {

// The vector operations of the optimizers' rules (optimizers.h, ScalarOps) on 16 floats.
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

// One vector of an update pass of optimizer O: the update of 16 lanes overwrites the gradient (lanes
// in m), the new states (st[k] in, as decoded) go to rows[k] + at, and their |x| is folded into acc[k]
// (max(x, acc) keeps acc for NaN: NaN is ignored, as in the scalar step). A lane whose gradient or any
// new state is non-finite (QNaN, SNaN, +-Inf) resets its states and gives a zero update.
template <class O>
inline void update_lanes(const bnb_optim_hyper& h, __mmask16 m, float* grad, __m512* st, float* const* rows, int64_t at,
                         __m512* acc) {
  constexpr int K = num_states<O>;
  const __m512 zero = _mm512_setzero_ps();
  const __m512 g = _mm512_maskz_loadu_ps(m, grad);
  __m512 u = O::template update<V512>(h, g, st);
  // 0x99: QNaN, SNaN, +Inf, -Inf; of the gradient or of any new state
  __mmask16 bad = _mm512_fpclass_ps_mask(g, 0x99);
  for_states<K>([&](auto k) { bad |= _mm512_fpclass_ps_mask(st[k], 0x99); });
  if (bad) {
    for_states<K>([&](auto k) { st[k] = _mm512_mask_mov_ps(st[k], bad, zero); });
    u = _mm512_mask_mov_ps(u, bad, zero);
  }
  _mm512_mask_storeu_ps(grad, m, u);
  for_states<K>([&](auto k) {
    _mm512_storeu_ps(rows[k] + at, st[k]);
    acc[k] = _mm512_mask_max_ps(acc[k], m, _mm512_abs_ps(st[k]), acc[k]);
  });
}

template <int K>
inline void reduce_absmax(const __m512* acc, float* mx) {
  for (int k = 0; k < K; ++k) mx[k] = _mm512_reduce_max_ps(acc[k]);
}

}  // namespace avx512
}  // namespace bnb
