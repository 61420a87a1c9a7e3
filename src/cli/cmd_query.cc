// cairn query --db DIR SPEC.json|- [--threads N] [--format json|table|csv]
#include <chrono>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/output.h"
#include "cli/reports.h"
#include "query/attribution.h"
#include "query/funnel.h"
#include "query/paths.h"
#include "storage/file_util.h"

namespace cairn::cli {

namespace {

struct QueryArgs {
  std::string db;
  std::string spec;
  unsigned threads = 0;
  std::string format = "json";
  bool timing = false;
  std::string credits;  // attribution: write every conversion's credits to this CSV file
};

unsigned long long u64(const nlohmann::json& v) { return static_cast<unsigned long long>(v.get<uint64_t>()); }

// A list of {value/period, persons, converted, conversion} rows.
void print_groups(const char* title, const char* key, const nlohmann::json& rows, bool csv) {
  std::printf("\n%s\n", title);
  if (csv) std::printf("%s,persons,converted,conversion\n", key);
  for (const auto& g : rows) {
    const std::string v = g[key].get<std::string>();
    if (csv)
      std::printf("\"%s\",%llu,%llu,%.6f\n", v.c_str(), static_cast<unsigned long long>(g["persons"].get<uint64_t>()),
                  static_cast<unsigned long long>(g["converted"].get<uint64_t>()), g["conversion"].get<double>());
    else
      std::printf("  %-34s %10llu entered %10llu converted %7.1f%%\n", v.c_str(),
                  static_cast<unsigned long long>(g["persons"].get<uint64_t>()),
                  static_cast<unsigned long long>(g["converted"].get<uint64_t>()), 100 * g["conversion"].get<double>());
  }
}

void print_funnel(const nlohmann::json& r, const std::string& format) {
  const bool csv = format == "csv";
  if (csv)
    std::printf("step,label,persons,conversion_from_start,conversion_from_previous,dropped,median_time_from_previous_s\n");
  else
    std::printf("%-4s %-32s %10s %9s %9s %10s %12s\n", "step", "label", "persons", "of start", "of prev", "dropped",
                "median time");
  for (const auto& s : r["steps"]) {
    const std::string label = s["label"].get<std::string>() + (s["optional"].get<bool>() ? " (optional)" : "");
    const auto median = s.contains("time_from_previous") ? s["time_from_previous"]["median"] : nlohmann::json();
    if (csv) {
      const std::string quoted = csv_field(label);
      std::printf("%d,%s,%llu,%.6f,%.6f,%llu,%s\n", s["step"].get<int>(), quoted.c_str(),
                  static_cast<unsigned long long>(s["persons"].get<uint64_t>()), s["conversion_from_start"].get<double>(),
                  s["conversion_from_previous"].get<double>(), static_cast<unsigned long long>(s["dropped"].get<uint64_t>()),
                  median.is_null() ? "" : fmt::format("{}", median.get<double>()).c_str());
    } else {
      std::printf("%-4d %-32s %10llu %8.1f%% %8.1f%% %10llu %12s\n", s["step"].get<int>(), label.c_str(),
                  static_cast<unsigned long long>(s["persons"].get<uint64_t>()),
                  100 * s["conversion_from_start"].get<double>(), 100 * s["conversion_from_previous"].get<double>(),
                  static_cast<unsigned long long>(s["dropped"].get<uint64_t>()), fmt_seconds(median).c_str());
    }
  }
  if (r.contains("entry_points")) print_groups("conversion by entry point", "value", r["entry_points"], csv);
  if (r.contains("trend")) print_groups("conversion by entry period", "period", r["trend"], csv);
  if (r.contains("breakdown")) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& g : r["breakdown"]) {
      const uint64_t entered = g["persons"].get<uint64_t>();
      const uint64_t converted = g["steps"].back()["persons"].get<uint64_t>();
      rows.push_back({{"value", g["value"]}, {"persons", entered}, {"converted", converted},
                      {"conversion", entered ? static_cast<double>(converted) / static_cast<double>(entered) : 0.0}});
    }
    print_groups("conversion by breakdown value", "value", rows, csv);
  }
  if (r.contains("funnel_comparison") && !r["funnel_comparison"]["z"].is_null())
    std::printf("\nthis funnel %.1f%% vs compare_funnel %.1f%%: z = %.3f, p = %.3g\n",
                100 * r["funnel_comparison"]["a"]["conversion"].get<double>(),
                100 * r["funnel_comparison"]["b"]["conversion"].get<double>(), r["funnel_comparison"]["z"].get<double>(),
                r["funnel_comparison"]["p_value"].get<double>());
  if (r.contains("comparison") && !r["comparison"]["z"].is_null())
    std::printf("\n%s vs %s: z = %.3f, p = %.3g\n", r["comparison"]["a"]["value"].get<std::string>().c_str(),
                r["comparison"]["b"]["value"].get<std::string>().c_str(), r["comparison"]["z"].get<double>(),
                r["comparison"]["p_value"].get<double>());
}

// One answer of paths, top_paths or branches: the whole, or one group of a
// breakdown (`group`: a CSV row's first field, or "" for none).
void print_paths_body(const nlohmann::json& r, const std::string& type, bool csv, const std::string& group) {
  if (type == "paths") {
    if (!csv)
      std::printf("%llu persons%s\n\n%-4s %-40s %10s %10s\n", u64(r["persons"]),
                  r.contains("direction") ? (", " + r["direction"].get<std::string>()).c_str() : "", "step", "node", "persons",
                  "dropped");
    for (const auto& n : r["nodes"]) {
      if (csv)
        std::printf("%snode,%d,%s,,,%llu,%llu\n", group.c_str(), n["step"].get<int>(), csv_field(n["id"].get<std::string>()).c_str(),
                    u64(n["persons"]), u64(n["dropped"]));
      else
        std::printf("%-4d %-40s %10llu %10llu\n", n["step"].get<int>(), n["label"].get<std::string>().c_str(), u64(n["persons"]),
                    u64(n["dropped"]));
    }
    if (!csv) std::printf("\n%-40s    %-40s %10s\n", "from", "to", "persons");
    for (const auto& l : r["links"]) {
      if (csv)
        std::printf("%slink,,,%s,%s,%llu,\n", group.c_str(), csv_field(l["source"].get<std::string>()).c_str(),
                    csv_field(l["target"].get<std::string>()).c_str(), u64(l["persons"]));
      else
        std::printf("%-40s -> %-40s %10llu\n", l["source"].get<std::string>().c_str(), l["target"].get<std::string>().c_str(),
                    u64(l["persons"]));
    }
    return;
  }
  if (type == "top_paths") {
    if (!csv)
      std::printf("%llu persons, %llu converted\n\n%10s %10s %7s %10s  %s\n", u64(r["persons"]), u64(r["converted"]), "converted",
                  "persons", "rate", "to goal", "path");
    for (const auto& p : r["paths"]) {
      std::string path;
      for (const auto& l : p["path"]) path += (path.empty() ? "" : " > ") + l.get<std::string>();
      if (path.empty()) path = "(nothing before the goal)";
      if (csv)
        std::printf("%s%s,%llu,%llu,%.6f,%s\n", group.c_str(), csv_field(path).c_str(), u64(p["persons"]), u64(p["converted"]),
                    p["conversion_rate"].get<double>(),
                    p["avg_seconds_to_goal"].is_null() ? "" : fmt::format("{}", p["avg_seconds_to_goal"].get<double>()).c_str());
      else
        std::printf("%10llu %10llu %6.1f%% %10s  %s\n", u64(p["converted"]), u64(p["persons"]),
                    100 * p["conversion_rate"].get<double>(), fmt_seconds(p["avg_seconds_to_goal"]).c_str(), path.c_str());
    }
    if (!csv && r.contains("other"))
      std::printf("%10llu %10llu         other paths\n", u64(r["other"]["converted"]), u64(r["other"]["persons"]));
    return;
  }
  if (!csv)
    std::printf("%llu persons, %llu converted\n\n%-32s %10s %7s %10s %7s %12s %10s\n", u64(r["persons"]), u64(r["converted"]),
                "branch", "persons", "share", "converted", "rate", "median time", "p vs rest");
  for (const auto& b : r["branches"]) {
    // vs_rest is null when the branch or everyone else is empty.
    const nlohmann::json p = b["vs_rest"].is_object() ? b["vs_rest"]["p_value"] : nlohmann::json(nullptr);
    if (csv)
      std::printf("%s%s,%llu,%.6f,%llu,%.6f,%s,%s\n", group.c_str(), csv_field(b["label"].get<std::string>()).c_str(),
                  u64(b["persons"]), b["share"].get<double>(), u64(b["converted"]), b["conversion"].get<double>(),
                  b["time_to_goal"]["median"].is_null() ? "" : fmt::format("{}", b["time_to_goal"]["median"].get<double>()).c_str(),
                  p.is_null() ? "" : fmt::format("{}", p.get<double>()).c_str());
    else
      std::printf("%-32s %10llu %6.1f%% %10llu %6.1f%% %12s %10s\n", b["label"].get<std::string>().c_str(), u64(b["persons"]),
                  100 * b["share"].get<double>(), u64(b["converted"]), 100 * b["conversion"].get<double>(),
                  fmt_seconds(b["time_to_goal"]["median"]).c_str(), p.is_null() ? "-" : fmt::format("{:.3g}", p.get<double>()).c_str());
  }
}

// The whole answer, then (table) each breakdown group under "== VALUE"; the
// CSV has the groups' rows only, each with its group first, when there is a
// breakdown (as the retention CSV does).
void print_paths(const nlohmann::json& r, const std::string& type, const std::string& format) {
  const bool csv = format == "csv";
  const bool groups = r.contains("breakdown") && r["breakdown"].is_array();
  if (csv) {
    const char* header = type == "paths"       ? "kind,step,id,source,target,persons,dropped"
                         : type == "top_paths" ? "path,persons,converted,conversion_rate,avg_seconds_to_goal"
                                               : "branch,persons,share,converted,conversion,median_seconds_to_goal,p_value_vs_rest";
    std::printf("%s%s\n", groups ? "group," : "", header);
  }
  if (!csv || !groups) print_paths_body(r, type, csv, "");
  if (!csv && type == "branches" && r.contains("comparison") && !r["comparison"]["z"].is_null())
    std::printf("\n%s vs %s: z = %.3f, p = %.3g\n", r["comparison"]["a"]["value"].get<std::string>().c_str(),
                r["comparison"]["b"]["value"].get<std::string>().c_str(), r["comparison"]["z"].get<double>(),
                r["comparison"]["p_value"].get<double>());
  if (!groups) return;
  for (const auto& g : r["breakdown"]) {
    const std::string label = g["value"].get<std::string>();
    if (!csv) std::printf("\n== %s\n", label.c_str());
    print_paths_body(g, type, csv, csv ? csv_field(label) + "," : "");
  }
}

void print_attribution(const nlohmann::json& r, const std::string& format) {
  const bool csv = format == "csv";
  if (csv) std::printf("model,value,conversions,revenue,share\n");
  else std::printf("%.0f conversions, revenue %.2f, %llu journeys\n", r["conversions"].get<double>(), r["revenue"].get<double>(),
                   u64(r["journeys"]));
  for (const auto& [name, model] : r["models"].items()) {
    const bool costs = !model["rows"].empty() && model["rows"][0].contains("cost");
    const bool mqls = !model["rows"].empty() && model["rows"][0].contains("mqls");
    if (!csv)
      std::printf("\n%s\n  %-34s %12s %14s %7s%s%s\n", name.c_str(), "value", "conversions", "revenue", "share",
                  costs ? "         cost      ROI" : "", mqls ? "     MQLs  per MQL" : "");
    auto number = [](const nlohmann::json& v, const char* f) { return v.is_null() ? std::string("-") : fmt::format(fmt::runtime(f), v.get<double>()); };
    for (const auto& row : model["rows"]) {
      const std::string v = row["value"].get<std::string>();
      if (csv) {
        // A share of a total of 0 is null: an empty field.
        std::printf("%s,%s,%.6f,%.6f,%s\n", name.c_str(), csv_field(v).c_str(), row["conversions"].get<double>(),
                    row["revenue"].get<double>(), row["share"].is_null() ? "" : fmt::format("{:.6f}", row["share"].get<double>()).c_str());
        continue;
      }
      std::string extra;
      if (costs) extra += fmt::format(" {:>12} {:>8}", number(row["cost"], "{:.2f}"), number(row["roi"], "{:.2f}"));
      if (mqls)
        extra += fmt::format(" {:>8} {:>8}", number(row["mqls"], "{:.1f}"),
                             row.contains("cost_per_mql") ? number(row["cost_per_mql"], "{:.2f}") : std::string("-"));
      const std::string share = row["share"].is_null() ? "-" : fmt::format("{:.1f}%", 100 * row["share"].get<double>());
      std::printf("  %-34s %12.2f %14.2f %7s%s\n", v.c_str(), row["conversions"].get<double>(), row["revenue"].get<double>(),
                  share.c_str(), extra.c_str());
    }
  }
}

int run_attribution_query(const QueryArgs& args, const nlohmann::json& doc) {
  auto spec = query::parse_attribution(doc);
  if (!spec) {
    std::fprintf(stderr, "cairn query: %s\n", spec.status().message().c_str());
    return 2;
  }
  spec->credits = !args.credits.empty();
  auto store = open_or_report("query", args.db, Store::Mode::kRead);
  if (!store) return 1;
  if (spec->credits) {
    if (Status st = store->catalog().load_persons(); !st.is_ok()) {
      std::fprintf(stderr, "cairn query: %s\n", st.message().c_str());
      return 1;
    }
  }
  auto result = query::run_attribution(*store, *spec, args.threads);
  if (result && args.timing)
    std::fprintf(stderr, "timing: scan %.3f s, models %.3f s, bootstrap %.3f s\n", result->scan_seconds, result->model_seconds,
                 result->bootstrap_seconds);
  if (!result) {
    std::fprintf(stderr, "cairn query: %s\n", result.status().message().c_str());
    return 1;
  }
  if (spec->credits) {
    if (Status st = write_file_atomic(args.credits, result->credits_csv); !st.is_ok()) {
      std::fprintf(stderr, "cairn query: %s\n", st.message().c_str());
      return 1;
    }
  }
  if (args.format == "json")
    print_json(result->json);
  else
    print_attribution(result->json, args.format);
  return 0;
}

Result<Report> prepare_funnel(const nlohmann::json& doc) {
  auto spec = query::parse_funnel(doc);
  if (!spec) return spec.status();
  return Report{[spec = std::move(*spec)](const Store& store, unsigned threads) { return query::run_funnel(store, spec, threads); },
                print_funnel};
}

Result<Report> prepare_paths(const nlohmann::json& doc) {
  auto spec = query::parse_paths(doc);
  if (!spec) return spec.status();
  const std::string type = doc["type"].get<std::string>();
  return Report{[spec = std::move(*spec)](const Store& store, unsigned threads) { return query::run_paths(store, spec, threads); },
                [type](const nlohmann::json& r, const std::string& format) { print_paths(r, type, format); }};
}

// Every report type but attribution: parse (exit 2 on a bad document), open, run, print.
int run_report_query(const QueryArgs& args, const nlohmann::json& doc, const ReportType& type) {
  auto report = type.prepare(doc);
  if (!report) {
    std::fprintf(stderr, "cairn query: %s\n", report.status().message().c_str());
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  auto store = open_or_report("query", args.db, Store::Mode::kRead);
  if (!store) return 1;
  const auto t1 = std::chrono::steady_clock::now();
  auto result = report->run(*store, args.threads);
  if (args.timing)
    std::fprintf(stderr, "timing: open %.3f s, plan + scan %.3f s\n", std::chrono::duration<double>(t1 - t0).count(),
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count());
  if (!result) {
    std::fprintf(stderr, "cairn query: %s\n", result.status().message().c_str());
    return 1;
  }
  if (args.format == "json")
    print_json(*result);
  else
    report->print(*result, args.format);
  return 0;
}

int run_query(const QueryArgs& args) {
  if (args.timing) print_tunables_timing();
  auto text = read_file(args.spec);
  if (!text) {
    std::fprintf(stderr, "cairn query: %s\n", text.status().message().c_str());
    return 2;
  }
  nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    std::fprintf(stderr, "cairn query: %s: not valid JSON\n", args.spec == "-" ? "stdin" : args.spec.c_str());
    return 2;
  }
  const std::string type = doc.is_object() && doc.contains("type") && doc["type"].is_string() ? doc["type"].get<std::string>() : "";
  if (type == "attribution") return run_attribution_query(args, doc);
  // Funnels and paths print with this file's printers; the other types come
  // from cli/reports.h.
  const ReportType built_in[] = {{"funnel", prepare_funnel}, {"paths", prepare_paths}, {"top_paths", prepare_paths},
                                 {"branches", prepare_paths}};
  for (const ReportType& r : built_in)
    if (type == r.type) return run_report_query(args, doc, r);
  for (const ReportType& r : kReportTypes)
    if (type == r.type) return run_report_query(args, doc, r);
  std::string known;
  for (const ReportType& r : built_in) known += fmt::format("\"{}\", ", r.type);
  known += "\"attribution\"";
  for (const ReportType& r : kReportTypes) known += fmt::format(", \"{}\"", r.type);
  std::fprintf(stderr, "cairn query: type: %s\n",
               type.empty() ? "is missing (e.g. \"funnel\")"
                            : fmt::format("unknown query type \"{}\" (this build answers {})", type, known).c_str());
  return 2;
}

}  // namespace

void register_query(CLI::App& app) {
  auto args = std::make_shared<QueryArgs>();
  auto* cmd = app.add_subcommand("query", "Answer a JSON query document (docs/QUERY.md): funnels, paths, top paths, branches, attribution, retention, cohorts, stages, trends, metrics");
  cmd->add_option("--db", args->db, "Database directory")->required();
  cmd->add_option("spec", args->spec, "Query file, or - for standard input")->required();
  cmd->add_option("--threads", args->threads, "Scan threads (default: one per core)");
  cmd->add_option("--format", args->format, "json (default), table or csv")
      ->check(CLI::IsMember({"json", "table", "csv"}));
  cmd->add_option("--credits", args->credits, "Attribution: write every conversion's credits per touchpoint and model to this CSV file");
  cmd->add_flag("--timing", args->timing, "Print the time spent opening the database and scanning")->group("");
  cmd->callback([args]() { set_exit_code(run_query(*args)); });
}

}  // namespace cairn::cli
