#pragma once

#include <memory>

#include "plugins/plugin.hpp"

namespace hypertest::plugins {

std::unique_ptr<Plugin> make_playwright_plugin(std::shared_ptr<util::ProcessRunner> processes);

}  // namespace hypertest::plugins
