#include "oci/layer_sources.hpp"

#include <set>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "oci/ignore_rules.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci::detail {

namespace fs = std::filesystem;

namespace {

struct DirId {
    dev_t dev = 0;
    ino_t ino = 0;
    bool valid = false;
};

class Collector {
public:
    Collector(fs::path root, DirId exclude, const std::vector<std::string>& skip, const LayerFilter& filter)
        : m_root(std::move(root)), m_exclude(exclude), m_skip(skip.begin(), skip.end()), m_filter(filter) {}

    util::Status add(const std::string& rel) {
        fs::path abs = rel.empty() ? m_root : m_root / rel;
        struct stat st {};
        if (::lstat(abs.c_str(), &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) return util::ok_status();
            return util::make_error("cannot read " + abs.string() + ": " + std::strerror(errno));
        }
        add_parents(rel);
        return add_entry(rel, abs, st);
    }

    SourceEntries take() { return std::move(m_entries); }

private:
    void add_parents(const std::string& rel) {
        for (std::size_t pos = rel.find('/'); pos != std::string::npos;
             pos = rel.find('/', pos + 1)) {
            m_entries.try_emplace(rel.substr(0, pos), SourceEntry{});
        }
    }

    util::Status add_entry(const std::string& rel, const fs::path& abs, const struct stat& st) {
        SourceEntry entry;
        entry.source = abs;
        entry.mtime_ns =
            static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
        if (m_skip.count(rel) || left_out(rel, S_ISDIR(st.st_mode))) return util::ok_status();
        if (S_ISDIR(st.st_mode)) {
            if (m_exclude.valid && st.st_dev == m_exclude.dev && st.st_ino == m_exclude.ino) {
                return util::ok_status();
            }
            entry.kind = SourceEntry::Kind::directory;
            entry.mtime_ns = 0;  // changes with every temp file; the tar does not keep it
            if (!rel.empty()) m_entries.insert_or_assign(rel, entry);
            return add_children(rel, abs);
        }
        if (S_ISREG(st.st_mode)) {
            entry.kind = SourceEntry::Kind::file;
            entry.mode = st.st_mode & 0777;
            entry.size = st.st_size;
        } else if (S_ISLNK(st.st_mode)) {
            entry.kind = SourceEntry::Kind::symlink;
            entry.mode = 0777;
            std::error_code ec;
            entry.link_target = fs::read_symlink(abs, ec).string();
            if (ec)
                return util::make_error("cannot read link " + abs.string() + ": " + ec.message());
        } else {
            return util::ok_status();  // sockets, fifos, devices have no place in an image
        }
        m_entries.insert_or_assign(rel, std::move(entry));
        return util::ok_status();
    }

    util::Status add_children(const std::string& rel, const fs::path& abs) {
        std::error_code ec;
        fs::directory_iterator it(abs, ec);
        if (ec) return util::make_error("cannot list " + abs.string() + ": " + ec.message());
        for (; it != fs::directory_iterator(); it.increment(ec)) {
            std::string name = it->path().filename().string();
            std::string child = rel.empty() ? name : rel + "/" + name;
            struct stat st {};
            if (::lstat(it->path().c_str(), &st) != 0) {
                if (errno == ENOENT) continue;  // removed while walking
                return util::make_error("cannot read " + it->path().string() + ": " +
                                        std::strerror(errno));
            }
            if (auto s = add_entry(child, it->path(), st); !s) return s;
        }
        if (ec) return util::make_error("cannot list " + abs.string() + ": " + ec.message());
        return util::ok_status();
    }

    bool left_out(const std::string& rel, bool is_dir) {
        if (!m_filter.ignore || rel.empty()) return false;
        auto verdict = m_filter.ignore->check(rel, is_dir);
        if (verdict == IgnoreRules::Verdict::ignored_by_default && m_filter.left_out_by_default)
            m_filter.left_out_by_default->push_back(rel);
        return verdict != IgnoreRules::Verdict::kept;
    }

    fs::path m_root;
    DirId m_exclude;
    std::set<std::string> m_skip;
    const LayerFilter& m_filter;
    SourceEntries m_entries;
};

// "" for the root itself; fails for absolute paths and paths that leave root.
util::Result<std::string> normalise(const std::string& path) {
    fs::path p = fs::path(path).lexically_normal();
    if (p.is_absolute()) {
        return util::make_error("layer path '" + path + "' must be relative to the project root");
    }
    if (!p.empty() && *p.begin() == "..") {
        return util::make_error("layer path '" + path + "' leaves the project root");
    }
    std::string s = p.generic_string();
    while (!s.empty() && s.back() == '/') s.pop_back();
    if (s == ".") s.clear();
    return s;
}

}  // namespace

util::Result<SourceEntries> collect_sources(const fs::path& root,
                                            const std::vector<std::string>& paths,
                                            const fs::path& exclude_dir,
                                            const LayerFilter& filter) {
    DirId exclude;
    struct stat st {};
    if (!exclude_dir.empty() && ::stat(exclude_dir.c_str(), &st) == 0) {
        exclude = DirId{st.st_dev, st.st_ino, true};
    }
    std::vector<std::string> skip_clean;
    for (const auto& s : filter.skip) {
        if (auto rel = normalise(s); rel && !rel->empty()) skip_clean.push_back(*rel);
    }
    Collector collector(root, exclude, skip_clean, filter);
    for (const auto& path : paths) {
        auto rel = normalise(path);
        if (!rel) return rel.error();
        if (auto s = collector.add(*rel); !s) return s.error();
    }
    return collector.take();
}

std::string fingerprint(const SourceEntries& entries) {
    util::Sha256 hash;
    hash.update("hypertest-layer-v1\n");
    for (const auto& [path, e] : entries) {
        std::string line = path;
        line += '\0';
        line += std::to_string(static_cast<int>(e.kind)) + '\0' + std::to_string(e.size) + '\0' +
                std::to_string(e.mtime_ns) + '\0' + std::to_string(e.mode) + '\0' + e.link_target +
                '\n';
        hash.update(line);
    }
    return "sha256:" + hash.hex();
}

}  // namespace hypertest::oci::detail
