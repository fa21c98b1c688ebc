#include "oci/base_image.hpp"

#include "oci/layout_internal.hpp"
#include "oci/registry_transfer.hpp"
#include "util/fs.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci {
namespace {

constexpr std::string_view k_layout_prefix = "oci:";

std::string oci_layer_type(const std::string& media_type) {
    if (media_type == "application/vnd.docker.image.rootfs.diff.tar.gzip")
        return "application/vnd.oci.image.layer.v1.tar+gzip";
    if (media_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")
        return "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    return media_type;
}

// The image manifest digest for want: digest itself, or the matching entry of an index.
util::Result<std::string> image_manifest(const ImageLayout& layout, const std::string& digest,
                                         const Platform& want, const std::string& reference) {
    auto bytes = layout.read_blob(digest);
    if (!bytes) return bytes.error();
    auto parsed = parse_manifest(*bytes, "");
    if (!parsed) return util::make_error(reference + ": " + parsed.error().message);
    if (!parsed->is_index) return digest;
    auto chosen = select_platform(*parsed, want);
    if (!chosen) return util::make_error(reference + ": " + chosen.error().message);
    return chosen->digest;
}

// The digest of tag in the layout, or of its only entry when tag is empty.
util::Result<std::string> layout_entry(const ImageLayout& layout, const std::string& tag) {
    if (!tag.empty()) return layout.resolve(tag);
    auto text = util::read_file(layout.dir() / "index.json");
    if (!text) return text.error();
    auto index = util::parse_json(*text, (layout.dir() / "index.json").string());
    if (!index) return index.error();
    auto entries = util::json_get<util::Json>(*index, "manifests", util::Json::array());
    if (!entries.is_array() || entries.size() != 1) {
        return util::make_error(layout.dir().string() + " holds " +
                                std::to_string(entries.is_array() ? entries.size() : 0) +
                                " images; name one with oci:<path>:<tag>");
    }
    std::string digest = util::json_get<std::string>(entries[0], "digest", "");
    if (!util::is_sha256_digest(digest))
        return util::make_error(layout.dir().string() + "/index.json has an invalid digest");
    return digest;
}

// Puts the blob into target: a hard link, else a copy; the content is checked either way.
util::Status copy_blob(const ImageLayout& from, const std::string& digest, ImageLayout& target) {
    if (target.has_blob(digest)) return util::ok_status();
    if (!from.has_blob(digest))
        return util::make_error("blob " + digest + " is missing from " + from.dir().string());
    auto hex = util::sha256_file_hex(from.blob_path(digest));
    if (!hex) return hex.error();
    if ("sha256:" + *hex != digest) {
        return util::make_error("blob " + digest + " in " + from.dir().string() +
                                " is corrupt (its content hashes to sha256:" + *hex + ")");
    }
    auto tmp = detail::scratch_path(target, "base");
    if (!tmp) return tmp.error();
    std::error_code ec;
    fs::create_hard_link(from.blob_path(digest), *tmp, ec);
    if (ec) {
        ec.clear();
        fs::copy_file(from.blob_path(digest), *tmp, ec);
        if (ec) {
            fs::remove(*tmp, ec);
            return util::make_error("cannot copy blob " + digest + " from " + from.dir().string() +
                                    ": " + ec.message());
        }
    }
    auto committed = detail::commit_blob(target, *tmp, digest);
    if (!committed) return committed.error();
    return util::ok_status();
}

}  // namespace

util::Result<BaseSource> parse_base_source(std::string_view text) {
    BaseSource source;
    source.text = std::string(text);
    if (text.substr(0, k_layout_prefix.size()) == k_layout_prefix) {
        std::string rest(text.substr(k_layout_prefix.size()));
        auto slash = rest.rfind('/');
        auto colon = rest.rfind(':');
        if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
            source.layout_tag = rest.substr(colon + 1);
            rest.resize(colon);
            if (source.layout_tag.empty())
                return util::make_error("\"" + source.text + "\" ends with ':' but names no tag");
        }
        if (rest.empty())
            return util::make_error("\"" + source.text +
                                    "\" names no directory: use oci:<layout dir>[:tag]");
        source.layout_dir = rest;
        return source;
    }
    auto ref = parse_registry_ref(text);
    if (!ref) {
        return util::make_error(ref.error().message +
                                " (use \"host[:port]/repository:tag\" for a registry or "
                                "\"oci:<layout dir>[:tag]\" for an OCI layout on disk)");
    }
    source.registry = *ref;
    if (source.registry.reference().empty()) source.registry.tag = "latest";
    return source;
}

Platform config_platform(const util::Json& config) {
    Platform p;
    p.os = util::json_get<std::string>(config, "os", "");
    p.architecture = util::json_get<std::string>(config, "architecture", "");
    p.variant = util::json_get<std::string>(config, "variant", "");
    return p;
}

util::Status check_platform(const Platform& got, const Platform& want, const std::string& what) {
    bool variant_differs = !got.variant.empty() && !want.variant.empty() && got.variant != want.variant;
    if (got.os == want.os && got.architecture == want.architecture && !variant_differs)
        return util::ok_status();
    return util::make_error("wrong platform: " + what + " is a " + got.text() +
                            " image, wanted " + want.text());
}

util::Result<BaseImage> read_base_image(const ImageLayout& layout, const std::string& digest,
                                        const Platform& want, const std::string& reference) {
    auto manifest_digest = image_manifest(layout, digest, want, reference);
    if (!manifest_digest) return manifest_digest.error();
    auto bytes = layout.read_blob(*manifest_digest);
    if (!bytes) return bytes.error();
    auto manifest = parse_manifest(*bytes, "");
    if (!manifest) return util::make_error(reference + ": " + manifest.error().message);
    auto config_text = layout.read_blob(manifest->config.digest);
    if (!config_text) return config_text.error();
    auto config = util::parse_json(*config_text, "the image config of " + reference);
    if (!config) return config.error();
    if (!config->is_object())
        return util::make_error("the image config of " + reference + " is not a JSON object");
    if (auto s = check_platform(config_platform(*config), want, reference); !s) return s.error();
    auto rootfs = util::json_get<util::Json>(*config, "rootfs", util::Json::object());
    auto diff_ids = util::json_get<std::vector<std::string>>(rootfs, "diff_ids", {});
    if (diff_ids.size() != manifest->layers.size()) {
        return util::make_error(reference + " has " + std::to_string(manifest->layers.size()) +
                                " layers but its config lists " + std::to_string(diff_ids.size()) +
                                " diff_ids");
    }
    BaseImage base;
    base.reference = reference;
    base.manifest_digest = *manifest_digest;
    base.config = std::move(*config);
    for (std::size_t i = 0; i < diff_ids.size(); ++i) {
        const Descriptor& d = manifest->layers[i];
        if (!layout.has_blob(d.digest))
            return util::make_error("layer " + d.digest + " of " + reference + " is missing from " +
                                    layout.dir().string());
        Layer layer;
        layer.digest = d.digest;
        layer.diff_id = diff_ids[i];
        layer.size = d.size;
        layer.media_type = oci_layer_type(d.media_type);
        layer.reused = true;
        base.layers.push_back(layer);
    }
    return base;
}

util::Result<BaseImage> load_base_from_layout(const BaseSource& source, const Platform& want,
                                              ImageLayout& target) {
    std::error_code ec;
    if (!fs::exists(source.layout_dir / "oci-layout", ec)) {
        return util::make_error(source.layout_dir.string() +
                                " is not an OCI image layout (no oci-layout file)");
    }
    auto from = ImageLayout::open(source.layout_dir);
    if (!from) return from.error();
    auto entry = layout_entry(*from, source.layout_tag);
    if (!entry) return entry.error();
    // Manifest and config are small: checked in place, then copied with the layers.
    auto in_source = image_manifest(*from, *entry, want, source.text);
    if (!in_source) return in_source.error();
    auto bytes = from->read_blob(*in_source);
    if (!bytes) return bytes.error();
    auto manifest = parse_manifest(*bytes, "");
    if (!manifest) return util::make_error(source.text + ": " + manifest.error().message);
    std::vector<std::string> blobs = {*in_source, manifest->config.digest};
    for (const auto& layer : manifest->layers) blobs.push_back(layer.digest);
    if (auto s = copy_blob(*from, manifest->config.digest, target); !s) return s.error();
    auto config_text = target.read_blob(manifest->config.digest);
    if (!config_text) return config_text.error();
    auto config = util::parse_json(*config_text, "the image config of " + source.text);
    if (!config) return config.error();
    if (auto s = check_platform(config_platform(*config), want, source.text); !s) return s.error();
    for (const auto& digest : blobs) {
        if (auto s = copy_blob(*from, digest, target); !s) return s.error();
    }
    return read_base_image(target, *in_source, want, source.text);
}

util::Result<BaseImage> pull_base_image(RegistryClient& client, const BaseSource& source,
                                        const Platform& want, ImageLayout& target) {
    const RegistryRef& ref = source.registry;
    std::string digest = ref.digest;
    if (digest.empty()) {
        auto head = client.head_manifest(ref.repository, ref.tag);
        if (!head) return head.error();
        if (!*head) return util::make_error(source.text + ": not found (404)");
        digest = **head;
    }
    if (util::is_sha256_digest(digest) && target.has_blob(digest)) {
        // Unchanged since the last build: everything is local already.
        if (auto base = read_base_image(target, digest, want, source.text)) return base;
    }
    PullOptions options;
    options.platform = want;
    auto report = pull_image(client, ref.repository, ref.reference(), target, options);
    if (!report) return report.error();
    return read_base_image(target, report->manifest_digest, want, source.text);
}

std::vector<std::string> choose_entrypoint(const BaseImage& base,
                                           const std::vector<std::string>& ours) {
    auto runtime = util::json_get<util::Json>(base.config, "config", util::Json::object());
    auto entrypoint = util::json_get<std::vector<std::string>>(runtime, "Entrypoint", {});
    if (!entrypoint.empty() && fs::path(entrypoint.front()).filename() == "hypertest-runner")
        return entrypoint;
    return ours;
}

}  // namespace hypertest::oci
