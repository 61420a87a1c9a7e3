// Runs the data-driven tests in tests/queries/**/*.test (see
// tests/queries/README.md for the format): each file writes its input files
// into a fresh directory, runs cairn commands there, and compares their
// output with the expected output.
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct CommandResult {
  int exit_code = 0;
  std::string output;  // stdout, then stderr
};

CommandResult run_shell(const std::string& cmd, const std::string& cwd, const std::string& stdin_text) {
  const fs::path in = fs::path(cwd) / ".stdin", out = fs::path(cwd) / ".stdout", err = fs::path(cwd) / ".stderr";
  std::ofstream(in) << stdin_text;
  const std::string full = "cd '" + cwd + "' && (" + cmd + ") <'" + in.string() + "' >'" + out.string() + "' 2>'" +
                           err.string() + "'";
  const int status = std::system(full.c_str());
  CommandResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  // (Streaming an empty rdbuf sets failbit, so each file is read on its own.)
  auto slurp = [](const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  };
  r.output = slurp(out) + slurp(err);
  return r;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size()) s.replace(pos, from.size(), to);
  return s;
}

// Expected JSON is a subset of the actual: every key of an expected object
// must be present with a matching value; arrays match element by element and
// must have the same length; numbers match to 1e-9 relative.
bool json_matches(const json& expected, const json& actual, const std::string& path, std::string& why) {
  if (expected.is_object()) {
    if (!actual.is_object()) {
      why = path + ": expected an object, got " + actual.dump();
      return false;
    }
    for (const auto& [k, v] : expected.items()) {
      if (!actual.contains(k)) {
        why = path + "." + k + ": missing";
        return false;
      }
      if (!json_matches(v, actual.at(k), path + "." + k, why)) return false;
    }
    return true;
  }
  if (expected.is_array()) {
    if (!actual.is_array() || actual.size() != expected.size()) {
      why = path + ": expected " + expected.dump() + ", got " + actual.dump();
      return false;
    }
    for (size_t i = 0; i < expected.size(); ++i)
      if (!json_matches(expected[i], actual[i], path + "[" + std::to_string(i) + "]", why)) return false;
    return true;
  }
  if (expected.is_number() && actual.is_number()) {
    const double a = expected.get<double>(), b = actual.get<double>();
    if (std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(a))) return true;
  } else if (expected == actual) {
    return true;
  }
  why = path + ": expected " + expected.dump() + ", got " + actual.dump();
  return false;
}

void write_gz(const fs::path& path, const std::string& text) {
  gzFile f = gzopen(path.c_str(), "wb");
  gzwrite(f, text.data(), static_cast<unsigned>(text.size()));
  gzclose(f);
}

struct Failure {
  int line;
  std::string message;
};

// Runs one .test file; returns the failures.
std::vector<Failure> run_test_file(const fs::path& file, const std::string& cairn) {
  std::vector<Failure> failures;
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  const fs::path dir = fs::temp_directory_path() / ("cairn-qt-" + file.stem().string() + "-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto expand = [&](std::string s) {
    s = replace_all(s, "$CAIRN", cairn);
    s = replace_all(s, "$DB", (dir / "db").string());
    s = replace_all(s, "$DIR", dir.string());
    return s;
  };
  size_t i = 0;
  while (i < lines.size()) {
    const std::string line = trim(lines[i]);
    const int line_no = static_cast<int>(i + 1);
    if (line.empty() || line[0] == '#') {
      ++i;
      continue;
    }
    if (line.rfind("file ", 0) == 0) {
      const std::string name = trim(line.substr(5));
      std::string content;
      ++i;
      while (i < lines.size() && lines[i] != "end") content += lines[i++] + "\n";
      ++i;
      const fs::path target = dir / name;
      fs::create_directories(target.parent_path());
      if (name.size() > 3 && name.substr(name.size() - 3) == ".gz") {
        write_gz(target, content);
      } else {
        std::ofstream(target) << content;
      }
      continue;
    }
    // A command block: "statement ok|error", "query json|text|contains".
    std::istringstream head(line);
    std::string kind, mode;
    head >> kind >> mode;
    if ((kind != "statement" || (mode != "ok" && mode != "error")) &&
        (kind != "query" || (mode != "json" && mode != "text" && mode != "contains"))) {
      failures.push_back({line_no, "unknown directive: " + line});
      break;
    }
    ++i;
    if (i >= lines.size()) {
      failures.push_back({line_no, "missing command"});
      break;
    }
    const std::string command = expand(lines[i++]);
    std::string stdin_text, expected;
    bool in_expected = false;
    while (i < lines.size() && !trim(lines[i]).empty()) {
      if (lines[i] == "----") {
        in_expected = true;
      } else {
        (in_expected ? expected : stdin_text) += expand(lines[i]) + "\n";
      }
      ++i;
    }
    const CommandResult r = run_shell(command, dir.string(), stdin_text);
    const bool want_ok = !(kind == "statement" && mode == "error");
    if ((r.exit_code == 0) != want_ok) {
      failures.push_back({line_no, "`" + command + "` exited " + std::to_string(r.exit_code) + "; output:\n" + r.output});
      continue;
    }
    if (kind == "statement" || mode == "contains") {
      // Each expected line must appear in the output, in order.
      std::istringstream exp(expected);
      size_t pos = 0;
      for (std::string want; std::getline(exp, want);) {
        if (want.empty()) continue;
        const size_t at = r.output.find(want, pos);
        if (at == std::string::npos) {
          failures.push_back({line_no, "output of `" + command + "` lacks line:\n  " + want + "\ngot:\n" + r.output});
          break;
        }
        pos = at + want.size();
      }
    } else if (mode == "text") {
      if (r.output != expected)
        failures.push_back({line_no, "output of `" + command + "`:\n" + r.output + "expected:\n" + expected});
    } else {
      try {
        const json want = json::parse(expected);
        const json got = json::parse(r.output);
        std::string why;
        if (!json_matches(want, got, "$", why))
          failures.push_back({line_no, "`" + command + "`: " + why + "\nfull output:\n" + r.output});
      } catch (const json::exception& e) {
        failures.push_back({line_no, std::string("JSON: ") + e.what() + "\noutput:\n" + r.output});
      }
    }
  }
  fs::remove_all(dir);
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s CAIRN_BINARY FILE.test...\n", argv[0]);
    return 2;
  }
  const std::string cairn = fs::absolute(argv[1]).string();
  int failed = 0, passed = 0;
  for (int a = 2; a < argc; ++a) {
    const auto failures = run_test_file(argv[a], cairn);
    for (const Failure& f : failures) std::fprintf(stderr, "%s:%d: %s\n", argv[a], f.line, f.message.c_str());
    (failures.empty() ? passed : failed)++;
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
