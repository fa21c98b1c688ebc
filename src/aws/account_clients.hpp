// Single calls to ECR, STS and Service Quotas: registry credentials, the caller's identity and
// the Lambda concurrency quota.
#pragma once

#include <cstdint>
#include <string>

#include "aws/lambda_client.hpp"
#include "aws/service_client.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

// ECR GetAuthorizationToken (JSON 1.1): Basic credentials for the registry, valid 12 hours.
struct EcrAuthorization {
    std::string username;        // "AWS"
    std::string password;        // a secret: never log it
    std::string proxy_endpoint;  // "https://<account>.dkr.ecr.<region>.amazonaws.com"
    std::int64_t expires_at_ms = 0;
};
util::Result<EcrAuthorization> ecr_get_authorization_token(const ServiceConfig& ecr);

// STS GetCallerIdentity (query API, POST form body).
struct CallerIdentity {
    std::string account;
    std::string arn;
    std::string user_id;
};
util::Result<CallerIdentity> sts_get_caller_identity(const ServiceConfig& sts);

// Service Quotas (JSON 1.1) GetServiceQuota, or GetAWSDefaultServiceQuota when default_value.
util::Result<double> get_service_quota(const ServiceConfig& quotas, const std::string& service_code,
                                       const std::string& quota_code, bool default_value);

inline constexpr const char* k_lambda_concurrency_quota = "L-B99A9384";

struct ConcurrencyLimit {
    int value = 0;
    std::string source;  // "Service Quotas", "Service Quotas default", "Lambda account settings"
};
// The account's concurrent executions: the applied quota, else the AWS default quota, else
// Lambda GetAccountSettings' ConcurrentExecutions. Fails only when all three fail.
util::Result<ConcurrencyLimit> lambda_concurrency_limit(const ServiceConfig& quotas,
                                                        LambdaClient& lambda);

}  // namespace hypertest::aws
