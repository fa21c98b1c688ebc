#include "util/json.hpp"

namespace hypertest::util {
namespace {

struct TooDeep {};

// nlohmann's messages start with "[json.exception.parse_error.101] "; keep the readable part.
std::string readable(const Json::exception& e) {
    std::string msg = e.what();
    auto pos = msg.find("] ");
    return pos == std::string::npos ? msg : msg.substr(pos + 2);
}

}  // namespace

Result<Json> parse_json(std::string_view text, std::string_view what, std::size_t max_depth) {
    // The parser itself keeps its own stack, but copies and comparisons of a document recurse:
    // a hostile document nested 300k deep must stop here, not crash the process later.
    auto limit = [max_depth](int depth, Json::parse_event_t event, Json&) {
        if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
            static_cast<std::size_t>(depth) >= max_depth)
            throw TooDeep{};
        return true;
    };
    try {
        return Json::parse(text.begin(), text.end(), limit);
    } catch (const TooDeep&) {
        return make_error(std::string(what) + " is nested deeper than " + std::to_string(max_depth) +
                          " levels; refusing it");
    } catch (const Json::exception& e) {
        // parse_error, and out_of_range for numbers like 1e400.
        return make_error(std::string(what) + " is not valid JSON: " + readable(e));
    }
}

}  // namespace hypertest::util
