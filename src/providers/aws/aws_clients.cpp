#include "providers/aws/aws_clients.hpp"

#include "util/strings.hpp"

namespace hypertest::providers {
namespace {

constexpr std::int64_t k_token_margin_ms = 10 * 60 * 1000;

aws::ServiceConfig config_for(const aws::System& system, const char* service,
                              const std::string& region,
                              const std::shared_ptr<aws::CredentialsProvider>& credentials) {
    auto config = aws::service_config(system, service, region, credentials);
    // Service ids are fixed and known: resolve_endpoint fails only on unknown ids.
    if (!config) throw util::Fatal(config.error().message);
    return std::move(*config);
}

}  // namespace

AwsClients::AwsClients(AwsSettings settings, const aws::System& system, AwsTransport transport)
    : m_settings(std::move(settings)),
      m_problems(m_settings.problems),
      m_now_ms(system.now_ms),
      m_transport(std::move(transport)) {
    m_region = m_settings.region;
    if (m_region.empty()) {
        auto region = aws::resolve_region(system);
        if (region)
            m_region = *region;
        else
            m_problems.push_back("cloudProvider.region is not set and " + region.error().message);
    }
    if (m_region.empty()) m_region = "us-east-1";  // keeps the clients valid; problems() says why
    m_credentials = aws::make_thread_safe_credentials(aws::make_default_provider(system));
    aws::System shared = system;
    shared.http = aws::make_thread_safe_http_client(util::make_curl_http_client);
    m_lambda_config = config_for(shared, "Lambda", m_region, m_credentials);
    m_lambda_config.timeout = std::chrono::minutes(16);
    m_lambda_config.sleep = m_transport.sleep;
    m_lambda = aws::make_lambda_client(m_lambda_config);
    m_ecr = config_for(shared, "ECR", m_region, m_credentials);
    m_sts = config_for(shared, "STS", m_region, m_credentials);
    m_quotas = config_for(shared, "Service Quotas", m_region, m_credentials);
    for (auto* c : {&m_ecr, &m_sts, &m_quotas}) c->sleep = m_transport.sleep;
    auto s3 = config_for(shared, "S3", m_region, m_credentials);
    aws::S3Config s3_config;
    s3_config.endpoint = s3.endpoint;
    s3_config.http = s3.http;
    s3_config.credentials = m_credentials;
    s3_config.now_ms = system.now_ms;
    s3_config.sleep = m_transport.sleep;
    m_s3 = aws::make_s3_client(std::move(s3_config));
    if (!m_transport.registry_http) m_transport.registry_http = util::make_curl_http_client;
}

util::Status AwsClients::usable() const {
    if (m_problems.empty()) return util::ok_status();
    return util::make_error(util::join(m_problems, "; "));
}

util::Result<aws::EcrAuthorization> AwsClients::ecr_authorization() {
    std::lock_guard lock(m_mutex);
    if (m_ecr_auth && (m_ecr_auth->expires_at_ms == 0 ||
                       m_now_ms() + k_token_margin_ms < m_ecr_auth->expires_at_ms))
        return *m_ecr_auth;
    auto auth = aws::ecr_get_authorization_token(m_ecr);
    if (!auth) return auth.error();
    m_ecr_auth = *auth;
    return auth;
}

util::Result<std::unique_ptr<oci::RegistryClient>> AwsClients::registry_client() {
    if (auto s = usable(); !s) return s.error();
    auto auth = ecr_authorization();
    if (!auth) return auth.error();
    oci::RegistryOptions options;
    options.credentials = {auth->username, auth->password};
    options.credentials_hint =
        "the ECR token (GetAuthorizationToken) was refused: check that cloudProvider.ecrRegistry "
        "is in the "
        "account and region of the credentials, and that they allow "
        "ecr:BatchCheckLayerAvailability, "
        "ecr:InitiateLayerUpload, ecr:UploadLayerPart, ecr:CompleteLayerUpload and ecr:PutImage";
    return std::make_unique<oci::RegistryClient>(m_settings.ecr.host, options,
                                                 m_transport.registry_http());
}

std::string AwsClients::image_uri(const std::string& digest) const {
    return m_settings.ecr.host + "/" + m_settings.ecr.repository + "@" + digest;
}

std::vector<std::string> AwsClients::secrets() {
    std::vector<std::string> out;
    if (auto creds = m_credentials->resolve(); creds && creds->has_value()) {
        out.push_back((*creds)->secret_access_key);
        if (!(*creds)->session_token.empty()) out.push_back((*creds)->session_token);
    }
    std::lock_guard lock(m_mutex);
    if (m_ecr_auth) out.push_back(m_ecr_auth->password);
    return out;
}

}  // namespace hypertest::providers
