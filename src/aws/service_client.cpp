#include "aws/service_client.hpp"

#include <algorithm>
#include <array>
#include <mutex>
#include <thread>
#include <vector>

#include "aws/errors.hpp"
#include "aws/redact.hpp"
#include "aws/sigv4.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

std::chrono::milliseconds retry_after(const util::HttpResponse& response) {
    std::string value = util::trim(response.header("retry-after"));
    if (value.empty() || value.size() > 4 || !std::all_of(value.begin(), value.end(), ::isdigit))
        return {};
    return std::chrono::seconds(std::stoi(value));
}

void wait(const ServiceConfig& config, std::chrono::milliseconds delay) {
    if (config.sleep)
        config.sleep(delay);
    else
        std::this_thread::sleep_for(delay);
}

class PooledHttpClient : public util::HttpClient {
  public:
    explicit PooledHttpClient(std::function<std::unique_ptr<util::HttpClient>()> make)
        : m_make(std::move(make)) {}

    util::Result<util::HttpResponse> send(const util::HttpRequest& request) override {
        std::unique_ptr<util::HttpClient> client;
        {
            std::lock_guard lock(m_mutex);
            if (!m_idle.empty()) {
                client = std::move(m_idle.back());
                m_idle.pop_back();
            }
        }
        if (!client) client = m_make();
        auto response = client->send(request);
        std::lock_guard lock(m_mutex);
        m_idle.push_back(std::move(client));
        return response;
    }

  private:
    std::function<std::unique_ptr<util::HttpClient>()> m_make;
    std::mutex m_mutex;
    std::vector<std::unique_ptr<util::HttpClient>> m_idle;
};

class LockedCredentials : public CredentialsProvider {
  public:
    explicit LockedCredentials(ProviderPtr inner) : m_inner(std::move(inner)) {}
    std::string name() const override { return m_inner->name(); }
    util::Result<std::optional<Credentials>> resolve() override {
        std::lock_guard lock(m_mutex);
        return m_inner->resolve();
    }

  private:
    ProviderPtr m_inner;
    std::mutex m_mutex;
};

}  // namespace

std::shared_ptr<util::HttpClient> make_thread_safe_http_client(
    std::function<std::unique_ptr<util::HttpClient>()> make) {
    return std::make_shared<PooledHttpClient>(std::move(make));
}

std::shared_ptr<CredentialsProvider> make_thread_safe_credentials(ProviderPtr inner) {
    return std::make_shared<LockedCredentials>(std::move(inner));
}

util::Result<util::HttpRequest> sign_request(const ServiceConfig& config,
                                             const ServiceRequest& request) {
    auto creds = resolve_credentials(*config.credentials);
    if (!creds) return creds.error();
    util::HttpRequest http;
    http.method = request.method;
    http.url = config.endpoint.url + request.path;
    if (!request.query.empty()) http.url += "?" + encode_query(request.query);
    http.headers = request.headers;
    http.body = request.body;
    http.timeout = request.timeout.count() > 0 ? request.timeout : config.timeout;
    SigningOptions options =
        signing_options(config.endpoint.signing_name, config.endpoint.signing_region,
                        config.now_ms ? config.now_ms() : 0);
    if (auto s = sign_http_request(http, *creds, options); !s) return s.error();
    return http;
}

util::Error transport_error(const ServiceConfig& config, std::string_view operation,
                            const util::Error& cause) {
    std::vector<std::string> secrets;
    if (auto creds = config.credentials->resolve(); creds && creds->has_value())
        secrets = {(*creds)->secret_access_key, (*creds)->session_token};
    return util::make_error(std::string(operation) + ": cannot reach " + config.endpoint.url +
                                ": " + redact(cause.message, secrets),
                            cause.retryable);
}

util::Result<util::HttpResponse> send_signed(const ServiceConfig& config,
                                             const ServiceRequest& request,
                                             std::string_view operation) {
    auto http = sign_request(config, request);
    if (!http) return http.error();
    auto response = config.http->send(*http);
    if (!response) return transport_error(config, operation, response.error());
    return response;
}

util::Result<util::HttpResponse> call_service(const ServiceConfig& config,
                                              const ServiceRequest& request,
                                              std::string_view operation) {
    int attempts = std::max(1, config.max_attempts);
    std::chrono::milliseconds backoff = config.initial_backoff;
    for (int attempt = 1;; ++attempt) {
        auto response = send_signed(config, request, operation);
        std::chrono::milliseconds delay = backoff;
        if (response) {
            if (response->status >= 200 && response->status < 300) return response;
            util::Error error = service_error(*response, operation);
            if (!error.retryable || attempt >= attempts) return error;
            delay =
                std::max(delay, std::min(retry_after(*response), std::chrono::milliseconds(20000)));
        } else if (!response.error().retryable || attempt >= attempts) {
            return response.error();
        }
        wait(config, delay);
        backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    }
}

util::Result<util::Json> response_json(const util::HttpResponse& response,
                                       std::string_view operation) {
    if (util::trim(response.body).empty()) return util::Json::object();
    auto json = util::parse_json(response.body, std::string(operation) + " response");
    if (!json) return json.error();
    return std::move(*json);
}

util::Result<util::Json> call_json11(const ServiceConfig& config, const std::string& target_prefix,
                                     const std::string& action, const util::Json& body) {
    ServiceRequest request;
    request.method = "POST";
    request.path = "/";
    request.headers = {{"Content-Type", "application/x-amz-json-1.1"},
                       {"X-Amz-Target", target_prefix + "." + action}};
    request.body = body.dump();
    auto response = call_service(config, request, action);
    if (!response) return response.error();
    return response_json(*response, action);
}

util::Result<ServiceConfig> service_config(const System& system, std::string_view service_id,
                                           const std::string& region,
                                           std::shared_ptr<CredentialsProvider> credentials) {
    auto endpoint = resolve_endpoint(system, service_id, region);
    if (!endpoint) return endpoint.error();
    ServiceConfig config;
    config.endpoint = std::move(*endpoint);
    config.http = system.http;
    config.credentials = std::move(credentials);
    config.now_ms = system.now_ms;
    return config;
}

}  // namespace hypertest::aws
