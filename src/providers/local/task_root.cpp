#include "providers/local/task_root.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "oci/image.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/log.hpp"

namespace hypertest::providers {
namespace {

// Env and WorkingDir of the image config; empty when the config cannot be read.
void read_image_config(const oci::ImageLayout& layout, const std::string& digest, TaskRoot& root) {
    auto manifest_text = layout.read_blob(digest);
    if (!manifest_text) return;
    auto manifest = util::parse_json(*manifest_text, "image manifest");
    if (!manifest) return;
    std::string config_digest =
        util::json_get<std::string>(util::json_get<util::Json>(*manifest, "config", {}), "digest", "");
    auto config_text = layout.read_blob(config_digest);
    if (!config_text) return;
    auto config = util::parse_json(*config_text, "image config");
    if (!config) return;
    util::Json c = util::json_get<util::Json>(*config, "config", util::Json::object());
    for (const auto& kv : util::json_get<std::vector<std::string>>(c, "Env", {})) {
        auto eq = kv.find('=');
        if (eq != std::string::npos && eq > 0) root.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    auto entrypoint = util::json_get<std::vector<std::string>>(c, "Entrypoint", {});
    if (!entrypoint.empty()) root.runner = image_executable(root.rootfs, entrypoint.front());
    std::string workdir = util::json_get<std::string>(c, "WorkingDir", "");
    fs::path candidate = root.path / fs::path(workdir).relative_path();
    std::error_code ec;
    if (!workdir.empty() && candidate.lexically_normal().string().rfind(root.path.string(), 0) == 0 &&
        fs::is_directory(candidate, ec)) {
        root.path = candidate.lexically_normal();
    }
}

util::Status unpack_once(const oci::ImageLayout& layout, const std::string& digest,
                         const fs::path& target) {
    std::error_code ec;
    if (fs::is_directory(target, ec)) return util::ok_status();
    static std::atomic<int> serial{0};
    fs::path tmp = target.parent_path() / (".tmp-" + target.filename().string() + "-" +
                                           std::to_string(::getpid()) + "-" + std::to_string(++serial));
    fs::remove_all(tmp, ec);
    if (auto s = oci::unpack_image(layout, digest, tmp); !s) {
        fs::remove_all(tmp, ec);
        return s;
    }
    fs::rename(tmp, target, ec);
    if (ec) {
        std::error_code ignore;
        fs::remove_all(tmp, ignore);
        // Another process may have unpacked the same image first.
        if (!fs::is_directory(target, ignore))
            return util::make_error("cannot move the unpacked image to " + target.string() + ": " +
                                    ec.message());
    }
    return util::ok_status();
}

}  // namespace

fs::path image_executable(const fs::path& rootfs, const std::string& entrypoint) {
    if (entrypoint.empty() || entrypoint.front() != '/') return {};
    std::error_code ec;
    fs::path root = fs::canonical(rootfs, ec);
    if (ec) return {};
    // Absolute link targets name host paths to canonical(): they land outside root and are
    // refused, like relative ones that climb out.
    fs::path file = fs::canonical(root / fs::path(entrypoint).relative_path(), ec);
    if (ec) return {};
    auto rel = file.lexically_relative(root);
    if (rel.empty() || *rel.begin() == "..") return {};
    if (!fs::is_regular_file(file, ec) || ::access(file.c_str(), X_OK) != 0) return {};
    return file;
}

std::string digest_hex(const std::string& digest) {
    const std::string prefix = "sha256:";
    if (digest.rfind(prefix, 0) != 0) return {};
    std::string hex = digest.substr(prefix.size());
    if (hex.size() != 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) return {};
    return hex;
}

util::Result<TaskRoot> TaskRootCache::get(const std::string& digest) {
    std::lock_guard lock(m_mutex);
    if (auto it = m_cache.find(digest); it != m_cache.end()) return it->second;
    std::string hex = digest_hex(digest);
    if (hex.empty()) return util::make_error("malformed image digest \"" + digest + "\"");
    auto layout = oci::ImageLayout::open(m_layout_dir);
    if (!layout) return layout.error();
    if (!layout->has_blob(digest)) {
        return util::make_error("image " + digest + " is not in " + m_layout_dir.string() +
                                "; run `hypertest deploy` again");
    }
    if (auto s = util::ensure_dir(m_rootfs_dir); !s) return s.error();
    TaskRoot root;
    root.path = m_rootfs_dir / hex;
    root.rootfs = root.path;
    if (auto s = unpack_once(*layout, digest, root.path); !s)
        return util::make_error("cannot unpack image " + digest + ": " + s.error().message);
    read_image_config(*layout, digest, root);
    util::log_debug("task root for " + digest + ": " + root.path.string() +
                    (root.runner.empty() ? "" : ", runtime " + root.runner.string()));
    m_cache[digest] = root;
    return root;
}

void TaskRootCache::prune(const std::vector<std::string>& keep_digests) {
    std::lock_guard lock(m_mutex);
    std::vector<std::string> keep;
    for (const auto& d : keep_digests) keep.push_back(digest_hex(d));
    std::error_code ec;
    for (fs::directory_iterator it(m_rootfs_dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        if (name.size() != 64 || std::find(keep.begin(), keep.end(), name) != keep.end()) continue;
        std::error_code ignore;
        fs::remove_all(it->path(), ignore);
    }
    for (auto it = m_cache.begin(); it != m_cache.end();) {
        it = std::find(keep_digests.begin(), keep_digests.end(), it->first) == keep_digests.end()
                 ? m_cache.erase(it)
                 : std::next(it);
    }
}

}  // namespace hypertest::providers
