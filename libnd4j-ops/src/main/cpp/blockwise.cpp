// Block-wise quantize / dequantize drivers: OpenMP over blocks, per-block load of any storage
// type and layout into a float buffer (or straight from memory for contiguous FLOAT), then the
// active ISA's kernels.
#include <algorithm>
#include <atomic>
#include <cstring>
#include <omp.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include "dtype.h"
#include "kernels.h"
#include "parallel.h"

namespace bnb {
namespace {

constexpr int kMaxRank = 32;
// Threading (parallel.h; docs/PERFORMANCE.md): elements per chunk and the fewest elements per thread
// worth a helper thread, about 25 us of single-thread work (see optim.cpp): quantize ~0.25 ns and
// dequantize ~0.2 ns per contiguous float element on the fastest path, several times that through
// strides or other types; the copy is memory-bound (~20 GB/s for one thread).
constexpr int64_t kQuantChunk = 65536;
constexpr int64_t kQuantMinPerThread = 131072;
constexpr int64_t kQuantMinPerThreadSlow = 32768;  // strided or HALF/BFLOAT16/DOUBLE, stochastic
constexpr int64_t kCopyChunk = 1 << 20;            // bytes
constexpr int64_t kCopyMinPerThread = 1 << 20;     // bytes
// Copies at least this large bypass the caches (streaming stores), as one large memcpy does: the
// copy is the benchmarks' memory roofline, and a store through the cache first reads each line it
// writes (a third stream), which cost a chunked copy a third of the bandwidth a C memcpy of the same
// bytes reached (docs/BENCHMARKS.md). Smaller copies stay in the last-level cache and keep memcpy.
constexpr int64_t kCopyStreamBytes = 16 << 20;

std::atomic<int> g_threads{0};

// Walks a strided layout in C order from a given linear index.
struct Cursor {
  int rank;
  const int64_t* shape;
  const int64_t* strides;
  int64_t idx[kMaxRank];
  int64_t off;

  Cursor(int r, const int64_t* sh, const int64_t* st, int64_t start) : rank(r), shape(sh), strides(st), off(0) {
    for (int d = rank - 1; d >= 0; --d) {
      idx[d] = start % shape[d];
      start /= shape[d];
      off += idx[d] * strides[d];
    }
  }
  void next() {
    for (int d = rank - 1; d >= 0; --d) {
      if (++idx[d] < shape[d]) { off += strides[d]; return; }
      off -= (shape[d] - 1) * strides[d];
      idx[d] = 0;
    }
  }
};

template <typename T, typename Conv>
void load_block(const T* src, bool contiguous, const Cursor& at, int64_t start, int64_t len, Conv conv, float* dst) {
  if (contiguous) {
    const T* p = src + start;
    for (int64_t i = 0; i < len; ++i) dst[i] = conv(p[i]);
  } else {
    Cursor c = at;
    for (int64_t i = 0; i < len; ++i, c.next()) dst[i] = conv(src[c.off]);
  }
}

template <typename T, typename Conv>
void store_block(T* dst, bool contiguous, const Cursor& at, int64_t start, int64_t len, Conv conv, const float* src) {
  if (contiguous) {
    T* p = dst + start;
    for (int64_t i = 0; i < len; ++i) p[i] = conv(src[i]);
  } else {
    Cursor c = at;
    for (int64_t i = 0; i < len; ++i, c.next()) dst[c.off] = conv(src[i]);
  }
}

// Loads [start, start+len) as floats; returns a pointer to them (src itself when possible).
const float* load_floats(const void* src, int32_t dtype, bool contiguous, int rank, const int64_t* shape,
                         const int64_t* strides, int64_t start, int64_t len, float* buf) {
  if (dtype == BNB_FLOAT && contiguous) return static_cast<const float*>(src) + start;
  Cursor at = contiguous ? Cursor(0, shape, strides, 0) : Cursor(rank, shape, strides, start);
  switch (dtype) {
    case BNB_FLOAT: load_block(static_cast<const float*>(src), contiguous, at, start, len, [](float v) { return v; }, buf); break;
    case BNB_DOUBLE: load_block(static_cast<const double*>(src), contiguous, at, start, len, [](double v) { return (float)v; }, buf); break;
    case BNB_HALF: load_block(static_cast<const uint16_t*>(src), contiguous, at, start, len, half_to_float, buf); break;
    default: load_block(static_cast<const uint16_t*>(src), contiguous, at, start, len, bf16_to_float, buf); break;
  }
  return buf;
}

void store_floats(void* dst, int32_t dtype, bool contiguous, int rank, const int64_t* shape, const int64_t* strides,
                  int64_t start, int64_t len, const float* buf) {
  Cursor at = contiguous ? Cursor(0, shape, strides, 0) : Cursor(rank, shape, strides, start);
  switch (dtype) {
    case BNB_FLOAT: store_block(static_cast<float*>(dst), contiguous, at, start, len, [](float v) { return v; }, buf); break;
    case BNB_DOUBLE: store_block(static_cast<double*>(dst), contiguous, at, start, len, [](float v) { return (double)v; }, buf); break;
    case BNB_HALF: store_block(static_cast<uint16_t*>(dst), contiguous, at, start, len, float_to_half, buf); break;
    default: store_block(static_cast<uint16_t*>(dst), contiguous, at, start, len, float_to_bf16, buf); break;
  }
}

bool valid_dtype(int32_t d) { return d >= BNB_FLOAT && d <= BNB_BFLOAT16; }
bool valid_layout(int32_t rank, const int64_t* shape, const int64_t* strides, int64_t n) {
  if (strides == nullptr) return true;
  if (rank < 1 || rank > kMaxRank || shape == nullptr) return false;
  int64_t prod = 1;
  for (int d = 0; d < rank; ++d) { if (shape[d] < 0) return false; prod *= shape[d]; }
  return prod == n;
}

}  // namespace
}  // namespace bnb

using namespace bnb;

extern "C" int64_t bnb_quantize_blockwise(const bnb_codebook* cbh, const void* src, int32_t dtype, int64_t n,
                                          int32_t rank, const int64_t* shape, const int64_t* strides,
                                          uint8_t* codes, float* absmax, int32_t blocksize,
                                          int32_t stochastic, uint64_t seed) {
  if (cbh == nullptr || n < 0 || !valid_dtype(dtype) || !valid_quant_blocksize(blocksize) ||
      !valid_layout(rank, shape, strides, n))
    return BNB_ERR_ARG;
  if (n == 0) return BNB_OK;
  if (src == nullptr || codes == nullptr || absmax == nullptr) return BNB_ERR_ARG;
  const Codebook& cb = *reinterpret_cast<const Codebook*>(cbh);
  const IsaKernels& k = active_kernels();
  const bool contiguous = strides == nullptr;
  const int64_t nb = (n + blocksize - 1) / blocksize;
  std::atomic<int64_t> first_inf{nb};
  const bool fast = contiguous && dtype == BNB_FLOAT && !stochastic;

  parallel_chunks(nb, blocksize, kQuantChunk, fast ? kQuantMinPerThread : kQuantMinPerThreadSlow, [&](int64_t lo, int64_t hi) {
    alignas(64) float buf[kMaxBlock];
    for (int64_t b = lo; b < hi; ++b) {
      const int64_t start = b * blocksize, len = std::min<int64_t>(blocksize, n - start);
      // a block is read in chunks of at most kMaxBlock elements (the stack buffer): all of them for its
      // absmax (max of the chunks' maxima: NaN ignored as within one), then again for the codes
      float am = 0.0f;
      for (int64_t c0 = 0; c0 < len; c0 += kMaxBlock) {
        const int64_t cl = std::min<int64_t>(kMaxBlock, len - c0);
        const float m = k.absmax(load_floats(src, dtype, contiguous, rank, shape, strides, start + c0, cl, buf), cl);
        if (c0 == 0 || m > am) am = m;
      }
      absmax[b] = am;
      if (std::isinf(am)) {
        int64_t cur = first_inf.load();
        while (b < cur && !first_inf.compare_exchange_weak(cur, b)) {}
        continue;
      }
      for (int64_t c0 = 0; c0 < len; c0 += kMaxBlock) {
        const int64_t cl = std::min<int64_t>(kMaxBlock, len - c0), at = start + c0;
        const float* x = load_floats(src, dtype, contiguous, rank, shape, strides, at, cl, buf);
        if (stochastic) {
          float inv;
          Norm mode = norm_mode(am, &inv);
          for (int64_t i = 0; i < cl; ++i) {
            codes[at + i] = (uint8_t)search_stochastic(cb.values, normalise(x[i], mode, inv), uniform01(seed, (uint64_t)(at + i)));
          }
        } else {
          k.encode(cb, x, cl, am, codes + at);
        }
      }
    }
  });
  int64_t bad = first_inf.load();
  return bad < nb ? BNB_ERR_INF_BASE - bad : BNB_OK;
}

extern "C" int64_t bnb_dequantize_blockwise(const bnb_codebook* cbh, const uint8_t* codes, const float* absmax,
                                            int64_t n, int32_t blocksize, void* dst, int32_t dtype,
                                            int32_t rank, const int64_t* shape, const int64_t* strides) {
  if (cbh == nullptr || n < 0 || !valid_dtype(dtype) || !valid_quant_blocksize(blocksize) ||
      !valid_layout(rank, shape, strides, n))
    return BNB_ERR_ARG;
  if (n == 0) return BNB_OK;
  if (dst == nullptr || codes == nullptr || absmax == nullptr) return BNB_ERR_ARG;
  const Codebook& cb = *reinterpret_cast<const Codebook*>(cbh);
  const IsaKernels& k = active_kernels();
  const bool contiguous = strides == nullptr;
  const int64_t nb = (n + blocksize - 1) / blocksize;
  const bool fast = contiguous && dtype == BNB_FLOAT;

  parallel_chunks(nb, blocksize, kQuantChunk, fast ? kQuantMinPerThread : kQuantMinPerThreadSlow, [&](int64_t lo, int64_t hi) {
    alignas(64) float buf[kMaxBlock];
    for (int64_t b = lo; b < hi; ++b) {
      const int64_t start = b * blocksize, len = std::min<int64_t>(blocksize, n - start);
      for (int64_t c0 = 0; c0 < len; c0 += kMaxBlock) {   // chunks of a block larger than the stack buffer
        const int64_t cl = std::min<int64_t>(kMaxBlock, len - c0), at = start + c0;
        if (dtype == BNB_FLOAT && contiguous) {
          k.decode(cb, codes + at, cl, absmax[b], static_cast<float*>(dst) + at);
        } else {
          k.decode(cb, codes + at, cl, absmax[b], buf);
          store_floats(dst, dtype, contiguous, rank, shape, strides, at, cl, buf);
        }
      }
    }
  });
  return BNB_OK;
}

extern "C" int32_t bnb_max_threads() {
  int t = g_threads.load();
  return t > 0 ? t : omp_get_max_threads();
}

extern "C" void bnb_set_threads(int32_t n) { g_threads.store(n > 0 ? n : 0); }

// [lo, hi) of src to dst with non-temporal stores (SSE2, part of x86-64): unaligned head and tail by memcpy.
static void stream_copy(const char* src, char* dst, int64_t bytes) {
#if defined(__SSE2__)
  const int64_t head = std::min<int64_t>(bytes, (int64_t)((16 - (reinterpret_cast<uintptr_t>(dst) & 15)) & 15));
  std::memcpy(dst, src, (size_t)head);
  int64_t i = head;
  for (; i + 64 <= bytes; i += 64) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 16));
    const __m128i c = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 32));
    const __m128i d = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i + 48));
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i), a);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 16), b);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 32), c);
    _mm_stream_si128(reinterpret_cast<__m128i*>(dst + i + 48), d);
  }
  std::memcpy(dst + i, src + i, (size_t)(bytes - i));
  _mm_sfence();  // streaming stores are weakly ordered: visible before the region's barrier
#else
  std::memcpy(dst, src, (size_t)bytes);
#endif
}

extern "C" void bnb_parallel_copy(const void* src, void* dst, int64_t bytes) {
  const bool stream = bytes >= kCopyStreamBytes;
  parallel_chunks(bytes, 1, kCopyChunk, kCopyMinPerThread, [&](int64_t lo, int64_t hi) {
    const char* s = static_cast<const char*>(src) + lo;
    char* d = static_cast<char*>(dst) + lo;
    if (stream) stream_copy(s, d, hi - lo); else std::memcpy(d, s, (size_t)(hi - lo));
  });
}

extern "C" int32_t bnb_abi_version() { return BNB_ABI_VERSION; }
