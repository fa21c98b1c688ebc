#include "util/fs.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace hypertest::util {

Result<std::string> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return make_error("cannot read " + path.string() + ": " + std::strerror(errno));
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

Status write_file_atomic(const fs::path& path, std::string_view content) {
    std::error_code ec;
    if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
    std::random_device rd;
    fs::path tmp = path;
    tmp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) return make_error("cannot write " + path.string() + ": " + std::strerror(errno));
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.flush();
        if (!out) {
            fs::remove(tmp, ec);
            return make_error("cannot write " + path.string() + ": " + std::strerror(errno));
        }
    }
    fs::rename(tmp, path, ec);
    if (ec) {
        fs::remove(tmp, ec);
        return make_error("cannot write " + path.string() + ": " + ec.message());
    }
    return ok_status();
}

Status ensure_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return make_error("cannot create directory " + dir.string() + ": " + ec.message());
    return ok_status();
}

std::string relative_slash(const fs::path& path, const fs::path& base) {
    return path.lexically_relative(base).generic_string();
}

fs::path find_upwards(const fs::path& start, const std::vector<std::string>& names) {
    std::error_code ec;
    fs::path dir = fs::absolute(start, ec);
    while (true) {
        for (const auto& n : names) {
            if (fs::exists(dir / n, ec)) return dir / n;
        }
        if (!dir.has_parent_path() || dir.parent_path() == dir) return {};
        dir = dir.parent_path();
    }
}

Status check_writable_dir(const fs::path& dir) {
    if (auto s = ensure_dir(dir); !s) return s;
    fs::path probe = dir / (".hypertest-write-check-" + std::to_string(::getpid()));
    {
        std::ofstream out(probe);
        if (!out) {
            return make_error("directory " + dir.string() + " is not writable: " +
                              std::strerror(errno));
        }
    }
    std::error_code ec;
    fs::remove(probe, ec);
    return ok_status();
}

}  // namespace hypertest::util
