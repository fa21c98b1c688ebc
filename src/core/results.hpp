// The run's outcome: per-test final results and the files written from them
// (hypertest.results.json, JUnit XML). Formats: docs/formats.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "plugins/model.hpp"
#include "util/json.hpp"

namespace hypertest::core {

using util::Json;

// Final statuses. "flaky" passed on a retry; "cancelled" never finished (Ctrl-C).
enum class Status { success, failed, skipped, flaky, cancelled };
std::string to_string(Status s);

struct TestResult {
    plugins::TestCase test;
    Status status = Status::cancelled;
    std::string framework_status;
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    std::int64_t duration_ms = 0;
    int attempts = 0;
    std::string error_message;
    std::string error_stack;
    std::string error_location;
    std::vector<std::string> artifacts;  // URLs / paths
};

struct RunSummary {
    std::string run_id;
    std::string provider;
    std::string function_name;
    std::string image_digest;
    std::int64_t start_ms = 0;
    std::int64_t end_ms = 0;
    int invocations = 0;
    int concurrency_reached = 0;
    int concurrency = 0;
    double billed_gb_seconds = 0;
    double estimated_cost_usd = 0;
    bool interrupted = false;
    bool fail_on_flaky = false;  // --fail-on-flaky: a flaky test fails the run
    std::string html_report;
    std::string junit_file;
    std::vector<TestResult> tests;

    int count(Status s) const;
};

// The invariant "every selected test ends with exactly one final status". `finals` counts the
// final statuses each test was given (DispatchStats::final_reports). A selected test with no
// result, or with a count other than 1, is marked failed with a "hypertest bug" reason; a
// result for a test that was not selected is dropped. Returns one message per violation.
std::vector<std::string> check_final_statuses(const std::vector<plugins::TestCase>& selected,
                                              const std::map<std::string, int>& finals,
                                              std::map<std::string, TestResult>& results);

Json results_json(const RunSummary& run);
std::string junit_xml(const RunSummary& run);
// 0 all passed (flaky counts as passed unless fail_on_flaky), 1 a test failed or was
// cancelled, 130 interrupted.
int exit_code_for(const RunSummary& run);

}  // namespace hypertest::core
