// Shared pieces of the fused optimizer steps (optim.cpp, optim_avx512.cpp).
#pragma once
#include <cmath>
#include "bnb4j.h"
#include "kernels.h"

namespace bnb {

constexpr int kOptimMaxBlock = 4096;

struct Hyper {
  int kind, first_step;
  float lr, beta1, beta2, eps, step_size, eps_hat, omb1, omb2;
  float beta3, omb3, alpha, c1, sqrt_c2;  // AdEMAMix
};

inline int num_states(int kind) { return kind == BNB_OPTIM_ADAM ? 2 : kind == BNB_OPTIM_ADEMAMIX ? 3 : 1; }

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
  int32_t phase1, phase2, phase3;  // word position of codes[0] in packed mode, or -1
};

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

// AVX-512 block step (gathers; any map).
void optim_block_avx512(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b);
// AVX-512 VBMI block step (byte permutes); only when optim_vbmi_usable(cb1, cb2): both maps fit FastEnc.
void optim_block_vbmi(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b);
bool optim_vbmi_usable(const Codebook& cb1, const Codebook* cb2);

}  // namespace bnb
