// Pieces shared by the AVX-512 optimizer steps (optim_avx512.cpp, optim_vbmi.cpp).
// Include only from translation units compiled with AVX-512 enabled.
#pragma once
#include <immintrin.h>
#include "optim.h"

namespace bnb {
namespace avx512 {

// The update rules of update_one (optim.cpp), vectorised; template so the kind switch leaves the loop.
template <int Kind>
inline __m512 update16(const Hyper& h, __m512 g, __m512* s1, __m512* s2, __m512* s3) {
  const __m512 b1 = _mm512_set1_ps(h.beta1), b2 = _mm512_set1_ps(h.beta2);
  const __m512 omb1 = _mm512_set1_ps(h.omb1), omb2 = _mm512_set1_ps(h.omb2);
  if (Kind == BNB_OPTIM_ADEMAMIX) {
    __m512 m1 = _mm512_add_ps(_mm512_mul_ps(b1, *s1), _mm512_mul_ps(omb1, g));
    __m512 m2 = _mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(h.beta3), *s3), _mm512_mul_ps(_mm512_set1_ps(h.omb3), g));
    __m512 v = _mm512_add_ps(_mm512_mul_ps(b2, *s2), _mm512_mul_ps(omb2, _mm512_mul_ps(g, g)));
    *s1 = m1;
    *s2 = v;
    *s3 = m2;
    __m512 num = _mm512_add_ps(_mm512_div_ps(m1, _mm512_set1_ps(h.c1)), _mm512_mul_ps(_mm512_set1_ps(h.alpha), m2));
    __m512 den = _mm512_add_ps(_mm512_div_ps(_mm512_sqrt_ps(v), _mm512_set1_ps(h.sqrt_c2)), _mm512_set1_ps(h.eps));
    return _mm512_mul_ps(_mm512_set1_ps(h.lr), _mm512_div_ps(num, den));
  } else if (Kind == BNB_OPTIM_ADAM) {
    __m512 m = _mm512_add_ps(_mm512_mul_ps(b1, *s1), _mm512_mul_ps(omb1, g));
    __m512 v = _mm512_add_ps(_mm512_mul_ps(b2, *s2), _mm512_mul_ps(omb2, _mm512_mul_ps(g, g)));
    *s1 = m;
    *s2 = v;
    return _mm512_mul_ps(_mm512_set1_ps(h.step_size),
                         _mm512_div_ps(m, _mm512_add_ps(_mm512_sqrt_ps(v), _mm512_set1_ps(h.eps_hat))));
  } else if (Kind == BNB_OPTIM_MOMENTUM) {
    __m512 s = h.first_step ? g : _mm512_add_ps(_mm512_mul_ps(b1, *s1), g);
    *s1 = s;
    return _mm512_mul_ps(_mm512_set1_ps(h.lr), s);
  } else if (Kind == BNB_OPTIM_RMSPROP) {
    __m512 s = _mm512_add_ps(_mm512_mul_ps(b1, *s1), _mm512_mul_ps(omb1, _mm512_mul_ps(g, g)));
    *s1 = s;
    return _mm512_mul_ps(_mm512_set1_ps(h.lr), _mm512_div_ps(g, _mm512_add_ps(_mm512_sqrt_ps(s), _mm512_set1_ps(h.eps))));
  } else if (Kind == BNB_OPTIM_ADAGRAD) {
    __m512 s = _mm512_add_ps(*s1, _mm512_mul_ps(g, g));
    *s1 = s;
    return _mm512_mul_ps(_mm512_set1_ps(h.lr), _mm512_div_ps(g, _mm512_add_ps(_mm512_sqrt_ps(s), _mm512_set1_ps(h.eps))));
  } else {  // LION
    __m512 c = _mm512_add_ps(_mm512_mul_ps(b1, *s1), _mm512_mul_ps(omb1, g));
    *s1 = _mm512_add_ps(_mm512_mul_ps(b2, *s1), _mm512_mul_ps(omb2, g));
    const __m512 zero = _mm512_setzero_ps(), lr = _mm512_set1_ps(h.lr);
    __m512 u = _mm512_mask_mov_ps(zero, _mm512_cmp_ps_mask(c, zero, _CMP_GT_OQ), lr);
    return _mm512_mask_mov_ps(u, _mm512_cmp_ps_mask(c, zero, _CMP_LT_OQ), _mm512_sub_ps(zero, lr));
  }
}

}  // namespace avx512
}  // namespace bnb
