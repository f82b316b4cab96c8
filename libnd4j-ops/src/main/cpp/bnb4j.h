// bnb4j native core: C ABI shared by the JNI bridge and (later) other front ends.
// All sizes are element counts; all pointers are raw addresses of INDArray memory
// (already offset to the first element of a view).
#pragma once
#include <cstdint>

extern "C" {

// Element types understood by the kernels (must match org.bnb4j.nativeops.NativeDType).
enum bnb_dtype : int32_t { BNB_FLOAT = 0, BNB_DOUBLE = 1, BNB_HALF = 2, BNB_BFLOAT16 = 3 };

// Status codes (>= 0 means success). Negative values <= BNB_ERR_INF_BASE encode the
// first block that held an infinite value: block = BNB_ERR_INF_BASE - status.
enum bnb_status : int64_t {
  BNB_OK = 0,
  BNB_ERR_ARG = -1,        // bad argument (null pointer, bad dtype, bad blocksize, bad rank)
  BNB_ERR_CODEBOOK = -2,   // map is not usable (not sorted, not finite)
  BNB_ERR_INF_BASE = -16,  // -16 - block: block contains +-Inf
};

struct bnb_codebook;  // opaque: map + search tables

bnb_codebook* bnb_codebook_create(const float* values256, int64_t* status);
void bnb_codebook_free(bnb_codebook* cb);

// Self-check of the permute-friendly search tables (kernels.h FastEnc) against the reference
// search: variant 0 = plain search, 1 = the optimizers' sign-fixed search. Compares every
// stride-th float of |y| < 2, both signs. Returns the number of mismatches, or -1 when the map's
// tables are not usable (the kernels then take the gather path for it).
int64_t bnb_codebook_check_fast(const bnb_codebook* cb, int32_t variant, int32_t stride);

// Block-wise quantization of n elements read through (rank, shape, strides); strides == nullptr
// means C-contiguous. Writes n codes and ceil(n / blocksize) absmax values.
int64_t bnb_quantize_blockwise(const bnb_codebook* cb, const void* src, int32_t dtype, int64_t n,
                               int32_t rank, const int64_t* shape, const int64_t* strides,
                               uint8_t* codes, float* absmax, int32_t blocksize,
                               int32_t stochastic, uint64_t seed);

// Inverse: out[i] = map[codes[i]] * absmax[i / blocksize], written through (rank, shape, strides).
int64_t bnb_dequantize_blockwise(const bnb_codebook* cb, const uint8_t* codes, const float* absmax,
                                 int64_t n, int32_t blocksize, void* dst, int32_t dtype,
                                 int32_t rank, const int64_t* shape, const int64_t* strides);

// Optimizer kinds and hyper-parameters for the fused steps (must match org.bnb4j.optim.OptimKind).
enum bnb_optim : int32_t { BNB_OPTIM_ADAM = 0, BNB_OPTIM_MOMENTUM = 1, BNB_OPTIM_RMSPROP = 2, BNB_OPTIM_ADAGRAD = 3, BNB_OPTIM_LION = 4,
                          BNB_OPTIM_ADEMAMIX = 5 };
// hp = {lr, beta1, beta2, eps, step_size (Adam: lr*sqrt(1-b2^t)/(1-b1^t)), eps_hat (Adam: eps*sqrt(1-b2^t)),
//       1-beta1, 1-beta2, beta3, 1-beta3, alpha, 1-beta1^t, sqrt(1-beta2^t), ratio1, ratio3} (15 values;
//       beta3.. sqrt(1-beta2^t) and ratio3 are used by AdEMAMix only); first_step = (t == 1), used by momentum.
// ratio1 / ratio3: moment bounds of Adam and AdEMAMix. After the EMAs are advanced, m (AdEMAMix: m1 with
// ratio1, m2 with ratio3) is clamped to [-r sqrt(v), r sqrt(v)] (lim < m ? lim : m, then -lim > m ? -lim : m,
// so NaN passes unchanged) before the update is computed and m is stored; +inf disables it. The caller
// derives r from a bound that exact 32-bit state always satisfies (org.bnb4j.optim.UpdateBound), so the
// clamp only acts where a quantized v lost the mass of its m.
#define BNB_OPTIM_HYPER_LEN 15

// One 8-bit block-wise step: grad (n floats) becomes the update in place; codes1/absmax1 (map1,
// signed, sign-corrected), for Adam and AdEMAMix codes2/absmax2 (map2: v), and for AdEMAMix
// codes3/absmax3 (map1, sign-corrected: the slow EMA) are dequantized, updated and requantized.
// byte_phase >= 0: codes1, codes2, codes3 are one byte stream starting at that position (0..3) inside a
// 4-byte word, and bytes at word position 3 are stored NaN-safe (see optim.cpp); with
// BNB_PHASE_HALF_WORDS added, the words are 16-bit HALF words: odd bytes are stored NaN-safe for
// halves and block scales are rounded so that their halves are not half NaNs.
#define BNB_PHASE_HALF_WORDS 16
int64_t bnb_optim8bit_blockwise(int32_t kind, const float* hp, int32_t first_step, float* grad, int64_t n,
                                int32_t blocksize, const bnb_codebook* map1, uint8_t* codes1, float* absmax1,
                                const bnb_codebook* map2, uint8_t* codes2, float* absmax2,
                                uint8_t* codes3, float* absmax3, int32_t byte_phase);

// Checksum of an 8-bit state's block scales (absmax2/absmax3 may be null): sum over blocks b of
// fmix32(bits(a1[b]) ^ rotl(bits(a2[b]), 11) ^ rotl(bits(a3[b]), 22) ^ b * 0x9E3779B9), mod 2^32.
// The updaters keep it next to the state to detect a state changed outside the step (averaged by
// ParallelWrapper, edited, cast): every such change alters the scales.
uint32_t bnb_absmax_checksum(const float* absmax1, const float* absmax2, const float* absmax3, int64_t nb);

// The same step with 32-bit state (state3: AdEMAMix's slow EMA).
int64_t bnb_optim32(int32_t kind, const float* hp, int32_t first_step, float* grad, int64_t n, float* state1,
                    float* state2, float* state3);

// Instruction-set selection. Names: "scalar", "avx2", "avx512".
const char* bnb_active_isa();
const char* bnb_supported_isas();
int32_t bnb_select_isa(const char* name);  // 1 on success, 0 if not supported here

int32_t bnb_max_threads();
void bnb_set_threads(int32_t n);

// Tests and benchmarks: overrides how the kernels split work between threads (see parallel.h):
// chunk_elems elements per dynamically claimed chunk, a parallel region once every thread gets
// min_elems_per_thread elements (1: at every size). 0 restores the built-in, measured values.
// Results never depend on it.
void bnb_set_parallel_split(int64_t chunk_elems, int64_t min_elems_per_thread);

// How many parallel calls so far found an OpenMP team thread descheduled (waited > 0.3 ms and a
// quarter of the call for it); each sends the following calls to bnb4j's own threads for a while.
int64_t bnb_parallel_stalls();

// Parallel memcpy with the same threading as the kernels: the bandwidth baseline for benchmarks.
void bnb_parallel_copy(const void* src, void* dst, int64_t bytes);

int32_t bnb_abi_version();
}
