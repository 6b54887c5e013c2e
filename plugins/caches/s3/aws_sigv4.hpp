// AWS Signature Version 4 for the s3 cache provider, through the core HTTP client's RequestSigner
// hook. libcurl computes the signature (the hook's curl_v4_scheme, "aws:amz:REGION:SERVICE", with
// the key id and the secret key as credentials); this signer adds what S3 wants beside it: the
// body's SHA-256 in x-amz-content-sha256 and, for temporary credentials, x-amz-security-token. The
// secret key and the session token are the signer's secrets: the client blanks them out of every
// log line and Failure about a signed request.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "slurm_factory/http_client.hpp"

namespace sf::s3 {

// Credentials and scope of the signature.
struct AwsSigV4 {
  std::string region = "us-east-1";
  std::string service = "s3";
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // sent as x-amz-security-token when not empty
};

class SigV4Signer final : public http::RequestSigner {
 public:
  explicit SigV4Signer(AwsSigV4 credentials) : credentials_(std::move(credentials)) {}
  Expected<http::RequestSignature> sign(const http::Request& request,
                                        const std::string& payload_sha256) const override;
  std::vector<std::string> secrets() const override;

 private:
  AwsSigV4 credentials_;
};

// A signer to put in http::Request::signer.
std::shared_ptr<const http::RequestSigner> sigv4_signer(AwsSigV4 credentials);

}  // namespace sf::s3
