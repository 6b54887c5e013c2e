// Versions and version ranges for recipes and Slurm ("24.11" means the newest known 24.11.x).
//
// A version is dot-separated numeric components with an optional non-numeric tail ("2.1.13",
// "0.5.16", "1.0.0rc1"). A *bound* in a range may be partial: "24.11" is the series 24.11.*.
// Range syntax: comma-separated clauses, all of which must hold:
//   "*"               any version
//   "24.11" "==24.11" the series (prefix match); "24.11.5" exactly that version
//   "!=24.11"         anything outside the series
//   ">=23.11"  "<26.05"  ">23.11"  "<=25.11"   ordered comparisons; a partial bound means the
//                      series: "<=25.11" includes 25.11.6, ">23.11" excludes 23.11.11
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sf {

class Version {
 public:
  Version() = default;
  // Throws std::invalid_argument on an empty or malformed version.
  static Version parse(std::string_view text);

  const std::string& str() const { return text_; }
  const std::vector<long>& components() const { return components_; }
  // True when this version lies in the series `prefix` ("24.11" is a prefix of "24.11.5").
  bool has_prefix(const Version& prefix) const;

  // Compares numerically, missing components count as 0, then the tail (no tail sorts after a
  // tail: 1.0 > 1.0rc1).
  friend int compare(const Version& a, const Version& b);
  friend bool operator==(const Version& a, const Version& b) { return compare(a, b) == 0; }
  friend bool operator<(const Version& a, const Version& b) { return compare(a, b) < 0; }

 private:
  std::string text_;
  std::vector<long> components_;
  std::string tail_;
};

class VersionRange {
 public:
  VersionRange() = default;  // matches everything
  // Throws std::invalid_argument naming the bad clause.
  static VersionRange parse(std::string_view text);

  bool contains(const Version& v) const;
  bool contains(std::string_view v) const { return contains(Version::parse(v)); }
  const std::string& str() const { return text_; }

 private:
  enum class Op { kAny, kSeries, kNotSeries, kLess, kLessEqual, kGreater, kGreaterEqual };
  struct Clause {
    Op op = Op::kAny;
    Version bound;
  };
  std::string text_ = "*";
  std::vector<Clause> clauses_;
};

// Resolves a requested Slurm version against the known ones: an exact version, or a series
// ("24.11") meaning its newest known patch release, or "latest". Throws UsageError listing the
// known versions when nothing matches.
std::string resolve_version(std::string_view requested, const std::vector<std::string>& known,
                            std::string_view what = "slurm");

}  // namespace sf
