// Zip side of combine_blobs: reads the blobs with libarchive, writes the combined blob.
#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <set>

#include "plugins/playwright/blob_combine.hpp"
#include "util/archive_ptr.hpp"
#include "util/fs.hpp"

namespace hypertest::plugins::playwright {
namespace {

constexpr std::size_t k_chunk = 256 * 1024;

util::Error archive_failure(struct archive* a, const std::string& what) {
    const char* message = archive_error_string(a);
    return util::make_error(what + ": " + (message ? message : "libarchive error"));
}

bool ends_with(const std::string& text, const std::string& suffix) {
    return text.size() >= suffix.size() &&
           text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

util::Result<std::string> read_all(struct archive* in, const std::string& what) {
    std::string data;
    std::unique_ptr<char[]> buffer(new char[k_chunk]);
    for (;;) {
        la_ssize_t n = archive_read_data(in, buffer.get(), k_chunk);
        if (n < 0) return archive_failure(in, "cannot read " + what);
        if (n == 0) return data;
        data.append(buffer.get(), static_cast<std::size_t>(n));
    }
}

// Adds a file entry; `compress` deflates it (attachments are mostly compressed already).
util::Status write_header(struct archive* out, const std::string& name, std::int64_t size,
                          bool compress) {
    util::ArchiveEntry e(archive_entry_new());
    archive_entry_copy_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0644);
    archive_entry_set_size(e.get(), size);
    if (compress) {
        archive_write_zip_set_compression_deflate(out);
    } else {
        archive_write_zip_set_compression_store(out);
    }
    if (archive_write_header(out, e.get()) < ARCHIVE_WARN)
        return archive_failure(out, "cannot add " + name + " to the combined blob report");
    return util::ok_status();
}

util::Status write_whole(struct archive* out, const std::string& name, const std::string& data,
                         bool compress) {
    if (auto s = write_header(out, name, static_cast<std::int64_t>(data.size()), compress); !s)
        return s;
    if (!data.empty() && archive_write_data(out, data.data(), data.size()) < 0)
        return archive_failure(out, "cannot write " + name);
    return util::ok_status();
}

// Streams the current entry of `in` to `out` when its size is known, else buffers it.
util::Status copy_entry(struct archive* in, struct archive_entry* entry, struct archive* out,
                        const std::string& name) {
    if (!archive_entry_size_is_set(entry)) {
        auto data = read_all(in, name);
        if (!data) return data.error();
        return write_whole(out, name, *data, false);
    }
    if (auto s = write_header(out, name, archive_entry_size(entry), false); !s) return s;
    std::unique_ptr<char[]> buffer(new char[k_chunk]);
    for (;;) {
        la_ssize_t n = archive_read_data(in, buffer.get(), k_chunk);
        if (n < 0) return archive_failure(in, "cannot read " + name);
        if (n == 0) return util::ok_status();
        if (archive_write_data(out, buffer.get(), static_cast<std::size_t>(n)) < 0)
            return archive_failure(out, "cannot write " + name);
    }
}

// Copies every file entry of `blob` but its reports to `out` (an entry name seen before is
// skipped) and appends the reports' texts to `reports`.
util::Status copy_blob(const fs::path& blob, struct archive* out, std::set<std::string>& names,
                       std::vector<std::string>& reports) {
    util::ArchiveReader in(archive_read_new());
    archive_read_support_format_zip(in.get());
    if (archive_read_open_filename(in.get(), blob.c_str(), k_chunk) != ARCHIVE_OK)
        return archive_failure(in.get(), "cannot open the blob report " + blob.string());
    struct archive_entry* entry = nullptr;
    for (;;) {
        int rc = archive_read_next_header(in.get(), &entry);
        if (rc == ARCHIVE_EOF) return util::ok_status();
        if (rc < ARCHIVE_WARN) return archive_failure(in.get(), "cannot read " + blob.string());
        const char* path = archive_entry_pathname(entry);
        std::string name = path ? path : "";
        if (archive_entry_filetype(entry) != AE_IFREG || name.empty()) continue;
        if (ends_with(name, ".jsonl")) {
            auto text = read_all(in.get(), blob.string() + ":" + name);
            if (!text) return text.error();
            reports.push_back(std::move(*text));
        } else if (names.insert(name).second) {
            if (auto s = copy_entry(in.get(), entry, out, name); !s) return s;
        }
    }
}

}  // namespace

util::Status combine_blobs(const std::vector<fs::path>& blobs, const fs::path& out_zip) {
    if (auto s = util::ensure_dir(out_zip.parent_path()); !s) return s;
    util::ArchiveWriter out(archive_write_new());
    archive_write_set_format_zip(out.get());
    if (archive_write_open_filename(out.get(), out_zip.c_str()) != ARCHIVE_OK)
        return archive_failure(out.get(), "cannot create " + out_zip.string());
    std::set<std::string> names;
    std::vector<std::string> reports;
    util::Status status = util::ok_status();
    for (const auto& blob : blobs) {
        status = copy_blob(blob, out.get(), names, reports);
        if (!status) break;
    }
    if (status) {
        auto combined = combine_blob_events(reports);
        status = combined ? write_whole(out.get(), "report.jsonl", *combined, true)
                          : util::Status(combined.error());
    }
    if (status && archive_write_close(out.get()) != ARCHIVE_OK)
        status = archive_failure(out.get(), "cannot write " + out_zip.string());
    out.reset();
    if (!status) {
        std::error_code ec;
        fs::remove(out_zip, ec);
    }
    return status;
}

}  // namespace hypertest::plugins::playwright
