// POSIX file helpers with the durability steps storage relies on: fsync of
// files and of their directory, atomic replace by rename, an advisory lock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn {

Result<std::string> read_file(const std::string& path);  // "-": standard input
// Reads exactly n bytes at offset into out (resized, capacity reused); a
// short file is corruption naming the path and the offset.
Status pread_exact(int fd, const std::string& path, uint64_t offset, size_t n, std::string& out);
// Writes data to path.tmp, fsyncs it, renames it over path and fsyncs the
// directory: readers see either the old or the new file, never a mix.
Status write_file_atomic(const std::string& path, std::string_view data);
// Writes a new file (must not exist) and fsyncs it.
Status write_new_file(const std::string& path, std::string_view data);
Status fsync_dir(const std::string& dir);
bool file_exists(const std::string& path);
uint64_t file_size(const std::string& path);

// An exclusive flock on DIR/LOCK, held while the object lives. Writers take
// it; a crashed writer's lock is released by the kernel.
class DirLock {
 public:
  DirLock() = default;
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  ~DirLock();
  // blocking=false returns kNotFound-free "busy" as an io_error when held elsewhere.
  static Result<DirLock> acquire(const std::string& dir, bool blocking);

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cairn
