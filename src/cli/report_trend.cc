// `cairn query` for {"type": "trend"}: a table or CSV with one row per
// period (and a total row) and one column per series and formula, then per
// breakdown group.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/reports.h"
#include "query/trend.h"

namespace cairn::cli {

namespace {

using nlohmann::json;

std::string cell_text(const json& v, bool csv) {
  if (v.is_null()) return csv ? "" : "-";
  if (v.is_number_unsigned()) return fmt::format("{}", v.get<uint64_t>());
  const double d = v.get<double>();
  return csv ? fmt::format("{}", d) : fmt::format("{:.4g}", d);
}

std::string csv_quoted(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
  return out + "\"";
}

void print_trend(const json& r, const std::string& format) {
  const bool csv = format == "csv";
  // Columns: every series and formula, then each one's breakdown groups.
  std::vector<std::pair<std::string, const json*>> cols;
  for (const char* part : {"series", "formulas"})
    for (const json& s : r[part]) cols.emplace_back(s["name"].get<std::string>(), &s);
  const size_t plain = cols.size();
  for (size_t i = 0; i < plain; ++i)
    if (cols[i].second->contains("breakdown"))
      for (const json& g : (*cols[i].second)["breakdown"])
        cols.emplace_back(cols[i].first + ": " + g["value"].get<std::string>(), &g);
  std::string line = csv ? "period" : fmt::format("{:<10}", "period");
  for (const auto& [name, col] : cols) line += csv ? "," + csv_quoted(name) : fmt::format(" {:>14}", name);
  std::printf("%s\n", line.c_str());
  const json& periods = r["periods"];
  for (size_t p = 0; p <= periods.size(); ++p) {
    const std::string label = p < periods.size() ? periods[p].get<std::string>() : "total";
    line = csv ? label : fmt::format("{:<10}", label);
    for (const auto& [name, col] : cols) {
      const json& v = p < periods.size() ? (*col)["values"][p] : (*col)["total"];
      line += csv ? "," + cell_text(v, true) : fmt::format(" {:>14}", cell_text(v, false));
    }
    std::printf("%s\n", line.c_str());
  }
}

}  // namespace

Result<Report> prepare_trend(const json& doc) {
  auto spec = query::parse_trend(doc);
  if (!spec) return spec.status();
  Report report;
  report.run = [spec = std::move(*spec)](const Store& store, unsigned threads) { return query::run_trend(store, spec, threads); };
  report.print = print_trend;
  return report;
}

}  // namespace cairn::cli
