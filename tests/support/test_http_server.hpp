// A tiny scriptable HTTP/1.1 server on 127.0.0.1 for tests: each request is handed to a function
// that answers with a status, headers and a body, or hangs (to provoke timeouts). One connection
// per request (Connection: close). Header-only; used by unit and integration tests.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace sf::test {

struct HttpRequestSeen {
  std::string method;
  std::string target;                          // path + query
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct HttpReply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds hang{0};  // sleep before answering (a hang)
  bool close_without_answer = false;
};

class TestHttpServer {
 public:
  using Handler = std::function<HttpReply(const HttpRequestSeen&)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~TestHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    std::lock_guard lock(mu_);
    for (auto& t : workers_) t.join();
  }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  int requests() const { return count_.load(); }
  std::vector<HttpRequestSeen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }

 private:
  void loop() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      std::lock_guard lock(mu_);
      workers_.emplace_back([this, c] { serve(c); });
    }
  }

  static bool read_more(int c, std::string& buf) {
    char tmp[65536];
    auto n = ::recv(c, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf.append(tmp, static_cast<size_t>(n));
    return true;
  }

  void serve(int c) {
    std::string buf;
    size_t end;
    while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
      if (!read_more(c, buf)) {
        ::close(c);
        return;
      }
    }
    HttpRequestSeen req;
    std::string head = buf.substr(0, end);
    buf.erase(0, end + 4);
    auto line_end = head.find("\r\n");
    std::string first = head.substr(0, line_end);
    auto sp1 = first.find(' ');
    auto sp2 = first.find(' ', sp1 + 1);
    req.method = first.substr(0, sp1);
    req.target = first.substr(sp1 + 1, sp2 - sp1 - 1);
    size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
    while (pos < head.size()) {
      auto e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string h = head.substr(pos, e - pos);
      auto colon = h.find(':');
      if (colon != std::string::npos) {
        std::string name = h.substr(0, colon);
        for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        auto v = h.substr(colon + 1);
        v.erase(0, v.find_first_not_of(' '));
        req.headers[name] = v;
      }
      pos = e + 2;
    }
    if (req.headers.count("expect")) {
      std::string cont = "HTTP/1.1 100 Continue\r\n\r\n";
      ::send(c, cont.data(), cont.size(), MSG_NOSIGNAL);
    }
    size_t want =
        req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
    while (buf.size() < want) {
      if (!read_more(c, buf)) break;
    }
    req.body = buf.substr(0, want);
    ++count_;
    {
      std::lock_guard lock(mu_);
      seen_.push_back(req);
    }
    HttpReply reply = handler_(req);
    if (reply.hang.count() > 0) {
      auto until = std::chrono::steady_clock::now() + reply.hang;
      while (!stop_ && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!reply.close_without_answer && !stop_) {
      std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
      bool has_len = false;
      for (auto& [k, v] : reply.headers) {
        out += k + ": " + v + "\r\n";
        if (k == "Content-Length") has_len = true;
      }
      if (!has_len) out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
      out += "Connection: close\r\n\r\n";
      if (req.method != "HEAD") out += reply.body;
      size_t sent = 0;
      while (sent < out.size()) {
        auto n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
        if (n <= 0) break;
        sent += static_cast<size_t>(n);
      }
    }
    ::shutdown(c, SHUT_RDWR);
    ::close(c);
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> count_{0};
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<HttpRequestSeen> seen_;
};

}  // namespace sf::test
