// Files below a directory that someone else can also write (a sandbox's storage folder), read
// and written without following symbolic links: every path component is opened with
// O_NOFOLLOW relative to its parent, so a link planted anywhere on the way is refused instead of
// leading the host outside that directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hypertest::util {

namespace fs = std::filesystem;

// rel: '/'-separated, relative, without "." or ".." parts. Missing folders are created. The
// file is written beside its name and renamed over it, so readers never see half of it.
Status write_below(const fs::path& root, std::string_view rel, std::string_view content);
// Like write_below, with the content of the (trusted) file source.
Status copy_below(const fs::path& root, std::string_view rel, const fs::path& source);
// nullopt when the file does not exist; an error when it is larger than max_bytes, is not a
// regular file, or a link lies on the way.
Result<std::optional<std::string>> read_below(const fs::path& root, std::string_view rel,
                                              std::int64_t max_bytes);

}  // namespace hypertest::util
