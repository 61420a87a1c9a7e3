#include "ingest/parse.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "core/parallel.h"
#include "ingest/parse_internal.h"
#include "storage/file_util.h"

namespace cairn {

namespace {

// The name without a trailing .gz.
std::string_view base_name(std::string_view name) { return name.ends_with(".gz") ? name.substr(0, name.size() - 3) : name; }

// Events are CSV when the name says so; otherwise NDJSON.
bool events_are_csv(std::string_view name) {
  const std::string_view base = base_name(name);
  return base.ends_with(".csv") || base.ends_with(".CSV");
}

bool is_csv(std::string_view name, InputKind kind) { return kind != InputKind::kEvents || events_are_csv(name); }

Status run(ParseContext& ctx) { return is_csv(ctx.name, ctx.kind) ? parse_csv(ctx) : parse_ndjson(ctx); }

Status run(const std::string& name, ByteSource& source, InputKind kind, ImportBatch& batch, ImportErrors& errors,
           const ProgressFn* progress) {
  ParseContext ctx{name, kind, &source, batch, errors, progress};
  return run(ctx);
}

// Where a later part of a split file is taken to start: after the first
// newline at or after nominal - 1 (the end of the file when there is none).
// For NDJSON that is the first record starting at or after nominal; a CSV
// newline may be inside quotes, which only the part before can tell, so
// parse_file_parts checks it against where that part stopped.
Result<uint64_t> guess_split(const std::string& path, uint64_t nominal) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  std::vector<char> buf(1u << 16);
  uint64_t pos = nominal == 0 ? 0 : nominal - 1;
  for (;;) {
    const ssize_t r = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::io_error(fmt::format("cannot read {}: {}", path, std::strerror(err)));
    }
    const void* nl = r == 0 ? nullptr : std::memchr(buf.data(), '\n', static_cast<size_t>(r));
    if (r == 0 || nl) {
      ::close(fd);
      return r == 0 ? pos : pos + static_cast<uint64_t>(static_cast<const char*>(nl) - buf.data()) + 1;
    }
    pos += static_cast<uint64_t>(r);
  }
}

// The first record of a CSV file (its header) with a line end.
Result<std::string> csv_header(const std::string& path) {
  auto source = ByteSource::open_file(path);
  if (!source) return source.status();
  RecordReader reader(**source, true);
  Record rec;
  auto more = reader.next(rec);
  if (!more) return more.status();
  if (!*more || rec.too_long) return std::string();
  return std::string(rec.text) + "\n";
}

}  // namespace

Status parse_file(const std::string& path, InputKind kind, ImportBatch& batch, ImportErrors& errors,
                  const ProgressFn& progress) {
  auto source = ByteSource::open_file(path);
  if (!source) return source.status();
  return run(path, **source, kind, batch, errors, &progress);
}

Status parse_file_parts(const std::vector<ParseInput>& inputs, unsigned threads, std::vector<ImportBatch>& parts,
                        ImportErrors& errors, const ProgressFn& progress, uint64_t split_bytes) {
  struct Unit {
    size_t input;
    uint64_t nominal_begin, nominal_end;  // nominal_end = UINT64_MAX: to the end
    ImportBatch batch;
    ImportErrors errors;
    Status status;
    uint64_t begin = 0;           // the file offset its records start at
    uint64_t stop = 0;            // the file offset where it stopped reading
    bool stopped_early = false;   // its parser stopped (after a bad CSV header)
    uint64_t lines = 0;           // the lines it read (a copied CSV header's too)
    uint64_t header_lines = 0;    // the lines of its copied CSV header
    std::atomic<uint64_t> bytes{0};
    std::atomic<uint64_t> events{0};
  };
  std::vector<std::unique_ptr<Unit>> units;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& path = inputs[i].path;
    const uint64_t size = file_size(path);
    const unsigned parts = threads > 1 && size >= split_bytes && !std::string_view(path).ends_with(".gz") ? threads : 1;
    for (unsigned k = 0; k < parts; ++k) {
      auto u = std::make_unique<Unit>();
      u->input = i;
      u->nominal_begin = size * k / parts;
      u->nominal_end = k + 1 == parts ? UINT64_MAX : size * (k + 1) / parts;
      units.push_back(std::move(u));
    }
  }
  std::mutex progress_mu;
  auto report = [&] {
    if (!progress) return;
    std::unique_lock<std::mutex> lock(progress_mu, std::try_to_lock);
    if (!lock.owns_lock()) return;
    uint64_t bytes = 0, events = 0;
    for (const auto& u : units) {
      bytes += u->bytes.load(std::memory_order_relaxed);
      events += u->events.load(std::memory_order_relaxed);
    }
    progress(bytes, events);
  };
  // Parses unit u, a later part from file offset `begin` (after a copy of
  // the CSV header) up to the first record starting at or after its end.
  auto run_unit = [&](Unit& u, uint64_t begin) -> Status {
    u.batch = ImportBatch();
    u.errors = ImportErrors();
    u.begin = u.stop = begin;
    u.lines = u.header_lines = 0;
    u.stopped_early = false;
    const ParseInput& in = inputs[u.input];
    std::unique_ptr<ByteSource> source;
    uint64_t limit = UINT64_MAX;
    std::string prefix;
    if (u.nominal_begin == 0) {
      auto s = ByteSource::open_file(in.path);
      if (!s) return s.status();
      source = std::move(*s);
      limit = u.nominal_end;
    } else {
      if (is_csv(in.path, in.kind)) {
        auto header = csv_header(in.path);
        if (!header) return header.status();
        prefix = std::move(*header);
      }
      if (u.nominal_end != UINT64_MAX) {
        if (begin >= u.nominal_end) return Status::ok();  // no record starts in this part
        limit = prefix.size() + (u.nominal_end - begin);
      }
      u.header_lines = static_cast<uint64_t>(std::count(prefix.begin(), prefix.end(), '\n'));
      auto s = ByteSource::open_range(in.path, begin, prefix);
      if (!s) return s.status();
      source = std::move(*s);
    }
    const uint64_t stream_base = prefix.size();
    ProgressFn unit_progress = [&](uint64_t bytes, uint64_t events) {
      u.bytes.store(bytes > stream_base ? bytes - stream_base : 0, std::memory_order_relaxed);
      u.events.store(events, std::memory_order_relaxed);
      report();
    };
    ParseContext ctx{in.path, in.kind, source.get(), u.batch, u.errors, &unit_progress};
    ctx.limit = limit;
    ctx.header_is_copy = u.nominal_begin != 0;
    Status st = run(ctx);
    u.lines = ctx.lines;
    u.stop = begin + ctx.stop - stream_base;
    u.stopped_early = ctx.stopped_early;
    return st;
  };
  // Every unit runs, a later part from its guessed start.
  CAIRN_RETURN_IF_ERROR(parallel_for(units.size(), std::max(threads, 1u), [&](size_t i, unsigned) {
    Unit& u = *units[i];
    uint64_t begin = 0;
    if (u.nominal_begin != 0) {
      auto guess = guess_split(inputs[u.input].path, u.nominal_begin);
      if (!guess) {
        u.status = guess.status();
        return Status::ok();
      }
      begin = *guess;
    }
    u.status = run_unit(u, begin);
    return Status::ok();
  }));
  // In input order: a part that did not start where the one before stopped
  // (its guessed start was a newline inside a quoted CSV cell) is parsed
  // again from there. Line numbers follow from the lines of the parts before.
  uint64_t lines_before = 0;  // of the input's earlier parts
  for (size_t i = 0; i < units.size(); ++i) {
    Unit& u = *units[i];
    if (i == 0 || units[i - 1]->input != u.input) {
      lines_before = 0;
    } else if (const Unit& prev = *units[i - 1]; !prev.stopped_early && u.begin != prev.stop) {
      u.status = run_unit(u, prev.stop);  // whatever the wrong start gave, errors too
    }
    CAIRN_RETURN_IF_ERROR(u.status);
    if (!u.batch.empty()) parts.push_back(std::move(u.batch));
    for (RowError e : u.errors.all()) {
      e.line = e.line + lines_before - u.header_lines;
      errors.add(std::move(e));
    }
    u.errors = ImportErrors();
    lines_before += u.lines - u.header_lines;
  }
  return Status::ok();
}

Status parse_files(const std::vector<ParseInput>& inputs, unsigned threads, ImportBatch& batch, ImportErrors& errors,
                   const ProgressFn& progress, uint64_t split_bytes) {
  std::vector<ImportBatch> parts;
  CAIRN_RETURN_IF_ERROR(parse_file_parts(inputs, threads, parts, errors, progress, split_bytes));
  for (ImportBatch& part : parts) batch.append(std::move(part));
  return Status::ok();
}

Status parse_buffer(const std::string& name, std::string_view text, InputKind kind, ImportBatch& batch,
                    ImportErrors& errors) {
  auto source = ByteSource::from_memory(text, std::string_view(name).ends_with(".gz"));
  return run(name, *source, kind, batch, errors, nullptr);
}

}  // namespace cairn
