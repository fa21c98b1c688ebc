// Credentials fetched over HTTP: STS web identity, the container endpoint, EC2 instance metadata.
#include <chrono>

#include "aws/canonical.hpp"
#include "aws/credentials.hpp"
#include "aws/endpoints.hpp"
#include "aws/errors.hpp"
#include "aws/redact.hpp"
#include "aws/xml.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::aws {
namespace {

using std::chrono::milliseconds;

util::Result<std::string> read_token_file(const System& system, const std::string& path,
                                          const std::string& var) {
    auto text = system.read_file(path);
    if (!text) return util::make_error("cannot read " + var + " file " + path + ": " + text.error().message);
    if (!text->has_value()) return util::make_error(var + " names " + path + ", which does not exist");
    std::string token = util::trim(**text);
    if (token.empty()) return util::make_error(var + " file " + path + " is empty");
    return token;
}

class WebIdentityProvider : public CredentialsProvider {
public:
    explicit WebIdentityProvider(System system) : m_system(std::move(system)) {}
    std::string name() const override { return "web identity"; }

    util::Result<std::optional<Credentials>> resolve() override {
        std::string token_file = m_system.getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
        std::string role = m_system.getenv("AWS_ROLE_ARN");
        if (token_file.empty() && role.empty()) return std::optional<Credentials>();
        if (token_file.empty() || role.empty())
            return util::make_error("set both AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN (only " +
                                    std::string(role.empty() ? "the token file" : "the role") + " is set)");
        auto token = read_token_file(m_system, token_file, "AWS_WEB_IDENTITY_TOKEN_FILE");
        if (!token) return token.error();
        std::string session = m_system.getenv("AWS_ROLE_SESSION_NAME");
        if (session.empty()) session = "hypertest-" + std::to_string(m_system.now_ms());
        std::string region = m_system.getenv("AWS_REGION");
        if (region.empty()) region = m_system.getenv("AWS_DEFAULT_REGION");
        auto endpoint = resolve_endpoint(m_system, "STS", region.empty() ? "us-east-1" : region);
        if (!endpoint) return endpoint.error();

        util::HttpRequest request;
        request.method = "POST";
        request.url = endpoint->url + "/";
        request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                           {"Accept", "application/xml"}};
        request.body = encode_query({{"Action", "AssumeRoleWithWebIdentity"},
                                     {"Version", "2011-06-15"},
                                     {"RoleArn", role},
                                     {"RoleSessionName", session},
                                     {"WebIdentityToken", *token}});
        request.timeout = milliseconds(10000);
        auto response = m_system.http->send(request);
        if (!response) return util::make_error(redact(response.error().message, {*token}), true);
        if (response->status != 200) {
            util::Error e = service_error(*response, "STS AssumeRoleWithWebIdentity for " + role);
            e.message = redact(e.message, {*token});
            return e;
        }
        const std::string& body = response->body;
        Credentials c;
        c.access_key_id = xml_text(body, "AccessKeyId").value_or("");
        c.secret_access_key = xml_text(body, "SecretAccessKey").value_or("");
        c.session_token = xml_text(body, "SessionToken").value_or("");
        std::string expiration = xml_text(body, "Expiration").value_or("");
        if (c.access_key_id.empty() || c.secret_access_key.empty() || c.session_token.empty())
            return util::make_error("STS AssumeRoleWithWebIdentity answered 200 without credentials");
        if (!expiration.empty()) c.expires_at_ms = util::parse_iso8601_ms(expiration);
        return std::optional<Credentials>(std::move(c));
    }

private:
    System m_system;
};

// Plain-HTTP container endpoints must be local: loopback or the ECS/EKS agent addresses.
bool allowed_http_host(const std::string& host_port) {
    std::string host = host_port;
    if (!host.empty() && host[0] == '[') host = host.substr(1, host.find(']') - 1);
    else if (auto colon = host.rfind(':'); colon != std::string::npos) host.resize(colon);
    return host == "localhost" || util::starts_with(host, "127.") || host == "::1" ||
           host == "169.254.170.2" || host == "169.254.170.23" || host == "fd00:ec2::23";
}

class ContainerProvider : public CredentialsProvider {
public:
    ContainerProvider(System system, std::string relative_base)
        : m_system(std::move(system)), m_relative_base(std::move(relative_base)) {}
    std::string name() const override { return "container endpoint"; }

    util::Result<std::optional<Credentials>> resolve() override {
        std::string relative = m_system.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        std::string full = m_system.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        if (relative.empty() && full.empty()) return std::optional<Credentials>();
        std::string url = relative.empty() ? full : m_relative_base + relative;
        if (relative.empty()) {
            auto parts = split_url(full);
            if (!parts) return util::make_error("AWS_CONTAINER_CREDENTIALS_FULL_URI: " + parts.error().message);
            if (parts->scheme == "http" && !allowed_http_host(parts->host))
                return util::make_error("AWS_CONTAINER_CREDENTIALS_FULL_URI must use https, or http to "
                                        "a loopback or container-agent address, not " + parts->host);
        }
        util::HttpRequest request;
        request.url = url;
        request.timeout = milliseconds(5000);
        std::string token_file = m_system.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        std::string token = m_system.getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
        if (!token_file.empty()) {
            auto read = read_token_file(m_system, token_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
            if (!read) return read.error();
            token = *read;
        }
        if (!token.empty()) request.headers.emplace_back("Authorization", token);
        auto response = m_system.http->send(request);
        if (!response) return util::make_error(redact(response.error().message, {token}), true);
        if (response->status != 200)
            return util::make_error(redact("container credentials endpoint " + url + " answered HTTP " +
                                               std::to_string(response->status) + ": " +
                                               util::truncate_utf8(response->body, 200),
                                           {token}),
                                    response->status >= 500);
        auto creds = parse_credentials_json(response->body, "container credentials endpoint");
        if (!creds) return util::make_error(redact(creds.error().message, {token}));
        return std::optional<Credentials>(std::move(*creds));
    }

private:
    System m_system;
    std::string m_relative_base;
};

class ImdsProvider : public CredentialsProvider {
public:
    explicit ImdsProvider(System system) : m_system(std::move(system)) {}
    std::string name() const override { return "instance metadata"; }

    util::Result<std::optional<Credentials>> resolve() override {
        if (to_lower(m_system.getenv("AWS_EC2_METADATA_DISABLED")) == "true")
            return std::optional<Credentials>();
        std::string base = m_system.getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
        if (base.empty()) base = "http://169.254.169.254";
        while (!base.empty() && base.back() == '/') base.pop_back();

        auto token = send("PUT", base + "/latest/api/token",
                          {{"x-aws-ec2-metadata-token-ttl-seconds", "21600"}});
        if (!token) return std::optional<Credentials>();  // not on EC2: nothing answers
        if (token->status != 200)
            return util::make_error("instance metadata token request answered HTTP " +
                                    std::to_string(token->status) + " (is IMDSv2 reachable? hop limit?)");
        Pairs auth = {{"x-aws-ec2-metadata-token", util::trim(token->body)}};
        std::string path = base + "/latest/meta-data/iam/security-credentials/";
        auto role = send("GET", path, auth);
        if (!role) return util::make_error(role.error().message, true);
        if (role->status == 404)
            return util::make_error("this instance has no IAM role attached (instance metadata has no "
                                    "security credentials)");
        std::string role_name = util::trim(util::split(role->body, '\n').at(0));
        if (role->status != 200 || role_name.empty())
            return util::make_error("instance metadata role lookup answered HTTP " +
                                    std::to_string(role->status));
        auto creds_response = send("GET", path + role_name, auth);
        if (!creds_response) return util::make_error(creds_response.error().message, true);
        if (creds_response->status != 200)
            return util::make_error("instance metadata credentials for role " + role_name +
                                    " answered HTTP " + std::to_string(creds_response->status));
        auto creds = parse_credentials_json(creds_response->body, "instance metadata");
        if (!creds) return util::make_error(redact(creds.error().message));
        return std::optional<Credentials>(std::move(*creds));
    }

private:
    util::Result<util::HttpResponse> send(const std::string& method, const std::string& url,
                                          Pairs headers) {
        util::HttpRequest request;
        request.method = method;
        request.url = url;
        request.headers = std::move(headers);
        request.timeout = milliseconds(1000);
        return m_system.http->send(request);
    }

    System m_system;
};

}  // namespace

ProviderPtr make_web_identity_provider(const System& system) {
    return std::make_unique<WebIdentityProvider>(system);
}

ProviderPtr make_container_provider(const System& system, std::string relative_base) {
    return std::make_unique<ContainerProvider>(system, std::move(relative_base));
}

ProviderPtr make_imds_provider(const System& system) { return std::make_unique<ImdsProvider>(system); }

}  // namespace hypertest::aws
