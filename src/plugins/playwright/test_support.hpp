// Helpers shared by the Playwright plugin's unit tests: captured Playwright output, a scratch
// directory and a ProcessRunner fake.
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/fs.hpp"
#include "util/json.hpp"
#include "util/process.hpp"
#include "util/temp_dir.hpp"

namespace hypertest::plugins::playwright::testing {

namespace fs = std::filesystem;

// Output captured from Playwright 1.65.1 running tests/fixtures/playwright-statuses.
inline fs::path data_dir() { return fs::path(HT_SOURCE_DIR) / "tests/fixtures/playwright-data"; }

inline std::string data_text(const std::string& name) {
    return util::read_file(data_dir() / name).take_or_fatal();
}

inline util::Json data_json(const std::string& name) {
    return util::parse_json(data_text(name), name).take_or_fatal();
}

using util::TempDir;

// A project dir in which locate_cli finds Playwright; cli.js holds `cli_source`.
inline void install_fake_playwright(const fs::path& project, const std::string& cli_source = "",
                                    const std::string& version = "1.65.1") {
    (void)util::write_file_atomic(project / "node_modules/@playwright/test/cli.js", cli_source);
    (void)util::write_file_atomic(project / "node_modules/@playwright/test/package.json",
                                  "{\"name\": \"@playwright/test\", \"version\": \"" + version + "\"}");
}

class FakeProcessRunner : public util::ProcessRunner {
  public:
    util::Result<util::ProcessResult> run(const util::ProcessSpec& spec) override {
        calls.push_back(spec);
        if (start_error) return *start_error;
        return result;
    }

    util::ProcessResult result;
    std::optional<util::Error> start_error;
    std::vector<util::ProcessSpec> calls;
};

}  // namespace hypertest::plugins::playwright::testing
