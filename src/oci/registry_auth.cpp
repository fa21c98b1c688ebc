#include "oci/registry_auth.hpp"

#include <cctype>

#include "util/base64.hpp"
#include "util/json.hpp"

namespace hypertest::oci {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

void skip_separators(std::string_view s, std::size_t& i) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == ',')) ++i;
}

}  // namespace

std::optional<AuthChallenge> parse_challenge(std::string_view header) {
    std::size_t i = 0;
    skip_separators(header, i);
    std::size_t start = i;
    while (i < header.size() && header[i] != ' ' && header[i] != '\t') ++i;
    if (i == start) return std::nullopt;
    AuthChallenge c;
    c.scheme = lower(header.substr(start, i - start));
    while (true) {
        skip_separators(header, i);
        if (i >= header.size()) break;
        std::size_t key_start = i;
        while (i < header.size() && header[i] != '=' && header[i] != ',') ++i;
        std::string key = lower(header.substr(key_start, i - key_start));
        if (i >= header.size() || header[i] != '=') continue;
        ++i;
        std::string value;
        if (i < header.size() && header[i] == '"') {
            for (++i; i < header.size() && header[i] != '"'; ++i) {
                if (header[i] == '\\' && i + 1 < header.size()) ++i;
                value += header[i];
            }
            ++i;  // closing quote
        } else {
            while (i < header.size() && header[i] != ',') value += header[i++];
            while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
                value.pop_back();
        }
        c.params[key] = value;
    }
    return c;
}

std::string basic_authorization(const std::string& username, const std::string& password) {
    return "Basic " + util::base64_encode(username + ":" + password);
}

util::Result<std::string> token_from_response(std::string_view body) {
    auto j = util::parse_json(body, "token service answer");
    if (!j) return j.error();
    std::string token = util::json_get<std::string>(*j, "token", "");
    if (token.empty()) token = util::json_get<std::string>(*j, "access_token", "");
    if (token.empty()) return util::make_error("the token service answered without a token");
    return token;
}

std::string url_encode(std::string_view text) {
    static constexpr char k_hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += k_hex[c >> 4];
            out += k_hex[c & 15];
        }
    }
    return out;
}

}  // namespace hypertest::oci
