// `cairn query` for {"type": "stages"}: lifecycle stages and the activity
// lifecycle (query/stages.h), printed as tables or CSV.
#include <cstdio>

#include <fmt/format.h>

#include "cli/output.h"
#include "cli/reports.h"
#include "query/stages.h"

namespace cairn::cli {

namespace {

using nlohmann::json;

std::string number(const json& v, const char* format) {
  return v.is_null() ? std::string() : fmt::format(fmt::runtime(format), v.get<double>());
}
std::string percent(const json& v) { return v.is_null() ? std::string("-") : fmt::format("{:.1f}%", 100 * v.get<double>()); }

void print_stage_table(const json& g) {
  std::printf("%-5s %-24s %10s %10s %9s %10s %9s %12s\n", "stage", "name", "entered", "from prev", "of prev", "in order",
              "of start", "median time");
  for (const auto& s : g["stages"])
    std::printf("%-5d %-24s %10llu %10llu %9s %10llu %9s %12s\n", s["stage"].get<int>(), s["name"].get<std::string>().c_str(),
                static_cast<unsigned long long>(s["entered"].get<uint64_t>()),
                static_cast<unsigned long long>(s["from_previous"].get<uint64_t>()),
                percent(s["conversion_from_previous"]).c_str(), static_cast<unsigned long long>(s["in_order"].get<uint64_t>()),
                percent(s["conversion_from_start"]).c_str(), fmt_seconds(s["time_from_previous"]["median"]).c_str());
}

void print_activity_table(const json& a) {
  std::printf("%-12s %10s %10s %10s %13s %10s %12s\n", "period", "active", "new", "returning", "resurrecting", "dormant",
              "quick ratio");
  for (const auto& p : a["periods"])
    std::printf("%-12s %10llu %10llu %10llu %13llu %10llu %12s\n", p["period"].get<std::string>().c_str(),
                static_cast<unsigned long long>(p["active"].get<uint64_t>()),
                static_cast<unsigned long long>(p["new"].get<uint64_t>()),
                static_cast<unsigned long long>(p["returning"].get<uint64_t>()),
                static_cast<unsigned long long>(p["resurrecting"].get<uint64_t>()),
                static_cast<unsigned long long>(p["dormant"].get<uint64_t>()),
                p["quick_ratio"].is_null() ? "-" : fmt::format("{:.2f}", p["quick_ratio"].get<double>()).c_str());
}

// The whole answer (entry point ""), then each entry point's.
std::vector<std::pair<std::string, const json*>> parts_of(const json& r) {
  std::vector<std::pair<std::string, const json*>> parts{{"", &r}};
  if (r.contains("entry_points"))
    for (const auto& g : r["entry_points"]) parts.emplace_back(g["value"].get<std::string>(), &g);
  return parts;
}

void print_table(const json& r) {
  const auto parts = parts_of(r);
  for (size_t i = 0; i < parts.size(); ++i) {
    const json& g = *parts[i].second;
    if (i > 0) std::printf("\nentry point %s\n", parts[i].first.c_str());
    if (g.contains("stages")) {
      std::printf("%llu persons entered the first stage\n", static_cast<unsigned long long>(g["persons"].get<uint64_t>()));
      print_stage_table(g);
    }
    if (g.contains("activity")) {
      std::printf("%sactivity by %s: %llu active persons\n", g.contains("stages") ? "\n" : "",
                  g["activity"]["period"].get<std::string>().c_str(),
                  static_cast<unsigned long long>(g["activity"]["active_persons"].get<uint64_t>()));
      print_activity_table(g["activity"]);
    }
  }
}

// Two CSV tables (stages, then activity), each with an entry_point column
// that is empty for all persons.
void print_csv(const json& r) {
  const auto parts = parts_of(r);
  if (r.contains("stages")) {
    std::printf("entry_point,stage,name,persons,entered,from_previous,conversion_from_previous,in_order,"
                "conversion_from_start,median_seconds_from_previous,mean_seconds_from_previous\n");
    for (const auto& [value, g] : parts)
      for (const auto& s : (*g)["stages"])
        std::printf("%s,%d,%s,%llu,%llu,%llu,%s,%llu,%s,%s,%s\n", csv_field(value).c_str(), s["stage"].get<int>(),
                    csv_field(s["name"].get<std::string>()).c_str(),
                    static_cast<unsigned long long>((*g)["persons"].get<uint64_t>()),
                    static_cast<unsigned long long>(s["entered"].get<uint64_t>()),
                    static_cast<unsigned long long>(s["from_previous"].get<uint64_t>()),
                    number(s["conversion_from_previous"], "{:.6f}").c_str(),
                    static_cast<unsigned long long>(s["in_order"].get<uint64_t>()),
                    number(s["conversion_from_start"], "{:.6f}").c_str(), number(s["time_from_previous"]["median"], "{}").c_str(),
                    number(s["time_from_previous"]["mean"], "{}").c_str());
  }
  if (r.contains("activity")) {
    if (r.contains("stages")) std::printf("\n");
    std::printf("entry_point,period,active,new,returning,resurrecting,dormant\n");
    for (const auto& [value, g] : parts)
      for (const auto& p : (*g)["activity"]["periods"])
        std::printf("%s,%s,%llu,%llu,%llu,%llu,%llu\n", csv_field(value).c_str(), p["period"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(p["active"].get<uint64_t>()),
                    static_cast<unsigned long long>(p["new"].get<uint64_t>()),
                    static_cast<unsigned long long>(p["returning"].get<uint64_t>()),
                    static_cast<unsigned long long>(p["resurrecting"].get<uint64_t>()),
                    static_cast<unsigned long long>(p["dormant"].get<uint64_t>()));
  }
}

}  // namespace

Result<Report> prepare_stages(const json& doc) {
  auto spec = query::parse_stages(doc);
  if (!spec) return spec.status();
  Report report;
  report.run = [spec = std::move(*spec)](const Store& store, unsigned threads) {
    return query::run_stages(store, spec, threads);
  };
  report.print = [](const json& answer, const std::string& format) {
    if (format == "csv") print_csv(answer);
    else print_table(answer);
  };
  return report;
}

}  // namespace cairn::cli
