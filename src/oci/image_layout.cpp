#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <random>

#include "oci/image.hpp"
#include "oci/layout_internal.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace hypertest::oci {

namespace {

constexpr const char* k_ref_name = "org.opencontainers.image.ref.name";
constexpr const char* k_scratch_dir = ".tmp";

util::Json empty_index() {
    return util::Json{{"schemaVersion", 2},
                      {"mediaType", "application/vnd.oci.image.index.v1+json"},
                      {"manifests", util::Json::array()}};
}

util::Status write_index(const fs::path& dir, const util::Json& index) {
    return util::write_file_atomic(dir / "index.json", index.dump(2) + "\n");
}

util::Result<util::Json> read_index(const fs::path& dir) {
    auto text = util::read_file(dir / "index.json");
    if (!text) return text.error();
    auto index = util::parse_json(*text, (dir / "index.json").string());
    if (!index) return index.error();
    if (!index->is_object() || !(*index)["manifests"].is_array()) {
        return util::make_error((dir / "index.json").string() +
                                " is not an OCI image index (no manifests array)");
    }
    return index;
}

// Serialises read-modify-write of index.json between processes sharing a layout.
class IndexLock {
public:
    explicit IndexLock(const fs::path& dir) {
        std::error_code ec;
        fs::create_directories(dir / k_scratch_dir, ec);
        m_fd = ::open((dir / k_scratch_dir / "index.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC,
                      0644);
        if (m_fd >= 0) ::flock(m_fd, LOCK_EX);
    }
    ~IndexLock() {
        if (m_fd >= 0) ::close(m_fd);  // closing releases the lock
    }
    IndexLock(const IndexLock&) = delete;
    IndexLock& operator=(const IndexLock&) = delete;

private:
    int m_fd = -1;
};

std::string ref_name(const util::Json& manifest) {
    auto annotations = util::json_get<util::Json>(manifest, "annotations", util::Json::object());
    return util::json_get<std::string>(annotations, k_ref_name, "");
}

util::Status check_layout_marker(const fs::path& dir) {
    auto text = util::read_file(dir / "oci-layout");
    if (!text) return text.error();
    auto marker = util::parse_json(*text, (dir / "oci-layout").string());
    if (!marker) return marker.error();
    auto version = util::json_get<std::string>(*marker, "imageLayoutVersion", "");
    if (!util::starts_with(version, "1.")) {
        return util::make_error(dir.string() + " has unsupported imageLayoutVersion '" + version +
                                "' (expected 1.x)");
    }
    return util::ok_status();
}

// Temporary files of builds that crashed; a day is far longer than any build takes.
void remove_stale_scratch(const fs::path& dir) {
    std::error_code ec;
    auto cutoff = fs::file_time_type::clock::now() - std::chrono::hours(24);
    for (fs::directory_iterator it(dir / k_scratch_dir, ec), end; !ec && it != end;
         it.increment(ec)) {
        if (it->path().filename() == "index.lock") continue;
        std::error_code ignored;
        if (fs::is_regular_file(it->symlink_status(ignored)) &&
            fs::last_write_time(it->path(), ignored) < cutoff) {
            fs::remove(it->path(), ignored);
        }
    }
}

util::Status initialise_layout(const fs::path& dir) {
    if (auto s = util::ensure_dir(dir / "blobs" / "sha256"); !s) return s;
    if (auto s = util::write_file_atomic(dir / "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        !s) {
        return s;
    }
    return write_index(dir, empty_index());
}

}  // namespace

namespace detail {

util::Result<fs::path> scratch_path(const ImageLayout& layout, std::string_view stem) {
    fs::path scratch = layout.dir() / k_scratch_dir;
    if (auto s = util::ensure_dir(scratch); !s) return s.error();
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    return scratch /
           (std::string(stem) + "-" + std::to_string(::getpid()) + "-" + std::to_string(rng()));
}

util::Result<bool> commit_blob(const ImageLayout& layout, const fs::path& tmp,
                               const std::string& digest) {
    std::error_code ec;
    if (layout.has_blob(digest)) {
        fs::remove(tmp, ec);
        return true;
    }
    fs::path target = layout.blob_path(digest);
    fs::create_directories(target.parent_path(), ec);
    fs::rename(tmp, target, ec);
    if (ec) {
        std::error_code ignored;
        fs::remove(tmp, ignored);
        return util::make_error("cannot store blob " + digest + " in " + layout.dir().string() +
                                ": " + ec.message());
    }
    return false;
}

}  // namespace detail

util::Result<ImageLayout> ImageLayout::open(const fs::path& dir_in) {
    std::error_code ec;
    fs::path dir = fs::absolute(dir_in, ec);
    if (ec) return util::make_error("cannot resolve " + dir_in.string() + ": " + ec.message());
    auto st = fs::status(dir, ec);
    if (fs::exists(st) && !fs::is_directory(st)) {
        return util::make_error(dir.string() +
                                " exists and is not a directory; an OCI image "
                                "layout must be a directory");
    }
    if (!fs::exists(dir / "oci-layout", ec)) {
        if (fs::exists(st) && !fs::is_empty(dir, ec)) {
            return util::make_error(dir.string() +
                                    " is not an OCI image layout (no oci-layout file) and is not "
                                    "empty; use a new or empty directory");
        }
        if (auto s = initialise_layout(dir); !s) return s.error();
        return ImageLayout(dir);
    }
    if (auto s = check_layout_marker(dir); !s) return s.error();
    remove_stale_scratch(dir);
    if (auto s = util::ensure_dir(dir / "blobs" / "sha256"); !s) return s.error();
    if (!fs::exists(dir / "index.json", ec)) {
        if (auto s = write_index(dir, empty_index()); !s) return s.error();
    }
    return ImageLayout(dir);
}

bool ImageLayout::has_blob(const std::string& digest) const {
    if (!util::is_sha256_digest(digest)) return false;
    std::error_code ec;
    return fs::is_regular_file(blob_path(digest), ec);
}

fs::path ImageLayout::blob_path(const std::string& digest) const {
    if (!util::is_sha256_digest(digest)) return {};
    return m_dir / "blobs" / "sha256" / digest.substr(7);
}

util::Result<std::string> ImageLayout::write_blob(std::string_view bytes) {
    std::string digest = "sha256:" + util::sha256_hex(bytes);
    if (has_blob(digest)) return digest;
    auto tmp = detail::scratch_path(*this, "blob");
    if (!tmp) return tmp.error();
    {
        std::ofstream out(*tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            std::error_code ec;
            fs::remove(*tmp, ec);
            return util::make_error("cannot write blob " + digest + " to " + tmp->string() + ": " +
                                    std::strerror(errno));
        }
    }
    auto committed = detail::commit_blob(*this, *tmp, digest);
    if (!committed) return committed.error();
    return digest;
}

util::Result<std::string> ImageLayout::read_blob(const std::string& digest) const {
    if (!util::is_sha256_digest(digest)) {
        return util::make_error("invalid blob digest '" + digest + "' (expected sha256:<64 hex>)");
    }
    if (!has_blob(digest)) {
        return util::make_error("blob " + digest + " is missing from " + m_dir.string());
    }
    auto bytes = util::read_file(blob_path(digest));
    if (!bytes) return bytes.error();
    std::string actual = "sha256:" + util::sha256_hex(*bytes);
    if (actual != digest) {
        return util::make_error("blob " + digest + " in " + m_dir.string() +
                                " is corrupt: its content hashes to " + actual +
                                "; delete the file and rebuild the image");
    }
    return bytes;
}

util::Status ImageLayout::tag(const std::string& manifest_digest, std::int64_t size,
                              const std::string& media_type, const std::string& tag) {
    if (!util::is_sha256_digest(manifest_digest)) {
        return util::make_error("cannot tag '" + tag + "': invalid digest '" + manifest_digest +
                                "'");
    }
    if (tag.empty()) return util::make_error("cannot tag " + manifest_digest + ": empty tag");
    IndexLock lock(m_dir);
    auto index = read_index(m_dir);
    if (!index) return index.error();
    util::Json kept = util::Json::array();
    for (const auto& m : (*index)["manifests"]) {
        if (ref_name(m) != tag) kept.push_back(m);
    }
    kept.push_back(util::Json{{"mediaType", media_type},
                              {"digest", manifest_digest},
                              {"size", size},
                              {"annotations", {{k_ref_name, tag}}}});
    (*index)["manifests"] = std::move(kept);
    return write_index(m_dir, *index);
}

util::Result<std::string> ImageLayout::resolve(const std::string& tag) const {
    auto index = read_index(m_dir);
    if (!index) return index.error();
    std::vector<std::string> known;
    for (const auto& m : (*index)["manifests"]) {
        std::string name = ref_name(m);
        if (name == tag) {
            std::string digest = util::json_get<std::string>(m, "digest", "");
            if (!util::is_sha256_digest(digest)) {
                return util::make_error("tag '" + tag + "' in " + m_dir.string() +
                                        "/index.json has an invalid digest '" + digest + "'");
            }
            return digest;
        }
        if (!name.empty()) known.push_back(name);
    }
    return util::make_error("tag '" + tag + "' not found in " + m_dir.string() + " (tags: " +
                            (known.empty() ? std::string("none") : util::join(known, ", ")) + ")");
}

}  // namespace hypertest::oci
