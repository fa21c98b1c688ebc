// Where AWS credentials come from, in the order AWS SDKs look: environment, web identity,
// shared files (keys or credential_process), container endpoint, EC2 instance metadata.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/sigv4.hpp"
#include "aws/system.hpp"
#include "util/result.hpp"

namespace hypertest::aws {

class CredentialsProvider {
public:
    virtual ~CredentialsProvider() = default;
    // Short, for messages: "environment", "profile dev", "instance metadata", ...
    virtual std::string name() const = 0;
    // nullopt when this source is not configured here; an Error (already redacted) when it is
    // configured but fails.
    virtual util::Result<std::optional<Credentials>> resolve() = 0;
};

using ProviderPtr = std::unique_ptr<CredentialsProvider>;

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
ProviderPtr make_env_provider(const System& system);
// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME) through an unsigned STS
// AssumeRoleWithWebIdentity call (endpoint from resolve_endpoint, AWS_ENDPOINT_URL_STS first).
ProviderPtr make_web_identity_provider(const System& system);
// The profile's aws_access_key_id/aws_secret_access_key[/aws_session_token], or its
// credential_process (run without a shell; stdout is the AWS CLI's JSON, Version 1).
ProviderPtr make_profile_provider(const System& system);
// AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (under relative_base) or _FULL_URI, with
// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or AWS_CONTAINER_AUTHORIZATION_TOKEN.
ProviderPtr make_container_provider(const System& system,
                                    std::string relative_base = "http://169.254.170.2");
// IMDSv2 at AWS_EC2_METADATA_SERVICE_ENDPOINT (default http://169.254.169.254); skipped when
// AWS_EC2_METADATA_DISABLED=true or when the endpoint does not answer.
ProviderPtr make_imds_provider(const System& system);

// Asks each provider in turn; the first configured one wins. A configured provider that fails
// ends the search with its error (falling through would silently pick another identity).
ProviderPtr make_chain_provider(std::vector<ProviderPtr> providers);
// Keeps credentials until 5 minutes before they expire.
ProviderPtr make_caching_provider(ProviderPtr inner, std::function<std::int64_t()> now_ms);
// The SDK default chain above, cached.
ProviderPtr make_default_provider(const System& system);

// Resolves credentials or fails with a message listing what was tried and how to configure.
util::Result<Credentials> resolve_credentials(CredentialsProvider& provider);

// Parses the JSON that container endpoints, IMDS and credential_process return
// (AccessKeyId, SecretAccessKey, Token|SessionToken, Expiration). `source` names it in errors.
util::Result<Credentials> parse_credentials_json(const std::string& body, const std::string& source);

}  // namespace hypertest::aws
