// bnb4j CUDA library (libbnb4j_cuda.so): the block-wise quantization and the fused optimizer steps of
// bnb4j.h on NVIDIA GPUs. Same contracts and the same bits as the CPU entry points, with these
// differences:
// - every array pointer is a device pointer (already offset to the first element of a view); arrays
//   are contiguous (no shape/stride form: a strided INDArray is made contiguous by the caller);
// - work is queued on `stream` (a cudaStream_t passed as void*; null = the legacy default stream) and
//   the call returns once it is queued: results are there when the stream reaches them;
// - a quantization map is a device copy of its 256 values (bnb_cuda_map_create), searched with the
//   reference search that the CPU tables reproduce exactly;
// - results that the CPU returns (the first block holding Inf, the checksum) are written to a device
//   word instead, so that no call waits for the GPU.
// The return value of each call: BNB_OK (queued), BNB_ERR_ARG (the same argument checks as the CPU
// entry point, nothing queued) or BNB_CUDA_ERR (CUDA refused: bnb_cuda_last_error says why).
// Loading this library needs only the NVIDIA driver (the CUDA runtime is linked statically); it is
// never loaded by libbnb4j.so.
#pragma once
#include <cstdint>
#include "bnb4j.h"

#define BNB_CUDA_API extern "C" __attribute__((visibility("default")))

// Version of this ABI; the Java side refuses a library of another version.
#define BNB_CUDA_ABI_VERSION 1
#define BNB_CUDA_ERR (-3)

BNB_CUDA_API int32_t bnb_cuda_abi_version();

// Devices the runtime sees: 0 when there is no device or no driver (never an error).
BNB_CUDA_API int32_t bnb_cuda_device_count();

// The message of the last CUDA error a call of this thread returned BNB_CUDA_ERR for ("" if none).
BNB_CUDA_API const char* bnb_cuda_last_error();

// A device copy of a quantization map (256 finite, sorted floats from host memory: the checks of
// bnb_codebook_create), on the current device. Null with *status set on failure.
BNB_CUDA_API const float* bnb_cuda_map_create(const float* host_values256, int64_t* status);
BNB_CUDA_API void bnb_cuda_map_free(const float* map);

// Block-wise quantization of n contiguous elements of `dtype` (bnb_dtype). Writes n codes and
// ceil(n / blocksize) absmax values. A block holding +-Inf gets absmax Inf and keeps its codes (as on
// the CPU); when first_inf is not null (a device uint64), it receives the first such block index, or
// UINT64_MAX when there is none: the CPU status is then BNB_ERR_INF_BASE - block.
BNB_CUDA_API int64_t bnb_cuda_quantize_blockwise(const float* map, const void* src, int32_t dtype, int64_t n,
                                                 uint8_t* codes, float* absmax, int32_t blocksize, int32_t stochastic,
                                                 uint64_t seed, uint64_t* first_inf, void* stream);

// out[i] = map[codes[i]] * absmax[i / blocksize], converted to dtype.
BNB_CUDA_API int64_t bnb_cuda_dequantize_blockwise(const float* map, const uint8_t* codes, const float* absmax,
                                                   int64_t n, int32_t blocksize, void* dst, int32_t dtype,
                                                   void* stream);

// One 8-bit state of a step on the device: codes, one absmax per block, the device map (bnb_cuda_map_create).
struct bnb_cuda_state8 {
  uint8_t* codes;
  float* absmax;
  const float* map;
};

// bnb_optim8bit_blockwise on device memory: hp and the states array are host memory (read before the
// call returns), the arrays they point to device memory. byte_phase as on the CPU (NaN-safe packing
// of FLOAT or HALF words). The maps must come from bnb_cuda_map_create (and not be freed): a
// sign-fixed state's map is checked as on the CPU (BNB_ERR_ARG where the sign fix could leave it), from
// what bnb_cuda_map_create recorded of it.
BNB_CUDA_API int64_t bnb_cuda_optim8bit_blockwise(const bnb_optim_hyper* hp, float* grad, int64_t n, int32_t blocksize,
                                                  const bnb_cuda_state8* states, int32_t num_states, int32_t byte_phase,
                                                  void* stream);

// bnb_optim32 on device memory: states is a host array of num_states device pointers.
BNB_CUDA_API int64_t bnb_cuda_optim32(const bnb_optim_hyper* hp, float* grad, int64_t n, float* const* states,
                                      int32_t num_states, void* stream);

// bnb_absmax_checksum of device block scales (absmax: a host array of device pointers), written to the
// device word *out.
BNB_CUDA_API int64_t bnb_cuda_absmax_checksum(const float* const* absmax, int32_t num_states, int64_t nb, uint32_t* out,
                                              void* stream);
