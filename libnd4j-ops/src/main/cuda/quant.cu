// Block-wise quantize and dequantize on the GPU: the same per-element functions as the CPU scalar
// kernels (element.h: absmax_fold, norm_mode, search_reference, search_stochastic, decode_value) and
// the same element conversions (dtype.h), so the codes and values are those of the CPU library.
#include "cuda_common.cuh"

namespace bnb {
namespace cuda {
namespace {

template <int D>
__global__ void __launch_bounds__(kThreads) quantize_kernel(const float* __restrict__ map, const typename Elem<D>::T* __restrict__ src,
                                                            int64_t n, uint8_t* __restrict__ codes, float* __restrict__ absmax,
                                                            int blocksize, BlockShape shape, int stochastic, uint64_t seed,
                                                            uint64_t* first_inf) {
  __shared__ float smap[256];
  __shared__ float scratch[kThreads / 32];
  for (int i = threadIdx.x; i < 256; i += kThreads) smap[i] = map[i];
  __syncthreads();
  const int64_t nb = (n + blocksize - 1) / blocksize;
  const int64_t ngroups = (nb + shape.groups - 1) / shape.groups;
  const int t = threadIdx.x % shape.t;
  for (int64_t g = blockIdx.x; g < ngroups; g += gridDim.x) {  // uniform over the CUDA block
    const int64_t b = g * shape.groups + threadIdx.x / shape.t;
    const int64_t start = b * blocksize;
    float x[kMaxPer];
    float m = 0.0f;
#pragma unroll
    for (int j = 0; j < kMaxPer; ++j) {
      const int64_t i = start + j * shape.t + t;
      x[j] = 0.0f;
      if (j < shape.per && b < nb && i < n) {
        x[j] = Elem<D>::load(src, i);
        m = absmax_fold(m, x[j]);
      }
    }
    m = block_max(m, shape.t, scratch);
    if (b >= nb) continue;
    if (t == 0) absmax[b] = m;
    if (std::isinf(m)) {  // the CPU leaves such a block's codes as they were
      if (t == 0 && first_inf != nullptr) atomicMin(reinterpret_cast<unsigned long long*>(first_inf), (unsigned long long)b);
      continue;
    }
    float inv;
    const Norm mode = norm_mode(m, &inv);
#pragma unroll
    for (int j = 0; j < kMaxPer; ++j) {
      const int64_t i = start + j * shape.t + t;
      if (j < shape.per && i < n) {
        const float y = normalise(x[j], mode, inv);
        codes[i] = (uint8_t)(stochastic ? search_stochastic(smap, y, uniform01(seed, (uint64_t)i)) : search_reference(smap, y));
      }
    }
  }
}

template <int D>
__global__ void __launch_bounds__(kThreads) dequantize_kernel(const float* __restrict__ map, const uint8_t* __restrict__ codes,
                                                              const float* __restrict__ absmax, int64_t n, int blocksize,
                                                              typename Elem<D>::T* __restrict__ dst) {
  __shared__ float smap[256];
  for (int i = threadIdx.x; i < 256; i += kThreads) smap[i] = map[i];
  __syncthreads();
  const int64_t stride = (int64_t)gridDim.x * kThreads;
  for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += stride)
    Elem<D>::store(dst, i, decode_value(smap, codes[i], absmax[i / blocksize]));
}

}  // namespace
}  // namespace cuda
}  // namespace bnb

using namespace bnb;
using namespace bnb::cuda;

BNB_CUDA_API int64_t bnb_cuda_quantize_blockwise(const float* map, const void* src, int32_t dtype, int64_t n, uint8_t* codes,
                                                 float* absmax, int32_t blocksize, int32_t stochastic, uint64_t seed,
                                                 uint64_t* first_inf, void* stream) {
  if (map == nullptr || n < 0 || !valid_dtype(dtype) || !valid_blocksize(blocksize)) return BNB_ERR_ARG;
  const cudaStream_t s = as_stream(stream);
  if (first_inf != nullptr) {
    const cudaError_t err = cudaMemsetAsync(first_inf, 0xff, sizeof(uint64_t), s);
    if (err != cudaSuccess) return fail(err);
  }
  if (n == 0) return BNB_OK;
  if (src == nullptr || codes == nullptr || absmax == nullptr) return BNB_ERR_ARG;
  const BlockShape shape = block_shape(blocksize);
  const int64_t groups = ((n + blocksize - 1) / blocksize + shape.groups - 1) / shape.groups;
  with_dtype(dtype, [&](auto d) {
    constexpr int D = decltype(d)::value;
    auto* k = quantize_kernel<D>;
    launch(k, grid_for((const void*)k, groups, 0), s, map, static_cast<const typename Elem<D>::T*>(src), n, codes, absmax, blocksize,
           shape, stochastic, seed, first_inf);
  });
  return launched();
}

BNB_CUDA_API int64_t bnb_cuda_dequantize_blockwise(const float* map, const uint8_t* codes, const float* absmax, int64_t n,
                                                   int32_t blocksize, void* dst, int32_t dtype, void* stream) {
  if (map == nullptr || n < 0 || !valid_dtype(dtype) || !valid_blocksize(blocksize)) return BNB_ERR_ARG;
  if (n == 0) return BNB_OK;
  if (dst == nullptr || codes == nullptr || absmax == nullptr) return BNB_ERR_ARG;
  with_dtype(dtype, [&](auto d) {
    constexpr int D = decltype(d)::value;
    auto* k = dequantize_kernel<D>;
    launch(k, grid_for((const void*)k, (n + kThreads - 1) / kThreads, 0), as_stream(stream), map, codes, absmax, n, blocksize,
           static_cast<typename Elem<D>::T*>(dst));
  });
  return launched();
}
