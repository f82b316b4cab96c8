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

// Instruction-set selection. Names: "scalar", "avx2", "avx512".
const char* bnb_active_isa();
const char* bnb_supported_isas();
int32_t bnb_select_isa(const char* name);  // 1 on success, 0 if not supported here

int32_t bnb_max_threads();
void bnb_set_threads(int32_t n);

// Parallel memcpy with the same threading as the kernels: the bandwidth baseline for benchmarks.
void bnb_parallel_copy(const void* src, void* dst, int64_t bytes);

int32_t bnb_abi_version();
}
