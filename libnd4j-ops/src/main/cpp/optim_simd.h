// ISA-independent skeletons of the SIMD optimizer steps, instantiated by optim_avx2.cpp,
// optim_avx512.cpp and optim_vbmi.cpp with their own vector operations.
#pragma once
#include <type_traits>
#include "optim.h"

namespace bnb {

// Calls f(std::integral_constant<int, Kind>{}) for the runtime kind, so that the per-kind
// branches of the update leave the inner loops. Every kind has its case (the build makes a missing
// one an error: -Werror=switch); the entry points reject other values before any step runs.
template <class Fn>
inline void with_kind(bnb_optim kind, Fn&& f) {
  switch (kind) {
    case BNB_OPTIM_ADAM: f(std::integral_constant<int, BNB_OPTIM_ADAM>{}); return;
    case BNB_OPTIM_MOMENTUM: f(std::integral_constant<int, BNB_OPTIM_MOMENTUM>{}); return;
    case BNB_OPTIM_RMSPROP: f(std::integral_constant<int, BNB_OPTIM_RMSPROP>{}); return;
    case BNB_OPTIM_ADAGRAD: f(std::integral_constant<int, BNB_OPTIM_ADAGRAD>{}); return;
    case BNB_OPTIM_LION: f(std::integral_constant<int, BNB_OPTIM_LION>{}); return;
    case BNB_OPTIM_ADEMAMIX: f(std::integral_constant<int, BNB_OPTIM_ADEMAMIX>{}); return;
  }
}

// clamp_moment (optim.h) on vectors: lim = r * sqrt(v) per lane.
template <class V>
inline typename V::F clamp_vec(typename V::F m, float r, typename V::F sv) {
  const typename V::F lim = V::mul(V::set1(r), sv);
  const typename V::F neg = V::neg(lim);  // a sign flip like the scalar -lim (0 - lim would give +0 for lim = 0)
  return V::max(neg, V::min(lim, m));
}

// The update rules of update_one (optim.cpp) on vectors: the same float operations in the same
// order (the build forbids contraction into FMA), so every lane equals the scalar result bit for
// bit. V supplies F (the vector type) and set1, add, neg (sign flip), mul, div, sqrt, min, max (SSE operand semantics:
// min(a, b) = a < b ? a : b), and
// sign_step(c, lr) = lr where c > 0, -lr where c < 0, 0 elsewhere (Lion).
template <int Kind, class V>
inline typename V::F update_vec(const Hyper& h, typename V::F g, typename V::F* s1, typename V::F* s2,
                                typename V::F* s3) {
  using F = typename V::F;
  const F b1 = V::set1(h.beta1), b2 = V::set1(h.beta2), omb1 = V::set1(h.omb1), omb2 = V::set1(h.omb2);
  if constexpr (Kind == BNB_OPTIM_ADEMAMIX) {
    const F v = V::add(V::mul(b2, *s2), V::mul(omb2, V::mul(g, g)));
    const F sv = V::sqrt(v);
    const F m1 = clamp_vec<V>(V::add(V::mul(b1, *s1), V::mul(omb1, g)), h.ratio1, sv);
    const F m2 = clamp_vec<V>(V::add(V::mul(V::set1(h.beta3), *s3), V::mul(V::set1(h.omb3), g)), h.ratio3, sv);
    *s1 = m1;
    *s2 = v;
    *s3 = m2;
    const F num = V::add(V::div(m1, V::set1(h.c1)), V::mul(V::set1(h.alpha), m2));
    const F den = V::add(V::div(sv, V::set1(h.sqrt_c2)), V::set1(h.eps));
    return V::mul(V::set1(h.lr), V::div(num, den));
  } else if constexpr (Kind == BNB_OPTIM_ADAM) {
    const F v = V::add(V::mul(b2, *s2), V::mul(omb2, V::mul(g, g)));
    const F sv = V::sqrt(v);
    const F m = clamp_vec<V>(V::add(V::mul(b1, *s1), V::mul(omb1, g)), h.ratio1, sv);
    *s1 = m;
    *s2 = v;
    return V::mul(V::set1(h.step_size), V::div(m, V::add(sv, V::set1(h.eps_hat))));
  } else if constexpr (Kind == BNB_OPTIM_MOMENTUM) {
    const F s = h.first_step ? g : V::add(V::mul(b1, *s1), g);
    *s1 = s;
    return V::mul(V::set1(h.lr), s);
  } else if constexpr (Kind == BNB_OPTIM_RMSPROP) {
    const F s = V::add(V::mul(b1, *s1), V::mul(omb1, V::mul(g, g)));
    *s1 = s;
    return V::mul(V::set1(h.lr), V::div(g, V::add(V::sqrt(s), V::set1(h.eps))));
  } else if constexpr (Kind == BNB_OPTIM_ADAGRAD) {
    const F s = V::add(*s1, V::mul(g, g));
    *s1 = s;
    return V::mul(V::set1(h.lr), V::div(g, V::add(V::sqrt(s), V::set1(h.eps))));
  } else {
    static_assert(Kind == BNB_OPTIM_LION, "update_vec: an optimizer kind without a rule");
    const F c = V::add(V::mul(b1, *s1), V::mul(omb1, g));
    *s1 = V::add(V::mul(b2, *s1), V::mul(omb2, g));
    return V::sign_step(c, h.lr);
  }
}

// The three-pass block step over L1 buffers used by the gather paths: decode the state(s), update
// (gradient -> update in place, new absmax), encode. The ISA supplies
//   decode(cb, codes, len, absmax, phase, out, prefetch_block_or_null),
//   update(kind_tag, h, grad, s1, s2, s3, len, mx)  (kind_tag: std::integral_constant, see with_kind),
//   encode(cb, s, len, absmax, sign_fix, phase, codes).
// States a kind does not use are neither decoded nor encoded.
template <class Decode, class Update, class Encode>
void three_pass_block(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b, Decode decode,
                      Update update, Encode encode) {
  alignas(64) float s1[kOptimMaxBlock];
  alignas(64) float s2[kOptimMaxBlock];
  alignas(64) float s3[kOptimMaxBlock];
  const bool two = b.codes2 != nullptr, three = b.codes3 != nullptr;
  decode(cb1, b.codes1, b.len, *b.absmax1, b.phase1, s1, &b);
  if (two) decode(*cb2, b.codes2, b.len, *b.absmax2, b.phase2, s2, nullptr);
  if (three) decode(cb1, b.codes3, b.len, *b.absmax3, b.phase3, s3, nullptr);
  float mx[3];
  with_kind(h.kind, [&](auto kind) { update(kind, h, b.grad, s1, s2, s3, b.len, mx); });
  *b.absmax1 = mx[0];
  encode(cb1, s1, b.len, mx[0], true, b.phase1, b.codes1);
  if (two) {
    *b.absmax2 = mx[1];
    encode(*cb2, s2, b.len, mx[1], false, b.phase2, b.codes2);
  }
  if (three) {
    *b.absmax3 = mx[2];
    encode(cb1, s3, b.len, mx[2], true, b.phase3, b.codes3);
  }
}

}  // namespace bnb
