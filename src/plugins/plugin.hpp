// A test framework integration. Host side: discover tests, choose image layer contents,
// merge reports. Runner side: run one batch and report per-test outcomes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plugins/model.hpp"
#include "util/process.hpp"

namespace hypertest::plugins {

namespace fs = std::filesystem;

struct DiscoverRequest {
    fs::path project_dir;
    Json options = Json::object();  // the plugin's config object (testRunner minus "name")
};

struct Discovery {
    std::vector<TestCase> tests;
    std::string framework_version;
    // The suite's own limit on failed tests for a whole run (Playwright's maxFailures); 0: none.
    int max_failures = 0;
};

// Files of the project, relative to it, split by how often they change.
struct LayerInputs {
    std::vector<std::string> dependencies;  // e.g. node_modules, package.json, lockfiles
    std::vector<std::string> tests;         // specs, configs, helpers, fixtures
    std::vector<std::string> skip;          // left out of both, e.g. the framework's outputs
};

struct BatchRequest {
    fs::path task_root;  // read-only copy of the project as deployed
    std::vector<TestCase> tests;
    fs::path work_dir;       // writable, empty, private to this invocation (under /tmp)
    std::int64_t deadline_ms = 0;  // epoch ms; the framework must be stopped before it
    Json options = Json::object();
    // The shell's environment from the event; the framework gets those the function's own
    // environment (image, cloudProvider.env) does not set.
    std::map<std::string, std::string> env;
    int max_failures = 0;  // InvocationEvent::max_failures
};

struct BatchOutcome {
    std::vector<TestOutcome> outcomes;  // tests that never ran are simply absent
    fs::path blob_report;               // empty when the framework wrote none
    fs::path test_artifacts_dir;        // what tests wrote under HT_TEST_ARTIFACTS_OUTPUT_PATH
    std::string error;                  // non-empty when the batch could not run properly
    bool suite_error = false;           // InvocationResult::suite_error
    std::string log_tail;
};

class Plugin {
public:
    virtual ~Plugin() = default;
    virtual std::string name() const = 0;

    // Host side. Fails with a message a user can act on (spec that does not load, framework
    // not installed, ...).
    virtual util::Result<Discovery> discover(const DiscoverRequest& request) = 0;
    virtual util::Result<LayerInputs> layer_inputs(const fs::path& project_dir,
                                                   const Json& options) = 0;
    // For `hypertest init`: plugin options worth writing into a new config, one object per
    // candidate, the likeliest first (e.g. the framework config the project's scripts use);
    // empty when the defaults fit.
    virtual std::vector<Json> init_option_choices(const fs::path& project_dir) = 0;
    // Merges the batches' reports (files in blob_dir) into an HTML report in out_dir.
    virtual util::Status merge_reports(const fs::path& project_dir, const fs::path& blob_dir,
                                       const fs::path& out_dir) = 0;

    // Runner side.
    virtual BatchOutcome run_batch(const BatchRequest& request) = 0;
};

// The name -> factory table. Unknown names throw util::Fatal with a "did you mean".
std::unique_ptr<Plugin> make_plugin(const std::string& name,
                                    std::shared_ptr<util::ProcessRunner> processes);
std::vector<std::string> plugin_names();

}  // namespace hypertest::plugins
