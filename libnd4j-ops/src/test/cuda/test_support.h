// What gpu_check and gpu_bench share: the maps and hyper-parameters of test_maps.h, CUDA error checks,
// device buffers.
#pragma once
#ifdef BNB_CUDA_EMULATION
#include "cuda_emu.h"
#else
#include <cuda_runtime.h>
#endif
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>
#include "bnb4j.h"
#include "../cpp/test_maps.h"

namespace bnbtest {

#define CUDA_OK(call)                                                                          \
  do {                                                                                         \
    const cudaError_t e_ = (call);                                                             \
    if (e_ != cudaSuccess) {                                                                   \
      std::printf("FAIL cuda: %s at %s:%d: %s\n", #call, __FILE__, __LINE__, cudaGetErrorString(e_)); \
      std::exit(2);                                                                            \
    }                                                                                          \
  } while (0)

// A device buffer of T, freed at scope end.
template <class T>
struct DevBuf {
  T* p = nullptr;
  size_t n = 0;
  explicit DevBuf(size_t count) : n(count) { CUDA_OK(cudaMalloc(&p, std::max<size_t>(count, 1) * sizeof(T))); }
  ~DevBuf() { cudaFree(p); }
  DevBuf(const DevBuf&) = delete;
  DevBuf& operator=(const DevBuf&) = delete;
  void put(const T* h, size_t count) { CUDA_OK(cudaMemcpy(p, h, count * sizeof(T), cudaMemcpyHostToDevice)); }
  void get(T* h, size_t count) const { CUDA_OK(cudaMemcpy(h, p, count * sizeof(T), cudaMemcpyDeviceToHost)); }
};

}  // namespace bnbtest
