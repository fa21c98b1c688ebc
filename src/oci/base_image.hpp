// Base images: where one comes from ("oci:<layout>[:tag]" or a registry reference), loading
// it into the layout an image is built in, and the checks that it fits the wanted platform.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "oci/image.hpp"
#include "oci/manifest.hpp"
#include "oci/registry_client.hpp"
#include "oci/registry_ref.hpp"
#include "util/result.hpp"

namespace hypertest::oci {

namespace fs = std::filesystem;

struct BaseSource {
    std::string text;        // as given
    fs::path layout_dir;     // "oci:<path>[:tag]": the layout; empty for a registry source
    std::string layout_tag;  // empty: the layout's only image
    RegistryRef registry;    // otherwise; its reference() is never empty ("latest" when absent)
    bool is_layout() const { return !layout_dir.empty(); }
};

// "oci:<path>[:tag]" (the tag follows the last ':' after the last '/', as with skopeo) or
// "host[:port]/repository[:tag|@sha256:…]". Fails with an example of each.
util::Result<BaseSource> parse_base_source(std::string_view text);

// The platform an image config names ("os", "architecture", "variant").
Platform config_platform(const util::Json& config);
// Fails naming both platforms unless os and architecture match (and the variant, when both
// name one).
util::Status check_platform(const Platform& got, const Platform& want, const std::string& what);

// Reads an image manifest of the layout (through an index: the entry for want) with its
// config into a BaseImage, checking the platform, that each layer has a diff_id and that
// every blob is in the layout. Docker v2 layer media types become their OCI equivalents.
util::Result<BaseImage> read_base_image(const ImageLayout& layout, const std::string& digest,
                                        const Platform& want, const std::string& reference);

// Copies the base from an OCI layout on disk into target (hard links where possible; blobs
// target has are kept), checking every copied blob's digest.
util::Result<BaseImage> load_base_from_layout(const BaseSource& source, const Platform& want,
                                              ImageLayout& target);

// Pulls the base into target: only a HEAD when the tag still names an image target holds,
// else the manifest, config (platform checked before any layer) and the missing layers.
util::Result<BaseImage> pull_base_image(RegistryClient& client, const BaseSource& source,
                                        const Platform& want, ImageLayout& target);

// The base's entrypoint when it runs hypertest-runner (its first element's file name),
// else ours.
std::vector<std::string> choose_entrypoint(const BaseImage& base,
                                           const std::vector<std::string>& ours);

}  // namespace hypertest::oci
