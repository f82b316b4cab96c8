// JNI helpers shared by libbnb4j (jni_bridge.cpp) and libbnb4j_cuda (jni_cuda.cpp): raw addresses,
// the hyper-parameter words and the per-state address arrays cross the same way into both libraries.
#pragma once
#include <jni.h>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include "bnb4j.h"

namespace bnb_jni {

template <typename T>
T* ptr(jlong address) { return reinterpret_cast<T*>(static_cast<intptr_t>(address)); }

// The hyper-parameters as Java lays them out (OptimHyper.toWords): the words of bnb_optim_hyper, floats
// as raw bits. The array's length must be the struct's; its size word is checked by the entry point.
inline bool read_hyper(JNIEnv* env, jintArray words, bnb_optim_hyper* out) {
  static_assert(sizeof(bnb_optim_hyper) % 4 == 0 && sizeof(jint) == 4, "bnb_optim_hyper is a run of 32-bit words");
  constexpr jsize kWords = sizeof(bnb_optim_hyper) / 4;
  if (words == nullptr || env->GetArrayLength(words) != kWords) return false;
  jint w[kWords];
  env->GetIntArrayRegion(words, 0, kWords, w);
  std::memcpy(out, w, sizeof(bnb_optim_hyper));
  return true;
}

// The word offsets Java's OptimHyper writes (its W_* constants).
#define BNB_HYPER_WORD(field, word) static_assert(offsetof(bnb_optim_hyper, field) == 4 * (word), #field " is not word " #word)
BNB_HYPER_WORD(size, 0);
BNB_HYPER_WORD(kind, 1);
BNB_HYPER_WORD(first_step, 2);
BNB_HYPER_WORD(lr, 3);
BNB_HYPER_WORD(beta1, 4);
BNB_HYPER_WORD(beta2, 5);
BNB_HYPER_WORD(eps, 6);
BNB_HYPER_WORD(step_size, 7);
BNB_HYPER_WORD(eps_hat, 8);
BNB_HYPER_WORD(one_minus_beta1, 9);
BNB_HYPER_WORD(one_minus_beta2, 10);
BNB_HYPER_WORD(beta3, 11);
BNB_HYPER_WORD(one_minus_beta3, 12);
BNB_HYPER_WORD(alpha, 13);
BNB_HYPER_WORD(bias_correction1, 14);
BNB_HYPER_WORD(sqrt_bias_correction2, 15);
BNB_HYPER_WORD(ratio1, 16);
BNB_HYPER_WORD(ratio3, 17);
static_assert(sizeof(bnb_optim_hyper) == 4 * 18, "OptimHyper.WORDS");
#undef BNB_HYPER_WORD

// One address per state (1 .. BNB_MAX_STATES of them): the count, or -1.
inline int32_t read_addresses(JNIEnv* env, jlongArray a, jlong* out) {
  if (a == nullptr) return -1;
  const jsize k = env->GetArrayLength(a);
  if (k < 1 || k > BNB_MAX_STATES) return -1;
  env->GetLongArrayRegion(a, 0, k, out);
  return k;
}

// The arguments of an 8-bit step as both libraries take them: the hyper-parameter words and, per state,
// the addresses of its codes, its absmax and its map (three arrays of one length). The state count, or -1.
inline int32_t read_step8(JNIEnv* env, jintArray hyper, jlongArray codes, jlongArray absmax, jlongArray maps,
                          bnb_optim_hyper* h, jlong* c, jlong* a, jlong* m) {
  const int32_t k = read_addresses(env, codes, c);
  if (!read_hyper(env, hyper, h) || k < 0 || read_addresses(env, absmax, a) != k || read_addresses(env, maps, m) != k)
    return -1;
  return k;
}

// A map's 256 values (a Java float[256]); false for another length.
inline bool read_map(JNIEnv* env, jfloatArray values, float* out) {
  if (values == nullptr || env->GetArrayLength(values) != 256) return false;
  env->GetFloatArrayRegion(values, 0, 256, out);
  return true;
}

}  // namespace bnb_jni
