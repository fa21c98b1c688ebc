#include "util/json.hpp"

namespace hypertest::util {

Result<Json> parse_json(std::string_view text, std::string_view what) {
    try {
        return Json::parse(text.begin(), text.end());
    } catch (const Json::parse_error& e) {
        std::string msg = e.what();
        // nlohmann prefixes "[json.exception.parse_error.101] "; keep the readable part.
        auto pos = msg.find("] ");
        if (pos != std::string::npos) msg = msg.substr(pos + 2);
        return make_error(std::string(what) + " is not valid JSON: " + msg);
    }
}

}  // namespace hypertest::util
