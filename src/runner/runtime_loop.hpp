// The Lambda Runtime API loop: next, handle, post. The HTTP client and the API address are
// injected so the loop runs offline in tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "util/http.hpp"
#include "util/json.hpp"
#include "util/result.hpp"

namespace hypertest::runner {

using util::Json;

// What the Runtime API says about one invocation (from the /next response headers).
struct Context {
    std::string request_id;
    std::int64_t deadline_ms = 0;  // epoch ms; 0 when the header is missing or malformed
    std::string invoked_function_arn;
    std::string trace_id;
};

// Returns the answer posted to /response; an Error is posted to /error. Exceptions thrown by
// the handler are caught and posted to /error as well.
using Handler = std::function<util::Result<Json>(const Json& event, const Context& context)>;

struct RuntimeLoopOptions {
    int max_consecutive_failures = 8;  // of /next (transport or protocol); then run_forever ends
    std::chrono::milliseconds initial_backoff{50};
    std::chrono::milliseconds max_backoff{2000};
    // Injected so tests do not sleep.
    std::function<void(std::chrono::milliseconds)> sleep;
};

class RuntimeLoop {
public:
    // api is "host:port", as in AWS_LAMBDA_RUNTIME_API.
    RuntimeLoop(util::HttpClient& http, std::string api, Handler handler,
                RuntimeLoopOptions options = {});

    // Waits for one event, runs the handler and posts its answer. Fails when /next cannot be
    // fetched or is malformed (no request id), or when the answer cannot be posted.
    util::Status run_one();
    // Loops on run_one; returns the last error once /next failed max_consecutive_failures
    // times in a row (the caller then exits: the environment is broken).
    util::Error run_forever();
    // Reports a start-up failure; the caller exits afterwards.
    util::Status post_init_error(const std::string& message, const std::string& error_type);

private:
    std::string url(const std::string& path) const;
    util::Status post_error(const std::string& request_id, const std::string& message,
                            const std::string& error_type);
    util::Status post(const std::string& path, const std::string& body,
                      const std::string& error_type);

    util::HttpClient& m_http;
    std::string m_api;
    Handler m_handler;
    RuntimeLoopOptions m_options;
};

// The JSON body Lambda expects on /error and /init/error.
std::string error_body(const std::string& message, const std::string& error_type);

}  // namespace hypertest::runner
