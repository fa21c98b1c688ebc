#include "util/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace hypertest::util {
namespace {

// EVP_EncodeBlock and EVP_DecodeBlock take an int length, so long inputs go through in chunks;
// a chunk is a multiple of 3 bytes (whole encoding groups) and of 4 characters (whole decoding
// groups).
constexpr std::size_t k_chunk = 3 * 4 * 256 * 1024;

bool in_alphabet(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

unsigned char* bytes_of(std::string& s, std::size_t offset) {
    return reinterpret_cast<unsigned char*>(s.data()) + offset;
}

const unsigned char* bytes_of(std::string_view s, std::size_t offset) {
    return reinterpret_cast<const unsigned char*>(s.data()) + offset;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
    // One spare byte: EVP_EncodeBlock ends its output with a NUL.
    std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
    std::size_t written = 0;
    for (std::size_t i = 0; i < bytes.size(); i += k_chunk) {
        std::size_t n = std::min(k_chunk, bytes.size() - i);
        written += static_cast<std::size_t>(
            EVP_EncodeBlock(bytes_of(out, written), bytes_of(bytes, i), static_cast<int>(n)));
    }
    out.resize(written);
    return out;
}

Result<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) {
        return make_error("malformed base64 text: its length (" + std::to_string(text.size()) +
                          ") is not a multiple of 4");
    }
    std::size_t padding = 0;
    while (padding < 2 && padding < text.size() && text[text.size() - 1 - padding] == '=')
        ++padding;
    for (std::size_t i = 0; i + padding < text.size(); ++i) {
        if (!in_alphabet(text[i])) {
            return make_error("malformed base64 text: unexpected character at offset " +
                              std::to_string(i));
        }
    }
    // EVP_DecodeBlock writes 3 bytes for every 4 characters, padding included (as zero bytes),
    // so the padding's count comes off the end afterwards.
    std::string out(text.size() / 4 * 3, '\0');
    std::size_t written = 0;
    for (std::size_t i = 0; i < text.size(); i += k_chunk) {
        std::size_t n = std::min(k_chunk, text.size() - i);
        int decoded =
            EVP_DecodeBlock(bytes_of(out, written), bytes_of(text, i), static_cast<int>(n));
        if (decoded < 0) return make_error("malformed base64 text");
        written += static_cast<std::size_t>(decoded);
    }
    out.resize(written - padding);
    return out;
}

}  // namespace hypertest::util
