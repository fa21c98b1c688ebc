#include "providers/local/registry_image.hpp"

#include <cstdlib>
#include <regex>

#include "oci/base_image.hpp"
#include "oci/registry_ref.hpp"

namespace hypertest::providers {
namespace {

constexpr const char* k_credentials_hint =
    "set HYPERTEST_REGISTRY_USERNAME and HYPERTEST_REGISTRY_PASSWORD";

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? v : "";
}

std::unique_ptr<oci::RegistryClient> client_for(const oci::RegistryRef& ref, bool insecure) {
    oci::RegistryOptions options;
    options.insecure = insecure;
    options.credentials = {env("HYPERTEST_REGISTRY_USERNAME"), env("HYPERTEST_REGISTRY_PASSWORD")};
    options.credentials_hint = k_credentials_hint;
    return std::make_unique<oci::RegistryClient>(ref.host, options, util::make_curl_http_client());
}

util::Result<oci::RegistryRef> settings_ref(const RegistrySettings& settings) {
    auto ref = oci::parse_registry_ref(settings.reference);
    if (!ref) return util::make_error("cloudProvider.registry: " + ref.error().message);
    return ref;
}

}  // namespace

RegistrySettings parse_registry_settings(const util::Json& c) {
    RegistrySettings s;
    if (!c.is_object()) return s;
    if (c.contains("registry") && !c["registry"].is_null()) {
        const util::Json& r = c["registry"];
        if (!r.is_string())
            throw util::Fatal(
                "cloudProvider.registry must be a string like \"127.0.0.1:5000/myrepo\" (got " +
                r.dump() + ")");
        auto ref = oci::parse_registry_ref(r.get<std::string>());
        if (!ref) throw util::Fatal("cloudProvider.registry: " + ref.error().message);
        if (!ref->digest.empty())
            throw util::Fatal(
                "cloudProvider.registry names a digest; give a repository (and "
                "optionally a tag) to push to, e.g. \"127.0.0.1:5000/myrepo\"");
        s.reference = r.get<std::string>();
    }
    if (c.contains("insecureRegistry") && !c["insecureRegistry"].is_null()) {
        if (!c["insecureRegistry"].is_boolean())
            throw util::Fatal("cloudProvider.insecureRegistry must be true or false (got " +
                              c["insecureRegistry"].dump() + ")");
        s.insecure = c["insecureRegistry"].get<bool>();
    }
    return s;
}

util::Result<oci::TransferReport> push_to_registry(const RegistrySettings& settings,
                                                   const fs::path& layout_dir,
                                                   const std::string& manifest_digest,
                                                   const std::string& default_tag,
                                                   const std::string& base_image) {
    auto ref = settings_ref(settings);
    if (!ref) return ref.error();
    auto layout = oci::ImageLayout::open(layout_dir);
    if (!layout) return layout.error();
    static const std::regex tag_re("[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}");
    std::string tag = !ref->tag.empty()                       ? ref->tag
                      : std::regex_match(default_tag, tag_re) ? default_tag
                                                              : "latest";
    oci::PushOptions options;
    if (auto base = oci::parse_base_source(base_image);
        !base_image.empty() && base && !base->is_layout() && base->registry.host == ref->host &&
        base->registry.repository != ref->repository) {
        options.mount_from = base->registry.repository;
    }
    auto client = client_for(*ref, settings.insecure);
    return oci::push_image(*client, *layout, manifest_digest, ref->repository, tag, options);
}

util::Result<oci::TransferReport> pull_from_registry(const RegistrySettings& settings,
                                                     const std::string& manifest_digest,
                                                     const fs::path& layout_dir) {
    auto ref = settings_ref(settings);
    if (!ref) return ref.error();
    auto layout = oci::ImageLayout::open(layout_dir);
    if (!layout) return layout.error();
    auto client = client_for(*ref, settings.insecure);
    oci::PullOptions options;
    options.check_platform = false;
    auto report = oci::pull_image(*client, ref->repository, manifest_digest, *layout, options);
    if (!report) {
        return util::make_error("cannot pull image " + manifest_digest + " from " + ref->host +
                                    "/" + ref->repository + ": " + report.error().message,
                                report.error().retryable);
    }
    return report;
}

util::Status check_registry(const RegistrySettings& settings) {
    auto ref = settings_ref(settings);
    if (!ref) return ref.error();
    auto client = client_for(*ref, settings.insecure);
    auto head = client->head_manifest(ref->repository, ref->tag.empty() ? "latest" : ref->tag);
    if (!head) return head.error();
    return util::ok_status();
}

}  // namespace hypertest::providers
