// One attempt of an HTTP request over libcurl: the handle's options, the request body (a file
// slice or memory), the response (status, headers, a body in memory or written to a file, resumed
// with a Range request) and the caps on its size. Retries, backoff and redaction are the client's
// (http_client.cpp).
#pragma once

#include <curl/curl.h>

#include <string>

#include "slurm_factory/http_client.hpp"

namespace sf::http {

// Runs `request` once on `curl` (a fresh or reset handle) and fills `response`. `resume`: continue
// request.download_file with a Range request. Returns libcurl's code; on an error error_text says
// why (not redacted yet), and over_limit is set when the body went past a cap of `limits`.
CURLcode perform_attempt(CURL* curl, const ClientOptions& options, const Request& request,
                         const BodyLimits& limits, Response& response, bool resume,
                         std::string& error_text, bool& over_limit);

// Transport errors worth another attempt: timeouts, refused or dropped connections.
bool retryable_code(CURLcode code);

}  // namespace sf::http
