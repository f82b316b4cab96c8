// Shared pieces of the fused optimizer steps (optim.cpp and the per-ISA optim_*.cpp). The optimizers
// themselves (states, rules) are in optimizers.h, the byte rules of the states in state_bytes.h.
#pragma once
#include <cmath>
#include "bnb4j.h"
#include "kernels.h"
#include "optimizers.h"
#include "state_bytes.h"

namespace bnb {

// The maps of a step's states, in the optimizer's state order (entries past its count are null).
struct StateMaps {
  const Codebook* cb[kMaxStates];
  const Codebook& operator[](int k) const { return *cb[k]; }
};

// One block of an 8-bit step, all pointers already offset to the block's first element; the entries
// of states past the optimizer's count are null.
struct OptimBlock {
  float* grad;
  uint8_t* codes[kMaxStates];
  float* absmax[kMaxStates];   // -> this block's absmax of each state
  int32_t phase[kMaxStates];   // word position of codes[k][0] in packed mode (| kHalfWords), or -1
  int64_t len;
  int64_t stream_left;         // elements from grad[0] to the end of the tensor (prefetch bound)
};

// The whole step's arrays; at(b) is block b.
struct BlockSource {
  float* grad;
  uint8_t* codes[kMaxStates];
  float* absmax[kMaxStates];
  int32_t phase[kMaxStates];   // word position of each stream's first code (| kHalfWords), or -1
  int32_t num_states;
  int64_t n, blocksize;

  static int32_t at_phase(int32_t phase, int64_t start) {
    return phase < 0 ? -1 : (phase & kHalfWords) | (int32_t)((phase + start) & 3);
  }
  // Block b of an optimizer with K states (the entries of further states are null).
  template <int K>
  OptimBlock at(int64_t b) const {
    const int64_t s = b * blocksize;
    OptimBlock o{grad + s, {}, {}, {}, n - s < blocksize ? n - s : blocksize, n - s};
    for_states<K>([&](auto k) {
      o.codes[k] = codes[k] + s;
      o.absmax[k] = absmax[k] + b;
      o.phase[k] = at_phase(phase[k], s);
    });
    return o;
  }
};

// The SIMD steps are compute-bound per block but stream their memory once; without a hint the
// lines of the next blocks only start to load when they are reached (measured: 7.0 -> 4.2 ms for an
// 8-bit Adam step on 10M floats, 2 threads). Called once per 64 elements, it asks for the 64
// elements kPrefetchAhead further on, with write intent: spread out like this, the requests never
// exceed the core's miss queues (a whole block at once did for blocksize 2048).
// (always_inline: GCC deems a function holding only prefetches side-effect free and drops calls to it.)
constexpr int64_t kPrefetchAhead = 1024;
// The states' codes are prefetched too: the first K (when the caller knows the optimizer), else up to the first null.
template <int K = kMaxStates>
__attribute__((always_inline)) inline void prefetch_ahead(const OptimBlock& b, int64_t i) {
  const int64_t at = i + kPrefetchAhead;
  if (at >= b.stream_left) return;
  for (int o = 0; o < 64; o += 16) __builtin_prefetch(b.grad + at + o, 1, 3);
  if constexpr (K == kMaxStates) {
    for (int k = 0; k < kMaxStates && b.codes[k] != nullptr; ++k) __builtin_prefetch(b.codes[k] + at, 1, 3);
  } else {
    for_states<K>([&](auto k) { __builtin_prefetch(b.codes[k] + at, 1, 3); });
  }
}

// The 8-bit steps of blocks [lo, hi), per ISA (the IsaKernels table, dispatch.cpp).
// Scalar: the reference, every packing rule (HALF words too), any map.
void optim_blocks_scalar(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi);
// AVX2, AVX-512: gathers, any map.
void optim_blocks_avx2(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi);
// Whether every state's map of optimizer `kind` fits its StateByteTables (kernels.h), building them:
// the condition of the two steps below.
bool state_bytes_usable(int32_t kind, const StateMaps& maps);
// AVX2 with table loads in place of gathers: only where state_bytes_usable.
void optim_blocks_avx2_fast(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi);
void optim_blocks_avx512(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi);
// AVX-512 encoding through StateByteTables: only where state_bytes_usable.
void optim_blocks_avx512_fast(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo,
                              int64_t hi);
// AVX-512 VBMI (byte permutes): only where optim_vbmi_usable: every state's map fits FastEnc (the
// sign-fixed tables for states with the sign fix).
void optim_blocks_vbmi(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi);
bool optim_vbmi_usable(int32_t kind, const StateMaps& maps);

}  // namespace bnb
