// Starts a real s3rver (tests/support/start-s3rver.sh) for the life of the object, with the
// S3RVER/S3RVER credentials in the environment and one bucket created.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "aws_sigv4.hpp"
#include "slurm_factory/http_client.hpp"

namespace sf::test {

class S3rver {
 public:
  explicit S3rver(const std::string& bucket = "sf-cache") : bucket_(bucket) {
    const std::string cmd = std::string(SF_TEST_SOURCE_DIR) + "/tests/support/start-s3rver.sh";
    std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
    if (!p) throw std::runtime_error("cannot run " + cmd);
    char buf[512] = {0};
    if (!fgets(buf, sizeof buf, p.get())) throw std::runtime_error(cmd + " printed nothing");
    std::istringstream in(buf);
    in >> port_ >> pid_ >> data_;
    if (port_ <= 0 || pid_ <= 0) throw std::runtime_error(cmd + " failed: " + buf);
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    ::unsetenv("AWS_SESSION_TOKEN");
    http::HttpClient client;
    http::Request r;
    r.method = "PUT";
    r.url = endpoint() + "/" + bucket_;
    r.send_body = true;
    r.signer = s3::sigv4_signer({"us-east-1", "s3", "S3RVER", "S3RVER", ""});
    auto res = client.perform(r);
    if (!res || !res->ok()) throw std::runtime_error("cannot create bucket on s3rver");
  }
  ~S3rver() {
    ::kill(static_cast<pid_t>(pid_), SIGTERM);
    std::string rm = "rm -rf '" + data_ + "' '" + data_ + ".log'";
    [[maybe_unused]] int rc = std::system(rm.c_str());
  }
  S3rver(const S3rver&) = delete;
  S3rver& operator=(const S3rver&) = delete;

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }
  int port() const { return port_; }

 private:
  std::string bucket_;
  int port_ = 0;
  long pid_ = 0;
  std::string data_;
};

}  // namespace sf::test
