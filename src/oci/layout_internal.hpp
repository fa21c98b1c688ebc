// Helpers shared by the oci sources; not part of the component's interface.
#pragma once

#include <string>
#include <string_view>

#include "oci/image.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci::detail {

inline constexpr std::string_view k_manifest_media_type =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_config_media_type = "application/vnd.oci.image.config.v1+json";

// A fresh file name in the layout's scratch directory (same filesystem as blobs/, so a rename
// into blobs/ is atomic). The file is not created.
util::Result<fs::path> scratch_path(const ImageLayout& layout, std::string_view stem);
// Renames a finished temporary file to the blob path of digest. Returns true when the blob was
// already present (the temporary file is then removed).
util::Result<bool> commit_blob(const ImageLayout& layout, const fs::path& tmp,
                               const std::string& digest);

}  // namespace hypertest::oci::detail
