#include "aws/system.hpp"

#include <cstdlib>

#include "util/fs.hpp"
#include "util/time.hpp"

namespace hypertest::aws {
namespace {

util::Result<std::optional<std::string>> read_if_exists(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return std::optional<std::string>();
    auto text = util::read_file(path);
    if (!text) return text.error();
    return std::optional<std::string>(std::move(*text));
}

}  // namespace

std::string System::getenv(const std::string& name) const {
    if (!env) return {};
    return env(name).value_or("");
}

System real_system() {
    System s;
    s.env = [](const std::string& name) -> std::optional<std::string> {
        const char* value = std::getenv(name.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    };
    s.read_file = read_if_exists;
    s.now_ms = util::now_ms;
    s.http = util::make_curl_http_client();
    s.processes = util::make_process_runner();
    return s;
}

System system_with_env(std::map<std::string, std::string> vars) {
    System s = real_system();
    s.env = [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
    return s;
}

}  // namespace hypertest::aws
