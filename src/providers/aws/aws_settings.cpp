#include "providers/aws/aws_settings.hpp"

#include "util/result.hpp"

namespace hypertest::providers {
namespace {

using util::Json;

[[noreturn]] void bad_key(const std::string& key, const std::string& problem,
                          const std::string& fix) {
    throw util::Fatal("cloudProvider." + key + " " + problem + "; " + fix);
}

std::string string_key(const Json& c, const std::string& key, const std::string& example) {
    if (!c.contains(key) || c[key].is_null()) return {};
    if (!c[key].is_string() || c[key].get<std::string>().empty())
        bad_key(key, "must be a non-empty string (got " + c[key].dump() + ")",
                "e.g. \"" + key + "\": \"" + example + "\"");
    return c[key].get<std::string>();
}

}  // namespace

std::string AwsSettings::lambda_architecture() const {
    return platform == "linux/arm64" ? "arm64" : "x86_64";
}

std::vector<std::string> aws_config_keys() {
    return {"name",
            "region",
            "functionName",
            "bucketName",
            "ecrRegistry",
            "baseImage",
            "lambdaUpdateMaxWaitTime",
            "platform"};
}

AwsSettings parse_aws_settings(const Json& c, const std::string& function_name) {
    AwsSettings s;
    s.function_name = function_name;
    Json config = c.is_object() ? c : Json::object();
    s.region = string_key(config, "region", "us-east-1");
    s.bucket = string_key(config, "bucketName", "my-hypertest-bucket");
    s.base_image = string_key(config, "baseImage", "public.ecr.aws/lambda/nodejs:22");
    std::string platform = string_key(config, "platform", "linux/amd64");
    if (!platform.empty()) {
        if (platform != "linux/amd64" && platform != "linux/arm64")
            bad_key("platform",
                    "must be \"linux/amd64\" or \"linux/arm64\" (got \"" + platform + "\")",
                    "use the architecture of the Lambda function");
        s.platform = platform;
    }
    s.ecr_registry =
        string_key(config, "ecrRegistry", "123456789012.dkr.ecr.us-east-1.amazonaws.com/hypertest");
    if (!s.ecr_registry.empty()) {
        auto ref = oci::parse_registry_ref(s.ecr_registry);
        if (!ref)
            bad_key("ecrRegistry", ref.error().message,
                    "e.g. \"123456789012.dkr.ecr.us-east-1.amazonaws.com/hypertest\"");
        if (!ref->digest.empty())
            bad_key("ecrRegistry", "names a digest",
                    "give the repository deploy pushes to (and optionally a tag)");
        s.ecr = *ref;
    }
    if (config.contains("lambdaUpdateMaxWaitTime") &&
        !config["lambdaUpdateMaxWaitTime"].is_null()) {
        const Json& v = config["lambdaUpdateMaxWaitTime"];
        if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 86400)
            bad_key("lambdaUpdateMaxWaitTime",
                    "must be whole seconds from 1 to 86400 (got " + v.dump() + ")",
                    "e.g. \"lambdaUpdateMaxWaitTime\": 600");
        s.update_wait = std::chrono::seconds(v.get<long long>());
    }
    if (s.bucket.empty())
        s.problems.push_back(
            "cloudProvider.bucketName is not set: name the S3 bucket for manifests, results "
            "and artifacts, e.g. \"bucketName\": \"my-hypertest-bucket\"");
    if (s.ecr_registry.empty())
        s.problems.push_back(
            "cloudProvider.ecrRegistry is not set: name the ECR repository deploy pushes to, "
            "e.g. \"ecrRegistry\": \"123456789012.dkr.ecr.us-east-1.amazonaws.com/hypertest\"");
    return s;
}

}  // namespace hypertest::providers
