// One 8-bit step on a copy of its inputs, and where two such steps differ: what the native checks that
// compare every SIMD path with the scalar one (isa_check, map_fuzz) share.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>
#include "bnb4j.h"

namespace bnbtest {

// A step's inputs, or its outputs: the gradient (the update after the step), each state's codes and scales.
struct Case {
  std::vector<float> grad;
  std::vector<std::vector<uint8_t>> codes;
  std::vector<std::vector<float>> absmax;
};

// One step of in on the active ISA into *out; codes of the states live in one stream when packed
// (phase >= 0). The C ABI's status.
inline int64_t run_step(const Case& in, const bnb_optim_hyper& h, const std::vector<const bnb_codebook*>& maps,
                        int blocksize, int phase, Case* out) {
  *out = in;
  const int ns = (int)in.codes.size();
  const int64_t n = (int64_t)in.grad.size();
  std::vector<uint8_t> stream;
  std::vector<bnb_state8> st(ns);
  if (phase >= 0) {
    stream.resize((size_t)n * ns);
    for (int k = 0; k < ns; ++k) std::memcpy(stream.data() + (size_t)k * n, in.codes[k].data(), n);
  }
  for (int k = 0; k < ns; ++k)
    st[k] = bnb_state8{phase >= 0 ? stream.data() + (size_t)k * n : out->codes[k].data(), out->absmax[k].data(), maps[k]};
  const int64_t r = bnb_optim8bit_blockwise(&h, out->grad.data(), n, blocksize, st.data(), ns, phase);
  if (r == BNB_OK && phase >= 0)
    for (int k = 0; k < ns; ++k) std::memcpy(out->codes[k].data(), stream.data() + (size_t)k * n, n);
  return r;
}

template <class T>
int64_t first_diff(const std::vector<T>& a, const std::vector<T>& b) {
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(T)) != 0) return (int64_t)i;
  return -1;
}

// What first differs bit for bit between two steps' outputs ("update", "codes of state m", ...) and
// where (*at); empty when they are equal.
inline std::string first_difference(const Case& want, const Case& got, const bnb_optim_info& info, int64_t* at) {
  if ((*at = first_diff(want.grad, got.grad)) >= 0) return "update";
  for (int k = 0; k < info.num_states; ++k) {
    if ((*at = first_diff(want.codes[k], got.codes[k])) >= 0) return "codes of state " + std::string(info.states[k].role);
    if ((*at = first_diff(want.absmax[k], got.absmax[k])) >= 0) return "absmax of state " + std::string(info.states[k].role);
  }
  return "";
}

}  // namespace bnbtest
