// bnb4j native core: C ABI shared by the JNI bridge and (later) other front ends.
// All sizes are element counts; all pointers are raw addresses of INDArray memory
// (already offset to the first element of a view).
#pragma once
#include <cstdint>

extern "C" {

// Element types understood by the kernels (must match org.bnb4j.internal.kernels.NativeQuantKernels.dtypeCode).
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

// Self-check of a map's search tables against the reference rules, on every stride-th float of
// |y| < 2, both signs. Variants 0 and 1: the permute-friendly tables (kernels.h FastEnc) of the plain
// search and the optimizers' sign-fixed search. Variants 2-5: the state byte tables of the AVX2 and
// AVX-512 steps (kernels.h StateByteTables) against the stored-byte rule with the state = y: 2 plain
// bytes, 3 plain bytes with the sign fix, 4 top bytes of packed FLOAT words, 5 top bytes with the sign fix.
// Returns the number of mismatches, or -1 when the map's tables are not usable (the kernels then
// take the gather path for it).
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

// The fused optimizer steps. Each optimizer is declared once, in optimizers.h: its code (the `kind`
// below, = org.bnb4j.optim.OptimKind's code), name, states (per state: map, sign fix, role) and
// update rule; bnb_optim_describe reports the declaration. An unknown kind is rejected (BNB_ERR_ARG).
#define BNB_MAX_STATES 4   // the most states an optimizer may keep

// The hyper-parameters of one step, by name. size = sizeof(bnb_optim_hyper), checked by every entry
// point (a caller built against another layout gets BNB_ERR_ARG). Java writes the same words
// (org.bnb4j.optim.OptimHyper.toWords: int[] of size / 4, floats as raw bits).
// Unused fields of an optimizer are ignored (Java fills them with neutral values).
// ratio1 / ratio3: moment bounds of Adam and AdEMAMix. After the EMAs are advanced, m (AdEMAMix: m1 with
// ratio1, m2 with ratio3) is clamped to [-r sqrt(v), r sqrt(v)] (lim < m ? lim : m, then -lim > m ? -lim : m,
// so NaN passes unchanged) before the update is computed and m is stored; +inf disables it. The caller
// derives r from a bound that exact 32-bit state always satisfies (org.bnb4j.optim.UpdateBound), so the
// clamp only acts where a quantized v lost the mass of its m.
struct bnb_optim_hyper {
  uint32_t size;          // sizeof(bnb_optim_hyper) (72)
  int32_t kind;           // the optimizer's code (optimizers.h)
  int32_t first_step;     // 1 at step t == 1 (momentum), else 0
  float lr;
  float beta1;
  float beta2;
  float eps;
  float step_size;        // Adam: lr * sqrt(1 - beta2^t) / (1 - beta1^t)
  float eps_hat;          // Adam: eps * sqrt(1 - beta2^t)
  float one_minus_beta1;
  float one_minus_beta2;
  float beta3;            // AdEMAMix: the slow EMA's decay
  float one_minus_beta3;
  float alpha;            // AdEMAMix: weight of the slow EMA
  float bias_correction1;       // AdEMAMix: 1 - beta1^t
  float sqrt_bias_correction2;  // AdEMAMix: sqrt(1 - beta2^t)
  float ratio1;           // moment bound of m (Adam) / m1 (AdEMAMix); +inf: none
  float ratio3;           // moment bound of m2 (AdEMAMix); +inf: none
};

// One 8-bit state of a step: n codes, one absmax per block, and the map its codes index.
struct bnb_state8 {
  uint8_t* codes;
  float* absmax;
  const bnb_codebook* map;
};

// What optimizers.h declares for one optimizer (bnb_optim_describe).
struct bnb_state_info {
  int32_t signed_map;  // 1: the signed dynamic map, 0: the unsigned one
  int32_t sign_fix;    // 1: the encoder keeps the state's sign (bitsandbytes' sign fix)
  char role[16];       // short name ("m", "v", ...), NUL-terminated
};
struct bnb_optim_info {
  int32_t num_states;
  char name[32];       // = the Java OptimKind constant's name, NUL-terminated
  bnb_state_info states[BNB_MAX_STATES];
};
// Fills *out for optimizer code `kind`: BNB_OK, or BNB_ERR_ARG for a code no optimizer has.
int32_t bnb_optim_describe(int32_t kind, bnb_optim_info* out);

// One 8-bit block-wise step: grad (n floats) becomes the update in place; each of the optimizer's
// states (num_states must be its count, in its order) is dequantized through its map, updated and
// requantized with a new absmax (with the sign fix where its descriptor says so: such a state's map must
// hold values of both signs, i.e. values[0] has its sign bit set and values[255] not, and +0 must not be
// nearest to values[0] (the fix would move a +0 state below code 0), else BNB_ERR_ARG).
// byte_phase >= 0: the codes of all states are one byte stream (state s starts at byte s * n) starting at
// that position (0..3) inside a 4-byte word, and bytes at word position 3 are stored NaN-safe (see
// state_bytes.h); with BNB_PHASE_HALF_WORDS added, the words are 16-bit HALF words: odd bytes are stored
// NaN-safe for halves and block scales are rounded so that their halves are not half NaNs.
#define BNB_PHASE_HALF_WORDS 16
int64_t bnb_optim8bit_blockwise(const bnb_optim_hyper* hp, float* grad, int64_t n, int32_t blocksize,
                                const bnb_state8* states, int32_t num_states, int32_t byte_phase);
// The same step on blocks [block_begin, block_end) only (of the state of all n parameters; the arguments
// as above): stepping every block once, in any order of ranges, gives the bits of the whole step. Paged
// state is stepped like this, a range at a time, so that its pages can be written out behind the step.
int64_t bnb_optim8bit_blockwise_range(const bnb_optim_hyper* hp, float* grad, int64_t n, int32_t blocksize,
                                      const bnb_state8* states, int32_t num_states, int32_t byte_phase,
                                      int64_t block_begin, int64_t block_end);

// Checksum of an 8-bit state's block scales: sum over blocks b of
// fmix32(b * 0x9E3779B9 ^ XOR over states s of rotl(bits(absmax[s][b]), 11 * s mod 32)), mod 2^32
// (num_states <= BNB_MAX_STATES; for up to three states the value of ABI 7, which saved checkpoints carry).
// The updaters keep it next to the state to detect a state changed outside the step (averaged by
// ParallelWrapper, edited, cast): every such change alters the scales.
uint32_t bnb_absmax_checksum(const float* const* absmax, int32_t num_states, int64_t nb);

// The same step with 32-bit state: states[s] holds n floats of state s.
int64_t bnb_optim32(const bnb_optim_hyper* hp, float* grad, int64_t n, float* const* states, int32_t num_states);

// Instruction-set selection. Names: "scalar", "avx2", "avx512", "avx512vbmi" (dispatch.cpp's table).
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

// Paged memory (paging.cpp): an unlinked file in directory `dir` mapped over the whole pages inside
// [addr, addr + len), so the OS can write them out and read them back. `root`/`root_bytes` is the
// allocation addr lies in; it must be a chunk glibc's malloc mapped on its own (else NOT_PAGEABLE, and
// nothing changes). FRESH: the range reads as zero afterwards; KEEP: its contents are kept. out gets the
// paged pages (len 0 when none). msg (msg_cap bytes) says why on anything but OK.
struct bnb_paged_range {
  uint64_t lo, len;
};
enum bnb_page_mode : int32_t { BNB_PAGE_FRESH = 0, BNB_PAGE_KEEP = 1 };
enum bnb_page_status : int32_t {
  BNB_PAGE_OK = 0,
  BNB_PAGE_ALREADY = 1,        // the pages are a bnb4j paged file already: nothing done (FRESH does not zero them)
  BNB_PAGE_NOT_PAGEABLE = 2,   // memory that must not be paged (or no whole page): nothing done but FRESH's zeroing
  BNB_PAGE_ERR_ARG = -1,
  BNB_PAGE_ERR_FILE = -2,      // the directory: cannot create, write or map the file
  BNB_PAGE_ERR_SPACE = -3      // the directory's file system has too little free space
};
int32_t bnb_page_map(void* addr, uint64_t len, const void* root, uint64_t root_bytes, const char* dir, int32_t mode,
                     bnb_paged_range* out, char* msg, int32_t msg_cap);
// New paged memory of its own: an unlinked file of `bytes` (rounded up to pages) in dir, mapped at an
// address the OS picks (out), reading as zero. bnb_page_free unmaps it (and the file goes with it).
int32_t bnb_page_alloc(uint64_t bytes, const char* dir, bnb_paged_range* out, char* msg, int32_t msg_cap);
int32_t bnb_page_free(void* addr, uint64_t len);
// Advice for the pages of [addr, addr + len): WILLNEED starts reading them in (asynchronously);
// PAGEOUT writes them out and drops them (benchmarks). 0, or -errno.
enum bnb_page_advice : int32_t { BNB_PAGE_WILLNEED = 0, BNB_PAGE_PAGEOUT = 1 };
int32_t bnb_page_advise(void* addr, uint64_t len, int32_t advice);
// Writes the dirty pages wholly inside [addr, addr + len) to their file and drops them from this process
// (msync + MADV_DONTNEED): clean, they are the first memory the OS reclaims. 0, or -errno.
int32_t bnb_page_flush(void* addr, uint64_t len);
// Bytes of [addr, addr + len)'s pages that are in memory now (mincore), or -errno.
int64_t bnb_page_resident(const void* addr, uint64_t len);

// The ABI version (BNB_ABI_VERSION); Java refuses a library of another version.
// 9: paged memory (8: named hyper-parameter struct, state arrays, bnb_optim_describe).
#define BNB_ABI_VERSION 9
int32_t bnb_abi_version();
}
