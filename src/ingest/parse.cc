#include "ingest/parse.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cerrno>
#include <cstring>
#include <condition_variable>
#include <mutex>
#include <thread>

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

// Parses ctx's stream on `workers` threads besides this one, which reads
// it (a .gz file decompresses on one thread only) and cuts it into blocks of
// whole records, each parsed by a worker into a batch of its own, appended
// to `out` in order. The errors and ctx's outputs are those of run(ctx),
// line numbers included. Every block but a CSV's first (which holds the
// header) starts with a copy of the CSV header, or with an empty line for
// NDJSON, so that its first record is not taken for the stream's first,
// whose byte order mark is dropped. At most one block more than there are
// workers is read ahead of them.
Status run_in_blocks(ParseContext& ctx, unsigned workers, size_t block_bytes, std::vector<ImportBatch>& out) {
  const bool csv = is_csv(ctx.name, ctx.kind);
  struct Block {
    std::string text;
    uint64_t first_line = 1;  // the stream's line its text starts on
    uint64_t prefix_lines = 0;
    std::string too_long;     // or this: a record too long, at first_line
    bool header_is_copy = true;
    ImportBatch batch;
    ImportErrors errors;
    bool stopped_early = false;
  };
  std::vector<std::unique_ptr<Block>> blocks;
  std::mutex mu;
  std::condition_variable cv;
  size_t next_block = 0, in_flight = 0;
  bool reading = true;
  std::atomic<uint64_t> events{0};
  Status worker_status = Status::ok();
  auto work = [&] {
    for (;;) {
      Block* b;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return next_block < blocks.size() || !reading; });
        if (next_block >= blocks.size()) return;
        b = blocks[next_block++].get();
      }
      if (b->too_long.empty()) {
        auto source = ByteSource::from_memory(b->text, false);
        ParseContext bc{ctx.name, ctx.kind, source.get(), b->batch, b->errors, nullptr};
        bc.header_is_copy = b->header_is_copy;
        Status st = run(bc);
        b->stopped_early = bc.stopped_early;
        events.fetch_add(b->batch.events.size(), std::memory_order_relaxed);
        std::string().swap(b->text);
        if (!st.is_ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (worker_status.is_ok()) worker_status = st;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        --in_flight;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (unsigned i = 0; i < std::max(workers, 1u); ++i) threads.emplace_back(work);
  // Hands a block to the workers, waiting while too many are unparsed.
  auto push = [&](std::unique_ptr<Block> b) {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight < static_cast<size_t>(std::max(workers, 1u)) + 1; });
    ++in_flight;
    blocks.push_back(std::move(b));
    cv.notify_all();
  };
  RecordReader reader(*ctx.source, csv);
  limit_reader(ctx, reader);
  std::string header = csv ? std::string() : std::string("\n");
  bool header_read = !csv;  // the stream's first record (a CSV's header) was read
  auto block = std::make_unique<Block>();
  bool block_has_records = false;
  Status read_status = Status::ok();
  Record rec;
  for (;;) {
    auto more = reader.next(rec);
    if (!more) {
      read_status = more.status();
      break;
    }
    if (!*more) break;
    ctx.report_progress(reader.bytes_read(), events.load(std::memory_order_relaxed));
    if (rec.too_long) {
      if (block_has_records) push(std::move(block));
      auto err = std::make_unique<Block>();
      err->first_line = rec.line;
      err->too_long = too_long_message(csv);
      push(std::move(err));
      block = std::make_unique<Block>();
      block_has_records = false;
      continue;
    }
    if (!block_has_records) {
      block->first_line = rec.line;
      if (header_read) {
        block->text = header;
        block->prefix_lines = static_cast<uint64_t>(std::count(header.begin(), header.end(), '\n'));
      } else {  // a CSV's header starts the first block, parsed as the stream's
        header = std::string(rec.text) + "\n";
        header_read = true;
        block->header_is_copy = ctx.header_is_copy;
      }
    }
    block->text.append(rec.text).push_back('\n');
    block_has_records = true;
    if (block->text.size() >= block_bytes) {
      push(std::move(block));
      block = std::make_unique<Block>();
      block_has_records = false;
    }
  }
  if (block_has_records) push(std::move(block));
  {
    std::lock_guard<std::mutex> lock(mu);
    reading = false;
  }
  cv.notify_all();
  for (std::thread& t : threads) t.join();
  CAIRN_RETURN_IF_ERROR(read_status);
  CAIRN_RETURN_IF_ERROR(worker_status);
  // In order, as one parse would have given them; a CSV whose header
  // stopped the first block's parse stops there.
  for (auto& b : blocks) {
    if (!b->too_long.empty()) {
      ctx.errors.add(row_error(ctx.name, b->first_line, "", b->too_long, ""));
      continue;
    }
    for (RowError e : b->errors.all()) {
      e.line = e.line - 1 - b->prefix_lines + b->first_line;
      ctx.errors.add(std::move(e));
    }
    if (!b->batch.empty()) out.push_back(std::move(b->batch));
    if (b->stopped_early) {
      ctx.stopped_early = true;
      break;
    }
  }
  finish_reading(ctx, reader);
  return Status::ok();
}

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

// How many lines a .gz file holds, estimated from the first MiB it
// decompresses to and the compressed bytes that took (0 when it cannot be
// read; a bad stream is reported when the file is parsed).
uint64_t estimate_gz_lines(const std::string& path, uint64_t size) {
  auto peek = peek_gzip(path, 1u << 20);
  if (!peek || peek->in_bytes == 0) return 0;
  if (peek->whole) return std::max<uint64_t>(1, peek->lines);
  return std::max<uint64_t>(1, peek->lines * size / peek->in_bytes);
}

// How many lines a file holds, estimated from its first MiB (0 when it
// cannot be read): a round's share of a large file is sized by it.
uint64_t estimate_lines(const std::string& path, uint64_t size) {
  if (size == 0) return 0;
  if (std::string_view(path).ends_with(".gz")) return estimate_gz_lines(path, size);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  std::vector<char> buf(std::min<uint64_t>(size, 1u << 20));
  const ssize_t r = ::pread(fd, buf.data(), buf.size(), 0);
  ::close(fd);
  if (r <= 0) return 0;
  const uint64_t lines = static_cast<uint64_t>(std::count(buf.data(), buf.data() + r, '\n'));
  return std::max<uint64_t>(1, lines * size / static_cast<uint64_t>(r));
}

// A .gz file read in rounds: its decompressing source, and the bytes the
// last piece read past where it stopped.
struct RoundParser::Stream {
  std::unique_ptr<ByteSource> source;
  std::string rest;
  bool finished = false;  // its last piece read to the end (or stopped early)
};

struct RoundParser::Unit {
  size_t input;
  uint64_t nominal_begin, nominal_end;  // nominal_end = UINT64_MAX: to the end
  uint64_t estimated_lines = 0;
  ImportBatch batch;
  std::vector<ImportBatch> blocks;  // or these, when parsed in blocks (after batch)
  ImportErrors errors;
  Status status;
  uint64_t begin = 0;           // the file offset its records start at
  uint64_t stop = 0;            // the file offset where it stopped reading
  bool stopped_early = false;   // its parser stopped (after a bad CSV header)
  uint64_t lines = 0;           // the lines it read (a copied CSV header's too)
  uint64_t header_lines = 0;    // the lines of its copied CSV header
  // A piece of a .gz file, which is read as one stream: piece k > 0 goes on
  // where piece k - 1 stopped (its input's Stream), after line_budget lines
  // of the one before; the last piece reads to the end.
  bool stream = false;
  uint64_t piece = 0;
  uint64_t line_budget = UINT64_MAX;
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> events{0};
};

RoundParser::RoundParser(std::vector<ParseInput> inputs, unsigned threads, uint64_t round_lines, uint64_t split_bytes)
    : inputs_(std::move(inputs)), threads_(std::max(threads, 1u)), round_lines_(std::max<uint64_t>(round_lines, 1)) {
  // Each file in pieces: one per thread when it is large enough to split,
  // and more when a round of `threads` pieces would pass round_lines.
  const uint64_t unit_lines = std::max<uint64_t>(1, round_lines_ / threads_);
  streams_.resize(inputs_.size());
  for (size_t i = 0; i < inputs_.size(); ++i) {
    const std::string& path = inputs_[i].path;
    const uint64_t size = file_size(path);
    const bool plain = !std::string_view(path).ends_with(".gz");
    const uint64_t lines = estimate_lines(path, size);
    if (!plain) {
      // A .gz file cannot be cut at byte offsets: in pieces of a round's
      // lines, each going on from the one before in the next round.
      const uint64_t pieces = round_lines_ == UINT64_MAX ? 1 : std::max<uint64_t>(1, (lines + round_lines_ - 1) / round_lines_);
      for (uint64_t k = 0; k < pieces; ++k) {
        auto u = std::make_unique<Unit>();
        u->input = i;
        u->nominal_begin = 0;
        u->nominal_end = UINT64_MAX;
        u->stream = pieces > 1;
        u->piece = k;
        u->line_budget = k + 1 == pieces ? UINT64_MAX : round_lines_;
        u->estimated_lines = k + 1 == pieces ? lines - k * round_lines_ : round_lines_;
        units_.push_back(std::move(u));
      }
      continue;
    }
    uint64_t parts = size >= split_bytes ? threads_ : 1;
    const uint64_t for_rounds = lines / unit_lines + (lines % unit_lines != 0 ? 1 : 0);
    if (for_rounds > parts) parts = std::max(parts, std::min(for_rounds, size >> 16));  // 64 KiB a piece at least
    for (uint64_t k = 0; k < parts; ++k) {
      auto u = std::make_unique<Unit>();
      u->input = i;
      u->nominal_begin = size * k / parts;
      u->nominal_end = k + 1 == parts ? UINT64_MAX : size * (k + 1) / parts;
      u->estimated_lines = lines / parts;
      units_.push_back(std::move(u));
    }
  }
}

RoundParser::~RoundParser() = default;

Result<bool> RoundParser::next(std::vector<ImportBatch>& parts, ImportErrors& errors, const ProgressFn& progress) {
  if (next_unit_ >= units_.size()) return false;
  // This round: the next units, as many as keep within round_lines (one at
  // least).
  size_t end = next_unit_;
  for (uint64_t lines = 0; end < units_.size(); ++end) {
    lines += units_[end]->estimated_lines;
    if (end > next_unit_ && (lines > round_lines_ || units_[end]->piece > 0)) break;  // a .gz file's next piece waits
  }
  std::mutex progress_mu;
  auto report = [&] {
    if (!progress) return;
    std::unique_lock<std::mutex> lock(progress_mu, std::try_to_lock);
    if (!lock.owns_lock()) return;
    uint64_t bytes = 0, events = 0;
    for (const auto& u : units_) {
      bytes += u->bytes.load(std::memory_order_relaxed);
      events += u->events.load(std::memory_order_relaxed);
    }
    progress(bytes, events);
  };
  // Parses unit u, a later part from file offset `begin` (after a copy of
  // the CSV header) up to the first record starting at or after its end.
  // A .gz file alone in its round is decompressed on one thread and parsed
  // in blocks on the others.
  const bool in_blocks = end - next_unit_ == 1 && threads_ > 1 && std::string_view(inputs_[units_[next_unit_]->input].path).ends_with(".gz");
  auto run_unit = [&](Unit& u, uint64_t begin) -> Status {
    u.batch = ImportBatch();
    u.blocks.clear();
    u.errors = ImportErrors();
    u.begin = u.stop = begin;
    u.lines = u.header_lines = 0;
    u.stopped_early = false;
    const ParseInput& in = inputs_[u.input];
    std::unique_ptr<ByteSource> source;
    uint64_t limit = UINT64_MAX;
    std::string prefix;
    uint64_t stream_base = 0;  // the stream's bytes before the file's own (a copied header, a stream's rest)
    Stream& stream = streams_[u.input];
    if (u.stream && u.piece > 0) {
      // Goes on where the piece before stopped, after a copy of the CSV
      // header (whose lines count as a split part's do).
      if (stream.finished) return Status::ok();
      if (is_csv(in.path, in.kind)) {
        auto header = csv_header(in.path);
        if (!header) return header.status();
        prefix = std::move(*header);
      }
      u.header_lines = static_cast<uint64_t>(std::count(prefix.begin(), prefix.end(), '\n'));
      prefix += stream.rest;
      stream.rest.clear();
      stream_base = prefix.size();
      source = ByteSource::prefixed(std::move(prefix), *stream.source);
    } else if (u.nominal_begin == 0) {
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
      stream_base = prefix.size();
      auto s = ByteSource::open_range(in.path, begin, prefix);
      if (!s) return s.status();
      source = std::move(*s);
    }
    if (u.stream && u.piece == 0) {  // the stream outlives the piece
      stream.source = std::move(source);
      source = ByteSource::prefixed("", *stream.source);
    }
    // Progress in the file's bytes, as its size counts them: not a copied
    // header, nor a stream's rest, which the piece before read; a .gz file's
    // compressed bytes.
    const uint64_t input_base = source->input_bytes();
    ProgressFn unit_progress = [&](uint64_t, uint64_t events) {
      u.bytes.store(source->input_bytes() - input_base, std::memory_order_relaxed);
      u.events.store(events, std::memory_order_relaxed);
      report();
    };
    ParseContext ctx{in.path, in.kind, source.get(), u.batch, u.errors, &unit_progress};
    ctx.limit = limit;
    ctx.header_is_copy = u.nominal_begin != 0 || u.piece > 0;
    if (u.stream) {
      ctx.line_limit = u.line_budget == UINT64_MAX ? UINT64_MAX : u.header_lines + u.line_budget;
      ctx.rest = &stream.rest;
    }
    Status st = in_blocks ? run_in_blocks(ctx, threads_, block_bytes_, u.blocks) : run(ctx);
    u.lines = ctx.lines;
    u.stop = begin + ctx.stop - stream_base;
    u.stopped_early = ctx.stopped_early;
    if (u.stream) {
      stream.finished = !ctx.stopped_at_limit || ctx.stopped_early || !st.is_ok();
      if (stream.finished) stream.source.reset();
    }
    return st;
  };
  // Every unit of the round runs, a later part from its guessed start.
  CAIRN_RETURN_IF_ERROR(parallel_for(end - next_unit_, threads_, [&](size_t i, unsigned) {
    Unit& u = *units_[next_unit_ + i];
    uint64_t begin = 0;
    if (u.nominal_begin != 0) {
      auto guess = guess_split(inputs_[u.input].path, u.nominal_begin);
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
  for (size_t i = next_unit_; i < end; ++i) {
    Unit& u = *units_[i];
    if (i == 0 || units_[i - 1]->input != u.input) {
      lines_before_ = 0;
    } else if (const Unit& prev = *units_[i - 1]; !u.stream && !prev.stopped_early && u.begin != prev.stop) {
      u.status = run_unit(u, prev.stop);  // whatever the wrong start gave, errors too
    }
    CAIRN_RETURN_IF_ERROR(u.status);
    if (!u.batch.empty()) parts.push_back(std::move(u.batch));
    for (ImportBatch& b : u.blocks) parts.push_back(std::move(b));
    u.batch = ImportBatch();
    u.blocks.clear();
    for (RowError e : u.errors.all()) {
      e.line = e.line + lines_before_ - u.header_lines;
      errors.add(std::move(e));
    }
    u.errors = ImportErrors();
    lines_before_ += u.lines - u.header_lines;
  }
  next_unit_ = end;
  // A .gz file's pieces after the one that read to its end have nothing to
  // read (its line count was estimated too high): no round is left for them.
  while (next_unit_ < units_.size() && units_[next_unit_]->piece > 0 && streams_[units_[next_unit_]->input].finished)
    ++next_unit_;
  return true;
}

Status parse_file_parts(const std::vector<ParseInput>& inputs, unsigned threads, std::vector<ImportBatch>& parts,
                        ImportErrors& errors, const ProgressFn& progress, uint64_t split_bytes) {
  RoundParser rounds(inputs, threads, UINT64_MAX, split_bytes);
  for (;;) {
    auto more = rounds.next(parts, errors, progress);
    if (!more) return more.status();
    if (!*more) return Status::ok();
  }
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
