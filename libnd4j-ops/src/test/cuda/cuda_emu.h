// A CPU emulation of the small part of CUDA that libbnb4j_cuda.so uses, so that its kernels and entry
// points (the same .cu files, compiled as C++ with BNB_CUDA_EMULATION) run on a machine without a GPU:
// gpu_check_emu runs gpu_check's comparisons against them. A CUDA block is 256 fibers (ucontext) run
// one at a time; __syncthreads switches to the next fiber, so every fiber reaches each barrier before any
// passes it; __shfl_xor_sync exchanges through a block-wide array between two barriers. Blocks run one
// after another, so `static` stands for __shared__. Device memory is host memory.
// What this checks: the kernels' indexing, reductions, barriers, grid-stride loops and argument
// handling, and their per-element math compiled by the host compiler. What it cannot: nvcc's code
// generation (FMA contraction, division, square root, denormals: set by flags, see cuda.cmake), warp
// scheduling, memory bandwidth. Those need scripts/gpu-check.sh on a GPU.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>

#define __global__
#define __device__
#define __host__
#define __shared__ static
#define __launch_bounds__(...)

struct emu_dim3 { unsigned x = 0, y = 0, z = 0; };
extern emu_dim3 threadIdx, blockIdx, gridDim, blockDim;

enum cudaError_t { cudaSuccess = 0, cudaErrorInvalidValue = 1, cudaErrorMemoryAllocation = 2, cudaErrorNoDevice = 100 };
enum cudaMemcpyKind { cudaMemcpyHostToHost, cudaMemcpyHostToDevice, cudaMemcpyDeviceToHost, cudaMemcpyDeviceToDevice };
enum cudaDeviceAttr { cudaDevAttrMultiProcessorCount = 16 };
typedef struct emu_stream* cudaStream_t;
typedef struct emu_event* cudaEvent_t;
struct cudaDeviceProp {
  char name[256];
  int major, minor, multiProcessorCount;
  size_t totalGlobalMem;
};

const char* cudaGetErrorName(cudaError_t e);
const char* cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError();
cudaError_t cudaGetDevice(int* d);
cudaError_t cudaGetDeviceCount(int* n);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d);
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d);
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, const void* kernel, int threads, size_t smem);
cudaError_t cudaMalloc(void** p, size_t bytes);
template <class T> cudaError_t cudaMalloc(T** p, size_t bytes) { return cudaMalloc(reinterpret_cast<void**>(p), bytes); }
cudaError_t cudaFree(void* p);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind k);
cudaError_t cudaMemset(void* p, int v, size_t bytes);
cudaError_t cudaMemsetAsync(void* p, int v, size_t bytes, cudaStream_t s = nullptr);
cudaError_t cudaDeviceSynchronize();

void __syncthreads();
float __shfl_xor_sync(unsigned mask, float v, int lane_mask);
uint32_t __shfl_xor_sync(unsigned mask, uint32_t v, int lane_mask);
unsigned long long atomicMin(unsigned long long* p, unsigned long long v);
uint32_t atomicAdd(uint32_t* p, uint32_t v);

namespace emu {
// Runs body as `grid` blocks of `threads` fibers (threads <= 1024).
void launch(int grid, int threads, const std::function<void()>& body);
}
