// The pieces of a SigV4 canonical request; pure string functions, exposed for tests.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hypertest::aws {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Percent-encodes every byte except A-Za-z0-9-_.~ (and '/' when keep_slash), as %XX uppercase.
std::string uri_encode(std::string_view text, bool keep_slash);
// Decodes %XX sequences; a malformed sequence is kept as it is. '+' stays '+'.
std::string percent_decode(std::string_view text);
// Removes "." and ".." segments and empty segments ("//"); keeps a trailing slash; "" -> "/".
std::string normalize_path(std::string_view path);
// `path` is the path as sent on the wire. S3 passes normalize=false, double_encode=false.
std::string canonical_uri(std::string_view path, bool normalize, bool double_encode);
// Splits a raw query ("a=1&b") into decoded pairs ("b" -> {"b", ""}).
Pairs parse_query(std::string_view raw_query);
// Encodes keys and values separately and sorts by encoded key, then encoded value.
std::string canonical_query(const Pairs& decoded_params);
// Encodes decoded pairs in the given order, for a URL.
std::string encode_query(const Pairs& decoded_params);

struct CanonicalHeaders {
    std::string block;           // "name:value\n" per header, sorted by name
    std::string signed_headers;  // "host;x-amz-date"
};
// Lower-cases names, trims values and collapses inner whitespace, joins repeats with ','.
// Headers that proxies rewrite (user-agent, expect, ...) and authorization are left out.
CanonicalHeaders canonical_headers(const Pairs& headers);
bool is_unsigned_header(std::string_view lower_name);
std::string to_lower(std::string_view text);

}  // namespace hypertest::aws
