#include "slurm_factory/http_client.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../support/test_http_server.hpp"
#include "aws_sigv4.hpp"
#include "slurm_factory/digest.hpp"

namespace fs = std::filesystem;

namespace sf::http {
namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() /
           ("sf-http-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
  static int& counter() {
    static int c = 0;
    return c;
  }
};

ClientOptions fast_options() {
  ClientOptions o;
  o.retry.max_attempts = 3;
  o.retry.initial_backoff = std::chrono::milliseconds(10);
  o.retry.max_backoff = std::chrono::milliseconds(50);
  o.timeouts.connect = std::chrono::milliseconds(2000);
  o.timeouts.low_speed_time = std::chrono::seconds(1);
  return o;
}

TEST(HttpClient, GetReturnsBodyAndHeaders) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {{"ETag", "\"abc\""}}, "hello", {}, false};
  });
  HttpClient client(fast_options());
  auto r = client.get(server.url("/x"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->header("ETag"), "\"abc\"");
}

TEST(HttpClient, RetriesServerErrorsThenSucceeds) {
  std::atomic<int> n{0};
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    int i = n++;
    if (i == 0) return test::HttpReply{500, {}, "boom", {}, false};
    if (i == 1) return test::HttpReply{503, {}, "busy", {}, false};
    return test::HttpReply{200, {}, "ok", {}, false};
  });
  HttpClient client(fast_options());
  auto r = client.get(server.url("/retry"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "ok");
  EXPECT_EQ(r->attempts, 3);
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClient, GivesUpAfterMaxAttemptsAndReportsStatus) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{429, {}, "slow down", {}, false};
  });
  HttpClient client(fast_options());
  auto r = client.get(server.url("/busy"));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("HTTP 429"), std::string::npos) << r.error().message;
  EXPECT_EQ(server.requests(), 3);
}

TEST(HttpClient, NotFoundIsNotRetried) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{404, {}, "", {}, false};
  });
  HttpClient client(fast_options());
  auto r = client.get(server.url("/missing"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Failure::Kind::kNotFound);
  EXPECT_EQ(server.requests(), 1);
}

TEST(HttpClient, HangIsATimeout) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, "late", std::chrono::milliseconds(5000), false};
  });
  auto o = fast_options();
  o.retry.max_attempts = 2;
  HttpClient client(o);
  auto start = std::chrono::steady_clock::now();
  auto r = client.get(server.url("/hang"));
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Failure::Kind::kTimeout) << r.error().message;
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(server.requests(), 2);
}

TEST(HttpClient, ConnectionRefusedIsAFailureNamingTheUrl) {
  int port;
  {
    test::TestHttpServer s([](const test::HttpRequestSeen&) { return test::HttpReply{}; });
    port = s.port();
  }
  auto o = fast_options();
  o.retry.max_attempts = 1;
  HttpClient client(o);
  auto r = client.get("http://127.0.0.1:" + std::to_string(port) + "/gone");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("/gone"), std::string::npos);
}

TEST(HttpClient, DownloadResumesWithRange) {
  const std::string content = "0123456789abcdefghij";
  test::TestHttpServer server([&](const test::HttpRequestSeen& req) {
    auto it = req.headers.find("range");
    if (it == req.headers.end()) return test::HttpReply{200, {}, content, {}, false};
    auto from = std::stoul(it->second.substr(6));
    return test::HttpReply{206,
                           {{"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                  std::to_string(content.size() - 1) + "/" +
                                                  std::to_string(content.size())}},
                           content.substr(from),
                           {},
                           false};
  });
  TempDir dir;
  auto file = dir.path / "part";
  std::ofstream(file, std::ios::binary) << content.substr(0, 7);
  HttpClient client(fast_options());
  auto r = client.get_to_file(server.url("/f"), file, true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 206);
  EXPECT_EQ(read_file(file), content);
  EXPECT_EQ(server.seen().at(0).headers.at("range"), "bytes=7-");
}

TEST(HttpClient, DownloadRewritesWhenServerIgnoresRange) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, "full body", {}, false};
  });
  TempDir dir;
  auto file = dir.path / "f";
  std::ofstream(file, std::ios::binary) << "stale-partial-data-longer";
  HttpClient client(fast_options());
  auto r = client.get_to_file(server.url("/f"), file, true);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(read_file(file), "full body");
}

TEST(HttpClient, ErrorBodyNeverLandsInTheDownloadFile) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{403, {}, "denied", {}, false};
  });
  TempDir dir;
  auto file = dir.path / "f";
  HttpClient client(fast_options());
  auto r = client.get_to_file(server.url("/f"), file, false);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, Failure::Kind::kUnauthorized);
  EXPECT_FALSE(fs::exists(file));
}

// A body read into memory (an S3 listing, an index.json) comes whole, far beyond 1 MiB.
TEST(HttpClient, BodyInMemoryIsNeverCutShort) {
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, big, {}, false};
  });
  HttpClient client(fast_options());
  auto r = client.get(server.url("/index.json"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body.size(), big.size());
  EXPECT_TRUE(r->body == big) << "the body differs from what the server sent";
}

// Past the cap the answer is an error that says the cap was hit, not a truncated body.
TEST(HttpClient, BodyInMemoryOverTheCapIsRefusedSayingSo) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, std::string(5000, 'x'), {}, false};
  });
  HttpClient client(fast_options());
  Request req;
  req.url = server.url("/list");
  BodyLimits limits;
  limits.max_body = 1000;
  auto r = client.perform(req, limits);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than 1000 bytes"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("cap"), std::string::npos) << r.error().message;
  EXPECT_EQ(server.requests(), 1);  // not retried
}

// A server that sends more than the declared size: an error, and nothing is kept.
TEST(HttpClient, DownloadLongerThanDeclaredIsRefusedAndNothingKept) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, std::string(200000, 'z'), {}, false};
  });
  TempDir dir;
  auto file = dir.path / "entry.tar.zst.part";
  HttpClient client(fast_options());
  auto r = client.get_to_file_at_most(server.url("/e"), file, 100, false);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("more than 100 bytes"), std::string::npos) << r.error().message;
  EXPECT_FALSE(fs::exists(file));
  EXPECT_EQ(server.requests(), 1);
  // The declared size itself is accepted.
  auto exact = client.get_to_file_at_most(server.url("/e"), file, 200000, false);
  ASSERT_TRUE(exact) << exact.error().message;
  EXPECT_EQ(fs::file_size(file), 200000U);
}

// A resumed download counts what the file already holds.
TEST(HttpClient, ResumedDownloadCountsThePartialFileAgainstTheCap) {
  const std::string content(64, 'r');
  test::TestHttpServer server([&](const test::HttpRequestSeen& req) {
    auto from = std::stoul(req.headers.at("range").substr(6));
    return test::HttpReply{206,
                           {{"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                  std::to_string(content.size() - 1) + "/" +
                                                  std::to_string(content.size())}},
                           content.substr(from),
                           {},
                           false};
  });
  TempDir dir;
  auto file = dir.path / "part";
  std::ofstream(file, std::ios::binary) << content.substr(0, 40);
  HttpClient client(fast_options());
  auto r = client.get_to_file_at_most(server.url("/f"), file, 50, true);
  ASSERT_FALSE(r);
  EXPECT_FALSE(fs::exists(file));
}

TEST(HttpClient, PutSendsFileSliceAndHeadWorks) {
  test::TestHttpServer server([](const test::HttpRequestSeen& req) {
    if (req.method == "HEAD")
      return test::HttpReply{200, {{"Content-Length", "42"}}, "", {}, false};
    return test::HttpReply{200, {}, "got:" + req.body, {}, false};
  });
  TempDir dir;
  auto file = dir.path / "up";
  std::ofstream(file, std::ios::binary) << "abcdefghij";
  HttpClient client(fast_options());
  Request put;
  put.method = "PUT";
  put.url = server.url("/obj");
  put.upload_file = file;
  put.upload_offset = 2;
  put.upload_length = 5;
  auto r = client.perform(put);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->body, "got:cdefg");
  auto h = client.head(server.url("/obj"));
  ASSERT_TRUE(h) << h.error().message;
  EXPECT_EQ(h->header("content-length"), "42");
}

TEST(HttpClient, ConditionalRequestAnswers304) {
  test::TestHttpServer server([](const test::HttpRequestSeen& req) {
    auto it = req.headers.find("if-none-match");
    if (it != req.headers.end() && it->second == "\"v1\"")
      return test::HttpReply{304, {}, "", {}, false};
    return test::HttpReply{200, {{"ETag", "\"v1\""}}, "body", {}, false};
  });
  HttpClient client(fast_options());
  Request r;
  r.url = server.url("/c");
  r.if_none_match = "\"v1\"";
  auto res = client.perform(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(res->status, 304);
}

TEST(HttpClient, SigV4SignsAndSendsPayloadHash) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, "", {}, false};
  });
  HttpClient client(fast_options());
  Request r;
  r.method = "PUT";
  r.url = server.url("/bucket/key");
  r.body = "payload";
  r.signer =
      s3::sigv4_signer({"eu-west-1", "s3", "AKIDEXAMPLE", "SECRETEXAMPLEKEY", "SESSIONTOKEN"});
  auto res = client.perform(r);
  ASSERT_TRUE(res) << res.error().message;
  auto seen = server.seen().at(0);
  EXPECT_EQ(seen.headers.at("x-amz-content-sha256"), sha256_hex("payload"));
  EXPECT_EQ(seen.headers.at("x-amz-security-token"), "SESSIONTOKEN");
  const auto& auth = seen.headers.at("authorization");
  EXPECT_NE(auth.find("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), std::string::npos) << auth;
  EXPECT_NE(auth.find("/eu-west-1/s3/aws4_request"), std::string::npos) << auth;
  EXPECT_EQ(auth.find("SECRETEXAMPLEKEY"), std::string::npos);
}

// The signing hook itself, with no provider: headers added, secrets redacted, a Failure ends it.
class TestSigner final : public RequestSigner {
 public:
  explicit TestSigner(bool fail) : fail_(fail) {}
  Expected<RequestSignature> sign(const Request& request,
                                  const std::string& payload_sha256) const override {
    if (fail_) return Failure::error("no key for " + request.method + " (TOPSECRET)");
    RequestSignature s;
    s.headers.emplace_back("x-test-signature", "TOPSECRET-" + payload_sha256);
    return s;
  }
  std::vector<std::string> secrets() const override { return {"TOPSECRET"}; }

 private:
  bool fail_;
};

TEST(HttpClient, SignerAddsHeadersAndItsSecretsAreRedacted) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{403, {}, "denied TOPSECRET", {}, false};
  });
  HttpClient client(fast_options());
  Request r;
  r.method = "PUT";
  r.url = server.url("/k");
  r.body = "payload";
  r.signer = std::make_shared<TestSigner>(false);
  auto res = client.perform(r);
  ASSERT_TRUE(res) << res.error().message;
  EXPECT_EQ(server.seen().at(0).headers.at("x-test-signature"),
            "TOPSECRET-" + sha256_hex("payload"));
  EXPECT_EQ(server.seen().at(0).headers.count("authorization"), 0U);
  auto f = status_failure(r, *res);
  EXPECT_EQ(f.message.find("TOPSECRET"), std::string::npos) << f.message;

  r.signer = std::make_shared<TestSigner>(true);
  auto refused = client.perform(r);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("no key for PUT"), std::string::npos);
  EXPECT_EQ(refused.error().message.find("TOPSECRET"), std::string::npos);
  EXPECT_EQ(server.seen().size(), 1U);
}

TEST(HttpClient, FailuresNeverShowSecrets) {
  test::TestHttpServer server([](const test::HttpRequestSeen&) {
    return test::HttpReply{400, {}, "bad request for key SECRETEXAMPLEKEY", {}, false};
  });
  HttpClient client(fast_options());
  Request r;
  r.url = "http://user:hunter2@127.0.0.1:" + std::to_string(server.port()) +
          "/o?X-Amz-Signature=deadbeef&x=1";
  r.signer = s3::sigv4_signer({"us-east-1", "s3", "AKID", "SECRETEXAMPLEKEY", ""});
  auto res = client.perform(r);
  ASSERT_TRUE(res);
  auto f = status_failure(r, *res);
  EXPECT_EQ(f.message.find("hunter2"), std::string::npos) << f.message;
  EXPECT_EQ(f.message.find("deadbeef"), std::string::npos) << f.message;
  EXPECT_EQ(f.message.find("SECRETEXAMPLEKEY"), std::string::npos) << f.message;
  EXPECT_NE(f.message.find("HTTP 400"), std::string::npos);
}

TEST(HttpClient, ProgressIsReported) {
  const std::string big(1 << 20, 'x');
  test::TestHttpServer server([&](const test::HttpRequestSeen&) {
    return test::HttpReply{200, {}, big, {}, false};
  });
  TempDir dir;
  auto o = fast_options();
  std::uint64_t last = 0;
  o.progress = [&](std::uint64_t done, std::uint64_t) { last = std::max(last, done); };
  HttpClient client(o);
  auto r = client.get_to_file(server.url("/big"), dir.path / "big", false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(last, big.size());
  EXPECT_EQ(fs::file_size(dir.path / "big"), big.size());
}

TEST(Redaction, UrlsLoseUserInfoAndSignatures) {
  EXPECT_EQ(redact_url("https://u:p@host/x?X-Amz-Signature=abc&prefix=a"),
            "https://***@host/x?X-Amz-Signature=***&prefix=a");
  EXPECT_EQ(redact_url("http://host/plain"), "http://host/plain");
  EXPECT_EQ(redact_text("see https://a:b@h/p and token s3cr3t", {"s3cr3t"}),
            "see https://***@h/p and token ***");
}

TEST(UriEncode, FollowsAwsRules) {
  EXPECT_EQ(uri_encode("a b/c~d+e"), "a%20b%2Fc~d%2Be");
  EXPECT_EQ(uri_encode("a b/c", true), "a%20b/c");
}

}  // namespace
}  // namespace sf::http
