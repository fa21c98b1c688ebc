// A Lambda Runtime API endpoint for one execution environment: /next blocks until the host
// assigns an event; /response, /error and /init/error carry the runtime's answers back.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "util/result.hpp"

namespace hypertest::providers {

// Lambda's limit for a synchronous response.
constexpr std::size_t k_max_response_bytes = 6 * 1024 * 1024;

struct RuntimeReply {
    enum class Kind { response, error, init_error };
    Kind kind = Kind::response;
    std::string body;        // the runtime's body (for errors: its error JSON, or our message)
    std::string error_type;  // Lambda-Runtime-Function-Error-Type, for errors
};

class RuntimeApiServer {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    virtual ~RuntimeApiServer() = default;
    // "127.0.0.1:<port>", the value of AWS_LAMBDA_RUNTIME_API (on a Unix socket: a nominal
    // 127.0.0.1:9001; the runtime is told the socket through HT_RUNTIME_API_SOCKET).
    virtual std::string address() const = 0;
    // Queues one event for the runtime's pending or next /next. The Lambda deadline header is
    // set at delivery: delivery time + timeout. Returns the request id.
    virtual std::string submit(std::string event, std::chrono::milliseconds timeout) = 0;
    // Waits up to `wait` for the answer to the submitted event, or an init error.
    virtual std::optional<RuntimeReply> wait_reply(std::chrono::milliseconds wait) = 0;
    // When the submitted event was handed to the runtime; nullopt until then.
    virtual std::optional<TimePoint> delivered_at() const = 0;
    // When the runtime first called /next (the end of its init phase).
    virtual std::optional<TimePoint> first_next_at() const = 0;
    // Called (on a server thread) whenever a reply becomes available to wait_reply; it must
    // not call back into this server. Set it before submitting.
    virtual void set_reply_listener(std::function<void()> listener) = 0;
    // Wakes a blocked /next (it answers 410) and stops listening. Idempotent.
    virtual void stop() = 0;
};

// Listens on 127.0.0.1 on a free port, or on the Unix socket `unix_socket` when it is set,
// serving in a background thread. Fails when it cannot listen. function_arn goes into the
// Lambda-Runtime-Invoked-Function-Arn header.
util::Result<std::unique_ptr<RuntimeApiServer>> start_runtime_api_server(
    const std::string& function_arn, std::size_t max_response_bytes = k_max_response_bytes,
    const std::string& unix_socket = "");

}  // namespace hypertest::providers
