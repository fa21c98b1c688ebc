// Task roots of the local function host: an image's layers unpacked once per digest.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "oci/image.hpp"
#include "util/result.hpp"

namespace hypertest::providers {

namespace fs = std::filesystem;

struct TaskRoot {
    fs::path path;                               // LAMBDA_TASK_ROOT
    // The base image's layers unpacked together (shared by every image on that base); empty
    // for an image of the project's layers only.
    fs::path rootfs;
    // The project's layers (hypertest's own, after the base), each unpacked once into a cache
    // of its own and shared between images: their task-root folders, in layer order. The
    // runner composes its view of the project from them (HT_TASK_LAYERS).
    std::vector<fs::path> task_layers;
    std::map<std::string, std::string> env;      // the image config's Env
    // The image's own runtime: its Entrypoint[0] inside rootfs, when that is an executable
    // file there (symlinks may not leave rootfs); empty otherwise (e.g. no base image).
    fs::path runner;
};

// Entrypoint (an absolute path in the image) resolved inside rootfs; empty when it is not
// an executable regular file there or resolves outside rootfs.
fs::path image_executable(const fs::path& rootfs, const std::string& entrypoint);

// Unpacked layers live outside the project (cache_dir, e.g. ~/.cache/hypertest), so nothing
// of hypertest's is seen by the framework's test discovery: cache_dir/layers/<layer hex> for
// the project's layers, cache_dir/rootfs/<hash of the base's layer digests> for a base image.
class TaskRootCache {
public:
    TaskRootCache(fs::path cache_dir, fs::path layout_dir, oci::UnpackLimits limits = {})
        : m_cache_dir(std::move(cache_dir)),
          m_layout_dir(std::move(layout_dir)),
          m_limits(std::move(limits)) {}

    // Unpacks what is not unpacked yet (each into a temp dir, then renamed, so a half-unpacked
    // one is never used); concurrent callers wait for it. The task root is the image's working
    // dir when the image has it, else the root. Fails when the image is not in the layout.
    util::Result<TaskRoot> get(const std::string& manifest_digest);
    // Deletes unpacked layers and roots that neither the images of keep_digests use nor any
    // image used in the last week (the cache may be shared by several projects).
    void prune(const std::vector<std::string>& keep_digests);

private:
    fs::path m_cache_dir;
    fs::path m_layout_dir;
    oci::UnpackLimits m_limits;
    std::mutex m_mutex;
    std::map<std::string, TaskRoot> m_cache;
};

// "sha256:<64 hex>" -> "<64 hex>"; empty when malformed.
std::string digest_hex(const std::string& digest);

}  // namespace hypertest::providers
