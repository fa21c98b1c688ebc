#pragma once

#include <memory>

#include "providers/provider.hpp"

namespace hypertest::providers {

// Storage in a directory, with the same keys as the S3 layout. root must be absolute.
std::unique_ptr<Storage> make_local_storage(const fs::path& root);

}  // namespace hypertest::providers
