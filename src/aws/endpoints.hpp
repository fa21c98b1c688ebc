// Region and endpoint resolution, with the AWS_ENDPOINT_URL[_<SERVICE>] overrides.
#pragma once

#include <string>
#include <string_view>

#include "aws/system.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

// AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region`. Fails with a message
// saying how to set one.
util::Result<std::string> resolve_region(const System& system);

struct Endpoint {
    std::string url;             // scheme://host[:port][/base], no trailing slash
    std::string signing_region;  // an override never changes these two
    std::string signing_name;
    bool overridden = false;
};

// Service ids as in the AWS SDKs: "Lambda", "ECR", "S3", "STS", "Service Quotas".
// AWS_ENDPOINT_URL_<ID upper-cased, spaces as underscores> wins over AWS_ENDPOINT_URL, both
// ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true. Unknown ids fail with "did you mean".
util::Result<Endpoint> resolve_endpoint(const System& system, std::string_view service_id,
                                        const std::string& region);
// "Service Quotas" -> "AWS_ENDPOINT_URL_SERVICE_QUOTAS"
std::string endpoint_env_name(std::string_view service_id);

}  // namespace hypertest::aws
