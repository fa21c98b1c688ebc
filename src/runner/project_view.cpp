#include "runner/project_view.hpp"

#include <sys/stat.h>

#include <system_error>

namespace hypertest::runner {
namespace {

// Deep enough for any real project, shallow enough that a hostile tree cannot exhaust the stack.
constexpr int k_max_depth = 64;

util::Status fail(const std::string& what, const fs::path& path, const std::error_code& ec) {
    return util::make_error("cannot make a writable view of the project: " + what + " " +
                            path.string() + ": " + ec.message());
}

// An entry of a later layer replaces one of an earlier layer.
void replace(const fs::path& path) {
    std::error_code ec;
    if (fs::symlink_status(path, ec).type() != fs::file_type::directory) fs::remove(path, ec);
}

util::Status link_entries(const fs::path& from, const fs::path& to, ProjectViewStats& stats) {
    std::error_code ec;
    fs::create_directory(to, ec);
    if (ec) return fail("create", to, ec);
    for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
        replace(to / it->path().filename());
        fs::create_symlink(it->path(), to / it->path().filename(), ec);
        if (ec) return fail("link", to / it->path().filename(), ec);
        ++stats.entries_linked;
    }
    if (ec) return fail("list", from, ec);
    return util::ok_status();
}

util::Status copy_tree(const fs::path& from, const fs::path& to, int depth,
                       ProjectViewStats& stats) {
    if (depth > k_max_depth) {
        return util::make_error("cannot make a writable view of the project: " + from.string() +
                                " is nested more than " + std::to_string(k_max_depth) + " deep");
    }
    std::error_code ec;
    fs::create_directory(to, ec);
    if (ec) return fail("create", to, ec);
    for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path& src = it->path();
        fs::path dst = to / src.filename();
        auto status = it->symlink_status(ec);
        if (ec) return fail("inspect", src, ec);
        util::Status s = util::ok_status();
        if (!fs::is_directory(status)) replace(dst);
        if (fs::is_symlink(status)) {
            fs::copy_symlink(src, dst, ec);
            if (ec) return fail("copy link", src, ec);
            ++stats.entries_linked;
        } else if (fs::is_directory(status)) {
            s = src.filename() == "node_modules" ? link_entries(src, dst, stats)
                                                 : copy_tree(src, dst, depth + 1, stats);
        } else if (fs::is_regular_file(status)) {
            fs::copy_file(src, dst, ec);
            if (ec == std::errc::permission_denied) {
                // Not readable by the function's user (a 0600 file of the image): a link keeps
                // it where the suite expects it, and a test that reads it gets the same error.
                ec.clear();
                fs::remove(dst, ec);
                fs::create_symlink(src, dst, ec);
                if (ec) return fail("link", src, ec);
                ++stats.entries_linked;
                continue;
            }
            if (ec) return fail("copy", src, ec);
            // Owner-writable, so the suite can change what it ships (the image may drop it).
            fs::permissions(dst, fs::perms::owner_write, fs::perm_options::add, ec);
            ++stats.files_copied;
            stats.bytes_copied += it->file_size(ec);
        }
        if (!s) return s;
    }
    if (ec) return fail("list", from, ec);
    return util::ok_status();
}

}  // namespace

util::Result<ProjectViewStats> make_project_view(const std::vector<fs::path>& layers,
                                                 const fs::path& target) {
    ProjectViewStats stats;
    std::error_code ec;
    if (fs::symlink_status(target, ec).type() != fs::file_type::not_found)
        return util::make_error("cannot make a writable view of the project: " + target.string() +
                                " exists already");
    for (const auto& layer : layers) {
        if (auto s = copy_tree(layer, target, 0, stats); !s) return s.error();
    }
    return stats;
}

}  // namespace hypertest::runner
