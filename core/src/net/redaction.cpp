// What of a URL or a message may be shown in logs and Failures.
#include <algorithm>
#include <array>
#include <cctype>

#include "net/ascii.hpp"
#include "slurm_factory/http_client.hpp"

namespace sf::http {

std::string redact_url(const std::string& url) {
  std::string out = url;
  auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    auto host_start = scheme + 3;
    auto path_start = out.find_first_of("/?#", host_start);
    auto at = out.rfind('@', path_start == std::string::npos ? out.size() : path_start);
    if (at != std::string::npos && at >= host_start)
      out.replace(host_start, at - host_start, "***");
  }
  auto q = out.find('?');
  if (q == std::string::npos) return out;
  static const std::array<const char*, 10> kSecretParams = {"x-amz-signature",
                                                            "x-amz-credential",
                                                            "x-amz-security-token",
                                                            "signature",
                                                            "token",
                                                            "access_token",
                                                            "sig",
                                                            "password",
                                                            "awsaccesskeyid",
                                                            "secret"};
  std::string result = out.substr(0, q + 1);
  std::string query = out.substr(q + 1);
  std::string fragment;
  if (auto h = query.find('#'); h != std::string::npos) {
    fragment = query.substr(h);
    query.resize(h);
  }
  size_t pos = 0;
  bool first = true;
  while (pos <= query.size()) {
    auto amp = query.find('&', pos);
    std::string part = query.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    auto eq = part.find('=');
    std::string name = ascii_lower(part.substr(0, eq));
    if (eq != std::string::npos &&
        std::find(kSecretParams.begin(), kSecretParams.end(), name) != kSecretParams.end()) {
      part = part.substr(0, eq + 1) + "***";
    }
    if (!first) result += '&';
    result += part;
    first = false;
    if (amp == std::string::npos) break;
    pos = amp + 1;
  }
  return result + fragment;
}

std::string redact_text(std::string text, const std::vector<std::string>& secrets) {
  for (const auto& s : secrets) {
    if (s.empty()) continue;
    for (auto p = text.find(s); p != std::string::npos; p = text.find(s, p + 3)) {
      text.replace(p, s.size(), "***");
    }
  }
  // Every URL-looking token goes through redact_url.
  std::string out;
  size_t pos = 0;
  while (true) {
    auto sep = text.find("://", pos);
    if (sep == std::string::npos) break;
    size_t start = sep;
    while (start > pos &&
           (std::isalnum(static_cast<unsigned char>(text[start - 1])) || text[start - 1] == '+' ||
            text[start - 1] == '-' || text[start - 1] == '.'))
      --start;
    size_t end = text.find_first_of(" \t\r\n\"'<>", sep);
    if (end == std::string::npos) end = text.size();
    out += text.substr(pos, start - pos);
    out += redact_url(text.substr(start, end - start));
    pos = end;
  }
  out += text.substr(pos);
  return out;
}

}  // namespace sf::http
