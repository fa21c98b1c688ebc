#include "providers/aws/aws_provider.hpp"

#include "aws/redact.hpp"
#include "oci/registry_transfer.hpp"
#include "providers/aws/aws_doctor.hpp"
#include "providers/aws/aws_functions.hpp"
#include "providers/aws/aws_storage.hpp"

namespace hypertest::providers {
namespace {

class AwsProvider : public Provider {
  public:
    AwsProvider(const ProviderContext& ctx, const aws::System& system, AwsTransport transport)
        : m_ctx(ctx),
          m_clients(parse_aws_settings(ctx.config, ctx.function_name), system,
                    std::move(transport)),
          m_storage(make_s3_storage(m_clients)),
          m_functions(make_lambda_functions(m_clients)) {
        m_layout_dir = fs::absolute(ctx.project_dir).lexically_normal() / ".hypertest" / "image";
    }

    std::string name() const override { return "aws"; }
    Storage& storage() override { return *m_storage; }
    Functions& functions() override { return *m_functions; }
    fs::path image_layout_dir() const override { return m_layout_dir; }
    std::string image_registry() const override { return m_clients.settings().ecr_registry; }

    util::Result<std::optional<std::string>> publish_image(const std::string& digest) override {
        auto registry = m_clients.registry_client();
        if (!registry) return registry.error();
        auto layout = oci::ImageLayout::open(m_layout_dir);
        if (!layout) return layout.error();
        const auto& ref = m_clients.settings().ecr;
        std::string tag = ref.tag.empty() ? tag_for(m_ctx.function_name) : ref.tag;
        auto report = oci::push_image(**registry, *layout, digest, ref.repository, tag);
        if (!report) {
            return util::make_error(aws::redact(report.error().message, m_clients.secrets()),
                                    report.error().retryable);
        }
        return std::optional<std::string>(report->summary());
    }

    std::vector<DoctorCheck> doctor() override {
        return run_aws_doctor(m_clients, *m_storage, m_ctx.concurrency);
    }

  private:
    // Tags are [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}; function names may be ARNs.
    static std::string tag_for(const std::string& function_name) {
        std::string name = function_name.substr(function_name.rfind(':') + 1);
        std::string tag;
        for (char c : name) {
            bool ok =
                std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
            tag.push_back(ok ? c : '-');
        }
        if (tag.empty() || tag.front() == '.' || tag.front() == '-') tag = "hypertest-" + tag;
        return tag.substr(0, 128);
    }

    ProviderContext m_ctx;
    AwsClients m_clients;
    std::unique_ptr<Storage> m_storage;
    std::unique_ptr<Functions> m_functions;
    fs::path m_layout_dir;
};

}  // namespace

std::unique_ptr<Provider> make_aws_provider(const ProviderContext& ctx) {
    return make_aws_provider_with(ctx, aws::real_system(), {});
}

std::unique_ptr<Provider> make_aws_provider_with(const ProviderContext& ctx,
                                                 const aws::System& system,
                                                 AwsTransport transport) {
    return std::make_unique<AwsProvider>(ctx, system, std::move(transport));
}

}  // namespace hypertest::providers
