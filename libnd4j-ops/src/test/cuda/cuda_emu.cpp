// The CPU emulation of cuda_emu.h.
#include "cuda_emu.h"
#include <ucontext.h>
#include <cstdlib>
#include <cstring>
#include <vector>

emu_dim3 threadIdx, blockIdx, gridDim, blockDim;

namespace {
constexpr size_t kStack = 256 * 1024;
ucontext_t g_sched;
std::vector<ucontext_t> g_ctx;
std::vector<char> g_stacks;
std::vector<bool> g_done;
const std::function<void()>* g_body = nullptr;
unsigned g_cur = 0;
float g_shfl_f[1024];
uint32_t g_shfl_u[1024];

void trampoline() {
  (*g_body)();
  g_done[g_cur] = true;
  swapcontext(&g_ctx[g_cur], &g_sched);
}
}  // namespace

namespace emu {
void launch(int grid, int threads, const std::function<void()>& body) {
  if (threads < 1 || threads > 1024 || grid < 1) std::abort();
  g_ctx.resize(threads);
  g_stacks.resize((size_t)threads * kStack);
  g_body = &body;
  gridDim.x = (unsigned)grid;
  blockDim.x = (unsigned)threads;
  for (int b = 0; b < grid; ++b) {
    blockIdx.x = (unsigned)b;
    g_done.assign(threads, false);
    for (int t = 0; t < threads; ++t) {
      getcontext(&g_ctx[t]);
      g_ctx[t].uc_stack.ss_sp = &g_stacks[(size_t)t * kStack];
      g_ctx[t].uc_stack.ss_size = kStack;
      g_ctx[t].uc_link = nullptr;
      makecontext(&g_ctx[t], trampoline, 0);
    }
    // Each pass runs every live fiber up to its next barrier (or its end).
    for (bool live = true; live;) {
      live = false;
      for (int t = 0; t < threads; ++t) {
        if (g_done[t]) continue;
        g_cur = (unsigned)t;
        threadIdx.x = (unsigned)t;
        swapcontext(&g_sched, &g_ctx[t]);
        live = live || !g_done[t];
      }
    }
  }
}
}  // namespace emu

void __syncthreads() { swapcontext(&g_ctx[g_cur], &g_sched); }

float __shfl_xor_sync(unsigned, float v, int lane_mask) {
  const unsigned me = threadIdx.x;
  g_shfl_f[me] = v;
  __syncthreads();
  const float r = g_shfl_f[(me & ~31u) | ((me & 31u) ^ (unsigned)lane_mask)];
  __syncthreads();
  return r;
}
uint32_t __shfl_xor_sync(unsigned, uint32_t v, int lane_mask) {
  const unsigned me = threadIdx.x;
  g_shfl_u[me] = v;
  __syncthreads();
  const uint32_t r = g_shfl_u[(me & ~31u) | ((me & 31u) ^ (unsigned)lane_mask)];
  __syncthreads();
  return r;
}
unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
  const unsigned long long old = *p;
  if (v < old) *p = v;
  return old;
}
uint32_t atomicAdd(uint32_t* p, uint32_t v) {
  const uint32_t old = *p;
  *p = old + v;
  return old;
}

const char* cudaGetErrorName(cudaError_t e) { return e == cudaSuccess ? "cudaSuccess" : "cudaErrorEmulated"; }
const char* cudaGetErrorString(cudaError_t e) { return e == cudaSuccess ? "no error" : "emulated error"; }
cudaError_t cudaGetLastError() { return cudaSuccess; }
cudaError_t cudaGetDevice(int* d) { *d = 0; return cudaSuccess; }
cudaError_t cudaGetDeviceCount(int* n) { *n = 1; return cudaSuccess; }
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  std::memset(p, 0, sizeof *p);
  std::strcpy(p->name, "CPU emulation");
  p->major = 0;
  p->minor = 0;
  p->multiProcessorCount = 2;
  p->totalGlobalMem = (size_t)1 << 30;
  return cudaSuccess;
}
// Two SMs holding one block each: grids of two blocks, so that every grid-stride loop loops.
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr, int) { *v = 2; return cudaSuccess; }
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* n, const void*, int, size_t) { *n = 1; return cudaSuccess; }
cudaError_t cudaMalloc(void** p, size_t bytes) {
  *p = std::malloc(bytes == 0 ? 1 : bytes);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
cudaError_t cudaFree(void* p) { std::free(p); return cudaSuccess; }
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) { std::memmove(dst, src, bytes); return cudaSuccess; }
cudaError_t cudaMemset(void* p, int v, size_t bytes) { std::memset(p, v, bytes); return cudaSuccess; }
cudaError_t cudaMemsetAsync(void* p, int v, size_t bytes, cudaStream_t) { std::memset(p, v, bytes); return cudaSuccess; }
cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
