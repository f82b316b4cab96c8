// Native harness for the threading decisions of libbnb4j (docs/PERFORMANCE.md): per-call time of
// each kernel with 1 and with N threads for n from 4K to 64M elements (where an OpenMP region starts
// to pay), the cost of an empty parallel region, how long idle OpenMP workers keep spinning after a
// region, and a copy roofline. Links libbnb4j.so; no JVM. Build and run: scripts/omp-bench.sh.
//
//   omp_bench sweep  [isa] [threads] [sizes...]   1 vs N threads per kernel and size
//   omp_bench region                               empty-region cost and post-region spin
//   omp_bench step   [isa] [n] [reps]              optimizer step times (for perf record / noisy runs)
//   omp_bench lookups                              costs of the AVX2 step's table lookups and divider, 1 thread
//                                                  (docs/PERFORMANCE.md "The AVX2 step")
#include <immintrin.h>
#include <omp.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>
#include <signal.h>
#include <sys/wait.h>
#include "bnb4j.h"
#include "optimizers.h"
#if __has_include("parallel.h")
#include "parallel.h"
#define BNB4J_HAVE_PARALLEL_H 1
#endif

// weak: the harness also builds against older kernel sources without it
extern "C" void bnb_set_parallel_split(int64_t chunk_elems, int64_t min_elems_per_thread) __attribute__((weak));
extern "C" int64_t bnb_parallel_stalls() __attribute__((weak));

namespace {


double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// bitsandbytes' dynamic map (float arithmetic; only its shape matters for timing).
std::vector<float> dynamic_map(bool sign) {
  std::vector<float> d;
  const int non_sign = 7, max_exp = 7;
  for (int i = 0; i < max_exp; ++i) {
    int items = sign ? (1 << (i + non_sign - max_exp)) + 1 : (1 << (i + non_sign - max_exp + 1)) + 1;
    float scale = std::pow(10.0f, (float)(i - (max_exp - 1)));
    std::vector<float> b(items);
    for (int k = 0; k < items; ++k) b[k] = 0.1f + (1.0f - 0.1f) * k / (items - 1);
    for (int k = 0; k + 1 < items; ++k) d.push_back((b[k] + b[k + 1]) / 2 * scale);
    if (sign)
      for (int k = 0; k + 1 < items; ++k) d.push_back(-(b[k] + b[k + 1]) / 2 * scale);
  }
  d.push_back(0.0f);
  d.push_back(1.0f);
  d.resize(256, 0.0f);
  std::sort(d.begin(), d.end());
  return d;
}

// Median (and min) seconds per call: each sample repeats the call until >= target seconds.
struct Timing {
  double median, min;
};
template <typename F>
Timing per_call(F f, double target = 0.02, int samples = 7) {
  f();
  int reps = 1;
  for (;;) {
    double t0 = now();
    for (int i = 0; i < reps; ++i) f();
    double t = now() - t0;
    if (t >= target / 4 || reps > (1 << 24)) {
      reps = std::max(1, (int)(reps * target / std::max(t, 1e-9)));
      break;
    }
    reps *= 4;
  }
  std::vector<double> s;
  for (int k = 0; k < samples; ++k) {
    double t0 = now();
    for (int i = 0; i < reps; ++i) f();
    s.push_back((now() - t0) / reps);
  }
  std::sort(s.begin(), s.end());
  return {s[s.size() / 2], s[0]};
}

struct Data {
  int64_t n;
  std::vector<float> grad, g0, s1, s2, out;
  std::vector<uint8_t> c1, c2;
  std::vector<float> a1, a2;
  explicit Data(int64_t n_) : n(n_), grad(n_), g0(n_), s1(n_), s2(n_), out(n_), c1(n_), c2(n_), a1(n_ / 64 + 1), a2(n_ / 64 + 1) {
    std::mt19937 r(1);
    std::normal_distribution<float> nd(0.0f, 0.01f);
    for (auto& x : g0) x = nd(r);
    grad = g0;
  }
};

// size, kind, first_step, lr, beta1, beta2, eps, step_size, eps_hat, 1-beta1, 1-beta2, beta3, 1-beta3, alpha,
// 1-beta1^t, sqrt(1-beta2^t), ratio1, ratio3
const bnb_optim_hyper adam_hp = {sizeof(bnb_optim_hyper), bnb::Adam::code, 0, 1e-3f, 0.9f, 0.999f, 1e-8f, 1e-3f, 1e-8f, 0.1f, 0.001f,
                                 0, 0, 0, 1, 1, INFINITY, INFINITY};
const bnb_optim_hyper lion_hp = {sizeof(bnb_optim_hyper), bnb::Lion::code, 0, 1e-4f, 0.9f, 0.99f, 0, 0, 0, 0.1f, 0.01f,
                                 0, 0, 0, 1, 1, INFINITY, INFINITY};
const bnb_optim_hyper momentum_hp = {sizeof(bnb_optim_hyper), bnb::Momentum::code, 0, 1e-2f, 0.9f, 0, 0, 0, 0, 0.1f, 0,
                                     0, 0, 0, 1, 1, INFINITY, INFINITY};

struct Maps {
  bnb_codebook *s, *u;
  Maps() {
    int64_t st;
    auto a = dynamic_map(true), b = dynamic_map(false);
    s = bnb_codebook_create(a.data(), &st);
    u = bnb_codebook_create(b.data(), &st);
    if (!s || !u) { std::fprintf(stderr, "codebook failed\n"); std::exit(1); }
  }
};

// BNB4J_BENCH_PHASE=0: the states packed in FLOAT words, as in DL4J's updater view (default -1: plain bytes).
int32_t bench_phase() {
  static const int32_t p = std::getenv("BNB4J_BENCH_PHASE") ? std::atoi(std::getenv("BNB4J_BENCH_PHASE")) : -1;
  return p;
}

// BNB4J_BENCH_BLOCK: the optimizer steps' blocksize (default 256; at most 4096, the states' scales sized for 256).
int64_t bench_block() {
  static const int64_t b = std::getenv("BNB4J_BENCH_BLOCK") ? std::atol(std::getenv("BNB4J_BENCH_BLOCK")) : 256;
  return b;
}

using Kernel = void (*)(Data&, const Maps&);
void k_adam8(Data& d, const Maps& m) {
  // the gradient becomes the update: restore a copy-free stand-in (scale it back up) is not needed
  // for timing; values stay finite and the state keeps evolving.
  const bnb_state8 st[] = {{d.c1.data(), d.a1.data(), m.s}, {d.c2.data(), d.a2.data(), m.u}};
  bnb_optim8bit_blockwise(&adam_hp, d.grad.data(), d.n, bench_block(), st, 2, bench_phase());
}
void k_lion8(Data& d, const Maps& m) {
  const bnb_state8 st[] = {{d.c1.data(), d.a1.data(), m.s}};
  bnb_optim8bit_blockwise(&lion_hp, d.grad.data(), d.n, bench_block(), st, 1, bench_phase());
}
void k_momentum8(Data& d, const Maps& m) {
  const bnb_state8 st[] = {{d.c1.data(), d.a1.data(), m.s}};
  bnb_optim8bit_blockwise(&momentum_hp, d.grad.data(), d.n, bench_block(), st, 1, bench_phase());
}
void k_adam32(Data& d, const Maps&) {
  float* const st[] = {d.s1.data(), d.s2.data()};
  bnb_optim32(&adam_hp, d.grad.data(), d.n, st, 2);
}
void k_quant(Data& d, const Maps& m) {
  bnb_quantize_blockwise(m.s, d.g0.data(), BNB_FLOAT, d.n, 0, nullptr, nullptr, d.c1.data(), d.a1.data(), 256, 0, 0);
}
void k_dequant(Data& d, const Maps& m) {
  bnb_dequantize_blockwise(m.s, d.c1.data(), d.a1.data(), d.n, 256, d.out.data(), BNB_FLOAT, 0, nullptr, nullptr);
}
// n blocks (the scales of two states), i.e. the checksum of an 8-bit state of n * blocksize parameters
void k_checksum(Data& d, const Maps&) {
  const float* const a[] = {d.s1.data(), d.s2.data()};
  volatile uint32_t s = bnb_absmax_checksum(a, 2, d.n);
  (void)s;
}
void k_copy(Data& d, const Maps&) { bnb_parallel_copy(d.g0.data(), d.out.data(), d.n * 4); }

struct Named {
  const char* name;
  Kernel k;
};
const Named kKernels[] = {{"adam8bit", k_adam8},     {"lion8bit", k_lion8},         {"momentum8bit", k_momentum8},
                          {"adam32", k_adam32},     {"quantize", k_quant},         {"dequantize", k_dequant},
                          {"checksum", k_checksum}, {"copy", k_copy}};

std::vector<int64_t> parse_sizes(int argc, char** argv, int from) {
  std::vector<int64_t> v;
  for (int i = from; i < argc; ++i) v.push_back(std::atoll(argv[i]));
  if (v.empty()) v = {4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576};
  return v;
}

// 1 thread vs `threads` for every kernel and size: the size where the region starts to pay.
int sweep(int argc, char** argv) {
  const char* isa = argc > 2 ? argv[2] : bnb_active_isa();
  if (!bnb_select_isa(isa)) { std::fprintf(stderr, "ISA %s not supported\n", isa); return 2; }
  const int threads = argc > 3 ? std::atoi(argv[3]) : omp_get_max_threads();
  auto sizes = parse_sizes(argc, argv, 4);
  Maps maps;
  std::printf("isa %s, 1 vs %d threads (regions forced at every size, chunks of n/8); us per call, median (min) of 7 samples\n"
              "(checksum: n blocks, i.e. an 8-bit state of n * blocksize parameters)\n",
              bnb_active_isa(), threads);
  std::printf("%-10s %9s %18s %18s %7s %18s %7s\n", "kernel", "n", "1 thread", "N threads", "1/N", "N cold", "1/Ncold");
  const std::string only = getenv("BNB4J_BENCH_KERNELS") ? std::string(",") + getenv("BNB4J_BENCH_KERNELS") + "," : "";
  for (const Named& k : kKernels) {
    if (!only.empty() && only.find(std::string(",") + k.name + ",") == std::string::npos) continue;
    for (int64_t n : sizes) {
      Data d(n);
      bnb_set_threads(1);
      Timing t1 = per_call([&] { k.k(d, maps); });
      bnb_set_threads(threads);
      // chunks of n/8 elements (at least 64): enough of them to split even the smallest n
      if (bnb_set_parallel_split) bnb_set_parallel_split(std::max<int64_t>(64, n / 8), 1);
      Timing tn = per_call([&] { k.k(d, maps); });
      // cold: 1 ms pause before each call, so the workers have gone to sleep
      std::vector<double> cold;
      for (int i = 0; i < 41; ++i) {
        usleep(1000);
        double t0 = now();
        k.k(d, maps);
        cold.push_back(now() - t0);
      }
      std::sort(cold.begin(), cold.end());
      if (bnb_set_parallel_split) bnb_set_parallel_split(0, 0);
      bnb_set_threads(0);
      std::printf("%-10s %9lld %9.2f (%6.2f) %9.2f (%6.2f) %7.2f %9.2f (%6.2f) %7.2f\n", k.name, (long long)n, t1.median * 1e6,
                  t1.min * 1e6, tn.median * 1e6, tn.min * 1e6, t1.median / tn.median, cold[cold.size() / 2] * 1e6, cold[0] * 1e6,
                  t1.median / cold[cold.size() / 2]);
      std::fflush(stdout);
    }
  }
  return 0;
}

// Time the thread has run on a CPU (ns resolution: /proc/.../schedstat).
double thread_cpu_seconds(pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
  FILE* f = std::fopen(path, "r");
  if (!f) return -1;
  unsigned long long ns = 0;
  if (std::fscanf(f, "%llu", &ns) != 1) ns = 0;
  std::fclose(f);
  return ns * 1e-9;
}

// Empty parallel region cost, and how much CPU the idle workers burn in the 200 ms after a region.
int region() {
  const int t = omp_get_max_threads();
  Timing r = per_call([&] {
#pragma omp parallel num_threads(t)
    { asm volatile("" ::: "memory"); }
  });
  std::printf("empty parallel region, %d threads: %.2f us (min %.2f)\n", t, r.median * 1e6, r.min * 1e6);
  auto cold = [](auto f) {
    std::vector<double> v;
    for (int i = 0; i < 101; ++i) {
      usleep(2000);
      double t0 = now();
      f();
      v.push_back(now() - t0);
    }
    std::sort(v.begin(), v.end());
    return Timing{v[v.size() / 2], v[0]};
  };
  Timing rc = cold([&] {
#pragma omp parallel num_threads(t)
    { asm volatile("" ::: "memory"); }
  });
  std::printf("empty parallel region after 2 ms idle: %.2f us (min %.2f)\n", rc.median * 1e6, rc.min * 1e6);
#ifdef BNB4J_HAVE_PARALLEL_H
  std::vector<std::atomic<int>> hits(t);
  auto job = [&] {
    bnb::parallel_chunks(t, 1, 1, 1, [&](int64_t lo, int64_t) { hits[lo].fetch_add(1, std::memory_order_relaxed); });
  };
  Timing pw = per_call(job), pc = cold(job);
  std::printf("bnb4j pool, %d chunks of nothing: %.2f us (min %.2f) back to back, %.2f us (min %.2f) after 2 ms idle\n", t,
              pw.median * 1e6, pw.min * 1e6, pc.median * 1e6, pc.min * 1e6);
#endif
  std::vector<pid_t> tids(t);
#pragma omp parallel num_threads(t)
  tids[omp_get_thread_num()] = (pid_t)syscall(SYS_gettid);
  double before = 0;
  for (int i = 1; i < t; ++i) before += thread_cpu_seconds(tids[i]);
  double t0 = now();
#pragma omp parallel num_threads(t)
  { asm volatile("" ::: "memory"); }
  usleep(200000);
  double after = 0;
  for (int i = 1; i < t; ++i) after += thread_cpu_seconds(tids[i]);
  std::printf("CPU time of the %d idle worker(s) in the %.0f ms after one region: %.1f ms (OMP_WAIT_POLICY=%s, GOMP_SPINCOUNT=%s)\n",
              t - 1, (now() - t0) * 1e3, (after - before) * 1e3, getenv("OMP_WAIT_POLICY") ? getenv("OMP_WAIT_POLICY") : "unset",
              getenv("GOMP_SPINCOUNT") ? getenv("GOMP_SPINCOUNT") : "unset");
  return 0;
}

// Repeated optimizer steps (for perf record / a noisy neighbour): median ms per step.
int step(int argc, char** argv) {
  const char* isa = argc > 2 ? argv[2] : bnb_active_isa();
  if (!bnb_select_isa(isa)) { std::fprintf(stderr, "ISA %s not supported\n", isa); return 2; }
  const int64_t n = argc > 3 ? std::atoll(argv[3]) : 10000000;
  const int reps = argc > 4 ? std::atoi(argv[4]) : 20;
  // BNB4J_BENCH_GAP_US: pause between calls (as other work between optimizer steps would: the pool's
  // threads stop spinning and sleep); BNB4J_BENCH_KERNELS: comma list of kernel names to run.
  const long gap_us = getenv("BNB4J_BENCH_GAP_US") ? std::atol(getenv("BNB4J_BENCH_GAP_US")) : 0;
  // BNB4J_BENCH_PRE_OMP=1: an OpenMP region (restoring the gradient) right before each call, untimed.
  const bool pre_omp = getenv("BNB4J_BENCH_PRE_OMP") != nullptr;
  const std::string only = getenv("BNB4J_BENCH_KERNELS") ? std::string(",") + getenv("BNB4J_BENCH_KERNELS") + "," : "";
  Maps maps;
  Data d(n);
  for (const Named& k : kKernels) {
    if (!only.empty() && only.find(std::string(",") + k.name + ",") == std::string::npos) continue;
    std::vector<double> s;
    for (int i = 0; i < reps + 2; ++i) {
      if (gap_us > 0) usleep(gap_us);
      if (pre_omp) {  // what UpdaterBench and DL4J do before a step: an ND4J op (an OpenMP region) writes the gradient
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < d.n; ++j) d.grad[j] = d.g0[j];
      }
      double t0 = now();
      k.k(d, maps);
      if (i >= 2) s.push_back(now() - t0);
    }
    std::sort(s.begin(), s.end());
    std::printf("%-10s n=%lld isa=%s threads=%d: median %.3f ms, min %.3f, max %.3f, stalls so far %lld\n", k.name,
                (long long)n, bnb_active_isa(), bnb_max_threads(), s[s.size() / 2] * 1e3, s[0] * 1e3, s.back() * 1e3,
                bnb_parallel_stalls ? (long long)bnb_parallel_stalls() : -1LL);
    std::fflush(stdout);
  }
  return 0;
}

#ifdef BNB4J_HAVE_PARALLEL_H
// The pool under stress: many jobs of random size, thread count and chunking, from several caller
// threads at once; every item must be visited exactly once.
int stress(int argc, char** argv) {
  const int jobs = argc > 2 ? std::atoi(argv[2]) : 200000;
  const int callers = argc > 3 ? std::atoi(argv[3]) : 3;
  std::atomic<long> bad{0};
  std::vector<std::thread> ts;
  for (int c = 0; c < callers; ++c) {
    ts.emplace_back([&, c] {
      std::mt19937 r(c + 1);
      std::vector<std::atomic<uint8_t>> seen(1 << 16);
      for (int j = 0; j < jobs / callers; ++j) {
        const int64_t items = 1 + r() % (1 << 16);
        for (int64_t i = 0; i < items; ++i) seen[i].store(0, std::memory_order_relaxed);
        const int64_t chunk = 1 + r() % 4096, min = 1 + r() % 2048;
        bnb::parallel_chunks(items, 1, chunk, min, [&](int64_t lo, int64_t hi) {
          for (int64_t i = lo; i < hi; ++i) seen[i].fetch_add(1, std::memory_order_relaxed);
        });
        for (int64_t i = 0; i < items; ++i)
          if (seen[i].load(std::memory_order_relaxed) != 1) bad.fetch_add(1);
        if (j % 997 == 0) usleep(r() % 200);  // let the workers fall asleep now and then
      }
    });
  }
  for (auto& t : ts) t.join();
  std::printf("stress: %d jobs from %d callers, max %d threads: %ld items visited other than once\n", jobs, callers,
              bnb_max_threads(), bad.load());
  return bad.load() == 0 ? 0 : 1;
}
#else
int stress(int, char**) { return 2; }
#endif

// BNB4J_BENCH_NOISY=k: k child processes each spinning a core for the whole run (a noisy neighbour).
std::vector<pid_t> g_spinners;
void start_spinners() {
  const char* k = getenv("BNB4J_BENCH_NOISY");
  for (int i = 0; k && i < std::atoi(k); ++i) {
    pid_t p = fork();
    if (p == 0) {
      alarm(600);  // bounded lifetime even if the parent dies
      for (volatile unsigned long x = 0;; x = x + 1) {}
    }
    g_spinners.push_back(p);
  }
  // BNB4J_BENCH_NOISY_OMP=k: k processes like another ND4J job: OpenMP regions (default spin policy)
  // of ~0.2 ms each, back to back, with a 1 ms pause now and then.
  const char* ko = getenv("BNB4J_BENCH_NOISY_OMP");
  for (int i = 0; ko && i < std::atoi(ko); ++i) {
    pid_t p = fork();
    if (p == 0) {
      alarm(600);
      unsetenv("BNB4J_BENCH_NOISY_OMP");  // the child must not start neighbours of its own
      unsetenv("BNB4J_BENCH_NOISY");
      execl("/proc/self/exe", "omp_bench", "load", (char*)nullptr);
      _exit(127);
    }
    g_spinners.push_back(p);
  }
  if (!g_spinners.empty()) std::printf("noisy neighbour: %zu process(es)\n", g_spinners.size());
}
void stop_spinners() {
  for (pid_t p : g_spinners) {
    kill(p, SIGKILL);
    waitpid(p, nullptr, 0);
  }
}

// ---- lookups: what the AVX2 step's building blocks cost on this core, in ns per element (best of 200
// runs over 64K elements, L1/L2-resident, 1 thread): a 256-entry float table looked up by byte codes
// (decode) and a 32K-entry dword table looked up by 15-bit keys (the packed search table of the
// encode), each by an 8-lane gather and by scalar loads; and the correctly rounded divider work of one
// Adam element (sqrt, add, divide) on 8 and on 16 lanes.
constexpr int kLookupN = 1 << 16;
// An 8-lane gather with its destination cleared first: the intrinsics' gathers merge into the
// destination register, which the compiler leaves holding the previous gather's result, so each gather
// would wait for the one before (measured: 0.35 ns per element that way, 0.25 cleared).
__attribute__((target("avx2"))) static inline __m256i gather32(const void* base, __m256i idx) {
  __m256i dst, mask = _mm256_set1_epi32(-1);
  asm volatile("vpxor %[d], %[d], %[d]\n\tvpgatherdd %[m], (%[b],%[i],4), %[d]"
               : [d] "=&x"(dst), [m] "+x"(mask)
               : [b] "r"(base), [i] "x"(idx)
               : "memory");
  return dst;
}

alignas(64) float lk_values[256];
alignas(64) uint32_t lk_packed[32768];
alignas(64) uint8_t lk_codes[kLookupN];
alignas(64) uint16_t lk_keys[kLookupN];
alignas(64) float lk_out[kLookupN];
alignas(64) uint32_t lk_ent[kLookupN];

__attribute__((target("avx2"), noinline)) void lk_decode_gather() {
  for (int i = 0; i < kLookupN; i += 8) {
    const __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(lk_codes + i)));
    _mm256_store_ps(lk_out + i, _mm256_castsi256_ps(gather32(lk_values, idx)));
  }
}
__attribute__((noinline)) void lk_decode_scalar() {
  for (int i = 0; i < kLookupN; i += 8) {
    uint64_t q;
    std::memcpy(&q, lk_codes + i, 8);
    for (int k = 0; k < 8; ++k) lk_out[i + k] = lk_values[(q >> (8 * k)) & 0xff];
  }
}
__attribute__((target("avx2"), noinline)) void lk_encode_gather() {
  for (int i = 0; i < kLookupN; i += 8) {
    const __m256i key = _mm256_cvtepu16_epi32(_mm_load_si128(reinterpret_cast<const __m128i*>(lk_keys + i)));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lk_ent + i), gather32(lk_packed, key));
  }
}
// The register alternative (no memory lookups): each of the four byte planes of the values by 16
// vpshufb (16-entry sub-tables on the low nibble) and a 15-blend tree on the high nibble's bits, then
// the planes interleaved into floats: 32 codes per round.
alignas(32) uint8_t lk_planes[4][16][32];
__attribute__((target("avx2"), noinline)) void lk_decode_pshufb() {
  for (int i = 0; i < kLookupN; i += 32) {
    const __m256i c = _mm256_load_si256(reinterpret_cast<const __m256i*>(lk_codes + i));
    const __m256i lo = _mm256_and_si256(c, _mm256_set1_epi8(0x0f));
    // blend masks: bit k of the high nibble moved to each byte's top bit
    const __m256i m0 = _mm256_slli_epi16(c, 3), m1 = _mm256_slli_epi16(c, 2), m2 = _mm256_slli_epi16(c, 1), m3 = c;
    __m256i plane[4];
    for (int p = 0; p < 4; ++p) {
      __m256i t[16];
      for (int h = 0; h < 16; ++h)
        t[h] = _mm256_shuffle_epi8(_mm256_load_si256(reinterpret_cast<const __m256i*>(lk_planes[p][h])), lo);
      for (int h = 0; h < 8; ++h) t[h] = _mm256_blendv_epi8(t[2 * h], t[2 * h + 1], m0);
      for (int h = 0; h < 4; ++h) t[h] = _mm256_blendv_epi8(t[2 * h], t[2 * h + 1], m1);
      for (int h = 0; h < 2; ++h) t[h] = _mm256_blendv_epi8(t[2 * h], t[2 * h + 1], m2);
      plane[p] = _mm256_blendv_epi8(t[0], t[1], m3);
    }
    const __m256i a = _mm256_unpacklo_epi8(plane[0], plane[1]), b = _mm256_unpackhi_epi8(plane[0], plane[1]);
    const __m256i d = _mm256_unpacklo_epi8(plane[2], plane[3]), e = _mm256_unpackhi_epi8(plane[2], plane[3]);
    // (element order inside the 32 floats is not restored: only the cost matters here)
    _mm256_store_si256(reinterpret_cast<__m256i*>(lk_out + i), _mm256_unpacklo_epi16(a, d));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lk_out + i + 8), _mm256_unpackhi_epi16(a, d));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lk_out + i + 16), _mm256_unpacklo_epi16(b, e));
    _mm256_store_si256(reinterpret_cast<__m256i*>(lk_out + i + 24), _mm256_unpackhi_epi16(b, e));
  }
}
__attribute__((noinline)) void lk_encode_scalar() {
  for (int i = 0; i < kLookupN; i += 4) {
    uint64_t q;
    std::memcpy(&q, lk_keys + i, 8);
    for (int k = 0; k < 4; ++k) lk_ent[i + k] = lk_packed[(q >> (16 * k)) & 0xffff];
  }
}
__attribute__((target("avx2"), noinline)) void lk_divider8() {
  for (int i = 0; i < kLookupN; i += 8) {
    const __m256 v = _mm256_load_ps(lk_out + i);
    _mm256_store_ps(lk_out + i, _mm256_div_ps(v, _mm256_add_ps(_mm256_sqrt_ps(v), _mm256_set1_ps(1e-8f))));
  }
}
__attribute__((target("avx512f"), noinline)) void lk_divider16() {
  for (int i = 0; i < kLookupN; i += 16) {
    const __m512 v = _mm512_load_ps(lk_out + i);
    _mm512_store_ps(lk_out + i, _mm512_div_ps(v, _mm512_add_ps(_mm512_sqrt_ps(v), _mm512_set1_ps(1e-8f))));
  }
}

int lookups() {
  std::mt19937 r(3);
  for (int i = 0; i < 256; ++i) lk_values[i] = (float)i / 255.0f;
  for (int p = 0; p < 4; ++p)
    for (int i = 0; i < 256; ++i) {
      uint32_t b;
      std::memcpy(&b, &lk_values[i], 4);
      lk_planes[p][i >> 4][i & 15] = lk_planes[p][i >> 4][16 + (i & 15)] = (uint8_t)(b >> (8 * p));
    }
  for (int i = 0; i < 32768; ++i) lk_packed[i] = (uint32_t)i * 2654435761u;
  // keys of states spread over six decades below the block's absmax, both signs (as Adam's m)
  std::uniform_real_distribution<float> e(-6.0f, 0.0f);
  for (int i = 0; i < kLookupN; ++i) {
    lk_codes[i] = (uint8_t)r();
    const float y = std::pow(10.0f, e(r)) * ((r() & 1) ? 1.0f : -1.0f);
    uint32_t b;
    std::memcpy(&b, &y, 4);
    lk_keys[i] = (uint16_t)(((b >> 16) & 0x3fff) | ((b >> 17) & 0x4000));
    lk_out[i] = 1.0f + (float)(i % 97);
  }
  auto best = [](void (*f)()) {
    double b = 1e30;
    for (int rep = 0; rep < 200; ++rep) {
      const double t0 = now();
      f();
      b = std::min(b, now() - t0);
    }
    return b * 1e9 / kLookupN;
  };
  std::printf("lookups, ns per element (1 thread):\n");
  if (__builtin_cpu_supports("avx2")) {
    std::printf("  decode, 256 floats by byte codes: gather %.3f  scalar loads %.3f  vpshufb byte planes %.3f\n",
                best(lk_decode_gather), best(lk_decode_scalar), best(lk_decode_pshufb));
    std::printf("  encode, 32K dwords by 15-bit keys: gather %.3f  scalar loads %.3f\n", best(lk_encode_gather), best(lk_encode_scalar));
    std::printf("  Adam's sqrt + add + divide: 8 lanes %.3f", best(lk_divider8));
    if (__builtin_cpu_supports("avx512f")) std::printf("  16 lanes %.3f", best(lk_divider16));
    std::printf("\n");
  } else {
    std::printf("  no AVX2 on this CPU\n");
  }
  return 0;
}

int run(int argc, char** argv);

}  // namespace

int main(int argc, char** argv) {
  // a neighbour process ("load") never starts neighbours itself
  if (!(argc > 1 && std::string(argv[1]) == "load")) start_spinners();
  int rc = run(argc, argv);
  stop_spinners();
  return rc;
}

namespace {
int run(int argc, char** argv) {
  // BNB4J_BENCH_CHUNK / BNB4J_BENCH_MIN: the split of bnb_set_parallel_split (elements per chunk,
  // fewest per thread); e.g. CHUNK = n / threads gives the old static split (one range per thread).
  if (getenv("BNB4J_BENCH_CHUNK") || getenv("BNB4J_BENCH_MIN")) {
    if (!bnb_set_parallel_split) {
      std::fprintf(stderr, "this build has no parallel split\n");
      return 2;
    }
    bnb_set_parallel_split(getenv("BNB4J_BENCH_CHUNK") ? std::atoll(getenv("BNB4J_BENCH_CHUNK")) : 0,
                           getenv("BNB4J_BENCH_MIN") ? std::atoll(getenv("BNB4J_BENCH_MIN")) : 0);
  }
  std::string mode = argc > 1 ? argv[1] : "sweep";
  if (mode == "isas") {
    std::printf("supported ISAs: %s; OpenMP max threads %d\n", bnb_supported_isas(), omp_get_max_threads());
    return 0;
  }
  if (mode == "sweep") return sweep(argc, argv);
  if (mode == "region") return region();
  if (mode == "step") return step(argc, argv);
  if (mode == "stress") return stress(argc, argv);
  if (mode == "lookups") return lookups();
  if (mode == "load") {  // a busy OpenMP process (see BNB4J_BENCH_NOISY_OMP)
    std::vector<float> a(1 << 16, 1.0f);
    for (unsigned long it = 0;; ++it) {
#pragma omp parallel for schedule(static)
      for (int i = 0; i < (1 << 16); ++i) a[i] = a[i] * 0.999f + std::sqrt(a[i] + 1.0f);
      if (it % 64 == 0) usleep(1000);
    }
  }
  std::fprintf(stderr, "usage: omp_bench sweep|region|step|stress|lookups ...\n");
  return 2;
}
}  // namespace
