#include "oci/gzip_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace hypertest::oci::detail {

namespace {
constexpr int k_level = 6;
constexpr int k_window_bits = 15 + 16;  // 32 KiB window, gzip wrapper
constexpr int k_mem_level = 8;
constexpr int k_os_unknown = 255;
constexpr std::size_t k_out_chunk = 256 * 1024;
}  // namespace

util::Result<std::unique_ptr<GzipFileWriter>> GzipFileWriter::create(
    const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        return util::make_error("cannot create " + path.string() + ": " + std::strerror(errno));
    }
    std::unique_ptr<GzipFileWriter> writer(new GzipFileWriter(path, fd));
    z_stream& z = writer->m_z;
    if (deflateInit2(&z, k_level, Z_DEFLATED, k_window_bits, k_mem_level, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
        return util::make_error("cannot initialise gzip compression: " +
                                std::string(z.msg ? z.msg : "zlib error"));
    }
    writer->m_z_ready = true;
    writer->m_header.time = 0;
    writer->m_header.os = k_os_unknown;
    if (deflateSetHeader(&z, &writer->m_header) != Z_OK) {
        return util::make_error("cannot set the gzip header");
    }
    return writer;
}

GzipFileWriter::GzipFileWriter(std::filesystem::path path, int fd)
    : m_path(std::move(path)), m_fd(fd), m_out(k_out_chunk) {}

GzipFileWriter::~GzipFileWriter() {
    if (m_z_ready) deflateEnd(&m_z);
    if (m_fd >= 0) ::close(m_fd);
}

util::Status GzipFileWriter::emit(std::size_t bytes) {
    const unsigned char* p = m_out.data();
    m_output_hash.update(std::string_view(reinterpret_cast<const char*>(p), bytes));
    m_output_size += static_cast<std::int64_t>(bytes);
    while (bytes > 0) {
        ssize_t n = ::write(m_fd, p, bytes);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            return util::make_error("cannot write " + m_path.string() + ": " +
                                    std::strerror(errno));
        }
        p += n;
        bytes -= static_cast<std::size_t>(n);
    }
    return util::ok_status();
}

util::Status GzipFileWriter::deflate_until(int flush) {
    while (true) {
        m_z.next_out = m_out.data();
        m_z.avail_out = static_cast<uInt>(m_out.size());
        int rc = deflate(&m_z, flush);
        if (rc == Z_STREAM_ERROR) return util::make_error("gzip compression failed");
        if (auto s = emit(m_out.size() - m_z.avail_out); !s) return s;
        if (flush == Z_FINISH ? rc == Z_STREAM_END : m_z.avail_out != 0) return util::ok_status();
    }
}

util::Status GzipFileWriter::write(std::string_view data) {
    m_input_hash.update(data);
    m_z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    m_z.avail_in = static_cast<uInt>(data.size());
    return deflate_until(Z_NO_FLUSH);
}

util::Status GzipFileWriter::finish() {
    m_z.next_in = nullptr;
    m_z.avail_in = 0;
    if (auto s = deflate_until(Z_FINISH); !s) return s;
    deflateEnd(&m_z);
    m_z_ready = false;
    int rc = ::close(m_fd);
    m_fd = -1;
    if (rc != 0) {
        return util::make_error("cannot write " + m_path.string() + ": " + std::strerror(errno));
    }
    m_input_digest = "sha256:" + m_input_hash.hex();
    m_output_digest = "sha256:" + m_output_hash.hex();
    return util::ok_status();
}

}  // namespace hypertest::oci::detail
