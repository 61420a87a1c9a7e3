#include "ingest/reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/text_scan.h"

namespace cairn {

namespace {

// gzip decoding with ISA-L's inflate (igzip: ~5x zlib's speed on the
// simulator's NDJSON, 2026-11-28, docs/PERFORMANCE.md) over another
// ByteSource; concatenated gzip members (as `cat a.gz b.gz` makes) are read
// one after the other, each one's checksum checked.
class GzipSource final : public ByteSource {
 public:
  GzipSource(std::unique_ptr<ByteSource> inner, std::string name) : inner_(std::move(inner)), name_(std::move(name)) {
    start_member();
    in_.resize(1 << 16);
  }
  Result<size_t> read(char* dst, size_t n) override {
    if (done_) return size_t{0};
    st_.next_out = reinterpret_cast<uint8_t*>(dst);
    st_.avail_out = static_cast<uint32_t>(std::min<size_t>(n, 1u << 30));
    while (st_.avail_out > 0) {
      if (st_.avail_in == 0) {
        auto got = inner_->read(in_.data(), in_.size());
        if (!got) return got.status();
        consumed_ += *got;
        if (*got == 0) {
          if (!at_member_start_) return Status::io_error(fmt::format("{}: bad gzip stream: unexpected end of file", name_));
          done_ = true;
          break;
        }
        st_.next_in = reinterpret_cast<uint8_t*>(in_.data());
        st_.avail_in = static_cast<uint32_t>(*got);
      }
      at_member_start_ = false;
      const uint32_t in_before = st_.avail_in, out_before = st_.avail_out;
      const int rc = isal_inflate(&st_);
      if (rc < 0 || rc == ISAL_NEED_DICT) return Status::io_error(fmt::format("{}: bad gzip stream: {}", name_, error_text(rc)));
      // isal_inflate returns when its input is used up or its output full,
      // or at a member's end; anything else would loop here for ever.
      if (st_.avail_in == in_before && st_.avail_out == out_before && st_.block_state != ISAL_BLOCK_FINISH)
        return Status::io_error(fmt::format("{}: bad gzip stream: the decoder stopped", name_));
      if (st_.block_state == ISAL_BLOCK_FINISH) {
        // The next member starts after this one's trailer: bytes the
        // decoder holds in its bit buffer past it go back to the input.
        const uint32_t held = static_cast<uint32_t>(st_.read_in_length > 0 ? st_.read_in_length / 8 : 0);
        uint8_t* next = st_.next_in - held;
        const uint32_t avail = st_.avail_in + held;
        uint8_t* out = st_.next_out;
        const uint32_t out_avail = st_.avail_out;
        start_member();  // (clears the buffers' places too)
        st_.next_in = next;
        st_.avail_in = avail;
        st_.next_out = out;
        st_.avail_out = out_avail;
      }
    }
    return static_cast<size_t>(reinterpret_cast<char*>(st_.next_out) - dst);
  }
  // The compressed bytes taken from the inner source so far, less those
  // not decoded yet.
  uint64_t input_bytes() const override { return consumed_ - st_.avail_in; }

 private:
  void start_member() {
    isal_inflate_init(&st_);
    st_.crc_flag = ISAL_GZIP;
    at_member_start_ = true;
  }
  static const char* error_text(int rc) {
    switch (rc) {
      case ISAL_INVALID_BLOCK: return "invalid deflate block";
      case ISAL_INVALID_SYMBOL: return "invalid deflate symbol";
      case ISAL_INVALID_LOOKBACK: return "invalid distance too far back";
      case ISAL_INVALID_WRAPPER: return "incorrect header check";
      case ISAL_UNSUPPORTED_METHOD: return "unknown compression method";
      case ISAL_INCORRECT_CHECKSUM: return "incorrect data check";
      case ISAL_NEED_DICT: return "a preset dictionary is needed";
      default: return "inflate failed";
    }
  }

  std::unique_ptr<ByteSource> inner_;
  std::string name_;
  inflate_state st_;
  bool done_ = false;
  bool at_member_start_ = true;
  uint64_t consumed_ = 0;
  std::vector<char> in_;
};

// A file from an offset on. A regular file is read up to
// the size it had when it was opened: bytes appended later are not read,
// and a file found shorter than that (truncated while it is read) is an
// error, not a quietly shorter input. Other files (pipes) are read to EOF.
//
// Files are read with read(2) into the record reader's buffer, not mapped:
// paired on a 10M-event NDJSON import (2026-11-26, docs/PERFORMANCE.md)
// reading took 0.82x the CPU of mapping (no page fault per 64 KiB of input,
// and the parser's bytes come from a buffer that stays in the cache), and a
// mapped file truncated while it is read ends the process with SIGBUS.
class FileSource final : public ByteSource {
 public:
  FileSource(int fd, std::string path, uint64_t pos) : fd_(fd), path_(std::move(path)), start_(pos), pos_(pos) {
    struct stat st;
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) end_ = static_cast<uint64_t>(st.st_size);
    (void)::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~FileSource() override { ::close(fd_); }
  uint64_t input_bytes() const override { return pos_ - start_; }
  Result<size_t> read(char* dst, size_t n) override {
    const bool regular = end_ != kUnknown;
    if (regular) {
      if (pos_ >= end_) return size_t{0};
      n = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    }
    for (;;) {
      const ssize_t r = regular ? ::pread(fd_, dst, n, static_cast<off_t>(pos_)) : ::read(fd_, dst, n);
      if (r > 0 || (r == 0 && !regular)) {
        pos_ += static_cast<uint64_t>(r);
        return static_cast<size_t>(r);
      }
      if (r == 0) {
        struct stat st;
        const int64_t now = ::fstat(fd_, &st) == 0 ? static_cast<int64_t>(st.st_size) : -1;
        return Status::io_error(fmt::format("{}: the file became shorter while it was read ({} bytes when opened, {} now)",
                                            path_, end_, now));
      }
      if (errno == EINTR) continue;
      return Status::io_error(fmt::format("cannot read {}: {}", path_, std::strerror(errno)));
    }
  }

 private:
  static constexpr uint64_t kUnknown = UINT64_MAX;
  int fd_;
  std::string path_;
  uint64_t start_;
  uint64_t pos_;
  uint64_t end_ = kUnknown;  // the regular file's size when opened
};

// A prefix, then another source's bytes (owned or not).
class PrefixedSource final : public ByteSource {
 public:
  PrefixedSource(std::string prefix, ByteSource& rest) : prefix_(std::move(prefix)), rest_(rest) {}
  PrefixedSource(std::string prefix, std::unique_ptr<ByteSource> rest)
      : prefix_(std::move(prefix)), owned_(std::move(rest)), rest_(*owned_) {}
  Result<size_t> read(char* dst, size_t n) override {
    if (done_ < prefix_.size()) {
      const size_t k = std::min(n, prefix_.size() - done_);
      std::memcpy(dst, prefix_.data() + done_, k);
      done_ += k;
      return k;
    }
    return rest_.read(dst, n);
  }
  uint64_t input_bytes() const override { return rest_.input_bytes(); }

 private:
  std::string prefix_;
  size_t done_ = 0;
  std::unique_ptr<ByteSource> owned_;
  ByteSource& rest_;
};

// Bytes in memory, read by copying.
class MemorySource final : public ByteSource {
 public:
  explicit MemorySource(std::string_view text) : text_(text) {}
  uint64_t input_bytes() const override { return pos_; }
  Result<size_t> read(char* dst, size_t n) override {
    const size_t k = std::min(n, text_.size() - pos_);
    std::memcpy(dst, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::unique_ptr<ByteSource>> ByteSource::open_file(const std::string& path) {
  auto src = open_range(path, 0, "");
  if (src.is_ok() && std::string_view(path).ends_with(".gz"))
    *src = std::make_unique<GzipSource>(std::move(*src), path);
  return src;
}

Result<std::unique_ptr<ByteSource>> ByteSource::open_range(const std::string& path, uint64_t begin,
                                                          std::string prefix) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  std::unique_ptr<ByteSource> file = std::make_unique<FileSource>(fd, path, begin);
  if (prefix.empty()) return file;
  return std::unique_ptr<ByteSource>(std::make_unique<PrefixedSource>(std::move(prefix), std::move(file)));
}

std::unique_ptr<ByteSource> ByteSource::from_memory(std::string_view text, bool gzipped) {
  std::unique_ptr<ByteSource> src = std::make_unique<MemorySource>(text);
  if (gzipped) src = std::make_unique<GzipSource>(std::move(src), "input");
  return src;
}

Result<GzipPeek> peek_gzip(const std::string& path, size_t max_out) {
  auto file = ByteSource::open_range(path, 0, "");
  if (!file) return file.status();
  GzipSource gz(std::move(*file), path);
  std::vector<char> buf(std::min<size_t>(max_out, 1u << 16));
  GzipPeek peek;
  while (peek.out_bytes < max_out) {
    auto got = gz.read(buf.data(), std::min(buf.size(), max_out - peek.out_bytes));
    if (!got) return got.status();
    if (*got == 0) {
      peek.whole = true;
      break;
    }
    peek.lines += static_cast<uint64_t>(std::count(buf.data(), buf.data() + *got, '\n'));
    peek.out_bytes += *got;
  }
  peek.in_bytes = gz.input_bytes();
  return peek;
}

std::unique_ptr<ByteSource> ByteSource::prefixed(std::string prefix, ByteSource& rest) {
  return std::make_unique<PrefixedSource>(std::move(prefix), rest);
}

namespace {
constexpr size_t kChunk = 1u << 20;
constexpr size_t kFirstChunk = 1u << 16;
constexpr size_t npos = static_cast<size_t>(-1);
}  // namespace

RecordReader::RecordReader(ByteSource& source, bool csv_quotes) : source_(source), csv_(csv_quotes) {
  buf_.resize(kFirstChunk + kPadding);
  data_ = buf_.data();
}

Status RecordReader::fill() {
  // Reads grow with the input, from 64 KiB (small inputs stay cheap) to 1 MiB.
  const size_t want = std::clamp<size_t>(bytes_read_, kFirstChunk, kChunk);
  if (begin_ > 0) {
    std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
    end_ -= begin_;
    scan_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - kPadding - end_ < want / 2) {
    buf_.resize(std::max(buf_.size() * 2, end_ + want + kPadding));
    data_ = buf_.data();
  }
  auto got = source_.read(buf_.data() + end_, buf_.size() - kPadding - end_);
  if (!got) return got.status();
  if (*got == 0) eof_ = true;
  end_ += *got;
  bytes_read_ += *got;
  std::memset(buf_.data() + end_, 0, kPadding);
  return Status::ok();
}

size_t RecordReader::find_end() {
  if (!csv_) {
    const void* nl = std::memchr(data_ + scan_, '\n', end_ - scan_);
    if (!nl) {
      scan_ = end_;
      return npos;
    }
    return static_cast<size_t>(static_cast<const char*>(nl) - data_);
  }
  const char* p = data_;
  // From one quote or newline to the next: a record without quotes costs one
  // search. The quote rule is the cell splitter's (csv.cc): a quote opens a
  // quoted section only where a cell starts (the record's start or after a
  // comma), "" inside one is a quote, and any other quote is a character of
  // its cell, so `5" screen` does not swallow the lines after it.
  for (size_t i = scan_; (i += find_either(p + i, end_ - i, '"', '\n')) < end_; ++i) {
    if (p[i] == '"') {
      if (in_quotes_) {
        in_quotes_ = false;
        quote_closed_ = true;
      } else {
        // p[i - 1], when a quote, was the last quote seen: if it closed a
        // section, the two are an escaped quote and the section goes on.
        const char prev = i > begin_ ? p[i - 1] : before_;
        in_quotes_ = prev == ',' || (prev == '"' && quote_closed_);
        quote_closed_ = false;
      }
    } else {
      if (!in_quotes_) {
        scan_ = i;
        return i;
      }
      ++newlines_in_scan_;
    }
  }
  scan_ = end_;
  return npos;
}

Result<bool> RecordReader::next(Record& out) {
  // The stream offset of the next record's first byte.
  if (offset() >= limit_) return false;
  if (line_ > line_limit_) {
    // Stopped at the limit when input is left.
    if (begin_ == end_ && !eof_) CAIRN_RETURN_IF_ERROR(fill());
    stopped_at_limit_ = begin_ < end_;
    return false;
  }
  size_t e = find_end();
  bool dropped = false;  // the record is too long: its bytes so far were dropped
  while (e == npos && !eof_) {
    if (dropped || end_ - begin_ > kMaxRecord) {
      // Drop what was scanned and read on to the record's real end: find_end
      // keeps its quote state and its count of the newlines inside quotes,
      // so a newline in a quoted cell does not end the record here either,
      // and the lines after it keep their numbers.
      dropped = true;
      before_ = data_[end_ - 1];
      begin_ = scan_ = end_;
    }
    CAIRN_RETURN_IF_ERROR(fill());
    e = find_end();
  }
  if (e == npos) {  // end of input
    if (begin_ == end_ && !dropped) return false;
    e = end_;
  }
  size_t s = begin_;
  const uint64_t line = line_;
  const bool too_long = dropped || e - s > kMaxRecord;
  line_ += 1 + newlines_in_scan_;
  newlines_in_scan_ = 0;
  in_quotes_ = false;
  quote_closed_ = false;
  before_ = ',';
  begin_ = scan_ = std::min(e + 1, end_);
  if (first_) {
    first_ = false;
    if (e - s >= 3 && std::memcmp(data_ + s, "\xEF\xBB\xBF", 3) == 0) s += 3;  // UTF-8 BOM
  }
  size_t len = e - s;
  if (len > 0 && data_[s + len - 1] == '\r') --len;
  // Keep kPadding readable bytes after the record: they exist in the buffer
  // (the rest of the data or the zeroed padding past end_).
  out = too_long ? Record{{}, line, true} : Record{std::string_view(data_ + s, len), line, false};
  return true;
}

}  // namespace cairn
