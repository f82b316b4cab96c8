// Building the search tables of a quantization map (see Codebook in kernels.h).
#include <cfloat>
#include <initializer_list>
#include <limits>
#include <new>
#include "kernels.h"

namespace bnb {
namespace {

// Floats mapped to integers in the same order (-0.0 and +0.0 share 0).
int64_t ord(float f) {
  uint32_t b = f2u(f);
  return (b & 0x80000000u) ? -(int64_t)(b & 0x7fffffffu) : (int64_t)b;
}
float from_ord(int64_t o) { return o >= 0 ? u2f((uint32_t)o) : u2f(0x80000000u | (uint32_t)(-o)); }

// The packed entry of one bucket (see Codebook): the transition's low 16 bits, in the
// orientation where larger means larger y.
uint32_t packed_entry(const float* c, uint32_t key, int c_low, int c_high, bool* ok) {
  if (c_high == c_low) return (uint32_t)c_low | (0x10000u << 8);
  if (c_high != c_low + 1) { *ok = false; return 0; }
  const uint32_t hi_bits = ((key & 0x4000u) ? 0x80000000u : 0u) | ((key & 0x3fffu) << 16);
  const bool neg = (key & 0x4000u) != 0;
  // t' in [0, 0xffff]: the smallest flipped-low value whose y has the higher code.
  uint32_t a = 0, b = 0xffffu;  // search(y(b)) > c_low is known (y(0xffff) is the bucket's top)
  while (a < b) {
    uint32_t m = (a + b) >> 1;
    uint32_t low = neg ? (m ^ 0xffffu) : m;
    if (search_reference(c, u2f(hi_bits | low)) > c_low) b = m; else a = m + 1;
  }
  return (uint32_t)c_low | (a << 8);
}

// y of a FastEnc key f (inverse of fast_key inside the clamp range).
float y_of_key(uint32_t f) { return f < 0x40000000u ? u2f(f) : u2f(0x80000000u | (~f & 0x7fffffffu)); }

// Builds one FastEnc for code(y) = search(y), or the sign-fixed search. code is monotone in the
// key inside each sign half, so each binade's transitions are found by bisection and the
// binade gets the fewest equal sub-buckets that hold at most one each.
void build_fast(const Codebook& cb, bool sign_fix, FastEnc* fe) {
  auto code = [&](uint32_t f) {
    const float y = y_of_key(f);
    const int c = search_reference(cb.values, y);
    return sign_fix ? sign_fixed(cb, c, y) : c;
  };
  fe->ok = false;
  std::memset(fe->lvl1, 0, sizeof fe->lvl1);
  std::memset(fe->lvl1w, 0, sizeof fe->lvl1w);
  // Everything below the clamp (|y| < 2^-31, incl. +-0 and denormals) must share the clamp's code.
  if (code(0) != code(0x30000000u) || code(0x7fffffffu) != code(0x4fffffffu)) return;
  // Codes grow with the key in each half; a sign fix below code 0 or above 255 has no code.
  for (uint32_t f : {0x30000000u, 0x3fffffffu, 0x40000000u, 0x4fffffffu})
    if (code(f) < 0 || code(f) > 255) return;
  // The optimizers fix signs from the state s, this table from y: they differ only where s > 0
  // underflows to y = +0, which must then need no fix.
  if (sign_fix && std::signbit(cb.values[search_reference(cb.values, 0.0f)])) return;
  std::memset(fe->plane, 0, sizeof fe->plane);
  uint32_t next = 0;  // first free sub-bucket
  for (uint32_t i = 0; i < 64; ++i) {
    const uint32_t base = (96 + i) << 23;
    // transitions inside [base, base + 2^23): smallest key of each new code
    uint32_t trans[256];
    int nt = 0;
    uint32_t lo = base;
    int c_lo = code(lo);
    const int c_top = code(base + 0x7fffffu);
    while (c_lo != c_top) {
      if (nt == 255) return;
      uint32_t a = lo, b = base + 0x7fffffu;  // code(a) == c_lo < code(b)
      while (b - a > 1) {
        const uint32_t m = a + (b - a) / 2;
        if (code(m) > c_lo) b = m; else a = m;
      }
      if (code(b) != c_lo + 1) return;  // a jump of more than one code
      trans[nt++] = b - base;
      lo = b;
      c_lo = code(b);
    }
    int bits = 0;  // sub-buckets = 2^bits
    for (;; ++bits) {
      bool sep = true;
      for (int t = 1; t < nt && sep; ++t) sep = (trans[t] >> (23 - bits)) != (trans[t - 1] >> (23 - bits));
      if (sep) break;
    }
    const uint32_t count = 1u << bits, shift = 23 - bits;
    if (next + count > 512) return;
    fe->lvl1[i] = next | (shift << 16);
    fe->lvl1w[(96 + i) & 63] = (uint16_t)((next << 5) | shift);
    for (uint32_t s = 0; s < count; ++s) {
      const uint32_t start = s << shift;
      uint32_t t = 0x800000u;
      for (int q = 0; q < nt; ++q)  // a transition at the very start is already in c0
        if ((trans[q] >> shift) == s && trans[q] != start) t = trans[q];
      const uint32_t j = next + s;
      fe->plane[0][j] = (uint8_t)code(base + start);
      fe->plane[1][j] = (uint8_t)(t & 0xff);
      fe->plane[2][j] = (uint8_t)((t >> 8) & 0xff);
      fe->plane[3][j] = (uint8_t)(t >> 16);
    }
    next += count;
  }
  fe->ok = true;
}

// The code a state of normalised value y is stored as (element.h state_code with the sign fix taken
// from y; StateByteTables says when that equals the rule).
int rule_code(const Codebook& cb, float y, bool sign_fix, bool top) {
  return state_code(cb.values, y, y, sign_fix, top ? kFloatTop : kPlain);
}

// One StateByteTables table: per bucket the bytes at its two ends and, between them, the transition
// found by bisection (the rule's code is monotone in y: search and sign fix as argued at Codebook and
// FastEnc, the nearer neighbour of codes 1 and 254 switches once between its two neighbours).
bool build_state_bytes(const Codebook& cb, bool sign_fix, bool top, uint32_t* entry) {
  const Slot slot = top ? kFloatTop : kPlain;
  for (uint32_t key = 0; key < 32768; ++key) {
    const bool neg = (key & 0x4000u) != 0;
    const uint32_t hi_bits = (neg ? 0x80000000u : 0u) | ((key & 0x3fffu) << 16);
    auto code = [&](uint32_t t) { return rule_code(cb, u2f(hi_bits | (neg ? t ^ 0xffffu : t)), sign_fix, top); };
    const int c_lo = code(0), c_hi = code(0xffffu);
    if (c_lo < 0 || c_hi > 255 || c_hi < c_lo) return false;
    uint32_t t = 0;
    if (c_hi != c_lo) {
      uint32_t a = 1, b = 0xffffu;  // the smallest t whose code is above c_lo
      while (a < b) {
        const uint32_t m = (a + b) >> 1;
        if (code(m) > c_lo) b = m; else a = m + 1;
      }
      if (code(a) != c_hi) return false;  // more than one transition in the bucket
      t = a;
    }
    // entry = A | B << 8 | T << 16 with byte = (raw low 16 bits of y >= T) ? B : A: for negative y the raw
    // bits fall as y rises, so there the bytes swap and T counts from the other end
    const uint32_t b_lo = stored_byte(c_lo, slot), b_hi = stored_byte(t == 0 ? c_lo : c_hi, slot);
    const uint32_t at = hi_bits >> 16;
    if (!neg || t == 0) entry[at] = b_lo | b_hi << 8 | t << 16;
    else entry[at] = b_hi | b_lo << 8 | (0x10000u - t) << 16;
  }
  // Check the tables where the rule changes: around every transition of the search, the midpoints the
  // nearer-neighbour rule compares at, the zeros.
  float at[258];  // (no allocation: this runs inside call_once, under C and JNI entry points)
  for (int k = 1; k <= 255; ++k) at[k - 1] = cb.thresh[k];
  at[255] = (cb.values[0] + cb.values[2]) * 0.5f;
  at[256] = (cb.values[253] + cb.values[255]) * 0.5f;
  at[257] = 0.0f;
  for (float x : at) {
    if (!(std::fabs(x) < 2.0f)) continue;
    for (int d = -2; d <= 2; ++d) {
      for (float y : {from_ord(ord(x) + d), -from_ord(ord(x) + d)}) {
        if (!(std::fabs(y) < 2.0f)) continue;
        if (state_byte_lookup(entry, y) != stored_byte(rule_code(cb, y, sign_fix, top), slot)) return false;
      }
    }
  }
  return true;
}

void build_state_byte_tables(const Codebook& cb, StateByteTables* t) {
  for (int sf = 0; sf < 2; ++sf) {
    bool ok = cb.path == SearchPath::Packed;
    // the fix from y is the fix from the state: a positive state that underflows to y = +0 needs none;
    // negative values first, so that the fixed code is monotone
    if (sf == 1) ok = ok && cb.sign_split >= 0 && !std::signbit(cb.values[search_reference(cb.values, 0.0f)]);
    for (int top = 0; top < 2 && ok; ++top) ok = build_state_bytes(cb, sf == 1, top == 1, t->entry[sf][top]);
    t->ok[sf] = ok;
  }
}

// The lut + thresholds form is exact on |y| < 2 exactly when the reference search is monotone
// there (see Codebook). That holds for every sorted map, but the tables are still checked as they
// are built; a map that fails keeps the reference search instead of being refused, so the native
// library accepts every map the Java kernels accept and gives the same codes.
bool build_tables(Codebook* cb) {
  const float inf = std::numeric_limits<float>::infinity();
  const int64_t lo_ord = ord(-FLT_MAX), hi_ord = ord(FLT_MAX);
  const int top = search_reference(cb->values, FLT_MAX);
  const int bottom = search_reference(cb->values, -FLT_MAX);
  cb->thresh[0] = -inf;
  for (int k = 1; k <= 255; ++k) {
    if (k > top) { cb->thresh[k] = inf; continue; }
    if (k <= bottom) { cb->thresh[k] = -FLT_MAX; continue; }
    int64_t a = lo_ord, b = hi_ord;  // search(from_ord(a)) < k <= search(from_ord(b))
    while (b - a > 1) {
      int64_t m = a + (b - a) / 2;
      if (search_reference(cb->values, from_ord(m)) >= k) b = m; else a = m;
    }
    cb->thresh[k] = from_ord(b);
  }
  cb->thresh[256] = inf;
  cb->thresh[257] = inf;
  for (int k = 2; k <= 255; ++k)
    if (cb->thresh[k] < cb->thresh[k - 1]) return false;  // search not monotone

  int max_span = 0;
  cb->packed_ok = true;
  for (uint32_t key = 0; key < 32768; ++key) {
    uint32_t mag = (key & 0x3fffu) << 16;
    float y_low, y_high;
    if (key & 0x4000u) { y_low = u2f(0x80000000u | mag | 0xffffu); y_high = u2f(0x80000000u | mag); }
    else               { y_low = u2f(mag);                          y_high = u2f(mag | 0xffffu); }
    int c_low = search_reference(cb->values, y_low);
    int c_high = search_reference(cb->values, y_high);
    if (c_high < c_low) return false;
    cb->lut[key] = (uint8_t)c_low;
    if (c_high - c_low > max_span) max_span = c_high - c_low;
    cb->packed[key] = packed_entry(cb->values, key, c_low, c_high, &cb->packed_ok);
  }
  std::memset(cb->lut + 32768, 0, 4);
  cb->max_span = max_span;
  build_fast(*cb, false, &cb->fast[0]);
  build_fast(*cb, true, &cb->fast[1]);

  // The table forms must agree with the reference around every transition point they cover
  // (|y| < 2: the lut key drops the top exponent bit, so larger y alias smaller ones).
  for (int k = 1; k <= 255; ++k) {
    float t = cb->thresh[k];
    if (!(std::fabs(t) < 2.0f)) continue;
    for (int d = -2; d <= 2; ++d) {
      float y = from_ord(ord(t) + d);
      if (!(std::fabs(y) < 2.0f)) continue;
      int ref = search_reference(cb->values, y);
      if (search_table(*cb, y) != ref) return false;
      if (cb->packed_ok && search_packed(*cb, y) != ref) return false;
      if (cb->fast[0].ok && search_fast(cb->fast[0], y) != ref) cb->fast[0].ok = false;
      if (cb->fast[1].ok && search_fast(cb->fast[1], y) != sign_fixed(*cb, ref, y)) cb->fast[1].ok = false;
    }
  }
  return true;
}

bool build(Codebook* cb, const float* v) {
  for (int i = 0; i < 256; ++i) {
    if (!std::isfinite(v[i])) return false;
    if (i > 0 && v[i] < v[i - 1]) return false;
    cb->values[i] = v[i];
    for (int p = 0; p < 4; ++p) cb->vplane[p][i] = (uint8_t)(f2u(v[i]) >> (8 * p));
  }
  for (int i = 0; i < 256; ++i) cb->values_sigma[i] = v[sigma((uint8_t)i)];
  // Step L's pivots are 127 +- 64 +- ... (L terms): (2b + 1) * 2^(7 - L) - 1 for b < 2^L.
  for (int level = 0; level <= 7; ++level)
    for (int b = 0; b < (1 << level); ++b) cb->levels[(1 << level) - 1 + b] = v[((2 * b + 1) << (7 - level)) - 1];
  cb->levels[255] = 0.0f;
  // Where the sign bits change (sorted maps: negatives, maybe -0.0, then the rest), for the
  // optimizers' sign fix without a table lookup.
  int split = 0;
  while (split < 256 && std::signbit(cb->values[split])) ++split;
  cb->sign_split = split;
  for (int c = split; c < 256; ++c) if (std::signbit(cb->values[c])) cb->sign_split = -1;
  cb->nan_code = (uint8_t)search_reference(cb->values, std::numeric_limits<float>::quiet_NaN());
  if (build_tables(cb)) {
    cb->path = cb->packed_ok ? SearchPath::Packed : SearchPath::Table;
  } else {
    // Nothing but the reference search may touch this map.
    cb->path = SearchPath::Reference;
    cb->packed_ok = false;
    cb->fast[0].ok = cb->fast[1].ok = false;
  }
  return true;
}

}  // namespace

Codebook::~Codebook() { delete state_bytes; }

const StateByteTables* state_byte_tables(const Codebook& cb) {
  std::call_once(cb.state_bytes_once, [&] {
    // value-initialised: the entries of |y| >= 2 are never built, but stay defined
    auto* t = new (std::nothrow) StateByteTables();
    if (t != nullptr) build_state_byte_tables(cb, t);
    cb.state_bytes = t;
  });
  return cb.state_bytes;
}

}  // namespace bnb

extern "C" bnb_codebook* bnb_codebook_create(const float* values256, int64_t* status) {
  if (values256 == nullptr) { if (status) *status = BNB_ERR_ARG; return nullptr; }
  auto* cb = new (std::nothrow) bnb::Codebook();
  if (cb == nullptr) { if (status) *status = BNB_ERR_ARG; return nullptr; }
  if (!bnb::build(cb, values256)) {
    delete cb;
    if (status) *status = BNB_ERR_CODEBOOK;
    return nullptr;
  }
  if (status) *status = BNB_OK;
  return reinterpret_cast<bnb_codebook*>(cb);
}

extern "C" void bnb_codebook_free(bnb_codebook* cb) { delete reinterpret_cast<bnb::Codebook*>(cb); }

namespace {

// Where a table form differs from its rule (differs(y) true) on every stride-th float of |y| < 2,
// both signs: the number of such floats.
template <class Differs>
int64_t count_differences(int32_t stride, Differs differs) {
  int64_t bad = 0;
  const int64_t count = (int64_t)0x40000000 / stride + 1;  // magnitudes 0 .. 0x3fffffff (|y| < 2)
#pragma omp parallel for reduction(+ : bad) schedule(static)
  for (int64_t k = 0; k < count; ++k) {
    const uint32_t mag = (uint32_t)(k * stride);
    if (mag >= 0x40000000u) continue;
    for (uint32_t sign : {0u, 0x80000000u})
      if (differs(bnb::u2f(mag | sign))) ++bad;
  }
  return bad;
}

// StateByteTables against the rule itself (element.h state_byte with s = y); -1 when the tables do not
// fit the map.
int64_t check_state_bytes(const bnb::Codebook& cb, bool sign_fix, bool top, int32_t stride) {
  const bnb::StateByteTables* t = bnb::state_byte_tables(cb);
  if (t == nullptr || !t->ok[sign_fix]) return -1;
  const uint32_t* entry = t->entry[sign_fix][top];
  const bnb::Slot slot = top ? bnb::kFloatTop : bnb::kPlain;
  return count_differences(stride, [&](float y) {
    return bnb::state_byte_lookup(entry, y) != bnb::state_byte(cb.values, y, 1.0f, sign_fix, slot);
  });
}

}  // namespace

extern "C" int64_t bnb_codebook_check_fast(const bnb_codebook* cbh, int32_t variant, int32_t stride) {
  if (cbh == nullptr || variant < 0 || variant > 5 || stride < 1) return -1;
  const auto& cb = *reinterpret_cast<const bnb::Codebook*>(cbh);
  if (variant >= 2) return check_state_bytes(cb, (variant & 1) != 0, variant >= 4, stride);
  const bnb::FastEnc& fe = cb.fast[variant];
  if (!fe.ok) return -1;
  return count_differences(stride, [&](float y) {
    int ref = bnb::search_reference(cb.values, y);
    if (variant == 1) ref = bnb::sign_fixed(cb, ref, y);
    return bnb::search_fast(fe, y) != ref;
  });
}
