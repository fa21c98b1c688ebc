#include "aws/endpoints.hpp"

#include <array>

#include "aws/canonical.hpp"
#include "aws/shared_config.hpp"
#include "aws/sigv4.hpp"
#include "util/strings.hpp"

namespace hypertest::aws {
namespace {

struct ServiceInfo {
    std::string_view id;
    std::string_view signing_name;
    std::string_view host_prefix;  // host = <prefix>.<region>.<dns suffix>
};

constexpr std::array<ServiceInfo, 5> k_services = {{
    {"Lambda", "lambda", "lambda"},
    {"ECR", "ecr", "api.ecr"},
    {"S3", "s3", "s3"},
    {"STS", "sts", "sts"},
    {"Service Quotas", "servicequotas", "servicequotas"},
}};

const ServiceInfo* find_service(std::string_view id) {
    for (const auto& s : k_services) {
        if (to_lower(s.id) == to_lower(id)) return &s;
    }
    return nullptr;
}

std::string dns_suffix(const std::string& region) {
    return util::starts_with(region, "cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

}  // namespace

util::Result<std::string> resolve_region(const System& system) {
    for (const char* var : {"AWS_REGION", "AWS_DEFAULT_REGION"}) {
        std::string region = util::trim(system.getenv(var));
        if (!region.empty()) return region;
    }
    auto profile = load_profile(system);
    if (!profile) return profile.error();
    if (auto it = profile->values.find("region"); it != profile->values.end() && !it->second.empty())
        return it->second;
    return util::make_error("no AWS region configured: set AWS_REGION (e.g. us-east-1), or `region` "
                            "in the profile '" + profile->name + "' of " +
                            profile->config_file.string());
}

std::string endpoint_env_name(std::string_view service_id) {
    std::string name = "AWS_ENDPOINT_URL_";
    for (char c : service_id) {
        if (c == ' ' || c == '-') name.push_back('_');
        else name.push_back(static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c));
    }
    return name;
}

util::Result<Endpoint> resolve_endpoint(const System& system, std::string_view service_id,
                                        const std::string& region) {
    const ServiceInfo* service = find_service(service_id);
    if (service == nullptr) {
        std::vector<std::string> ids;
        for (const auto& s : k_services) ids.emplace_back(s.id);
        return util::make_error("unknown AWS service \"" + std::string(service_id) + "\"" +
                                util::did_you_mean_hint(service_id, ids));
    }
    Endpoint e;
    e.signing_name = service->signing_name;
    e.signing_region = region;
    if (to_lower(system.getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) != "true") {
        for (const std::string& var : {endpoint_env_name(service->id), std::string("AWS_ENDPOINT_URL")}) {
            std::string url = util::trim(system.getenv(var));
            if (url.empty()) continue;
            auto parts = split_url(url);
            if (!parts) return util::make_error(var + " is not a usable endpoint: " + parts.error().message);
            while (!url.empty() && url.back() == '/') url.pop_back();
            e.url = url;
            e.overridden = true;
            return e;
        }
    }
    if (region.empty())
        return util::make_error("no AWS region for " + std::string(service->id) + ": set AWS_REGION");
    e.url = "https://" + std::string(service->host_prefix) + "." + region + "." + dns_suffix(region);
    return e;
}

}  // namespace hypertest::aws
