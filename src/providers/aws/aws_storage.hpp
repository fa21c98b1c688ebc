#pragma once

#include <memory>

#include "providers/aws/aws_clients.hpp"
#include "providers/provider.hpp"

namespace hypertest::providers {

// Storage in the S3 bucket cloudProvider.bucketName, with the keys of the local layout;
// url() is s3://bucket/key. clients must outlive it.
std::unique_ptr<Storage> make_s3_storage(AwsClients& clients);

}  // namespace hypertest::providers
