#pragma once

#include <memory>

#include "providers/aws/aws_clients.hpp"
#include "providers/provider.hpp"

namespace hypertest::providers {

// The Lambda function cloudProvider.functionName, running images from cloudProvider.ecrRegistry.
// clients must outlive it.
std::unique_ptr<Functions> make_lambda_functions(AwsClients& clients);

}  // namespace hypertest::providers
