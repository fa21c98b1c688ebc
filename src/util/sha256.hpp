#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hypertest::util {

class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    void update(std::string_view data);
    // Lowercase hex digest; the object must not be updated afterwards.
    std::string hex();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

std::string sha256_hex(std::string_view data);
Result<std::string> sha256_file_hex(const std::filesystem::path& path);

}  // namespace hypertest::util
