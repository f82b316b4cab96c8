// Library-level entry points of libbnb4j_cuda.so: version, devices, errors, device maps; the launch
// helpers of cuda_common.cuh.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <unordered_map>
#include "cuda_common.cuh"

namespace bnb {
namespace cuda {
namespace {
thread_local char g_last_error[256] = "";

// Every live device map and whether the sign fix can stay inside it (map_takes_sign_fix). Never
// destroyed: bnb_cuda_map_free may still be called while the process exits (a Java cleaner), after
// static destructors have run.
struct MapRegistry {
  std::mutex mu;
  std::unordered_map<const float*, bool> sign_fix;
};
MapRegistry& map_registry() {
  static MapRegistry* r = new MapRegistry();
  return *r;
}
}  // namespace

bool map_takes_sign_fix(const float* map) {
  MapRegistry& r = map_registry();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.sign_fix.find(map);
  return it != r.sign_fix.end() && it->second;
}

int64_t fail(cudaError_t err) {
  std::snprintf(g_last_error, sizeof g_last_error, "%s: %s", cudaGetErrorName(err), cudaGetErrorString(err));
  return BNB_CUDA_ERR;
}

int grid_for(const void* kernel, int64_t work, size_t smem) {
  // The occupancy query costs microseconds, as much as a small step: asked once per kernel and device.
  static std::mutex mu;
  static std::map<std::tuple<const void*, int, size_t>, int64_t> cache;
  int dev = 0;
  if (cudaGetDevice(&dev) != cudaSuccess) dev = -1;
  int64_t resident;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = cache.find(std::make_tuple(kernel, dev, smem));
    if (it != cache.end()) {
      resident = it->second;
    } else {
      int sms = 1, per_sm = 1;
      // Failures leave the defaults: a smaller grid still covers all work (the blocks loop).
      if (dev >= 0) cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev);
      if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, smem) != cudaSuccess || per_sm < 1) per_sm = 1;
      cudaGetLastError();  // a failed query is not the caller's error
      resident = (int64_t)sms * per_sm;
      cache.emplace(std::make_tuple(kernel, dev, smem), resident);
    }
  }
  return (int)(work < resident ? (work < 1 ? 1 : work) : resident);
}

}  // namespace cuda
}  // namespace bnb

using namespace bnb;

BNB_CUDA_API int32_t bnb_cuda_abi_version() { return BNB_CUDA_ABI_VERSION; }

BNB_CUDA_API int32_t bnb_cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();
    return 0;
  }
  return n;
}

BNB_CUDA_API const char* bnb_cuda_last_error() { return cuda::g_last_error; }

BNB_CUDA_API const float* bnb_cuda_map_create(const float* v, int64_t* status) {
  auto set = [&](int64_t s) { if (status) *status = s; };
  if (v == nullptr) { set(BNB_ERR_ARG); return nullptr; }
  // The CPU codebook's checks: finite and sorted (the search assumes both).
  for (int i = 0; i < 256; ++i)
    if (!std::isfinite(v[i]) || (i > 0 && v[i] < v[i - 1])) { set(BNB_ERR_CODEBOOK); return nullptr; }
  float* d = nullptr;
  cudaError_t err = cudaMalloc(&d, 256 * sizeof(float));
  if (err == cudaSuccess) err = cudaMemcpy(d, v, 256 * sizeof(float), cudaMemcpyHostToDevice);
  if (err != cudaSuccess) {
    if (d != nullptr) cudaFree(d);
    set(cuda::fail(err));
    return nullptr;
  }
  const bool sign_fix = sign_fix_stays_inside(v);
  {
    cuda::MapRegistry& r = cuda::map_registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.sign_fix[d] = sign_fix;
  }
  set(BNB_OK);
  return d;
}

BNB_CUDA_API void bnb_cuda_map_free(const float* map) {
  if (map == nullptr) return;
  {
    cuda::MapRegistry& r = cuda::map_registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.sign_fix.erase(map);
  }
  cudaFree(const_cast<float*>(map));
}
