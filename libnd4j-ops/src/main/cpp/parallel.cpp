// How the kernels' chunks get their threads (see parallel.h): an OpenMP region on the runtime shared
// with ND4J, or, after that stalled, bnb4j's own worker pool.
//
// The pool:
// One job at a time (a second caller meanwhile runs its job alone). A job is published by bumping
// a generation word: odd while the caller rewrites the job, even once it is ready. Idle workers
// watch that word for kWorkerSpinNs and then sleep on it (futex). Everyone, the caller included,
// claims chunks with fetch_add on per-thread ranges: first its own, then the others'. The caller
// waits until every chunk is done (briefly spinning, then sleeping), not until every worker has
// turned up: a worker that arrives late finds nothing left and goes back to waiting. Before the next
// job is written, the caller waits for such late workers to leave the previous one (they only look
// at exhausted ranges, for nanoseconds).
#include "parallel.h"

#include <immintrin.h>
#include <linux/futex.h>
#include <omp.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>

namespace bnb {
namespace {

// How long an idle worker keeps watching for the next job before it sleeps, and how long a caller
// waits for the chunks other threads are still computing before it sleeps (docs/PERFORMANCE.md):
// long enough to catch back-to-back calls and the last chunks of a call without a futex round trip
// (~5-50 us to wake a sleeping thread here), short enough not to take a core from anyone for long.
constexpr int64_t kWorkerSpinNs = 50'000;
constexpr int64_t kCallerSpinNs = 50'000;
constexpr int kMaxThreads = 256;
// OpenMP join: how long the caller spins for the other threads before it sleeps, and the wait that
// counts as a stall (a descheduled thread: scheduler time slices are milliseconds).
constexpr int64_t kJoinSpinNs = 200'000;
constexpr int64_t kStallNs = 300'000;
// After a stall, this many calls (doubling while OpenMP keeps stalling) run on the pool.
constexpr int kMinPoolPeriod = 8;
constexpr int kMaxPoolPeriod = 4096;

std::atomic<int64_t> g_chunk_override{0}, g_min_override{0};

inline int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

inline void futex_wait(std::atomic<uint32_t>* word, uint32_t expected) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0);
}
inline void futex_wake(std::atomic<uint32_t>* word, int n) {
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(word), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

// Spins (pause) until pred() or budget_ns has passed; returns pred().
template <typename P>
bool spin_until(P pred, int64_t budget_ns) {
  if (pred()) return true;
  const int64_t end = now_ns() + budget_ns;
  for (;;) {
    for (int i = 0; i < 32; ++i) {
      _mm_pause();
      if (pred()) return true;
    }
    if (now_ns() > end) return pred();
  }
}

struct alignas(64) Range {
  std::atomic<int64_t> next;  // next chunk to claim
  int64_t end;                // one past the last chunk
};

struct Pool {
  std::atomic<bool> busy{false};      // a job is running (callers that find it set run alone)
  alignas(64) std::atomic<uint32_t> gen{0};  // even: job published; odd: being written (futex word)
  std::atomic<int> sleepers{0};       // workers sleeping on gen
  std::atomic<int> active{0};         // workers inside a job
  alignas(64) std::atomic<int64_t> done{0};  // chunks completed
  alignas(64) std::atomic<uint32_t> finished{0};  // all chunks completed (futex word of the caller)
  std::atomic<int> caller_sleeping{0};
  int workers = 0;  // threads started (only changed by the caller holding busy)
  // The job: written while gen is odd and active == 0, read by workers once gen is even.
  void (*call)(void*, int64_t, int64_t) = nullptr;
  void* ctx = nullptr;
  int64_t items = 0, chunk = 0, total = 0;
  int t = 0;
  Range ranges[kMaxThreads];
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: detached workers may outlive static destructors
  return *p;
}

// Claims and runs chunks, own range first; sets `finished` after the last chunk of the job.
void work(Pool& p, int self) {
  const int t = p.t;
  for (int j = 0; j < t; ++j) {
    Range& r = p.ranges[(self + j) % t];
    while (r.next.load(std::memory_order_relaxed) < r.end) {
      const int64_t c = r.next.fetch_add(1, std::memory_order_relaxed);
      if (c >= r.end) break;
      p.call(p.ctx, c * p.chunk, std::min(p.items, (c + 1) * p.chunk));
      if (p.done.fetch_add(1, std::memory_order_acq_rel) + 1 == p.total) {
        p.finished.store(1, std::memory_order_seq_cst);
        if (p.caller_sleeping.load(std::memory_order_seq_cst)) futex_wake(&p.finished, 1);
      }
    }
  }
}

void worker_main(Pool* pp, int k, uint32_t last) {
  Pool& p = *pp;
  char name[16];
  std::snprintf(name, sizeof name, "bnb4j-%d", k);
  pthread_setname_np(pthread_self(), name);
  auto fresh = [&](uint32_t g) { return g != last && (g & 1u) == 0; };
  for (;;) {
    uint32_t g = p.gen.load(std::memory_order_acquire);
    if (!fresh(g)) {
      spin_until([&] { return fresh(g = p.gen.load(std::memory_order_acquire)); }, kWorkerSpinNs);
      if (!fresh(g)) {
        p.sleepers.fetch_add(1, std::memory_order_seq_cst);
        while (!fresh(g = p.gen.load(std::memory_order_seq_cst))) futex_wait(&p.gen, g);
        p.sleepers.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    last = g;
    p.active.fetch_add(1, std::memory_order_seq_cst);
    // Still the job we saw (not already being rewritten for the next one)? Then it is safe to read.
    if (p.gen.load(std::memory_order_seq_cst) == g && k < p.t) work(p, k);
    p.active.fetch_sub(1, std::memory_order_release);
  }
}

// An OpenMP region on the runtime we share with ND4J (whose threads are usually still spinning from
// ND4J's last region, so they join at once), with a join that never spins: every thread counts its
// arrival and its chunks; the caller, done with its own share, waits for the others by spinning
// briefly and then sleeping (futex), so that the scheduler can run a late or preempted team thread
// on the caller's core, and only enters OpenMP's (spinning) end barrier once everyone has arrived.
// With join_passively == false: a plain region (libgomp's own spinning join), for comparisons.
// Returns whether the call stalled: the caller, done with its share, waited more than
// max(kStallNs, a quarter of the call) for the other threads (one was descheduled, or late).
bool run_openmp(int t, int64_t items, int64_t chunk, void (*call)(void*, int64_t, int64_t), void* ctx, bool join_passively) {
  const int64_t t0 = now_ns();
  int64_t t_own = 0;
  const int64_t chunks = (items + chunk - 1) / chunk;
  std::unique_ptr<Range[]> ranges(new Range[t]);
  for (int i = 0; i < t; ++i) {
    ranges[i].next.store(chunks * i / t, std::memory_order_relaxed);
    ranges[i].end = chunks * (i + 1) / t;
  }
  Range* r = ranges.get();
  struct alignas(64) Join {
    std::atomic<int> arrived{0};
    std::atomic<int64_t> done{0};
    std::atomic<uint32_t> progress{0};  // futex word: bumped on every arrival and chunk
    std::atomic<int> sleeping{0};
  } join;
  auto bump = [&] {
    join.progress.fetch_add(1, std::memory_order_seq_cst);
    if (join.sleeping.load(std::memory_order_seq_cst)) futex_wake(&join.progress, 1);
  };
#pragma omp parallel num_threads(t)
  {
    const int self = omp_get_thread_num(), nt = omp_get_num_threads();
    join.arrived.fetch_add(1, std::memory_order_acq_rel);
    if (join_passively && self != 0) bump();
    for (int j = 0; j < t; ++j) {
      Range& g = r[(self + j) % t];
      while (g.next.load(std::memory_order_relaxed) < g.end) {
        const int64_t c = g.next.fetch_add(1, std::memory_order_relaxed);
        if (c >= g.end) break;
        call(ctx, c * chunk, std::min(items, (c + 1) * chunk));
        join.done.fetch_add(1, std::memory_order_acq_rel);
        if (join_passively && self != 0) bump();
      }
    }
    if (self == 0) t_own = now_ns();
    if (join_passively && self == 0) {
      auto all_in = [&] {
        return join.arrived.load(std::memory_order_acquire) == nt && join.done.load(std::memory_order_acquire) == chunks;
      };
      if (!spin_until(all_in, kJoinSpinNs)) {
        join.sleeping.store(1, std::memory_order_seq_cst);
        for (;;) {
          const uint32_t seen = join.progress.load(std::memory_order_seq_cst);
          if (all_in()) break;
          futex_wait(&join.progress, seen);
        }
        join.sleeping.store(0, std::memory_order_relaxed);
      }
    }
  }
  const int64_t t2 = now_ns(), lag = t2 - t_own;
  return lag > kStallNs && lag > (t2 - t0) / 4;
}

// BNB4J_THREADS: "auto" (default, see run_chunks), "openmp" (always the OpenMP region with the
// passive join), "openmp-spin" (a plain OpenMP region: libgomp's spinning join), "pool" (always
// bnb4j's own threads). The fixed choices are for comparisons.
enum class Backend { Auto, OpenMp, OpenMpSpin, Pool };
Backend backend() {
  static const Backend b = [] {
    const char* e = std::getenv("BNB4J_THREADS");
    if (e == nullptr) return Backend::Auto;
    if (std::strcmp(e, "pool") == 0) return Backend::Pool;
    if (std::strcmp(e, "openmp") == 0) return Backend::OpenMp;
    if (std::strcmp(e, "openmp-spin") == 0) return Backend::OpenMpSpin;
    return Backend::Auto;
  }();
  return b;
}

// Auto: calls left to run on the pool before OpenMP is tried again, and the next such period.
std::atomic<int> g_pool_calls_left{0};
std::atomic<int64_t> g_stalls{0};  // OpenMP calls that stalled (bnb_parallel_stalls)
std::atomic<int> g_pool_period{kMinPoolPeriod / 2};

}  // namespace

int64_t split_chunk(int64_t chunk_elems) {
  const int64_t o = g_chunk_override.load(std::memory_order_relaxed);
  return o > 0 ? o : chunk_elems;
}

int64_t split_min_per_thread(int64_t min_elems) {
  const int64_t o = g_min_override.load(std::memory_order_relaxed);
  return o > 0 ? o : min_elems;
}

int threads_for_items(int64_t items, int64_t min_per_thread) {
  const int max = std::min(bnb_max_threads(), kMaxThreads);
  if (max <= 1) return 1;
  if (min_per_thread < 1) min_per_thread = 1;
  const int64_t t = items / min_per_thread;
  return t < 2 ? 1 : t < max ? (int)t : max;
}

void run_chunks(int t, int64_t items, int64_t chunk, void (*call)(void*, int64_t, int64_t), void* ctx) {
  // Auto: OpenMP's team, shared with ND4J, is usually still spinning from ND4J's last region (which
  // wrote the gradient just before): it starts at once, and a pool thread would have to fight those
  // spinning threads for a core (measured: 2x slower at 1M parameters). But on a busy host a team
  // thread is sometimes descheduled and the region waits a whole time slice for it (measured:
  // 0.36 -> 8-12 ms): after such a stall, calls run on the pool, which never waits for a thread
  // that has not turned up, for a period that doubles while OpenMP keeps stalling.
  const Backend b = backend();
  if (b == Backend::OpenMp || b == Backend::OpenMpSpin) {
    run_openmp(t, items, chunk, call, ctx, b == Backend::OpenMp);
    return;
  }
  if (b == Backend::Auto) {
    if (g_pool_calls_left.load(std::memory_order_relaxed) <= 0) {
      if (run_openmp(t, items, chunk, call, ctx, true)) {
        const int period = std::min(kMaxPoolPeriod, 2 * g_pool_period.load(std::memory_order_relaxed));
        g_pool_period.store(period, std::memory_order_relaxed);
        g_pool_calls_left.store(period, std::memory_order_relaxed);
        g_stalls.fetch_add(1, std::memory_order_relaxed);
      } else {
        g_pool_period.store(kMinPoolPeriod / 2, std::memory_order_relaxed);
      }
      return;
    }
    g_pool_calls_left.fetch_sub(1, std::memory_order_relaxed);
  }
  Pool& p = pool();
  if (t <= 1 || p.busy.exchange(true, std::memory_order_acquire)) {
    call(ctx, 0, items);  // another call holds the pool (or nested use): this one runs alone
    return;
  }
  // Start missing workers; each will take the job published below.
  const uint32_t before = p.gen.load(std::memory_order_relaxed);
  while (p.workers < t - 1) {
    try {
      std::thread(worker_main, &p, p.workers + 1, before).detach();
    } catch (...) {
      break;  // no more threads: the others (and the caller) take over their chunks
    }
    ++p.workers;
  }
  p.gen.fetch_add(1, std::memory_order_seq_cst);  // odd: late workers of the last job back off
  while (p.active.load(std::memory_order_seq_cst) != 0) _mm_pause();
  const int64_t chunks = (items + chunk - 1) / chunk;
  p.call = call;
  p.ctx = ctx;
  p.items = items;
  p.chunk = chunk;
  p.total = chunks;
  p.t = t;
  for (int i = 0; i < t; ++i) {
    p.ranges[i].next.store(chunks * i / t, std::memory_order_relaxed);
    p.ranges[i].end = chunks * (i + 1) / t;
  }
  p.done.store(0, std::memory_order_relaxed);
  p.finished.store(0, std::memory_order_relaxed);
  p.gen.fetch_add(1, std::memory_order_seq_cst);  // even: published
  if (p.sleepers.load(std::memory_order_seq_cst) > 0) futex_wake(&p.gen, INT_MAX);

  work(p, 0);
  auto all_done = [&] { return p.finished.load(std::memory_order_acquire) != 0; };
  if (!spin_until(all_done, kCallerSpinNs)) {
    p.caller_sleeping.store(1, std::memory_order_seq_cst);
    while (p.finished.load(std::memory_order_seq_cst) == 0) futex_wait(&p.finished, 0);
    p.caller_sleeping.store(0, std::memory_order_relaxed);
  }
  p.busy.store(false, std::memory_order_release);
}

}  // namespace bnb

extern "C" void bnb_set_parallel_split(int64_t chunk_elems, int64_t min_elems_per_thread) {
  bnb::g_chunk_override.store(chunk_elems > 0 ? chunk_elems : 0, std::memory_order_relaxed);
  bnb::g_min_override.store(min_elems_per_thread > 0 ? min_elems_per_thread : 0, std::memory_order_relaxed);
}

extern "C" int64_t bnb_parallel_stalls() { return bnb::g_stalls.load(std::memory_order_relaxed); }
