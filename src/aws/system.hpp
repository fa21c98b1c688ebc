// Everything the credential and region lookups read from outside the process. Tests replace
// each part (environment, files, clock, HTTP, subprocesses) to stay hermetic.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "util/http.hpp"
#include "util/process.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

struct System {
    std::function<std::optional<std::string>(const std::string& name)> env;
    // nullopt when the file does not exist; an Error when it exists but cannot be read.
    std::function<util::Result<std::optional<std::string>>(const std::filesystem::path&)> read_file;
    std::function<std::int64_t()> now_ms;
    std::shared_ptr<util::HttpClient> http;
    std::shared_ptr<util::ProcessRunner> processes;

    // The variable's value, or empty when unset or empty.
    std::string getenv(const std::string& name) const;
};

// The real process environment, files, clock, curl and subprocesses.
System real_system();
// A System whose environment is `vars` only; files, clock, HTTP and processes are real.
System system_with_env(std::map<std::string, std::string> vars);

}  // namespace hypertest::aws
