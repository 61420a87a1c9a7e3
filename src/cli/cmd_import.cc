// cairn import --db DIR FILE... [--contacts FILE]... [--costs FILE]...
//              [--skip-invalid] [--rejects FILE]
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
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
  uint64_t round_events = 16'000'000;
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
    const double frac = std::min(1.0, total_ ? static_cast<double>(bytes) / static_cast<double>(total_) : 1.0);
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

// Removes the database directory `db` this import created (CURRENT, LOCK and
// the store's files of its empty first version), unless it holds other
// files.
void remove_empty_store(const std::string& db) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(db, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "CURRENT" || name == "LOCK" || is_store_file_name(name)) std::filesystem::remove(entry.path(), ec);
  }
  std::filesystem::remove(db, ec);  // only if empty now
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

  // The inputs are parsed and validated in rounds of about round_events
  // events (one round unless they are large), each applied as it comes
  // (Store::import_round); the last one commits. A round with invalid rows
  // (without --skip-invalid) stops the applying: the rest is only parsed,
  // to report every invalid row, and the store stays as it was. An import
  // of one round touches the database only once it is all valid.
  std::vector<ImportBatch> parts;  // as parsed: the store maps each part's dictionaries itself
  ImportErrors errors;
  Progress progress(total_bytes);
  std::vector<ParseInput> parse_inputs;
  for (const auto& in : inputs) parse_inputs.push_back(ParseInput{in.path, in.kind});
  const unsigned threads = resolve_threads(args.threads);
  if (args.timing) ::setenv("CAIRN_TIMING", "1", 1);  // the parser and the store report their phases too
  RoundParser rounds(parse_inputs, threads, args.round_events);
  std::unique_ptr<Store> store;
  ImportStats stats;
  size_t events = 0, rounds_applied = 0;
  double parse_secs = 0;
  // A database this import created is removed again when it gives up
  // after a round opened it, so that it is exactly as before: absent.
  const bool db_existed = file_exists(args.db + "/CURRENT");
  auto give_up = [&] {
    if (!store) return;
    (void)store->abort_import();
    store.reset();
    if (!db_existed) remove_empty_store(args.db);
  };
  auto fail = [&](const std::string& message) {
    progress.done();
    give_up();
    std::fprintf(stderr, "cairn import: %s\nnothing was imported\n", message.c_str());
    return 1;
  };
  for (;;) {
    parts.clear();
    const auto round_start = std::chrono::steady_clock::now();
    auto more = rounds.next(parts, errors, [&](uint64_t bytes, uint64_t n) { progress.update(bytes, n); });
    parse_secs += std::chrono::duration<double>(std::chrono::steady_clock::now() - round_start).count();
    if (!more) return fail(more.status().message());
    if (!*more) break;  // no round left (the last one broke out below)
    const bool last = rounds.done();
    if (errors.count() > 0 && !args.skip_invalid) {
      if (last) break;
      continue;  // parse on, to count the invalid rows; apply nothing more
    }
    if (last) {
      progress.done();
      if (errors.count() > 0) {
        std::fputs(errors.summary(20).c_str(), stderr);
        if (const RowError* e = errors.whole_file(); e != nullptr) {
          give_up();
          std::fprintf(stderr,
                       "cairn import: none of the rows of %s can be read (%s); nothing was imported (--skip-invalid "
                       "skips bad rows, not files)\n",
                       e->file.c_str(), e->message.c_str());
          return 1;
        }
      }
    }
    if (!store) {
      auto opened = Store::open(args.db, Store::Mode::kWrite);
      if (!opened) return fail(opened.status().message());
      store = std::move(*opened);
      store->set_single_import();
    }
    if (last && args.skip_invalid) {
      // The rejects of this run, none included: a file left by an earlier run
      // does not stay to be taken for this one's. The default sits beside the
      // database directory (DB/ names the same directory as DB).
      std::string db = args.db;
      while (db.size() > 1 && db.back() == '/') db.pop_back();
      const std::string path = args.rejects.empty() ? db + ".rejects.txt" : args.rejects;
      std::ofstream out(path, std::ios::trunc);
      for (const RowError& e : errors.all()) out << e.format() << "\t" << escape_raw(e.raw) << "\n";
      out.close();
      if (!out) return fail(fmt::format("cannot write rejects file {}", path));
      if (errors.count() > 0)
        std::fprintf(stderr, "cairn import: %zu invalid rows skipped, written with their reasons to %s\n",
                     errors.count(), path.c_str());
    }
    for (const ImportBatch& part : parts) events += part.events.size();
    if (args.wal_only) {
      if (!last) return fail("--wal-only takes an import of one round");
      auto st = store->import(parts, true);
      if (!st) return fail(st.status().message());
      break;
    }
    auto round = store->import_round(parts, last);
    if (!round) {
      progress.done();
      give_up();  // (the store gave the rounds up itself)
      std::fprintf(stderr, "cairn import: %s\n", round.status().message().c_str());
      return 1;
    }
    ++rounds_applied;
    stats.events_added += round->events_added;
    stats.duplicates += round->duplicates;
    stats.links += round->links;
    stats.traits += round->traits;
    stats.costs += round->costs;
    if (last) break;
  }
  progress.done();
  if (errors.count() > 0 && !args.skip_invalid) {
    give_up();
    std::fputs(errors.summary(20).c_str(), stderr);
    std::fprintf(stderr,
                 "cairn import: %zu invalid rows; nothing was imported (use --skip-invalid to import the valid "
                 "rows)\n",
                 errors.count());
    return 1;
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (args.timing) {
    std::fprintf(stderr, "timing: parse %.3f s, store %.3f s (%zu rounds)\n", parse_secs, secs - parse_secs,
                 rounds_applied);
    print_tunables_timing();
  }
  if (args.wal_only) {
    std::printf("logged %zu events to the WAL of %s (applied at next open)\n", events, args.db.c_str());
    return 0;
  }
  std::printf(
      "imported %llu events (%llu duplicates skipped, %zu invalid rows rejected), %llu id links, %llu traits, %llu "
      "cost rows from %zu files in %.2f s (%.0f events/s)\n",
      static_cast<unsigned long long>(stats.events_added), static_cast<unsigned long long>(stats.duplicates),
      errors.count(), static_cast<unsigned long long>(stats.links), static_cast<unsigned long long>(stats.traits),
      static_cast<unsigned long long>(stats.costs), inputs.size(), secs,
      secs > 0 ? static_cast<double>(events) / secs : 0.0);
  if (rounds_applied > 1)
    std::printf("in %zu rounds: partitions hold a segment a round until they merge; cairn compact --db %s makes "
                "one, which queries scan faster\n",
                rounds_applied, args.db.c_str());
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
  cmd->add_option("--round-events", args->round_events,
                  "Parse and apply a large input in rounds of about this many events, committed at once by the last "
                  "(memory follows a round; default 16000000)");
  cmd->add_flag("--timing", args->timing, "Print the time spent parsing and in each phase of storing")->group("");
  cmd->callback([args]() { set_exit_code(run_import(*args)); });
}

}  // namespace cairn::cli
