#pragma once

#include <memory>

#include "providers/provider.hpp"

namespace hypertest::providers {

// Config keys inside cloudProvider for "local".
std::vector<std::string> local_config_keys();
std::unique_ptr<Provider> make_local_provider(const ProviderContext& ctx);

}  // namespace hypertest::providers
