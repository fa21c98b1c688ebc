#include <functional>
#include <utility>

#include "providers/aws/aws_provider.hpp"
#include "providers/local/local_provider.hpp"
#include "providers/provider.hpp"
#include "util/strings.hpp"

namespace hypertest::providers {
namespace {

struct Entry {
    std::string name;
    std::function<std::unique_ptr<Provider>(const ProviderContext&)> make;
    std::function<std::vector<std::string>()> keys;
};

const std::vector<Entry>& table() {
    static const std::vector<Entry> t = {
        {"local", make_local_provider, local_config_keys},
        {"aws", make_aws_provider, aws_config_keys},
    };
    return t;
}

const Entry& find(const std::string& name) {
    for (const auto& e : table()) {
        if (e.name == name) return e;
    }
    throw util::Fatal(
        util::unknown_name_message("cloud provider", name, "cloudProvider.name", provider_names()));
}

}  // namespace

std::vector<std::string> provider_names() {
    std::vector<std::string> names;
    for (const auto& e : table()) names.push_back(e.name);
    return names;
}

std::unique_ptr<Provider> make_provider(const std::string& name, const ProviderContext& ctx) {
    return find(name).make(ctx);
}

std::vector<std::string> provider_config_keys(const std::string& name) { return find(name).keys(); }

util::Result<InvokeResponse> Functions::invoke(const Json& event, std::chrono::milliseconds timeout) {
    constexpr CallId k_id = ~CallId{0};
    start_invoke(k_id, event, timeout);
    while (true) {
        for (auto& c : poll(std::chrono::milliseconds(100))) {
            if (c.id == k_id) return std::move(c.response);
        }
    }
}

}  // namespace hypertest::providers
