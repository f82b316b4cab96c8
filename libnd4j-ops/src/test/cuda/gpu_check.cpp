// The GPU test runner: every CUDA entry point (bnb4j_cuda.h) against the CPU library (its objects are
// linked in) on the same random and adversarial input, every blocksize, dtype, optimizer and state
// layout. Prints one PASS/FAIL line per group and exits 0 (all passed), 1 (a FAIL), 2 (setup error) or
// 77 (no CUDA device: nothing was run).
//
// What "equal" means: codes, block scales, stored bytes and statuses bit for bit; float results
// (updates, 32-bit states, dequantized values) bit for bit except NaN payloads: an x86 invalid operation
// gives the NaN 0xffc00000, CUDA 0x7fffffff, so two NaNs are equal (a NaN against a number is not).
#include <cinttypes>
#include <cstdarg>
#include <cstring>
#include <random>
#include <string>
#include "bnb4j_cuda.h"
#include "dtype.h"
#include "element.h"
#include "test_support.h"

using namespace bnbtest;

namespace {

int g_failed = 0, g_passed = 0;
// BNB4J_GPU_CHECK_QUICK=1 (the emulation): no large cases (the grids still loop: two blocks there), the
// extra maps through FLOAT only, four of the six state layouts.
const bool g_quick = std::getenv("BNB4J_GPU_CHECK_QUICK") != nullptr;

// One group's verdict: the first mismatch (if any) is kept for the FAIL line.
struct Group {
  std::string name;
  int cases = 0;
  std::string first_bad;
  explicit Group(std::string n) : name(std::move(n)) {}
  void bad(const std::string& what) { if (first_bad.empty()) first_bad = what; }
  ~Group() {
    if (first_bad.empty()) { ++g_passed; std::printf("PASS %s (%d cases)\n", name.c_str(), cases); }
    else { ++g_failed; std::printf("FAIL %s (%d cases): %s\n", name.c_str(), cases, first_bad.c_str()); }
    std::fflush(stdout);
  }
};

bool same_float(float a, float b) { return (a != a && b != b) || bnb::f2u(a) == bnb::f2u(b); }

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

// Compares float arrays; "" when equal.
std::string diff_floats(const char* what, const float* cpu, const float* gpu, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (!same_float(cpu[i], gpu[i]))
      return fmt("%s[%zu]: cpu %.9g (0x%08x) gpu %.9g (0x%08x)", what, i, cpu[i], bnb::f2u(cpu[i]), gpu[i], bnb::f2u(gpu[i]));
  return "";
}
std::string diff_bytes(const char* what, const uint8_t* cpu, const uint8_t* gpu, size_t n) {
  for (size_t i = 0; i < n; ++i)
    if (cpu[i] != gpu[i]) return fmt("%s[%zu]: cpu %u gpu %u", what, i, cpu[i], gpu[i]);
  return "";
}

// ---- Input data: a base distribution plus adversarial blocks and elements.
enum class Data { Normal, Wide, Adversarial, Tiny };
const char* data_name(Data d) {
  return d == Data::Normal ? "normal" : d == Data::Wide ? "wide" : d == Data::Adversarial ? "adversarial" : "tiny";
}

std::vector<float> make_data(Data kind, size_t n, int blocksize, uint64_t seed, bool allow_inf) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> expo(-40.0f, 38.0f);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    switch (kind) {
      case Data::Normal: x[i] = normal(rng); break;
      case Data::Wide: x[i] = (normal(rng) < 0 ? -1.0f : 1.0f) * std::pow(10.0f, expo(rng)); break;  // every magnitude
      case Data::Tiny: x[i] = normal(rng) * 1e-41f; break;                                           // denormals only
      case Data::Adversarial: x[i] = normal(rng) * 1e-3f; break;
    }
  }
  if (kind != Data::Adversarial) return x;
  const size_t nb = (n + blocksize - 1) / blocksize;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  for (size_t b = 0; b < nb; ++b) {
    const size_t s = b * blocksize, len = std::min<size_t>(blocksize, n - s);
    switch (b % 8) {
      case 0: std::fill(x.begin() + s, x.begin() + s + len, 0.0f); break;                   // all zero
      case 1: for (size_t i = 0; i < len; ++i) x[s + i] = (i & 1) ? -0.0f : 1e-44f; break;  // -0 and denormals
      case 2: x[s + len / 2] = nan; break;                                                   // NaN ignored by absmax
      case 3: x[s] = 3.0e38f; x[s + len - 1] = -3.4e38f; break;                              // near FLT_MAX
      case 4: if (allow_inf) x[s + len / 3] = (b & 8) ? -inf : inf; break;                   // an Inf block
      case 5: for (size_t i = 0; i < len; ++i) x[s + i] = 1.0f; break;                       // exactly a map value
      case 6: std::fill(x.begin() + s, x.begin() + s + len, nan); break;                    // all NaN
      default: break;
    }
  }
  return x;
}

// The bytes of x stored as dtype (the conversions of dtype.h, the CPU's own).
std::vector<uint8_t> as_dtype(const std::vector<float>& x, int dtype) {
  const size_t es = dtype == BNB_FLOAT ? 4 : dtype == BNB_DOUBLE ? 8 : 2;
  std::vector<uint8_t> out(x.size() * es);
  for (size_t i = 0; i < x.size(); ++i) {
    if (dtype == BNB_FLOAT) std::memcpy(&out[4 * i], &x[i], 4);
    else if (dtype == BNB_DOUBLE) { const double d = x[i]; std::memcpy(&out[8 * i], &d, 8); }
    else { const uint16_t h = dtype == BNB_HALF ? bnb::float_to_half(x[i]) : bnb::float_to_bf16(x[i]); std::memcpy(&out[2 * i], &h, 2); }
  }
  return out;
}
// And back to floats, for comparing outputs.
std::vector<float> from_dtype(const std::vector<uint8_t>& b, int dtype, size_t n) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    if (dtype == BNB_FLOAT) std::memcpy(&out[i], &b[4 * i], 4);
    else if (dtype == BNB_DOUBLE) { double d; std::memcpy(&d, &b[8 * i], 8); out[i] = (float)d; }
    else { uint16_t h; std::memcpy(&h, &b[2 * i], 2); out[i] = dtype == BNB_HALF ? bnb::half_to_float(h) : bnb::bf16_to_float(h); }
  }
  return out;
}
const char* dtype_name(int d) { return d == BNB_FLOAT ? "FLOAT" : d == BNB_DOUBLE ? "DOUBLE" : d == BNB_HALF ? "HALF" : "BFLOAT16"; }

struct Map {
  const char* name;
  std::vector<float> values;
  bnb_codebook* cpu = nullptr;
  const float* gpu = nullptr;
};

Map make_map(const char* name, std::vector<float> v) {
  Map m{name, std::move(v)};
  int64_t st = 0;
  m.cpu = bnb_codebook_create(m.values.data(), &st);
  if (m.cpu == nullptr) { std::printf("FAIL setup: CPU map %s refused (%" PRId64 ")\n", name, st); std::exit(2); }
  m.gpu = bnb_cuda_map_create(m.values.data(), &st);
  if (m.gpu == nullptr) { std::printf("FAIL setup: GPU map %s refused (%" PRId64 "): %s\n", name, st, bnb_cuda_last_error()); std::exit(2); }
  return m;
}

const int kBlocksizes[] = {64, 128, 256, 512, 1024, 2048, 4096};

// ---- quantize
void check_quantize(const std::vector<Map>& maps) {
  for (int dtype : {BNB_FLOAT, BNB_DOUBLE, BNB_HALF, BNB_BFLOAT16}) {
    Group g(fmt("quantize dtype=%s (every blocksize, map, data kind; deterministic and stochastic)", dtype_name(dtype)));
    for (int bs : kBlocksizes) {
      for (const Map& map : maps) {
        if (g_quick && dtype != BNB_FLOAT && &map != &maps[0]) continue;  // the other maps once, through FLOAT
        for (Data kind : {Data::Normal, Data::Wide, Data::Adversarial, Data::Tiny}) {
          for (int stochastic : {0, 1}) {
            // a partial last block; at blocksize 64 a size over what one grid of an H200 covers, so that the
            // grid-stride loops loop on a GPU too
            const size_t n = (size_t)bs * 37 + (bs == 64 && !g_quick ? 2000003 : 13);
            const size_t nb = (n + bs - 1) / bs;
            const std::vector<float> x = make_data(kind, n, bs, 1000 + bs + (int)kind, true);
            const std::vector<uint8_t> src = as_dtype(x, dtype);
            std::vector<uint8_t> c_cpu(n, 0xa5), c_gpu(n, 0xa5);  // an Inf block keeps its codes: fill alike
            std::vector<float> a_cpu(nb), a_gpu(nb);
            const uint64_t seed = 42 + bs;
            const int64_t st_cpu = bnb_quantize_blockwise(map.cpu, src.data(), dtype, (int64_t)n, 0, nullptr, nullptr, c_cpu.data(),
                                                          a_cpu.data(), bs, stochastic, seed);
            DevBuf<uint8_t> d_src(src.size()), d_codes(n);
            DevBuf<float> d_absmax(nb);
            DevBuf<uint64_t> d_inf(1);
            d_src.put(src.data(), src.size());
            d_codes.put(c_gpu.data(), n);
            const int64_t st = bnb_cuda_quantize_blockwise(map.gpu, d_src.p, dtype, (int64_t)n, d_codes.p, d_absmax.p, bs, stochastic,
                                                           seed, d_inf.p, nullptr);
            CUDA_OK(cudaDeviceSynchronize());
            uint64_t first = 0;
            d_inf.get(&first, 1);
            d_codes.get(c_gpu.data(), n);
            d_absmax.get(a_gpu.data(), nb);
            const int64_t st_gpu = st != BNB_OK ? st : first == UINT64_MAX ? BNB_OK : BNB_ERR_INF_BASE - (int64_t)first;
            ++g.cases;
            const std::string where = fmt("bs=%d map=%s data=%s stochastic=%d: ", bs, map.name, data_name(kind), stochastic);
            if (st_cpu != st_gpu) g.bad(where + fmt("status cpu %" PRId64 " gpu %" PRId64, st_cpu, st_gpu));
            std::string d = diff_floats("absmax", a_cpu.data(), a_gpu.data(), nb);
            if (d.empty()) d = diff_bytes("codes", c_cpu.data(), c_gpu.data(), n);
            if (!d.empty()) g.bad(where + d);
          }
        }
      }
    }
  }
}

// ---- dequantize
void check_dequantize(const std::vector<Map>& maps) {
  for (int dtype : {BNB_FLOAT, BNB_DOUBLE, BNB_HALF, BNB_BFLOAT16}) {
    Group g(fmt("dequantize dtype=%s (every blocksize, map; scales 0, denormal, huge, Inf, NaN)", dtype_name(dtype)));
    for (int bs : kBlocksizes) {
      for (const Map& map : maps) {
        const size_t n = (size_t)bs * 41 + (bs == 64 && !g_quick ? 2000007 : 7), nb = (n + bs - 1) / bs;
        std::mt19937_64 rng(7 + bs);
        std::vector<uint8_t> codes(n);
        for (auto& c : codes) c = (uint8_t)rng();
        std::vector<float> absmax = make_data(Data::Wide, nb, 64, 99 + bs, false);
        const float specials[] = {0.0f, 1e-44f, 3.4e38f, std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(), 1.0f};
        for (size_t b = 0; b < nb && b < 6; ++b) absmax[b] = specials[b];
        for (auto& a : absmax) a = std::fabs(a);
        const size_t es = dtype == BNB_FLOAT ? 4 : dtype == BNB_DOUBLE ? 8 : 2;
        std::vector<uint8_t> o_cpu(n * es), o_gpu(n * es);
        const int64_t st_cpu = bnb_dequantize_blockwise(map.cpu, codes.data(), absmax.data(), (int64_t)n, bs, o_cpu.data(), dtype, 0,
                                                        nullptr, nullptr);
        DevBuf<uint8_t> d_codes(n), d_out(n * es);
        DevBuf<float> d_absmax(nb);
        d_codes.put(codes.data(), n);
        d_absmax.put(absmax.data(), nb);
        const int64_t st_gpu = bnb_cuda_dequantize_blockwise(map.gpu, d_codes.p, d_absmax.p, (int64_t)n, bs, d_out.p, dtype, nullptr);
        CUDA_OK(cudaDeviceSynchronize());
        d_out.get(o_gpu.data(), n * es);
        ++g.cases;
        const std::string where = fmt("bs=%d map=%s: ", bs, map.name);
        if (st_cpu != st_gpu) g.bad(where + fmt("status cpu %" PRId64 " gpu %" PRId64, st_cpu, st_gpu));
        const std::vector<float> f_cpu = from_dtype(o_cpu, dtype, n), f_gpu = from_dtype(o_gpu, dtype, n);
        const std::string d = diff_floats("out", f_cpu.data(), f_gpu.data(), n);
        if (!d.empty()) g.bad(where + d);
      }
    }
  }
}

// ---- the fused 8-bit steps
void check_optim8(const Map& sgn, const Map& uns) {
  for (int kind = 0;; ++kind) {
    bnb_optim_info info{};
    if (bnb_optim_describe(kind, &info) != BNB_OK) break;
    const int K = info.num_states;
    Group g(fmt("optim8bit %s (every blocksize; plain, FLOAT-word and HALF-word packing; 4 steps; zero and random start)", info.name));
    for (int bs : kBlocksizes) {
      for (int phase : {-1, 0, 1, 3, BNB_PHASE_HALF_WORDS | 0, BNB_PHASE_HALF_WORDS | 1}) {
        if (g_quick && (phase == 0 || phase == (BNB_PHASE_HALF_WORDS | 0))) continue;
        for (int random_start : {0, 1}) {
          const size_t n = (size_t)bs * 23 + (bs == 64 && !g_quick ? 1500007 : 29), nb = (n + bs - 1) / bs;
          std::mt19937_64 rng(31 * bs + phase + 7 * random_start + 1000 * kind);
          // The states as one byte stream (state k at byte k * n), as the packed DL4J view lays them out.
          std::vector<uint8_t> codes(K * n);
          std::vector<float> absmax(K * nb, 0.0f);
          for (int k = 0; k < K; ++k) {
            const std::vector<float>& mv = info.states[k].signed_map ? sgn.values : uns.values;
            const uint8_t zero = (uint8_t)bnb::search_reference(mv.data(), 0.0f);
            for (size_t i = 0; i < n; ++i) codes[k * n + i] = random_start ? (uint8_t)rng() : zero;
            if (random_start)
              for (size_t b = 0; b < nb; ++b) absmax[k * nb + b] = b % 17 == 0 ? 0.0f : std::ldexp(1.0f, (int)(rng() % 40) - 30);
          }
          std::vector<uint8_t> c_gpu = codes;
          std::vector<float> a_gpu = absmax;
          DevBuf<uint8_t> d_codes(K * n);
          DevBuf<float> d_absmax(K * nb), d_grad(n);
          d_codes.put(codes.data(), K * n);
          d_absmax.put(absmax.data(), K * nb);
          for (int t = 1; t <= 4; ++t) {
            const float ratio = (t + bs) % 2 ? std::numeric_limits<float>::infinity() : 1.25f;
            const bnb_optim_hyper h = hyper(kind, t, ratio);
            const Data kind_of_grad = t == 3 ? Data::Adversarial : t == 4 ? Data::Wide : Data::Normal;
            std::vector<float> grad = make_data(kind_of_grad, n, bs, 5 * t + bs + kind, true);
            std::vector<float> g_gpu = grad;
            bnb_state8 cs[BNB_MAX_STATES];
            bnb_cuda_state8 gs[BNB_MAX_STATES];
            for (int k = 0; k < K; ++k) {
              const bool s = info.states[k].signed_map;
              cs[k] = bnb_state8{codes.data() + k * n, absmax.data() + k * nb, s ? sgn.cpu : uns.cpu};
              gs[k] = bnb_cuda_state8{d_codes.p + k * n, d_absmax.p + k * nb, s ? sgn.gpu : uns.gpu};
            }
            const int64_t st_cpu = bnb_optim8bit_blockwise(&h, grad.data(), (int64_t)n, bs, cs, K, phase);
            d_grad.put(g_gpu.data(), n);
            const int64_t st_gpu = bnb_cuda_optim8bit_blockwise(&h, d_grad.p, (int64_t)n, bs, gs, K, phase, nullptr);
            CUDA_OK(cudaDeviceSynchronize());
            d_grad.get(g_gpu.data(), n);
            d_codes.get(c_gpu.data(), K * n);
            d_absmax.get(a_gpu.data(), K * nb);
            ++g.cases;
            const std::string where = fmt("bs=%d phase=%d random_start=%d step %d: ", bs, phase, random_start, t);
            if (st_cpu != st_gpu) { g.bad(where + fmt("status cpu %" PRId64 " gpu %" PRId64 " %s", st_cpu, st_gpu, bnb_cuda_last_error())); break; }
            std::string d = diff_floats("update", grad.data(), g_gpu.data(), n);
            if (d.empty()) d = diff_floats("absmax", absmax.data(), a_gpu.data(), K * nb);
            if (d.empty()) d = diff_bytes("state bytes", codes.data(), c_gpu.data(), K * n);
            if (!d.empty()) { g.bad(where + d); break; }
          }
        }
      }
    }
  }
}

// ---- the 32-bit steps
void check_optim32() {
  for (int kind = 0;; ++kind) {
    bnb_optim_info info{};
    if (bnb_optim_describe(kind, &info) != BNB_OK) break;
    const int K = info.num_states;
    Group g(fmt("optim32 %s (4 steps, adversarial gradients)", info.name));
    const size_t n = g_quick ? 30011 : 1000003;
    std::vector<float> st(K * n, 0.0f);
    DevBuf<float> d_st(K * n), d_grad(n);
    d_st.put(st.data(), K * n);
    for (int t = 1; t <= 4; ++t) {
      const bnb_optim_hyper h = hyper(kind, t, t % 2 ? 1.25f : std::numeric_limits<float>::infinity());
      std::vector<float> grad = make_data(t == 2 ? Data::Adversarial : t == 3 ? Data::Wide : Data::Normal, n, 256, 77 + t, true);
      std::vector<float> g_gpu(n), s_gpu(K * n);
      float* cs[BNB_MAX_STATES];
      float* gs[BNB_MAX_STATES];
      for (int k = 0; k < K; ++k) { cs[k] = st.data() + k * n; gs[k] = d_st.p + k * n; }
      d_grad.put(grad.data(), n);
      const int64_t st_cpu = bnb_optim32(&h, grad.data(), (int64_t)n, cs, K);
      const int64_t st_gpu = bnb_cuda_optim32(&h, d_grad.p, (int64_t)n, gs, K, nullptr);
      CUDA_OK(cudaDeviceSynchronize());
      d_grad.get(g_gpu.data(), n);
      d_st.get(s_gpu.data(), K * n);
      ++g.cases;
      const std::string where = fmt("step %d: ", t);
      if (st_cpu != st_gpu) { g.bad(where + fmt("status cpu %" PRId64 " gpu %" PRId64, st_cpu, st_gpu)); break; }
      std::string d = diff_floats("update", grad.data(), g_gpu.data(), n);
      if (d.empty()) d = diff_floats("state", st.data(), s_gpu.data(), K * n);
      if (!d.empty()) { g.bad(where + d); break; }
    }
  }
}

// ---- the checksum of the block scales
void check_checksum() {
  Group g("absmax checksum (1..4 states, 1..1M blocks, special values)");
  for (int K = 1; K <= BNB_MAX_STATES; ++K) {
    for (int64_t nb : {1LL, 2LL, 255LL, 4097LL, g_quick ? 20011LL : 1000003LL}) {
      std::vector<float> a = make_data(Data::Adversarial, (size_t)(K * nb), 64, 3 * K + nb, true);
      DevBuf<float> d_a(K * nb);
      DevBuf<uint32_t> d_out(1);
      d_a.put(a.data(), K * nb);
      const float* cp[BNB_MAX_STATES];
      const float* gp[BNB_MAX_STATES];
      for (int k = 0; k < K; ++k) { cp[k] = a.data() + k * nb; gp[k] = d_a.p + k * nb; }
      const uint32_t c = bnb_absmax_checksum(cp, K, nb);
      const int64_t st = bnb_cuda_absmax_checksum(gp, K, nb, d_out.p, nullptr);
      CUDA_OK(cudaDeviceSynchronize());
      uint32_t gv = 0;
      d_out.get(&gv, 1);
      ++g.cases;
      if (st != BNB_OK || c != gv) g.bad(fmt("K=%d nb=%" PRId64 ": cpu 0x%08x gpu 0x%08x (status %" PRId64 ")", K, nb, c, gv, st));
    }
  }
}

// ---- the argument checks mirror the CPU's
void check_arguments(const Map& sgn, const Map& uns) {
  Group g("argument checks (bad blocksize, dtype, state count, hyper size, maps the sign fix could leave; n = 0)");
  DevBuf<float> d(4096);
  DevBuf<uint8_t> c(4096);
  auto expect = [&](const char* what, int64_t cpu, int64_t gpu) {
    ++g.cases;
    if (cpu != gpu) g.bad(fmt("%s: cpu %" PRId64 " gpu %" PRId64, what, cpu, gpu));
  };
  std::vector<float> hx(4096, 1.0f), ha(4096);   // room for the absmax of blocksize 1
  std::vector<uint8_t> hc(4096);
  for (int bs : {0, -64}) {
    expect("quantize blocksize", bnb_quantize_blockwise(sgn.cpu, hx.data(), BNB_FLOAT, 4096, 0, nullptr, nullptr, hc.data(), ha.data(), bs, 0, 0),
           bnb_cuda_quantize_blockwise(sgn.gpu, d.p, BNB_FLOAT, 4096, c.p, d.p, bs, 0, 0, nullptr, nullptr));
    expect("dequantize blocksize", bnb_dequantize_blockwise(sgn.cpu, hc.data(), ha.data(), 4096, bs, hx.data(), BNB_FLOAT, 0, nullptr, nullptr),
           bnb_cuda_dequantize_blockwise(sgn.gpu, c.p, d.p, 4096, bs, d.p, BNB_FLOAT, nullptr));
  }
  // blocksizes only the CPU kernels take (bitsandbytes' CPU rule); the GPU ones keep its CUDA rule (64..4096, powers of two)
  for (int bs : {1, 32, 96, 8192}) {
    expect("quantize CPU-only blocksize", bnb_quantize_blockwise(sgn.cpu, hx.data(), BNB_FLOAT, 4096, 0, nullptr, nullptr, hc.data(), ha.data(), bs, 0, 0),
           BNB_OK);
    expect("quantize CPU-only blocksize on the GPU", bnb_cuda_quantize_blockwise(sgn.gpu, d.p, BNB_FLOAT, 4096, c.p, d.p, bs, 0, 0, nullptr, nullptr),
           BNB_ERR_ARG);
    expect("dequantize CPU-only blocksize", bnb_dequantize_blockwise(sgn.cpu, hc.data(), ha.data(), 4096, bs, hx.data(), BNB_FLOAT, 0, nullptr, nullptr),
           BNB_OK);
    expect("dequantize CPU-only blocksize on the GPU", bnb_cuda_dequantize_blockwise(sgn.gpu, c.p, d.p, 4096, bs, d.p, BNB_FLOAT, nullptr),
           BNB_ERR_ARG);
  }
  expect("quantize dtype", bnb_quantize_blockwise(sgn.cpu, hx.data(), 9, 4096, 0, nullptr, nullptr, hc.data(), ha.data(), 64, 0, 0),
         bnb_cuda_quantize_blockwise(sgn.gpu, d.p, 9, 4096, c.p, d.p, 64, 0, 0, nullptr, nullptr));
  expect("quantize n=0", bnb_quantize_blockwise(sgn.cpu, nullptr, BNB_FLOAT, 0, 0, nullptr, nullptr, nullptr, nullptr, 64, 0, 0),
         bnb_cuda_quantize_blockwise(sgn.gpu, nullptr, BNB_FLOAT, 0, nullptr, nullptr, 64, 0, 0, nullptr, nullptr));
  int64_t st = 0;
  bnb_optim_hyper h = hyper(0, 1, 1.0f);
  bnb_state8 cs[2] = {{hc.data(), ha.data(), sgn.cpu}, {hc.data(), ha.data(), sgn.cpu}};
  bnb_cuda_state8 gs[2] = {{c.p, d.p, sgn.gpu}, {c.p, d.p, sgn.gpu}};
  expect("optim8 state count", bnb_optim8bit_blockwise(&h, hx.data(), 64, 64, cs, 1, -1), bnb_cuda_optim8bit_blockwise(&h, d.p, 64, 64, gs, 1, -1, nullptr));
  expect("optim8 phase", bnb_optim8bit_blockwise(&h, hx.data(), 64, 64, cs, 2, 4), bnb_cuda_optim8bit_blockwise(&h, d.p, 64, 64, gs, 2, 4, nullptr));
  expect("optim8 n=0", bnb_optim8bit_blockwise(&h, nullptr, 0, 64, cs, 2, -1), bnb_cuda_optim8bit_blockwise(&h, nullptr, 0, 64, gs, 2, -1, nullptr));
  h.kind = 99;
  expect("optim8 kind", bnb_optim8bit_blockwise(&h, hx.data(), 64, 64, cs, 2, -1), bnb_cuda_optim8bit_blockwise(&h, d.p, 64, 64, gs, 2, -1, nullptr));
  h = hyper(0, 1, 1.0f);
  // A sign-fixed state (Adam's first) on a map the sign fix could leave: one of one sign, one whose code
  // of +0 is 0. Refused on both; the GPU knows it from what bnb_cuda_map_create recorded, and refuses a
  // map it did not create (here: one already freed).
  std::vector<float> small_negative(256);
  small_negative[0] = -1e-3f;
  for (int i = 1; i < 256; ++i) small_negative[i] = i / 255.0f;
  Map neg = make_map("one small negative value", small_negative);
  for (const Map* m : {&uns, static_cast<const Map*>(&neg)}) {
    const bnb_state8 cs2[2] = {{hc.data(), ha.data(), m->cpu}, {hc.data() + 64, ha.data() + 1, uns.cpu}};
    const bnb_cuda_state8 gs2[2] = {{c.p, d.p, m->gpu}, {c.p + 64, d.p + 1, uns.gpu}};
    const int64_t cpu = bnb_optim8bit_blockwise(&h, hx.data(), 64, 64, cs2, 2, -1);
    const int64_t gpu = bnb_cuda_optim8bit_blockwise(&h, d.p + 2, 64, 64, gs2, 2, -1, nullptr);
    ++g.cases;
    if (cpu != BNB_ERR_ARG || gpu != BNB_ERR_ARG)
      g.bad(fmt("sign-fixed state on map %s: cpu %" PRId64 " gpu %" PRId64 ", want BNB_ERR_ARG", m->name, cpu, gpu));
  }
  bnb_codebook_free(neg.cpu);
  bnb_cuda_map_free(neg.gpu);
  const float* freed = bnb_cuda_map_create(sgn.values.data(), &st);
  bnb_cuda_map_free(freed);
  {
    const bnb_cuda_state8 gs2[2] = {{c.p, d.p, freed}, {c.p + 64, d.p + 1, uns.gpu}};
    const int64_t gpu = bnb_cuda_optim8bit_blockwise(&h, d.p + 2, 64, 64, gs2, 2, -1, nullptr);
    ++g.cases;
    if (gpu != BNB_ERR_ARG) g.bad(fmt("sign-fixed state on a freed map: gpu %" PRId64 ", want BNB_ERR_ARG", gpu));
  }
  h.size = 4;
  float* s32c[2] = {hx.data(), hx.data()};
  float* s32g[2] = {d.p, d.p};
  expect("optim32 hyper size", bnb_optim32(&h, hx.data(), 64, s32c, 2), bnb_cuda_optim32(&h, d.p, 64, s32g, 2, nullptr));
  std::vector<float> unsorted = sgn.values;
  std::swap(unsorted[3], unsorted[200]);
  bnb_codebook* cb = bnb_codebook_create(unsorted.data(), &st);
  int64_t st_gpu = 0;
  const float* gm = bnb_cuda_map_create(unsorted.data(), &st_gpu);
  expect("unsorted map", st, st_gpu);
  bnb_codebook_free(cb);
  bnb_cuda_map_free(gm);
  CUDA_OK(cudaDeviceSynchronize());
}

}  // namespace

int main() {
  const int devices = bnb_cuda_device_count();
  if (devices == 0) {
    std::printf("gpu_check: no CUDA device (driver or GPU missing): nothing run\n");
    return 77;
  }
  cudaDeviceProp prop{};
  CUDA_OK(cudaGetDeviceProperties(&prop, 0));
  std::printf("gpu_check: %s (sm_%d%d, %d SMs, %.0f GiB); CPU reference ISA %s, %d threads\n", prop.name, prop.major, prop.minor,
              prop.multiProcessorCount, prop.totalGlobalMem / 1073741824.0, bnb_active_isa(), bnb_max_threads());
  std::fflush(stdout);
  std::vector<Map> maps;
  maps.push_back(make_map("dynamic-signed", dynamic_map(true)));
  maps.push_back(make_map("dynamic-unsigned", dynamic_map(false)));
  maps.push_back(make_map("linear-signed", linear_map(true)));
  // BNB4J_GPU_CHECK_ONLY=quantize (a section name) runs one section.
  const char* only = std::getenv("BNB4J_GPU_CHECK_ONLY");
  auto run = [&](const char* section) { return only == nullptr || std::strcmp(only, section) == 0; };
  if (run("arguments")) check_arguments(maps[0], maps[1]);
  if (run("checksum")) check_checksum();
  if (run("quantize")) check_quantize(maps);
  if (run("dequantize")) check_dequantize(maps);
  if (run("optim32")) check_optim32();
  if (run("optim8bit")) check_optim8(maps[0], maps[1]);
  for (Map& m : maps) { bnb_codebook_free(m.cpu); bnb_cuda_map_free(m.gpu); }
  std::printf("gpu_check: %d groups passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
