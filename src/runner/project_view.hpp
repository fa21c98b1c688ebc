// A writable, private view of the read-only task root, for one invocation. Real suites write
// into their project (a webServer build step, caches, snapshots of their own); Lambda's task
// root is read-only, so the framework runs on this view instead.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "util/result.hpp"

namespace hypertest::runner {

namespace fs = std::filesystem;

struct ProjectViewStats {
    std::uint64_t files_copied = 0;
    std::uint64_t bytes_copied = 0;
    std::uint64_t entries_linked = 0;
};

// Recreates the task root, given as one or more layers (later ones win where they overlap),
// under `target` (which must not exist): directories are created,
// regular files copied and symlinks copied as symlinks, except that the entries of every
// `node_modules` directory become symlinks to the originals (large, and read as packages; the
// directory itself is real, so tools can add their caches to it). Node resolves the symlinked
// packages to their real paths, so every module is loaded once. A file this process may not
// read becomes a link too (a test that reads it gets the permission error). Fails on the first
// entry that cannot be recreated; device files, sockets and FIFOs are skipped.
util::Result<ProjectViewStats> make_project_view(const std::vector<fs::path>& layers,
                                                 const fs::path& target);

}  // namespace hypertest::runner
