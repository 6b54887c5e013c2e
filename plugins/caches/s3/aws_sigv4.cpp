#include "aws_sigv4.hpp"

namespace sf::s3 {

Expected<http::RequestSignature> SigV4Signer::sign(const http::Request& /*request*/,
                                                   const std::string& payload_sha256) const {
  http::RequestSignature s;
  s.headers.emplace_back("x-amz-content-sha256", payload_sha256);
  if (!credentials_.session_token.empty())
    s.headers.emplace_back("x-amz-security-token", credentials_.session_token);
  s.curl_v4_scheme = "aws:amz:" + credentials_.region + ":" + credentials_.service;
  s.key_id = credentials_.access_key_id;
  s.secret = credentials_.secret_access_key;
  return s;
}

std::vector<std::string> SigV4Signer::secrets() const {
  return {credentials_.secret_access_key, credentials_.session_token};
}

std::shared_ptr<const http::RequestSigner> sigv4_signer(AwsSigV4 credentials) {
  return std::make_shared<SigV4Signer>(std::move(credentials));
}

}  // namespace sf::s3
