// Internal to util's libcurl code (http_curl.cpp, http_curl_multi.cpp): one HttpRequest on one
// easy handle, set up the same way whether curl_easy_perform or a multi handle drives it.
#pragma once

#include <curl/curl.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "util/http.hpp"

namespace hypertest::util::curl_detail {

// curl_global_init, once per process.
void global_init();

// Where a response body goes: the string, or (for 2xx with response_file set) the file.
struct BodySink {
    CURL* curl = nullptr;
    std::string* body = nullptr;
    const std::filesystem::path* file_path = nullptr;
    std::FILE* file = nullptr;
    bool decided = false;
    std::string file_error;
    std::int64_t received = 0;
    std::int64_t limit = 0;  // HttpRequest::max_response_bytes
    std::string limit_error;

    // True when the body goes to the file (or writing it failed); decided at the first byte.
    bool to_file();
    bool success() const;  // the current response's status is 2xx
    BodySink() = default;
    BodySink(const BodySink&) = delete;
    BodySink& operator=(const BodySink&) = delete;
    ~BodySink();
};

// A request body read from a file region.
struct FileSource {
    std::FILE* file = nullptr;
    curl_off_t remaining = 0;
    FileSource() = default;
    FileSource(const FileSource&) = delete;
    FileSource& operator=(const FileSource&) = delete;
    ~FileSource();
};

// The state libcurl's callbacks write into while `request` is transferred on `easy`. Both must
// outlive the Transfer; the handle is reset by set_up() and belongs to it until finish().
//
// A POST is sent at most once: libcurl silently re-sends a request whose reused connection
// died before any answer came (even after the server read it all and worked on it for
// minutes), which for a Lambda Invoke would run the function twice. Such a POST fails instead
// with a retryable error and the caller decides. Other methods are idempotent and may be
// re-sent.
class Transfer {
  public:
    Transfer(CURL* easy, const HttpRequest& request);
    ~Transfer();
    Transfer(const Transfer&) = delete;
    Transfer& operator=(const Transfer&) = delete;

    // Resets the handle and configures it for the request; fails (not retryable) when the
    // body file cannot be read.
    Result<Ok> set_up();
    // The response once libcurl ended the transfer with `rc`; a transport error is retryable.
    Result<HttpResponse> finish(CURLcode rc);

  private:
    static int on_prerequest(void* user, char*, char*, int, int);

    CURL* m_easy;
    const HttpRequest& m_request;
    HttpResponse m_response;
    BodySink m_sink;
    FileSource m_source;
    curl_slist* m_headers = nullptr;
    int m_sends = 0;
    bool m_resend_refused = false;
};

}  // namespace hypertest::util::curl_detail
