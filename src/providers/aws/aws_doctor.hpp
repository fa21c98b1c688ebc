#pragma once

#include <vector>

#include "providers/aws/aws_clients.hpp"
#include "providers/provider.hpp"

namespace hypertest::providers {

// config, credentials (STS), registry (ECR token against the registry), function (exists,
// image package), function settings (memory, timeout, architecture), bucket (put + delete a
// probe), concurrency (quota >= concurrency). Each failed check has a fix; no secret appears.
std::vector<DoctorCheck> run_aws_doctor(AwsClients& clients, Storage& storage, int concurrency);

}  // namespace hypertest::providers
