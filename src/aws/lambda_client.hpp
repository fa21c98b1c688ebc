// A small AWS Lambda client (rest-json, API 2015-03-31): Invoke, GetFunction,
// UpdateFunctionCode (container images), the "function updated" waiter, GetAccountSettings.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/service_client.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

// The REPORT line Lambda appends to every invocation's log; fields it lacks stay 0.
struct ReportLine {
    double duration_ms = 0;
    double billed_ms = 0;
    int memory_mb = 0;
    int max_memory_used_mb = 0;
    double init_ms = 0;  // > 0 on a cold start
};

// The last "REPORT RequestId: ..." line of a log; nullopt when there is none.
std::optional<ReportLine> parse_report_line(std::string_view log);

struct InvokeOutput {
    std::string payload;         // the function's answer, or its error object
    std::string function_error;  // X-Amz-Function-Error ("Unhandled", ...); empty: no error
    std::string log_tail;        // X-Amz-Log-Result decoded (last 4 KB of the log)
    std::optional<ReportLine> report;
    std::string error_message;  // errorType: errorMessage of a function error's payload
};

// Invoke in two halves, so that one event loop (util::HttpMulti) can keep many in flight and
// LambdaClient::invoke is the two around one HttpClient::send:
// "Lambda Invoke <function_name>", the operation Invoke's errors name (see transport_error).
std::string invoke_operation(const std::string& function_name);
// The signed RequestResponse Invoke of `payload` with LogType=Tail, waiting up to `timeout`
// for the answer; fails when no credentials can be found.
util::Result<util::HttpRequest> invoke_request(const ServiceConfig& config,
                                               const std::string& function_name,
                                               const std::string& payload,
                                               std::chrono::milliseconds timeout);
// What an Invoke answer means: the output on 2xx (a function error is an output too);
// otherwise service_error: HTTP 429 is retryable and throttled (Retry-After kept), 5xx
// retryable, others (404 ResourceNotFoundException, 403, ...) not.
util::Result<InvokeOutput> invoke_output(const util::HttpResponse& response,
                                         const std::string& function_name);

struct FunctionInfo {
    std::string name;
    std::string arn;
    std::string package_type;  // "Image" or "Zip"
    int memory_mb = 0;
    int timeout_s = 0;
    std::vector<std::string> architectures;  // "x86_64", "arm64"
    std::string state;                       // Pending, Active, Inactive, Failed
    std::string state_reason;
    std::string last_update_status;  // InProgress, Successful, Failed
    std::string last_update_status_reason;
    std::string image_uri;           // Code.ImageUri
    std::string resolved_image_uri;  // Code.ResolvedImageUri: repo@sha256:... actually running
    // The sha256:... part of resolved_image_uri (image_uri when unresolved); empty if none.
    std::string image_digest() const;
};

FunctionInfo function_info_from_json(const util::Json& get_function_answer);

struct AccountSettings {
    int concurrent_executions = 0;
    int unreserved_concurrent_executions = 0;
};

class LambdaClient {
  public:
    virtual ~LambdaClient() = default;
    // RequestResponse with LogType=Tail; not retried (the caller decides). A 429
    // TooManyRequestsException is a retryable error naming its Reason.
    virtual util::Result<InvokeOutput> invoke(const std::string& function_name,
                                              const std::string& payload,
                                              std::chrono::milliseconds timeout) = 0;
    // Fails with ResourceNotFoundException (HTTP 404) when the function does not exist.
    virtual util::Result<FunctionInfo> get_function(const std::string& function_name) = 0;
    // image_uri: "<registry>/<repository>@sha256:..." (a single-platform manifest).
    virtual util::Result<FunctionInfo> update_function_code(const std::string& function_name,
                                                            const std::string& image_uri) = 0;
    // Polls GetFunction every poll_interval until LastUpdateStatus is Successful (returned) or
    // Failed (an error with LastUpdateStatusReason), for at most max_wait.
    virtual util::Result<FunctionInfo> wait_until_updated(
        const std::string& function_name, std::chrono::milliseconds max_wait,
        std::chrono::milliseconds poll_interval) = 0;
    virtual util::Result<AccountSettings> get_account_settings() = 0;
};

std::unique_ptr<LambdaClient> make_lambda_client(ServiceConfig config);

}  // namespace hypertest::aws
