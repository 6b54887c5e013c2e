#include "support/input_validation.hpp"

#include <algorithm>
#include <cstdio>
#include <regex>

#include "slurm_factory/errors.hpp"

namespace sf {
namespace {

struct Rule {
  const char* description;
  const char* example;
  std::size_t max_length;
  const char* pattern;  // ECMAScript, matched in full; nullptr: path component rules only
};

const Rule& rule(InputKind kind) {
  static const Rule kSlurmVersion{"digits and dots with an optional -rcN or -N suffix", "24.11.5",
                                  32,
                                  R"([0-9]{1,4}(\.[0-9]{1,4}){1,3}(-?rc[0-9]{1,3}|-[0-9]{1,3})?)"};
  static const Rule kToolchain{"lower-case letters, digits, '.', '_' and '-'", "noble", 64,
                               "[a-z0-9][a-z0-9._-]*"};
  static const Rule kGpu{"one of cuda, rocm, oneapi", "cuda", 16, nullptr};
  static const Rule kArch{"lower-case letters, digits and '_'", "amd64", 32, "[a-z0-9][a-z0-9_]*"};
  static const Rule kPackageName{"lower-case letters, digits, '.', '_', '+' and '-'", "json-c", 64,
                                 "[a-z0-9][a-z0-9._+-]*"};
  static const Rule kPackageVersion{"a digit, then letters, digits, '.', '_', '+', '~' and '-'",
                                    "2.1.13-stable", 64, "[0-9][A-Za-z0-9._+~-]*"};
  static const Rule kName{"letters, digits, '.', '_', '+' and '-'", "nightly", 64,
                          "[A-Za-z0-9][A-Za-z0-9._+-]*"};
  static const Rule kComponent{"one file name: no '/', not '.' or '..', no leading '-'",
                               "slurm-24.11.5.tar.gz", 255, nullptr};
  switch (kind) {
    case InputKind::kSlurmVersion:
      return kSlurmVersion;
    case InputKind::kToolchainName:
      return kToolchain;
    case InputKind::kGpuFlavour:
      return kGpu;
    case InputKind::kArch:
      return kArch;
    case InputKind::kPackageName:
      return kPackageName;
    case InputKind::kPackageVersion:
      return kPackageVersion;
    case InputKind::kName:
      return kName;
    case InputKind::kPathComponent:
      return kComponent;
  }
  return kComponent;
}

bool is_control(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u < 0x20 || u == 0x7f;
}

// The first problem every kind shares: emptiness, length, NUL, control characters, '/', '..'.
std::string common_problem(const Rule& r, std::string_view value) {
  if (value.empty()) return "it is empty";
  if (value.size() > r.max_length) {
    return "it is longer than " + std::to_string(r.max_length) + " characters";
  }
  if (value.find('\0') != std::string_view::npos) return "it contains a NUL byte";
  if (std::any_of(value.begin(), value.end(), is_control)) {
    return "it contains a control character (newline, tab, escape...)";
  }
  if (value.find('/') != std::string_view::npos) return "it contains '/'";
  if (value == "." || value == "..") return "it is '" + std::string(value) + "'";
  if (value.find("..") != std::string_view::npos) return "it contains '..'";
  if (value.front() == '-') return "it starts with '-'";
  return {};
}

}  // namespace

std::string describe(InputKind kind) {
  const Rule& r = rule(kind);
  return std::string(r.description) + ", e.g. " + r.example;
}

std::string input_problem(InputKind kind, std::string_view value) {
  const Rule& r = rule(kind);
  if (std::string p = common_problem(r, value); !p.empty()) return p;
  if (kind == InputKind::kGpuFlavour) {
    for (const char* f : kGpuFlavours) {
      if (value == f) return {};
    }
    return "it is not a GPU flavour (cuda, rocm, oneapi)";
  }
  if (r.pattern == nullptr) return {};
  static const std::string kShell = "$`\\\"'();&|<>*?[]{}!# ~=%^,:@";
  const std::regex re(r.pattern);
  if (std::regex_match(value.begin(), value.end(), re)) return {};
  for (char c : value) {
    if (kind != InputKind::kPackageVersion || c != '~') {
      if (kShell.find(c) != std::string::npos) {
        return std::string("it contains '") + c + "'";
      }
    }
    if (static_cast<unsigned char>(c) >= 0x80) return "it contains a non-ASCII byte";
  }
  return "it is not " + std::string(r.description);
}

const std::string& check_input(InputKind kind, const std::string& value, const std::string& what) {
  const std::string problem = input_problem(kind, value);
  if (problem.empty()) return value;
  throw UsageError("invalid " + what + " '" + printable(value) + "': " + problem,
                   {{"expected", describe(kind)}},
                   "give " + what + " " + rule(kind).example + " or a value of that form");
}

std::string printable(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 80)) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f || c == '\\') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(u));
      out += buf;
    } else {
      out += c;
    }
  }
  if (value.size() > 80) out += "...";
  return out;
}

}  // namespace sf
