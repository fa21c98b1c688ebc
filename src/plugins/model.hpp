// Data that crosses the orchestrator/function boundary. Formats: docs/formats.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <map>
#include <string>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace hypertest::plugins {

using util::Json;

// One test as discovery found it. `id` is stable across runs: a hash of project, file and
// title path. Tests with the same non-empty `group` must run in one batch, in `order`.
struct TestCase {
    std::string id;
    std::string file;  // relative to the framework's root dir, '/' separators
    std::vector<std::string> title_path;  // describe titles then the test title
    std::string project;
    int line = 0;
    int column = 0;
    std::vector<std::string> tags;
    std::string group;
    int order = 0;  // position in discovery order (files, then source order)

    // "file › describe › title" (with "[project] " in front when a project is set).
    std::string display_name() const;
};

std::string make_test_id(const std::string& project, const std::string& file,
                         const std::vector<std::string>& title_path);

Json to_json(const TestCase& t);
util::Result<TestCase> test_case_from_json(const Json& j);

// Where the runner puts artifacts: a local directory, or (later) an S3 bucket.
struct StorageLocation {
    std::string kind = "local";  // "local" | "s3"
    std::string root;            // local: absolute directory
    std::string bucket;          // s3
    std::string region;          // s3
    std::string prefix;          // key prefix inside the store, e.g. "<runId>/"
};

struct InvocationEvent {
    std::string run_id;
    std::string invocation_id;
    int attempt = 1;
    std::string plugin;
    Json plugin_options = Json::object();
    std::vector<TestCase> tests;
    StorageLocation storage;
    std::int64_t deadline_ms = 0;  // epoch ms; 0: the Runtime API deadline header decides
    // The environment of the shell that ran hypertest (suite_environment()): the suite sees
    // it as it would run there, e.g. CI.
    std::map<std::string, std::string> env;
    // Failed tests this batch may have before the framework stops it: what is left of the
    // suite's maxFailures for the run. 0: no limit.
    int max_failures = 0;
};

// The variables of `environ` that a suite may read, for InvocationEvent::env: all but those
// that describe this machine or its session (PATH, HOME, TMPDIR, locale, display, ...), that
// carry cloud or registry credentials (AWS_*, HYPERTEST_*), or that steer the runtime
// (LAMBDA_*, LD_*, Playwright's report and browser locations). At most max_bytes in all.
std::map<std::string, std::string> suite_environment(char** environ_vars, std::size_t max_bytes = 64 * 1024);

Json to_json(const InvocationEvent& e);
util::Result<InvocationEvent> invocation_event_from_json(const Json& j);

struct Attachment {
    std::string name;
    std::filesystem::path path;  // runner-local file
    std::string content_type;
};

// Outcome statuses: "passed", "failed", "skipped", "flaky". framework_status keeps what the
// framework said (Playwright: expected/unexpected/flaky/skipped plus timedOut/interrupted).
struct TestOutcome {
    std::string id;
    std::string status;
    std::string framework_status;
    std::int64_t duration_ms = 0;
    std::int64_t start_ms = 0;
    int retry = 0;
    std::string error_message;
    std::string error_stack;
    std::string error_location;
    std::vector<Attachment> attachments;      // runner side, before upload
    std::vector<std::string> artifact_keys;  // storage keys after upload
};

Json to_json(const TestOutcome& o);
util::Result<TestOutcome> test_outcome_from_json(const Json& j);

struct InvocationResult {
    std::string invocation_id;
    std::vector<TestOutcome> outcomes;
    std::string blob_report_key;  // storage key of the batch's framework report, if any
    std::string runner_version;
    bool cold_start = false;
    std::int64_t init_ms = 0;
    std::int64_t duration_ms = 0;
    std::string error;     // the framework could not run the batch (outcomes may be partial)
    // The suite itself could not start (its config, globalSetup or webServer failed): the same
    // will happen in every invocation, so the run stops instead of retrying.
    bool suite_error = false;
    std::string log_tail;  // last lines of the framework's output, for diagnosis
};

Json to_json(const InvocationResult& r);
util::Result<InvocationResult> invocation_result_from_json(const Json& j);
// Why a storage key from a function's answer is not acceptable, or "" when it is: it must
// start with `prefix` (the run's, "<runId>/") and be a plain relative key (no "." or ".."
// parts, no empty ones, no backslash or control characters).
std::string answer_key_problem(std::string_view key, std::string_view prefix);

}  // namespace hypertest::plugins
