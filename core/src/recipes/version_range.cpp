#include "recipes/version_range.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "slurm_factory/errors.hpp"
#include "support/strings.hpp"

namespace sf {

Version Version::parse(std::string_view text) {
  text = trim(text);
  Version v;
  v.text_ = std::string(text);
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text.front())) == 0) {
    throw std::invalid_argument("'" + v.text_ + "' is not a version (expected e.g. 24.11.5)");
  }
  size_t i = 0;
  while (i < text.size()) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) break;
    long n = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) != 0) {
      n = n * 10 + (text[i] - '0');
      if (n > 1000000000L) throw std::invalid_argument("'" + v.text_ + "': component too large");
      ++i;
    }
    v.components_.push_back(n);
    if (i < text.size() && text[i] == '.' && i + 1 < text.size() &&
        std::isdigit(static_cast<unsigned char>(text[i + 1])) != 0) {
      ++i;
      continue;
    }
    break;
  }
  v.tail_ = std::string(text.substr(i));
  if (!v.tail_.empty() && (v.tail_.front() == '.' || v.tail_.back() == '.')) {
    throw std::invalid_argument("'" + v.text_ + "' is not a version (stray '.')");
  }
  for (char c : v.tail_) {
    if (std::isspace(static_cast<unsigned char>(c)) != 0 || c == ',') {
      throw std::invalid_argument("'" + v.text_ + "' is not a version");
    }
  }
  return v;
}

bool Version::has_prefix(const Version& prefix) const {
  if (prefix.components_.size() > components_.size()) return false;
  if (!std::equal(prefix.components_.begin(), prefix.components_.end(), components_.begin())) {
    return false;
  }
  return prefix.tail_.empty() ||
         (prefix.components_.size() == components_.size() && prefix.tail_ == tail_);
}

int compare(const Version& a, const Version& b) {
  size_t n = std::max(a.components_.size(), b.components_.size());
  for (size_t i = 0; i < n; ++i) {
    long x = i < a.components_.size() ? a.components_[i] : 0;
    long y = i < b.components_.size() ? b.components_[i] : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.tail_ == b.tail_) return 0;
  if (a.tail_.empty()) return 1;
  if (b.tail_.empty()) return -1;
  return a.tail_ < b.tail_ ? -1 : 1;
}

VersionRange VersionRange::parse(std::string_view text) {
  VersionRange r;
  r.text_ = std::string(trim(text));
  if (r.text_.empty()) throw std::invalid_argument("empty version range (use \"*\" for any)");
  std::string_view rest = r.text_;
  while (true) {
    size_t comma = rest.find(',');
    std::string_view clause = trim(rest.substr(0, comma));
    if (clause.empty()) throw std::invalid_argument("empty clause in range '" + r.text_ + "'");
    Clause c;
    if (clause == "*") {
      c.op = Op::kAny;
    } else {
      std::string_view bound = clause;
      if (clause.starts_with(">=")) {
        c.op = Op::kGreaterEqual, bound = clause.substr(2);
      } else if (clause.starts_with("<=")) {
        c.op = Op::kLessEqual, bound = clause.substr(2);
      } else if (clause.starts_with("==")) {
        c.op = Op::kSeries, bound = clause.substr(2);
      } else if (clause.starts_with("!=")) {
        c.op = Op::kNotSeries, bound = clause.substr(2);
      } else if (clause.starts_with('>')) {
        c.op = Op::kGreater, bound = clause.substr(1);
      } else if (clause.starts_with('<')) {
        c.op = Op::kLess, bound = clause.substr(1);
      } else if (clause.starts_with('=')) {
        c.op = Op::kSeries, bound = clause.substr(1);
      } else {
        c.op = Op::kSeries;
      }
      try {
        c.bound = Version::parse(bound);
      } catch (const std::invalid_argument& e) {
        throw std::invalid_argument("bad clause '" + std::string(clause) + "' in range '" +
                                    r.text_ + "': " + e.what());
      }
    }
    r.clauses_.push_back(std::move(c));
    if (comma == std::string_view::npos) break;
    rest = rest.substr(comma + 1);
  }
  return r;
}

bool VersionRange::contains(const Version& v) const {
  for (const auto& c : clauses_) {
    bool in_series = c.op == Op::kAny || v.has_prefix(c.bound);
    int cmp = c.op == Op::kAny ? 0 : compare(v, c.bound);
    bool ok = true;
    switch (c.op) {
      case Op::kAny:
        ok = true;
        break;
      case Op::kSeries:
        ok = in_series;
        break;
      case Op::kNotSeries:
        ok = !in_series;
        break;
      case Op::kLess:
        ok = cmp < 0 && !in_series;
        break;
      case Op::kLessEqual:
        ok = cmp <= 0 || in_series;
        break;
      case Op::kGreater:
        ok = cmp > 0 && !in_series;
        break;
      case Op::kGreaterEqual:
        ok = cmp >= 0 || in_series;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

std::string resolve_version(std::string_view requested, const std::vector<std::string>& known,
                            std::string_view what) {
  std::vector<Version> versions;
  for (const auto& k : known) versions.push_back(Version::parse(k));
  std::sort(versions.begin(), versions.end());
  std::string known_list;
  for (const auto& v : versions) known_list += (known_list.empty() ? "" : ", ") + v.str();
  std::string req(trim(requested));
  auto fail = [&](const std::string& why) -> std::string {
    throw UsageError(std::string(what) + " version '" + req + "' " + why,
                     {{"requested", req}, {"known versions", known_list}},
                     "use one of the known versions, or a series such as '24.11' for its newest "
                     "patch release; a new patch release is added to the `versions:` list of "
                     "the " +
                         std::string(what) + " recipe (docs/patch-releases.md)");
  };
  if (versions.empty()) return fail("cannot be resolved: no versions are known");
  if (req == "latest") return versions.back().str();
  Version want;
  try {
    want = Version::parse(req);
  } catch (const std::invalid_argument& e) {
    return fail(std::string("is not a version: ") + e.what());
  }
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (it->str() == req) return it->str();
  }
  for (auto it = versions.rbegin(); it != versions.rend(); ++it) {
    if (it->has_prefix(want)) return it->str();
  }
  return fail("is not known");
}

}  // namespace sf
