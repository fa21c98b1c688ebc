#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/result.hpp"

namespace hypertest::util {

using Json = nlohmann::json;

// Documents from outside (answers, manifests, reports) nest far less than this.
inline constexpr std::size_t k_json_max_depth = 256;

// Never throws: a parse failure comes back as an Error naming `what` and the position. Arrays
// and objects nested more than max_depth deep are refused.
Result<Json> parse_json(std::string_view text, std::string_view what,
                        std::size_t max_depth = k_json_max_depth);
// Reads a field if present and of the right type; otherwise returns fallback.
template <class T>
T json_get(const Json& j, const char* key, T fallback) {
    if (!j.is_object()) return fallback;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    try {
        return it->template get<T>();
    } catch (const Json::exception&) {
        return fallback;
    }
}

}  // namespace hypertest::util
