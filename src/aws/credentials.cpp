#include "aws/credentials.hpp"

#include "aws/redact.hpp"
#include "util/json.hpp"
#include "util/strings.hpp"
#include "util/time.hpp"

namespace hypertest::aws {
namespace {

constexpr std::int64_t k_refresh_margin_ms = 5 * 60 * 1000;

class EnvProvider : public CredentialsProvider {
public:
    explicit EnvProvider(System system) : m_system(std::move(system)) {}
    std::string name() const override { return "environment"; }
    util::Result<std::optional<Credentials>> resolve() override {
        std::string key = m_system.getenv("AWS_ACCESS_KEY_ID");
        std::string secret = m_system.getenv("AWS_SECRET_ACCESS_KEY");
        if (key.empty() && secret.empty()) return std::optional<Credentials>();
        if (key.empty() || secret.empty()) {
            return util::make_error(std::string(key.empty() ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY") +
                                    " is not set but " +
                                    (key.empty() ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID") +
                                    " is: set both, or neither to use another credential source");
        }
        return std::optional<Credentials>(
            Credentials{key, secret, m_system.getenv("AWS_SESSION_TOKEN"), 0});
    }

private:
    System m_system;
};

class ChainProvider : public CredentialsProvider {
public:
    explicit ChainProvider(std::vector<ProviderPtr> providers) : m_providers(std::move(providers)) {}
    std::string name() const override {
        std::vector<std::string> names;
        for (const auto& p : m_providers) names.push_back(p->name());
        return util::join(names, ", ");
    }
    util::Result<std::optional<Credentials>> resolve() override {
        for (auto& provider : m_providers) {
            auto found = provider->resolve();
            if (!found) {
                return util::make_error("AWS credentials from " + provider->name() + ": " +
                                            found.error().message,
                                        found.error().retryable);
            }
            if (found->has_value()) return found;
        }
        return std::optional<Credentials>();
    }

private:
    std::vector<ProviderPtr> m_providers;
};

class CachingProvider : public CredentialsProvider {
public:
    CachingProvider(ProviderPtr inner, std::function<std::int64_t()> now_ms)
        : m_inner(std::move(inner)), m_now_ms(std::move(now_ms)) {}
    std::string name() const override { return m_inner->name(); }
    util::Result<std::optional<Credentials>> resolve() override {
        if (m_cached && (m_cached->expires_at_ms == 0 ||
                         m_now_ms() + k_refresh_margin_ms < m_cached->expires_at_ms))
            return std::optional<Credentials>(*m_cached);
        auto fresh = m_inner->resolve();
        if (fresh && fresh->has_value()) m_cached = **fresh;
        return fresh;
    }

private:
    ProviderPtr m_inner;
    std::function<std::int64_t()> m_now_ms;
    std::optional<Credentials> m_cached;
};

}  // namespace

ProviderPtr make_env_provider(const System& system) { return std::make_unique<EnvProvider>(system); }

ProviderPtr make_chain_provider(std::vector<ProviderPtr> providers) {
    return std::make_unique<ChainProvider>(std::move(providers));
}

ProviderPtr make_caching_provider(ProviderPtr inner, std::function<std::int64_t()> now_ms) {
    return std::make_unique<CachingProvider>(std::move(inner), std::move(now_ms));
}

ProviderPtr make_default_provider(const System& system) {
    std::vector<ProviderPtr> chain;
    chain.push_back(make_env_provider(system));
    chain.push_back(make_web_identity_provider(system));
    chain.push_back(make_profile_provider(system));
    chain.push_back(make_container_provider(system));
    chain.push_back(make_imds_provider(system));
    return make_caching_provider(make_chain_provider(std::move(chain)), system.now_ms);
}

util::Result<Credentials> resolve_credentials(CredentialsProvider& provider) {
    auto found = provider.resolve();
    if (!found) return found.error();
    if (!found->has_value()) {
        return util::make_error(
            "no AWS credentials found (looked in: " + provider.name() +
            "). Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE naming a profile "
            "in ~/.aws/credentials or ~/.aws/config, or run where a role is attached");
    }
    return std::move(**found);
}

util::Result<Credentials> parse_credentials_json(const std::string& body, const std::string& source) {
    auto json = util::parse_json(body, source);
    if (!json || !json->is_object())
        return util::make_error(source + " did not return a JSON object (" +
                                redact(util::truncate_utf8(body, 200)) + ")");
    Credentials c;
    c.access_key_id = util::json_get<std::string>(*json, "AccessKeyId", "");
    c.secret_access_key = util::json_get<std::string>(*json, "SecretAccessKey", "");
    c.session_token = util::json_get<std::string>(*json, "Token", "");
    if (c.session_token.empty()) c.session_token = util::json_get<std::string>(*json, "SessionToken", "");
    if (c.access_key_id.empty() || c.secret_access_key.empty())
        return util::make_error(source + " returned JSON without AccessKeyId and SecretAccessKey");
    std::string expiration = util::json_get<std::string>(*json, "Expiration", "");
    if (!expiration.empty()) {
        c.expires_at_ms = util::parse_iso8601_ms(expiration);
        if (c.expires_at_ms < 0)
            return util::make_error(source + " returned an unreadable Expiration: " + expiration);
    }
    return c;
}

}  // namespace hypertest::aws
