// Fused block-wise optimizer steps (bitsandbytes' kOptimizerStatic8bit{1,2}StateBlockwise and their
// 32-bit twins). One pass per block: dequantize the state, update it, turn the gradient into the
// update in place (DL4J's applyUpdater contract: the caller subtracts it), requantize the state with
// a new absmax. The Java oracle org.bnb4j.optim.JavaOptimizerKernels does the same float operations
// in the same order; -ffp-contract=off keeps the compiler from fusing them.
#include <algorithm>
#include <cmath>
#include <cstring>
#include "optim.h"
#include "parallel.h"

namespace bnb {
namespace {

constexpr int kMaxBlock = kOptimMaxBlock;

// Threading (parallel.h; docs/PERFORMANCE.md): elements per chunk (8-bit: 128 KB of parameters, many
// blocks for the VBMI pipeline) and the fewest elements per thread worth a helper thread: about 25 us
// of single-thread work on the fastest path (8-bit Adam ~0.7 ns, 32-bit Adam ~2.5 ns per element,
// checksum ~1 ns per block). Below that, waking a helper (2-3 us, and 5-50 us until it runs) costs
// more than it saves; above it, a helper that does not turn up costs only the wake-up call.
constexpr int64_t kOptimChunk = 32768;
constexpr int64_t kOptimMinPerThread = 32768;
constexpr int64_t kOptim32Chunk = 8192;
constexpr int64_t kOptim32MinPerThread = 8192;
constexpr int64_t kChecksumChunk = 16384;          // blocks
constexpr int64_t kChecksumMinPerThread = 32768;  // blocks

// NaN-safe byte packing (used when codes live inside words that a save writes as floating point
// values, e.g. DL4J's updater view); the phase of a stream says which (see OptimBlock).
// FLOAT words: a byte at word position 3 holds the sign and 7 exponent bits, so it must never be 0x7f
// or 0xff. There, codes 1 and 254 are not used (the nearer neighbour is taken) and sigma (optim.h)
// swaps 0x7f <-> 1 and 0xff <-> 254, an involution.
// HALF words (phase | kHalfWords, a HALF network's view): byte 1 of each 16-bit word holds the sign, 5
// exponent bits and 2 mantissa bits, so it must never have an all-ones exponent (0x7c..0x7f,
// 0xfc..0xff). There, the odd codes 0xe9..0xf7 are not used (both neighbours are) and sigma16 swaps
// the eight forbidden bytes with them; block scales are rounded up by half_word_scale. Only this
// scalar step implements the HALF rule (the SIMD steps are not used for it).
enum Slot { kPlain, kFloatTop, kHalfTop };

inline Slot slot_of(int32_t phase, int64_t i) {
  if (phase < 0) return kPlain;
  if (phase & kHalfWords) return ((phase + i) & 1) == 1 ? kHalfTop : kPlain;
  return ((phase + i) & 3) == 3 ? kFloatTop : kPlain;
}

// The smallest float >= m (m >= 0, not NaN) whose 16-bit halves are not half NaNs: the low half keeps
// off the all-ones exponent (at most 2^10 ulps up), the high half is that of a float below 2^121;
// larger scales saturate at 2^121 (high half = half +Inf, which a save keeps).
inline float half_word_scale(float m) {
  uint32_t u = f2u(m);
  if (u >= 0x7c000000u) return u2f(0x7c000000u);
  if ((u & 0x7c00u) == 0x7c00u) u = (u | 0x7fffu) + 1u;
  return u2f(u);
}

inline float stored_scale(int32_t phase, float m) { return phase >= 0 && (phase & kHalfWords) ? half_word_scale(m) : m; }

inline float state_value(const float* map, uint8_t byte, Slot slot, float absmax) {
  return map[slot == kFloatTop ? sigma(byte) : slot == kHalfTop ? sigma16(byte) : byte] * absmax;
}

inline uint8_t encode_state(const Codebook& cb, float s, float absmax, bool sign_fix, Slot slot) {
  float inv;
  Norm mode = norm_mode(absmax, &inv);
  float y = mode == Norm::Div ? s / inv : s * inv;
  int c = search_reference(cb.values, y);
  if (sign_fix && std::signbit(cb.values[c]) != std::signbit(s)) c += s > 0.0f ? 1 : -1;
  const bool dropped = slot == kFloatTop ? (c == 1 || c == 254) : slot == kHalfTop && half_dropped(c);
  if (dropped) {
    float dl = std::fabs(y - cb.values[c - 1]), dh = std::fabs(y - cb.values[c + 1]);
    c = dh < dl ? c + 1 : c - 1;
  }
  return slot == kFloatTop ? sigma((uint8_t)c) : slot == kHalfTop ? sigma16((uint8_t)c) : (uint8_t)c;
}

// One element: returns the update; s1/s2/s3 are updated in place. Non-finite g resets the state.
inline float update_one(const Hyper& h, float g, float* s1, float* s2, float* s3) {
  if (!std::isfinite(g)) { *s1 = 0.0f; *s2 = 0.0f; *s3 = 0.0f; return 0.0f; }
  switch (h.kind) {
    case BNB_OPTIM_ADEMAMIX: {
      float m1 = h.beta1 * *s1 + h.omb1 * g;
      float m2 = h.beta3 * *s3 + h.omb3 * g;
      float v = h.beta2 * *s2 + h.omb2 * (g * g);
      const float sv = std::sqrt(v);
      m1 = clamp_moment(m1, h.ratio1 * sv);
      m2 = clamp_moment(m2, h.ratio3 * sv);
      *s1 = m1; *s2 = v; *s3 = m2;
      return h.lr * ((m1 / h.c1 + h.alpha * m2) / (sv / h.sqrt_c2 + h.eps));
    }
    case BNB_OPTIM_ADAM: {
      float m = h.beta1 * *s1 + h.omb1 * g;
      float v = h.beta2 * *s2 + h.omb2 * (g * g);
      const float sv = std::sqrt(v);
      m = clamp_moment(m, h.ratio1 * sv);
      *s1 = m; *s2 = v;
      return h.step_size * (m / (sv + h.eps_hat));
    }
    case BNB_OPTIM_MOMENTUM: {
      float s = h.first_step ? g : h.beta1 * *s1 + g;
      *s1 = s;
      return h.lr * s;
    }
    case BNB_OPTIM_RMSPROP: {
      float s = h.beta1 * *s1 + h.omb1 * (g * g);
      *s1 = s;
      return h.lr * (g / (std::sqrt(s) + h.eps));
    }
    case BNB_OPTIM_ADAGRAD: {
      float s = *s1 + g * g;
      *s1 = s;
      return h.lr * (g / (std::sqrt(s) + h.eps));
    }
    case BNB_OPTIM_LION: {
      float c = h.beta1 * *s1 + h.omb1 * g;
      *s1 = h.beta2 * *s1 + h.omb2 * g;
      return c > 0.0f ? h.lr : c < 0.0f ? -h.lr : 0.0f;
    }
  }
  __builtin_unreachable();  // every kind returns above (-Werror=switch); entry points reject others
}

}  // namespace

// The reference block step (and the path of the scalar ISA and of HALF-word states).
void optim_block_scalar(const Hyper& h, const Codebook& cb1, const Codebook* cb2, const OptimBlock& b) {
  float s1[kMaxBlock], s2[kMaxBlock], s3[kMaxBlock];
  const bool two = b.codes2 != nullptr, three = b.codes3 != nullptr;
  const float a1 = *b.absmax1, a2 = two ? *b.absmax2 : 0.0f, a3 = three ? *b.absmax3 : 0.0f;
  float m1 = 0.0f, m2 = 0.0f, m3 = 0.0f;
  for (int64_t i = 0; i < b.len; ++i) {
    s1[i] = state_value(cb1.values, b.codes1[i], slot_of(b.phase1, i), a1);
    s2[i] = two ? state_value(cb2->values, b.codes2[i], slot_of(b.phase2, i), a2) : 0.0f;
    s3[i] = three ? state_value(cb1.values, b.codes3[i], slot_of(b.phase3, i), a3) : 0.0f;
    b.grad[i] = update_one(h, b.grad[i], &s1[i], &s2[i], &s3[i]);
    float x1 = std::fabs(s1[i]), x2 = std::fabs(s2[i]), x3 = std::fabs(s3[i]);
    if (x1 > m1) m1 = x1;
    if (x2 > m2) m2 = x2;
    if (x3 > m3) m3 = x3;
  }
  m1 = stored_scale(b.phase1, m1);
  *b.absmax1 = m1;
  for (int64_t i = 0; i < b.len; ++i) b.codes1[i] = encode_state(cb1, s1[i], m1, true, slot_of(b.phase1, i));
  if (two) {
    m2 = stored_scale(b.phase2, m2);
    *b.absmax2 = m2;
    for (int64_t i = 0; i < b.len; ++i) b.codes2[i] = encode_state(*cb2, s2[i], m2, false, slot_of(b.phase2, i));
  }
  if (three) {
    m3 = stored_scale(b.phase3, m3);
    *b.absmax3 = m3;
    for (int64_t i = 0; i < b.len; ++i) b.codes3[i] = encode_state(cb1, s3[i], m3, true, slot_of(b.phase3, i));
  }
}

namespace {

Hyper hyper(int32_t kind, const float* hp, int32_t first_step) {
  return Hyper{static_cast<bnb_optim>(kind), first_step, hp[0], hp[1], hp[2], hp[3], hp[4], hp[5], hp[6], hp[7], hp[8], hp[9], hp[10], hp[11], hp[12],
               hp[13], hp[14]};
}

}  // namespace
}  // namespace bnb

using namespace bnb;

extern "C" int64_t bnb_optim8bit_blockwise(int32_t kind, const float* hp, int32_t first_step, float* grad, int64_t n,
                                           int32_t blocksize, const bnb_codebook* map1, uint8_t* codes1, float* absmax1,
                                           const bnb_codebook* map2, uint8_t* codes2, float* absmax2,
                                           uint8_t* codes3, float* absmax3, int32_t byte_phase) {
  if (kind < BNB_OPTIM_ADAM || kind > BNB_OPTIM_ADEMAMIX || hp == nullptr || n < 0 || blocksize < 64 ||
      blocksize > kMaxBlock || (blocksize & (blocksize - 1)) != 0 || map1 == nullptr || byte_phase < -1 ||
      (byte_phase >= 0 && (byte_phase & ~(kHalfWords | 3)) != 0))
    return BNB_ERR_ARG;
  const bool two = num_states(kind) >= 2, three = num_states(kind) == 3;
  if (two && (map2 == nullptr || codes2 == nullptr || absmax2 == nullptr)) return BNB_ERR_ARG;
  if (three && (codes3 == nullptr || absmax3 == nullptr)) return BNB_ERR_ARG;
  if (n == 0) return BNB_OK;
  const Hyper h = hyper(kind, hp, first_step);
  const Codebook& cb1 = *reinterpret_cast<const Codebook*>(map1);
  const Codebook* cb2 = two ? reinterpret_cast<const Codebook*>(map2) : nullptr;
  const int64_t nb = (n + blocksize - 1) / blocksize;
  // Codes of states 2 and 3 follow those of state 1 in the same byte stream when packed into words.
  const BlockSource src{grad, codes1, two ? codes2 : nullptr, three ? codes3 : nullptr,
                        absmax1, two ? absmax2 : nullptr, three ? absmax3 : nullptr, n, blocksize,
                        BlockSource::at_phase(byte_phase, 0), BlockSource::at_phase(byte_phase, n),
                        BlockSource::at_phase(byte_phase, 2 * n)};

  using BlockStep = void (*)(const Hyper&, const Codebook&, const Codebook*, const OptimBlock&);
  const IsaKernels& isa = active_kernels();
  const bool half_words = byte_phase >= 0 && (byte_phase & kHalfWords) != 0;  // only the scalar step has that rule
  const bool pipelined = !half_words && isa.optim_blocks != nullptr && isa.optim_blocks_usable(cb1, cb2);
  const BlockStep step = half_words ? optim_block_scalar : isa.optim_block;

  // Chunks of consecutive blocks (a pipelined path steps the blocks of a chunk together), claimed dynamically.
  parallel_chunks(nb, blocksize, kOptimChunk, kOptimMinPerThread, [&](int64_t lo, int64_t hi) {
    if (pipelined) {
      isa.optim_blocks(h, cb1, cb2, src, lo, hi);
    } else {
      for (int64_t b = lo; b < hi; ++b) step(h, cb1, cb2, src.at(b));
    }
  });
  return BNB_OK;
}

extern "C" int64_t bnb_optim32(int32_t kind, const float* hp, int32_t first_step, float* grad, int64_t n,
                               float* state1, float* state2, float* state3) {
  if (kind < BNB_OPTIM_ADAM || kind > BNB_OPTIM_ADEMAMIX || hp == nullptr || n < 0 || state1 == nullptr ||
      (num_states(kind) >= 2 && state2 == nullptr) || (num_states(kind) == 3 && state3 == nullptr))
    return BNB_ERR_ARG;
  const Hyper h = hyper(kind, hp, first_step);
  const bool two = num_states(kind) >= 2, three = num_states(kind) == 3;
  parallel_chunks(n, 1, kOptim32Chunk, kOptim32MinPerThread, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i) {
      float d2 = 0.0f, d3 = 0.0f;
      grad[i] = update_one(h, grad[i], &state1[i], two ? &state2[i] : &d2, three ? &state3[i] : &d3);
    }
  });
  return BNB_OK;
}

namespace {
inline uint32_t rotl32(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }
inline uint32_t fmix32(uint32_t k) {
  k ^= k >> 16;
  k *= 0x85ebca6bu;
  k ^= k >> 13;
  k *= 0xc2b2ae35u;
  return k ^ (k >> 16);
}
inline uint32_t bits_or_zero(const float* a, int64_t b) { return a == nullptr ? 0u : bnb::f2u(a[b]); }
}  // namespace

extern "C" uint32_t bnb_absmax_checksum(const float* absmax1, const float* absmax2, const float* absmax3, int64_t nb) {
  if (absmax1 == nullptr || nb <= 0) return 0;
  // A sum mod 2^32: the same in any order and split.
  std::atomic<uint32_t> sum{0};
  parallel_chunks(nb, 1, kChecksumChunk, kChecksumMinPerThread, [&](int64_t lo, int64_t hi) {
    uint32_t part = 0;
    for (int64_t b = lo; b < hi; ++b) {
      const uint32_t x = bnb::f2u(absmax1[b]) ^ rotl32(bits_or_zero(absmax2, b), 11) ^
                         rotl32(bits_or_zero(absmax3, b), 22) ^ ((uint32_t)b * 0x9E3779B9u);
      part += fmix32(x);
    }
    sum.fetch_add(part, std::memory_order_relaxed);
  });
  return sum.load();
}
