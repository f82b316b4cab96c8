// JNI entry points for org.bnb4j.internal.cuda.BnbCudaNative, on the pattern of jni_bridge.cpp: arrays
// arrive as raw device addresses (ND4J's CUDA backend: AtomicAllocator.getPointer), streams as raw
// cudaStream_t addresses (0: the default stream). Calls that return a result the GPU computes (the
// first Inf block of a quantization, the checksum) wait for the stream; the others only queue.
#include <jni.h>
#include <cuda_runtime.h>
#include <cstring>
#include "bnb4j_cuda.h"
#include "jni_util.h"

namespace {

using bnb_jni::ptr;
using bnb_jni::read_addresses;
using bnb_jni::read_hyper;

// A device word for a result, queued on the stream and freed after it is read back.
template <typename T>
bool read_back(void* stream, T* host, int64_t (*fill)(T* device, void* ctx), void* ctx, int64_t* status) {
  const cudaStream_t s = static_cast<cudaStream_t>(stream);
  T* d = nullptr;
  if (cudaMallocAsync(reinterpret_cast<void**>(&d), sizeof(T), s) != cudaSuccess) { *status = BNB_CUDA_ERR; return false; }
  *status = fill(d, ctx);
  cudaError_t err = cudaSuccess;
  if (*status >= 0) err = cudaMemcpyAsync(host, d, sizeof(T), cudaMemcpyDeviceToHost, s);
  cudaFreeAsync(d, s);
  if (err == cudaSuccess) err = cudaStreamSynchronize(s);
  if (err != cudaSuccess) { *status = BNB_CUDA_ERR; return false; }
  return *status >= 0;
}

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_abiVersion(JNIEnv*, jclass) { return bnb_cuda_abi_version(); }

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_deviceCount(JNIEnv*, jclass) { return bnb_cuda_device_count(); }

JNIEXPORT jstring JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_lastError(JNIEnv* env, jclass) {
  return env->NewStringUTF(bnb_cuda_last_error());
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_mapCreate(JNIEnv* env, jclass, jfloatArray values) {
  float v[256];
  if (!bnb_jni::read_map(env, values, v)) return 0;
  int64_t status = 0;
  return reinterpret_cast<jlong>(bnb_cuda_map_create(v, &status));
}

JNIEXPORT void JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_mapFree(JNIEnv*, jclass, jlong map) {
  bnb_cuda_map_free(ptr<const float>(map));
}

// The CPU status: BNB_OK, BNB_ERR_INF_BASE - first Inf block, or an error.
JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_quantize(JNIEnv*, jclass, jlong map, jlong src, jint dtype,
                                                                          jlong n, jlong codes, jlong absmax, jint blocksize,
                                                                          jboolean stochastic, jlong seed, jlong stream) {
  struct Args { jlong map, src, codes, absmax, seed, stream; jint dtype, blocksize; jboolean stochastic; jlong n; } a{
      map, src, codes, absmax, seed, stream, dtype, blocksize, stochastic, n};
  uint64_t first = UINT64_MAX;
  int64_t status = BNB_OK;
  read_back<uint64_t>(ptr<void>(stream), &first, [](uint64_t* d, void* c) -> int64_t {
    const Args& x = *static_cast<Args*>(c);
    return bnb_cuda_quantize_blockwise(ptr<const float>(x.map), ptr<const void>(x.src), x.dtype, x.n, ptr<uint8_t>(x.codes),
                                       ptr<float>(x.absmax), x.blocksize, x.stochastic ? 1 : 0, (uint64_t)x.seed, d,
                                       ptr<void>(x.stream));
  }, &a, &status);
  if (status < 0) return status;
  return first == UINT64_MAX ? BNB_OK : BNB_ERR_INF_BASE - (int64_t)first;
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_dequantize(JNIEnv*, jclass, jlong map, jlong codes, jlong absmax,
                                                                            jlong n, jint blocksize, jlong dst, jint dtype, jlong stream) {
  return bnb_cuda_dequantize_blockwise(ptr<const float>(map), ptr<const uint8_t>(codes), ptr<const float>(absmax), n, blocksize,
                                       ptr<void>(dst), dtype, ptr<void>(stream));
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_optim8bit(JNIEnv* env, jclass, jintArray hyper, jlong grad, jlong n,
                                                                           jint blocksize, jlongArray codes, jlongArray absmax,
                                                                           jlongArray maps, jint byte_phase, jlong stream) {
  bnb_optim_hyper h;
  jlong c[BNB_MAX_STATES], a[BNB_MAX_STATES], m[BNB_MAX_STATES];
  const int32_t k = bnb_jni::read_step8(env, hyper, codes, absmax, maps, &h, c, a, m);
  if (k < 0) return BNB_ERR_ARG;
  bnb_cuda_state8 st[BNB_MAX_STATES];
  for (int32_t s = 0; s < k; ++s) st[s] = bnb_cuda_state8{ptr<uint8_t>(c[s]), ptr<float>(a[s]), ptr<const float>(m[s])};
  return bnb_cuda_optim8bit_blockwise(&h, ptr<float>(grad), n, blocksize, st, k, byte_phase, ptr<void>(stream));
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_optim32(JNIEnv* env, jclass, jintArray hyper, jlong grad, jlong n,
                                                                         jlongArray states, jlong stream) {
  bnb_optim_hyper h;
  jlong a[BNB_MAX_STATES];
  const int32_t k = read_addresses(env, states, a);
  if (!read_hyper(env, hyper, &h) || k < 0) return BNB_ERR_ARG;
  float* st[BNB_MAX_STATES];
  for (int32_t s = 0; s < k; ++s) st[s] = ptr<float>(a[s]);
  return bnb_cuda_optim32(&h, ptr<float>(grad), n, st, k, ptr<void>(stream));
}

// The checksum (waits for the stream), or 0 as the CPU entry point gives for bad arguments.
JNIEXPORT jint JNICALL Java_org_bnb4j_internal_cuda_BnbCudaNative_absmaxChecksum(JNIEnv* env, jclass, jlongArray absmax, jlong nb,
                                                                               jlong stream) {
  jlong a[BNB_MAX_STATES];
  const int32_t k = read_addresses(env, absmax, a);
  if (k < 0 || nb <= 0) return 0;
  struct Args { const float* p[BNB_MAX_STATES]; int32_t k; jlong nb, stream; } args{};
  for (int32_t s = 0; s < k; ++s) args.p[s] = ptr<const float>(a[s]);
  args.k = k;
  args.nb = nb;
  args.stream = stream;
  uint32_t sum = 0;
  int64_t status = BNB_OK;
  read_back<uint32_t>(ptr<void>(stream), &sum, [](uint32_t* d, void* c) -> int64_t {
    const Args& x = *static_cast<Args*>(c);
    return bnb_cuda_absmax_checksum(x.p, x.k, x.nb, d, ptr<void>(x.stream));
  }, &args, &status);
  return status < 0 ? 0 : (jint)sum;
}

}  // extern "C"
