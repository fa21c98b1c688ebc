// The AWS clients the aws provider shares between storage, functions, publishing and doctor.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/account_clients.hpp"
#include "aws/lambda_client.hpp"
#include "aws/s3_client.hpp"
#include "aws/system.hpp"
#include "oci/registry_client.hpp"
#include "providers/aws/aws_settings.hpp"

namespace hypertest::providers {

// What tests replace; the defaults are the real ones.
struct AwsTransport {
    // Makes the HTTP client of each registry connection. Default: curl.
    std::function<std::unique_ptr<util::HttpClient>()> registry_http;
    // How AWS clients wait between retries and polls. Default: std::this_thread::sleep_for.
    std::function<void(std::chrono::milliseconds)> sleep;
};

class AwsClients {
  public:
    // Reads the environment (region, endpoint overrides) through system; makes no request.
    // AWS calls go through a pool of curl clients, so any thread may use them.
    AwsClients(AwsSettings settings, const aws::System& system, AwsTransport transport = {});

    const AwsSettings& settings() const { return m_settings; }
    const std::string& region() const { return m_region; }
    // Config problems (missing keys, no region), each with its fix; empty when usable.
    const std::vector<std::string>& problems() const { return m_problems; }
    // An error listing problems(), for operations that cannot run without them.
    util::Status usable() const;

    aws::LambdaClient& lambda() { return *m_lambda; }
    // What lambda() signs and sends with, for Invokes driven by an HttpMulti (aws::invoke_request).
    const aws::ServiceConfig& lambda_config() const { return m_lambda_config; }
    aws::S3Client& s3() { return *m_s3; }
    const aws::ServiceConfig& sts() const { return m_sts; }
    const aws::ServiceConfig& quotas() const { return m_quotas; }

    // The ECR token, fetched once and renewed 10 minutes before it expires. Thread-safe.
    util::Result<aws::EcrAuthorization> ecr_authorization();
    // A registry client for settings().ecr.host logged in with the ECR token.
    util::Result<std::unique_ptr<oci::RegistryClient>> registry_client();
    // "<host>/<repository>@<digest>": what UpdateFunctionCode is given.
    std::string image_uri(const std::string& digest) const;

    // Secrets seen so far (secret key, session token, registry password), for redaction.
    std::vector<std::string> secrets();

  private:
    AwsSettings m_settings;
    std::string m_region;
    std::vector<std::string> m_problems;
    std::function<std::int64_t()> m_now_ms;
    std::shared_ptr<aws::CredentialsProvider> m_credentials;
    aws::ServiceConfig m_lambda_config, m_ecr, m_sts, m_quotas;
    std::unique_ptr<aws::LambdaClient> m_lambda;
    std::unique_ptr<aws::S3Client> m_s3;
    AwsTransport m_transport;
    std::mutex m_mutex;
    std::optional<aws::EcrAuthorization> m_ecr_auth;
};

}  // namespace hypertest::providers
