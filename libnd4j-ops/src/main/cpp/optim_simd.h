// Skeleton of the gather-based SIMD optimizer step, instantiated by optim_avx512.cpp with its vector
// operations. The update rules themselves are the templates of optimizers.h, run there on the ISA's
// vector type (V512).
#pragma once
#include "optim.h"

namespace bnb {

// The three-pass block step over L1 buffers used by the gather paths: decode the optimizer's
// states, update (gradient -> update in place, new absmax), encode. The ISA supplies
//   decode(cb, codes, len, absmax, phase, out, prefetch_block_or_null),
//   update(O{}, h, grad, rows, len, mx)  (rows[k]: state k's floats; mx[k]: its new absmax),
//   encode(cb, s, len, absmax, sign_fix, phase, codes).
// Maps and sign fix come from O's state descriptors.
template <class O, class Decode, class Update, class Encode>
void three_pass_block(const bnb_optim_hyper& h, const StateMaps& maps, const OptimBlock& b, Decode decode,
                      Update update, Encode encode) {
  constexpr int K = num_states<O>;
  alignas(64) float s[K][kMaxBlock];
  float* rows[K];
  float mx[K];
  for_states<K>([&](auto k) {
    rows[k] = s[k];
    decode(maps[k], b.codes[k], b.len, *b.absmax[k], b.phase[k], s[k], k == 0 ? &b : nullptr);
  });
  update(O{}, h, b.grad, rows, b.len, mx);
  for_states<K>([&](auto k) {
    *b.absmax[k] = mx[k];
    encode(maps[k], s[k], b.len, mx[k], O::states[k].sign_fix, b.phase[k], b.codes[k]);
  });
}

// The steps of blocks [lo, hi) through three_pass_block, the optimizer picked once per call.
template <class Decode, class Update, class Encode>
void three_pass_blocks(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi,
                       Decode decode, Update update, Encode encode) {
  with_optimizer(h.kind, [&](auto o) {
    for (int64_t b = lo; b < hi; ++b) three_pass_block<decltype(o)>(h, maps, src.at<num_states<decltype(o)>>(b), decode, update, encode);
  });
}

}  // namespace bnb
