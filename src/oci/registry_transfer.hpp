// Moving images between an OCI image layout and a registry: push only what is missing,
// pull with every digest checked.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "oci/image.hpp"
#include "oci/manifest.hpp"
#include "oci/registry_client.hpp"

namespace hypertest::oci {

struct BlobReport {
    std::string digest;
    std::int64_t size = 0;
    BlobAction action = BlobAction::skipped;
};

struct TransferReport {
    std::string repository;
    std::string reference;          // tag or digest given
    std::string manifest_digest;    // the manifest (or index) pushed, or the image manifest pulled
    std::string media_type;         // of manifest_digest
    std::string index_digest;       // pull through an index: the index's digest
    std::string platform;           // pull: the platform of the image pulled ("linux/amd64")
    std::vector<BlobReport> blobs;  // configs and layers, in transfer order
    int manifests_uploaded = 0;
    int manifests_skipped = 0;  // already in the registry under the same reference

    int count(BlobAction action) const;
    std::int64_t bytes(BlobAction action) const;
    // e.g. "1 blob uploaded (2.1 MB), 2 skipped (104.9 MB), manifest uploaded".
    std::string summary() const;
    util::Json to_json() const;
};

struct PushOptions {
    // Another repository on the same registry to mount missing blobs from (HEAD still first).
    std::string mount_from;
};

// Pushes the manifest (an image manifest, or an index and every manifest it lists) stored in
// the layout to repository, under tag (the digest when tag is empty). Blobs and manifests
// the registry already has are only checked with HEAD. Fails when a referenced blob is
// missing from the layout.
util::Result<TransferReport> push_image(RegistryClient& client, const ImageLayout& layout,
                                        const std::string& manifest_digest,
                                        const std::string& repository, const std::string& tag,
                                        const PushOptions& options = {});

struct PullOptions {
    Platform platform;           // chosen from an index; checked against a single image
    bool check_platform = true;  // false: accept a single image of any platform
    std::string tag;             // when set, tags the pulled image manifest in the layout
};

// Pulls repository:reference (tag or digest) into the layout: the image manifest (through an
// index by platform), its config and layers, skipping blobs the layout has. Every blob and
// manifest is checked against its digest and size before it is stored.
util::Result<TransferReport> pull_image(RegistryClient& client, const std::string& repository,
                                        const std::string& reference, ImageLayout& layout,
                                        const PullOptions& options = {});

// "1.5 MB", "512 B".
std::string format_bytes(std::int64_t bytes);

}  // namespace hypertest::oci
