// Manifests and indexes as registries serve them: OCI and Docker v2 media types, validation,
// and the choice of one platform from an index.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace hypertest::oci {

inline constexpr std::string_view k_oci_manifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view k_oci_index = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view k_docker_manifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view k_docker_list =
    "application/vnd.docker.distribution.manifest.list.v2+json";
// The Accept header of a manifest GET/HEAD: every type this project reads.
std::string manifest_accept_header();

struct Descriptor {
    std::string media_type;
    std::string digest;
    std::int64_t size = 0;
    util::Json platform;     // index entries only; null when absent
    util::Json annotations;  // null when absent
};

struct ParsedManifest {
    std::string media_type;  // one of the four above
    bool is_index = false;
    Descriptor config;                  // image manifests
    std::vector<Descriptor> layers;     // image manifests
    std::vector<Descriptor> manifests;  // indexes
};

// Parses and checks manifest bytes. content_type is the response's Content-Type (parameters
// allowed, may be empty); the document's own mediaType and shape decide when it is absent.
// Fails with "malformed manifest: ..." on anything that is not a schema 2 manifest or index
// with sha256 descriptors.
util::Result<ParsedManifest> parse_manifest(std::string_view bytes, std::string_view content_type);

struct Platform {
    std::string os = "linux";
    std::string architecture = "amd64";
    std::string variant;  // empty: any
    std::string text() const;
};

// "amd64", "arm64", "linux/arm64", "linux/arm64/v8". Fails on anything else.
util::Result<Platform> parse_platform(std::string_view text);

// The index entry for the platform. Attestation entries (platform unknown/unknown, or the
// annotation vnd.docker.reference.type) are never chosen. Fails naming the platforms offered.
util::Result<Descriptor> select_platform(const ParsedManifest& index, const Platform& want);

}  // namespace hypertest::oci
