// One execution environment of the local function host: a Runtime API server plus one
// hypertest-runner process (optionally inside bubblewrap) that serves it.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "providers/local/runtime_api_server.hpp"
#include "util/process.hpp"
#include "util/result.hpp"

namespace hypertest::providers {

namespace fs = std::filesystem;

struct EnvironmentSpec {
    std::string function_name;
    fs::path runner;      // the runtime executable
    fs::path task_root;   // LAMBDA_TASK_ROOT (read-only inside the sandbox)
    fs::path image_root;  // the unpacked base image (holding the runner); may be empty
    // The project's unpacked layers (read-only inside the sandbox); the runner composes its
    // view of the project from them. Empty: task_root alone.
    std::vector<fs::path> task_layers;
    std::map<std::string, std::string> image_env;  // the image config's Env (PATH excluded)
    std::map<std::string, std::string> extra_env;  // cloudProvider.env; after image_env
    int timeout_s = 900;
    int memory_mb = 2048;
    bool sandbox = false;
    // Sandboxed only: a network namespace of the environment's own (its own loopback, so
    // fixed ports never clash; outbound traffic through pasta when it is installed) instead
    // of the host's network.
    bool private_network = true;
    fs::path storage_root;  // writable inside the sandbox, so the runner can upload
    fs::path log_dir;
};

// The command line for the runtime: the runner itself, or bubblewrap around it. runtime_dir
// (sandboxed only) holds the Runtime API socket and is bound into the sandbox.
std::vector<std::string> runtime_argv(const EnvironmentSpec& spec, const fs::path& runtime_dir);

// Whether bubblewrap can create a sandbox here; on failure, why not. Probed once per process.
util::Status bubblewrap_status();
// pasta (Debian's passt) gives a sandbox's own network outbound access.
bool pasta_installed();

class Environment {
public:
    using TimePoint = std::chrono::steady_clock::time_point;
    // Starts the server and the runtime. Fails when either cannot be started.
    static util::Result<std::unique_ptr<Environment>> start(const EnvironmentSpec& spec,
                                                            const std::string& image_digest);
    // Kills the runtime's process group, stops the server, removes the private temp dir.
    ~Environment();
    Environment(const Environment&) = delete;
    Environment& operator=(const Environment&) = delete;

    RuntimeApiServer& api() { return *m_api; }
    const std::string& image_digest() const { return m_digest; }
    TimePoint spawned_at() const { return m_spawned; }
    const fs::path& stderr_log() const { return m_stderr_log; }
    int pid() const;
    // The runtime's exit status (128 + signal when killed) once it has ended. Thread-safe.
    std::optional<int> exited();
    void kill();
    // Counts an invocation; true for the first one (the cold start).
    bool begin_invocation() { return m_invocations++ == 0; }

private:
    Environment() = default;
    util::Status start_private_network(const EnvironmentSpec& spec, const std::string& log_stem);
    std::string m_digest;
    std::unique_ptr<RuntimeApiServer> m_api;
    std::mutex m_child_mutex;
    std::unique_ptr<util::Child> m_child;
    std::unique_ptr<util::Child> m_network;  // pasta, serving the private network
    TimePoint m_spawned;
    // Unsandboxed runs: HOME and TMPDIR. Sandboxed: holds the Runtime API socket.
    fs::path m_private_tmp;
    fs::path m_stderr_log;
    int m_invocations = 0;
};

// The last max_bytes of a log file ("" when unreadable).
std::string log_tail(const fs::path& file, std::size_t max_bytes);

}  // namespace hypertest::providers
