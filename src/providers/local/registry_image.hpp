// The local provider's optional registry: deploy pushes the built image there, and the
// function host pulls it by digest into its own layout, so the host runs what was pushed.
#pragma once

#include <filesystem>
#include <string>

#include "oci/registry_transfer.hpp"
#include "util/json.hpp"

namespace hypertest::providers {

namespace fs = std::filesystem;

struct RegistrySettings {
    std::string reference;  // "host[:port]/repository[:tag]"; empty: no registry
    bool insecure = false;  // plain HTTP to a host that is not loopback
    bool enabled() const { return !reference.empty(); }
};

// Reads cloudProvider.registry and cloudProvider.insecureRegistry; throws util::Fatal naming
// the key when one is malformed.
RegistrySettings parse_registry_settings(const util::Json& cloud_provider);

// Pushes manifest_digest from the layout to the registry, tagged with the reference's tag
// or default_tag. base_image (cloudProvider.baseImage) on the same registry: blobs missing
// from the target repository are mounted from the base's repository, not uploaded.
util::Result<oci::TransferReport> push_to_registry(const RegistrySettings& settings,
                                                   const fs::path& layout_dir,
                                                   const std::string& manifest_digest,
                                                   const std::string& default_tag,
                                                   const std::string& base_image = {});

// Pulls repository@digest into the layout (blobs it has are kept). Any platform: the host
// runs what deploy pushed.
util::Result<oci::TransferReport> pull_from_registry(const RegistrySettings& settings,
                                                     const std::string& manifest_digest,
                                                     const fs::path& layout_dir);

// Whether the registry answers for the repository (reachable, credentials accepted).
util::Status check_registry(const RegistrySettings& settings);

}  // namespace hypertest::providers
