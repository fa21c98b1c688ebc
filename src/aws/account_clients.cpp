#include "aws/account_clients.hpp"

#include "aws/xml.hpp"
#include "util/base64.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

using util::Json;
using util::json_get;

constexpr const char* k_ecr_target = "AmazonEC2ContainerRegistry_V20150921";
constexpr const char* k_quotas_target = "ServiceQuotasV20190624";

}  // namespace

util::Result<EcrAuthorization> ecr_get_authorization_token(const ServiceConfig& ecr) {
    auto answer = call_json11(ecr, k_ecr_target, "GetAuthorizationToken", Json::object());
    if (!answer) return util::make_error("ECR " + answer.error().message, answer.error().retryable);
    Json data = json_get<Json>(*answer, "authorizationData", Json::array());
    if (!data.is_array() || data.empty()) {
        return util::make_error("ECR GetAuthorizationToken returned no authorizationData");
    }
    std::string token = json_get<std::string>(data[0], "authorizationToken", "");
    auto decoded = util::base64_decode(token);
    auto colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) {
        return util::make_error(
            "ECR GetAuthorizationToken returned a token that is not base64 of user:password");
    }
    EcrAuthorization auth;
    auth.username = decoded->substr(0, colon);
    auth.password = decoded->substr(colon + 1);
    auth.proxy_endpoint = json_get<std::string>(data[0], "proxyEndpoint", "");
    auth.expires_at_ms =
        static_cast<std::int64_t>(json_get<double>(data[0], "expiresAt", 0) * 1000);
    return auth;
}

util::Result<CallerIdentity> sts_get_caller_identity(const ServiceConfig& sts) {
    ServiceRequest request;
    request.method = "POST";
    request.path = "/";
    request.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    request.body = "Action=GetCallerIdentity&Version=2011-06-15";
    auto response = call_service(sts, request, "STS GetCallerIdentity");
    if (!response) return response.error();
    CallerIdentity id;
    id.account = xml_text(response->body, "Account").value_or("");
    id.arn = xml_text(response->body, "Arn").value_or("");
    id.user_id = xml_text(response->body, "UserId").value_or("");
    if (id.account.empty() && id.arn.empty()) {
        return util::make_error("STS GetCallerIdentity: the answer has no Account or Arn: " +
                                util::truncate_utf8(response->body, 200));
    }
    return id;
}

util::Result<double> get_service_quota(const ServiceConfig& quotas, const std::string& service_code,
                                       const std::string& quota_code, bool default_value) {
    const char* action = default_value ? "GetAWSDefaultServiceQuota" : "GetServiceQuota";
    auto answer = call_json11(quotas, k_quotas_target, action,
                              Json{{"ServiceCode", service_code}, {"QuotaCode", quota_code}});
    if (!answer)
        return util::make_error("Service Quotas " + answer.error().message,
                                answer.error().retryable);
    Json quota = json_get<Json>(*answer, "Quota", Json::object());
    if (!quota.contains("Value") || !quota["Value"].is_number()) {
        return util::make_error(std::string("Service Quotas ") + action +
                                ": the answer has no Quota.Value");
    }
    return quota["Value"].get<double>();
}

util::Result<ConcurrencyLimit> lambda_concurrency_limit(const ServiceConfig& quotas,
                                                        LambdaClient& lambda) {
    std::vector<std::string> problems;
    for (bool default_value : {false, true}) {
        auto value = get_service_quota(quotas, "lambda", k_lambda_concurrency_quota, default_value);
        if (value) {
            return ConcurrencyLimit{static_cast<int>(*value),
                                    default_value ? "Service Quotas default" : "Service Quotas"};
        }
        problems.push_back(value.error().message);
    }
    auto settings = lambda.get_account_settings();
    if (settings && settings->concurrent_executions > 0) {
        return ConcurrencyLimit{settings->concurrent_executions, "Lambda account settings"};
    }
    problems.push_back(settings ? "Lambda GetAccountSettings gave no ConcurrentExecutions"
                                : settings.error().message);
    return util::make_error("cannot read the Lambda concurrency limit: " +
                            util::join(problems, "; "));
}

}  // namespace hypertest::aws
