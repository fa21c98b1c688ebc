// Base64 with the standard alphabet (RFC 4648 section 4) and '=' padding, through OpenSSL.
#pragma once

#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hypertest::util {

std::string base64_encode(std::string_view bytes);
// Strict: fails on any character outside the alphabet (whitespace and the URL-safe '-' and '_'
// included), on a length that is not a multiple of 4, and on '=' anywhere but the last two
// characters.
Result<std::string> base64_decode(std::string_view text);

}  // namespace hypertest::util
