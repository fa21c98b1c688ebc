// cloudProvider settings of the aws provider.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "oci/registry_ref.hpp"
#include "util/json.hpp"

namespace hypertest::providers {

struct AwsSettings {
    std::string region;         // empty: from AWS_REGION / AWS_DEFAULT_REGION / the profile
    std::string function_name;  // the Lambda function (name or ARN)
    std::string bucket;         // storage: manifests, results, artifacts
    std::string ecr_registry;   // "<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag]"
    oci::RegistryRef ecr;       // ecr_registry parsed
    std::string base_image;     // used by deploy; accepted here
    std::chrono::seconds update_wait{600};
    std::string platform = "linux/amd64";
    // Required settings that are missing, as messages with a fix; doctor lists them and every
    // operation that needs them fails with them.
    std::vector<std::string> problems;

    // "x86_64" or "arm64", the Lambda name of platform's architecture.
    std::string lambda_architecture() const;
};

// Reads cloudProvider; throws util::Fatal naming the key when a value has the wrong type or
// shape. Missing required keys go to problems instead.
AwsSettings parse_aws_settings(const util::Json& cloud_provider, const std::string& function_name);

std::vector<std::string> aws_config_keys();

}  // namespace hypertest::providers
