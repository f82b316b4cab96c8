// JNI entry points for org.bnb4j.nativeops.BnbNative. Arrays arrive as raw addresses of
// INDArray memory, so nothing is copied; only the small shape/stride vectors cross as arrays.
#include <jni.h>
#include <vector>
#include "bnb4j.h"

namespace {

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

template <typename T>
T* ptr(jlong address) { return reinterpret_cast<T*>(static_cast<intptr_t>(address)); }

}  // namespace

extern "C" {

JNIEXPORT jint JNICALL Java_org_bnb4j_nativeops_BnbNative_abiVersion(JNIEnv*, jclass) { return bnb_abi_version(); }

JNIEXPORT jstring JNICALL Java_org_bnb4j_nativeops_BnbNative_activeIsa(JNIEnv* env, jclass) {
  return env->NewStringUTF(bnb_active_isa());
}

JNIEXPORT jstring JNICALL Java_org_bnb4j_nativeops_BnbNative_supportedIsas(JNIEnv* env, jclass) {
  return env->NewStringUTF(bnb_supported_isas());
}

JNIEXPORT jboolean JNICALL Java_org_bnb4j_nativeops_BnbNative_selectIsa(JNIEnv* env, jclass, jstring name) {
  if (name == nullptr) return JNI_FALSE;
  const char* s = env->GetStringUTFChars(name, nullptr);
  jboolean ok = bnb_select_isa(s) ? JNI_TRUE : JNI_FALSE;
  env->ReleaseStringUTFChars(name, s);
  return ok;
}

JNIEXPORT jint JNICALL Java_org_bnb4j_nativeops_BnbNative_maxThreads(JNIEnv*, jclass) { return bnb_max_threads(); }

JNIEXPORT void JNICALL Java_org_bnb4j_nativeops_BnbNative_setThreads(JNIEnv*, jclass, jint n) { bnb_set_threads(n); }

JNIEXPORT jlong JNICALL Java_org_bnb4j_nativeops_BnbNative_parallelStalls(JNIEnv*, jclass) { return bnb_parallel_stalls(); }

JNIEXPORT void JNICALL Java_org_bnb4j_nativeops_BnbNative_setParallelSplit(JNIEnv*, jclass, jlong chunk, jlong min_per_thread) {
  bnb_set_parallel_split(chunk, min_per_thread);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_nativeops_BnbNative_codebookCreate(JNIEnv* env, jclass, jfloatArray values) {
  if (values == nullptr || env->GetArrayLength(values) != 256) return 0;
  float v[256];
  env->GetFloatArrayRegion(values, 0, 256, v);
  int64_t status = 0;
  return reinterpret_cast<jlong>(bnb_codebook_create(v, &status));
}

JNIEXPORT void JNICALL Java_org_bnb4j_nativeops_BnbNative_codebookFree(JNIEnv*, jclass, jlong handle) {
  bnb_codebook_free(ptr<bnb_codebook>(handle));
}

JNIEXPORT jint JNICALL Java_org_bnb4j_nativeops_BnbNative_absmaxChecksum(JNIEnv*, jclass, jlong a1, jlong a2, jlong a3,
                                                                          jlong nb) {
  return (jint)bnb_absmax_checksum(ptr<float>(a1), ptr<float>(a2), ptr<float>(a3), nb);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_nativeops_BnbNative_codebookCheckFast(JNIEnv*, jclass, jlong handle, jint variant,
                                                                             jint stride) {
  return bnb_codebook_check_fast(ptr<bnb_codebook>(handle), variant, stride);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_nativeops_BnbNative_quantize(
    JNIEnv* env, jclass, jlong cb, jlong src, jint dtype, jlong n, jlongArray shape, jlongArray strides,
    jlong codes, jlong absmax, jint blocksize, jboolean stochastic, jlong seed) {
  Layout l;
  if (!read_layout(env, shape, strides, &l)) return BNB_ERR_ARG;
  return bnb_quantize_blockwise(ptr<bnb_codebook>(cb), ptr<void>(src), dtype, n, l.rank,
                                l.strided ? l.shape.data() : nullptr, l.strided ? l.strides.data() : nullptr,
                                ptr<uint8_t>(codes), ptr<float>(absmax), blocksize, stochastic ? 1 : 0,
                                static_cast<uint64_t>(seed));
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_nativeops_BnbNative_dequantize(
    JNIEnv* env, jclass, jlong cb, jlong codes, jlong absmax, jlong n, jint blocksize, jlong dst, jint dtype,
    jlongArray shape, jlongArray strides) {
  Layout l;
  if (!read_layout(env, shape, strides, &l)) return BNB_ERR_ARG;
  return bnb_dequantize_blockwise(ptr<bnb_codebook>(cb), ptr<uint8_t>(codes), ptr<float>(absmax), n, blocksize,
                                  ptr<void>(dst), dtype, l.rank, l.strided ? l.shape.data() : nullptr,
                                  l.strided ? l.strides.data() : nullptr);
}

JNIEXPORT void JNICALL Java_org_bnb4j_nativeops_BnbNative_parallelCopy(JNIEnv*, jclass, jlong src, jlong dst, jlong bytes) {
  bnb_parallel_copy(ptr<void>(src), ptr<void>(dst), bytes);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_nativeops_BnbNative_optim8bit(
    JNIEnv* env, jclass, jint kind, jfloatArray hp, jboolean first_step, jlong grad, jlong n, jint blocksize,
    jlong map1, jlong codes1, jlong absmax1, jlong map2, jlong codes2, jlong absmax2, jlong codes3, jlong absmax3,
    jint byte_phase) {
  float h[BNB_OPTIM_HYPER_LEN];
  if (hp == nullptr || env->GetArrayLength(hp) != BNB_OPTIM_HYPER_LEN) return BNB_ERR_ARG;
  env->GetFloatArrayRegion(hp, 0, BNB_OPTIM_HYPER_LEN, h);
  return bnb_optim8bit_blockwise(kind, h, first_step ? 1 : 0, ptr<float>(grad), n, blocksize,
                                 ptr<bnb_codebook>(map1), ptr<uint8_t>(codes1), ptr<float>(absmax1),
                                 ptr<bnb_codebook>(map2), ptr<uint8_t>(codes2), ptr<float>(absmax2),
                                 ptr<uint8_t>(codes3), ptr<float>(absmax3), byte_phase);
}

JNIEXPORT jlong JNICALL Java_org_bnb4j_nativeops_BnbNative_optim32(
    JNIEnv* env, jclass, jint kind, jfloatArray hp, jboolean first_step, jlong grad, jlong n, jlong state1, jlong state2,
    jlong state3) {
  float h[BNB_OPTIM_HYPER_LEN];
  if (hp == nullptr || env->GetArrayLength(hp) != BNB_OPTIM_HYPER_LEN) return BNB_ERR_ARG;
  env->GetFloatArrayRegion(hp, 0, BNB_OPTIM_HYPER_LEN, h);
  return bnb_optim32(kind, h, first_step ? 1 : 0, ptr<float>(grad), n, ptr<float>(state1), ptr<float>(state2),
                     ptr<float>(state3));
}

}  // extern "C"
