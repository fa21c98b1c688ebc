// Task roots of the local function host: an image's layers unpacked once per digest.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "util/result.hpp"

namespace hypertest::providers {

namespace fs = std::filesystem;

struct TaskRoot {
    fs::path path;                               // LAMBDA_TASK_ROOT
    fs::path rootfs;                             // the whole unpacked image
    std::map<std::string, std::string> env;      // the image config's Env
    // The image's own runtime: its Entrypoint[0] inside rootfs, when that is an executable
    // file there (symlinks may not leave rootfs); empty otherwise (e.g. no base image).
    fs::path runner;
};

// Entrypoint (an absolute path in the image) resolved inside rootfs; empty when it is not
// an executable regular file there or resolves outside rootfs.
fs::path image_executable(const fs::path& rootfs, const std::string& entrypoint);

class TaskRootCache {
public:
    // Unpacked roots live in rootfs_dir/<digest hex>; images come from the OCI layout.
    TaskRootCache(fs::path rootfs_dir, fs::path layout_dir)
        : m_rootfs_dir(std::move(rootfs_dir)), m_layout_dir(std::move(layout_dir)) {}

    // Unpacks the image on first use (into a temp dir, then renamed, so a half-unpacked root
    // is never used); concurrent callers wait for it. The task root is the image's working
    // dir when the image has it, else the root. Fails when the image is not in the layout.
    util::Result<TaskRoot> get(const std::string& manifest_digest);
    // Deletes unpacked roots of other digests.
    void prune(const std::vector<std::string>& keep_digests);

private:
    fs::path m_rootfs_dir;
    fs::path m_layout_dir;
    std::mutex m_mutex;
    std::map<std::string, TaskRoot> m_cache;
};

// "sha256:<64 hex>" -> "<64 hex>"; empty when malformed.
std::string digest_hex(const std::string& digest);

}  // namespace hypertest::providers
