// Pieces every CUDA kernel file uses: errors, the launch shape of a block-wise kernel, the block-scale
// reduction, element loads/stores of the INDArray types.
#pragma once
#ifdef BNB_CUDA_EMULATION
#include "cuda_emu.h"  // src/test/cuda: these files compiled as C++ for gpu_check_emu
#else
#include <cuda_runtime.h>
#endif
#include <cstdint>
#include <type_traits>
#include <utility>
#include "bnb4j_cuda.h"
#include "dtype.h"
#include "element.h"

namespace bnb {
namespace cuda {

// Remembers err for bnb_cuda_last_error and gives the status to return.
int64_t fail(cudaError_t err);

// Whether a device map (bnb_cuda_map_create) may serve a state stored with the sign fix: the host-side
// fact the CPU entry checks on its codebook (optim.cpp), recorded when the map is created because its
// values live on the device. False for a pointer bnb_cuda_map_create did not return (or already freed).
bool map_takes_sign_fix(const float* map);
// BNB_OK, or BNB_CUDA_ERR after a launch CUDA refused.
inline int64_t launched() {
  const cudaError_t err = cudaGetLastError();
  return err == cudaSuccess ? BNB_OK : fail(err);
}

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }
inline bool valid_blocksize(int64_t b) { return b >= 64 && b <= 4096 && (b & (b - 1)) == 0; }
inline bool valid_dtype(int32_t d) { return d >= BNB_FLOAT && d <= BNB_BFLOAT16; }

// The block-wise kernels: kThreads threads per CUDA block; T threads per quantization block, each
// holding per = blocksize / T <= kMaxPer elements in registers (element j * T + t of the block: a warp
// reads consecutive addresses). T = 32 up to blocksize 512 (a warp per block: the scale is a warp
// reduction), blocksize / 16 above. The grid is what the GPU holds at once, each CUDA block looping over
// groups of quantization blocks, so that the maps are copied to shared memory once per CUDA block.
constexpr int kThreads = 256;
constexpr int kMaxPer = 16;
struct BlockShape {
  int t;       // threads per quantization block
  int per;     // elements per thread
  int groups;  // quantization blocks per CUDA block
};
inline BlockShape block_shape(int blocksize) {
  const int t = blocksize <= 512 ? 32 : blocksize / kMaxPer;
  return BlockShape{t, blocksize / t, kThreads / t};
}
// Queues kernel k on grid x kThreads threads (the emulation runs it at once, see cuda_emu.h).
template <class... P, class... A>
inline void launch(void (*k)(P...), int grid, cudaStream_t s, A&&... args) {
#ifdef BNB_CUDA_EMULATION
  (void)s;
  emu::launch(grid, kThreads, [&] { k(args...); });
#else
  k<<<grid, kThreads, 0, s>>>(std::forward<A>(args)...);
#endif
}

// CUDA blocks for `work` groups: at most what the device keeps resident at once (kernel's occupancy).
int grid_for(const void* kernel, int64_t work, size_t smem);

// The largest of m over the t threads of this thread's quantization block (t = 32 or a multiple of 32
// dividing kThreads; partial maxima are never NaN, see absmax_fold). All threads of the CUDA block call it.
__device__ inline float block_max(float m, int t, float* scratch /* kThreads / 32 floats */) {
  for (int o = 16; o > 0; o >>= 1) {
    const float x = __shfl_xor_sync(0xffffffffu, m, o);
    m = x > m ? x : m;
  }
  if (t == 32) return m;
  const int warp = threadIdx.x >> 5, wpb = t >> 5, first = warp - warp % wpb;
  __syncthreads();  // scratch of the previous call is read
  if ((threadIdx.x & 31) == 0) scratch[warp] = m;
  __syncthreads();
  m = scratch[first];
  for (int w = 1; w < wpb; ++w) m = scratch[first + w] > m ? scratch[first + w] : m;
  return m;
}

// Element i of an INDArray buffer of the given type as a float, and back (dtype.h's conversions).
template <int D> struct Elem;
template <> struct Elem<BNB_FLOAT> {
  using T = float;
  __device__ static float load(const T* p, int64_t i) { return p[i]; }
  __device__ static void store(T* p, int64_t i, float v) { p[i] = v; }
};
template <> struct Elem<BNB_DOUBLE> {
  using T = double;
  __device__ static float load(const T* p, int64_t i) { return (float)p[i]; }
  __device__ static void store(T* p, int64_t i, float v) { p[i] = (double)v; }
};
template <> struct Elem<BNB_HALF> {
  using T = uint16_t;
  __device__ static float load(const T* p, int64_t i) { return half_to_float(p[i]); }
  __device__ static void store(T* p, int64_t i, float v) { p[i] = float_to_half(v); }
};
template <> struct Elem<BNB_BFLOAT16> {
  using T = uint16_t;
  __device__ static float load(const T* p, int64_t i) { return bf16_to_float(p[i]); }
  __device__ static void store(T* p, int64_t i, float v) { p[i] = float_to_bf16(v); }
};

// f(std::integral_constant<int, D>{}) for the runtime dtype d (valid_dtype).
template <class Fn>
inline void with_dtype(int32_t d, Fn&& f) {
  switch (d) {
    case BNB_FLOAT: f(std::integral_constant<int, BNB_FLOAT>{}); break;
    case BNB_DOUBLE: f(std::integral_constant<int, BNB_DOUBLE>{}); break;
    case BNB_HALF: f(std::integral_constant<int, BNB_HALF>{}); break;
    default: f(std::integral_constant<int, BNB_BFLOAT16>{}); break;
  }
}

}  // namespace cuda
}  // namespace bnb
