// Shared pieces of the fused optimizer steps (optim.cpp and the per-ISA optim_*.cpp).
#pragma once
#include <cmath>
#include "bnb4j.h"
#include "kernels.h"

namespace bnb {

constexpr int kOptimMaxBlock = 4096;

struct Hyper {
  bnb_optim kind;
  int first_step;
  float lr, beta1, beta2, eps, step_size, eps_hat, omb1, omb2;
  float beta3, omb3, alpha, c1, sqrt_c2;  // AdEMAMix
  float ratio1, ratio3;                    // moment bounds |m| <= r sqrt(v) (+inf: none); see bnb4j.h
};

// The moment bound of Adam and AdEMAMix (see bnb4j.h): min(lim, m) then max(-lim, .), in the operand
// order of SSE/AVX min/max, so that the scalar and vector forms agree bit for bit (NaN stays NaN).
inline float clamp_moment(float m, float lim) {
  m = lim < m ? lim : m;
  return -lim > m ? -lim : m;
}

constexpr int num_states(int kind) {
  switch (static_cast<bnb_optim>(kind)) {
    case BNB_OPTIM_ADAM: return 2;
    case BNB_OPTIM_ADEMAMIX: return 3;
    case BNB_OPTIM_MOMENTUM: case BNB_OPTIM_RMSPROP: case BNB_OPTIM_ADAGRAD: case BNB_OPTIM_LION: return 1;
  }
  return 0;  // not a kind (the entry points reject it first)
}

// Flag of a phase (see OptimBlock) whose words are 16-bit (HALF) words: see optim.cpp.
constexpr int32_t kHalfWords = BNB_PHASE_HALF_WORDS;

// One block of an 8-bit step, all pointers already offset to the block's first element.
struct OptimBlock {
  float* grad;
  uint8_t* codes1;
  uint8_t* codes2;   // v (Adam, AdEMAMix); null otherwise
  uint8_t* codes3;   // AdEMAMix's slow EMA; null otherwise
  float* absmax1;    // -> this block's absmax
  float* absmax2;
  float* absmax3;
  int64_t len;
  int32_t phase1, phase2, phase3;  // word position of codes[0] in packed mode (| kHalfWords), or -1
  int64_t stream_left;             // elements from grad[0] to the end of the tensor (prefetch bound)
};

// The whole step's arrays; at(b) is block b.
struct BlockSource {
  float* grad;
  uint8_t *codes1, *codes2, *codes3;
  float *absmax1, *absmax2, *absmax3;
  int64_t n, blocksize;
  int32_t phase1, phase2, phase3;  // word position of each stream's first code (| kHalfWords), or -1

  static int32_t at_phase(int32_t phase, int64_t start) {
    return phase < 0 ? -1 : (phase & kHalfWords) | (int32_t)((phase + start) & 3);
  }
  OptimBlock at(int64_t b) const {
    const int64_t s = b * blocksize;
    return OptimBlock{grad + s, codes1 + s, codes2 ? codes2 + s : nullptr, codes3 ? codes3 + s : nullptr,
                      absmax1 + b, absmax2 ? absmax2 + b : nullptr, absmax3 ? absmax3 + b : nullptr,
                      n - s < blocksize ? n - s : blocksize,
                      at_phase(phase1, s), at_phase(phase2, s), at_phase(phase3, s), n - s};
  }
};

// The SIMD steps are compute-bound per block but stream their memory once; without a hint the
// lines of the next blocks only start to load when they are reached (measured: 7.0 -> 4.2 ms for an
// 8-bit Adam step on 10M floats, 2 threads). Called once per 64 elements, it asks for the 64
// elements kPrefetchAhead further on, with write intent: spread out like this, the requests never
// exceed the core's miss queues (a whole block at once did for blocksize 2048).
// (always_inline: GCC deems a function holding only prefetches side-effect free and drops calls to it.)
constexpr int64_t kPrefetchAhead = 1024;
__attribute__((always_inline)) inline void prefetch_ahead(const OptimBlock& b, int64_t i) {
  const int64_t at = i + kPrefetchAhead;
  if (at >= b.stream_left) return;
  for (int o = 0; o < 64; o += 16) __builtin_prefetch(b.grad + at + o, 1, 3);
  __builtin_prefetch(b.codes1 + at, 1, 3);
  if (b.codes2 != nullptr) __builtin_prefetch(b.codes2 + at, 1, 3);
  if (b.codes3 != nullptr) __builtin_prefetch(b.codes3 + at, 1, 3);
}

// NaN-safe byte packing (see optim.cpp): sigma swaps 0x7f <-> 1 and 0xff <-> 254.
inline uint8_t sigma(uint8_t c) {
  switch (c) {
    case 0x7f: return 1;
    case 1: return 0x7f;
    case 0xff: return 254;
    case 254: return 0xff;
    default: return c;
  }
}

// The HALF-word swap (see optim.cpp): 0x7c..0x7f <-> 0xe9, 0xeb, 0xed, 0xef; 0xfc..0xff <-> 0xf1 .. 0xf7.
inline bool half_dropped(int c) { return c >= 0xe9 && c <= 0xf7 && (c & 1) == 1; }
inline uint8_t sigma16(uint8_t c) {
  if ((c & 0x7c) == 0x7c) return (uint8_t)(0xe9 + 2 * ((c & 3) | ((c >> 5) & 4)));
  if (half_dropped(c)) {
    const int k = (c - 0xe9) >> 1;
    return (uint8_t)(((k & 4) != 0 ? 0xfc : 0x7c) | (k & 3));
  }
  return c;
}

// The reference block step (optim.cpp): every packing rule, any map.
void optim_block_scalar(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b);
// AVX2 block step (gathers; any map).
void optim_block_avx2(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b);
// AVX-512 block step (gathers; any map).
void optim_block_avx512(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b);
// AVX-512 VBMI steps of blocks [lo, hi) (byte permutes); only when optim_vbmi_usable(cb1, cb2):
// both maps fit FastEnc.
void optim_blocks_vbmi(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const BlockSource& src, int64_t lo,
                       int64_t hi);
bool optim_vbmi_usable(const Codebook& cb1, const Codebook* cb2);

}  // namespace bnb
