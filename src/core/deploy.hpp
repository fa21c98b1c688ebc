// Deploy: discover, build the image (dependency + test layers), point the function at it,
// then write the manifest (only after the function update succeeded).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/session.hpp"
#include "oci/image.hpp"

namespace hypertest::core {

struct Manifest {
    std::string image_digest;
    std::string inputs_hash;  // hash of the layer digests: equal inputs, equal hash
    std::vector<oci::Layer> layers;
    std::string plugin;
    Json plugin_options = Json::object();
    std::vector<plugins::TestCase> tests;
    std::string framework_version;
    int max_failures = 0;  // the suite's own, counted across the run
    std::string hypertest_version;
    std::string created;
    std::string function_name;
    std::string base_image;   // cloudProvider.baseImage at deploy time; empty without one
    std::string base_digest;  // the base's image manifest the image was built on
};

Json to_json(const Manifest& m);
util::Result<Manifest> manifest_from_json(const Json& j);

std::string manifest_key(const Config& c);
std::string timings_key(const Config& c);
// nullopt when nothing was deployed for this function.
std::optional<Manifest> read_manifest(Session& s);

struct BuiltImage {
    std::vector<oci::Layer> layers;  // the project's: dependencies, tests (not the base's)
    std::string image_digest;
    std::string inputs_hash;
    std::string base_digest;  // empty without a base image
    // Project files the ignore rules' defaults left out (likely secrets), for the user to see.
    std::vector<std::string> left_out_secrets;
};

// Builds (or reuses from cache) the layers and image for the project as it is now: on the
// configured base image (loaded or pulled first) when there is one. Both layers put the
// project under /var/task, the image's working directory.
BuiltImage build_image(Session& s);
// The two layers and inputs_hash only (no base image, no image written): enough to tell
// whether the project changed since a deploy.
BuiltImage build_layers(Session& s);

// Runs the deploy steps. With `skip_if_current`, stops after the build when the function
// already runs this exact image (used by `run`). Returns the manifest in force afterwards.
Manifest deploy(Session& s, bool skip_if_current);

}  // namespace hypertest::core
