// Many HTTP requests in flight from one thread: start() them, poll() for the finished ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "util/http.hpp"
#include "util/result.hpp"

namespace hypertest::util {

// The message of a transfer ended by cancel_all().
inline constexpr const char* k_http_cancelled = "cancelled";

// Requests have HttpClient::send's semantics (headers, body, body/response files, timeouts;
// a transport error is a retryable Error; any HTTP status is a response; a POST is never
// silently sent twice). Connections are kept and reused across requests. start, poll,
// cancel_all and in_flight are called from one thread; wake from any.
class HttpMulti {
  public:
    using Finished = std::pair<std::uint64_t, Result<HttpResponse>>;
    virtual ~HttpMulti() = default;
    // Starts a request; its outcome comes back from a later poll() under `tag`. A request that
    // cannot even start (e.g. an unreadable body_file) comes back failed from the next poll.
    virtual void start(std::uint64_t tag, HttpRequest request) = 0;
    // Moves the transfers along and returns every one that ended, waiting up to `wait` for
    // the first (less when wake() is called). Empty when none ended in time; with nothing in
    // flight it still waits, so an event loop can sleep here.
    virtual std::vector<Finished> poll(std::chrono::milliseconds wait) = 0;
    // Makes a blocked poll() (or the next one) return at once. Thread-safe.
    virtual void wake() = 0;
    // Drops every transfer (closing its connection); each comes back from the next poll() as
    // a non-retryable error k_http_cancelled.
    virtual void cancel_all() = 0;
    // Started requests poll() has not returned yet.
    virtual std::size_t in_flight() const = 0;
};

std::unique_ptr<HttpMulti> make_curl_http_multi();

}  // namespace hypertest::util
