// The files that go into a layer, read from disk in tar order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "oci/image.hpp"
#include "util/result.hpp"

namespace hypertest::oci::detail {

struct SourceEntry {
    enum class Kind { directory, file, symlink };
    Kind kind = Kind::directory;
    std::filesystem::path source;  // absolute path on disk; empty for implied parents
    std::uint32_t mode = 0755;     // files: their permission bits; 0755 dirs, 0777 links
    std::int64_t size = 0;         // regular files only
    std::int64_t mtime_ns = 0;     // fingerprint only; never written to the tar
    std::string link_target;       // symlinks only, verbatim
};

// Keyed by the path inside the tar ("a/b", no "./" or leading '/'); std::string ordering is
// byte order, which is the tar order.
using SourceEntries = std::map<std::string, SourceEntry>;

// Walks `paths` (relative to root; directories recurse, symlinks are not followed) and adds
// every parent directory. Missing paths are skipped; sockets, fifos and devices are skipped;
// `exclude_dir` (e.g. the image layout itself) is never entered, nor is what `filter` leaves
// out (e.g. a framework's output folders, secrets). Fails on absolute paths, paths leaving
// root and unreadable directories.
util::Result<SourceEntries> collect_sources(const std::filesystem::path& root,
                                            const std::vector<std::string>& paths,
                                            const std::filesystem::path& exclude_dir,
                                            const LayerFilter& filter = {});

// "sha256:<hex>" over every entry's path, kind, size, mtime, mode and link target.
std::string fingerprint(const SourceEntries& entries);

}  // namespace hypertest::oci::detail
