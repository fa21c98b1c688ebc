#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <locale.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <clocale>
#include <cstring>
#include <memory>
#include <optional>

#include "oci/gzip_writer.hpp"
#include "oci/image.hpp"
#include "oci/layer_sources.hpp"
#include "oci/layout_internal.hpp"
#include "util/archive_ptr.hpp"
#include "util/fs.hpp"
#include "util/log.hpp"

namespace hypertest::oci {

namespace {

using detail::GzipFileWriter;
using detail::SourceEntries;
using detail::SourceEntry;

constexpr int k_cache_version = 1;
constexpr std::size_t k_read_chunk = 256 * 1024;


la_ssize_t write_to_gzip(struct archive* a, void* client, const void* buffer, size_t length) {
    auto* gzip = static_cast<GzipFileWriter*>(client);
    auto status = gzip->write(std::string_view(static_cast<const char*>(buffer), length));
    if (!status) {
        archive_set_error(a, EIO, "%s", status.error().message.c_str());
        return -1;
    }
    return static_cast<la_ssize_t>(length);
}

util::Error archive_failure(struct archive* a, const std::string& what) {
    const char* message = archive_error_string(a);
    return util::make_error(what + ": " + (message ? message : "libarchive error"));
}

util::Status copy_file_data(struct archive* a, const SourceEntry& entry) {
    int fd = ::open(entry.source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        return util::make_error("cannot read " + entry.source.string() + ": " +
                                std::strerror(errno));
    }
    std::unique_ptr<char[]> buffer(new char[k_read_chunk]);
    std::int64_t remaining = entry.size;
    util::Status status = util::ok_status();
    while (remaining > 0) {
        std::size_t want = static_cast<std::size_t>(
            std::min<std::int64_t>(remaining, static_cast<std::int64_t>(k_read_chunk)));
        ssize_t n = ::read(fd, buffer.get(), want);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            status = util::make_error(entry.source.string() +
                                      " changed while building the layer (shorter than " +
                                      std::to_string(entry.size) + " bytes); retry");
            break;
        }
        if (archive_write_data(a, buffer.get(), static_cast<size_t>(n)) < 0) {
            status = archive_failure(a, "cannot add " + entry.source.string());
            break;
        }
        remaining -= n;
    }
    ::close(fd);
    return status;
}

util::Status write_entry(struct archive* a, const std::string& path, const SourceEntry& entry) {
    util::ArchiveEntry e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), path.c_str());
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_perm(e.get(), entry.mode);
    switch (entry.kind) {
        case SourceEntry::Kind::directory:
            archive_entry_set_filetype(e.get(), AE_IFDIR);
            break;
        case SourceEntry::Kind::file:
            archive_entry_set_filetype(e.get(), AE_IFREG);
            archive_entry_set_size(e.get(), entry.size);
            break;
        case SourceEntry::Kind::symlink:
            archive_entry_set_filetype(e.get(), AE_IFLNK);
            archive_entry_copy_symlink(e.get(), entry.link_target.c_str());
            break;
    }
    int rc = archive_write_header(a, e.get());
    if (rc < ARCHIVE_WARN) return archive_failure(a, "cannot add " + path + " to the layer");
    if (rc == ARCHIVE_WARN) {
        const char* message = archive_error_string(a);
        util::log_warn("layer entry " + path + ": " + (message ? message : "warning"));
    }
    if (entry.kind == SourceEntry::Kind::file) return copy_file_data(a, entry);
    return util::ok_status();
}

// libarchive converts names from the thread's locale to UTF-8 for PAX headers, so the tar
// would depend on LANG. Pinning this thread to a UTF-8 locale while writing makes UTF-8 names
// (all of node_modules) come out the same everywhere; other bytes fall back to
// hdrcharset=BINARY, also the same everywhere.
class ScopedUtf8Locale {
public:
    ScopedUtf8Locale() {
        for (const char* name : {"C.UTF-8", "C.utf8", "en_US.UTF-8"}) {
            m_locale = ::newlocale(LC_CTYPE_MASK, name, static_cast<locale_t>(0));
            if (m_locale != static_cast<locale_t>(0)) break;
        }
        if (active()) m_previous = ::uselocale(m_locale);
    }
    ~ScopedUtf8Locale() {
        if (!active()) return;
        ::uselocale(m_previous);
        ::freelocale(m_locale);
    }
    ScopedUtf8Locale(const ScopedUtf8Locale&) = delete;
    ScopedUtf8Locale& operator=(const ScopedUtf8Locale&) = delete;
    bool active() const { return m_locale != static_cast<locale_t>(0); }

private:
    locale_t m_locale = static_cast<locale_t>(0);
    locale_t m_previous = static_cast<locale_t>(0);
};

// Streams the entries as a PAX tar into gzip. PAX (restricted: plain ustar headers unless an
// entry needs more) keeps long and non-ASCII names intact.
util::Status write_tar(const SourceEntries& entries, GzipFileWriter& gzip) {
    ScopedUtf8Locale utf8;  // before archive_write_new: the archive caches the charset
    if (!utf8.active()) util::log_debug("no UTF-8 locale; non-ASCII tar names stay raw bytes");
    util::ArchiveWriter a(archive_write_new());
    if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK ||
        (!utf8.active() &&
         archive_write_set_format_option(a.get(), "pax", "hdrcharset", "BINARY") != ARCHIVE_OK) ||
        archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
        archive_write_set_bytes_per_block(a.get(), 10240) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) {
        return archive_failure(a.get(), "cannot configure the tar writer");
    }
    if (archive_write_open(a.get(), &gzip, nullptr, write_to_gzip, nullptr) != ARCHIVE_OK) {
        return archive_failure(a.get(), "cannot start the layer tar");
    }
    for (const auto& [path, entry] : entries) {
        if (auto s = write_entry(a.get(), path, entry); !s) return s;
    }
    if (archive_write_close(a.get()) != ARCHIVE_OK) {
        return archive_failure(a.get(), "cannot finish the layer tar");
    }
    return util::ok_status();
}

util::Json layer_json(const Layer& layer) {
    return util::Json{{"digest", layer.digest},
                      {"diff_id", layer.diff_id},
                      {"size", layer.size},
                      {"media_type", layer.media_type}};
}

// The cached layer when the cache file records this fingerprint and its blob is present.
std::optional<Layer> cached_layer(const fs::path& cache_file, const std::string& fingerprint,
                                  const ImageLayout& layout) {
    std::error_code ec;
    if (cache_file.empty() || !fs::exists(cache_file, ec)) return std::nullopt;
    auto text = util::read_file(cache_file);
    if (!text) return std::nullopt;
    auto cache = util::parse_json(*text, cache_file.string());
    if (!cache || util::json_get<int>(*cache, "version", 0) != k_cache_version ||
        util::json_get<std::string>(*cache, "fingerprint", "") != fingerprint) {
        return std::nullopt;
    }
    auto stored = util::json_get<util::Json>(*cache, "layer", util::Json::object());
    Layer layer;
    layer.digest = util::json_get<std::string>(stored, "digest", "");
    layer.diff_id = util::json_get<std::string>(stored, "diff_id", "");
    layer.size = util::json_get<std::int64_t>(stored, "size", -1);
    layer.media_type = util::json_get<std::string>(stored, "media_type", layer.media_type);
    if (!layout.has_blob(layer.digest) || !util::is_sha256_digest(layer.diff_id)) {
        return std::nullopt;
    }
    auto on_disk = fs::file_size(layout.blob_path(layer.digest), ec);
    if (ec || static_cast<std::int64_t>(on_disk) != layer.size) return std::nullopt;
    layer.reused = true;
    return layer;
}

void store_cache(const fs::path& cache_file, const std::string& fingerprint, const Layer& layer) {
    util::Json cache{
        {"version", k_cache_version}, {"fingerprint", fingerprint}, {"layer", layer_json(layer)}};
    if (auto s = util::write_file_atomic(cache_file, cache.dump(2) + "\n"); !s) {
        util::log_warn("layer cache not saved (next build will re-tar): " + s.error().message);
    }
}

util::Result<Layer> write_layer_blob(const SourceEntries& entries, ImageLayout& layout) {
    auto tmp = detail::scratch_path(layout, "layer");
    if (!tmp) return tmp.error();
    auto gzip = GzipFileWriter::create(*tmp);
    if (!gzip) return gzip.error();
    util::Status status = write_tar(entries, **gzip);
    if (status) status = (*gzip)->finish();
    if (!status) {
        gzip->reset();
        std::error_code ec;
        fs::remove(*tmp, ec);
        return status.error();
    }
    Layer layer;
    layer.digest = (*gzip)->compressed_digest();
    layer.diff_id = (*gzip)->uncompressed_digest();
    layer.size = (*gzip)->compressed_size();
    auto existed = detail::commit_blob(layout, *tmp, layer.digest);
    if (!existed) return existed.error();
    layer.reused = *existed;
    return layer;
}

// "var/task/" -> "var/task"; empty for a prefix that is absolute or has empty, "." or ".."
// components.
std::optional<std::string> normalise_prefix(std::string prefix) {
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    if (prefix.empty() || prefix.front() == '/') return std::nullopt;
    for (std::size_t start = 0; start <= prefix.size();) {
        std::size_t end = std::min(prefix.find('/', start), prefix.size());
        std::string part = prefix.substr(start, end - start);
        if (part.empty() || part == "." || part == "..") return std::nullopt;
        start = end + 1;
    }
    return prefix;
}

// Moves every entry below prefix and adds the prefix's own directories.
SourceEntries under_prefix(SourceEntries entries, const std::string& prefix) {
    SourceEntries moved;
    for (std::size_t pos = prefix.find('/'); pos != std::string::npos;
         pos = prefix.find('/', pos + 1)) {
        moved.try_emplace(prefix.substr(0, pos), SourceEntry{});
    }
    moved.try_emplace(prefix, SourceEntry{});
    for (auto& [path, entry] : entries) moved.insert_or_assign(prefix + "/" + path, std::move(entry));
    return moved;
}

}  // namespace

util::Result<Layer> build_layer(const fs::path& root, const std::vector<std::string>& paths,
                                ImageLayout& layout, const fs::path& cache_file,
                                const std::string& prefix, const LayerFilter& filter) {
    auto entries = detail::collect_sources(root, paths, layout.dir(), filter);
    if (!entries) return entries.error();
    if (!prefix.empty()) {
        auto clean = normalise_prefix(prefix);
        if (!clean)
            return util::make_error("invalid layer prefix '" + prefix +
                                    "' (want a relative path like \"var/task\")");
        *entries = under_prefix(std::move(*entries), *clean);
    }
    std::string print = detail::fingerprint(*entries);
    if (auto cached = cached_layer(cache_file, print, layout)) return *cached;
    auto layer = write_layer_blob(*entries, layout);
    if (!layer) return layer.error();
    if (!cache_file.empty()) store_cache(cache_file, print, *layer);
    return layer;
}

}  // namespace hypertest::oci
