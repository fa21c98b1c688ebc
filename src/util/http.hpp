// HTTP lives behind this interface and HttpMulti (http_multi.hpp); libcurl appears only in
// util's http_curl*.cpp and curl_transfer.cpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "util/result.hpp"

namespace hypertest::util {

struct HttpRequest {
    std::string method = "GET";
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{0};  // 0: none (e.g. Runtime API long poll)
    // When set, the request body is streamed from this file instead of `body` (which must be
    // empty): body_file_length bytes from body_file_offset, or to the end when negative.
    std::filesystem::path body_file{};
    std::uint64_t body_file_offset = 0;
    std::int64_t body_file_length = -1;
    // When set, a 2xx response body is streamed into this file (created or truncated) instead
    // of HttpResponse::body; other statuses still fill body (error documents are small).
    std::filesystem::path response_file{};
    // The most bytes accepted in a 2xx response body; more fails the request (not retryable).
    // 0: k_max_memory_body for a body kept in memory, no limit for response_file. Other
    // statuses' bodies (redirects, errors) are always bounded by k_max_memory_body.
    std::int64_t max_response_bytes = 0;
};

// Bodies kept in memory are bounded: no answer hypertest reads whole is near this size.
inline constexpr std::int64_t k_max_memory_body = std::int64_t{256} << 20;

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // names lowercased
    std::string body;
    std::string header(const std::string& lower_name) const {
        auto it = headers.find(lower_name);
        return it == headers.end() ? std::string() : it->second;
    }
};

// Fails (retryable) on transport errors only; any HTTP status is a successful response. A POST
// is sent once: when its reused connection dies before the answer, that is a transport error.
class HttpClient {
public:
    virtual ~HttpClient() = default;
    virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
};

std::unique_ptr<HttpClient> make_curl_http_client();
// Every request goes over the Unix domain socket `path`, whatever the URL's host (the local
// function host's Runtime API is such a socket, bound into one sandbox only). Empty path: TCP.
std::unique_ptr<HttpClient> make_curl_unix_socket_client(const std::string& unix_socket);

}  // namespace hypertest::util
