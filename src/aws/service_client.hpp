// Signed calls to AWS APIs over util::HttpClient: the part every service client shares.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "aws/canonical.hpp"
#include "aws/credentials.hpp"
#include "aws/endpoints.hpp"
#include "util/http.hpp"
#include "util/json.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

struct ServiceConfig {
    Endpoint endpoint;  // from resolve_endpoint(system, "<service id>", region)
    std::shared_ptr<util::HttpClient> http;
    std::shared_ptr<CredentialsProvider> credentials;
    std::function<std::int64_t()> now_ms;
    // How to wait between attempts and polls; tests replace it. Default: sleep_for.
    std::function<void(std::chrono::milliseconds)> sleep;
    std::chrono::milliseconds timeout{60000};  // per request, unless the request sets one
    int max_attempts = 3;  // control-plane calls, on transport errors, throttling and 5xx
    std::chrono::milliseconds initial_backoff{200};
};

struct ServiceRequest {
    std::string method = "GET";
    std::string path = "/";  // already percent-encoded, relative to the endpoint's URL
    Pairs query;             // decoded
    Pairs headers;
    std::string body;
    std::chrono::milliseconds timeout{0};  // 0: the config's
};

// The signed HTTP request for `request`, ready for any HttpClient or HttpMulti; fails when no
// credentials can be found (config.credentials, which usually caches them).
util::Result<util::HttpRequest> sign_request(const ServiceConfig& config,
                                             const ServiceRequest& request);
// What a signed request that could not be sent or answered (`cause`, from HttpClient or
// HttpMulti) fails with: "<operation>: cannot reach <endpoint>: <cause>", secrets redacted,
// retryable as the cause is.
util::Error transport_error(const ServiceConfig& config, std::string_view operation,
                            const util::Error& cause);

// sign_request, then one send; transport_error on failure. Any status is a response.
util::Result<util::HttpResponse> send_signed(const ServiceConfig& config,
                                             const ServiceRequest& request,
                                             std::string_view operation);

// send_signed with retries (backoff doubling from initial_backoff, Retry-After honoured) on
// transport errors and retryable statuses; a non-2xx answer becomes service_error(operation).
util::Result<util::HttpResponse> call_service(const ServiceConfig& config,
                                              const ServiceRequest& request,
                                              std::string_view operation);

// An AWS JSON 1.1 call: POST / with X-Amz-Target `target_prefix.action`; returns the parsed
// answer (an empty body is {}).
util::Result<util::Json> call_json11(const ServiceConfig& config, const std::string& target_prefix,
                                     const std::string& action, const util::Json& body);

// The parsed JSON body of a response; fails naming the operation.
util::Result<util::Json> response_json(const util::HttpResponse& response,
                                       std::string_view operation);

// An HttpClient that several threads may use at once: each send borrows an idle client made
// by `make` (creating one when all are busy) and returns it afterwards.
std::shared_ptr<util::HttpClient> make_thread_safe_http_client(
    std::function<std::unique_ptr<util::HttpClient>()> make);
// Serialises resolve() of `inner` (caching providers keep state), for use from many threads.
std::shared_ptr<CredentialsProvider> make_thread_safe_credentials(ProviderPtr inner);

// Builds the ServiceConfig of `service_id` ("Lambda", "ECR", ...) in `region` from `system`
// (endpoint overrides, HTTP client, clock) and a credentials provider.
util::Result<ServiceConfig> service_config(const System& system, std::string_view service_id,
                                           const std::string& region,
                                           std::shared_ptr<CredentialsProvider> credentials);

}  // namespace hypertest::aws
