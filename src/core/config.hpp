// hypertest.config.json / .js / .mjs: found in the working directory or above, validated with
// messages that name the key, the problem and the fix.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "util/json.hpp"

namespace hypertest::core {

namespace fs = std::filesystem;
using util::Json;

struct Config {
    fs::path file;         // the config file read
    fs::path project_dir;  // its directory
    int concurrency = 0;   // 0 until resolved: defaults per provider
    std::string image_name = "hypertest";
    std::string results_file_name = "hypertest.results.json";
    std::string manifest_file_name = "hypertest.manifest.json";
    std::string junit_file_name = "hypertest.junit.xml";
    std::string html_report_dir = "hypertest-report";
    std::string drift_policy = "warning";  // silence | warning | error
    std::string runner_name;
    Json runner_options = Json::object();
    std::string provider_name = "local";
    Json provider_config = Json::object();
    std::string function_name = "hypertest";
    // cloudProvider.baseImage: "oci:<layout>[:tag]" or "host[:port]/repo[:tag|@digest]";
    // empty: the image holds the project's two layers only.
    std::string base_image;
    std::string platform = "linux/amd64";  // cloudProvider.platform, normalised
    int invocation_retries = 2;  // re-queues of tests whose invocation failed
    int retries = 0;             // fresh re-runs of failed tests
};

const std::vector<std::string>& config_file_names();
// Finds the config upwards from start_dir (or uses explicit_path), reads and validates it.
// Throws util::Fatal (exit 2) with an actionable message.
Config load_config(const std::optional<fs::path>& explicit_path, const fs::path& start_dir);
// Validates an already-parsed config object; file is used in messages only.
Config config_from_json(const Json& j, const fs::path& file);

}  // namespace hypertest::core
