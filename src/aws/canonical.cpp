#include "aws/canonical.hpp"

#include <algorithm>
#include <array>
#include <map>

namespace hypertest::aws {
namespace {

bool is_unreserved(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '.' || c == '~';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Trims and turns every run of whitespace (including folded lines) into one space.
std::string collapse_whitespace(std::string_view value) {
    std::string out;
    bool pending_space = false;
    for (char c : value) {
        if (is_space(c)) {
            pending_space = !out.empty();
            continue;
        }
        if (pending_space) out.push_back(' ');
        pending_space = false;
        out.push_back(c);
    }
    return out;
}

}  // namespace

std::string to_lower(std::string_view text) {
    std::string out(text);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    });
    return out;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (char ch : text) {
        auto c = static_cast<unsigned char>(ch);
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            out.push_back(ch);
        } else {
            out.push_back('%');
            out.push_back(k_hex[c >> 4]);
            out.push_back(k_hex[c & 0xF]);
        }
    }
    return out;
}

std::string percent_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '%' && i + 2 < text.size()) {
            int hi = hex_value(text[i + 1]);
            int lo = hex_value(text[i + 2]);
            if (hi >= 0 && lo >= 0) {
                out.push_back(static_cast<char>(hi * 16 + lo));
                i += 2;
                continue;
            }
        }
        out.push_back(text[i]);
    }
    return out;
}

std::string normalize_path(std::string_view path) {
    std::vector<std::string_view> kept;
    std::size_t start = 0;
    bool trailing_slash = false;
    while (start <= path.size()) {
        std::size_t end = path.find('/', start);
        if (end == std::string_view::npos) end = path.size();
        std::string_view segment = path.substr(start, end - start);
        bool last = end == path.size();
        if (segment == "..") {
            if (!kept.empty()) kept.pop_back();
        } else if (!segment.empty() && segment != ".") {
            kept.push_back(segment);
        }
        if (last) trailing_slash = segment.empty() || segment == "." || segment == "..";
        start = end + 1;
    }
    std::string out;
    for (auto segment : kept) {
        out.push_back('/');
        out.append(segment);
    }
    if (out.empty() || trailing_slash) out.push_back('/');
    return out;
}

std::string canonical_uri(std::string_view path, bool normalize, bool double_encode) {
    std::string result = normalize ? normalize_path(path) : std::string(path);
    if (result.empty()) result = "/";
    return double_encode ? uri_encode(result, true) : result;
}

Pairs parse_query(std::string_view raw_query) {
    Pairs params;
    std::size_t start = 0;
    while (start < raw_query.size()) {
        std::size_t end = raw_query.find('&', start);
        if (end == std::string_view::npos) end = raw_query.size();
        std::string_view item = raw_query.substr(start, end - start);
        if (!item.empty()) {
            std::size_t eq = item.find('=');
            if (eq == std::string_view::npos) {
                params.emplace_back(percent_decode(item), "");
            } else {
                params.emplace_back(percent_decode(item.substr(0, eq)),
                                    percent_decode(item.substr(eq + 1)));
            }
        }
        start = end + 1;
    }
    return params;
}

std::string canonical_query(const Pairs& decoded_params) {
    Pairs encoded;
    encoded.reserve(decoded_params.size());
    for (const auto& [k, v] : decoded_params) encoded.emplace_back(uri_encode(k, false), uri_encode(v, false));
    std::sort(encoded.begin(), encoded.end());
    std::string out;
    for (const auto& [k, v] : encoded) {
        if (!out.empty()) out.push_back('&');
        out += k + "=" + v;
    }
    return out;
}

std::string encode_query(const Pairs& decoded_params) {
    std::string out;
    for (const auto& [k, v] : decoded_params) {
        if (!out.empty()) out.push_back('&');
        out += uri_encode(k, false) + "=" + uri_encode(v, false);
    }
    return out;
}

bool is_unsigned_header(std::string_view lower_name) {
    static constexpr std::array<std::string_view, 6> k_unsigned = {
        "authorization", "user-agent",        "expect",
        "connection",    "transfer-encoding", "x-amzn-trace-id"};
    return std::find(k_unsigned.begin(), k_unsigned.end(), lower_name) != k_unsigned.end();
}

CanonicalHeaders canonical_headers(const Pairs& headers) {
    std::map<std::string, std::string> merged;
    for (const auto& [name, value] : headers) {
        std::string lower = to_lower(collapse_whitespace(name));
        if (is_unsigned_header(lower)) continue;
        auto [it, inserted] = merged.emplace(lower, collapse_whitespace(value));
        if (!inserted) it->second += "," + collapse_whitespace(value);
    }
    CanonicalHeaders out;
    for (const auto& [name, value] : merged) {
        out.block += name + ":" + value + "\n";
        if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
        out.signed_headers += name;
    }
    return out;
}

}  // namespace hypertest::aws
