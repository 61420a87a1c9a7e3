// cairn import --db DIR FILE... [--contacts FILE]... [--costs FILE]...
//              [--skip-invalid] [--rejects FILE]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "core/parallel.h"
#include "ingest/parse.h"
#include "storage/file_util.h"
#include "storage/store.h"

namespace cairn::cli {

namespace {

struct ImportArgs {
  std::string db;
  std::vector<std::string> files;
  std::vector<std::string> contacts;
  std::vector<std::string> costs;
  bool skip_invalid = false;
  std::string rejects;
  bool wal_only = false;
  bool timing = false;
  unsigned threads = 0;
};

// A one-line progress bar on stderr, only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(uint64_t total_bytes)
      : total_(total_bytes), tty_(::isatty(STDERR_FILENO)), start_(std::chrono::steady_clock::now()) {}
  void update(uint64_t bytes, uint64_t events) {
    if (!tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double frac = total_ ? static_cast<double>(bytes) / static_cast<double>(total_) : 1.0;
    const int width = 30;
    const int filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r[%s%s] %5.1f%% %.1f/%.1f MB %.0f events/s ", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), frac * 100, static_cast<double>(bytes) / 1e6,
                 static_cast<double>(total_) / 1e6, secs > 0 ? static_cast<double>(events) / secs : 0.0);
  }
  void done() {
    if (tty_) std::fprintf(stderr, "\r%*s\r", 90, "");
  }

 private:
  uint64_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_{};
};

// One rejected row per line: line ends and tabs inside the row are escaped.
std::string escape_raw(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (char c : raw) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else out += c;
  }
  return out;
}

int run_import(const ImportArgs& args) {
  const auto start = std::chrono::steady_clock::now();
  struct Input {
    std::string path;
    InputKind kind;
  };
  std::vector<Input> inputs;
  for (const auto& f : args.files) inputs.push_back({f, InputKind::kEvents});
  for (const auto& f : args.contacts) inputs.push_back({f, InputKind::kContacts});
  for (const auto& f : args.costs) inputs.push_back({f, InputKind::kCosts});
  if (inputs.empty()) {
    std::fprintf(stderr, "cairn import: no input files\n");
    return 2;
  }
  uint64_t total_bytes = 0;
  for (const auto& in : inputs) total_bytes += file_size(in.path);

  // Parse and validate everything before touching the database.
  std::vector<ImportBatch> parts;  // as parsed: the store maps each part's dictionaries itself
  ImportErrors errors;
  Progress progress(total_bytes);
  std::vector<ParseInput> parse_inputs;
  for (const auto& in : inputs) parse_inputs.push_back(ParseInput{in.path, in.kind});
  const unsigned threads = resolve_threads(args.threads);
  if (args.timing) ::setenv("CAIRN_TIMING", "1", 1);  // the parser and the store report their phases too
  Status st = parse_file_parts(parse_inputs, threads, parts, errors,
                          [&](uint64_t bytes, uint64_t events) { progress.update(bytes, events); });
  if (!st.is_ok()) {
    progress.done();
    std::fprintf(stderr, "cairn import: %s\nnothing was imported\n", st.message().c_str());
    return 1;
  }
  progress.done();
  if (errors.count() > 0) {
    std::fputs(errors.summary(20).c_str(), stderr);
    if (const RowError* e = errors.whole_file(); e != nullptr && args.skip_invalid) {
      std::fprintf(stderr,
                   "cairn import: none of the rows of %s can be read (%s); nothing was imported (--skip-invalid "
                   "skips bad rows, not files)\n",
                   e->file.c_str(), e->message.c_str());
      return 1;
    }
    if (!args.skip_invalid) {
      std::fprintf(stderr,
                   "cairn import: %zu invalid rows; nothing was imported (use --skip-invalid to import the valid "
                   "rows)\n",
                   errors.count());
      return 1;
    }
  }

  const auto parsed = std::chrono::steady_clock::now();
  auto store = Store::open(args.db, Store::Mode::kWrite);
  if (!store) {
    std::fprintf(stderr, "cairn import: %s\n", store.status().message().c_str());
    return 1;
  }
  if (args.skip_invalid) {
    // The rejects of this run, none included: a file left by an earlier run
    // does not stay to be taken for this one's. The default sits beside the
    // database directory (DB/ names the same directory as DB).
    std::string db = args.db;
    while (db.size() > 1 && db.back() == '/') db.pop_back();
    const std::string path = args.rejects.empty() ? db + ".rejects.txt" : args.rejects;
    std::ofstream out(path, std::ios::trunc);
    for (const RowError& e : errors.all()) out << e.format() << "\t" << escape_raw(e.raw) << "\n";
    out.close();
    if (!out) {
      std::fprintf(stderr, "cairn import: cannot write rejects file %s; nothing was imported\n", path.c_str());
      return 1;
    }
    if (errors.count() > 0)
      std::fprintf(stderr, "cairn import: %zu invalid rows skipped, written with their reasons to %s\n",
                   errors.count(), path.c_str());
  }
  (*store)->set_single_import();
  auto stats = (*store)->import(parts, args.wal_only);
  if (!stats) {
    std::fprintf(stderr, "cairn import: %s\n", stats.status().message().c_str());
    return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.timing) {
    std::fprintf(stderr, "timing: parse %.3f s, store %.3f s\n", std::chrono::duration<double>(parsed - start).count(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - parsed).count());
    print_tunables_timing();
  }
  size_t events = 0;
  for (const ImportBatch& part : parts) events += part.events.size();
  if (args.wal_only) {
    std::printf("logged %zu events to the WAL of %s (applied at next open)\n", events, args.db.c_str());
    return 0;
  }
  std::printf(
      "imported %llu events (%llu duplicates skipped, %zu invalid rows rejected), %llu id links, %llu traits, %llu "
      "cost rows from %zu files in %.2f s (%.0f events/s)\n",
      static_cast<unsigned long long>(stats->events_added), static_cast<unsigned long long>(stats->duplicates),
      errors.count(), static_cast<unsigned long long>(stats->links), static_cast<unsigned long long>(stats->traits),
      static_cast<unsigned long long>(stats->costs), inputs.size(), secs,
      secs > 0 ? static_cast<double>(events) / secs : 0.0);
  return 0;
}

}  // namespace

void register_import(CLI::App& app) {
  auto args = std::make_shared<ImportArgs>();
  auto* cmd = app.add_subcommand("import", "Import events (CSV, NDJSON, Segment spec; .gz too), contacts and costs");
  cmd->add_option("--db", args->db, "Database directory (created if missing)")->required();
  cmd->add_option("files", args->files, "Event files: .csv, .ndjson/.jsonl/.json, optionally .gz");
  cmd->add_option("--contacts", args->contacts, "Contacts CSV: person/user_id/id column and trait columns");
  cmd->add_option("--costs", args->costs, "Costs CSV: date, channel, campaign, cost");
  cmd->add_flag("--skip-invalid", args->skip_invalid, "Import the valid rows; write the invalid ones to --rejects");
  cmd->add_option("--rejects", args->rejects, "Where --skip-invalid writes rejected rows (default DB.rejects.txt)");
  cmd->add_flag("--wal-only", args->wal_only, "Stop once the batch is in the WAL (for recovery tests)")->group("");
  cmd->add_option("--threads", args->threads, "Parsing threads (default: one per core)");
  cmd->add_flag("--timing", args->timing, "Print the time spent parsing and in each phase of storing")->group("");
  cmd->callback([args]() { set_exit_code(run_import(*args)); });
}

}  // namespace cairn::cli
