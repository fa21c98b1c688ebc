// The run's outcome: per-test final results and the files written from them
// (hypertest.results.json, JUnit XML). Formats: docs/formats.md.
#pragma once

#include <cstdint>
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
    std::string html_report;
    std::string junit_file;
    std::vector<TestResult> tests;

    int count(Status s) const;
};

Json results_json(const RunSummary& run);
std::string junit_xml(const RunSummary& run);
// 0 all passed (flaky counts as passed), 1 a test failed or was cancelled, 130 interrupted.
int exit_code_for(const RunSummary& run);

}  // namespace hypertest::core
