#include <algorithm>

#include "oci/image.hpp"
#include "oci/layout_internal.hpp"
#include "util/sha256.hpp"

namespace hypertest::oci {

namespace {

// Fixed so the same spec always gives the same config and manifest digests.
constexpr const char* k_epoch = "1970-01-01T00:00:00Z";

util::Status check_spec(const ImageSpec& spec) {
    if (spec.layers.empty()) return util::make_error("an image needs at least one layer");
    for (const auto& layer : spec.layers) {
        if (!util::is_sha256_digest(layer.digest) || !util::is_sha256_digest(layer.diff_id) ||
            layer.size < 0) {
            return util::make_error("invalid layer (digest '" + layer.digest + "', diff_id '" +
                                    layer.diff_id + "', size " + std::to_string(layer.size) + ")");
        }
    }
    if (spec.base) {
        if (!spec.base->config.is_object())
            return util::make_error("the base image's config is not a JSON object");
        for (const auto& layer : spec.base->layers) {
            if (!util::is_sha256_digest(layer.digest) || !util::is_sha256_digest(layer.diff_id))
                return util::make_error("invalid base image layer (digest '" + layer.digest +
                                        "', diff_id '" + layer.diff_id + "')");
        }
    }
    if (!spec.labels.is_object()) return util::make_error("image labels must be a JSON object");
    for (const auto& [key, value] : spec.labels.items()) {
        if (!value.is_string())
            return util::make_error("image label '" + key + "' must be a string");
    }
    return util::ok_status();
}

// "KEY=value" lists: base order, ours replacing by name, new names appended in our order.
std::vector<std::string> merged_env(const std::vector<std::string>& base,
                                    const std::vector<std::string>& ours) {
    auto name = [](const std::string& kv) { return kv.substr(0, kv.find('=')); };
    std::vector<std::string> out = base;
    for (const auto& kv : ours) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const std::string& b) { return name(b) == name(kv); });
        if (it != out.end()) {
            *it = kv;
        } else {
            out.push_back(kv);
        }
    }
    return out;
}

// The runtime part ("config") of the image config: the base's, with ours on top.
util::Json runtime_json(const ImageSpec& spec) {
    util::Json runtime = util::Json::object();
    std::vector<std::string> env = spec.env;
    util::Json labels = spec.labels;
    if (spec.base) {
        runtime = util::json_get<util::Json>(spec.base->config, "config", util::Json::object());
        if (!runtime.is_object()) runtime = util::Json::object();
        env = merged_env(util::json_get<std::vector<std::string>>(runtime, "Env", {}), spec.env);
        labels = util::json_get<util::Json>(runtime, "Labels", util::Json::object());
        if (!labels.is_object()) labels = util::Json::object();
        labels.update(spec.labels);
        if (!spec.entrypoint.empty() &&
            util::json_get<util::Json>(runtime, "Entrypoint", util::Json()) != util::Json(spec.entrypoint)) {
            runtime.erase("Cmd");  // arguments for another program
        }
    }
    if (!spec.entrypoint.empty()) runtime["Entrypoint"] = spec.entrypoint;
    if (!env.empty()) runtime["Env"] = env;
    if (!spec.working_dir.empty()) runtime["WorkingDir"] = spec.working_dir;
    if (!labels.empty()) runtime["Labels"] = labels;
    return runtime;
}

util::Json config_json(const ImageSpec& spec) {
    util::Json diff_ids = util::Json::array();
    util::Json history = util::Json::array();
    util::Json config = util::Json::object();
    if (spec.base) {
        // Platform fields of the base (deploy checked them against the wanted platform).
        for (const char* key : {"os", "architecture", "variant", "os.version", "os.features"}) {
            if (spec.base->config.contains(key)) config[key] = spec.base->config[key];
        }
        for (const auto& layer : spec.base->layers) diff_ids.push_back(layer.diff_id);
        util::Json base_history = util::json_get<util::Json>(spec.base->config, "history", {});
        if (base_history.is_array() && !base_history.empty()) {
            history = base_history;
        } else {
            for (std::size_t i = 0; i < spec.base->layers.size(); ++i)
                history.push_back(util::Json{
                    {"created", k_epoch}, {"created_by", "base layer " + std::to_string(i + 1)}});
        }
    }
    if (!config.contains("os")) config["os"] = spec.os;
    if (!config.contains("architecture")) config["architecture"] = spec.architecture;
    for (std::size_t i = 0; i < spec.layers.size(); ++i) {
        diff_ids.push_back(spec.layers[i].diff_id);
        std::string created_by = i < spec.created_by.size() && !spec.created_by[i].empty()
                                     ? spec.created_by[i]
                                     : "hypertest layer " + std::to_string(i + 1);
        history.push_back(util::Json{{"created", k_epoch}, {"created_by", created_by}});
    }
    config["created"] = k_epoch;
    config["config"] = runtime_json(spec);
    config["rootfs"] = {{"type", "layers"}, {"diff_ids", diff_ids}};
    config["history"] = history;
    return config;
}

util::Json manifest_json(const ImageSpec& spec, const std::string& config_digest,
                         std::int64_t config_size) {
    util::Json layers = util::Json::array();
    std::vector<Layer> all = spec.base ? spec.base->layers : std::vector<Layer>{};
    all.insert(all.end(), spec.layers.begin(), spec.layers.end());
    for (const auto& layer : all) {
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
