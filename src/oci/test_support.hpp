// Helpers for the oci unit tests only.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <stdlib.h>
#include <zlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "oci/image.hpp"
#include "util/temp_dir.hpp"

namespace hypertest::oci::test {

namespace fs = std::filesystem;

// A fresh directory under TMPDIR, removed with everything in it.
using ScratchDir = util::TempDir;

inline void write_text(const fs::path& path, const std::string& text) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

inline std::string gunzip(const std::string& gz) {
    z_stream z{};
    inflateInit2(&z, 15 + 16);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
    z.avail_in = static_cast<uInt>(gz.size());
    std::string out;
    char buf[65536];
    int rc = Z_OK;
    while (rc == Z_OK) {
        z.next_out = reinterpret_cast<Bytef*>(buf);
        z.avail_out = sizeof buf;
        rc = inflate(&z, Z_NO_FLUSH);
        out.append(buf, sizeof buf - z.avail_out);
    }
    inflateEnd(&z);
    return rc == Z_STREAM_END ? out : std::string();
}

struct TarEntry {
    TarEntry() = default;
    TarEntry(std::string p, unsigned t, unsigned mode, std::string data, std::string link = {})
        : path(std::move(p)),
          type(t),
          perm(mode),
          content(std::move(data)),
          hardlink(std::move(link)) {}
    std::string path;
    unsigned type = AE_IFREG;
    unsigned perm = 0644;
    std::string content;  // file data, or the link target for symlinks
    std::int64_t mtime = 0;
    std::int64_t uid = 0;
    std::string uname;
    std::string hardlink;  // crafted entries only: a hard link to this path
};

// Reads back every entry of a (possibly compressed) tar; file contents included.
inline std::vector<TarEntry> list_tar(const std::string& bytes) {
    std::vector<TarEntry> entries;
    struct archive* a = archive_read_new();
    archive_read_support_filter_all(a);
    archive_read_support_format_tar(a);
    archive_read_open_memory(a, bytes.data(), bytes.size());
    struct archive_entry* e = nullptr;
    int rc = ARCHIVE_OK;
    // ARCHIVE_WARN: a UTF-8 name that the C locale cannot represent; the UTF-8 form is fine.
    while ((rc = archive_read_next_header(a, &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
        TarEntry t;
        const char* utf8 = archive_entry_pathname_utf8(e);
        t.path = utf8 ? utf8 : archive_entry_pathname(e);
        t.type = archive_entry_filetype(e);
        t.perm = archive_entry_perm(e);
        t.mtime = archive_entry_mtime(e);
        t.uid = archive_entry_uid(e);
        t.uname = archive_entry_uname(e) ? archive_entry_uname(e) : "";
        if (t.type == AE_IFLNK) t.content = archive_entry_symlink(e);
        char buf[8192];
        la_ssize_t n;
        while ((n = archive_read_data(a, buf, sizeof buf)) > 0) t.content.append(buf, n);
        entries.push_back(std::move(t));
    }
    archive_read_free(a);
    return entries;
}

// A tar.gz written verbatim (no checks), for feeding hostile input to unpack_image.
inline std::string craft_tar_gz(const std::vector<TarEntry>& entries) {
    std::string out;
    struct archive* a = archive_write_new();
    archive_write_set_format_pax_restricted(a);
    archive_write_add_filter_gzip(a);
    archive_write_open(
        a, &out, nullptr,
        [](struct archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
            static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
            return static_cast<la_ssize_t>(n);
        },
        nullptr);
    for (const auto& t : entries) {
        struct archive_entry* e = archive_entry_new();
        archive_entry_set_pathname(e, t.path.c_str());
        archive_entry_set_filetype(e, t.type);
        archive_entry_set_perm(e, t.perm);
        if (t.type == AE_IFLNK) archive_entry_set_symlink(e, t.content.c_str());
        if (!t.hardlink.empty()) archive_entry_set_hardlink(e, t.hardlink.c_str());
        if (t.type == AE_IFREG)
            archive_entry_set_size(e, static_cast<la_int64_t>(t.content.size()));
        archive_write_header(a, e);
        if (t.type == AE_IFREG) archive_write_data(a, t.content.data(), t.content.size());
        archive_entry_free(e);
    }
    archive_write_close(a);
    archive_write_free(a);
    return out;
}

// Stores a crafted tar.gz as the only layer of an image tagged `tag`.
inline std::string image_from_tar_gz(ImageLayout& layout, const std::string& tar_gz,
                                     const std::string& tag) {
    auto digest = layout.write_blob(tar_gz);
    Layer layer;
    layer.digest = *digest;
    layer.diff_id = "sha256:" + std::string(64, '0');
    layer.size = static_cast<std::int64_t>(tar_gz.size());
    ImageSpec spec;
    spec.layers = {layer};
    return write_image(layout, spec, tag)->manifest_digest;
}

}  // namespace hypertest::oci::test
