// The aws provider's deploy side (publish + update), state, storage and doctor against
// aws_test_support.hpp's stand-ins, with secrets kept out of every message.
#include "providers/aws/aws_provider.hpp"

#include <gtest/gtest.h>

#include <map>

#include "providers/aws/aws_test_support.hpp"

namespace hypertest::providers {
namespace {

using testing_support::AwsProviderTest;
using testing_support::k_registry_password;
using testing_support::k_secret;

TEST_F(AwsProviderTest, PublishPushesWithTheEcrTokenThenUpdatePointsTheFunctionAtTheDigest) {
    auto p = provider();
    EXPECT_EQ(p->name(), "aws");
    EXPECT_EQ(p->image_registry(), "127.0.0.1:5000/hypertest");
    std::string digest = write_image(*p);
    // Not pushed yet: update refuses before touching the function.
    auto early = p->functions().update(digest);
    ASSERT_FALSE(early.ok());
    EXPECT_NE(early.error().message.find("is not in 127.0.0.1:5000/hypertest"), std::string::npos)
        << early.error().message;
    EXPECT_TRUE(fake.image_uri.empty());

    auto published = p->publish_image(digest);
    ASSERT_TRUE(published.ok()) << published.error().message;
    ASSERT_TRUE(published->has_value());
    EXPECT_NE((*published)->find("uploaded"), std::string::npos) << **published;
    EXPECT_TRUE(registry.manifests["hypertest"].count(digest));
    EXPECT_TRUE(
        registry.manifests["hypertest"].count("hypertest"));  // tagged with the function name

    auto updated = p->functions().update(digest);
    ASSERT_TRUE(updated.ok()) << updated.error().message;
    EXPECT_EQ(fake.image_uri, "127.0.0.1:5000/hypertest@" + digest);
    EXPECT_EQ(sleeps.size(), 2u);  // two InProgress polls, one second apart
    auto state = p->functions().state();
    ASSERT_TRUE(state.ok()) << state.error().message;
    EXPECT_EQ(state->image_digest, digest);
    EXPECT_EQ(state->memory_mb, 2048);
    EXPECT_EQ(state->timeout_s, 900);
}

TEST_F(AwsProviderTest, ZipFunctionsAreRefusedWithAFix) {
    fake.package_type = "Zip";
    auto p = provider();
    std::string digest = write_image(*p);
    ASSERT_TRUE(p->publish_image(digest).ok());
    auto updated = p->functions().update(digest);
    ASSERT_FALSE(updated.ok());
    EXPECT_NE(updated.error().message.find("package-type Image"), std::string::npos)
        << updated.error().message;
    auto state = p->functions().state();
    ASSERT_FALSE(state.ok());
    EXPECT_NE(state.error().message.find("\"hypertest\" is a .zip function"), std::string::npos)
        << state.error().message;
}

TEST_F(AwsProviderTest, StorageUsesTheBucketWithS3Urls) {
    auto p = provider();
    auto& s = p->storage();
    ASSERT_TRUE(s.put("_hypertest/hypertest/hypertest.manifest.json", "{\"version\":1}").ok());
    EXPECT_EQ(fake.objects["_hypertest/hypertest/hypertest.manifest.json"], "{\"version\":1}");
    EXPECT_EQ(s.get("_hypertest/hypertest/hypertest.manifest.json").value(),
              std::optional<std::string>("{\"version\":1}"));
    EXPECT_EQ(s.get("run/missing.json").value(), std::nullopt);
    fs::path file = project / "result.json";
    ASSERT_TRUE(util::write_file_atomic(file, "[1]").ok());
    ASSERT_TRUE(s.put_file("run/hypertest.results.json", file).ok());
    EXPECT_EQ(fake.objects["run/hypertest.results.json"], "[1]");
    EXPECT_EQ(s.url("run/hypertest.results.json"), "s3://bucket/run/hypertest.results.json");
    EXPECT_FALSE(s.put("../escape", "x").ok());
    auto where = s.location();
    EXPECT_EQ(where.kind, "s3");
    EXPECT_EQ(where.bucket, "bucket");
    EXPECT_EQ(where.region, "eu-west-1");
    std::size_t before = fake.objects.size();
    EXPECT_TRUE(s.check_writable().ok());
    EXPECT_EQ(fake.objects.size(), before);  // the probe is deleted again
}

TEST_F(AwsProviderTest, DoctorPassesOnAGoodSetupAndFlagsTheQuotaWithoutLeakingSecrets) {
    auto p = provider(util::Json(), 10);
    auto checks = p->doctor();
    std::map<std::string, DoctorCheck> by_name;
    for (const auto& c : checks) {
        by_name[c.name] = c;
        EXPECT_EQ(c.detail.find(k_secret), std::string::npos);
        EXPECT_EQ(c.detail.find(k_registry_password), std::string::npos);
        EXPECT_EQ(c.fix.find(k_registry_password), std::string::npos);
    }
    for (const char* name :
         {"config", "credentials", "registry", "function", "function settings", "bucket"})
        EXPECT_TRUE(by_name[name].ok) << name << ": " << by_name[name].detail;
    EXPECT_NE(by_name["credentials"].detail.find("arn:aws:iam::123456789012:user/ci"),
              std::string::npos);
    EXPECT_FALSE(by_name["concurrency"].ok);  // quota 5 < concurrency 10
    EXPECT_NE(by_name["concurrency"].fix.find("L-B99A9384"), std::string::npos);
}

TEST_F(AwsProviderTest, DoctorNamesMissingKeysAndUnsuitableFunctions) {
    fake.memory = 512;
    fake.timeout = 30;
    auto incomplete = provider({{"name", "aws"}, {"region", "eu-west-1"}});
    auto checks = incomplete->doctor();
    ASSERT_FALSE(checks.empty());
    EXPECT_EQ(checks[0].name, "config");
    EXPECT_FALSE(checks[0].ok);
    EXPECT_NE(checks[0].detail.find("bucketName"), std::string::npos);
    EXPECT_NE(checks[0].detail.find("ecrRegistry"), std::string::npos);
    EXPECT_FALSE(incomplete->functions().state().ok());

    auto p = provider(util::Json{{"name", "aws"},
                                 {"region", "eu-west-1"},
                                 {"bucketName", "bucket"},
                                 {"ecrRegistry", "127.0.0.1:5000/hypertest"},
                                 {"platform", "linux/arm64"}});
    for (const auto& c : p->doctor()) {
        if (c.name != "function settings") continue;
        EXPECT_FALSE(c.ok);
        EXPECT_NE(c.detail.find("memory 512 MB"), std::string::npos) << c.detail;
        EXPECT_NE(c.detail.find("timeout 30 s"), std::string::npos) << c.detail;
        EXPECT_NE(c.detail.find("architecture x86_64"), std::string::npos) << c.detail;
    }
}

TEST(AwsSettings, RejectsMalformedValuesNamingTheKey) {
    EXPECT_THROW(parse_aws_settings({{"lambdaUpdateMaxWaitTime", "soon"}}, "f"), util::Fatal);
    EXPECT_THROW(parse_aws_settings({{"platform", "windows/amd64"}}, "f"), util::Fatal);
    EXPECT_THROW(parse_aws_settings({{"ecrRegistry", "no-host-here"}}, "f"), util::Fatal);
    auto s = parse_aws_settings(
        {{"ecrRegistry", "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1"},
         {"bucketName", "b"},
         {"lambdaUpdateMaxWaitTime", 42}},
        "f");
    EXPECT_TRUE(s.problems.empty());
    EXPECT_EQ(s.ecr.host, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
    EXPECT_EQ(s.ecr.repository, "team/app");
    EXPECT_EQ(s.ecr.tag, "v1");
    EXPECT_EQ(s.update_wait, std::chrono::seconds(42));
    EXPECT_EQ(s.lambda_architecture(), "x86_64");
}

}  // namespace
}  // namespace hypertest::providers
