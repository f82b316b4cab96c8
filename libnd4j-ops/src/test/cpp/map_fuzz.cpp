// Custom maps against the scalar path: the C ABI takes any sorted map per optimizer state, and the SIMD
// steps search each map through tables built from the scalar rule (kernels.h StateByteTables, FastEnc,
// the packed table) where the map fits them, and through the general path where it does not. This
// generates maps of many kinds (random, clustered, denormal, runs of equal values, +-0 mixes, one value
// of a sign, spans of a few ulps or up to FLT_MAX, bitsandbytes' maps perturbed by ulps, the
// nearer-neighbour codes 1 and 254 at their edges, ...) and checks, for each:
//   - every table form against the rule on a sample of |y| < 2 (bnb_codebook_check_fast: 0 or -1,
//     never a mismatch) and densely around every map value and midpoint;
//   - a sign-fixed state whose map the sign fix could leave is refused (BNB_ERR_ARG) on every ISA;
//   - otherwise every optimizer's 8-bit step on every ISA of this CPU, plain and packed bytes, with
//     edge, random and non-finite gradients and scales, equals the scalar path bit for bit.
// usage: map_fuzz [maps (default 8 per kind)] [seed] [stride]; exits 1 at any failure. Maven runs the
// default in libnd4j-ops' test phase (seconds); larger runs are for changes to the tables.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include "bnb4j.h"
#include "kernels.h"
#include "step_case.h"
#include "test_maps.h"

namespace {

using Rng = std::mt19937_64;

float u2f_(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }
uint32_t f2u_(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
// floats as integers in the same order
int64_t ordf(float x) { uint32_t u = f2u_(x); return (u >> 31) ? -(int64_t)(u & 0x7fffffffu) : (int64_t)u; }
float fromord(int64_t o) {
  if (o >= 0) return u2f_((uint32_t)std::min<int64_t>(o, 0x7f7fffff));
  return u2f_(0x80000000u | (uint32_t)std::min<int64_t>(-o, 0x7f7fffff));
}

const char* kKindNames[] = {"uniform[-1,1]", "uniform[0,1]", "gaussian", "clustered-near-0", "denormals",
                            "runs-of-equal", "pm-zero-mix", "all-neg-except-few", "one-negative", "tiny-span",
                            "huge-span", "dynamic-ulp-perturbed", "linear-perturbed", "dynamic-scaled",
                            "near-2-boundary", "random-bits", "nn-edge-codes-1-254", "few-distinct",
                            "all-equal", "dynamic-denormal-scaled", "one-positive", "sym-no-zero-ulp"};
constexpr int kNumKinds = sizeof(kKindNames) / sizeof(kKindNames[0]);

float rand_finite_bits(Rng& r) {
  for (;;) {
    float f = u2f_((uint32_t)r());
    if (std::isfinite(f)) return f;
  }
}

void perturb_ulps(std::vector<float>& v, Rng& r, int count, int maxulp) {
  std::uniform_int_distribution<int> idx(0, 255), d(-maxulp, maxulp);
  for (int i = 0; i < count; ++i) {
    int k = idx(r);
    v[k] = fromord(ordf(v[k]) + d(r));
  }
}

std::vector<float> gen_map(int kind, Rng& r) {
  std::vector<float> v(256);
  std::uniform_real_distribution<float> u01(0.0f, 1.0f), um1(-1.0f, 1.0f);
  std::uniform_int_distribution<int> idx(0, 255);
  switch (kind) {
    case 0: for (auto& x : v) x = um1(r); if (r() % 2) { v[0] = -1; v[255] = 1; } break;
    case 1: for (auto& x : v) x = u01(r); if (r() % 2) { v[0] = 0; v[255] = 1; } break;
    case 2: { std::normal_distribution<float> nd(0.0f, std::pow(10.0f, um1(r) * 3)); for (auto& x : v) x = nd(r); break; }
    case 3: for (auto& x : v) { x = std::pow(10.0f, -40.0f * u01(r)) * ((r() & 1) ? -1.0f : 1.0f); } break;
    case 4: {
      for (auto& x : v) {
        uint32_t m = (uint32_t)(r() % 0x00800000u);
        if (r() % 4 == 0) m = (uint32_t)(r() % 64);
        x = u2f_(m | ((r() & 1) ? 0x80000000u : 0));
      }
      int extra = (int)(r() % 5);
      for (int i = 0; i < extra; ++i) v[idx(r)] = um1(r);
      break;
    }
    case 5: {
      v = bnbtest::dynamic_map(r() % 2);
      int runs = 1 + (int)(r() % 6);
      for (int q = 0; q < runs; ++q) {
        int a = idx(r), len = 1 + (int)(r() % 20);
        for (int i = a; i < std::min(256, a + len); ++i) v[i] = v[a];
      }
      break;
    }
    case 6: {
      v = bnbtest::dynamic_map(true);
      int zeros = 1 + (int)(r() % 12);
      for (int i = 0; i < zeros; ++i) v[idx(r)] = (r() & 1) ? -0.0f : 0.0f;
      if (r() % 3 == 0) for (auto& x : v) if (x == 0.0f) x = (r() & 1) ? -0.0f : 0.0f;
      break;
    }
    case 7: {
      for (auto& x : v) x = -u01(r) * std::pow(10.0f, um1(r) * 2);
      int k = 1 + (int)(r() % 3);
      for (int i = 0; i < k; ++i) v[i] = (r() % 3 == 0) ? 0.0f : u01(r) * ((r() & 1) ? 1e-6f : 1.0f);
      break;
    }
    case 8: {
      v = (r() % 2) ? bnbtest::dynamic_map(false) : bnbtest::linear_map(false);
      if (r() % 2) for (auto& x : v) x = u01(r);
      float neg[] = {-1.0f, -1e-3f, -1e-38f, -1e-45f, -0.5f, -2.0f, -FLT_MAX, -0.0f};
      v[0] = neg[r() % 8];
      if (r() % 3 == 0) v[1] = 0.0f;
      break;
    }
    case 9: {
      float c = um1(r) * std::pow(10.0f, um1(r) * 10);
      int spanulps = 1 + (int)(r() % 2000);
      std::uniform_int_distribution<int> d(-spanulps, spanulps);
      for (auto& x : v) x = fromord(ordf(c) + d(r));
      if (r() % 2) { v[0] = -v[0]; }
      break;
    }
    case 10: {
      for (auto& x : v) x = std::pow(10.0f, -45.0f + 83.5f * u01(r)) * ((r() & 1) ? -1.0f : 1.0f);
      for (auto& x : v) if (!std::isfinite(x)) x = FLT_MAX;
      if (r() % 2) { v[0] = -FLT_MAX; v[255] = FLT_MAX; }
      if (r() % 3 == 0) { v[1] = -FLT_MAX; v[254] = FLT_MAX; }
      break;
    }
    case 11: {
      v = bnbtest::dynamic_map(r() % 4 != 0);
      perturb_ulps(v, r, 1 + (int)(r() % 40), 1 + (int)(r() % 3));
      break;
    }
    case 12: {
      v = bnbtest::linear_map(r() % 2);
      perturb_ulps(v, r, 1 + (int)(r() % 60), 1 + (int)(r() % 4));
      break;
    }
    case 13: {
      v = bnbtest::dynamic_map(r() % 2);
      float s = std::pow(2.0f, (float)(int)(r() % 20) - 10.0f);
      if (r() % 2) s *= 1.0f + u01(r);
      for (auto& x : v) x *= s;
      break;
    }
    case 14: {
      v = bnbtest::dynamic_map(r() % 2);
      float s = 2.0f * (1.0f + 0.001f * u01(r));
      if (r() % 2) s = 2.0f;
      for (auto& x : v) x *= s;
      for (int i = 0; i < 6; ++i) v[idx(r)] = fromord(ordf((r() & 1) ? 2.0f : -2.0f) + (int)(r() % 5) - 2);
      break;
    }
    case 15: for (auto& x : v) x = rand_finite_bits(r); break;
    case 16: {
      v = bnbtest::dynamic_map(true);
      if (r() % 2) v = bnbtest::linear_map(true);
      // code 1 / 254 close to a neighbour, or exactly at their midpoint, or tiny gaps
      int mode = (int)(r() % 4);
      if (mode == 0) { v[1] = v[0]; v[254] = v[255]; }
      else if (mode == 1) { v[1] = (v[0] + v[2]) * 0.5f; v[254] = (v[253] + v[255]) * 0.5f; }
      else if (mode == 2) { v[1] = std::nextafter(v[0], 2.0f); v[254] = std::nextafter(v[255], -2.0f); }
      else { v[0] = -1e-30f; v[1] = -1e-31f; v[2] = 0; v[253] = 1e-31f; v[254] = 1e-30f; v[255] = 1e-29f; }
      perturb_ulps(v, r, (int)(r() % 4), 1);
      break;
    }
    case 17: {
      int k = 2 + (int)(r() % 5);
      std::vector<float> d(k);
      for (auto& x : d) x = um1(r);
      if (r() % 2) d[0] = -0.0f;
      for (auto& x : v) x = d[r() % k];
      break;
    }
    case 18: {
      float vals[] = {0.0f, -0.0f, 1.0f, -1.0f, 1e-40f, FLT_MAX, 0.5f};
      float c = vals[r() % 7];
      for (auto& x : v) x = c;
      if (r() % 2) v[0] = -1.0f;
      if (r() % 2) v[255] = 1.0f;
      break;
    }
    case 19: {
      v = bnbtest::dynamic_map(r() % 3 != 0);
      float s = std::pow(2.0f, -(float)(100 + (int)(r() % 50)));
      for (auto& x : v) x *= s;
      if (r() % 2) { v[255] = 1.0f; }
      break;
    }
    case 20: {
      for (auto& x : v) x = -u01(r);
      v[255] = (r() % 2) ? 1.0f : u01(r) * 1e-3f;
      if (r() % 3 == 0) v[255] = 0.0f;
      break;
    }
    default: {
      std::vector<float> sym(256);
      for (int k = 0; k < 128; ++k) { sym[128 + k] = (k + 0.5f) / 128.0f; sym[127 - k] = -sym[128 + k]; }
      v = sym;
      perturb_ulps(v, r, 1 + (int)(r() % 20), 1);
      if (r() % 2) { v[127] = -1e-45f; v[128] = 1e-45f; }
      break;
    }
  }
  std::sort(v.begin(), v.end());
  return v;
}

using bnbtest::Case;

std::vector<float> edge_values(const std::vector<float>& v, Rng& r) {
  std::vector<float> e;
  auto around = [&](float x, int k) {
    for (int d = -k; d <= k; ++d) e.push_back(fromord(ordf(x) + d));
  };
  for (int i = 0; i < 256; ++i) {
    around(v[i], 2);
    if (i < 255) around((v[i] + v[i + 1]) * 0.5f, 2);
  }
  around((v[0] + v[2]) * 0.5f, 3);
  around((v[253] + v[255]) * 0.5f, 3);
  for (float x : {0.0f, -0.0f, 1e-45f, -1e-45f, 1e-40f, -1e-40f, 1.1754944e-38f, -1.1754944e-38f, 1e-30f, -1e-30f}) e.push_back(x);
  for (int i = 0; i < 200; ++i) e.push_back(u2f_((uint32_t)(r() % 0x3f800000u) | ((r() & 1) ? 0x80000000u : 0)));
  std::vector<float> in;
  for (float x : e) if (std::fabs(x) <= 1.0f) in.push_back(x);
  std::shuffle(in.begin(), in.end(), r);
  return in;
}

Case make_case(int num_states, int64_t n, int blocksize, const std::vector<float>& edges, int mode, Rng& rng) {
  Case c;
  const int64_t nb = (n + blocksize - 1) / blocksize;
  std::normal_distribution<float> nd(0.0f, 0.01f);
  std::uniform_real_distribution<float> scale(0.001f, 2.0f);
  c.grad.resize(n);
  size_t e = rng() % edges.size();
  const bool extremes = mode >= 1;
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t lo = b * blocksize, hi = std::min<int64_t>(n, lo + blocksize);
    const int bk = (int)(b % 4);
    for (int64_t i = lo; i < hi; ++i) {
      if (mode == 2 || bk == 3) c.grad[i] = nd(rng);
      else c.grad[i] = edges[e++ % edges.size()];
    }
    c.grad[lo] = (b % 2 == 0) ? 1.0f : -1.0f;
    if (extremes) {
      switch ((int)((b + rng() % 2) % 8)) {
        case 0: c.grad[lo + rng() % (hi - lo)] = std::numeric_limits<float>::quiet_NaN(); break;
        case 1: c.grad[lo + (hi - lo) / 2] = -std::numeric_limits<float>::infinity(); break;
        case 2: for (int64_t i = lo; i < hi; ++i) c.grad[i] *= 1e-39f; break;
        case 3: for (int64_t i = lo; i < hi; ++i) c.grad[i] = (i % 2) ? -0.0f : 0.0f; break;
        case 4: c.grad[lo + 1] = 3e19f; break;
        case 5: for (int64_t i = lo; i < hi; ++i) c.grad[i] = u2f_((uint32_t)(rng() % 0x800000u) | ((rng() & 1) ? 0x80000000u : 0)); break;
        case 6: c.grad[lo + rng() % (hi - lo)] = std::numeric_limits<float>::infinity(); c.grad[lo + rng() % (hi - lo)] = std::numeric_limits<float>::quiet_NaN(); break;
        default: break;
      }
    }
  }
  c.codes.resize(num_states);
  c.absmax.resize(num_states);
  for (int k = 0; k < num_states; ++k) {
    c.codes[k].resize(n);
    for (auto& x : c.codes[k]) x = (uint8_t)rng();
    c.absmax[k].resize(nb);
    for (int64_t b = 0; b < nb; ++b) {
      float a = scale(rng);
      if (extremes) {
        switch ((int)((b + k + rng() % 2) % 7)) {
          case 1: a = 1e-39f; break;
          case 2: a = 0.0f; break;
          case 3: a = std::numeric_limits<float>::infinity(); break;
          case 4: a = std::numeric_limits<float>::quiet_NaN(); break;
          case 5: a = 1e-44f; break;
          default: break;
        }
      }
      c.absmax[k][b] = a;
    }
  }
  return c;
}

// The state byte tables against the rule itself, densely: +-40 ulps around every map value, midpoint and
// zero, a few whole 16-bit ranges, random |y| < 2. Mismatches, or -1 where the tables do not fit.
int64_t dense_check(const bnb::Codebook& cb, bool sf, bool top, Rng& r) {
  const bnb::StateByteTables* t = bnb::state_byte_tables(cb);
  if (t == nullptr || !t->ok[sf]) return -1;
  const uint32_t* entry = t->entry[sf][top];
  const bnb::Slot slot = top ? bnb::kFloatTop : bnb::kPlain;
  int64_t bad = 0;
  auto test = [&](float y) {
    if (!(std::fabs(y) < 2.0f)) return;
    const uint8_t want = bnb::state_byte(cb.values, y, 1.0f, sf, slot), got = bnb::state_byte_lookup(entry, y);
    if (got != want && bad++ < 3) std::printf("    sign fix %d, top %d, y %a: table %u, rule %u\n", sf, top, (double)y, got, want);
  };
  std::vector<float> pts(cb.values, cb.values + 256);
  for (int i = 0; i < 255; ++i) pts.push_back((cb.values[i] + cb.values[i + 1]) * 0.5f);
  pts.push_back((cb.values[0] + cb.values[2]) * 0.5f);
  pts.push_back((cb.values[253] + cb.values[255]) * 0.5f);
  pts.push_back(0.0f);
  for (float p : pts)
    for (int d = -40; d <= 40; ++d) {
      const float y = fromord(ordf(p) + d);
      test(y);
      test(-y);
    }
  for (int q = 0; q < 4; ++q) {
    uint32_t hi = q < 2 ? f2u_(cb.values[r() % 256]) >> 16 : (uint32_t)(r() % 0x4000u) | ((r() & 1) ? 0x8000u : 0);
    for (uint32_t lo = 0; lo < 65536; ++lo) test(u2f_(hi << 16 | lo));
  }
  for (int q = 0; q < 20000; ++q) test(u2f_((uint32_t)(r() % 0x40000000u) | ((r() & 1) ? 0x80000000u : 0)));
  return bad;
}

// The step of every optimizer on every ISA against the scalar path, with the map under test on the
// states that can take it (cfg 0: every state that can; cfg 1: one state, bitsandbytes' maps on the
// others). Returns false at the first difference, after printing it.
bool steps_equal(const std::vector<float>& v, bnb_codebook* cb, bnb_codebook* dyn_signed, bnb_codebook* dyn_unsigned,
                 const std::vector<std::string>& isas, Rng& r, int64_t* steps) {
  // the C ABI's rule for a sign-fixed state's map (bnb4j.h)
  const bool fixable = std::signbit(v[0]) && !std::signbit(v[255]) && bnb::search_reference(v.data(), 0.0f) != 0;
  const std::vector<float> edges = edge_values(v, r);
  for (int kind = 0; kind < 64; ++kind) {
    bnb_optim_info info{};
    if (bnb_optim_describe(kind, &info) != BNB_OK) continue;
    for (int cfg = 0; cfg < 3; ++cfg) {
      // cfg 2: the map on a sign-fixed state it cannot serve, which must be refused
      std::vector<const bnb_codebook*> maps(info.num_states);
      bool uses = false, refused = false;
      for (int k = 0; k < info.num_states; ++k) {
        const bool mine = cfg == 2 ? info.states[k].sign_fix && !fixable
                          : info.states[k].sign_fix ? fixable && (cfg == 0 || k == 0)
                                                    : cfg == 0;
        maps[k] = mine ? cb : info.states[k].sign_fix ? dyn_signed : dyn_unsigned;
        uses = uses || mine;
        refused = refused || (mine && cfg == 2);
      }
      if (!uses) continue;
      const int blocksize = (r() % 2) ? 64 : 256;
      const int64_t n = 5 * (int64_t)blocksize + 37;
      for (int mode = 0; mode < 3; ++mode) {
        const int t = mode == 0 ? 1 : 1 + (int)(r() % 3);
        const bnb_optim_hyper h = bnbtest::hyper(kind, t, (r() % 3 == 0) ? 2.0f : INFINITY);
        const Case in = make_case(info.num_states, n, blocksize, edges, mode, r);
        for (int phase = -1; phase <= 3; ++phase) {
          Case want, got;
          bnb_select_isa("scalar");
          const int64_t rs = bnbtest::run_step(in, h, maps, blocksize, phase, &want);
          if (refused != (rs == BNB_ERR_ARG) || (!refused && rs != BNB_OK)) {
            std::printf("  %s: status %lld on the scalar path, %s\n", info.name, (long long)rs,
                        refused ? "expected BNB_ERR_ARG (a sign fix that can leave the map)" : "expected BNB_OK");
            return false;
          }
          for (const std::string& isa : isas) {
            bnb_select_isa(isa.c_str());
            const int64_t ri = bnbtest::run_step(in, h, maps, blocksize, phase, &got);
            ++*steps;
            if (ri != rs) {
              std::printf("  %s on %s: status %lld, the scalar path's %lld\n", info.name, isa.c_str(), (long long)ri, (long long)rs);
              return false;
            }
            if (refused) continue;
            int64_t at = -1;
            const std::string what = bnbtest::first_difference(want, got, info, &at);
            if (!what.empty()) {
              std::printf("  %s on %s, blocksize %d, phase %d, t %d, input mode %d, maps cfg %d: %s differs at %lld\n", info.name,
                          isa.c_str(), blocksize, phase, t, mode, cfg, what.c_str(), (long long)at);
              return false;
            }
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const int num_maps = argc > 1 ? std::atoi(argv[1]) : 8 * kNumKinds;
  const uint64_t seed0 = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1;
  const int stride = argc > 3 ? std::atoi(argv[3]) : 65537;
  std::vector<std::string> isas;
  {
    std::stringstream ss(bnb_supported_isas());
    std::string s;
    while (std::getline(ss, s, ',')) if (!s.empty() && s != "scalar") isas.push_back(s);
  }
  const std::string initial = bnb_active_isa();
  int64_t st = 0;
  bnb_codebook* dyn_signed = bnb_codebook_create(bnbtest::dynamic_map(true).data(), &st);
  bnb_codebook* dyn_unsigned = bnb_codebook_create(bnbtest::dynamic_map(false).data(), &st);
  int64_t failures = 0, steps = 0, fits = 0;
  for (int mi = 0; mi < num_maps; ++mi) {
    const uint64_t seed = seed0 * 1000003ull + (uint64_t)mi;
    Rng r(seed);
    const int kind = mi % kNumKinds;
    const std::vector<float> v = gen_map(kind, r);
    bnb_codebook* cb = bnb_codebook_create(v.data(), &st);
    if (cb == nullptr) {
      std::printf("FAIL map %d (%s, seed %llu): not accepted (%lld)\n", mi, kKindNames[kind], (unsigned long long)seed, (long long)st);
      ++failures;
      continue;
    }
    bool ok = true;
    for (int variant = 0; variant <= 5; ++variant) {
      const int64_t bad = bnb_codebook_check_fast(cb, variant, stride);
      if (bad > 0) {
        std::printf("  table variant %d: %lld mismatches\n", variant, (long long)bad);
        ok = false;
      }
      fits += bad == 0;
    }
    for (int sf = 0; sf < 2; ++sf)
      for (int top = 0; top < 2; ++top)
        if (dense_check(*reinterpret_cast<const bnb::Codebook*>(cb), sf, top, r) > 0) ok = false;
    ok = ok && steps_equal(v, cb, dyn_signed, dyn_unsigned, isas, r, &steps);
    if (!ok) {
      std::printf("FAIL map %d (%s, seed %llu; map_fuzz %d %llu regenerates it)\n", mi, kKindNames[kind], (unsigned long long)seed,
                  mi + 1, (unsigned long long)seed0);
      ++failures;
    }
    bnb_codebook_free(cb);
  }
  bnb_select_isa(initial.c_str());
  bnb_codebook_free(dyn_signed);
  bnb_codebook_free(dyn_unsigned);
  if (failures == 0)
    std::printf("PASS map_fuzz: %d custom maps (%lld of %d table forms fit), %lld steps on %zu ISAs equal to the scalar path\n",
                num_maps, (long long)fits, 6 * num_maps, (long long)steps, isas.size());
  return failures == 0 ? 0 : 1;
}
