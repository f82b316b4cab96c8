// Every SIMD path of the fused 8-bit steps against the scalar reference path, through the C ABI, on what
// the Java tests cannot reach: maps other than the optimizers' two dynamic maps (the C ABI takes any
// sorted map per state), states placed exactly on map values, on the search's midpoints and one ulp to
// either side (its ties, the sign fix, the nearer-neighbour rule at packed top bytes), and non-finite
// input. The scalar path itself is checked against the Java oracle by the Java tests.
//
// Momentum's first step stores the gradient itself (s = g), so a block whose largest magnitude is 1 puts
// its states at exactly the chosen normalised values. Every optimizer, hyper-parameter set, blocksize,
// byte phase (plain bytes, FLOAT words at positions 0-3) and map runs on every ISA of this CPU; the
// gradient, codes and scales must equal the scalar path's bit for bit. Prints a line per ISA, exits 1 at
// the first difference. Maven runs it in libnd4j-ops' test phase.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>
#include "bnb4j.h"
#include "optim.h"
#include "step_case.h"
#include "test_maps.h"

namespace {

using bnbtest::Case;
using bnbtest::dynamic_map;
using bnbtest::linear_map;

struct Map {
  std::string name;
  std::vector<float> values;
  bnb_codebook* cb;
};

Map make(const std::string& name, std::vector<float> v) {
  int64_t st = 0;
  bnb_codebook* cb = bnb_codebook_create(v.data(), &st);
  if (cb == nullptr) {
    std::printf("FAIL map %s: not accepted (%lld)\n", name.c_str(), (long long)st);
    std::exit(1);
  }
  return Map{name, std::move(v), cb};
}

// Maps with negative values, for sign-fixed states (a sign-fixed state needs codes of both signs).
std::vector<Map> signed_maps() {
  std::vector<Map> m;
  m.push_back(make("dynamic-signed", dynamic_map(true)));
  // zero stored as -0.0: tiny positive states land on a code of the wrong sign (the fix moves them up)
  std::vector<float> nz = dynamic_map(true);
  for (float& x : nz) if (x == 0.0f) x = -0.0f;
  m.push_back(make("dynamic-signed, -0.0", nz));
  // no zero at all: +-(k + 0.5) / 128
  std::vector<float> sym(256);
  for (int k = 0; k < 128; ++k) { sym[128 + k] = (k + 0.5f) / 128.0f; sym[127 - k] = -sym[128 + k]; }
  m.push_back(make("symmetric, no zero", sym));
  m.push_back(make("linear-signed", linear_map(true)));
  // a run of equal values: buckets with several codes, so no packed table (the general path)
  std::vector<float> rep = dynamic_map(true);
  for (int i = 200; i < 206; ++i) rep[i] = rep[199];
  m.push_back(make("dynamic-signed, repeated values", rep));
  return m;
}

// The values a normalised state should be tested at: every map value, every midpoint of neighbours (the
// reference search's own float midpoint) with the floats next to it, the midpoints the nearer-neighbour
// rule compares at codes 1 and 254, signed zeros, denormals.
std::vector<float> edge_values(const std::vector<float>& v) {
  std::vector<float> e;
  auto around = [&](float x) {
    e.push_back(x);
    e.push_back(std::nextafter(x, -2.0f));
    e.push_back(std::nextafter(x, 2.0f));
  };
  for (int i = 0; i < 256; ++i) {
    around(v[i]);
    if (i < 255) around((v[i] + v[i + 1]) * 0.5f);
  }
  around((v[0] + v[2]) * 0.5f);
  around((v[253] + v[255]) * 0.5f);
  for (float x : {0.0f, -0.0f, 1e-40f, -1e-40f, 1.1754944e-38f, -1.1754944e-38f, 1e-30f, -1e-30f}) e.push_back(x);
  std::vector<float> in;  // normalised values stay inside [-1, 1]
  for (float x : e) if (std::fabs(x) <= 1.0f) in.push_back(x);
  return in;
}

// Inputs of one step: edge values (each block led by +-1 so that its states' absmax is 1 after
// Momentum's first step), random values, and blocks with NaN, +-Inf, denormal and all-zero gradients.
Case make_case(int num_states, int64_t n, int blocksize, const std::vector<float>& edges, bool extremes,
               std::mt19937& rng) {
  Case c;
  const int64_t nb = (n + blocksize - 1) / blocksize;
  std::normal_distribution<float> nd(0.0f, 0.01f);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_real_distribution<float> scale(0.001f, 2.0f);
  c.grad.resize(n);
  size_t e = 0;
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t lo = b * blocksize, hi = std::min<int64_t>(n, lo + blocksize);
    const int kind = (int)(b % 4);
    for (int64_t i = lo; i < hi; ++i) {
      if (kind == 3) c.grad[i] = nd(rng);
      else c.grad[i] = edges[e++ % edges.size()];
    }
    c.grad[lo] = (b % 2 == 0) ? 1.0f : -1.0f;
    if (extremes) {
      switch ((int)(b % 6)) {
        case 0: c.grad[hi - 1] = std::numeric_limits<float>::quiet_NaN(); break;
        case 1: c.grad[lo + (hi - lo) / 2] = -std::numeric_limits<float>::infinity(); break;
        case 2: for (int64_t i = lo; i < hi; ++i) c.grad[i] *= 1e-39f; break;
        case 3: for (int64_t i = lo; i < hi; ++i) c.grad[i] = (i % 2) ? -0.0f : 0.0f; break;
        case 4: c.grad[lo + 1] = 3e19f; break;  // g * g overflows
        default: break;
      }
    }
  }
  c.codes.resize(num_states);
  c.absmax.resize(num_states);
  for (int k = 0; k < num_states; ++k) {
    c.codes[k].resize(n);
    for (auto& x : c.codes[k]) x = (uint8_t)byte(rng);
    c.absmax[k].resize(nb);
    for (int64_t b = 0; b < nb; ++b) {
      float a = scale(rng);
      if (extremes) {
        switch ((int)((b + k) % 5)) {
          case 1: a = 1e-39f; break;                                    // 1/absmax overflows
          case 2: a = 0.0f; break;
          case 3: a = std::numeric_limits<float>::infinity(); break;   // infinite states, NaN at zero codes
          case 4: a = std::numeric_limits<float>::quiet_NaN(); break;  // a corrupted scale: positive NaN states
          default: break;
        }
      }
      c.absmax[k][b] = a;
    }
  }
  return c;
}

// One step on a copy of the case (bnbtest::run_step); a step the C ABI refuses ends the check.
Case run(const Case& in, const bnb_optim_hyper& h, const std::vector<const Map*>& maps, int blocksize, int phase) {
  std::vector<const bnb_codebook*> cbs;
  for (const Map* m : maps) cbs.push_back(m->cb);
  Case out;
  const int64_t r = bnbtest::run_step(in, h, cbs, blocksize, phase, &out);
  if (r != BNB_OK) {
    std::printf("FAIL step returned %lld\n", (long long)r);
    std::exit(1);
  }
  return out;
}

}  // namespace

int main() {
  std::vector<std::string> isas;
  {
    std::stringstream ss(bnb_supported_isas());
    std::string s;
    while (std::getline(ss, s, ',')) if (!s.empty() && s != "scalar") isas.push_back(s);
  }
  const std::string initial = bnb_active_isa();
  std::vector<Map> sm = signed_maps();
  Map unsigned_map = make("dynamic-unsigned", dynamic_map(false));
  std::mt19937 rng(7);
  bool all_ok = true;
  // The AVX2 step's state byte tables against the stored-byte rule on a sample of all |y| < 2 (a map
  // that does not fit says so: -1, and the steps then take the general path).
  {
    std::vector<const Map*> all;
    for (const Map& m : sm) all.push_back(&m);
    all.push_back(&unsigned_map);
    int64_t fitted = 0;
    for (const Map* m : all) {
      for (int variant = 2; variant <= 5; ++variant) {
        const int64_t bad = bnb_codebook_check_fast(m->cb, variant, 1009);
        if (bad > 0) {
          std::printf("FAIL state byte table %d of map %s: %lld mismatches\n", variant, m->name.c_str(), (long long)bad);
          all_ok = false;
        }
        // bitsandbytes' maps must fit (else the avx2 step would quietly take its slow path): the signed
        // map every table, the unsigned one those without the sign fix
        const bool must_fit = m->name == "dynamic-signed" || (m == &unsigned_map && (variant & 1) == 0);
        if (must_fit && bad != 0) {
          std::printf("FAIL state byte table %d of map %s does not fit\n", variant, m->name.c_str());
          all_ok = false;
        }
        fitted += bad == 0;
      }
    }
    if (all_ok) std::printf("PASS state byte tables: %lld of %zu fit and equal the rule\n", (long long)fitted, 4 * all.size());
  }
  for (const std::string& isa : isas) {
    bool ok = true;
    int64_t isa_steps = 0;
    for (int kind = 0; kind < 64 && ok; ++kind) {
      bnb_optim_info info{};
      if (bnb_optim_describe(kind, &info) != BNB_OK) continue;
      for (const Map& signed_map : sm) {
        // sign-fixed states take the signed map under test; the others the unsigned map, or the same map
        for (int other = 0; other < 2 && ok; ++other) {
          std::vector<const Map*> maps(info.num_states);
          for (int k = 0; k < info.num_states; ++k)
            maps[k] = info.states[k].sign_fix || other == 1 ? &signed_map : &unsigned_map;
          const std::vector<float> edges = edge_values(signed_map.values);
          for (int blocksize : {64, 256, 2048}) {
            const int64_t n = 5 * (int64_t)blocksize + 37;  // six blocks: every kind of block below, a short tail
            for (int variant = 0; variant < 4 && ok; ++variant) {
              const bool extremes = variant >= 2;
              const bnb_optim_hyper h = bnbtest::hyper(kind, variant % 2 == 0 ? 1 : 3, variant == 3 ? 2.0f : INFINITY);
              const Case in = make_case(info.num_states, n, blocksize, edges, extremes, rng);
              for (int phase = -1; phase <= 3 && ok; ++phase) {
                bnb_select_isa("scalar");
                const Case want = run(in, h, maps, blocksize, phase);
                bnb_select_isa(isa.c_str());
                const Case got = run(in, h, maps, blocksize, phase);
                ++isa_steps;
                int64_t at = -1;
                const std::string what = bnbtest::first_difference(want, got, info, &at);
                if (!what.empty()) {
                  std::printf("FAIL %s %s, map %s%s, blocksize %d, phase %d, %s: %s differs at %lld (input %a)\n", isa.c_str(),
                              info.name, signed_map.name.c_str(), other ? " (every state)" : "", blocksize, phase,
                              extremes ? "non-finite input" : "edge values", what.c_str(), (long long)at,
                              (double)in.grad[(size_t)at]);
                  ok = false;
                }
              }
            }
          }
        }
      }
    }
    if (ok) std::printf("PASS %s: %lld steps equal to the scalar path's bits\n", isa.c_str(), (long long)isa_steps);
    all_ok = all_ok && ok;
  }
  // Maps a sign-fixed state cannot have (the fix could leave the map) are refused.
  {
    bnb_optim_info info{};
    bnb_optim_describe(0, &info);
    const bnb_optim_hyper h = bnbtest::hyper(0, 1, INFINITY);
    auto expect_refused = [&](const bnb_codebook* sign_fixed_map, const char* what) {
      std::vector<float> g(300, 0.01f), a(2, 1.0f), b(2, 1.0f);
      std::vector<uint8_t> c1(300), c2(300);
      const bnb_state8 st[] = {{c1.data(), a.data(), sign_fixed_map}, {c2.data(), b.data(), unsigned_map.cb}};
      const int64_t r = bnb_optim8bit_blockwise(&h, g.data(), 300, 256, st, 2, -1);
      if (r != BNB_ERR_ARG) {
        std::printf("FAIL %s with %s for its sign-fixed state returned %lld, not BNB_ERR_ARG\n", info.name, what, (long long)r);
        all_ok = false;
      } else {
        std::printf("PASS a sign-fixed state with %s is refused\n", what);
      }
    };
    expect_refused(unsigned_map.cb, "a map of one sign");
    // one negative value nearer to 0 than any other: the fix would move a +0 state to code -1 (which the
    // scalar path stored as 255 and the AVX2 general path as 0)
    std::vector<float> v(256);
    v[0] = -1e-3f;
    for (int i = 1; i < 256; ++i) v[i] = i / 255.0f;
    expect_refused(make("one small negative value", v).cb, "a map whose code of +0 is 0");
  }
  // The fast steps must be the ones that run for bitsandbytes' maps: a dispatch that quietly took the
  // general path would still pass the comparisons above. (Only the ISAs this CPU has: their functions are
  // compiled for them.)
  {
    const bnb::Codebook* sgn = reinterpret_cast<const bnb::Codebook*>(sm[0].cb);
    const bnb::Codebook* uns = reinterpret_cast<const bnb::Codebook*>(unsigned_map.cb);
    const struct { const bnb::IsaKernels* k; decltype(bnb::IsaKernels::optim_blocks_fast) fast; } paths[] = {
        {&bnb::kAvx2Kernels, bnb::optim_blocks_avx2_fast},
        {&bnb::kAvx512Kernels, bnb::optim_blocks_avx512_fast},
        {&bnb::kAvx512VbmiKernels, bnb::optim_blocks_vbmi}};
    for (const auto& p : paths) {
      if (std::find(isas.begin(), isas.end(), std::string(p.k->name)) == isas.end()) continue;
      bool ok = p.k->optim_blocks_fast == p.fast;
      for (int kind = 0; kind < 64 && ok; ++kind) {
        bnb_optim_info info{};
        if (bnb_optim_describe(kind, &info) != BNB_OK) continue;
        bnb::StateMaps maps{};
        for (int k = 0; k < info.num_states; ++k) maps.cb[k] = info.states[k].sign_fix ? sgn : uns;
        if (!p.k->optim_fast_usable(kind, maps)) {
          std::printf("FAIL %s: the fast step is not usable for %s with bitsandbytes' maps\n", p.k->name, info.name);
          ok = false;
        }
      }
      if (p.k->optim_blocks_fast != p.fast) std::printf("FAIL %s: its fast step is not wired to the table\n", p.k->name);
      if (ok) std::printf("PASS %s: the fast step runs for every optimizer with bitsandbytes' maps\n", p.k->name);
      all_ok = all_ok && ok;
    }
  }
  bnb_select_isa(initial.c_str());
  if (isas.empty()) std::printf("PASS (no SIMD path on this CPU; nothing to compare)\n");
  return all_ok ? 0 : 1;
}
