#include "oci/safe_path.hpp"

#include <sys/stat.h>

#include <deque>
#include <vector>

#include "util/strings.hpp"

namespace hypertest::oci::detail {

namespace fs = std::filesystem;

namespace {

constexpr int k_max_links = 40;  // as the kernel's ELOOP limit

std::deque<std::string> components(const std::string& path) {
    std::deque<std::string> parts;
    for (auto& part : util::split(path, '/')) {
        if (!part.empty() && part != ".") parts.push_back(std::move(part));
    }
    return parts;
}

}  // namespace

util::Result<std::string> clean_entry_name(const std::string& name) {
    if (!name.empty() && name.front() == '/') {
        return util::make_error("entry '" + name + "' has an absolute path");
    }
    std::string clean;
    for (const auto& part : components(name)) {
        if (part == "..") return util::make_error("entry '" + name + "' contains '..'");
        if (!clean.empty()) clean += '/';
        clean += part;
    }
    return clean;
}

util::Result<std::string> resolve_inside(const fs::path& root, const std::string& rel_dir) {
    std::deque<std::string> pending = components(rel_dir);
    std::vector<std::string> resolved;
    int links = 0;
    while (!pending.empty()) {
        std::string part = std::move(pending.front());
        pending.pop_front();
        if (part == "..") {
            if (resolved.empty()) {
                return util::make_error("'" + rel_dir + "' resolves outside the target directory");
            }
            resolved.pop_back();
            continue;
        }
        resolved.push_back(part);
        fs::path here = root / util::join(resolved, "/");
        struct stat st {};
        if (::lstat(here.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) continue;
        if (++links > k_max_links) {
            return util::make_error("'" + rel_dir + "' goes through too many symlinks");
        }
        std::error_code ec;
        std::string target = fs::read_symlink(here, ec).string();
        if (ec) return util::make_error("cannot read link " + here.string() + ": " + ec.message());
        if (!target.empty() && target.front() == '/') {
            return util::make_error("'" + rel_dir + "' goes through symlink " +
                                    util::join(resolved, "/") + " -> " + target +
                                    ", which points outside the target directory");
        }
        resolved.pop_back();
        auto more = components(target);
        pending.insert(pending.begin(), more.begin(), more.end());
    }
    return util::join(resolved, "/");
}

}  // namespace hypertest::oci::detail
