#pragma once

#include <stdlib.h>

#include <filesystem>
#include <string>

namespace hypertest::util {

// A fresh private directory under the system temp dir, removed with everything in it on
// destruction. path() is empty when it could not be created.
class TempDir {
public:
    explicit TempDir(const std::string& prefix = "hypertest") {
        std::string t = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (::mkdtemp(t.data())) m_path = t;
    }
    ~TempDir() {
        std::error_code ec;
        if (m_path.empty()) return;
        // A test may have made it read-only; removal needs write permission on the directory.
        std::filesystem::permissions(m_path, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(m_path, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }
    std::filesystem::path operator/(const std::string& rel) const { return m_path / rel; }

private:
    std::filesystem::path m_path;
};

}  // namespace hypertest::util
