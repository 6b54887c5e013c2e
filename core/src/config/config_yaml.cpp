#include "config/config_yaml.hpp"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <sstream>
#include <unordered_map>

#include "slurm_factory/errors.hpp"

namespace sf::config {

LayerSource LayerSource::from_file(std::string path) {
  LayerSource s;
  s.file = std::move(path);
  return s;
}

LayerSource LayerSource::fixed(std::string label, std::string file, bool has_marks) {
  LayerSource s;
  s.label = std::move(label);
  s.file = std::move(file);
  s.has_marks = has_marks;
  return s;
}

std::string LayerSource::where(const YAML::Mark& mark) const {
  if (!has_marks) return file.empty() ? label : file;
  return location(file, mark);
}

std::string LayerSource::origin(const YAML::Node& node) const {
  if (!label.empty()) return label + suffix;
  return location(file, node.Mark()) + suffix;
}

std::string location(const std::string& file, const YAML::Mark& mark) {
  if (mark.is_null()) return file;
  return file + ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
}

namespace {

// Counts the nodes of a YAML text as a walk of the loaded tree would meet them: an alias counts
// the whole subtree of its anchor. Stops (throws) as soon as the count passes the budget.
class ExpansionCounter : public YAML::EventHandler {
 public:
  ExpansionCounter(std::size_t budget, const std::function<std::string(const YAML::Mark&)>& where)
      : budget_(budget), where_(where) {}

  void OnDocumentStart(const YAML::Mark& /*mark*/) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { leaf(mark, anchor); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const auto it = sizes_.find(anchor);
    add(it == sizes_.end() ? 1 : it->second, mark, true);
  }
  void OnScalar(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                const std::string& /*value*/) override {
    leaf(mark, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value /*style*/) override {
    open(mark, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string& /*tag*/, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value /*style*/) override {
    open(mark, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    std::size_t size = 1;  // the collection itself
    YAML::anchor_t anchor = 0;
  };

  void leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != 0) sizes_[anchor] = 1;
    add(1, mark, false);
  }
  void open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    check(1, mark, false);
    stack_.push_back(Frame{1, anchor});
  }
  void close() {
    if (stack_.empty()) return;
    const Frame f = stack_.back();
    stack_.pop_back();
    if (f.anchor != 0) sizes_[f.anchor] = f.size;
    if (!stack_.empty()) stack_.back().size = saturating_add(stack_.back().size, f.size);
  }
  void add(std::size_t n, const YAML::Mark& mark, bool alias) {
    check(n, mark, alias);
    if (!stack_.empty()) stack_.back().size = saturating_add(stack_.back().size, n);
  }
  void check(std::size_t n, const YAML::Mark& mark, bool alias) {
    total_ = saturating_add(total_, n);
    if (total_ > budget_) {
      throw ConfigurationError(
          where_(mark) + ": the YAML document grows past " + std::to_string(budget_) + " nodes" +
              (alias ? " when its aliases are expanded (this alias adds " + std::to_string(n) + ")"
                     : ""),
          {{"file", where_(mark)},
           {"location", where_(mark)},
           {"limit", std::to_string(budget_) + " nodes"}},
          "remove the nested aliases (&anchor / *alias): a config, recipe or releases file needs "
          "only a few thousand nodes");
    }
  }
  static std::size_t saturating_add(std::size_t a, std::size_t b) {
    return a > static_cast<std::size_t>(-1) - b ? static_cast<std::size_t>(-1) : a + b;
  }

  std::size_t budget_;
  const std::function<std::string(const YAML::Mark&)>& where_;
  std::size_t total_ = 0;
  std::vector<Frame> stack_;
  std::unordered_map<YAML::anchor_t, std::size_t> sizes_;
};

}  // namespace

YAML::Node load_bounded(std::string_view text,
                        const std::function<std::string(const YAML::Mark&)>& where,
                        std::size_t max_bytes, std::size_t max_nodes) {
  if (text.size() > max_bytes) {
    const std::string at = where(YAML::Mark::null_mark());
    throw ConfigurationError(
        at + ": the YAML text is " + std::to_string(text.size()) +
            " bytes, more than the limit of " + std::to_string(max_bytes),
        {{"file", at}, {"location", at}, {"limit", std::to_string(max_bytes) + " bytes"}},
        "split it, or check that the right file is named (a config, recipe "
        "or releases file is a few KiB)");
  }
  const std::string copy(text);
  {
    std::istringstream in(copy);
    YAML::Parser parser(in);
    ExpansionCounter counter(max_nodes, where);
    while (parser.HandleNextDocument(counter)) {
    }
  }
  return YAML::Load(copy);
}

YAML::Node load_bounded(std::string_view text, const std::string& file) {
  return load_bounded(text, [&file](const YAML::Mark& m) { return location(file, m); });
}

std::string join_key(const std::string& path, std::string_view key) {
  if (path.empty()) return std::string(key);
  return path + "." + std::string(key);
}

std::string join_index(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

nlohmann::json plain_scalar_to_json(const std::string& v) {
  if (v.empty() || v == "~" || v == "null" || v == "Null" || v == "NULL") return nullptr;
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  {
    long long i = 0;
    const char* end = v.data() + v.size();
    auto [p, ec] = std::from_chars(v.data(), end, i);
    if (ec == std::errc() && p == end) return i;
  }
  {
    char* endp = nullptr;
    const double d = std::strtod(v.c_str(), &endp);
    if (endp == v.c_str() + v.size() && !std::isalpha(static_cast<unsigned char>(v[0]))) return d;
  }
  return v;
}

// Optimal string alignment distance: insertions, deletions, substitutions and adjacent
// transpositions ("tyep" -> "type") each count one.
std::size_t edit_distance(const std::string& a, const std::string& b) {
  const std::size_t n = a.size();
  const std::size_t m = b.size();
  std::vector<std::vector<std::size_t>> d(n + 1, std::vector<std::size_t>(m + 1));
  for (std::size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= n; ++i) {
    for (std::size_t j = 1; j <= m; ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[n][m];
}

}  // namespace

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") return node.Scalar();  // quoted: always a string
      return plain_scalar_to_json(node.Scalar());
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(yaml_to_json(item));
      return out;
    }
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.Scalar()] = yaml_to_json(kv.second);
      return out;
    }
  }
  return nullptr;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 0;
  const std::string w = lower(word);
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(w, lower(c));
    if (best.empty() || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  if (best.empty() || best_distance > limit) return {};
  return best;
}

bool is_secret_key(std::string_view key) {
  const std::string k = lower(key);
  auto ends_with = [&](std::string_view suffix) {
    return k.size() >= suffix.size() &&
           k.compare(k.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with("_env") || ends_with("_file")) return false;
  for (const char* word : {"password", "passwd", "passphrase", "secret", "token", "private_key",
                           "privatekey", "access_key", "credential", "api_key", "apikey"}) {
    if (k.find(word) != std::string::npos) return true;
  }
  return false;
}

namespace {
// [scheme://][user[:password]@]host...: the user-info span, or npos.
std::pair<std::size_t, std::size_t> userinfo_span(std::string_view url) {
  const auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {std::string_view::npos, 0};
  const std::size_t start = scheme + 3;
  const auto authority_end = url.find_first_of("/?#", start);
  const std::string_view authority =
      url.substr(start, authority_end == std::string_view::npos ? std::string_view::npos
                                                                : authority_end - start);
  const auto at = authority.rfind('@');
  if (at == std::string_view::npos) return {std::string_view::npos, 0};
  return {start, at};
}
}  // namespace

bool url_has_password(std::string_view url) {
  const auto [start, len] = userinfo_span(url);
  if (start == std::string_view::npos) return false;
  return url.substr(start, len).find(':') != std::string_view::npos;
}

std::string redact_url(const std::string& url) {
  const auto [start, len] = userinfo_span(url);
  if (start == std::string::npos) return url;
  const std::string userinfo = url.substr(start, len);
  const auto colon = userinfo.find(':');
  if (colon == std::string::npos) return url;
  return url.substr(0, start) + userinfo.substr(0, colon) + ":***" + url.substr(start + len);
}

bool looks_like_private_key(std::string_view text) {
  return text.find("-----BEGIN") != std::string_view::npos &&
         text.find("PRIVATE KEY") != std::string_view::npos;
}

}  // namespace sf::config
