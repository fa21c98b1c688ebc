#include "providers/local/task_root.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <set>

#include "oci/image.hpp"
#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/log.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace hypertest::providers {
namespace {

// Where the project's layers put the task root (deploy builds them under var/task).
constexpr const char* k_task_root_dir = "var/task";

// The image's config document ("config" of the manifest); an empty object when it cannot be
// read, which leaves the defaults (no env, no entrypoint, no project layers).
util::Json image_config(const oci::ImageLayout& layout, const std::string& digest) {
    auto manifest_text = layout.read_blob(digest);
    if (!manifest_text) return util::Json::object();
    auto manifest = util::parse_json(*manifest_text, "image manifest");
    if (!manifest) return util::Json::object();
    std::string config_digest =
        util::json_get<std::string>(util::json_get<util::Json>(*manifest, "config", {}), "digest", "");
    auto config_text = layout.read_blob(config_digest);
    if (!config_text) return util::Json::object();
    auto config = util::parse_json(*config_text, "image config");
    return config && config->is_object() ? *config : util::Json::object();
}

// Env, Entrypoint and WorkingDir of the image config (the last matters to an image without
// project layers of hypertest's, whose task root is a folder of its root file system).
void apply_image_config(const util::Json& config, TaskRoot& root) {
    util::Json c = util::json_get<util::Json>(config, "config", util::Json::object());
    for (const auto& kv : util::json_get<std::vector<std::string>>(c, "Env", {})) {
        auto eq = kv.find('=');
        if (eq != std::string::npos && eq > 0) root.env[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    auto entrypoint = util::json_get<std::vector<std::string>>(c, "Entrypoint", {});
    if (!entrypoint.empty() && !root.rootfs.empty())
        root.runner = image_executable(root.rootfs, entrypoint.front());
    std::string workdir = util::json_get<std::string>(c, "WorkingDir", "");
    fs::path candidate = (root.path / fs::path(workdir).relative_path()).lexically_normal();
    std::error_code ec;
    if (!root.path.empty() && !workdir.empty() && util::starts_with(candidate.string(), root.path.string()) &&
        fs::is_directory(candidate, ec)) {
        root.path = candidate;
    }
}

util::Status unpack_once(const oci::ImageLayout& layout, const std::vector<oci::LayerRef>& layers,
                         const fs::path& target, const oci::UnpackLimits& limits) {
    std::error_code ec;
    if (fs::is_directory(target, ec)) {
        // Marks it used, for prune().
        fs::last_write_time(target, fs::file_time_type::clock::now(), ec);
        return util::ok_status();
    }
    if (auto s = util::ensure_dir(target.parent_path()); !s) return s;
    static std::atomic<int> serial{0};
    fs::path tmp = target.parent_path() / (".tmp-" + target.filename().string() + "-" +
                                           std::to_string(::getpid()) + "-" + std::to_string(++serial));
    fs::remove_all(tmp, ec);
    if (auto s = oci::unpack_layers(layout, layers, tmp, limits); !s) {
        fs::remove_all(tmp, ec);
        return s;
    }
    fs::rename(tmp, target, ec);
    if (ec) {
        std::error_code ignore;
        fs::remove_all(tmp, ignore);
        // Another process may have unpacked the same layers first.
        if (!fs::is_directory(target, ignore))
            return util::make_error("cannot move the unpacked layers to " + target.string() + ": " +
                                    ec.message());
    }
    return util::ok_status();
}

// How many of the image's last layers are the project's own: hypertest names them in the
// config's history ("hypertest: dependencies", "hypertest: tests").
std::size_t project_layer_count(const util::Json& config) {
    auto history = util::json_get<util::Json>(config, "history", util::Json::array());
    std::size_t count = 0;
    for (auto it = history.rbegin(); it != history.rend(); ++it) {
        if (util::json_get<bool>(*it, "empty_layer", false)) continue;
        if (!util::starts_with(util::json_get<std::string>(*it, "created_by", ""), "hypertest: ")) break;
        ++count;
    }
    return count;
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

std::string digest_hex(const std::string& digest) { return util::sha256_digest_hex(digest); }

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
    auto layers = oci::image_layers(*layout, digest);
    if (!layers) return util::make_error("cannot read image " + digest + ": " + layers.error().message);
    util::Json config = image_config(*layout, digest);
    std::size_t own = std::min(project_layer_count(config), layers->size());
    std::vector<oci::LayerRef> base(layers->begin(), layers->end() - static_cast<long>(own));
    TaskRoot root;
    if (!base.empty()) {
        std::string chain;
        for (const auto& l : base) chain += l.digest + "\n";
        root.rootfs = m_cache_dir / "rootfs" / util::sha256_hex(chain);
        if (auto s = unpack_once(*layout, base, root.rootfs, m_limits); !s)
            return util::make_error("cannot unpack the base of image " + digest + ": " + s.error().message);
        root.path = root.rootfs;
    }
    apply_image_config(config, root);
    for (auto it = layers->end() - static_cast<long>(own); it != layers->end(); ++it) {
        std::string layer_hex = digest_hex(it->digest);
        if (layer_hex.empty()) return util::make_error("malformed layer digest \"" + it->digest + "\"");
        fs::path dir = m_cache_dir / "layers" / layer_hex;
        if (auto s = unpack_once(*layout, {*it}, dir, m_limits); !s)
            return util::make_error("cannot unpack image " + digest + ": " + s.error().message);
        root.task_layers.push_back(dir / k_task_root_dir);
    }
    if (!root.task_layers.empty()) root.path = root.task_layers.back();
    util::log_debug("task root for " + digest + ": " + root.path.string() + " (" +
                    std::to_string(root.task_layers.size()) + " project layers)" +
                    (root.runner.empty() ? "" : ", runtime " + root.runner.string()));
    m_cache[digest] = root;
    return root;
}

void TaskRootCache::prune(const std::vector<std::string>& keep_digests) {
    std::lock_guard lock(m_mutex);
    std::set<fs::path> keep;
    for (const auto& d : keep_digests) {
        auto it = m_cache.find(d);
        if (it == m_cache.end()) continue;
        if (!it->second.rootfs.empty()) keep.insert(it->second.rootfs);
        for (const auto& l : it->second.task_layers) keep.insert(l.parent_path().parent_path());
    }
    auto stale_before = fs::file_time_type::clock::now() - std::chrono::hours(24 * 7);
    for (const char* kind : {"layers", "rootfs"}) {
        std::error_code ec;
        for (fs::directory_iterator it(m_cache_dir / kind, ec), end; !ec && it != end; it.increment(ec)) {
            std::error_code ignore;
            if (it->path().filename().string().size() != 64 || keep.count(it->path())) continue;
            if (fs::last_write_time(it->path(), ignore) > stale_before) continue;
            fs::remove_all(it->path(), ignore);
        }
    }
    for (auto it = m_cache.begin(); it != m_cache.end();) {
        it = std::find(keep_digests.begin(), keep_digests.end(), it->first) == keep_digests.end()
                 ? m_cache.erase(it)
                 : std::next(it);
    }
}

}  // namespace hypertest::providers
