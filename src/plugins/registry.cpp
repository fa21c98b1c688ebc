#include <functional>
#include <utility>

#include "plugins/playwright/playwright_plugin.hpp"
#include "plugins/plugin.hpp"
#include "util/strings.hpp"

namespace hypertest::plugins {
namespace {

using Factory = std::function<std::unique_ptr<Plugin>(std::shared_ptr<util::ProcessRunner>)>;

const std::vector<std::pair<std::string, Factory>>& table() {
    static const std::vector<std::pair<std::string, Factory>> t = {
        {"playwright", make_playwright_plugin},
    };
    return t;
}

}  // namespace

std::vector<std::string> plugin_names() {
    std::vector<std::string> names;
    for (const auto& [name, _] : table()) names.push_back(name);
    return names;
}

std::unique_ptr<Plugin> make_plugin(const std::string& name,
                                    std::shared_ptr<util::ProcessRunner> processes) {
    for (const auto& [n, factory] : table()) {
        if (n == name) return factory(std::move(processes));
    }
    throw util::Fatal(
        util::unknown_name_message("test runner", name, "testRunner.name", plugin_names()));
}

}  // namespace hypertest::plugins
