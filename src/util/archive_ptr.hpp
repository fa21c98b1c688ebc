// Owning handles for libarchive objects. Header only: ht_util does not link libarchive, so only
// a component that links LibArchive::LibArchive itself (oci, plugins) includes this header.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <memory>

namespace hypertest::util {

struct ArchiveReadFree {
    void operator()(struct archive* a) const { archive_read_free(a); }
};
struct ArchiveWriteFree {
    void operator()(struct archive* a) const { archive_write_free(a); }
};
struct ArchiveEntryFree {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

// From archive_read_new(), archive_read_disk_new().
using ArchiveReader = std::unique_ptr<struct archive, ArchiveReadFree>;
// From archive_write_new(), archive_write_disk_new().
using ArchiveWriter = std::unique_ptr<struct archive, ArchiveWriteFree>;
// From archive_entry_new().
using ArchiveEntry = std::unique_ptr<struct archive_entry, ArchiveEntryFree>;

}  // namespace hypertest::util
