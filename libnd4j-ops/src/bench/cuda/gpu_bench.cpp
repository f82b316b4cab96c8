// GPU benchmark: achieved bandwidth of quantize, dequantize and the Adam8bit / Lion8bit steps (plus the
// 32-bit Adam step) as a fraction of a device-to-device cudaMemcpy measured in the same run, for
// 10M .. 1B elements as device memory allows. One "BENCH" line per measurement:
//   BENCH <what> n=<elements> ms=<per call> GBps=<bytes moved / time> copy_frac=<GBps / copy GBps>
// Bytes moved count each array once per read and once per write (what the kernel must move at least).
#include <cinttypes>
#include <cstring>
#include <functional>
#include "bnb4j_cuda.h"
#include "test_support.h"

using namespace bnbtest;

namespace {

// Median-free simple timing: warm-up calls, then the mean over `iters` calls between two events.
double time_ms(const std::function<void()>& f, int iters) {
  for (int i = 0; i < 2; ++i) f();
  CUDA_OK(cudaDeviceSynchronize());
  cudaEvent_t a, b;
  CUDA_OK(cudaEventCreate(&a));
  CUDA_OK(cudaEventCreate(&b));
  CUDA_OK(cudaEventRecord(a));
  for (int i = 0; i < iters; ++i) f();
  CUDA_OK(cudaEventRecord(b));
  CUDA_OK(cudaEventSynchronize(b));
  float ms = 0;
  CUDA_OK(cudaEventElapsedTime(&ms, a, b));
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return ms / iters;
}

void check(int64_t status, const char* what) {
  if (status != BNB_OK) {
    std::printf("FAIL %s: status %" PRId64 " %s\n", what, status, bnb_cuda_last_error());
    std::exit(2);
  }
}

void report(const char* what, int64_t n, double ms, double bytes, double copy_gbps) {
  const double gbps = bytes / (ms * 1e6);
  std::printf("BENCH %-10s n=%" PRId64 " ms=%.4f GBps=%.1f copy_frac=%.3f\n", what, n, ms, gbps, copy_gbps > 0 ? gbps / copy_gbps : 0.0);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (bnb_cuda_device_count() == 0) {
    std::printf("gpu_bench: no CUDA device: nothing run\n");
    return 77;
  }
  const int blocksize = argc > 1 ? std::atoi(argv[1]) : 256;
  cudaDeviceProp prop{};
  CUDA_OK(cudaGetDeviceProperties(&prop, 0));
  std::printf("gpu_bench: %s, blocksize %d\n", prop.name, blocksize);
  const std::vector<float> sv = dynamic_map(true), uv = dynamic_map(false);
  int64_t st = 0;
  const float* smap = bnb_cuda_map_create(sv.data(), &st);
  const float* umap = bnb_cuda_map_create(uv.data(), &st);
  if (smap == nullptr || umap == nullptr) { std::printf("FAIL map: %s\n", bnb_cuda_last_error()); return 2; }

  for (int64_t n : {10000000LL, 100000000LL, 300000000LL, 1000000000LL}) {
    size_t free_b = 0, total_b = 0;
    CUDA_OK(cudaMemGetInfo(&free_b, &total_b));
    const int64_t nb = (n + blocksize - 1) / blocksize;
    // grad, copy target, 2 states of codes, the 32-bit states (2 x 4n): 20n bytes, plus scales
    const double need = 20.0 * n + 16.0 * nb + (1 << 20);
    if (need > 0.9 * free_b) { std::printf("gpu_bench: n=%" PRId64 " skipped (needs %.1f GB, %.1f GB free)\n", n, need / 1e9, free_b / 1e9); continue; }
    DevBuf<float> grad(n), other(n), m32(n), v32(n), am(nb), av(nb);
    DevBuf<uint8_t> codes(2 * n);
    CUDA_OK(cudaMemset(grad.p, 0, 4 * n));
    CUDA_OK(cudaMemset(other.p, 0, 4 * n));
    CUDA_OK(cudaMemset(m32.p, 0, 4 * n));
    CUDA_OK(cudaMemset(v32.p, 0, 4 * n));
    CUDA_OK(cudaMemset(am.p, 0, 4 * nb));
    CUDA_OK(cudaMemset(av.p, 0, 4 * nb));
    CUDA_OK(cudaMemset(codes.p, 0, 2 * n));
    // Gradients of realistic spread: quantize something non-trivial first (a ramp through the map).
    std::vector<float> host(1 << 20);
    for (size_t i = 0; i < host.size(); ++i) host[i] = std::sin((float)i * 0.37f) * 1e-2f;
    for (int64_t off = 0; off < n; off += (int64_t)host.size())
      CUDA_OK(cudaMemcpy(grad.p + off, host.data(), 4 * std::min<int64_t>(host.size(), n - off), cudaMemcpyHostToDevice));
    const int iters = n >= 1000000000LL ? 5 : 20;

    const double copy_ms = time_ms([&] { CUDA_OK(cudaMemcpyAsync(other.p, grad.p, 4 * n, cudaMemcpyDeviceToDevice)); }, iters);
    const double copy_gbps = 8.0 * n / (copy_ms * 1e6);
    report("copy", n, copy_ms, 8.0 * n, copy_gbps);

    const double q = time_ms([&] { check(bnb_cuda_quantize_blockwise(smap, grad.p, BNB_FLOAT, n, codes.p, am.p, blocksize, 0, 0, nullptr, nullptr), "quantize"); }, iters);
    report("quantize", n, q, 5.0 * n + 4.0 * nb, copy_gbps);
    const double d = time_ms([&] { check(bnb_cuda_dequantize_blockwise(smap, codes.p, am.p, n, blocksize, other.p, BNB_FLOAT, nullptr), "dequantize"); }, iters);
    report("dequantize", n, d, 5.0 * n + 4.0 * nb, copy_gbps);

    // The steps overwrite grad with the update; the next call takes that as its gradient, which keeps
    // the values in a realistic range (no reset of the buffer between calls).
    bnb_optim_hyper h = hyper(0, 10, std::numeric_limits<float>::infinity());
    bnb_cuda_state8 adam[2] = {{codes.p, am.p, smap}, {codes.p + n, av.p, umap}};
    const double a8 = time_ms([&] { check(bnb_cuda_optim8bit_blockwise(&h, grad.p, n, blocksize, adam, 2, -1, nullptr), "adam8bit"); }, iters);
    report("adam8bit", n, a8, 12.0 * n + 16.0 * nb, copy_gbps);
    h = hyper(4, 10, std::numeric_limits<float>::infinity());
    bnb_cuda_state8 lion[1] = {{codes.p, am.p, smap}};
    const double l8 = time_ms([&] { check(bnb_cuda_optim8bit_blockwise(&h, grad.p, n, blocksize, lion, 1, -1, nullptr), "lion8bit"); }, iters);
    report("lion8bit", n, l8, 10.0 * n + 8.0 * nb, copy_gbps);
    h = hyper(0, 10, std::numeric_limits<float>::infinity());
    float* s32[2] = {m32.p, v32.p};
    const double a32 = time_ms([&] { check(bnb_cuda_optim32(&h, grad.p, n, s32, 2, nullptr), "adam32"); }, iters);
    report("adam32", n, a32, 24.0 * n, copy_gbps);
  }
  bnb_cuda_map_free(smap);
  bnb_cuda_map_free(umap);
  return 0;
}
