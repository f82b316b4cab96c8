// Internal interface between the portable driver (blockwise.cpp) and the per-ISA kernels.
#pragma once
#include <cstdint>
#include <cstring>
#include <cmath>
#include <mutex>
#include "bnb4j.h"
#include "element.h"
#include "portable.h"

namespace bnb {

// Blocksizes every entry point accepts (quantize, dequantize, the 8-bit steps): a power of two from 64
// to kMaxBlock, the size of the kernels' per-block stack buffers.
constexpr int kMaxBlock = 4096;
inline bool valid_blocksize(int64_t b) { return b >= 64 && b <= kMaxBlock && (b & (b - 1)) == 0; }
// Blocks of quantize/dequantize: any positive size (bitsandbytes' CPU rule; its CUDA kernels take the
// optimizer's powers of two 64..4096). Blocks above kMaxBlock are worked in kMaxBlock chunks.
inline bool valid_quant_blocksize(int64_t b) { return b >= 1 && b <= INT32_MAX; }

// A quantization map plus the tables that make nearest-code search branch-free.
//
// The reference search (search_reference) is bitsandbytes' CUDA binary search. It is monotone
// in x for every sorted map: its seven steps and the compare with c[pivot] only locate x among the
// sorted values (n = #{i < 255 : c[i] < x}), and the final midpoint compare then picks n - 1 or n
// inside that gap, even when the midpoint overflows to +-inf (it then picks the same code for the
// whole gap). So it is fully described by its 255 transition points
//   thresh[k] = the smallest float y with search(y) >= k          (k = 1..255)
// and search(y) = #{k >= 1 : y >= thresh[k]}. thresh is found once per map by bisection over
// float bit patterns using the reference search itself, so the fast path is exact by
// construction. To avoid 255 compares, a 32K-entry table indexed by the top bits of y
// (sign + 14 bits of exponent/mantissa, covering |y| < 2) gives the code at the bucket's
// lowest y; at most max_span further thresholds can fall inside one bucket. Normalised values
// (x / absmax) always have |y| < 2, so the tables need only be right there: a map may reach
// +-FLT_MAX, but its transitions beyond 2 are never looked up.
//
// When no bucket holds more than one transition (true for every bitsandbytes map), a second
// table `packed` folds the transition into the bucket's entry: code | (t << 8), where t is the
// transition's position inside the bucket as the low 16 bits of y (flipped for negative y, so
// "larger y" is always "larger t"; 0x10000 = no transition). One gather per vector then
// suffices: code = entry & 0xff, plus 1 if the low bits of y reach t.
//
// FastEnc: the same search without any memory gather, for SIMD code that looks tables up with
// byte permutes (AVX-512 VBMI). Valid only for |y| < 2 and y not NaN, which holds for a value
// normalised by its block's absmax. y is turned into an integer key f that grows with y inside
// each sign half (f = bits(y) for y >= +0, ~bits(y) & 0x7fffffff for y <= -0), clamped to
// [0x30000000, 0x4fffffff] (|y| < 2^-31 must all get one code per sign: checked). Level 1: one entry
// per binade (64 = 32 binades x 2 signs), giving the binade's base sub-bucket B and shift k; the
// binade is cut into 2^(23-k) sub-buckets of equal width, few where the map is sparse, many where
// it is dense, each holding at most one transition. Level 2: per sub-bucket j = B + (mant >> k),
// the code at its lower end c0 and the transition's 23-bit mantissa T (0x800000: none):
// code = c0 + (mant >= T). Level 2 is stored as four byte planes (c0, T bits 0-7, 8-15, 16-23)
// of at most 512 entries, so that vpermi2b can read them from registers.
struct FastEnc {
  uint32_t lvl1[64];                   // B | (k << 16)
  alignas(64) uint16_t lvl1w[64];      // (B << 5) | k for binade 96 + i at [(96 + i) & 63], for vpermi2w
  alignas(64) uint8_t plane[4][512];   // c0, T & 0xff, (T >> 8) & 0xff, T >> 16
  bool ok;                             // the map fits this scheme (at most 512 sub-buckets, jumps of one)
};

// StateByteTables: the byte an 8-bit optimizer state is stored as (element.h state_byte: the search,
// the sign fix, the nearer neighbour at top bytes of packed FLOAT words, sigma) in one table lookup,
// for the AVX2 step (no byte permutes there; it reads the tables with scalar loads, which cost less in
// the step than gathers) and the AVX-512 step without VBMI. Per lut_key bucket of the normalised value
// y (|y| < 2, not NaN), indexed by the top 16 bits of y as they lie in memory:
// entry = A | B << 8 | T << 16, the byte is B where the low 16 bits of y reach T, else A
// (codebook.cpp build_state_bytes; no transition: A = B, T = 0). The rule's code is monotone in y, and the sign fix and the nearer-neighbour choice
// only move its transitions, so one transition per bucket still holds for every bitsandbytes map; a
// jump of two codes (where the nearer neighbour replaces a code) is just another pair of bytes.
// entry[sign fix][top slot]. ok[sign fix]: both slots' tables fit and, with the sign fix, fixing
// from y equals fixing from the state s (the kernels multiply s by 1/absmax: the two differ only
// where s > 0 underflows to y = +0, which must then need no fix). Built on first use
// (state_byte_tables), 1 MiB per map that an AVX2 or AVX-512 step (or bnb_codebook_check_fast) uses.
struct StateByteTables {
  uint32_t entry[2][2][65536];  // indexed by the top 16 bits of y: those of |y| >= 2 are left 0
  bool ok[2];
};

// How the quantize encoders search one map, chosen when its tables are built (codebook.cpp).
// Packed: one gather per vector. Table: lut + max_span threshold steps, one gather each; where a
// map's buckets hold many codes (runs of equal values, maps squeezed into a few buckets) the SIMD
// encoders run the vectorised reference search instead, which costs about as much as a few steps.
// Reference: the tables could not be built or verified; the map is searched with the reference
// search alone rather than refused.
enum class SearchPath : int32_t { Table, Packed, Reference };

struct alignas(64) Codebook {
  uint32_t packed[32768];
  FastEnc fast[2];             // [0]: search(y); [1]: search with the optimizers' sign fix (see sign_fixed)
  alignas(64) uint8_t vplane[4][256];  // byte p of values[c] at vplane[p][c]: decoding by byte permutes
  float values[256];
  float values_sigma[256];     // values[sigma(b)]: stored bytes at the top of packed FLOAT words, decoded (state_bytes.h)
  // The reference search's pivots level by level: its step L (0..6) compares with one of the 2^L
  // values at levels[2^L - 1 + b], b = the step's earlier outcomes as bits (1 = x > pivot), and its
  // final pivot is levels[127 + b] = values[2b]. [255] pads vector loads.
  float levels[256];
  float thresh[258];           // [0] = -inf (unused), [1..255], [256] = [257] = +inf sentinels
  uint8_t lut[32768 + 4];      // +4: SIMD gathers read a dword at lut + key
  int32_t max_span;
  SearchPath path;             // what the quantize encoders use for this map
  bool packed_ok;              // every bucket has at most one transition: `packed` is usable
  int32_t sign_split;          // values[c] has its sign bit set exactly when c < sign_split; -1 if not so
  uint8_t nan_code;            // search(NaN)
  // StateByteTables, built by the first state_byte_tables call (AVX2 and AVX-512 steps, the self-check)
  mutable std::once_flag state_bytes_once;
  mutable StateByteTables* state_bytes = nullptr;
  ~Codebook();
};

// The map's StateByteTables (built on the first call, thread-safe); null if they could not be allocated.
const StateByteTables* state_byte_tables(const Codebook& cb);


// search_reference, the normalisation and stochastic rounding are in element.h (shared with CUDA).

// Table-driven search (scalar form of what the SIMD kernels do).
inline uint32_t lut_key(uint32_t bits) { return ((bits >> 16) & 0x3fffu) | ((bits >> 17) & 0x4000u); }

inline int search_table(const Codebook& cb, float y) {
  if (y != y) return cb.nan_code;
  int code = cb.lut[lut_key(f2u(y))];
  for (int s = 0; s < cb.max_span; ++s) code += (y >= cb.thresh[code + 1]) ? 1 : 0;
  return code;
}

inline int search_packed(const Codebook& cb, float y) {
  if (y != y) return cb.nan_code;
  uint32_t b = f2u(y);
  uint32_t e = cb.packed[lut_key(b)];
  uint32_t low = (b & 0xffffu) ^ ((b >> 31) ? 0xffffu : 0u);
  return (int)(e & 0xffu) + (low >= (e >> 8) ? 1 : 0);
}

// Scalar form of a StateByteTables lookup (the AVX2 step does it 8 lanes at a time).
inline uint8_t state_byte_lookup(const uint32_t* entry, float y) {
  const uint32_t b = f2u(y), e = entry[b >> 16];
  return (uint8_t)((b & 0xffffu) >= (e >> 16) ? e >> 8 : e);
}

// The optimizers' sign fix (state_bytes.h fix_sign) on the normalised value y, for the tables: y
// carries the state's sign (y = s * (1/absmax) or s / absmax with absmax > 0, or s * 0).
inline int sign_fixed(const Codebook& cb, int c, float y) { return fix_sign(cb.values, c, y); }

// Scalar form of the FastEnc lookup (the SIMD kernels do the same 16 or 64 lanes at a time).
inline uint32_t fast_key(float y) {
  uint32_t b = f2u(y);
  uint32_t f = b ^ (uint32_t)((int32_t)b >> 31);
  return f < 0x30000000u ? 0x30000000u : f > 0x4fffffffu ? 0x4fffffffu : f;
}
inline int search_fast(const FastEnc& fe, float y) {
  const uint32_t f = fast_key(y);
  const uint32_t e1 = fe.lvl1[(f >> 23) - 96], mant = f & 0x7fffffu;
  const uint32_t j = (e1 & 0xffffu) + (mant >> (e1 >> 16));
  const uint32_t t = fe.plane[1][j] | (uint32_t)fe.plane[2][j] << 8 | (uint32_t)fe.plane[3][j] << 16;
  return fe.plane[0][j] + (mant >= t ? 1 : 0);
}

struct StateMaps;    // optim.h
struct BlockSource;  // optim.h

// One ISA's kernels: the one table every caller dispatches through (picked in dispatch.cpp).
struct IsaKernels {
  const char* name;
  // quantization over contiguous float blocks
  float (*absmax)(const float* x, int64_t n);  // max |x|, NaN ignored, Inf propagated
  void (*encode)(const Codebook& cb, const float* x, int64_t n, float absmax, uint8_t* out);
  void (*decode)(const Codebook& cb, const uint8_t* codes, int64_t n, float absmax, float* out);
  // the 8-bit optimizer steps of blocks [lo, hi) (optim.h); any map
  void (*optim_blocks)(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo, int64_t hi);
  // a faster form of optim_blocks where this ISA has one (else null), used when optim_fast_usable says
  // every state's map fits its tables
  void (*optim_blocks_fast)(const bnb_optim_hyper& h, const StateMaps& maps, const BlockSource& src, int64_t lo,
                            int64_t hi);
  bool (*optim_fast_usable)(int32_t kind, const StateMaps& maps);
};

extern const IsaKernels kScalarKernels;
extern const IsaKernels kAvx2Kernels;
extern const IsaKernels kAvx512Kernels;
extern const IsaKernels kAvx512VbmiKernels;

const IsaKernels& active_kernels();

}  // namespace bnb
