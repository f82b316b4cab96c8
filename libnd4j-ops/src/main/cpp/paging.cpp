// Paged memory: an unlinked file mapped MAP_SHARED over the whole pages of a range of existing
// memory (an updater's state view), so that the operating system can write those pages to the file
// and drop them when memory runs short, and read them back on the next access, the CPU analogue of
// bitsandbytes' paged (unified-memory) optimizer state. The range keeps its address: the arrays
// that alias it (DL4J's updater view, its save/restore/clone paths) see ordinary memory.
//
// Why this is safe only for some memory: the mapping stays where it was put until that address
// range is unmapped. For a chunk glibc's malloc obtained with its own mmap, free() unmaps the whole
// chunk, which takes the file mapping (and, the file being unlinked, its disk blocks) with it. A
// chunk inside a malloc heap would instead be handed out again with the file still behind it, and
// glibc assumes that heap pages it trimmed with MADV_DONTNEED read back as zero, which a file
// mapping does not. So bnb_page_map maps only over a glibc direct-mmapped chunk, verified from the
// chunk header and /proc/self/maps, and only when glibc's malloc is the process's malloc.
#include "bnb4j.h"

#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <atomic>
#include <string>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

namespace {

// The name every paged-state file starts with (it is unlinked at once; /proc/self/maps still shows it,
// "(deleted)", which is how an already paged range is recognised).
constexpr const char* kFilePrefix = "bnb4j-paged-";

std::atomic<uint64_t> g_file_seq{0};

void message(char* msg, int32_t cap, const char* fmt, ...) {
  if (msg == nullptr || cap <= 0) return;
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, static_cast<size_t>(cap), fmt, ap);
  va_end(ap);
}

uint64_t page_size() { return static_cast<uint64_t>(sysconf(_SC_PAGESIZE)); }

// True when malloc resolves to the C library's own (no LD_PRELOADed allocator): only then do the
// chunk-header and free() facts above hold.
bool glibc_malloc() {
  void* libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  if (libc == nullptr) return false;
  void* own = dlsym(libc, "malloc");
  void* active = dlsym(RTLD_DEFAULT, "malloc");
  dlclose(libc);
  return own != nullptr && own == active;
}

// glibc's mmapped chunk: the user pointer sits two size_t words after a page-aligned chunk start, and
// the size word (the one just before the pointer) has IS_MMAPPED (0x2) set and covers the request.
bool glibc_mmapped_chunk(const void* root, uint64_t root_bytes) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(root);
  if (p < 2 * sizeof(size_t) || (p - 2 * sizeof(size_t)) % page_size() != 0) return false;
  const size_t size_word = reinterpret_cast<const size_t*>(root)[-1];
  const size_t chunk = size_word & ~static_cast<size_t>(7);
  return (size_word & 0x2) != 0 && chunk >= root_bytes + 2 * sizeof(size_t);
}

struct Vma {
  uint64_t lo, hi;
  std::string perms, path;
  uint64_t inode;
};

bool read_maps(std::vector<Vma>* out) {
  FILE* f = std::fopen("/proc/self/maps", "re");
  if (f == nullptr) return false;
  char line[4096];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    Vma v{};
    char perms[8] = {};
    unsigned long long lo = 0, hi = 0, off = 0, inode = 0;
    unsigned dev_major = 0, dev_minor = 0;
    int consumed = 0;
    if (std::sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &lo, &hi, perms, &off, &dev_major, &dev_minor, &inode, &consumed) < 7)
      continue;
    v.lo = lo;
    v.hi = hi;
    v.perms = perms;
    v.inode = inode;
    std::string path = line + consumed;
    while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
    v.path = path;
    out->push_back(v);
  }
  std::fclose(f);
  return true;
}

bool is_ours(const Vma& v) { return v.path.find(std::string("/") + kFilePrefix) != std::string::npos; }

// What [lo, hi) is mapped as now: 1 = wholly a bnb4j paged file already, 0 = private anonymous
// read-write memory that is neither the brk heap nor a stack, -1 = anything else (message says what).
int32_t classify(uint64_t lo, uint64_t hi, char* msg, int32_t cap) {
  std::vector<Vma> maps;
  if (!read_maps(&maps)) {
    message(msg, cap, "cannot read /proc/self/maps: %s", std::strerror(errno));
    return -1;
  }
  uint64_t at = lo;
  int ours = 0, anon = 0;
  for (const Vma& v : maps) {
    if (v.hi <= at || v.lo >= hi) continue;
    if (v.lo > at) break;  // a hole
    if (is_ours(v)) {
      ++ours;
    } else if (v.inode == 0 && v.perms == "rw-p" && (v.path.empty() || v.path[0] != '[')) {
      ++anon;
    } else {
      message(msg, cap, "the memory at 0x%" PRIx64 " is mapped as '%s %s', not as heap memory of its own", v.lo, v.perms.c_str(),
              v.path.c_str());
      return -1;
    }
    at = v.hi;
    if (at >= hi) break;
  }
  if (at < hi) {
    message(msg, cap, "the range 0x%" PRIx64 "-0x%" PRIx64 " is not wholly mapped", lo, hi);
    return -1;
  }
  if (ours > 0 && anon > 0) {
    message(msg, cap, "the range 0x%" PRIx64 "-0x%" PRIx64 " is partly paged already", lo, hi);
    return -1;
  }
  return ours > 0 ? 1 : 0;
}

bool write_all(int fd, const uint8_t* src, uint64_t bytes, uint64_t offset) {
  while (bytes > 0) {
    const ssize_t w = pwrite(fd, src, bytes > (1u << 30) ? (1u << 30) : bytes, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    src += w;
    offset += static_cast<uint64_t>(w);
    bytes -= static_cast<uint64_t>(w);
  }
  return true;
}

bool read_all(int fd, uint8_t* dst, uint64_t bytes, uint64_t offset) {
  while (bytes > 0) {
    const ssize_t r = pread(fd, dst, bytes > (1u << 30) ? (1u << 30) : bytes, static_cast<off_t>(offset));
    if (r <= 0) {
      if (r < 0 && errno == EINTR) continue;
      return false;
    }
    dst += r;
    offset += static_cast<uint64_t>(r);
    bytes -= static_cast<uint64_t>(r);
  }
  return true;
}

// A new file of `bytes` zero bytes in dir, every block reserved, its name already gone: from here on it
// lives only as long as the descriptor and the mappings of it, so a crash leaves nothing on disk.
// Returns the descriptor, or -1 with *status and msg set.
int open_state_file(const char* dir, uint64_t bytes, int32_t* status, char* msg, int32_t msg_cap) {
  // The name lives only until the unlink below; one left by a crash in that window (or by another process
  // of the same PID, in another PID namespace sharing dir) is skipped: the next sequence number is tried.
  std::string path;
  int fd = -1;
  for (int attempt = 0; attempt < 10000; ++attempt) {
    path = std::string(dir) + "/" + kFilePrefix + std::to_string(getpid()) + "-" + std::to_string(g_file_seq.fetch_add(1));
    fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0 || errno != EEXIST) break;
  }
  if (fd < 0) {
    message(msg, msg_cap, "cannot create %s: %s", path.c_str(), std::strerror(errno));
    *status = BNB_PAGE_ERR_FILE;
    return -1;
  }
  unlink(path.c_str());
  // Reserve every block now: a write fault on a file that cannot grow would be a SIGBUS mid-step.
  const int rc = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  if (rc != 0) {
    struct statvfs st{};
    const uint64_t avail = statvfs(dir, &st) == 0 ? static_cast<uint64_t>(st.f_bavail) * st.f_frsize : 0;
    message(msg, msg_cap, "cannot reserve %" PRIu64 " bytes in %s (%" PRIu64 " bytes available): %s", bytes, dir, avail,
            std::strerror(rc));
    close(fd);
    *status = rc == ENOSPC || rc == EFBIG ? BNB_PAGE_ERR_SPACE : BNB_PAGE_ERR_FILE;
    return -1;
  }
  return fd;
}

}  // namespace

extern "C" {

int32_t bnb_page_map(void* addr, uint64_t len, const void* root, uint64_t root_bytes, const char* dir, int32_t mode,
                     bnb_paged_range* out, char* msg, int32_t msg_cap) {
  if (out == nullptr || dir == nullptr || addr == nullptr || (mode != BNB_PAGE_FRESH && mode != BNB_PAGE_KEEP)) {
    message(msg, msg_cap, "bad arguments");
    return BNB_PAGE_ERR_ARG;
  }
  out->lo = 0;
  out->len = 0;
  const uint64_t ps = page_size();
  const uint64_t a = reinterpret_cast<uintptr_t>(addr);
  const uint64_t lo = (a + ps - 1) / ps * ps, hi = (a + len) / ps * ps;
  uint8_t* const base = static_cast<uint8_t*>(addr);
  if (hi <= lo) {  // not one whole page inside: nothing to page
    if (mode == BNB_PAGE_FRESH) std::memset(base, 0, len);
    message(msg, msg_cap, "it does not span a whole page (%" PRIu64 " bytes), so there is nothing to page", ps);
    return BNB_PAGE_NOT_PAGEABLE;
  }
  const int32_t kind = classify(lo, hi, msg, msg_cap);
  if (kind < 0) return BNB_PAGE_NOT_PAGEABLE;
  if (kind == 1) {
    out->lo = lo;
    out->len = hi - lo;
    return BNB_PAGE_ALREADY;
  }
  if (!glibc_malloc()) {
    message(msg, msg_cap, "malloc is not the C library's (an allocator preloaded with LD_PRELOAD?): its freed memory could keep the mapping");
    return BNB_PAGE_NOT_PAGEABLE;
  }
  if (root == nullptr || reinterpret_cast<uintptr_t>(root) > a || reinterpret_cast<uintptr_t>(root) + root_bytes < a + len ||
      !glibc_mmapped_chunk(root, root_bytes)) {
    message(msg, msg_cap, "the array's memory (%" PRIu64 " bytes) was not mapped by malloc on its own (small arrays come from the heap)",
            root_bytes);
    return BNB_PAGE_NOT_PAGEABLE;
  }

  const uint64_t bytes = hi - lo;
  int32_t status = BNB_PAGE_OK;
  const int fd = open_state_file(dir, bytes, &status, msg, msg_cap);
  if (fd < 0) return status;
  // All of it: mincore cannot tell a page never touched (zero) from one swapped out (data).
  if (mode == BNB_PAGE_KEEP && !write_all(fd, reinterpret_cast<uint8_t*>(lo), bytes, 0)) {
    message(msg, msg_cap, "cannot write the state into %s: %s", dir, std::strerror(errno));
    close(fd);
    return BNB_PAGE_ERR_FILE;
  }
  void* m = mmap(reinterpret_cast<void*>(lo), bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0);
  if (m == MAP_FAILED) {
    const int err = errno;
    // MAP_FIXED may have removed the old pages before failing: put anonymous memory back with the
    // contents the file holds (all of them for KEEP; zeros for FRESH).
    void* back = mmap(reinterpret_cast<void*>(lo), bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (back != MAP_FAILED && mode == BNB_PAGE_KEEP) read_all(fd, reinterpret_cast<uint8_t*>(lo), bytes, 0);
    close(fd);
    message(msg, msg_cap, "cannot map %s over the state: %s", dir, std::strerror(err));
    return BNB_PAGE_ERR_FILE;
  }
  close(fd);
  if (mode == BNB_PAGE_FRESH) {  // the file is zero; the partial pages at either end stay ordinary memory
    std::memset(base, 0, lo - a);
    std::memset(reinterpret_cast<uint8_t*>(hi), 0, a + len - hi);
  }
  // Sequential: larger read-ahead, and pages behind the stream are the first the kernel reclaims.
  madvise(reinterpret_cast<void*>(lo), bytes, MADV_SEQUENTIAL);
  out->lo = lo;
  out->len = bytes;
  return BNB_PAGE_OK;
}

int32_t bnb_page_alloc(uint64_t bytes, const char* dir, bnb_paged_range* out, char* msg, int32_t msg_cap) {
  if (out == nullptr || dir == nullptr || bytes == 0) {
    message(msg, msg_cap, "bad arguments");
    return BNB_PAGE_ERR_ARG;
  }
  out->lo = 0;
  out->len = 0;
  const uint64_t ps = page_size(), len = (bytes + ps - 1) / ps * ps;
  int32_t status = BNB_PAGE_OK;
  const int fd = open_state_file(dir, len, &status, msg, msg_cap);
  if (fd < 0) return status;
  void* m = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  const int err = errno;
  close(fd);
  if (m == MAP_FAILED) {
    message(msg, msg_cap, "cannot map a file of %" PRIu64 " bytes in %s: %s", len, dir, std::strerror(err));
    return BNB_PAGE_ERR_FILE;
  }
  madvise(m, len, MADV_SEQUENTIAL);
  out->lo = reinterpret_cast<uintptr_t>(m);
  out->len = len;
  return BNB_PAGE_OK;
}

int32_t bnb_page_free(void* addr, uint64_t len) { return munmap(addr, len) == 0 ? 0 : -errno; }

int32_t bnb_page_advise(void* addr, uint64_t len, int32_t advice) {
  const uint64_t ps = page_size();
  const uint64_t a = reinterpret_cast<uintptr_t>(addr) / ps * ps;
  const uint64_t end = reinterpret_cast<uintptr_t>(addr) + len;
  int native = -1;
  if (advice == BNB_PAGE_WILLNEED) native = MADV_WILLNEED;
#ifdef MADV_PAGEOUT
  if (advice == BNB_PAGE_PAGEOUT) native = MADV_PAGEOUT;
#endif
  if (native < 0) return -EINVAL;
  // Dirty pages would only start their writeback and stay: write them first, then drop them clean.
  if (advice == BNB_PAGE_PAGEOUT && msync(reinterpret_cast<void*>(a), end - a, MS_SYNC) != 0) return -errno;
  return madvise(reinterpret_cast<void*>(a), end - a, native) == 0 ? 0 : -errno;
}

int32_t bnb_page_flush(void* addr, uint64_t len) {
  const uint64_t ps = page_size();
  const uint64_t a = (reinterpret_cast<uintptr_t>(addr) + ps - 1) / ps * ps;
  const uint64_t end = (reinterpret_cast<uintptr_t>(addr) + len) / ps * ps;
  if (end <= a) return 0;
  if (msync(reinterpret_cast<void*>(a), end - a, MS_SYNC) != 0) return -errno;
  return madvise(reinterpret_cast<void*>(a), end - a, MADV_DONTNEED) == 0 ? 0 : -errno;
}

int64_t bnb_page_resident(const void* addr, uint64_t len) {
  const uint64_t ps = page_size();
  const uint64_t a = reinterpret_cast<uintptr_t>(addr) / ps * ps;
  const uint64_t end = reinterpret_cast<uintptr_t>(addr) + len;
  const uint64_t pages = (end - a + ps - 1) / ps;
  std::vector<unsigned char> vec(static_cast<size_t>(pages));
  if (mincore(reinterpret_cast<void*>(a), end - a, vec.data()) != 0) return -errno;
  int64_t resident = 0;
  for (unsigned char c : vec) resident += c & 1;
  return resident * static_cast<int64_t>(ps);
}

}  // extern "C"
