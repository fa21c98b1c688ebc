// Maps Playwright's JSON report (reporter "json") to per-test outcomes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "plugins/model.hpp"

namespace hypertest::plugins::playwright {

namespace fs = std::filesystem;

struct ReportOutcomes {
    std::vector<TestOutcome> outcomes;  // one per test with at least one result
    std::vector<std::string> errors;    // run-level errors (global setup, no tests found)
    std::size_t started = 0;            // tests with at least one result
};

// Status as plain `playwright test` counts it: expected -> passed (skipped when its last
// result was skipped), unexpected -> failed, flaky -> flaky, skipped -> skipped. A test whose
// last result was interrupted counts as failed. `test` is one per-project test object.
std::string outcome_status(const Json& test);

// What to do with tests that have no result. After a run that ended on its own they are what
// Playwright calls "did not run" (a dependency project failed) and counts as skipped; after an
// interrupted run they simply had no time and are left out, so they can run again.
enum class NotStarted { skipped, left_out };

// Attachments given inline (base64 body) are written to files under `attachments_dir`; one whose
// body is not valid base64 is left out with a warning. Fails only when `report` is not a
// Playwright JSON report.
util::Result<ReportOutcomes> parse_report(const Json& report, const fs::path& attachments_dir,
                                          NotStarted not_started);

}  // namespace hypertest::plugins::playwright
