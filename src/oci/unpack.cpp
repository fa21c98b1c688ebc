#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>

#include <memory>
#include <set>

#include "oci/image.hpp"
#include "oci/layout_internal.hpp"
#include "oci/safe_path.hpp"
#include "util/archive_ptr.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace hypertest::oci {

namespace {

constexpr std::string_view k_whiteout_prefix = ".wh.";
constexpr std::string_view k_opaque_whiteout = ".wh..wh..opq";
// No ARCHIVE_EXTRACT_OWNER: files belong to whoever unpacks. SECURE_NOABSOLUTEPATHS is not
// set because names reach libarchive as absolute paths under the target: the alternative,
// chdir(target), would move the cwd of every thread. Absolute names are refused before that.
constexpr int k_extract_flags = ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                                ARCHIVE_EXTRACT_UNLINK | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
                                ARCHIVE_EXTRACT_SECURE_NODOTDOT;

using ArchivePtr = util::ArchiveReader;
using DiskPtr = util::ArchiveWriter;

std::string join_rel(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
}

std::string archive_message(struct archive* a) {
    const char* message = archive_error_string(a);
    return message ? message : "libarchive error";
}

// Entry names are bytes on Linux; prefer the UTF-8 form so the C locale cannot mangle them.
std::string entry_name(struct archive_entry* e) {
    const char* utf8 = archive_entry_pathname_utf8(e);
    const char* raw = utf8 ? utf8 : archive_entry_pathname(e);
    return raw ? raw : "";
}

std::string entry_hardlink(struct archive_entry* e) {
    const char* utf8 = archive_entry_hardlink_utf8(e);
    const char* raw = utf8 ? utf8 : archive_entry_hardlink(e);
    return raw ? raw : "";
}

// What an unpack call has written so far, against its limits.
class Budget {
public:
    explicit Budget(const UnpackLimits& limits) : m_limits(limits) {}

    util::Status add_entry(const std::string& rel, std::int64_t declared_size) {
        if (++m_entries > m_limits.max_entries)
            return over("more than " + std::to_string(m_limits.max_entries) + " entries", "maxEntries");
        if (declared_size > m_limits.max_file_bytes)
            return over("'" + rel + "' has " + std::to_string(declared_size) + " bytes, more than " +
                            std::to_string(m_limits.max_file_bytes),
                        "maxFileBytes");
        return util::ok_status();
    }
    util::Status add_bytes(const std::string& rel, std::int64_t file_bytes, std::size_t more) {
        m_bytes += static_cast<std::int64_t>(more);
        if (file_bytes > m_limits.max_file_bytes)
            return over("'" + rel + "' has more than " + std::to_string(m_limits.max_file_bytes) + " bytes",
                        "maxFileBytes");
        if (m_bytes > m_limits.max_bytes)
            return over("more than " + std::to_string(m_limits.max_bytes) + " bytes uncompressed", "maxBytes");
        return util::ok_status();
    }

private:
    util::Status over(const std::string& what, const std::string& setting) const {
        return util::make_error("refusing to unpack: the image holds " + what + " (" +
                                m_limits.setting_prefix + setting + ")");
    }

    const UnpackLimits& m_limits;
    std::int64_t m_entries = 0;
    std::int64_t m_bytes = 0;
};

// Unpacks one layer. `m_created` holds what this layer wrote, because whiteouts only hide
// content of lower layers.
class LayerExtractor {
public:
    LayerExtractor(fs::path root, Budget& budget) : m_root(std::move(root)), m_budget(budget) {}

    util::Status extract(const fs::path& blob) {
        ArchivePtr reader(archive_read_new());
        archive_read_support_filter_all(reader.get());
        archive_read_support_format_tar(reader.get());
        if (archive_read_open_filename(reader.get(), blob.c_str(), 1 << 16) != ARCHIVE_OK) {
            return util::make_error("cannot open " + blob.string() + ": " +
                                    archive_message(reader.get()));
        }
        DiskPtr disk(archive_write_disk_new());
        archive_write_disk_set_options(disk.get(), k_extract_flags);
        struct archive_entry* entry = nullptr;
        while (true) {
            int rc = archive_read_next_header(reader.get(), &entry);
            if (rc == ARCHIVE_EOF) break;
            if (rc < ARCHIVE_WARN) {
                return util::make_error("cannot read " + blob.string() + ": " +
                                        archive_message(reader.get()));
            }
            if (auto s = extract_entry(reader.get(), disk.get(), entry); !s) return s;
        }
        if (archive_write_close(disk.get()) != ARCHIVE_OK) {
            return util::make_error("cannot finish unpacking: " + archive_message(disk.get()));
        }
        return util::ok_status();
    }

private:
    util::Status extract_entry(struct archive* reader, struct archive* disk,
                               struct archive_entry* entry) {
        auto name = detail::clean_entry_name(entry_name(entry));
        if (!name) return util::make_error("refusing to unpack: " + name.error().message);
        if (name->empty()) return util::ok_status();  // the root directory itself
        auto slash = name->rfind('/');
        std::string base = slash == std::string::npos ? *name : name->substr(slash + 1);
        auto parent = detail::resolve_inside(
            m_root, slash == std::string::npos ? std::string() : name->substr(0, slash));
        if (!parent) return util::make_error("refusing to unpack: " + parent.error().message);
        if (util::starts_with(base, k_whiteout_prefix)) return apply_whiteout(*parent, base);
        auto type = archive_entry_filetype(entry);
        if (type == AE_IFCHR || type == AE_IFBLK) return util::ok_status();  // not ours to create
        std::string rel = join_rel(*parent, base);
        if (auto s = m_budget.add_entry(rel, archive_entry_size(entry)); !s) return s;
        // A setuid file from an image would run as its owner (root, when root unpacks);
        // world-writable ones could be changed by any user of the host.
        archive_entry_set_perm(entry, archive_entry_perm(entry) & ~mode_t{S_ISUID | S_ISGID | S_IWOTH});
        std::string link = entry_hardlink(entry);
        if (!link.empty()) {
            auto link_rel = hardlink_target(link);
            if (!link_rel)
                return util::make_error("refusing to unpack: " + link_rel.error().message);
            archive_entry_copy_hardlink(entry, (m_root / *link_rel).c_str());
        }
        archive_entry_copy_pathname(entry, (m_root / rel).c_str());
        if (archive_write_header(disk, entry) < ARCHIVE_WARN) {
            return util::make_error("cannot unpack '" + rel + "': " + archive_message(disk));
        }
        if (auto s = copy_data(reader, disk, rel, m_budget); !s) return s;
        if (archive_write_finish_entry(disk) < ARCHIVE_WARN) {
            return util::make_error("cannot unpack '" + rel + "': " + archive_message(disk));
        }
        mark_created(rel);
        return util::ok_status();
    }

    util::Result<std::string> hardlink_target(const std::string& link) {
        auto clean = detail::clean_entry_name(link);
        if (!clean) return clean.error();
        auto slash = clean->rfind('/');
        if (slash == std::string::npos) return *clean;
        auto dir = detail::resolve_inside(m_root, clean->substr(0, slash));
        if (!dir) return dir.error();
        return join_rel(*dir, clean->substr(slash + 1));
    }

    static util::Status copy_data(struct archive* reader, struct archive* disk,
                                  const std::string& rel, Budget& budget) {
        const void* block = nullptr;
        size_t size = 0;
        la_int64_t offset = 0;
        while (true) {
            int rc = archive_read_data_block(reader, &block, &size, &offset);
            if (rc == ARCHIVE_EOF) return util::ok_status();
            if (rc < ARCHIVE_WARN) {
                return util::make_error("cannot read '" + rel + "': " + archive_message(reader));
            }
            if (auto s = budget.add_bytes(rel, static_cast<std::int64_t>(offset) +
                                                   static_cast<std::int64_t>(size), size);
                !s)
                return s;
            if (archive_write_data_block(disk, block, size, offset) < ARCHIVE_WARN) {
                return util::make_error("cannot write '" + rel + "': " + archive_message(disk));
            }
        }
    }

    void mark_created(const std::string& rel) {
        for (auto pos = rel.find('/'); pos != std::string::npos; pos = rel.find('/', pos + 1)) {
            m_created.insert(rel.substr(0, pos));
        }
        m_created.insert(rel);
    }

    util::Status apply_whiteout(const std::string& dir, const std::string& base) {
        if (base == k_opaque_whiteout) return clear_lower(dir);
        std::string hidden = base.substr(k_whiteout_prefix.size());
        if (hidden.empty() || hidden == "." || hidden == "..") {
            return util::make_error("refusing to unpack: invalid whiteout '" + join_rel(dir, base) +
                                    "'");
        }
        std::string rel = join_rel(dir, hidden);
        if (m_created.count(rel)) return util::ok_status();
        std::error_code ec;
        fs::remove_all(m_root / rel, ec);
        if (ec) return util::make_error("cannot apply whiteout for '" + rel + "': " + ec.message());
        return util::ok_status();
    }

    // Removes what lower layers left in dir; keeps what this layer wrote there.
    util::Status clear_lower(const std::string& dir) {
        std::error_code ec;
        fs::path abs = dir.empty() ? m_root : m_root / dir;
        if (!fs::is_directory(fs::symlink_status(abs, ec))) return util::ok_status();
        std::vector<std::string> children;
        for (fs::directory_iterator it(abs, ec), end; !ec && it != end; it.increment(ec)) {
            children.push_back(it->path().filename().string());
        }
        if (ec)
            return util::make_error("cannot apply opaque whiteout in '" + dir +
                                    "': " + ec.message());
        for (const auto& child : children) {
            std::string rel = join_rel(dir, child);
            if (!m_created.count(rel)) {
                fs::remove_all(m_root / rel, ec);
                if (ec)
                    return util::make_error("cannot apply opaque whiteout to '" + rel +
                                            "': " + ec.message());
            } else if (fs::is_directory(fs::symlink_status(m_root / rel, ec))) {
                if (auto s = clear_lower(rel); !s) return s;
            }
        }
        return util::ok_status();
    }

    fs::path m_root;
    Budget& m_budget;
    std::set<std::string> m_created;
};

util::Result<std::vector<util::Json>> manifest_layers(const ImageLayout& layout,
                                                      const std::string& manifest_digest) {
    auto bytes = layout.read_blob(manifest_digest);
    if (!bytes) return bytes.error();
    auto manifest = util::parse_json(*bytes, "manifest " + manifest_digest);
    if (!manifest) return manifest.error();
    auto layers = util::json_get<util::Json>(*manifest, "layers", util::Json());
    if (!layers.is_array()) {
        return util::make_error("manifest " + manifest_digest + " has no layers array");
    }
    return layers.get<std::vector<util::Json>>();
}

util::Status verify_layer_blob(const ImageLayout& layout, const std::string& digest) {
    if (!layout.has_blob(digest)) {
        return util::make_error("layer blob " + digest + " is missing from " +
                                layout.dir().string());
    }
    auto actual = util::sha256_file_hex(layout.blob_path(digest));
    if (!actual) return actual.error();
    if ("sha256:" + *actual != digest) {
        return util::make_error("layer blob " + digest + " in " + layout.dir().string() +
                                " is corrupt: its content hashes to sha256:" + *actual);
    }
    return util::ok_status();
}

}  // namespace

util::Result<std::vector<LayerRef>> image_layers(const ImageLayout& layout,
                                                 const std::string& manifest_digest) {
    auto layers = manifest_layers(layout, manifest_digest);
    if (!layers) return layers.error();
    std::vector<LayerRef> out;
    for (const auto& layer : *layers) {
        out.push_back({util::json_get<std::string>(layer, "digest", ""),
                       util::json_get<std::string>(layer, "mediaType", "")});
    }
    return out;
}

util::Status unpack_image(const ImageLayout& layout, const std::string& manifest_digest,
                          const fs::path& target, const UnpackLimits& limits) {
    auto layers = image_layers(layout, manifest_digest);
    if (!layers) return layers.error();
    return unpack_layers(layout, *layers, target, limits);
}

util::Status unpack_layers(const ImageLayout& layout, const std::vector<LayerRef>& layers,
                           const fs::path& target, const UnpackLimits& limits) {
    Budget budget(limits);
    std::error_code ec;
    fs::create_directories(target, ec);
    fs::path root = fs::canonical(target, ec);  // no symlinks above the entries we check
    if (ec) return util::make_error("cannot create " + target.string() + ": " + ec.message());
    for (const auto& [digest, media_type] : layers) {
        if (media_type.find("tar") == std::string::npos) {
            return util::make_error("layer " + digest + " has unsupported media type '" +
                                    media_type + "'");
        }
        if (auto s = verify_layer_blob(layout, digest); !s) return s;
        LayerExtractor extractor(root, budget);
        if (auto s = extractor.extract(layout.blob_path(digest)); !s) {
            return util::make_error("layer " + digest + ": " + s.error().message);
        }
    }
    return util::ok_status();
}

}  // namespace hypertest::oci
