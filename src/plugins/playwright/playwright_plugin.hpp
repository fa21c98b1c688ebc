// The Playwright plugin: discovery through `playwright test --list`, batches through
// `--test-list`, outcomes from the JSON reporter, HTML report from the batches' blob reports.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plugins/plugin.hpp"

namespace hypertest::plugins {

std::unique_ptr<Plugin> make_playwright_plugin(std::shared_ptr<util::ProcessRunner> processes);

// The keys the plugin accepts in its options object (testRunner config minus "name").
std::vector<std::string> playwright_option_keys();

}  // namespace hypertest::plugins
