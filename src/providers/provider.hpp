// A place where tests run: storage for manifests/results/artifacts, an image store, and a
// function to invoke. `local` (default) and, later, `aws`.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plugins/model.hpp"
#include "util/json.hpp"
#include "util/result.hpp"

namespace hypertest::providers {

namespace fs = std::filesystem;
using util::Json;

// Keys use '/' separators; the same layout in a local directory and an S3 bucket.
class Storage {
public:
    virtual ~Storage() = default;
    virtual util::Status put(const std::string& key, std::string_view bytes) = 0;
    virtual util::Status put_file(const std::string& key, const fs::path& file) = 0;
    // nullopt when the key does not exist.
    virtual util::Result<std::optional<std::string>> get(const std::string& key) = 0;
    // Where a person finds the object (a path, or s3://bucket/key).
    virtual std::string url(const std::string& key) const = 0;
    // What the runner needs to write artifacts here.
    virtual plugins::StorageLocation location() const = 0;
    // Checked by doctor and before a run: fails with a fix hint when not writable.
    virtual util::Status check_writable() = 0;
};

struct FunctionState {
    std::string image_digest;  // manifest digest the function runs; empty when never deployed
    int timeout_s = 900;
    int memory_mb = 2048;
};

struct InvokeResponse {
    Json payload;                // the function's answer (its error object on function_error)
    bool function_error = false;  // the runtime reported an error, crashed or timed out
    std::string error_message;    // for function_error
    std::int64_t duration_ms = 0;
    std::int64_t billed_ms = 0;
    std::int64_t init_ms = 0;    // > 0 on a cold start
};

// One invocation the dispatcher started, and how it ended.
using CallId = std::uint64_t;
struct InvokeCompletion {
    CallId id = 0;
    // Fails (retryable) only when the call itself could not be made, e.g. a transport error or
    // throttling (Error::throttled, Error::retry_after_ms); a function that errors, crashes or
    // times out is a response with function_error = true.
    util::Result<InvokeResponse> response;
};

// Invocations are asynchronous so that one event loop keeps many in flight: start_invoke()
// returns at once and poll() hands back the ones that ended. start_invoke, poll and shutdown
// are called from one thread (the dispatcher's loop); state and update are not called while
// invocations are in flight.
class Functions {
public:
    virtual ~Functions() = default;
    virtual util::Result<FunctionState> state() = 0;
    // Points the function at a manifest digest in the provider's image store.
    virtual util::Status update(const std::string& image_digest) = 0;
    // Starts one invocation; it ends (in poll) when the function answers, fails or passes
    // timeout. The caller keeps at most the provider's concurrency in flight.
    virtual void start_invoke(CallId id, const Json& event, std::chrono::milliseconds timeout) = 0;
    // Waits up to `wait` for started invocations to end and returns every one that has (empty
    // when none did in time or nothing is in flight).
    virtual std::vector<InvokeCompletion> poll(std::chrono::milliseconds wait) = 0;
    // Number of started invocations poll has not returned yet.
    virtual std::size_t in_flight() const = 0;
    // Ends in-flight invocations (they come back from poll as failures) and stops warm
    // environments. Called at the end of a run and on Ctrl-C.
    virtual void shutdown() = 0;
    // One invocation start to end, for callers with nothing else in flight.
    util::Result<InvokeResponse> invoke(const Json& event, std::chrono::milliseconds timeout);
};

struct DoctorCheck {
    std::string name;
    bool ok = false;
    std::string detail;  // what was found, or what is wrong
    std::string fix;     // how to fix it, when not ok
};

struct ProviderContext {
    fs::path project_dir;
    Json config = Json::object();  // the cloudProvider object
    std::string function_name = "hypertest";
    int concurrency = 1;
    fs::path runner_path;  // hypertest-runner on this machine
};

class Provider {
public:
    virtual ~Provider() = default;
    virtual std::string name() const = 0;
    virtual Storage& storage() = 0;
    virtual Functions& functions() = 0;
    // Where deploy writes the image (OCI layout) for this provider.
    virtual fs::path image_layout_dir() const = 0;
    // The registry repository deploy pushes images to ("host/repo[:tag]"); empty when the
    // provider keeps images in image_layout_dir() only.
    virtual std::string image_registry() const { return {}; }
    // Pushes the image deploy wrote to image_registry() (only what the registry lacks).
    // Returns a one-line summary (blobs uploaded/skipped and bytes), or nullopt when the
    // provider has no registry.
    virtual util::Result<std::optional<std::string>> publish_image(const std::string& /*digest*/) {
        return std::optional<std::string>();
    }
    virtual std::vector<DoctorCheck> doctor() = 0;
};

// The name -> factory table; unknown names throw util::Fatal with a "did you mean".
std::unique_ptr<Provider> make_provider(const std::string& name, const ProviderContext& ctx);
std::vector<std::string> provider_names();
// Config keys each provider accepts inside cloudProvider (for validation).
std::vector<std::string> provider_config_keys(const std::string& name);

}  // namespace hypertest::providers
