/* Memory bandwidth outside the JVM (the roofline the benchmarks compare against): OpenMP copy
 * (memcpy per thread), the same copy with streaming stores (as libbnb4j's roofline copy), and STREAM
 * triad a[i] = b[i] + s * c[i] over arrays of n floats, median of reps runs after one warm-up. Prints:
 *   membw threads=T n=N copy_gbs=X triad_gbs=Y copy_best_gbs=X2 triad_best_gbs=Y2 stream_best_gbs=Z2
 * Bytes counted: copy reads and writes 4 bytes per float (8), triad reads 8 and writes 4 (12).
 * Build: cc -O3 -fopenmp membw.c -o membw; run: ./membw [n_floats] [reps] [threads]. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Non-temporal stores, 64 bytes per iteration; n a multiple of 16 floats from a 16-byte aligned start. */
static void stream_copy(float* dst, const float* src, long n) {
  long i = 0;
#if defined(__SSE2__)
  for (; i + 16 <= n; i += 16) {
    __m128i a = _mm_loadu_si128((const __m128i*)(src + i)), b = _mm_loadu_si128((const __m128i*)(src + i + 4));
    __m128i c = _mm_loadu_si128((const __m128i*)(src + i + 8)), d = _mm_loadu_si128((const __m128i*)(src + i + 12));
    _mm_stream_si128((__m128i*)(dst + i), a);
    _mm_stream_si128((__m128i*)(dst + i + 4), b);
    _mm_stream_si128((__m128i*)(dst + i + 8), c);
    _mm_stream_si128((__m128i*)(dst + i + 12), d);
  }
  memcpy(dst + i, src + i, (n - i) * sizeof(float));
  _mm_sfence();
#else
  memcpy(dst + i, src + i, (n - i) * sizeof(float));
#endif
}

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  long n = argc > 1 ? atol(argv[1]) : 50000000L;
  int reps = argc > 2 ? atoi(argv[2]) : 10;
  int threads = argc > 3 ? atoi(argv[3]) : omp_get_max_threads();
  float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
  if (!a || !b || !c) return 1;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (long i = 0; i < n; ++i) {
    a[i] = 0.0f;
    b[i] = 1.0f;
    c[i] = 2.0f;
  }
  double* tc = malloc(reps * sizeof(double));
  double* tt = malloc(reps * sizeof(double));
  double* ts = malloc(reps * sizeof(double));
  for (int r = -1; r < reps; ++r) {
    double t0 = now();
#pragma omp parallel num_threads(threads)
    {
      int id = omp_get_thread_num(), nt = omp_get_num_threads();
      long lo = n * id / nt, hi = n * (id + 1) / nt;
      memcpy(a + lo, b + lo, (hi - lo) * sizeof(float));
    }
    double t1 = now();
    const float s = 3.0f;
#pragma omp parallel for num_threads(threads) schedule(static)
    for (long i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
    double t2 = now();
#pragma omp parallel num_threads(threads)
    {
      int id = omp_get_thread_num(), nt = omp_get_num_threads();
      long lo = (n / 16) * id / nt * 16, hi = id == nt - 1 ? n : (n / 16) * (id + 1) / nt * 16;
      stream_copy(a + lo, b + lo, hi - lo);
    }
    double t3 = now();
    if (r >= 0) {
      tc[r] = t1 - t0;
      tt[r] = t2 - t1;
      ts[r] = t3 - t2;
    }
  }
  qsort(tc, reps, sizeof(double), cmp);
  qsort(tt, reps, sizeof(double), cmp);
  qsort(ts, reps, sizeof(double), cmp);
  double mc = reps % 2 ? tc[reps / 2] : (tc[reps / 2 - 1] + tc[reps / 2]) / 2;
  double mt = reps % 2 ? tt[reps / 2] : (tt[reps / 2 - 1] + tt[reps / 2]) / 2;
  printf("membw threads=%d n=%ld copy_gbs=%.2f triad_gbs=%.2f copy_best_gbs=%.2f triad_best_gbs=%.2f stream_best_gbs=%.2f check=%g\n",
         threads, n, 8.0 * n / mc / 1e9, 12.0 * n / mt / 1e9, 8.0 * n / tc[0] / 1e9, 12.0 * n / tt[0] / 1e9,
         8.0 * n / ts[0] / 1e9, (double)a[n / 2]);
  return 0;
}
