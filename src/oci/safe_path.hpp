// Keeps archive entries inside the directory they are unpacked into.
#pragma once

#include <filesystem>
#include <string>

#include "util/result.hpp"

namespace hypertest::oci::detail {

// An entry name as a clean relative path ("./a//b/" -> "a/b"; "" for the root itself).
// Fails for absolute names and names with ".." components.
util::Result<std::string> clean_entry_name(const std::string& name);

// Resolves the directory `rel_dir` (clean, relative) under root, following symlinks that
// already exist on disk the way the kernel would, but only while they stay inside root.
// Returns the resolved relative path (no symlinks left). Fails when a symlink is absolute or
// leads outside root, or when links nest too deep.
util::Result<std::string> resolve_inside(const std::filesystem::path& root,
                                         const std::string& rel_dir);

}  // namespace hypertest::oci::detail
