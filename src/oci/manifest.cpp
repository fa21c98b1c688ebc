#include "oci/manifest.hpp"

#include "util/sha256.hpp"
#include "util/strings.hpp"

namespace hypertest::oci {
namespace {

constexpr const char* k_reference_type = "vnd.docker.reference.type";

util::Error malformed(const std::string& why) {
    return util::make_error("malformed manifest: " + why);
}

bool known_type(std::string_view type) {
    return type == k_oci_manifest || type == k_oci_index || type == k_docker_manifest ||
           type == k_docker_list;
}

std::string strip_parameters(std::string_view content_type) {
    return util::trim(content_type.substr(0, content_type.find(';')));
}

util::Result<Descriptor> descriptor(const util::Json& j, const std::string& where) {
    if (!j.is_object()) return malformed(where + " is not an object");
    Descriptor d;
    d.media_type = util::json_get<std::string>(j, "mediaType", "");
    d.digest = util::json_get<std::string>(j, "digest", "");
    if (!util::is_sha256_digest(d.digest)) {
        return malformed(where + " has digest '" + d.digest +
                         "' (only sha256:<64 lowercase hex> is supported)");
    }
    if (!j.contains("size") || !j["size"].is_number_integer() || j["size"].get<std::int64_t>() < 0)
        return malformed(where + " has no valid size");
    d.size = j["size"].get<std::int64_t>();
    d.platform = j.contains("platform") ? j["platform"] : util::Json();
    d.annotations = j.contains("annotations") ? j["annotations"] : util::Json();
    return d;
}

bool is_attestation(const Descriptor& d) {
    if (d.annotations.is_object() && d.annotations.contains(k_reference_type)) return true;
    return util::json_get<std::string>(d.platform, "os", "") == "unknown" ||
           util::json_get<std::string>(d.platform, "architecture", "") == "unknown";
}

std::string platform_text(const util::Json& p) {
    std::string text = util::json_get<std::string>(p, "os", "?") + "/" +
                       util::json_get<std::string>(p, "architecture", "?");
    std::string variant = util::json_get<std::string>(p, "variant", "");
    return variant.empty() ? text : text + "/" + variant;
}

}  // namespace

std::string manifest_accept_header() {
    return std::string(k_oci_index) + ", " + std::string(k_oci_manifest) + ", " +
           std::string(k_docker_list) + ", " + std::string(k_docker_manifest);
}

util::Result<ParsedManifest> parse_manifest(std::string_view bytes, std::string_view content_type) {
    auto j = util::parse_json(std::string(bytes), "manifest");
    if (!j) return malformed(j.error().message);
    if (!j->is_object()) return malformed("not a JSON object");
    if (util::json_get<int>(*j, "schemaVersion", 0) != 2)
        return malformed("schemaVersion is not 2 (schema 1 manifests are not supported)");
    ParsedManifest m;
    std::string header_type = strip_parameters(content_type);
    std::string own_type = util::json_get<std::string>(*j, "mediaType", "");
    if (known_type(header_type)) {
        m.media_type = header_type;
    } else if (known_type(own_type)) {
        m.media_type = own_type;
    } else if (own_type.empty() && j->contains("manifests")) {
        m.media_type = k_oci_index;
    } else if (own_type.empty() && j->contains("config")) {
        m.media_type = k_oci_manifest;
    } else {
        return malformed("unsupported media type '" + (own_type.empty() ? header_type : own_type) +
                         "'");
    }
    if (!own_type.empty() && own_type != m.media_type)
        return malformed("served as " + m.media_type + " but declares " + own_type);
    m.is_index = m.media_type == k_oci_index || m.media_type == k_docker_list;
    if (m.is_index) {
        const util::Json& list = (*j)["manifests"];
        if (!list.is_array()) return malformed("an index without a manifests array");
        for (std::size_t i = 0; i < list.size(); ++i) {
            auto d = descriptor(list[i], "manifests[" + std::to_string(i) + "]");
            if (!d) return d.error();
            m.manifests.push_back(std::move(*d));
        }
        return m;
    }
    auto config = descriptor((*j).value("config", util::Json()), "config");
    if (!config) return config.error();
    m.config = std::move(*config);
    const util::Json& layers = (*j)["layers"];
    if (!layers.is_array()) return malformed("an image manifest without a layers array");
    for (std::size_t i = 0; i < layers.size(); ++i) {
        auto d = descriptor(layers[i], "layers[" + std::to_string(i) + "]");
        if (!d) return d.error();
        m.layers.push_back(std::move(*d));
    }
    return m;
}

std::string Platform::text() const {
    return os + "/" + architecture + (variant.empty() ? "" : "/" + variant);
}

util::Result<Platform> parse_platform(std::string_view text) {
    auto parts = util::split(text, '/');
    Platform p;
    if (parts.size() == 1) {
        p.architecture = parts[0];
    } else if (parts.size() == 2 || parts.size() == 3) {
        p.os = parts[0];
        p.architecture = parts[1];
        if (parts.size() == 3) p.variant = parts[2];
    } else {
        parts.clear();
    }
    if (parts.empty() || p.os.empty() || p.architecture.empty()) {
        return util::make_error("invalid platform '" + std::string(text) +
                                "' (expected e.g. amd64, arm64 or linux/arm64/v8)");
    }
    return p;
}

util::Result<Descriptor> select_platform(const ParsedManifest& index, const Platform& want) {
    std::vector<std::string> offered;
    for (const auto& d : index.manifests) {
        if (is_attestation(d)) continue;
        offered.push_back(platform_text(d.platform));
        if (util::json_get<std::string>(d.platform, "os", "") != want.os ||
            util::json_get<std::string>(d.platform, "architecture", "") != want.architecture) {
            continue;
        }
        if (!want.variant.empty() &&
            util::json_get<std::string>(d.platform, "variant", "") != want.variant) {
            continue;
        }
        return d;
    }
    return util::make_error("the image index has no " + want.text() + " image (it has: " +
                            (offered.empty() ? std::string("none") : util::join(offered, ", ")) +
                            ")");
}

}  // namespace hypertest::oci
