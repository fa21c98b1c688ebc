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

// True for a content digest as OCI images name blobs: "sha256:" and 64 lowercase hex digits.
bool is_sha256_digest(std::string_view digest);
// The 64 hex digits of such a digest; empty for anything else.
std::string sha256_digest_hex(std::string_view digest);

}  // namespace hypertest::util
