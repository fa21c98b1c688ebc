// The local Lambda-compatible function host: warm hypertest-runner environments, each with its
// own Runtime API server, started on demand up to the concurrency limit.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "providers/provider.hpp"

namespace hypertest::providers {

enum class SandboxMode { off, on, automatic };

struct FunctionHostOptions {
    std::string function_name = "hypertest";
    fs::path function_dir;      // state (function.json), rootfs/<digest>, logs/
    fs::path image_layout_dir;  // where deploy wrote the image
    fs::path runner_path;       // the runtime to start (hypertest-runner)
    fs::path storage_root;      // bound writable into the sandbox
    int concurrency = 1;
    int timeout_s = 900;
    int memory_mb = 2048;
    SandboxMode sandbox = SandboxMode::automatic;
    // Tests only: run this directory as the task root instead of unpacking the image.
    fs::path task_root_override;
    // Lambda's limit for the init phase (spawn until the first /next).
    std::chrono::milliseconds init_timeout{10000};
};

std::unique_ptr<Functions> make_function_host(const FunctionHostOptions& options);

}  // namespace hypertest::providers
