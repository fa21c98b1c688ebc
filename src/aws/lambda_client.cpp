#include "aws/lambda_client.hpp"

#include <cctype>
#include <map>
#include <thread>

#include "aws/errors.hpp"
#include "util/base64.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

using util::Json;
using util::json_get;

constexpr const char* k_api = "/2015-03-31/functions/";

// Field name -> number, e.g. "Billed Duration" -> 100. Names are tried left to right at each
// position, so "Billed Duration" is never read as "Duration". (A scan, not std::regex: this runs
// once per invocation and the regex was a visible share of the dispatcher's CPU.)
std::map<std::string, double> report_fields(std::string_view line) {
    static constexpr std::string_view k_names[] = {"Billed Duration", "Init Duration",
                                                   "Max Memory Used", "Memory Size", "Duration"};
    std::map<std::string, double> fields;
    for (std::size_t i = 0; i < line.size();) {
        bool matched = false;
        for (std::string_view name : k_names) {
            if (line.substr(i, name.size()) != name || line.substr(i + name.size(), 2) != ": ") continue;
            std::size_t start = i + name.size() + 2, end = start;
            while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
            if (end == start) continue;
            if (end + 1 < line.size() && line[end] == '.' && std::isdigit(static_cast<unsigned char>(line[end + 1]))) {
                ++end;
                while (end < line.size() && std::isdigit(static_cast<unsigned char>(line[end]))) ++end;
            }
            fields.emplace(std::string(name), std::stod(std::string(line.substr(start, end - start))));
            i = end;
            matched = true;
            break;
        }
        if (!matched) ++i;
    }
    return fields;
}

std::string function_path(const std::string& name) { return k_api + uri_encode(name, false); }

std::string function_error_message(const InvokeOutput& out) {
    auto json = util::parse_json(out.payload, "function error");
    std::string type, message;
    if (json) {
        type = json_get<std::string>(*json, "errorType", "");
        message = json_get<std::string>(*json, "errorMessage", "");
    }
    if (message.empty()) message = util::truncate_utf8(util::trim(out.payload), 500);
    std::string text = type.empty() ? message : type + ": " + message;
    return text.empty() ? "the function failed (" + out.function_error + ")" : text;
}

class HttpLambdaClient : public LambdaClient {
  public:
    explicit HttpLambdaClient(ServiceConfig config) : m_config(std::move(config)) {}

    util::Result<InvokeOutput> invoke(const std::string& function_name, const std::string& payload,
                                      std::chrono::milliseconds timeout) override {
        auto request = invoke_request(m_config, function_name, payload, timeout);
        if (!request) return request.error();
        auto response = m_config.http->send(*request);
        if (!response)
            return transport_error(m_config, invoke_operation(function_name), response.error());
        return invoke_output(*response, function_name);
    }

    util::Result<FunctionInfo> get_function(const std::string& function_name) override {
        ServiceRequest request;
        request.path = function_path(function_name);
        auto response = call_service(m_config, request, "Lambda GetFunction " + function_name);
        if (!response) return response.error();
        auto json = response_json(*response, "Lambda GetFunction");
        if (!json) return json.error();
        return function_info_from_json(*json);
    }

    util::Result<FunctionInfo> update_function_code(const std::string& function_name,
                                                    const std::string& image_uri) override {
        ServiceRequest request;
        request.method = "PUT";
        request.path = function_path(function_name) + "/code";
        request.headers = {{"Content-Type", "application/json"}};
        request.body = Json{{"ImageUri", image_uri}}.dump();
        auto response =
            call_service(m_config, request, "Lambda UpdateFunctionCode " + function_name);
        if (!response) return response.error();
        auto json = response_json(*response, "Lambda UpdateFunctionCode");
        if (!json) return json.error();
        // The answer is a FunctionConfiguration, not GetFunction's {Configuration, Code}.
        return function_info_from_json(Json{{"Configuration", *json}});
    }

    util::Result<FunctionInfo> wait_until_updated(
        const std::string& function_name, std::chrono::milliseconds max_wait,
        std::chrono::milliseconds poll_interval) override {
        std::int64_t deadline = m_config.now_ms() + max_wait.count();
        while (true) {
            auto info = get_function(function_name);
            if (!info) return info.error();
            if (info->last_update_status == "Failed") {
                return util::make_error(
                    "the update of Lambda function " + function_name + " failed: " +
                    (info->last_update_status_reason.empty() ? "no reason given"
                                                             : info->last_update_status_reason));
            }
            if (info->last_update_status == "Successful" || info->last_update_status.empty())
                return info;
            if (m_config.now_ms() >= deadline) {
                return util::make_error(
                    "Lambda function " + function_name + " is still updating after " +
                        std::to_string(max_wait.count() / 1000) +
                        " s; raise cloudProvider.lambdaUpdateMaxWaitTime or check the "
                        "function in the Lambda console",
                    true);
            }
            if (m_config.sleep)
                m_config.sleep(poll_interval);
            else
                std::this_thread::sleep_for(poll_interval);
        }
    }

    util::Result<AccountSettings> get_account_settings() override {
        ServiceRequest request;
        request.path = "/2016-08-19/account-settings";
        auto response = call_service(m_config, request, "Lambda GetAccountSettings");
        if (!response) return response.error();
        auto json = response_json(*response, "Lambda GetAccountSettings");
        if (!json) return json.error();
        Json limit = json_get<Json>(*json, "AccountLimit", Json::object());
        AccountSettings s;
        s.concurrent_executions = json_get<int>(limit, "ConcurrentExecutions", 0);
        s.unreserved_concurrent_executions =
            json_get<int>(limit, "UnreservedConcurrentExecutions", 0);
        return s;
    }

  private:
    ServiceConfig m_config;
};

}  // namespace

std::string invoke_operation(const std::string& function_name) {
    return "Lambda Invoke " + function_name;
}

util::Result<util::HttpRequest> invoke_request(const ServiceConfig& config,
                                               const std::string& function_name,
                                               const std::string& payload,
                                               std::chrono::milliseconds timeout) {
    ServiceRequest request;
    request.method = "POST";
    request.path = function_path(function_name) + "/invocations";
    request.headers = {{"Content-Type", "application/json"},
                       {"X-Amz-Invocation-Type", "RequestResponse"},
                       {"X-Amz-Log-Type", "Tail"}};
    request.body = payload;
    request.timeout = timeout;
    return sign_request(config, request);
}

util::Result<InvokeOutput> invoke_output(const util::HttpResponse& response,
                                         const std::string& function_name) {
    if (response.status < 200 || response.status >= 300)
        return service_error(response, invoke_operation(function_name));
    InvokeOutput out;
    out.payload = response.body;
    out.function_error = response.header("x-amz-function-error");
    if (auto log = util::base64_decode(response.header("x-amz-log-result")); log) {
        out.log_tail = std::move(*log);
        out.report = parse_report_line(out.log_tail);
    }
    if (!out.function_error.empty()) out.error_message = function_error_message(out);
    return out;
}

std::optional<ReportLine> parse_report_line(std::string_view log) {
    std::size_t pos = log.rfind("REPORT RequestId:");
    if (pos == std::string_view::npos) return std::nullopt;
    std::string_view line = log.substr(pos);
    line = line.substr(0, line.find('\n'));
    auto fields = report_fields(line);
    auto get = [&](const char* name) { return fields.count(name) ? fields[name] : 0.0; };
    ReportLine r;
    r.duration_ms = get("Duration");
    r.billed_ms = get("Billed Duration");
    r.memory_mb = static_cast<int>(get("Memory Size"));
    r.max_memory_used_mb = static_cast<int>(get("Max Memory Used"));
    r.init_ms = get("Init Duration");
    return r;
}

std::string FunctionInfo::image_digest() const {
    for (const std::string* uri : {&resolved_image_uri, &image_uri}) {
        auto at = uri->find("@sha256:");
        if (at != std::string::npos) return uri->substr(at + 1);
    }
    return {};
}

FunctionInfo function_info_from_json(const Json& answer) {
    Json c = json_get<Json>(answer, "Configuration", Json::object());
    Json code = json_get<Json>(answer, "Code", Json::object());
    FunctionInfo f;
    f.name = json_get<std::string>(c, "FunctionName", "");
    f.arn = json_get<std::string>(c, "FunctionArn", "");
    f.package_type = json_get<std::string>(c, "PackageType", "Zip");
    f.memory_mb = json_get<int>(c, "MemorySize", 0);
    f.timeout_s = json_get<int>(c, "Timeout", 0);
    f.architectures = json_get<std::vector<std::string>>(c, "Architectures", {"x86_64"});
    f.state = json_get<std::string>(c, "State", "");
    f.state_reason = json_get<std::string>(c, "StateReason", "");
    f.last_update_status = json_get<std::string>(c, "LastUpdateStatus", "");
    f.last_update_status_reason = json_get<std::string>(c, "LastUpdateStatusReason", "");
    f.image_uri = json_get<std::string>(code, "ImageUri", "");
    f.resolved_image_uri = json_get<std::string>(code, "ResolvedImageUri", "");
    return f;
}

std::unique_ptr<LambdaClient> make_lambda_client(ServiceConfig config) {
    return std::make_unique<HttpLambdaClient>(std::move(config));
}

}  // namespace hypertest::aws
