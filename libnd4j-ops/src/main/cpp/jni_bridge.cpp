// JNI entry points for org.bnb4j.internal.nativeops.BnbNative. Arrays arrive as raw addresses of
// INDArray memory, so nothing is copied; only the small shape/stride vectors cross as arrays.
#include <jni.h>
#include <cstddef>
#include <cstring>
#include <vector>
#include "bnb4j.h"
#include "jni_util.h"

namespace {

using bnb_jni::ptr;
using bnb_jni::read_addresses;
using bnb_jni::read_hyper;

struct Layout {
  int32_t rank = 0;
  std::vector<int64_t> shape, strides;
  bool strided = false;
};

// strides == null means C-contiguous; otherwise shape and strides have equal length.
bool read_layout(JNIEnv* env, jlongArray shape, jlongArray strides, Layout* out) {
  if (strides == nullptr) return true;
  if (shape == nullptr) return false;
  jsize r = env->GetArrayLength(shape);
  if (r != env->GetArrayLength(strides)) return false;
  out->rank = r;
  out->shape.resize(r);
  out->strides.resize(r);
  env->GetLongArrayRegion(shape, 0, r, reinterpret_cast<jlong*>(out->shape.data()));
  env->GetLongArrayRegion(strides, 0, r, reinterpret_cast<jlong*>(out->strides.data()));
  out->strided = true;
  return true;
}

// A paging call's result for Java: out = {status, first address, bytes}; null when ok, else the reason.
jstring paged_result(JNIEnv* env, int32_t status, bool ok, const bnb_paged_range& r, const char* msg, jlongArray out) {
  const jlong o[3] = {status, static_cast<jlong>(r.lo), static_cast<jlong>(r.len)};
  env->SetLongArrayRegion(out, 0, 3, o);
  return ok ? nullptr : env->NewStringUTF(msg);
}

// The 8-bit step on every block (block_end < 0) or on blocks [block_begin, block_end).
jlong optim8bit_blocks(JNIEnv* env, jintArray hyper, jlong grad, jlong n, jint blocksize, jlongArray codes, jlongArray absmax,
                       jlongArray maps, jint byte_phase, jlong block_begin, jlong block_end) {
  bnb_optim_hyper h;
  jlong c[BNB_MAX_STATES], a[BNB_MAX_STATES], m[BNB_MAX_STATES];
  const int32_t k = bnb_jni::read_step8(env, hyper, codes, absmax, maps, &h, c, a, m);
  if (k < 0) return BNB_ERR_ARG;
  bnb_state8 st[BNB_MAX_STATES];
  for (int32_t s = 0; s < k; ++s) st[s] = bnb_state8{ptr<uint8_t>(c[s]), ptr<float>(a[s]), ptr<bnb_codebook>(m[s])};
  if (block_end < 0) return bnb_optim8bit_blockwise(&h, ptr<float>(grad), n, blocksize, st, k, byte_phase);
  return bnb_optim8bit_blockwise_range(&h, ptr<float>(grad), n, blocksize, st, k, byte_phase, block_begin, block_end);
}
}  // namespace

extern "C" {

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_abiVersion(JNIEnv*, jclass) { return bnb_abi_version(); }

JNIEXPORT jstring JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_activeIsa(JNIEnv* env, jclass) {
  return env->NewStringUTF(bnb_active_isa());
}

JNIEXPORT jstring JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_supportedIsas(JNIEnv* env, jclass) {
  return env->NewStringUTF(bnb_supported_isas());
}

JNIEXPORT jboolean JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_selectIsa(JNIEnv* env, jclass, jstring name) {
  if (name == nullptr) return JNI_FALSE;
  const char* s = env->GetStringUTFChars(name, nullptr);
  jboolean ok = bnb_select_isa(s) ? JNI_TRUE : JNI_FALSE;
  env->ReleaseStringUTFChars(name, s);
  return ok;
}

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_maxThreads(JNIEnv*, jclass) { return bnb_max_threads(); }

JNIEXPORT void JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_setThreads(JNIEnv*, jclass, jint n) { bnb_set_threads(n); }

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_parallelStalls(JNIEnv*, jclass) { return bnb_parallel_stalls(); }

JNIEXPORT void JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_setParallelSplit(JNIEnv*, jclass, jlong chunk, jlong min_per_thread) {
  bnb_set_parallel_split(chunk, min_per_thread);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_codebookCreate(JNIEnv* env, jclass, jfloatArray values) {
  float v[256];
  if (!bnb_jni::read_map(env, values, v)) return 0;
  int64_t status = 0;
  return reinterpret_cast<jlong>(bnb_codebook_create(v, &status));
}

JNIEXPORT void JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_codebookFree(JNIEnv*, jclass, jlong handle) {
  bnb_codebook_free(ptr<bnb_codebook>(handle));
}

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_absmaxChecksum(JNIEnv* env, jclass, jlongArray absmax, jlong nb) {
  jlong a[BNB_MAX_STATES];
  const int32_t k = read_addresses(env, absmax, a);
  if (k < 0) return 0;
  const float* p[BNB_MAX_STATES];
  for (int32_t s = 0; s < k; ++s) p[s] = ptr<float>(a[s]);
  return (jint)bnb_absmax_checksum(p, k, nb);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_codebookCheckFast(JNIEnv*, jclass, jlong handle, jint variant,
                                                                             jint stride) {
  return bnb_codebook_check_fast(ptr<bnb_codebook>(handle), variant, stride);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_quantize(
    JNIEnv* env, jclass, jlong cb, jlong src, jint dtype, jlong n, jlongArray shape, jlongArray strides,
    jlong codes, jlong absmax, jint blocksize, jboolean stochastic, jlong seed) {
  Layout l;
  if (!read_layout(env, shape, strides, &l)) return BNB_ERR_ARG;
  return bnb_quantize_blockwise(ptr<bnb_codebook>(cb), ptr<void>(src), dtype, n, l.rank,
                                l.strided ? l.shape.data() : nullptr, l.strided ? l.strides.data() : nullptr,
                                ptr<uint8_t>(codes), ptr<float>(absmax), blocksize, stochastic ? 1 : 0,
                                static_cast<uint64_t>(seed));
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_dequantize(
    JNIEnv* env, jclass, jlong cb, jlong codes, jlong absmax, jlong n, jint blocksize, jlong dst, jint dtype,
    jlongArray shape, jlongArray strides) {
  Layout l;
  if (!read_layout(env, shape, strides, &l)) return BNB_ERR_ARG;
  return bnb_dequantize_blockwise(ptr<bnb_codebook>(cb), ptr<uint8_t>(codes), ptr<float>(absmax), n, blocksize,
                                  ptr<void>(dst), dtype, l.rank, l.strided ? l.shape.data() : nullptr,
                                  l.strided ? l.strides.data() : nullptr);
}

JNIEXPORT void JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_parallelCopy(JNIEnv*, jclass, jlong src, jlong dst, jlong bytes) {
  bnb_parallel_copy(ptr<void>(src), ptr<void>(dst), bytes);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_optim8bit(JNIEnv* env, jclass, jintArray hyper, jlong grad, jlong n,
                                                                      jint blocksize, jlongArray codes, jlongArray absmax,
                                                                      jlongArray maps, jint byte_phase) {
  return optim8bit_blocks(env, hyper, grad, n, blocksize, codes, absmax, maps, byte_phase, 0, -1);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_optim8bitRange(JNIEnv* env, jclass, jintArray hyper, jlong grad,
                                                                          jlong n, jint blocksize, jlongArray codes,
                                                                          jlongArray absmax, jlongArray maps, jint byte_phase,
                                                                          jlong block_begin, jlong block_end) {
  if (block_end < 0) return BNB_ERR_ARG;
  return optim8bit_blocks(env, hyper, grad, n, blocksize, codes, absmax, maps, byte_phase, block_begin, block_end);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_optim32(JNIEnv* env, jclass, jintArray hyper, jlong grad, jlong n,
                                                                   jlongArray states) {
  bnb_optim_hyper h;
  jlong a[BNB_MAX_STATES];
  const int32_t k = read_addresses(env, states, a);
  if (!read_hyper(env, hyper, &h) || k < 0) return BNB_ERR_ARG;
  float* st[BNB_MAX_STATES];
  for (int32_t s = 0; s < k; ++s) st[s] = ptr<float>(a[s]);
  return bnb_optim32(&h, ptr<float>(grad), n, st, k);
}

// Paged memory: null on success (out = {status, lo, len}); otherwise the reason, and out[0] the status.
JNIEXPORT jstring JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_pageMap(JNIEnv* env, jclass, jlong addr, jlong len, jlong root,
                                                                     jlong root_bytes, jstring dir, jint mode, jlongArray out) {
  if (dir == nullptr || out == nullptr || env->GetArrayLength(out) < 3 || len < 0 || root_bytes < 0) return env->NewStringUTF("bad arguments");
  const char* d = env->GetStringUTFChars(dir, nullptr);
  if (d == nullptr) return nullptr;  // OutOfMemoryError pending
  bnb_paged_range r{};
  char msg[512] = {};
  const int32_t status = bnb_page_map(ptr<void>(addr), static_cast<uint64_t>(len), ptr<void>(root), static_cast<uint64_t>(root_bytes), d,
                                      mode, &r, msg, sizeof msg);
  env->ReleaseStringUTFChars(dir, d);
  return paged_result(env, status, status == BNB_PAGE_OK || status == BNB_PAGE_ALREADY, r, msg, out);
}

// Paged memory of its own: null on success (out = {status, address, bytes}); otherwise the reason.
JNIEXPORT jstring JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_pageAlloc(JNIEnv* env, jclass, jlong bytes, jstring dir, jlongArray out) {
  if (dir == nullptr || out == nullptr || env->GetArrayLength(out) < 3 || bytes <= 0) return env->NewStringUTF("bad arguments");
  const char* d = env->GetStringUTFChars(dir, nullptr);
  if (d == nullptr) return nullptr;  // OutOfMemoryError pending
  bnb_paged_range r{};
  char msg[512] = {};
  const int32_t status = bnb_page_alloc(static_cast<uint64_t>(bytes), d, &r, msg, sizeof msg);
  env->ReleaseStringUTFChars(dir, d);
  return paged_result(env, status, status == BNB_PAGE_OK, r, msg, out);
}

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_pageFree(JNIEnv*, jclass, jlong addr, jlong len) {
  return len <= 0 ? -22 : bnb_page_free(ptr<void>(addr), static_cast<uint64_t>(len));
}

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_pageAdvise(JNIEnv*, jclass, jlong addr, jlong len, jint advice) {
  return len < 0 ? -22 : bnb_page_advise(ptr<void>(addr), static_cast<uint64_t>(len), advice);
}

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_pageFlush(JNIEnv*, jclass, jlong addr, jlong len) {
  return len < 0 ? -22 : bnb_page_flush(ptr<void>(addr), static_cast<uint64_t>(len));
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_pageResident(JNIEnv*, jclass, jlong addr, jlong len) {
  return len < 0 ? -22 : bnb_page_resident(ptr<void>(addr), static_cast<uint64_t>(len));
}

JNIEXPORT jint JNICALL Java_org_bnb4j_internal_nativeops_BnbNative_describeOptimizer(JNIEnv* env, jclass, jint kind, jintArray flags,
                                                                           jobjectArray names) {
  bnb_optim_info info;
  if (flags == nullptr || names == nullptr || env->GetArrayLength(flags) < BNB_MAX_STATES ||
      env->GetArrayLength(names) < BNB_MAX_STATES + 1 || bnb_optim_describe(kind, &info) != BNB_OK)
    return -1;
  jint f[BNB_MAX_STATES] = {};
  for (int32_t s = 0; s < info.num_states; ++s) f[s] = info.states[s].signed_map | info.states[s].sign_fix << 1;
  env->SetIntArrayRegion(flags, 0, BNB_MAX_STATES, f);
  auto put = [&](jsize at, const char* text) {
    jstring j = env->NewStringUTF(text);
    if (j == nullptr) return false;  // OutOfMemoryError pending
    env->SetObjectArrayElement(names, at, j);
    env->DeleteLocalRef(j);
    return !env->ExceptionCheck();
  };
  if (!put(0, info.name)) return -1;
  for (int32_t s = 0; s < info.num_states; ++s)
    if (!put(s + 1, info.states[s].role)) return -1;
  return info.num_states;
}

}  // extern "C"
