// The fused optimizer steps on the GPU. Each element goes through what the CPU scalar step runs:
// state_value, step_element<O> (the optimizer's one update rule, optimizers.h), absmax_fold,
// stored_scale and state_byte (element.h, state_bytes.h); only the loops differ. A block's states stay
// in registers between the update and the requantization (blocksize <= 4096: at most 16 per thread).
#include "cuda_common.cuh"
#include "optimizers.h"

namespace bnb {
namespace cuda {
namespace {

struct Step8 {
  bnb_optim_hyper h;
  float* grad;
  uint8_t* codes[kMaxStates];
  float* absmax[kMaxStates];
  const float* map[kMaxStates];
  int32_t phase[kMaxStates];  // word position of each state's first code (| kHalfWords), or -1
  int64_t n;
  int32_t blocksize;
  BlockShape shape;
};

template <class O>
__global__ void __launch_bounds__(kThreads) optim8_kernel(const Step8 p) {
  constexpr int K = num_states<O>;
  __shared__ float smap[K][256];
  __shared__ float scratch[kThreads / 32];
  for (int i = threadIdx.x; i < K * 256; i += kThreads) smap[i / 256][i % 256] = p.map[i / 256][i % 256];
  __syncthreads();
  const int64_t n = p.n;
  const int64_t nb = (n + p.blocksize - 1) / p.blocksize;
  const int64_t ngroups = (nb + p.shape.groups - 1) / p.shape.groups;
  const int t = threadIdx.x % p.shape.t;
  for (int64_t g = blockIdx.x; g < ngroups; g += gridDim.x) {  // uniform over the CUDA block
    const int64_t b = g * p.shape.groups + threadIdx.x / p.shape.t;
    const int64_t start = b * p.blocksize;
    float s[K][kMaxPer];
    float m[K];
    float a[K];
    for_states<K>([&](auto k) {
      m[k] = 0.0f;
      a[k] = b < nb ? p.absmax[k][b] : 0.0f;
    });
#pragma unroll
    for (int j = 0; j < kMaxPer; ++j) {
      const int64_t i = start + j * p.shape.t + t;
      if (j < p.shape.per && b < nb && i < n) {
        float st[K];
        for_states<K>([&](auto k) { st[k] = state_value(smap[k], p.codes[k][i], slot_of(p.phase[k], i), a[k]); });
        p.grad[i] = step_element<O>(p.h, p.grad[i], st);
        for_states<K>([&](auto k) {
          s[k][j] = st[k];
          m[k] = absmax_fold(m[k], st[k]);  // NaN ignored
        });
      }
    }
    for_states<K>([&](auto k) {
      constexpr bool sign_fix = O::states[decltype(k)::value].sign_fix;
      const float scale = stored_scale(p.phase[k], block_max(m[k], p.shape.t, scratch));
      if (b < nb) {
        if (t == 0) p.absmax[k][b] = scale;
#pragma unroll
        for (int j = 0; j < kMaxPer; ++j) {
          const int64_t i = start + j * p.shape.t + t;
          if (j < p.shape.per && i < n) p.codes[k][i] = state_byte(smap[k], s[k][j], scale, sign_fix, slot_of(p.phase[k], i));
        }
      }
    });
  }
}

struct Step32 {
  bnb_optim_hyper h;
  float* grad;
  float* state[kMaxStates];
  int64_t n;
};

template <class O>
__global__ void __launch_bounds__(kThreads) optim32_kernel(const Step32 p) {
  constexpr int K = num_states<O>;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < p.n; i += stride) {
    float s[K];
    for_states<K>([&](auto k) { s[k] = p.state[k][i]; });
    p.grad[i] = step_element<O>(p.h, p.grad[i], s);
    for_states<K>([&](auto k) { p.state[k][i] = s[k]; });
  }
}

struct Checksum {
  const float* absmax[kMaxStates];
  int32_t num_states;
  int64_t nb;
  uint32_t* out;
};

// A sum mod 2^32 of checksum_word: the same in any order, so atomics give the CPU's value.
__global__ void __launch_bounds__(kThreads) checksum_kernel(const Checksum p) {
  uint32_t part = 0;
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t b = (int64_t)blockIdx.x * kThreads + threadIdx.x; b < p.nb; b += stride) part += checksum_word(b, p.absmax, p.num_states);
  for (int o = 16; o > 0; o >>= 1) part += __shfl_xor_sync(0xffffffffu, part, o);
  if ((threadIdx.x & 31) == 0) atomicAdd(p.out, part);
}

bool valid_hyper(const bnb_optim_hyper* hp) { return hp != nullptr && hp->size == sizeof(bnb_optim_hyper); }

}  // namespace
}  // namespace cuda
}  // namespace bnb

using namespace bnb;
using namespace bnb::cuda;

BNB_CUDA_API int64_t bnb_cuda_optim8bit_blockwise(const bnb_optim_hyper* hp, float* grad, int64_t n, int32_t blocksize,
                                                  const bnb_cuda_state8* states, int32_t num_states, int32_t byte_phase,
                                                  void* stream) {
  if (!valid_hyper(hp) || n < 0 || !valid_blocksize(blocksize) || states == nullptr || byte_phase < -1 ||
      (byte_phase >= 0 && (byte_phase & ~(kHalfWords | 3)) != 0))
    return BNB_ERR_ARG;
  Step8 p{};
  p.h = *hp;
  p.grad = grad;
  p.n = n;
  p.blocksize = blocksize;
  p.shape = block_shape(blocksize);
  int64_t status = BNB_ERR_ARG;
  with_optimizer(p.h.kind, [&](auto o) {
    using O = decltype(o);
    if (num_states != bnb::num_states<O>) return;
    for (int k = 0; k < num_states; ++k) {
      if (states[k].codes == nullptr || states[k].absmax == nullptr || states[k].map == nullptr) return;
      p.codes[k] = states[k].codes;
      p.absmax[k] = states[k].absmax;
      p.map[k] = states[k].map;
      if (O::states[k].sign_fix && !map_takes_sign_fix(states[k].map)) return;  // as the CPU entry refuses it
      // State k's codes follow those of state k - 1 in one byte stream (bnb4j.h).
      p.phase[k] = byte_phase < 0 ? -1 : (byte_phase & kHalfWords) | (int32_t)((byte_phase + (int64_t)k * n) & 3);
    }
    if (n == 0) { status = BNB_OK; return; }
    if (grad == nullptr) return;
    const int64_t groups = ((n + blocksize - 1) / blocksize + p.shape.groups - 1) / p.shape.groups;
    auto* k = optim8_kernel<O>;
    launch(k, grid_for((const void*)k, groups, 0), as_stream(stream), p);
    status = launched();
  });
  return status;
}

BNB_CUDA_API int64_t bnb_cuda_optim32(const bnb_optim_hyper* hp, float* grad, int64_t n, float* const* states,
                                      int32_t num_states, void* stream) {
  if (!valid_hyper(hp) || n < 0 || states == nullptr) return BNB_ERR_ARG;
  Step32 p{};
  p.h = *hp;
  p.grad = grad;
  p.n = n;
  int64_t status = BNB_ERR_ARG;
  with_optimizer(p.h.kind, [&](auto o) {
    using O = decltype(o);
    if (num_states != bnb::num_states<O>) return;
    for (int k = 0; k < num_states; ++k) {
      if (states[k] == nullptr) return;
      p.state[k] = states[k];
    }
    if (n == 0) { status = BNB_OK; return; }
    if (grad == nullptr) return;
    auto* k = optim32_kernel<O>;
    launch(k, grid_for((const void*)k, (n + kThreads - 1) / kThreads, 0), as_stream(stream), p);
    status = launched();
  });
  return status;
}

BNB_CUDA_API int64_t bnb_cuda_absmax_checksum(const float* const* absmax, int32_t num_states, int64_t nb, uint32_t* out,
                                              void* stream) {
  if (absmax == nullptr || out == nullptr || num_states < 1 || num_states > kMaxStates || nb < 0) return BNB_ERR_ARG;
  Checksum p{};
  for (int k = 0; k < num_states; ++k) {
    if (absmax[k] == nullptr) return BNB_ERR_ARG;
    p.absmax[k] = absmax[k];
  }
  p.num_states = num_states;
  p.nb = nb;
  p.out = out;
  const cudaStream_t s = as_stream(stream);
  const cudaError_t err = cudaMemsetAsync(out, 0, sizeof(uint32_t), s);  // the CPU's value for nb = 0 too
  if (err != cudaSuccess) return fail(err);
  if (nb == 0) return BNB_OK;
  launch(checksum_kernel, grid_for((const void*)checksum_kernel, (nb + kThreads - 1) / kThreads, 0), s, p);
  return launched();
}
