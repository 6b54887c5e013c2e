#include "apt_index.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <set>
#include <sstream>

namespace sf::deb {

namespace {

constexpr std::size_t kMaxStanzas = 100000;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool field_name(const std::string& s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
  });
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  if (a == std::string::npos) return "";
  const auto b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

bool hex(const std::string& s, std::size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isdigit(static_cast<unsigned char>(c)) || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

std::string Stanza::get(const std::string& name) const {
  const std::string l = lower(name);
  for (const auto& [k, v] : fields) {
    if (lower(k) == l) return v;
  }
  return "";
}

void Stanza::set(const std::string& name, const std::string& value) {
  const std::string l = lower(name);
  for (auto& [k, v] : fields) {
    if (lower(k) == l) {
      v = value;
      return;
    }
  }
  fields.emplace_back(name, value);
}

std::optional<std::vector<Stanza>> parse_stanzas(const std::string& text) {
  if (text.find('\0') != std::string::npos) return std::nullopt;
  std::vector<Stanza> out;
  Stanza current;
  std::istringstream in(text);
  std::string line;
  auto flush = [&]() -> bool {
    if (!current.fields.empty()) {
      if (out.size() >= kMaxStanzas) return false;
      out.push_back(std::move(current));
      current = Stanza{};
    }
    return true;
  };
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (trim(line).empty()) {
      if (!flush()) return std::nullopt;
      continue;
    }
    if (line.front() == '#') continue;
    if (line.front() == ' ' || line.front() == '\t') {
      if (current.fields.empty()) return std::nullopt;
      current.fields.back().second += "\n" + line;
      continue;
    }
    const auto colon = line.find(':');
    if (colon == std::string::npos || !field_name(line.substr(0, colon))) return std::nullopt;
    current.fields.emplace_back(line.substr(0, colon), trim(line.substr(colon + 1)));
  }
  if (!flush()) return std::nullopt;
  return out;
}

std::string format_stanzas(const std::vector<Stanza>& stanzas) {
  std::string out;
  for (const auto& s : stanzas) {
    if (!out.empty()) out += "\n";
    for (const auto& [k, v] : s.fields) out += k + ": " + v + "\n";
  }
  return out;
}

std::optional<Stanza> package_stanza(const std::string& control, const std::string& filename,
                                     std::uint64_t size, const std::string& md5,
                                     const std::string& sha256) {
  auto parsed = parse_stanzas(control);
  if (!parsed || parsed->size() != 1) return std::nullopt;
  Stanza s = parsed->front();
  if (s.get("Package").empty() || s.get("Version").empty() || s.get("Architecture").empty()) {
    return std::nullopt;
  }
  s.set("Filename", filename);
  s.set("Size", std::to_string(size));
  s.set("MD5sum", md5);
  s.set("SHA256", sha256);
  return s;
}

std::vector<Stanza> merge_packages(const std::vector<Stanza>& existing,
                                   const std::vector<Stanza>& added) {
  auto id = [](const Stanza& s) {
    return s.get("Package") + "\n" + s.get("Version") + "\n" + s.get("Architecture");
  };
  std::set<std::string> replaced;
  for (const auto& s : added) replaced.insert(id(s));
  std::vector<Stanza> out;
  for (const auto& s : existing) {
    if (replaced.count(id(s)) == 0) out.push_back(s);
  }
  out.insert(out.end(), added.begin(), added.end());
  std::stable_sort(out.begin(), out.end(),
                   [&id](const Stanza& a, const Stanza& b) { return id(a) < id(b); });
  return out;
}

std::string pool_key(const std::string& package, const std::string& file) {
  const std::string letter = package.rfind("lib", 0) == 0 && package.size() > 3
                                 ? package.substr(0, 4)
                                 : package.substr(0, 1);
  return "pool/main/" + letter + "/" + package + "/" + file;
}

std::optional<ReleaseInfo> parse_release(const std::string& text) {
  auto stanzas = parse_stanzas(text);
  if (!stanzas || stanzas->size() != 1) return std::nullopt;
  const Stanza& s = stanzas->front();
  ReleaseInfo info;
  info.codename = s.get("Codename");
  if (info.codename.empty()) return std::nullopt;
  std::istringstream arches(s.get("Architectures"));
  for (std::string a; arches >> a;) info.architectures.push_back(a);
  for (const char* section : {"MD5Sum", "SHA256"}) {
    std::istringstream lines(s.get(section));
    std::string line;
    while (std::getline(lines, line)) {
      if (trim(line).empty()) continue;
      std::istringstream words(line);
      std::string digest, size, path, extra;
      if (!(words >> digest >> size >> path) || (words >> extra) ||
          !std::all_of(size.begin(), size.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          size.size() > 15 || path.find("..") != std::string::npos || path.front() == '/') {
        return std::nullopt;
      }
      IndexEntry& e = info.files[path];
      e.size = std::stoull(size);
      if (std::string(section) == "SHA256") {
        if (!hex(digest, 64)) return std::nullopt;
        e.sha256 = digest;
      } else {
        if (!hex(digest, 32)) return std::nullopt;
        e.md5 = digest;
      }
    }
  }
  return info;
}

std::string release_text(const ReleaseInfo& info, std::int64_t date) {
  const std::time_t t = static_cast<std::time_t>(date);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[64];
  std::strftime(when, sizeof when, "%a, %d %b %Y %H:%M:%S UTC", &tm);
  std::vector<std::string> arches = info.architectures;
  std::sort(arches.begin(), arches.end());
  arches.erase(std::unique(arches.begin(), arches.end()), arches.end());
  std::string a;
  for (const auto& x : arches) a += (a.empty() ? "" : " ") + x;
  std::string out = "Origin: slurm-factory\nLabel: slurm-factory\nSuite: " + info.codename +
                    "\nCodename: " + info.codename + "\nDate: " + when + "\nArchitectures: " + a +
                    "\nComponents: main\nDescription: Slurm packages built by slurm-factory\n";
  out += "MD5Sum:\n";
  for (const auto& [path, e] : info.files) {
    if (!e.md5.empty()) out += " " + e.md5 + " " + std::to_string(e.size) + " " + path + "\n";
  }
  out += "SHA256:\n";
  for (const auto& [path, e] : info.files) {
    out += " " + e.sha256 + " " + std::to_string(e.size) + " " + path + "\n";
  }
  return out;
}

}  // namespace sf::deb
