// Reproducible image layers and an OCI image layout on disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "util/json.hpp"
#include "util/result.hpp"

namespace hypertest::oci {

namespace fs = std::filesystem;

struct Layer {
    std::string digest;   // "sha256:<hex>" of the tar.gz blob
    std::string diff_id;  // "sha256:<hex>" of the uncompressed tar
    std::int64_t size = 0;
    std::string media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    bool reused = false;  // true when the blob was already in the layout
};

// An OCI image layout directory (oci-layout, index.json, blobs/sha256/...).
class ImageLayout {
public:
    // Creates the layout when missing. Fails when dir cannot be created or is not a layout.
    static util::Result<ImageLayout> open(const fs::path& dir);

    const fs::path& dir() const { return m_dir; }
    bool has_blob(const std::string& digest) const;
    // Empty for anything but "sha256:<64 lowercase hex>", so a digest cannot name other files.
    fs::path blob_path(const std::string& digest) const;
    // Stores bytes as a blob; returns "sha256:<hex>".
    util::Result<std::string> write_blob(std::string_view bytes);
    util::Result<std::string> read_blob(const std::string& digest) const;  // verifies the digest
    // Records a manifest in index.json under the tag (org.opencontainers.image.ref.name).
    util::Status tag(const std::string& manifest_digest, std::int64_t size,
                     const std::string& media_type, const std::string& tag);
    util::Result<std::string> resolve(const std::string& tag) const;  // manifest digest

private:
    explicit ImageLayout(fs::path dir) : m_dir(std::move(dir)) {}
    fs::path m_dir;
};

class IgnoreRules;

// What build_layer leaves out: `skip` paths (relative to root) with everything below them, and
// what `ignore` rules out. Paths left out by the ignore rules' defaults are added to
// `left_out_by_default` when set, so that the user can be told.
struct LayerFilter {
    std::vector<std::string> skip;
    const IgnoreRules* ignore = nullptr;
    std::vector<std::string>* left_out_by_default = nullptr;
};

// Builds a reproducible tar.gz of `paths` (relative to root; directories recurse) into the
// layout: sorted entries, mtime 0, uid/gid 0, no user/group names, fixed gzip settings. The
// same file contents and modes give the same digest wherever root is and whatever the mtimes.
// Symlinks are stored as symlinks. Missing paths are skipped. File permission bits are kept
// (setuid, setgid and sticky bits dropped); hard links become regular files; sockets/fifos
// are skipped.
// With cache_file set, a fingerprint of the inputs (paths, sizes, mtimes, modes) that matches
// the cache and whose blob exists skips the rebuild (reused = true). With prefix set (e.g.
// "var/task"), entries are stored below it (its directories included, mode 0755), so the layer
// unpacks into that directory of the image; the prefix must be relative without "." or "..".
util::Result<Layer> build_layer(const fs::path& root, const std::vector<std::string>& paths,
                                ImageLayout& layout, const fs::path& cache_file = {},
                                const std::string& prefix = {}, const LayerFilter& filter = {});

// An image to build on (see base_image.hpp for loading one): its layers come first and its
// config's Env, Labels, other runtime settings and history are kept.
struct BaseImage {
    std::string reference;        // as configured, for messages
    std::string manifest_digest;  // the base's image manifest
    util::Json config = util::Json::object();  // its image config, as stored
    std::vector<Layer> layers;    // in order; diff_ids from config.rootfs.diff_ids
};

struct ImageSpec {
    std::vector<Layer> layers;
    std::vector<std::string> entrypoint;
    std::vector<std::string> env;  // "KEY=value"
    std::string working_dir;
    std::string os = "linux";
    std::string architecture = "amd64";
    util::Json labels = util::Json::object();
    // Layers go on top of the base's. With a base: Env is the base's with ours overriding by
    // name, Labels likewise; Entrypoint and WorkingDir are ours when set (the base's Cmd is
    // dropped when our Entrypoint differs from the base's); os, architecture and variant are
    // the base's; diff_ids and history are the base's followed by ours.
    std::optional<BaseImage> base;
    // History entry of each of our layers; "hypertest layer <n>" when missing.
    std::vector<std::string> created_by;
};

struct WrittenImage {
    std::string manifest_digest;
    std::string config_digest;
    std::int64_t manifest_size = 0;
};

// Writes config and single-platform manifest blobs and tags the manifest. Deterministic: no
// timestamps beyond a fixed epoch, so the same spec gives the same manifest digest.
util::Result<WrittenImage> write_image(ImageLayout& layout, const ImageSpec& spec,
                                       const std::string& tag);

// Bounds on what one unpack call may write: images come from registries hypertest does not
// control. Defaults suit Lambda, whose images unpack to at most 10 GB.
struct UnpackLimits {
    std::int64_t max_bytes = std::int64_t{10} << 30;  // file contents, all layers of one call
    std::int64_t max_entries = 2'000'000;             // files, directories and links
    std::int64_t max_file_bytes = std::int64_t{4} << 30;
    // Names the settings in error messages, e.g. "cloudProvider.unpackLimits.".
    std::string setting_prefix;
};

// Extracts the image's layers, in order, into target (created). Refuses entries that would
// escape target (absolute paths, "..", symlinked parents) and anything over the limits;
// applies OCI whiteouts; drops setuid, setgid and world-writable bits.
util::Status unpack_image(const ImageLayout& layout, const std::string& manifest_digest,
                          const fs::path& target, const UnpackLimits& limits = {});

// A layer as the image manifest lists it.
struct LayerRef {
    std::string digest;
    std::string media_type;
};
// The image's layers, in order.
util::Result<std::vector<LayerRef>> image_layers(const ImageLayout& layout,
                                                 const std::string& manifest_digest);
// Like unpack_image, for the given layers only (e.g. one layer into a cache of its own).
util::Status unpack_layers(const ImageLayout& layout, const std::vector<LayerRef>& layers,
                           const fs::path& target, const UnpackLimits& limits = {});

}  // namespace hypertest::oci
