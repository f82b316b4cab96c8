// Fused block-wise optimizer steps (bitsandbytes' kOptimizerStatic8bit{1,2}StateBlockwise and their
// 32-bit twins). One pass per block: dequantize the state, update it, turn the gradient into the
// update in place (DL4J's applyUpdater contract: the caller subtracts it), requantize the state with
// a new absmax. The Java oracle org.bnb4j.internal.optim.JavaOptimizerKernels does the same float operations
// in the same order; -ffp-contract=off keeps the compiler from fusing them.
#include <algorithm>
#include <cmath>
#include <cstring>
#include "optim.h"
#include "parallel.h"

namespace bnb {
namespace {

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

// state_value and state_byte (element.h) are the per-element codec the CUDA step runs too.

// The reference block step of optimizer O (and the path of the scalar ISA and of HALF-word states).
template <class O>
void scalar_block(const bnb_optim_hyper& h, const StateMaps& maps, const OptimBlock& b) {
  constexpr int K = num_states<O>;
  float s[K][kMaxBlock];
  float a[K], m[K];
  for (int k = 0; k < K; ++k) {
    a[k] = *b.absmax[k];
    m[k] = 0.0f;
  }
  for (int64_t i = 0; i < b.len; ++i) {
    float st[K];
    for_states<K>([&](auto k) { st[k] = state_value(maps[k].values, b.codes[k][i], slot_of(b.phase[k], i), a[k]); });
    b.grad[i] = step_element<O>(h, b.grad[i], st);
    for_states<K>([&](auto k) {
      s[k][i] = st[k];
      m[k] = absmax_fold(m[k], st[k]);  // NaN ignored
    });
  }
  for_states<K>([&](auto k) {
    m[k] = stored_scale(b.phase[k], m[k]);
    *b.absmax[k] = m[k];
    for (int64_t i = 0; i < b.len; ++i)
      b.codes[k][i] = state_byte(maps[k].values, s[k][i], m[k], O::states[k].sign_fix, slot_of(b.phase[k], i));
  });
}

// The arguments every step checks; optimizer O is known by then.
bool valid_hyper(const bnb_optim_hyper* hp) { return hp != nullptr && hp->size == sizeof(bnb_optim_hyper); }

}  // namespace

void optim_blocks_scalar(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi) {
  with_optimizer(h.kind, [&](auto o) {
    for (int64_t b = lo; b < hi; ++b) scalar_block<decltype(o)>(h, maps, src.at<num_states<decltype(o)>>(b));
  });
}

// Plain C++ (no ISA flags): the AVX2 and AVX-512 kernel tables both point here.
bool state_bytes_usable(int32_t kind, const StateMaps& maps) {
  bool usable = false;
  with_optimizer(kind, [&](auto o) {
    using O = decltype(o);
    usable = true;
    for (int k = 0; k < num_states<O> && usable; ++k) {
      const StateByteTables* t = state_byte_tables(maps[k]);  // builds them on the first call
      usable = t != nullptr && t->ok[O::states[k].sign_fix];
    }
  });
  return usable;
}

}  // namespace bnb

using namespace bnb;

extern "C" int64_t bnb_optim8bit_blockwise(const bnb_optim_hyper* hp, float* grad, int64_t n, int32_t blocksize,
                                           const bnb_state8* states, int32_t num_states, int32_t byte_phase) {
  if (n < 0 || !valid_blocksize(blocksize)) return BNB_ERR_ARG;
  return bnb_optim8bit_blockwise_range(hp, grad, n, blocksize, states, num_states, byte_phase, 0, (n + blocksize - 1) / blocksize);
}

extern "C" int64_t bnb_optim8bit_blockwise_range(const bnb_optim_hyper* hp, float* grad, int64_t n, int32_t blocksize,
                                                 const bnb_state8* states, int32_t num_states, int32_t byte_phase,
                                                 int64_t block_begin, int64_t block_end) {
  if (!valid_hyper(hp) || n < 0 || !valid_blocksize(blocksize) || states == nullptr || byte_phase < -1 ||
      (byte_phase >= 0 && (byte_phase & ~(kHalfWords | 3)) != 0))
    return BNB_ERR_ARG;
  const bnb_optim_hyper h = *hp;
  // Codes of state k follow those of state k - 1 in the same byte stream when packed into words.
  BlockSource src{grad, {}, {}, {}, num_states, n, blocksize};
  StateMaps maps{};
  bool ok = false;
  with_optimizer(h.kind, [&](auto o) {
    using O = decltype(o);
    if (num_states != bnb::num_states<O>) return;
    for (int k = 0; k < num_states; ++k) {
      if (states[k].codes == nullptr || states[k].absmax == nullptr || states[k].map == nullptr) return;
      src.codes[k] = states[k].codes;
      src.absmax[k] = states[k].absmax;
      src.phase[k] = BlockSource::at_phase(byte_phase, k * n);
      maps.cb[k] = reinterpret_cast<const Codebook*>(states[k].map);
      if (O::states[k].sign_fix && !sign_fix_stays_inside(maps.cb[k]->values)) return;
    }
    ok = true;
  });
  if (!ok) return BNB_ERR_ARG;
  const int64_t nb = (n + blocksize - 1) / blocksize;
  if (block_begin < 0 || block_end < block_begin || block_end > nb) return BNB_ERR_ARG;
  if (block_begin == block_end) return BNB_OK;
  if (grad == nullptr) return BNB_ERR_ARG;

  const IsaKernels& isa = active_kernels();
  const bool half_words = byte_phase >= 0 && (byte_phase & kHalfWords) != 0;  // only the scalar step has that rule
  const auto step = half_words ? optim_blocks_scalar
                    : isa.optim_blocks_fast != nullptr && isa.optim_fast_usable(h.kind, maps) ? isa.optim_blocks_fast
                                                                                              : isa.optim_blocks;
  // Chunks of consecutive blocks (a pipelined path steps the blocks of a chunk together), claimed dynamically.
  parallel_chunks(block_end - block_begin, blocksize, kOptimChunk, kOptimMinPerThread,
                  [&](int64_t lo, int64_t hi) { step(h, maps, src, block_begin + lo, block_begin + hi); });
  return BNB_OK;
}

extern "C" int64_t bnb_optim32(const bnb_optim_hyper* hp, float* grad, int64_t n, float* const* states, int32_t num_states) {
  if (!valid_hyper(hp) || n < 0 || states == nullptr) return BNB_ERR_ARG;
  const bnb_optim_hyper h = *hp;
  bool ok = false;
  with_optimizer(h.kind, [&](auto o) {
    using O = decltype(o);
    constexpr int K = bnb::num_states<O>;
    if (num_states != K) return;
    for (int k = 0; k < K; ++k)
      if (states[k] == nullptr) return;
    ok = true;
    if (n == 0) return;
    float* st[K];
    for (int k = 0; k < K; ++k) st[k] = states[k];
    parallel_chunks(n, 1, kOptim32Chunk, kOptim32MinPerThread, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) {
        float s[K];
        for_states<K>([&](auto k) { s[k] = st[k][i]; });
        grad[i] = step_element<O>(h, grad[i], s);
        for_states<K>([&](auto k) { st[k][i] = s[k]; });
      }
    });
  });
  return ok ? BNB_OK : BNB_ERR_ARG;
}

extern "C" int32_t bnb_optim_describe(int32_t kind, bnb_optim_info* out) {
  if (out == nullptr) return BNB_ERR_ARG;
  const bool known = with_optimizer(kind, [&](auto o) {
    using O = decltype(o);
    *out = bnb_optim_info{};
    out->num_states = bnb::num_states<O>;
    std::strncpy(out->name, O::name, sizeof(out->name) - 1);
    for (int k = 0; k < bnb::num_states<O>; ++k) {
      out->states[k].signed_map = O::states[k].signed_map ? 1 : 0;
      out->states[k].sign_fix = O::states[k].sign_fix ? 1 : 0;
      std::strncpy(out->states[k].role, O::states[k].role, sizeof(out->states[k].role) - 1);
    }
  });
  return known ? BNB_OK : BNB_ERR_ARG;
}


extern "C" uint32_t bnb_absmax_checksum(const float* const* absmax, int32_t num_states, int64_t nb) {
  if (absmax == nullptr || num_states < 1 || num_states > kMaxStates || nb <= 0) return 0;
  for (int k = 0; k < num_states; ++k)
    if (absmax[k] == nullptr) return 0;
  const float* a[kMaxStates] = {};
  for (int k = 0; k < num_states; ++k) a[k] = absmax[k];
  // A sum mod 2^32: the same in any order and split.
  std::atomic<uint32_t> sum{0};
  parallel_chunks(nb, 1, kChecksumChunk, kChecksumMinPerThread, [&](int64_t lo, int64_t hi) {
    uint32_t part = 0;
    for (int64_t b = lo; b < hi; ++b) {
      part += checksum_word(b, a, num_states);
    }
    sum.fetch_add(part, std::memory_order_relaxed);
  });
  return sum.load();
}
