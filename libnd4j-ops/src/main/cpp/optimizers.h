// The optimizers of the fused steps, each declared exactly once: its ABI code (= the code of the Java
// org.bnb4j.optim.OptimKind constant), name (= that constant's name), its states (per state: which
// dynamic map, whether the encoder applies the sign fix, its role) and ONE update rule. Every step
// takes them from here: the scalar reference and the 32-bit step (optim.cpp) run the rule on floats
// (ScalarOps), the AVX2, AVX-512 and VBMI steps on vectors (their V types), bnb_optim_describe reports
// the declaration and the entry points accept exactly the codes of the Optimizers list.
//
// Adding an optimizer: write its struct below (code, name, states, update) and add it to Optimizers.
// Nothing else in C++ names an optimizer; Java declares the same one in OptimKind, and the library
// is only used when both declarations agree (checked at load).
//
// The rules must stay bit-identical to the Java oracle on every ISA: the same float operations in
// the same order (the build forbids contraction into FMA: -ffp-contract=off).
#pragma once
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <utility>
#include "bnb4j.h"
#include "portable.h"

namespace bnb {

constexpr int kMaxStates = BNB_MAX_STATES;

// One state of an optimizer.
struct StateDesc {
  bool signed_map;   // true: the signed dynamic map; false: the unsigned one (a state never negative)
  bool sign_fix;     // the encoder keeps the state's sign (a code of the wrong sign moves one step)
  const char* role;  // short name, for bnb_optim_describe and messages
};
constexpr StateDesc signed_state(const char* role) { return StateDesc{true, true, role}; }
constexpr StateDesc unsigned_state(const char* role) { return StateDesc{false, false, role}; }

// The vector operations an update rule is written with, here on one float: the scalar steps run
// the rules through it, the SIMD steps through their own V (V256, V512) with the same semantics:
// set1, add, neg (sign flip), mul, div, sqrt, min/max (SSE operand semantics: min(a, b) = a < b ? a : b,
// so a NaN in a gives b), sign_step(c, lr) = lr where c > 0, -lr where c < 0, 0 elsewhere (NaN too).
struct ScalarOps {
  using F = float;
  BNB_HD static F set1(float x) { return x; }
  BNB_HD static F add(F a, F b) { return a + b; }
  BNB_HD static F neg(F a) { return -a; }
  BNB_HD static F mul(F a, F b) { return a * b; }
  BNB_HD static F div(F a, F b) { return a / b; }
  BNB_HD static F sqrt(F a) { return std::sqrt(a); }
  BNB_HD static F min(F a, F b) { return a < b ? a : b; }
  BNB_HD static F max(F a, F b) { return a > b ? a : b; }
  BNB_HD static F sign_step(F c, float lr) { return c > 0.0f ? lr : c < 0.0f ? -lr : 0.0f; }
};

// The moment bound of Adam and AdEMAMix (see bnb4j.h): min(lim, m), then max(-lim, .), lim = r * sqrt(v);
// NaN stays NaN. -lim is a sign flip (0 - lim would give +0 for lim = 0).
template <class V, class F = typename V::F>
BNB_HD inline F clamp_moment(F m, float r, F sv) {
  const F lim = V::mul(V::set1(r), sv);
  return V::max(V::neg(lim), V::min(lim, m));
}

// ---- The optimizers. update(h, g, s): g is the gradient, s[k] state k as decoded (updated in place);
// returns the update (the caller subtracts it). A non-finite g is handled by the caller (state reset,
// zero update), so rules need not care.

struct Adam {
  static constexpr int32_t code = 0;
  static constexpr const char* name = "ADAM";
  static constexpr StateDesc states[] = {signed_state("m"), unsigned_state("v")};
  template <class V, class F = typename V::F>
  BNB_HD static F update(const bnb_optim_hyper& h, F g, F* s) {
    const F v = V::add(V::mul(V::set1(h.beta2), s[1]), V::mul(V::set1(h.one_minus_beta2), V::mul(g, g)));
    const F sv = V::sqrt(v);
    const F m = clamp_moment<V>(V::add(V::mul(V::set1(h.beta1), s[0]), V::mul(V::set1(h.one_minus_beta1), g)), h.ratio1, sv);
    s[0] = m;
    s[1] = v;
    return V::mul(V::set1(h.step_size), V::div(m, V::add(sv, V::set1(h.eps_hat))));
  }
};

// SGD with momentum: s = (t == 1) ? g : beta1 * s + g; update = lr * s.
struct Momentum {
  static constexpr int32_t code = 1;
  static constexpr const char* name = "MOMENTUM";
  static constexpr StateDesc states[] = {signed_state("momentum")};
  static constexpr bool reads_first_step = true;  // see bnb::reads_first_step
  template <class V, class F = typename V::F>
  BNB_HD static F update(const bnb_optim_hyper& h, F g, F* s) {
    const F m = h.first_step ? g : V::add(V::mul(V::set1(h.beta1), s[0]), g);
    s[0] = m;
    return V::mul(V::set1(h.lr), m);
  }
};

// s = beta1 * s + (1 - beta1) * g^2; update = lr * g / (sqrt(s) + eps). Its non-negative state is on the
// signed map, as in bitsandbytes' 1-state optimizers (saved states depend on it).
struct RMSprop {
  static constexpr int32_t code = 2;
  static constexpr const char* name = "RMSPROP";
  static constexpr StateDesc states[] = {signed_state("v")};
  template <class V, class F = typename V::F>
  BNB_HD static F update(const bnb_optim_hyper& h, F g, F* s) {
    const F v = V::add(V::mul(V::set1(h.beta1), s[0]), V::mul(V::set1(h.one_minus_beta1), V::mul(g, g)));
    s[0] = v;
    return V::mul(V::set1(h.lr), V::div(g, V::add(V::sqrt(v), V::set1(h.eps))));
  }
};

// s = s + g^2; update = lr * g / (sqrt(s) + eps) (signed map, as RMSprop).
struct Adagrad {
  static constexpr int32_t code = 3;
  static constexpr const char* name = "ADAGRAD";
  static constexpr StateDesc states[] = {signed_state("sum")};
  template <class V, class F = typename V::F>
  BNB_HD static F update(const bnb_optim_hyper& h, F g, F* s) {
    const F sum = V::add(s[0], V::mul(g, g));
    s[0] = sum;
    return V::mul(V::set1(h.lr), V::div(g, V::add(V::sqrt(sum), V::set1(h.eps))));
  }
};

// update = lr * sign(beta1 * s + (1 - beta1) * g); s = beta2 * s + (1 - beta2) * g.
struct Lion {
  static constexpr int32_t code = 4;
  static constexpr const char* name = "LION";
  static constexpr StateDesc states[] = {signed_state("m")};
  template <class V, class F = typename V::F>
  BNB_HD static F update(const bnb_optim_hyper& h, F g, F* s) {
    const F c = V::add(V::mul(V::set1(h.beta1), s[0]), V::mul(V::set1(h.one_minus_beta1), g));
    s[0] = V::add(V::mul(V::set1(h.beta2), s[0]), V::mul(V::set1(h.one_minus_beta2), g));
    return V::sign_step(c, h.lr);
  }
};

// AdEMAMix: fast EMA m1 (beta1), v (beta2), slow EMA m2 (beta3); m1 and m2 bounded by ratio1 / ratio3;
// update = lr * (m1 / (1 - beta1^t) + alpha * m2) / (sqrt(v) / sqrt(1 - beta2^t) + eps).
struct AdEMAMix {
  static constexpr int32_t code = 5;
  static constexpr const char* name = "ADEMAMIX";
  static constexpr StateDesc states[] = {signed_state("m1"), unsigned_state("v"), signed_state("m2")};
  template <class V, class F = typename V::F>
  BNB_HD static F update(const bnb_optim_hyper& h, F g, F* s) {
    const F v = V::add(V::mul(V::set1(h.beta2), s[1]), V::mul(V::set1(h.one_minus_beta2), V::mul(g, g)));
    const F sv = V::sqrt(v);
    const F m1 = clamp_moment<V>(V::add(V::mul(V::set1(h.beta1), s[0]), V::mul(V::set1(h.one_minus_beta1), g)), h.ratio1, sv);
    const F m2 = clamp_moment<V>(V::add(V::mul(V::set1(h.beta3), s[2]), V::mul(V::set1(h.one_minus_beta3), g)), h.ratio3, sv);
    s[0] = m1;
    s[1] = v;
    s[2] = m2;
    const F num = V::add(V::div(m1, V::set1(h.bias_correction1)), V::mul(V::set1(h.alpha), m2));
    const F den = V::add(V::div(sv, V::set1(h.sqrt_bias_correction2)), V::set1(h.eps));
    return V::mul(V::set1(h.lr), V::div(num, den));
  }
};

// ---- Every optimizer, once.
template <class... O>
struct OptimizerList {};
using Optimizers = OptimizerList<Adam, Momentum, RMSprop, Adagrad, Lion, AdEMAMix>;

// The number of states of O.
template <class O>
constexpr int num_states = (int)(sizeof(O::states) / sizeof(StateDesc));

// Whether O's rule reads h.first_step (declared `static constexpr bool reads_first_step = true`): a SIMD
// step may then compile its loop once per value, so that the loop holds no branch on it.
template <class O, class = void>
struct ReadsFirstStep : std::false_type {};
template <class O>
struct ReadsFirstStep<O, std::void_t<decltype(O::reads_first_step)>> : std::bool_constant<O::reads_first_step> {};
template <class O>
constexpr bool reads_first_step = ReadsFirstStep<O>::value;

// Calls f(O{}) for the optimizer O of the list whose code is `code`; false (f not called) when no
// optimizer has it. This is the only way from a runtime code to an optimizer: a fold over the list.
template <class... O, class Fn>
inline bool visit_optimizer(int32_t code, OptimizerList<O...>, Fn&& f) {
  return ((code == O::code && (f(O{}), true)) || ...);
}
template <class Fn>
inline bool with_optimizer(int32_t code, Fn&& f) {
  return visit_optimizer(code, Optimizers{}, f);
}

// f(std::integral_constant<int, k>{}) for k = 0 .. K-1, unrolled at compile time (a state loop
// whose index stays a constant: per-state arrays of vectors stay in registers).
template <class Fn, int... I>
BNB_HD inline void unroll_states(Fn&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}
template <int K, class Fn>
BNB_HD inline void for_states(Fn&& f) {
  unroll_states(f, std::make_integer_sequence<int, K>{});
}

// One element through O's rule: the update; s[0 .. num_states<O>) updated in place. A non-finite
// gradient resets the state and gives a zero update; so does a finite one whose new states are not
// all finite (g * g overflows past |g| ~ 1.8e19; a NaN state read back): an infinite state would be
// its block's new scale and decode the block's other elements to NaN. (The SIMD steps mask the same
// outcome per lane.)
template <class O>
BNB_HD inline float step_element(const bnb_optim_hyper& h, float g, float* s) {
  if (std::isfinite(g)) {
    const float u = O::template update<ScalarOps>(h, g, s);
    bool finite = true;
    for (int k = 0; k < num_states<O>; ++k) finite = finite && std::isfinite(s[k]);
    if (finite) return u;
  }
  for (int k = 0; k < num_states<O>; ++k) s[k] = 0.0f;
  return 0.0f;
}

// Compile-time checks of the list: the codes are 0 .. count-1 (dense ABI codes, so an optimizer
// dropped from the list fails the build unless it is the last), 1 .. kMaxStates states each.
template <class... O>
constexpr bool valid_list(OptimizerList<O...>) {
  const int32_t codes[] = {O::code...};
  const int states[] = {num_states<O>...};
  for (unsigned i = 0; i < sizeof...(O); ++i) {
    if (states[i] < 1 || states[i] > kMaxStates) return false;
    bool found = false;  // code i is someone's
    for (unsigned j = 0; j < sizeof...(O); ++j) found = found || codes[j] == (int32_t)i;
    if (!found) return false;
  }
  return true;
}
static_assert(valid_list(Optimizers{}), "optimizers.h: the codes must be 0 .. count-1 (each once), the states 1 .. BNB_MAX_STATES");

}  // namespace bnb
