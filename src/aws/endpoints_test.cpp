#include "aws/endpoints.hpp"

#include <gtest/gtest.h>

namespace hypertest::aws {
namespace {

System env_only(std::map<std::string, std::string> env) {
    System s;
    s.env = [env](const std::string& n) -> std::optional<std::string> {
        auto it = env.find(n);
        return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
    };
    s.read_file = [env](const std::filesystem::path& p) -> util::Result<std::optional<std::string>> {
        if (p == "/h/.aws/config") return std::optional<std::string>("[profile p]\nregion = sa-east-1\n");
        return std::optional<std::string>();
    };
    return s;
}

TEST(Region, EnvironmentThenDefaultThenProfile) {
    EXPECT_EQ(*resolve_region(env_only({{"AWS_REGION", "eu-west-1"}, {"AWS_DEFAULT_REGION", "x"}})), "eu-west-1");
    EXPECT_EQ(*resolve_region(env_only({{"AWS_DEFAULT_REGION", "us-west-2"}, {"AWS_PROFILE", "p"}, {"HOME", "/h"}})),
              "us-west-2");
    EXPECT_EQ(*resolve_region(env_only({{"AWS_PROFILE", "p"}, {"HOME", "/h"}})), "sa-east-1");
    auto none = resolve_region(env_only({{"HOME", "/h"}}));
    ASSERT_FALSE(none.ok());
    EXPECT_NE(none.error().message.find("AWS_REGION"), std::string::npos);
}

TEST(Endpoint, DefaultsPerService) {
    auto s = env_only({});
    EXPECT_EQ(resolve_endpoint(s, "Lambda", "eu-west-1")->url, "https://lambda.eu-west-1.amazonaws.com");
    EXPECT_EQ(resolve_endpoint(s, "ECR", "us-east-1")->url, "https://api.ecr.us-east-1.amazonaws.com");
    EXPECT_EQ(resolve_endpoint(s, "S3", "cn-north-1")->url, "https://s3.cn-north-1.amazonaws.com.cn");
    auto quotas = resolve_endpoint(s, "Service Quotas", "us-east-1");
    ASSERT_TRUE(quotas.ok());
    EXPECT_EQ(quotas->signing_name, "servicequotas");
    EXPECT_FALSE(quotas->overridden);
}

TEST(Endpoint, ServiceOverrideBeatsGlobalAndKeepsSigningScope) {
    auto s = env_only({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566/"},
                       {"AWS_ENDPOINT_URL_SERVICE_QUOTAS", "http://127.0.0.1:9999"}});
    auto quotas = resolve_endpoint(s, "Service Quotas", "eu-central-1");
    ASSERT_TRUE(quotas.ok());
    EXPECT_EQ(quotas->url, "http://127.0.0.1:9999");
    EXPECT_EQ(quotas->signing_region, "eu-central-1");
    EXPECT_EQ(quotas->signing_name, "servicequotas");
    auto lambda = resolve_endpoint(s, "Lambda", "eu-central-1");
    EXPECT_EQ(lambda->url, "http://127.0.0.1:4566");
    EXPECT_TRUE(lambda->overridden);
    auto ignored = resolve_endpoint(env_only({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
                                              {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}}),
                                    "Lambda", "eu-central-1");
    EXPECT_EQ(ignored->url, "https://lambda.eu-central-1.amazonaws.com");
}

TEST(Endpoint, BadOverrideAndUnknownServiceAreExplained) {
    auto bad = resolve_endpoint(env_only({{"AWS_ENDPOINT_URL_S3", "localhost:9000"}}), "S3", "us-east-1");
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("AWS_ENDPOINT_URL_S3"), std::string::npos);
    auto unknown = resolve_endpoint(env_only({}), "Lamda", "us-east-1");
    ASSERT_FALSE(unknown.ok());
    EXPECT_NE(unknown.error().message.find("did you mean \"Lambda\""), std::string::npos);
    EXPECT_EQ(endpoint_env_name("Service Quotas"), "AWS_ENDPOINT_URL_SERVICE_QUOTAS");
    EXPECT_EQ(endpoint_env_name("ecr"), "AWS_ENDPOINT_URL_ECR");
}

}  // namespace
}  // namespace hypertest::aws
