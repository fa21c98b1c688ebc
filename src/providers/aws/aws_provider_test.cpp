// The aws provider against a local stand-in for Lambda, ECR, STS, Service Quotas and S3 (one
// cpp-httplib server) and an in-memory registry: deploy-side publish + update, state, invoke,
// storage and doctor, with secrets kept out of every message.
#include "providers/aws/aws_provider.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>

#include "aws/service_client.hpp"
#include "aws/test_server.hpp"
#include "oci/fake_registry.hpp"
#include "oci/image.hpp"
#include "util/fs.hpp"

namespace hypertest::providers {
namespace {

using aws::testing_support::LocalServer;

const std::string k_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const std::string k_registry_password = "ecr-password-0123456789";
const std::string k_log =
    "START RequestId: r1\nEND RequestId: r1\n"
    "REPORT RequestId: r1\tDuration: 1500.20 ms\tBilled Duration: 1501 ms\tMemory Size: 2048 MB\t"
    "Max Memory Used: 300 MB\tInit Duration: 250.50 ms\t\n";

// The AWS side: one function, one bucket, recorded calls.
struct FakeAws {
    std::mutex mutex;
    std::string package_type = "Image";
    std::string image_uri;     // last UpdateFunctionCode
    int polls_until_done = 0;  // GetFunction answers InProgress this many more times
    int memory = 2048, timeout = 900;
    std::map<std::string, std::string> objects;  // S3 key -> bytes
    std::string invoke_error;                    // X-Amz-Function-Error to answer with
    int throttle = 0;                            // 429s to answer before invoking
    std::vector<std::string> invoked;

    void install(LocalServer& server) {
        server.post("/", [this](const httplib::Request& req, httplib::Response& res) {
            post_root(req, res);
        });
        server.get("/2015-03-31/functions/hypertest",
                   [this](const httplib::Request&, httplib::Response& res) {
                       std::lock_guard lock(mutex);
                       std::string status = polls_until_done > 0 ? "InProgress" : "Successful";
                       if (polls_until_done > 0) --polls_until_done;
                       util::Json code = {{"RepositoryType", "ECR"}};
                       if (!image_uri.empty())
                           code["ImageUri"] = code["ResolvedImageUri"] = image_uri;
                       res.set_content(util::Json{{"Configuration",
                                                   {{"FunctionName", "hypertest"},
                                                    {"PackageType", package_type},
                                                    {"MemorySize", memory},
                                                    {"Timeout", timeout},
                                                    {"Architectures", {"x86_64"}},
                                                    {"State", "Active"},
                                                    {"LastUpdateStatus", status}}},
                                                  {"Code", code}}
                                           .dump(),
                                       "application/json");
                   });
        server.put("/2015-03-31/functions/hypertest/code", [this](const httplib::Request& req,
                                                                  httplib::Response& res) {
            std::lock_guard lock(mutex);
            image_uri = util::parse_json(req.body, "b")->at("ImageUri").get<std::string>();
            polls_until_done = 2;
            res.set_content(R"({"FunctionName":"hypertest","LastUpdateStatus":"InProgress"})",
                            "application/json");
        });
        server.post("/2015-03-31/functions/hypertest/invocations", [this](
                                                                       const httplib::Request& req,
                                                                       httplib::Response& res) {
            std::lock_guard lock(mutex);
            if (throttle > 0) {
                --throttle;
                res.status = 429;
                res.set_header("x-amzn-ErrorType", "TooManyRequestsException");
                res.set_content(
                    R"({"message":"Rate Exceeded.","Reason":"ReservedFunctionConcurrentInvocationLimitExceeded"})",
                    "application/json");
                return;
            }
            invoked.push_back(req.body);
            res.set_header("X-Amz-Log-Result", aws::base64_encode(k_log));
            if (!invoke_error.empty()) {
                res.set_header("X-Amz-Function-Error", invoke_error);
                res.set_content(
                    R"({"errorType":"Runtime.ExitError","errorMessage":"RequestId: r1 Error: Runtime exited with error: signal: killed"})",
                    "application/json");
                return;
            }
            res.set_content(R"({"version":1,"invocationId":"inv-1","outcomes":[]})",
                            "application/json");
        });
        server.put("/bucket/(.*)", [this](const httplib::Request& req, httplib::Response&) {
            std::lock_guard lock(mutex);
            objects[req.path.substr(8)] = req.body;
        });
        server.get("/bucket/(.*)", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            auto it = objects.find(req.path.substr(8));
            if (it == objects.end()) {
                res.status = 404;
                res.set_content(
                    "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
                    "exist.</Message></Error>",
                    "application/xml");
                return;
            }
            res.set_content(it->second, "application/octet-stream");
        });
        server.del("/bucket/(.*)", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            objects.erase(req.path.substr(8));
            res.status = 204;
        });
    }

    void post_root(const httplib::Request& req, httplib::Response& res) {
        std::string target = req.get_header_value("X-Amz-Target");
        if (target == "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken") {
            res.set_content(
                util::Json{
                    {"authorizationData",
                     {{{"authorizationToken", aws::base64_encode("AWS:" + k_registry_password)},
                       {"expiresAt", 4102444800.0},
                       {"proxyEndpoint", "http://127.0.0.1:5000"}}}}}
                    .dump(),
                "application/x-amz-json-1.1");
        } else if (target == "ServiceQuotasV20190624.GetServiceQuota") {
            res.set_content(R"({"Quota":{"Value":5.0}})", "application/x-amz-json-1.1");
        } else if (req.body == "Action=GetCallerIdentity&Version=2011-06-15") {
            res.set_content(
                "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::"
                "123456789012:user/ci</Arn>"
                "<UserId>AIDA</UserId><Account>123456789012</Account></GetCallerIdentityResult></"
                "GetCallerIdentityResponse>",
                "text/xml");
        } else {
            res.status = 400;
            res.set_content(R"({"__type":"UnknownOperationException"})", "application/json");
        }
    }
};

// Forwards to a registry the test keeps.
struct RegistryHandle : util::HttpClient {
    explicit RegistryHandle(oci::test::FakeRegistry& r) : registry(r) {}
    util::Result<util::HttpResponse> send(const util::HttpRequest& req) override {
        return registry.send(req);
    }
    oci::test::FakeRegistry& registry;
};

class AwsProviderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        fake.install(server);
        server.start();
        registry.auth = oci::test::FakeRegistry::Auth::basic;
        registry.password = k_registry_password;
        project = fs::temp_directory_path() /
                  ("ht-aws-provider-" + std::to_string(::getpid()) + "-" +
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(project);
        fs::create_directories(project);
    }
    void TearDown() override { fs::remove_all(project); }

    std::unique_ptr<Provider> provider(util::Json config = {}, int concurrency = 2) {
        if (config.is_null())
            config = {{"name", "aws"},
                      {"region", "eu-west-1"},
                      {"bucketName", "bucket"},
                      {"ecrRegistry", "127.0.0.1:5000/hypertest"},
                      {"lambdaUpdateMaxWaitTime", 30}};
        ProviderContext ctx;
        ctx.project_dir = project;
        ctx.config = config;
        ctx.function_name = "hypertest";
        ctx.concurrency = concurrency;
        aws::System system = aws::system_with_env({{"AWS_ACCESS_KEY_ID", "AKIDPROVIDER"},
                                                   {"AWS_SECRET_ACCESS_KEY", k_secret},
                                                   {"AWS_ENDPOINT_URL", server.url()},
                                                   {"AWS_EC2_METADATA_DISABLED", "true"}});
        AwsTransport transport;
        transport.registry_http = [this] { return std::make_unique<RegistryHandle>(registry); };
        transport.sleep = [this](std::chrono::milliseconds d) { sleeps.push_back(d); };
        return make_aws_provider_with(ctx, system, transport);
    }

    std::string write_image(const Provider& p) {
        fs::create_directories(project / "tests");
        EXPECT_TRUE(
            util::write_file_atomic(project / "tests" / "a.spec.ts", "test('a', () => {});").ok());
        auto layout = oci::ImageLayout::open(p.image_layout_dir());
        EXPECT_TRUE(layout.ok());
        auto layer = oci::build_layer(project, {"tests"}, *layout);
        EXPECT_TRUE(layer.ok());
        oci::ImageSpec spec;
        spec.layers = {*layer};
        spec.entrypoint = {"/usr/local/bin/hypertest-runner"};
        return oci::write_image(*layout, spec, "hypertest").value().manifest_digest;
    }

    LocalServer server;
    FakeAws fake;
    oci::test::FakeRegistry registry;
    fs::path project;
    std::vector<std::chrono::milliseconds> sleeps;
};

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
}

TEST_F(AwsProviderTest, InvokeReturnsThePayloadAndTheBilledAndInitTimes) {
    auto p = provider();
    util::Json event = {{"version", 1}, {"runId", "r"}};
    auto r = p->functions().invoke(event, std::chrono::seconds(30));
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_FALSE(r->function_error);
    EXPECT_EQ(r->payload.at("invocationId"), "inv-1");
    EXPECT_EQ(r->billed_ms, 1501);
    EXPECT_EQ(r->init_ms, 250);
    EXPECT_EQ(r->duration_ms, 1500);
    ASSERT_EQ(fake.invoked.size(), 1u);
    EXPECT_EQ(util::parse_json(fake.invoked[0], "e").value(), event);
}

TEST_F(AwsProviderTest, FunctionErrorsAndThrottlingAreToldApart) {
    auto p = provider();
    fake.invoke_error = "Unhandled";
    auto failed = p->functions().invoke(util::Json::object(), std::chrono::seconds(30));
    ASSERT_TRUE(failed.ok()) << failed.error().message;
    EXPECT_TRUE(failed->function_error);
    EXPECT_NE(
        failed->error_message.find(
            "Runtime.ExitError: RequestId: r1 Error: Runtime exited with error: signal: killed"),
        std::string::npos)
        << failed->error_message;
    EXPECT_NE(failed->error_message.find("REPORT RequestId: r1"), std::string::npos);

    fake.throttle = 1;
    auto throttled = p->functions().invoke(util::Json::object(), std::chrono::seconds(30));
    ASSERT_FALSE(throttled.ok());
    EXPECT_TRUE(throttled.error().retryable);
    EXPECT_NE(throttled.error().message.find("ReservedFunctionConcurrentInvocationLimitExceeded"),
              std::string::npos)
        << throttled.error().message;
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
