#include "ingest/parse.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <mutex>

#include <fmt/format.h>

#include "core/parallel.h"
#include "core/text_scan.h"
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

// Where a later part of a split file starts: the first record that starts
// at or after `nominal`, and for CSV how many newlines come before it. A
// CSV record starts outside quotes, which only a scan from the file's start
// can tell; an NDJSON line starts after the first newline at or after
// nominal - 1, found there (its line number is known once the parts before
// it are read: parse_file_parts counts their lines).
struct SplitPoint {
  uint64_t begin = 0;
  uint64_t newlines_before = 0;  // CSV only
};

Result<SplitPoint> find_split(const std::string& path, uint64_t nominal, bool csv) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  std::vector<char> buf(csv ? 1u << 20 : 1u << 16);
  SplitPoint sp;
  bool in_quotes = false;
  uint64_t pos = csv || nominal == 0 ? 0 : nominal - 1;
  for (;;) {
    const ssize_t r = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (r < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      return Status::io_error(fmt::format("cannot read {}: {}", path, std::strerror(err)));
    }
    if (r == 0) {  // no record starts after nominal: the part is empty
      ::close(fd);
      sp.begin = pos;
      return sp;
    }
    const char* p = buf.data();
    const size_t n = static_cast<size_t>(r);
    size_t i = 0;
    if (!csv) {
      if (const void* nl = std::memchr(p, '\n', n)) {
        ::close(fd);
        sp.begin = pos + static_cast<uint64_t>(static_cast<const char*>(nl) - p) + 1;
        return sp;
      }
    } else {
      // From one quote or newline to the next.
      for (; (i += find_either(p + i, n - i, '"', '\n')) < n; ++i) {
        if (p[i] == '"') {
          in_quotes = !in_quotes;
        } else {
          ++sp.newlines_before;
          if (!in_quotes && pos + i + 1 >= nominal) {
            ::close(fd);
            sp.begin = pos + i + 1;
            return sp;
          }
        }
      }
    }
    pos += n;
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
    uint64_t lines = 0;       // the lines its records took
    uint64_t line_shift = 0;  // added to its errors' line numbers
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
  auto run_unit = [&](Unit& u) -> Status {
    const ParseInput& in = inputs[u.input];
    const bool csv = is_csv(in.path, in.kind);
    std::unique_ptr<ByteSource> source;
    uint64_t limit = UINT64_MAX, stream_base = 0;
    std::string prefix;
    if (u.nominal_begin == 0) {
      auto s = ByteSource::open_file(in.path);
      if (!s) return s.status();
      source = std::move(*s);
      limit = u.nominal_end;
    } else {
      auto sp = find_split(in.path, u.nominal_begin, csv);
      if (!sp) return sp.status();
      if (csv) {
        auto header = csv_header(in.path);
        if (!header) return header.status();
        prefix = std::move(*header);
      }
      stream_base = prefix.size();
      if (u.nominal_end != UINT64_MAX) {
        if (sp->begin >= u.nominal_end) return Status::ok();  // no record starts in this part
        limit = stream_base + (u.nominal_end - sp->begin);
      }
      // CSV: stream line L is file line L + newlines_before - 1 (the copied
      // header line). NDJSON parts are shifted once every part is read.
      if (csv) u.line_shift = sp->newlines_before - 1;
      auto s = ByteSource::open_range(in.path, sp->begin, prefix);
      if (!s) return s.status();
      source = std::move(*s);
    }
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
    return st;
  };
  // Every unit runs; errors are reported below in input order.
  CAIRN_RETURN_IF_ERROR(parallel_for(units.size(), std::max(threads, 1u), [&](size_t i, unsigned) {
    units[i]->status = run_unit(*units[i]);
    return Status::ok();
  }));
  uint64_t lines_before = 0;  // of the input's earlier parts (NDJSON)
  for (size_t i = 0; i < units.size(); ++i) {
    Unit& u = *units[i];
    CAIRN_RETURN_IF_ERROR(u.status);
    if (i > 0 && units[i - 1]->input != u.input) lines_before = 0;
    if (!is_csv(inputs[u.input].path, inputs[u.input].kind)) {
      u.line_shift = lines_before;
      lines_before += u.lines;
    }
    if (!u.batch.empty()) parts.push_back(std::move(u.batch));
    for (RowError e : u.errors.all()) {
      e.line += u.line_shift;
      errors.add(std::move(e));
    }
    u.errors = ImportErrors();
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
