// The local Lambda-compatible function host: warm hypertest-runner environments, each with its
// own Runtime API server, started on demand up to the concurrency limit.
#pragma once

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "oci/image.hpp"
#include "providers/local/registry_image.hpp"
#include "providers/provider.hpp"

namespace hypertest::providers {

enum class SandboxMode { off, on, automatic };

struct FunctionHostOptions {
    std::string function_name = "hypertest";
    fs::path function_dir;      // state (function.json), logs/
    fs::path cache_dir;         // unpacked layers, outside the project (TaskRootCache)
    oci::UnpackLimits unpack_limits;  // for every unpack of an image's layers
    fs::path image_layout_dir;  // where deploy wrote the image (or, with registry, the host's own)
    // When enabled, images are pulled by digest from this registry into image_layout_dir on
    // update() (and again when missing at invoke), so the host runs what deploy pushed.
    RegistrySettings registry;
    fs::path runner_path;       // the runtime to start when the image has none of its own
    fs::path storage_root;      // bound writable into the sandbox
    int concurrency = 1;
    int timeout_s = 900;
    int memory_mb = 2048;
    SandboxMode sandbox = SandboxMode::automatic;
    bool private_network = true;  // sandboxed environments: a network namespace each
    std::map<std::string, std::string> env;  // set in every environment (cloudProvider.env)
    // Tests only: run this directory as the task root instead of unpacking the image.
    fs::path task_root_override;
    // Lambda's limit for the init phase (spawn until the first /next).
    std::chrono::milliseconds init_timeout{10000};
};

std::unique_ptr<Functions> make_function_host(const FunctionHostOptions& options);

}  // namespace hypertest::providers
