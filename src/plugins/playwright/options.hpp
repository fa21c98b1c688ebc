// The plugin's options object (the testRunner config minus "name") and where Playwright lives.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace hypertest::plugins::playwright {

namespace fs = std::filesystem;

struct Options {
    std::string config;  // Playwright config file, relative to the project; empty: its default
    int workers = 1;     // Playwright workers inside one invocation
    // Overrides config.fullyParallel as discovery sees it. Needed when only some projects set
    // fullyParallel: the --list JSON does not show project-level settings.
    std::optional<bool> fully_parallel;
};

std::vector<std::string> option_keys();
// Fails when a known key has the wrong type or range; unknown keys are the caller's concern.
util::Result<Options> parse_options(const util::Json& options);

// Playwright configs that `hypertest init` should offer as testRunner.config, likeliest first:
// those package.json's scripts pass with --config/-c, then any playwright.config.* below the
// project (node_modules and dot-folders skipped). Empty when the default config at the
// project's root is what the scripts use (or no script names one and it exists).
std::vector<std::string> config_candidates(const fs::path& project_dir);

// Folders below the project (three levels at most) that Playwright wrote as output: an
// outputDir (it holds .last-run.json) or an HTML report, whatever the config names them. They
// stay out of the image and out of drift detection.
std::vector<std::string> output_folders(const fs::path& project_dir);
// Playwright's HTML reporter marks its index.html with its title.
bool is_html_report(const fs::path& dir);

// Walks up from `project_dir` to node_modules/@playwright/test/cli.js. Fails with the
// install command when it is missing.
util::Result<fs::path> locate_cli(const fs::path& project_dir);

}  // namespace hypertest::plugins::playwright
