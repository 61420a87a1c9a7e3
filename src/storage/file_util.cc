#include "storage/file_util.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace cairn {

namespace {

std::string errno_text() { return std::strerror(errno); }

Status write_all_and_sync(int fd, const std::string& path, std::string_view data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("cannot write {}: {}", path, errno_text()));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return Status::io_error(fmt::format("cannot fsync {}: {}", path, errno_text()));
  return Status::ok();
}

Status write_with_flags(const std::string& path, std::string_view data, int flags) {
  const int fd = ::open(path.c_str(), flags, 0644);
  if (fd < 0) return Status::io_error(fmt::format("cannot create {}: {}", path, errno_text()));
  Status st = write_all_and_sync(fd, path, data);
  ::close(fd);
  return st;
}

}  // namespace

Result<std::string> read_file(const std::string& path) {
  // "-" is standard input, read from descriptor 0 (opening /dev/stdin fails
  // when it is a socket, as a parent process's pipe may be).
  const bool stdin_ = path == "-";
  const int fd = stdin_ ? ::dup(0) : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", stdin_ ? "standard input" : path, errno_text()));
  std::string out;
  struct stat st {};
  if (::fstat(fd, &st) == 0 && st.st_size > 0) out.reserve(static_cast<size_t>(st.st_size));
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return Status::io_error(fmt::format("cannot read {}: {}", path, errno_text()));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

Status fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(fmt::format("cannot open directory {}: {}", dir, errno_text()));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::io_error(fmt::format("cannot fsync directory {}: {}", dir, errno_text()));
  return Status::ok();
}

Status write_file_atomic(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  CAIRN_RETURN_IF_ERROR(write_with_flags(tmp, data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC));
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::io_error(fmt::format("cannot rename {} to {}: {}", tmp, path, errno_text()));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_dir(dir.empty() ? "." : dir);  // a bare file name lives in the working directory
}

Status write_new_file(const std::string& path, std::string_view data) {
  return write_with_flags(path, data, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC);
}

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

uint64_t file_size(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
}

DirLock::~DirLock() {
  if (fd_ >= 0) ::close(fd_);
}

Result<DirLock> DirLock::acquire(const std::string& dir, bool blocking) {
  const std::string path = dir + "/LOCK";
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, errno_text()));
  if (::flock(fd, LOCK_EX | (blocking ? 0 : LOCK_NB)) != 0) {
    const std::string why = errno_text();
    ::close(fd);
    return Status::io_error(fmt::format("database {} is locked by another writer: {}", dir, why));
  }
  return DirLock(fd);
}

Status pread_exact(int fd, const std::string& path, uint64_t offset, size_t n, std::string& out) {
  out.resize(n);
  size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out.data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return Status::corruption(fmt::format("{}: truncated file at offset {}", path, offset + done));
    done += static_cast<size_t>(r);
  }
  return Status::ok();
}

}  // namespace cairn
