#include "oci/image.hpp"
#include "oci/layout_internal.hpp"

namespace hypertest::oci {

namespace {

// Fixed so the same spec always gives the same config and manifest digests.
constexpr const char* k_epoch = "1970-01-01T00:00:00Z";

util::Status check_spec(const ImageSpec& spec) {
    if (spec.layers.empty()) return util::make_error("an image needs at least one layer");
    for (const auto& layer : spec.layers) {
        if (!detail::is_sha256_digest(layer.digest) || !detail::is_sha256_digest(layer.diff_id) ||
            layer.size < 0) {
            return util::make_error("invalid layer (digest '" + layer.digest + "', diff_id '" +
                                    layer.diff_id + "', size " + std::to_string(layer.size) + ")");
        }
    }
    if (!spec.labels.is_object()) return util::make_error("image labels must be a JSON object");
    for (const auto& [key, value] : spec.labels.items()) {
        if (!value.is_string())
            return util::make_error("image label '" + key + "' must be a string");
    }
    return util::ok_status();
}

util::Json config_json(const ImageSpec& spec) {
    util::Json runtime = util::Json::object();
    if (!spec.entrypoint.empty()) runtime["Entrypoint"] = spec.entrypoint;
    if (!spec.env.empty()) runtime["Env"] = spec.env;
    if (!spec.working_dir.empty()) runtime["WorkingDir"] = spec.working_dir;
    if (!spec.labels.empty()) runtime["Labels"] = spec.labels;
    util::Json diff_ids = util::Json::array();
    util::Json history = util::Json::array();
    for (std::size_t i = 0; i < spec.layers.size(); ++i) {
        diff_ids.push_back(spec.layers[i].diff_id);
        history.push_back(util::Json{{"created", k_epoch},
                                     {"created_by", "hypertest layer " + std::to_string(i + 1)}});
    }
    return util::Json{{"architecture", spec.architecture},
                      {"os", spec.os},
                      {"created", k_epoch},
                      {"config", runtime},
                      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                      {"history", history}};
}

util::Json manifest_json(const ImageSpec& spec, const std::string& config_digest,
                         std::int64_t config_size) {
    util::Json layers = util::Json::array();
    for (const auto& layer : spec.layers) {
        layers.push_back(util::Json{
            {"mediaType", layer.media_type}, {"digest", layer.digest}, {"size", layer.size}});
    }
    return util::Json{{"schemaVersion", 2},
                      {"mediaType", detail::k_manifest_media_type},
                      {"config",
                       {{"mediaType", detail::k_config_media_type},
                        {"digest", config_digest},
                        {"size", config_size}}},
                      {"layers", layers}};
}

}  // namespace

util::Result<WrittenImage> write_image(ImageLayout& layout, const ImageSpec& spec,
                                       const std::string& tag) {
    if (auto s = check_spec(spec); !s) return s.error();
    // nlohmann's default object is a std::map, so dump() emits sorted keys: deterministic bytes.
    std::string config = config_json(spec).dump();
    auto config_digest = layout.write_blob(config);
    if (!config_digest) return config_digest.error();
    std::string manifest =
        manifest_json(spec, *config_digest, static_cast<std::int64_t>(config.size())).dump();
    auto manifest_digest = layout.write_blob(manifest);
    if (!manifest_digest) return manifest_digest.error();
    WrittenImage image;
    image.manifest_digest = *manifest_digest;
    image.config_digest = *config_digest;
    image.manifest_size = static_cast<std::int64_t>(manifest.size());
    if (auto s = layout.tag(image.manifest_digest, image.manifest_size,
                            std::string(detail::k_manifest_media_type), tag);
        !s) {
        return s.error();
    }
    return image;
}

}  // namespace hypertest::oci
