#include "util/nofollow.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <vector>

#include "util/strings.hpp"

namespace hypertest::util {
namespace {

class Fd {
public:
    explicit Fd(int fd = -1) : m_fd(fd) {}
    Fd(Fd&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
    Fd& operator=(Fd&& o) noexcept {
        std::swap(m_fd, o.m_fd);
        return *this;
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() {
        if (m_fd >= 0) ::close(m_fd);
    }
    int get() const { return m_fd; }

private:
    int m_fd;
};

// Temp names of concurrent writers differ, whatever they write.
std::atomic<unsigned> g_serial{0};

Error errno_error(const std::string& what, const fs::path& root, std::string_view rel) {
    int e = errno;
    std::string path = (root / std::string(rel)).string();
    if (e == ELOOP || e == ENOTDIR)
        return make_error("refusing to follow the symbolic link (or go through the file) at or above " + path +
                          ": " + what);
    return make_error("cannot " + what + " " + path + ": " + std::strerror(e));
}

Result<std::vector<std::string>> split_key(const fs::path& root, std::string_view rel) {
    std::vector<std::string> parts = split(rel, '/');
    if (rel.empty() || rel.size() > 4096)
        return make_error("invalid name \"" + std::string(rel) + "\" below " + root.string());
    for (const auto& p : parts) {
        if (p.empty() || p == "." || p == "..")
            return make_error("invalid name \"" + std::string(rel) + "\" below " + root.string());
    }
    return parts;
}

// The folder holding the last part of rel, opened without following links; created on the
// way when create is set. An Fd of -1 when it is missing and create is not set.
Result<Fd> open_parent(const fs::path& root, std::string_view rel,
                       const std::vector<std::string>& parts, bool create) {
    Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (dir.get() < 0) {
        if (create && errno == ENOENT) {
            std::error_code ec;
            fs::create_directories(root, ec);
            dir = Fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        }
        if (dir.get() < 0 && errno == ENOENT && !create) return Fd();
        if (dir.get() < 0) return errno_error("open", root, "");
    }
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
        const char* name = parts[i].c_str();
        Fd next(::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (next.get() < 0 && errno == ENOENT && create) {
            if (::mkdirat(dir.get(), name, 0755) != 0 && errno != EEXIST)
                return errno_error("create", root, rel);
            next = Fd(::openat(dir.get(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        }
        if (next.get() < 0 && errno == ENOENT && !create) return Fd();
        if (next.get() < 0) return errno_error("open", root, rel);
        dir = std::move(next);
    }
    return dir;
}

template <class WriteFn>
Status write_via_temp(const fs::path& root, std::string_view rel, WriteFn&& write_all) {
    auto parts = split_key(root, rel);
    if (!parts) return parts.error();
    auto dir = open_parent(root, rel, *parts, true);
    if (!dir) return dir.error();
    std::string tmp = "." + parts->back() + ".tmp-" + std::to_string(::getpid()) + "-" +
                      std::to_string(++g_serial);
    Fd out(::openat(dir->get(), tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (out.get() < 0) return errno_error("create", root, rel);
    if (auto s = write_all(out.get()); !s) {
        ::unlinkat(dir->get(), tmp.c_str(), 0);
        return make_error("cannot write " + (root / std::string(rel)).string() + ": " + s.error().message);
    }
    // rename replaces a link at the final name with the file; it never writes through it.
    if (::renameat(dir->get(), tmp.c_str(), dir->get(), parts->back().c_str()) != 0) {
        auto err = errno_error("replace", root, rel);
        ::unlinkat(dir->get(), tmp.c_str(), 0);
        return err;
    }
    return ok_status();
}

Status write_fd(int fd, std::string_view content) {
    while (!content.empty()) {
        ssize_t n = ::write(fd, content.data(), content.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return make_error(std::strerror(errno));
        content.remove_prefix(static_cast<std::size_t>(n));
    }
    return ok_status();
}

}  // namespace

Status write_below(const fs::path& root, std::string_view rel, std::string_view content) {
    return write_via_temp(root, rel, [&](int fd) { return write_fd(fd, content); });
}

Status copy_below(const fs::path& root, std::string_view rel, const fs::path& source) {
    Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) return make_error("cannot read " + source.string() + ": " + std::strerror(errno));
    return write_via_temp(root, rel, [&](int fd) -> Status {
        std::vector<char> buf(1 << 16);
        while (true) {
            ssize_t n = ::read(in.get(), buf.data(), buf.size());
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return make_error("cannot read " + source.string() + ": " + std::strerror(errno));
            if (n == 0) return ok_status();
            if (auto s = write_fd(fd, std::string_view(buf.data(), static_cast<std::size_t>(n))); !s) return s;
        }
    });
}

Result<std::optional<std::string>> read_below(const fs::path& root, std::string_view rel,
                                              std::int64_t max_bytes) {
    auto parts = split_key(root, rel);
    if (!parts) return parts.error();
    auto dir = open_parent(root, rel, *parts, false);
    if (!dir) return dir.error();
    if (dir->get() < 0) return std::optional<std::string>();
    Fd in(::openat(dir->get(), parts->back().c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (in.get() < 0) {
        if (errno == ENOENT) return std::optional<std::string>();
        return errno_error("read", root, rel);
    }
    struct stat st {};
    if (::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return make_error("cannot read " + (root / std::string(rel)).string() + ": not a regular file");
    auto too_large = [&] {
        return make_error("cannot read " + (root / std::string(rel)).string() + ": larger than " +
                          std::to_string(max_bytes) + " bytes");
    };
    if (st.st_size > max_bytes) return too_large();
    std::string out;
    std::vector<char> buf(1 << 16);
    while (true) {
        ssize_t n = ::read(in.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("read", root, rel);
        if (n == 0) break;
        out.append(buf.data(), static_cast<std::size_t>(n));
        if (static_cast<std::int64_t>(out.size()) > max_bytes) return too_large();
    }
    return std::optional<std::string>(std::move(out));
}

}  // namespace hypertest::util
