// `cairn query` for "retention" and "cohorts" (query/cohort.h): the cohort
// matrix as a table or CSV.
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "cli/reports.h"
#include "query/cohort.h"

namespace cairn::cli {

namespace {

std::string share_text(const nlohmann::json& share, bool csv) {
  if (share.is_null()) return csv ? "" : "-";
  return csv ? fmt::format("{:.6f}", share.get<double>()) : fmt::format("{:.1f}%", 100 * share.get<double>());
}

// One matrix: a row per cohort (start, size, a value per period), then the total.
void print_matrix(const nlohmann::json& cohorts, const nlohmann::json& total, const std::string& prefix, bool csv,
                  const std::function<nlohmann::json(const nlohmann::json&, size_t)>& value, size_t periods) {
  if (csv) {
    for (const auto& c : cohorts) {
      std::printf("%s%s,%llu", prefix.c_str(), c["start"].get<std::string>().c_str(),
                  static_cast<unsigned long long>(c["size"].get<uint64_t>()));
      for (size_t k = 0; k < periods; ++k) std::printf(",%s", share_text(value(c, k), true).c_str());
      std::printf("\n");
    }
    return;
  }
  std::printf("%-12s %9s", "cohort", "persons");
  for (size_t k = 0; k < periods; ++k) std::printf(" %7s", fmt::format("{}", k).c_str());
  std::printf("\n");
  for (const auto& c : cohorts) {
    std::printf("%-12s %9llu", c["start"].get<std::string>().c_str(), static_cast<unsigned long long>(c["size"].get<uint64_t>()));
    for (size_t k = 0; k < periods; ++k) std::printf(" %7s", share_text(value(c, k), false).c_str());
    std::printf("\n");
  }
  if (!total.is_null()) {
    std::printf("%-12s %9llu", "all", static_cast<unsigned long long>(total["size"].get<uint64_t>()));
    for (size_t k = 0; k < periods; ++k) std::printf(" %7s", share_text(total["shares"][k], false).c_str());
    std::printf("\n");
  }
}

void print_retention(const nlohmann::json& r, const std::string& format) {
  const bool csv = format == "csv";
  const size_t periods = r["periods"].get<size_t>();
  auto share = [](const nlohmann::json& c, size_t k) { return c["shares"][k]; };
  if (csv) {
    std::printf("%scohort,persons", r.contains("breakdown") ? "group," : "");
    for (size_t k = 0; k < periods; ++k) std::printf(",%s_%zu", r["period"].get<std::string>().c_str(), k);
    std::printf("\n");
  } else {
    std::printf("%s retention (%s), share of each cohort\n\n", r["mode"].get<std::string>().c_str(),
                r["period"].get<std::string>().c_str());
  }
  if (!r.contains("breakdown")) {
    print_matrix(r["cohorts"], csv ? nlohmann::json() : r["total"], "", csv, share, periods);
    return;
  }
  for (const auto& g : r["breakdown"]) {
    const std::string label = g["value"].get<std::string>();
    if (!csv) std::printf("\n%s\n", label.c_str());
    print_matrix(g["cohorts"], csv ? nlohmann::json() : g["total"], csv ? "\"" + label + "\"," : "", csv, share, periods);
    if (csv) continue;
    // Each period's share against everyone else's: the two-proportion z-test.
    std::printf("%-12s %9s", "p vs rest", "");
    for (size_t k = 0; k < periods; ++k) {
      const auto& pv = g["vs_rest"][k]["p_value"];
      std::printf(" %7s", pv.is_null() ? "-" : fmt::format("{:.3f}", pv.get<double>()).c_str());
    }
    std::printf("\n");
  }
}

void print_cohorts(const nlohmann::json& r, const std::string& format) {
  const bool csv = format == "csv";
  const size_t periods = r["periods"].get<size_t>();
  if (csv) {
    std::printf("%smeasure,cohort,persons", r.contains("breakdown") ? "group," : "");
    for (size_t k = 0; k < periods; ++k) std::printf(",%s_%zu", r["period"].get<std::string>().c_str(), k);
    std::printf("\n");
  }
  if (r["cohorts"].empty()) {
    // The header alone in CSV; a line saying so in the table.
    if (!csv) std::printf("no cohorts: nobody has a start event in the range\n");
    return;
  }
  std::vector<std::string> names;
  for (const auto& [name, v] : r["cohorts"][0]["measures"].items()) names.push_back(name);
  auto print_group = [&](const nlohmann::json& cohorts, const std::string& group) {
    for (const std::string& name : names) {
      auto value = [&](const nlohmann::json& c, size_t k) { return c["measures"][name]["values"][k]; };
      if (csv) {
        print_matrix(cohorts, nlohmann::json(), group + "\"" + name + "\",", true, value, periods);
        continue;
      }
      std::printf("\n%s (per person of the cohort)\n", name.c_str());
      // Values are per person (or shares): print them as plain numbers.
      std::printf("%-12s %9s", "cohort", "persons");
      for (size_t k = 0; k < periods; ++k) std::printf(" %9zu", k);
      std::printf("\n");
      for (const auto& c : cohorts) {
        std::printf("%-12s %9llu", c["start"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(c["size"].get<uint64_t>()));
        for (size_t k = 0; k < periods; ++k) {
          const auto& v = value(c, k);
          std::printf(" %9s", v.is_null() ? "-" : fmt::format("{:.3f}", v.get<double>()).c_str());
        }
        std::printf("\n");
      }
    }
  };
  if (!r.contains("breakdown")) {
    print_group(r["cohorts"], "");
    return;
  }
  for (const auto& g : r["breakdown"]) {
    const std::string label = g["value"].get<std::string>();
    if (!csv) std::printf("\n== %s\n", label.c_str());
    print_group(g["cohorts"], csv ? "\"" + label + "\"," : "");
  }
}

Result<Report> prepare(const nlohmann::json& doc, void (*print)(const nlohmann::json&, const std::string&)) {
  auto spec = query::parse_cohorts(doc);
  if (!spec) return spec.status();
  Report r;
  r.run = [spec = std::move(*spec)](const Store& store, unsigned threads) { return query::run_cohorts(store, spec, threads); };
  r.print = print;
  return r;
}

}  // namespace

Result<Report> prepare_retention(const nlohmann::json& doc) { return prepare(doc, print_retention); }
Result<Report> prepare_cohorts(const nlohmann::json& doc) { return prepare(doc, print_cohorts); }

}  // namespace cairn::cli
