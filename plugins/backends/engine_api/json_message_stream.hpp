// The engine's stream of JSON progress messages (pull, import, build), one per line, split across
// chunk boundaries: each message shown through the progress sink, the error and the image ID it
// reports kept, and the last lines kept for error messages.
#pragma once

#include <deque>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine_api/engine_api_client.hpp"
#include "slurm_factory/container_backend.hpp"

namespace sf {

// Splits the engine's stream of JSON messages (one per line) across chunk boundaries and keeps
// the last lines for error messages.
class JsonMessageStream {
 public:
  explicit JsonMessageStream(ProgressSink progress) : progress_(std::move(progress)) {}

  void feed(std::string_view chunk) {
    buffer_.append(chunk);
    std::size_t pos = 0;
    while (true) {
      const auto nl = buffer_.find('\n', pos);
      if (nl == std::string::npos) break;
      handle(std::string_view(buffer_).substr(pos, nl - pos));
      pos = nl + 1;
    }
    buffer_.erase(0, pos);
  }
  void finish() {
    if (!buffer_.empty()) handle(buffer_);
    buffer_.clear();
  }

  // Sends `req` with the engine's answer fed to this stream as it arrives, then finishes it.
  EngineResponse request(EngineApiClient& client, EngineRequest& req) {
    req.on_data = [this](std::string_view d) { feed(d); };
    auto resp = client.request(req);
    finish();
    return resp;
  }

  const std::string& error() const { return error_; }
  const std::string& aux_id() const { return aux_id_; }
  const std::string& last_status() const { return last_status_; }
  std::string tail() const {
    std::string out;
    for (const auto& l : tail_) out += l + "\n";
    return out;
  }

 private:
  void emit(std::string line) {
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    if (line.empty()) return;
    if (progress_) progress_(line);
    tail_.push_back(line);
    if (tail_.size() > 20) tail_.pop_front();
  }

  void handle(std::string_view raw) {
    while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' ')) raw.remove_suffix(1);
    if (raw.empty()) return;
    auto j = nlohmann::json::parse(raw, nullptr, false);
    if (!j.is_object()) {
      emit(std::string(raw));
      return;
    }
    if (j.contains("error") && j["error"].is_string()) {
      error_ = j["error"].get<std::string>();
      emit("error: " + error_);
      return;
    }
    if (j.contains("errorDetail") && j["errorDetail"].is_object()) {
      error_ = j["errorDetail"].value("message", "unknown error");
      emit("error: " + error_);
      return;
    }
    if (j.contains("aux") && j["aux"].is_object() && j["aux"].contains("ID")) {
      aux_id_ = j["aux"]["ID"].get<std::string>();
      return;
    }
    if (j.contains("stream") && j["stream"].is_string()) {
      // A build step's output may hold several lines.
      std::string s = j["stream"].get<std::string>();
      std::size_t pos = 0;
      while (pos < s.size()) {
        auto nl = s.find('\n', pos);
        if (nl == std::string::npos) nl = s.size();
        emit(s.substr(pos, nl - pos));
        pos = nl + 1;
      }
      return;
    }
    if (j.contains("status") && j["status"].is_string()) {
      last_status_ = j["status"].get<std::string>();
      std::string line = last_status_;
      if (j.contains("id") && j["id"].is_string()) line = j["id"].get<std::string>() + ": " + line;
      if (j.contains("progress") && j["progress"].is_string()) {
        line += " " + j["progress"].get<std::string>();
      }
      emit(line);
      return;
    }
    if (j.contains("id") && j["id"].is_string()) last_status_ = j["id"].get<std::string>();
  }

  ProgressSink progress_;
  std::string buffer_;
  std::string error_;
  std::string aux_id_;
  std::string last_status_;
  std::deque<std::string> tail_;
};

}  // namespace sf
