// The aws provider: storage in S3, images in ECR, tests in a Lambda function.
#pragma once

#include <memory>

#include "aws/system.hpp"
#include "providers/aws/aws_clients.hpp"
#include "providers/aws/aws_settings.hpp"
#include "providers/provider.hpp"

namespace hypertest::providers {

std::unique_ptr<Provider> make_aws_provider(const ProviderContext& ctx);
// With an explicit environment and transport (tests).
std::unique_ptr<Provider> make_aws_provider_with(const ProviderContext& ctx,
                                                 const aws::System& system, AwsTransport transport);

}  // namespace hypertest::providers
