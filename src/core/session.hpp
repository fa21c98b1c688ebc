// What every command needs: the config, the output, the plugin and the provider.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/events.hpp"
#include "plugins/plugin.hpp"
#include "providers/provider.hpp"
#include "util/process.hpp"

namespace hypertest::core {

struct Options {
    std::optional<fs::path> config_path;
    OutputMode mode = OutputMode::plain;
    bool dry_run = false;
    std::optional<int> concurrency;
    std::string grep;
    std::string grep_invert;
    std::vector<std::string> projects;
    bool force = false;  // init: overwrite
    std::optional<int> retries;  // overrides the config's "retries"
    int max_failures = 0;        // 0: no limit
    bool fail_on_flaky = false;
    bool last_failed = false;    // only the tests that failed or were cancelled last time
};

struct Session {
    Options options;
    Config config;
    fs::path cwd;
    std::unique_ptr<Reporter> reporter;
    std::shared_ptr<util::ProcessRunner> processes;
    std::unique_ptr<plugins::Plugin> plugin;
    std::unique_ptr<providers::Provider> provider;
    int concurrency = 1;
};

// Loads the config and builds plugin and provider. Throws util::Fatal on bad input.
std::unique_ptr<Session> open_session(const Options& options);

// Set by SIGINT/SIGTERM; long operations poll it.
std::atomic<bool>& interrupted();

}  // namespace hypertest::core
