// Turns `playwright test --list --reporter=json` into test cases, and test cases back into
// `--test-list` lines.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "plugins/playwright/options.hpp"
#include "plugins/plugin.hpp"
#include "util/process.hpp"

namespace hypertest::plugins::playwright {

// One (spec, project) entry of a Playwright JSON document. The --list output and the JSON
// report share this shape: file suites -> describe suites -> specs -> one test per project.
struct SpecTest {
    const Json* spec = nullptr;
    const Json* test = nullptr;
    std::string file;                     // spec.file: relative to config.rootDir
    std::vector<std::string> title_path;  // named describe titles, then the spec title
    std::string project;
};

// Visits every (spec, project) test in document order.
void for_each_spec_test(const Json& document, const std::function<void(const SpecTest&)>& visit);

// The stable id: discovery and the report both derive it here, from the same inputs.
std::string spec_test_id(const SpecTest& t);

// Builds test cases from the --list document. Fails, naming the files and Playwright's message,
// when a spec does not load or nothing was found. `fully_parallel` overrides the config's.
util::Result<Discovery> parse_list_json(const Json& document, std::optional<bool> fully_parallel);

// Runs the listing in `project_dir` (argv, no shell) and parses it.
util::Result<Discovery> discover_tests(util::ProcessRunner& processes, const fs::path& project_dir,
                                       const Options& options);

// The --test-list line selecting `t`: "[project] › file › describe › title". Playwright splits
// lines on "›" and trims every part, so a title holding "›", a line break or outer spaces
// cannot be written: the line then ends before it and selects the whole describe (or file).
std::string test_list_line(const TestCase& t);

}  // namespace hypertest::plugins::playwright
