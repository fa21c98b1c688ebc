#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace hypertest::util {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path);
// Writes to a temporary file beside `path`, then renames: readers never see half a file.
Status write_file_atomic(const fs::path& path, std::string_view content);
Status ensure_dir(const fs::path& dir);
// Relative path with '/' separators.
std::string relative_slash(const fs::path& path, const fs::path& base);
// Walks up from `start` looking for any of `names`; returns the first match or empty.
fs::path find_upwards(const fs::path& start, const std::vector<std::string>& names);
// Checks that a file can be created in dir (creating dir if needed).
Status check_writable_dir(const fs::path& dir);

}  // namespace hypertest::util
