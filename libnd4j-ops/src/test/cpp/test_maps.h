// The maps and hyper-parameters the native checks share (isa_check, gpu_check, gpu_bench): bitsandbytes'
// maps as org.bnb4j.quant.QuantMap builds them, the hyper-parameters of step t as org.bnb4j.optim.OptimHyper
// derives them. No CUDA here.
#pragma once
#include <algorithm>
#include <cmath>
#include <vector>
#include "bnb4j.h"

namespace bnbtest {

// torch.linspace in float32 (QuantMap.linspace).
inline std::vector<float> linspace(float start, float end, int steps) {
  std::vector<float> r(steps);
  if (steps == 1) { r[0] = start; return r; }
  const float step = (end - start) / (float)(steps - 1);
  const int half = steps / 2;
  for (int i = 0; i < steps; ++i)
    r[i] = i < half ? std::fma(step, (float)i, start) : std::fma(-step, (float)(steps - 1 - i), end);
  return r;
}

// create_dynamic_map(signed, 7, 8) (QuantMap.dynamic).
inline std::vector<float> dynamic_map(bool is_signed) {
  std::vector<float> data;
  const int non_sign = 7, max_exp = 7;
  auto add_means = [&](int items, int exponent) {
    const std::vector<float> b = linspace(0.1f, 1.0f, items);
    const float scale = (float)std::pow(10.0, exponent);
    for (int k = 0; k + 1 < items; ++k) data.push_back((b[k] + b[k + 1]) / 2.0f * scale);
    if (is_signed)
      for (int k = 0; k + 1 < items; ++k) data.push_back(-scale * ((b[k] + b[k + 1]) / 2.0f));
  };
  for (int i = 0; i < max_exp; ++i)
    add_means(is_signed ? (1 << (i + non_sign - max_exp)) + 1 : (1 << (i + non_sign - max_exp + 1)) + 1, i - (max_exp - 1));
  data.push_back(0.0f);
  data.push_back(1.0f);
  data.resize(256, 0.0f);  // zero padding, as bitsandbytes
  std::sort(data.begin(), data.end());
  return data;
}

// create_linear_map(signed) (QuantMap.linear).
inline std::vector<float> linear_map(bool is_signed) {
  if (!is_signed) return linspace(0.0f, 1.0f, 256);
  const std::vector<float> l = linspace(-1.0f, 1.0f, 255);
  std::vector<float> v(256);
  std::copy(l.begin(), l.begin() + 127, v.begin());
  v[127] = 0.0f;
  std::copy(l.begin() + 127, l.end(), v.begin() + 128);
  return v;
}

// The hyper-parameters of step t (OptimHyper.of): Adam's bias-corrected step size, AdEMAMix's corrections.
inline bnb_optim_hyper hyper(int kind, int t, float ratio) {
  bnb_optim_hyper h{};
  h.size = sizeof(bnb_optim_hyper);
  h.kind = kind;
  h.first_step = t == 1;
  h.lr = kind == 4 ? 1e-4f : 1e-3f;
  h.beta1 = kind == 2 ? 0.95f : 0.9f;
  h.beta2 = kind == 4 ? 0.99f : 0.999f;
  h.eps = 1e-8f;
  const double c1 = 1.0 - std::pow((double)h.beta1, t), c2 = std::sqrt(1.0 - std::pow((double)h.beta2, t));
  h.step_size = kind == 0 ? (float)(h.lr * c2 / c1) : h.lr;
  h.eps_hat = kind == 0 ? (float)(h.eps * c2) : h.eps;
  h.one_minus_beta1 = (float)(1.0 - h.beta1);
  h.one_minus_beta2 = (float)(1.0 - h.beta2);
  h.beta3 = 0.9999f;
  h.one_minus_beta3 = (float)(1.0 - h.beta3);
  h.alpha = 5.0f;
  h.bias_correction1 = kind == 5 ? (float)c1 : 1.0f;
  h.sqrt_bias_correction2 = kind == 5 ? (float)c2 : 1.0f;
  h.ratio1 = ratio;
  h.ratio3 = ratio;
  return h;
}

}  // namespace bnbtest
