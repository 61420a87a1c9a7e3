// The journey metrics (query/metric_journey.h) as a `cairn query` type, and
// their printing for people: the value and its parts, then each list of rows
// as a table (or CSV section). The "metric" dispatcher calls
// print_journey_metric for the answers of journey metrics.
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "cli/output.h"
#include "cli/reports.h"
#include "query/metric_journey.h"

namespace cairn::cli {

namespace {

using nlohmann::json;

// A value for people (6 significant digits) or for CSV (exact, empty for null).
std::string scalar_text(const json& v, bool csv) {
  if (v.is_null()) return csv ? "" : "-";
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float() && !csv) return fmt::format("{:.6g}", v.get<double>());
  return v.dump();
}

// A row's name in the title of its nested lists: its first text value.
std::string row_name(const std::vector<std::pair<std::string, json>>& row) {
  for (const auto& [name, v] : row)
    if (v.is_string()) return v.get<std::string>();
  return "";
}

// An object's scalars as (dotted name, value), nested objects flattened;
// lists of rows are left to `lists`.
void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, json>>& out,
             std::vector<std::pair<std::string, const json*>>* lists) {
  for (const auto& [k, v] : j.items()) {
    const std::string name = prefix.empty() ? k : prefix + "." + k;
    if (v.is_object()) flatten(v, name, out, lists);
    else if (v.is_array()) {
      if (lists) lists->emplace_back(name, &v);
    } else out.emplace_back(name, v);
  }
}

void print_rows(const std::string& title, const json& rows, bool csv) {
  std::vector<std::string> columns;
  std::vector<std::pair<std::string, const json*>> nested;
  std::vector<std::vector<std::pair<std::string, json>>> cells;
  for (const json& r : rows) {
    std::vector<std::pair<std::string, json>> row;
    std::vector<std::pair<std::string, const json*>> lists;
    flatten(r, "", row, &lists);
    for (const auto& [name, v] : row)
      if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
    for (const auto& [name, list] : lists)
      nested.emplace_back(fmt::format("{} {}: {}", title, row_name(row), name), list);
    cells.push_back(std::move(row));
  }
  std::printf("\n%s\n", csv ? csv_field(title).c_str() : title.c_str());
  std::string line;
  for (size_t i = 0; i < columns.size(); ++i) line += csv ? (i ? "," : "") + csv_field(columns[i]) : fmt::format("{:>16} ", columns[i]);
  std::printf("%s\n", line.c_str());
  for (const auto& row : cells) {
    line.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      std::string text;
      for (const auto& [name, v] : row)
        if (name == columns[i]) text = scalar_text(v, csv);
      line += csv ? (i ? "," : "") + csv_field(text) : fmt::format("{:>16} ", text);
    }
    std::printf("%s\n", line.c_str());
  }
  for (const auto& [t, list] : nested) print_rows(t, *list, csv);
}

}  // namespace

void print_journey_metric(const json& answer, const std::string& format) {
  const bool csv = format == "csv";
  std::vector<std::pair<std::string, json>> parts;
  std::vector<std::pair<std::string, const json*>> lists;
  flatten(answer, "", parts, &lists);
  if (csv) std::printf("part,value\n");
  for (const auto& [name, v] : parts)
    if (csv) std::printf("%s,%s\n", csv_field(name).c_str(), csv_field(scalar_text(v, true)).c_str());
    else std::printf("%-28s %s\n", name.c_str(), scalar_text(v, false).c_str());
  for (const auto& [name, list] : lists) print_rows(name, *list, csv);
}

}  // namespace cairn::cli
