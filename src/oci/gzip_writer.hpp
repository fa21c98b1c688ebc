// Reproducible gzip stream to a file, hashing both sides as it goes.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci::detail {

// Fixed settings (level 6, 32 KiB window, header mtime 0, OS 255, no name) so the same input
// gives the same bytes with the same zlib. Not thread-safe; one writer per stream.
class GzipFileWriter {
public:
    static util::Result<std::unique_ptr<GzipFileWriter>> create(const std::filesystem::path& path);
    ~GzipFileWriter();
    GzipFileWriter(const GzipFileWriter&) = delete;
    GzipFileWriter& operator=(const GzipFileWriter&) = delete;

    util::Status write(std::string_view data);  // uncompressed input
    util::Status finish();                      // flushes, closes the file
    // Valid after finish(): "sha256:<hex>" of the input and of the file.
    const std::string& uncompressed_digest() const { return m_input_digest; }
    const std::string& compressed_digest() const { return m_output_digest; }
    std::int64_t compressed_size() const { return m_output_size; }

private:
    GzipFileWriter(std::filesystem::path path, int fd);
    util::Status deflate_until(int flush);
    util::Status emit(std::size_t bytes);

    std::filesystem::path m_path;
    int m_fd;
    z_stream m_z{};
    gz_header m_header{};
    bool m_z_ready = false;
    std::vector<unsigned char> m_out;
    util::Sha256 m_input_hash;
    util::Sha256 m_output_hash;
    std::string m_input_digest;
    std::string m_output_digest;
    std::int64_t m_output_size = 0;
};

}  // namespace hypertest::oci::detail
