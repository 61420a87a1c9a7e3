// The cairn command: one subcommand per file in this folder.
#include <malloc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "cli/commands.h"
#include "storage/store.h"

namespace {

// Large allocations on transparent huge pages. A 10M-event import touches
// about 1.4 GB of fresh memory: in 4 KiB pages that is some 350,000 page
// faults, each a trip into the kernel (on a virtual machine, through the
// hypervisor too), which took a quarter of the import's CPU on a guest whose
// faults are slow. glibc backs its heap and its mmapped chunks with 2 MiB
// pages when its tunable glibc.malloc.hugetlb is 1 (it madvises them, and
// grows the heap in 2 MiB steps). Tunables are read only when a process
// starts, so the commands that build large data in memory (import, compact,
// delete-person) start cairn again, once, with the tunable added (exec keeps
// the pid); the second start costs some 8 ms, which a query of 70 ms would
// feel, so queries do only on a large database (queries_large_store).
// Not when huge pages do not pay (huge_pages_pay). Left as it is: a
// GLIBC_TUNABLES that names hugetlb already (the user's choice, or the second
// start), a kernel with transparent huge pages off, a sanitizer build (its
// own allocator), a process with LD_PRELOAD set (under valgrind,
// /proc/self/exe is valgrind's tool and cannot be started again; heaptrack
// and other preloaded allocators or profilers watch the first start), and a
// failed exec (cairn then runs as it is).

// Whether the guest gives freed memory back to its host (virtio-balloon's
// free page reporting, feature bit 5): the host then takes back every free
// block of 2 MiB or more, so a fresh huge page is one the host must supply
// anew on its first write. CAIRN_FREE_PAGE_REPORTING=0|1 stands in for the
// reading (tests/scripts/huge_pages_test.sh).
bool free_page_reporting() {
  const char* v = std::getenv("CAIRN_FREE_PAGE_REPORTING");
  if (v != nullptr && *v != '\0') return std::string_view(v) == "1";
  std::error_code ec;
  try {  // a directory that fails while listed reads as no balloon
    for (const auto& e : std::filesystem::directory_iterator("/sys/bus/virtio/devices", ec)) {
      std::ifstream device(e.path() / "device"), features(e.path() / "features");
      std::string id, bits;
      if (!std::getline(device, id) || id != "0x0005") continue;  // 5: the memory balloon
      if (std::getline(features, bits) && bits.size() > 5 && bits[5] == '1') return true;
    }
  } catch (const std::filesystem::filesystem_error&) {
  }
  return false;
}

// Nanoseconds for the first write of a 4 KiB page: the best of two probes
// of 256 pages (1 MiB) each, some 0.5 ms here. CAIRN_SMALL_PAGE_WRITE_NS
// stands in for it (tests).
double small_page_write_ns() {
  const char* v = std::getenv("CAIRN_SMALL_PAGE_WRITE_NS");
  if (v != nullptr && *v != '\0') return std::strtod(v, nullptr);
  constexpr size_t kPages = 256, kBytes = kPages * 4096;
  double best = std::numeric_limits<double>::infinity();
  for (int probe = 0; probe < 2; ++probe) {
    void* map = ::mmap(nullptr, kBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) break;
    ::madvise(map, kBytes, MADV_NOHUGEPAGE);
    volatile char* bytes = static_cast<volatile char*>(map);
    const auto start = std::chrono::steady_clock::now();
    for (size_t i = 0; i < kBytes; i += 4096) bytes[i] = 1;
    const std::chrono::duration<double, std::nano> took = std::chrono::steady_clock::now() - start;
    ::munmap(map, kBytes);
    best = std::min(best, took.count() / kPages);
  }
  return best;
}

// Huge pages pay unless the host takes freed memory back (so each fresh 2
// MiB page is supplied by the host on its first write) while small pages
// fault cheaply. Measured on two Firecracker guests that report free pages
// (10.5M-event NDJSON import, pairs timed in turn): under PVM, where a 4 KiB
// page's first write took ~15 us (0.27 GB/s), huge pages made the import
// 0.75x as long; under KVM, where it takes ~2 us, fresh huge pages came at
// 0.28 GB/s against 1.3 GB/s for small ones, and huge pages made the import
// 1.15x as long (system time 5.3 s against 2.1 s). Without free page
// reporting a huge page's first write costs its zeroing, and huge pages are
// kept. The reason is left in CAIRN_PAGE_CHOICE for --timing.
[[maybe_unused]] bool huge_pages_pay() {  // unused in sanitizer builds
  if (!free_page_reporting()) {
    ::setenv("CAIRN_PAGE_CHOICE", "huge pages: the host does not take freed memory back", 1);
    return true;
  }
  const double ns = small_page_write_ns();
  const bool pay = !(ns < 6000);
  const std::string why = fmt::format("{} pages: the host takes freed memory back, a 4 KiB page's first write {:.0f} ns ({} 6000)",
                                      pay ? "huge" : "small", ns, pay ? ">=" : "<");
  ::setenv("CAIRN_PAGE_CHOICE", why.c_str(), 1);
  return pay;
}

void use_huge_pages(char** argv) {
#if defined(__SANITIZE_ADDRESS__)
  (void)argv;
#else
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.hugetlb") != nullptr) return;
  const char* preload = std::getenv("LD_PRELOAD");
  if (preload != nullptr && *preload != '\0') return;
  std::ifstream thp("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  if (!std::getline(thp, mode) || mode.find("[never]") != std::string::npos) return;
  if (!huge_pages_pay()) {
    // A kernel that gives huge pages to every large mapping ([always]) is
    // told not to, for this process.
    if (mode.find("[always]") != std::string::npos) ::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
    return;
  }
  std::string value = "glibc.malloc.hugetlb=1";
  if (tunables != nullptr && *tunables != '\0') value = std::string(tunables) + ":" + value;
  if (::setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  ::execv("/proc/self/exe", argv);
  // exec failed: go on as started; the tunable stays in the environment, so
  // nothing tries again.
#endif
}

bool builds_in_memory(int argc, char** argv) {
  if (argc < 2) return false;
  const std::string_view command = argv[1];
  return command == "import" || command == "compact" || command == "delete-person";
}

// A query of a large database gains from huge pages too: what it builds
// (per-person logs of durations, groups, decoded blocks) is fresh memory,
// and at 100M events 2 MiB pages made the funnel query 0.87x as long (8
// pairs, 0.484 s against 0.556 s; its system time 0.10 s against 0.16 s).
// On a small database the second start's ~8 ms would cost more than they
// save (10M events: the funnel 0.88x and paths 0.95x before that cost), so
// only when the segments of --db hold at least 512 MiB (or
// CAIRN_HUGE_QUERY_BYTES, which tests/scripts/huge_pages_test.sh sets).
uint64_t huge_query_bytes() {
  const char* v = std::getenv("CAIRN_HUGE_QUERY_BYTES");
  if (v != nullptr && *v != '\0') {
    char* end = nullptr;
    const unsigned long long n = std::strtoull(v, &end, 10);
    if (end != nullptr && *end == '\0') return n;
  }
  return uint64_t{512} << 20;
}

bool queries_large_store(int argc, char** argv) {
  if (argc < 2 || std::string_view(argv[1]) != "query") return false;
  std::string db;
  for (int i = 2; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--db" && i + 1 < argc) db = argv[i + 1];
    if (a.starts_with("--db=")) db = std::string(a.substr(5));
  }
  if (db.empty()) return false;
  const uint64_t threshold = std::max<uint64_t>(huge_query_bytes(), 1);  // a store without segments: no second start
  return cairn::segment_file_bytes(db, threshold) >= threshold;
}

}  // namespace

int main(int argc, char** argv) {
  if (queries_large_store(argc, argv)) use_huge_pages(argv);
  if (builds_in_memory(argc, argv)) {
    use_huge_pages(argv);
    // Freed memory stays in the process for the next allocation: blocks of
    // up to 32 MiB (glibc's most) come from the heap instead of their own
    // mappings, and the heap's free top is not given back. Otherwise each
    // such block is unmapped when freed and faulted in afresh when allocated
    // again (an import's apply phase allocates and frees per partition):
    // 10M events, 6 pairs, 0.950x wall and 35,000 fewer page faults, for a
    // peak some 40 MiB higher.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  }
  // One malloc arena for all threads: memory a worker thread frees (a parsed
  // part of a file, once merged) is reused by the others instead of staying
  // parked in that thread's arena, which would double an import's peak.
  mallopt(M_ARENA_MAX, 1);
  CLI::App app{"cairn: customer journey analytics"};
  app.set_version_flag("--version", "cairn 0.1.0");
  app.require_subcommand(1);
  cairn::cli::register_commands(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return cairn::cli::exit_code();
}
